"""No silent skips in CI: a missing real-data folder or a missing Chromium skips with the reason on a laptop, but
fails under CI=true (where nobody reads the skip summary). Each case runs pytest on one cheap test in a child
process, with the data folder or the browser pointed at a path that does not exist; no dbt build starts."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
MISSING = "/nonexistent/honest-ci-policy"


def pytest_child(args: list[str], ci: bool, cwd: Path = HERE, **env) -> subprocess.CompletedProcess:
    # neither CI nor, under `make test`, the pytest-xdist worker's variables (the child runs alone)
    full_env = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("PYTEST_XDIST_")}
    full_env.update(env, PYTHONPATH=str(HERE))
    if ci:
        full_env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=300)


# one test of each kind: through the session fixture real_subset_build, and a test that copies the subset itself
REAL_DATA_TESTS = [
    "test_foundation.py::test_zip_prefixes_keep_leading_zeros[real_subset]",
    "test_foundation.py::test_real_order_whose_payment_row_is_removed_keeps_its_items_and_pays_zero",
]


@pytest.mark.parametrize("test", REAL_DATA_TESTS)
@pytest.mark.parametrize("ci", [True, False], ids=["ci", "laptop"])
def test_missing_real_data_fails_in_ci_and_skips_elsewhere(test, ci):
    proc = pytest_child([test], ci, OLIST_REAL_DIR=MISSING)
    out = proc.stdout + proc.stderr
    assert f"real Olist subset not found at {MISSING}/subset" in out, out[-3000:]
    if ci:
        assert proc.returncode == 1 and "required when CI=true" in out, out[-3000:]
        assert " skipped" not in out.splitlines()[-1]
    else:
        assert proc.returncode == 0 and "1 skipped" in out, out[-3000:]


@pytest.mark.parametrize("ci", [True, False], ids=["ci", "laptop"])
def test_missing_chromium_fails_in_ci_and_skips_elsewhere(ci, tmp_path):
    # only the browser fixture of test_reports_browser.py (its tests also need a sample build)
    (tmp_path / "test_needs_browser.py").write_text(
        "from test_reports_browser import browser  # noqa: F401\n\n\ndef test_browser(browser):\n    pass\n")
    proc = pytest_child(["test_needs_browser.py"], ci, cwd=tmp_path, CHROMIUM_BIN=MISSING,
                        CHROMEDRIVER_BIN=MISSING)
    out = proc.stdout + proc.stderr
    assert f"headless Chromium not available ({MISSING}, {MISSING} missing)" in out, out[-3000:]
    if ci:
        assert proc.returncode == 1 and "required in CI" in out, out[-3000:]
    else:
        assert proc.returncode == 0 and "1 skipped" in out, out[-3000:]
