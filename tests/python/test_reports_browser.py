"""Real-browser test of the HTML reports: headless Chromium opens every page from disk, offline.

For each page: network disabled (DevTools offline emulation + a dead proxy), wait for plotly, every
figure drew (each .plotly-graph-div holds a .main-svg; count = the page's report-figures meta), no
console errors, no request other than file:/data:, the hostile city/capital names did not execute
(window.__xss stays undefined) and show as text, and the trace selectors switch layers. A full-page
PNG of each page is saved under reports/screenshots/ (REPORTS_SCREENSHOT_DIR overrides).

Needs the Debian packages chromium and chromium-driver (`make test-deps` installs them as root).
Where they are missing the test skips with a message, except in CI (CI=true) where it fails.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from test_reports import HOSTILE_CAPITAL, HOSTILE_CITY, SECTION_SLUGS, hostile_reports  # noqa: F401

CHROMIUM = Path(os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"))
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("REPORTS_SCREENSHOT_DIR", ROOT / "reports" / "screenshots"))
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage",
    "--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
    "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
    "--window-size=1400,1000", "--allow-file-access-from-files",
]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def browser():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        message = (f"headless Chromium not available ({', '.join(missing)} missing): install the Debian "
                   "packages chromium and chromium-driver (`make test-deps` as root)")
        if _in_ci():
            pytest.fail(message + " — required in CI")
        pytest.skip(message)
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager reach the network
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = Path(tempfile.mkdtemp(prefix="reports-chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1,
    })
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


WAIT_FOR_FIGURES = """
const expected = parseInt(document.querySelector('meta[name="report-figures"]').content, 10);
const divs = Array.from(document.querySelectorAll('.plotly-graph-div'));
const drawn = divs.filter(d => d.querySelector('.main-svg') !== null && d._fullLayout !== undefined);
return {expected: expected, divs: divs.length, drawn: drawn.length,
        plotly: typeof window.Plotly !== 'undefined', ready: document.readyState};
"""


def _wait_drawn(driver, timeout: float = 90.0) -> dict:
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d):
        state = d.execute_script(WAIT_FOR_FIGURES)
        if state["ready"] == "complete" and state["divs"] == state["expected"] == state["drawn"] \
                and (state["expected"] == 0 or state["plotly"]):
            return state
        return False

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.25).until(ready)
    except Exception:
        return driver.execute_script(WAIT_FOR_FIGURES)


def _screenshot(driver, path: Path) -> None:
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    width, height = int(size["width"]), min(int(size["height"]), 12000)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
    })
    path.write_bytes(base64.b64decode(shot["data"]))


def _requests(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _click_updatemenu_buttons(driver, slug: str) -> tuple[list[str], int]:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    problems, clicks = [], 0
    for gd in driver.find_elements(By.CSS_SELECTOR, ".plotly-graph-div"):
        menus = driver.execute_script("return (arguments[0].layout.updatemenus || []).length;", gd)
        for menu in range(menus):
            count = driver.execute_script("return arguments[0].layout.updatemenus[arguments[1]].buttons.length;",
                                          gd, menu)
            for index in reversed(range(count)):  # last first, so the page ends in its initial state
                buttons = gd.find_elements(By.CSS_SELECTOR, f"g.updatemenu-container:nth-of-type({menu + 1}) "
                                                            "g.updatemenu-button")
                if len(buttons) != count:
                    problems.append(f"{slug}: updatemenu {menu} shows {len(buttons)} of {count} buttons")
                    break
                ActionChains(driver).move_to_element(buttons[index]).click().perform()
                clicks += 1
                active = driver.execute_script(
                    "return arguments[0]._fullLayout.updatemenus[arguments[1]].active;", gd, menu)
                drawn = driver.execute_script("return arguments[0].querySelector('.main-svg') !== null;", gd)
                if active != index or not drawn:
                    problems.append(f"{slug}: clicking button {index} of menu {menu} gave active={active}")
    return problems, clicks


def test_every_page_draws_offline_without_errors(browser, hostile_reports):
    out_dir = hostile_reports.out_dir
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = ["index"] + list(SECTION_SLUGS)
    problems: list[str] = []
    total_clicks = 0
    for slug in pages:
        path = out_dir / f"{slug}.html"
        assert path.exists(), f"{path} was not rendered"
        browser.get_log("browser")  # drain logs of the previous page
        browser.get_log("performance")
        browser.get(path.as_uri())
        state = _wait_drawn(browser)
        if not (state["divs"] == state["expected"] == state["drawn"]):
            problems.append(f"{slug}: {state['drawn']} of {state['expected']} figures drew ({state['divs']} divs)")
        if slug != "index" and state["expected"] == 0 and slug != "hypotheses":
            problems.append(f"{slug}: no figure on the page")
        if state["expected"] and not state["plotly"]:
            problems.append(f"{slug}: plotly.js did not load")
        _screenshot(browser, SCREENSHOTS / f"{slug}.png")  # as the page opens
        # layer selectors: pick the last option of each, figures must redraw with exactly that layer shown
        selectors = browser.execute_script(
            "return Array.from(document.querySelectorAll('select.trace-selector')).map(s => s.id);")
        for select_id in selectors:
            result = browser.execute_script(
                """
                const sel = document.getElementById(arguments[0]);
                const last = sel.options.length - 1;
                sel.value = String(last);
                sel.dispatchEvent(new Event('change'));
                return sel.getAttribute('data-targets').split(' ').map(id => {
                    const gd = document.getElementById(id);
                    const shown = gd.data.filter(t => typeof t.meta === 'string' && t.meta.startsWith('opt:')
                                                      && t.visible === true).map(t => t.meta);
                    const layer = gd.data.filter(t => t.meta === 'opt:' + last).length;
                    return {id: id, shown: shown, layer: layer, svg: gd.querySelector('.main-svg') !== null};
                });
                """, select_id)
            last_index = browser.execute_script(
                "return document.getElementById(arguments[0]).options.length - 1;", select_id)
            for fig in result:
                # exactly the traces of the chosen option are shown, all of them (a layer may have several:
                # the cohort heatmaps draw their incomplete months as a grey overlay trace of the same option)
                if fig["layer"] < 1 or fig["shown"] != [f"opt:{last_index}"] * fig["layer"] or not fig["svg"]:
                    problems.append(f"{slug}: selector {select_id} left {fig['id']} showing {fig['shown']} "
                                    f"(expected opt:{last_index})")
        # plotly toggles (absolute / percent, colour by customers / revenue): a real click on every button
        click_problems, clicks = _click_updatemenu_buttons(browser, slug)
        problems += click_problems
        total_clicks += clicks
        if browser.execute_script("return typeof window.__xss !== 'undefined';"):
            problems.append(f"{slug}: injected markup executed (window.__xss is set)")
        severe = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
        if severe:
            problems.append(f"{slug}: console errors: {[e['message'][:300] for e in severe]}")
        remote = [u for u in _requests(browser) if not u.startswith(("file:", "data:", "blob:", "about:"))]
        if remote:
            problems.append(f"{slug}: network requests attempted: {remote[:5]}")
    assert not problems, "\n".join(problems)
    assert total_clicks >= 8, f"only {total_clicks} plotly toggle buttons were clicked"


def test_hostile_names_render_as_text(browser, hostile_reports):
    browser.get((hostile_reports.out_dir / "geography.html").as_uri())
    _wait_drawn(browser)
    text = browser.execute_script("return document.body.innerText;")
    assert HOSTILE_CITY in text, "the hostile city name should be visible as plain text in the cities table"
    assert browser.execute_script("return document.querySelectorAll('main img').length;") == 0
    svg_text = browser.execute_script(
        "return Array.from(document.querySelectorAll('.main-svg text')).map(t => t.textContent).join('\\n');")
    assert HOSTILE_CAPITAL in svg_text, "the hostile capital label should be drawn as text on the map"
    assert browser.execute_script("return typeof window.__xss;") == "undefined"
