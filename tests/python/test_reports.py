"""Static HTML reports (scripts/render_reports.py) rendered from the sample build: structure and safety.

Checks that every section renders from a full build, that every page is self-contained (plotly.js
inlined exactly once, no <script src>, no URL or fetch outside the plotly.js bundle), that figures
match the marts they come from, that data strings are escaped (a hostile city and capital name),
that missing marts are named and the rest still renders, and that the dbt exposures exist.
"""
from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pytest

from conftest import ROOT, query

RENDER = ROOT / "scripts" / "render_reports.py"
SECTION_SLUGS = ("overview", "rfm", "abc_xyz", "over_time", "cohorts", "geography", "clusters", "lifetime_value",
                 "hypotheses")
SECTION_PARTS = {  # h2 titles each page must show (structure, not numbers)
    "overview": ["Headline", "Purchases and revenue by month", "Orders by status", "Rows excluded by each rule"],
    "rfm": ["Churn-risk distribution", "Named RFM segments", "Recency × frequency"],
    "abc_xyz": ["ABC-XYZ matrix", "Segments"],
    "over_time": ["Churn risk by month", "rfm_tier by month (relative)", "ABC-XYZ segments by month",
                  "Churn backtest: calibration", "Churn backtest"],
    "cohorts": ["Retention rate", "Active customers", "Revenue", "Cohort sizes"],
    "geography": ["Customer density", "Segment shares by state", "Top 20 cities by customers"],
    "clusters": ["Choosing k", "Cluster profiles", "Customers by cluster (sample)", "First-purchase repeat-buyer model",
                 "Who gets a repeat score"],
    "lifetime_value": ["Headline", "Can the data identify the models?", "CLV per customer", "CLV by state",
                       "CLV by RFM segment", "Backtest errors", "Expected purchases by frequency and recency",
                       "P(alive) by frequency and recency"],
    "hypotheses": ["Results"],
}
HOSTILE_CITY = "<img src=x onerror=window.__xss=1>"
HOSTILE_CAPITAL = "</script><script>window.__xss=2</script>"
BUNDLE = re.compile(r'<script type="text/javascript" data-bundle="plotly\.js">.*?</script>', re.S)


@dataclass
class Rendered:
    out_dir: Path
    db_path: Path
    proc: subprocess.CompletedProcess

    def page(self, slug: str) -> str:
        return (self.out_dir / f"{slug}.html").read_text(encoding="utf-8")


def render(db_path: Path | None, out_dir: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    args = [sys.executable, str(RENDER), "--out", str(out_dir), *extra]
    if db_path is not None:
        args += ["--db", str(db_path)]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)


_CACHE: dict[str, Rendered] = {}


def _rendered(key: str, build) -> Rendered:
    if key not in _CACHE:
        _CACHE[key] = build()
    return _CACHE[key]


@pytest.fixture(scope="session")
def sample_reports(sample_build, tmp_path_factory) -> Rendered:
    def build():
        out = tmp_path_factory.mktemp("reports_sample") / "reports"
        proc = render(sample_build.db_path, out, "--strict")
        assert proc.returncode == 0, f"render failed:\n{proc.stdout}\n{proc.stderr}"
        return Rendered(out, sample_build.db_path, proc)
    return _rendered("sample", build)


@pytest.fixture(scope="session")
def hostile_reports(sample_build, tmp_path_factory) -> Rendered:
    """The sample warehouse with the biggest city renamed to markup and SP's capital to a script break-out."""
    def build():
        work = tmp_path_factory.mktemp("reports_hostile")
        db = work / "hostile.duckdb"
        shutil.copyfile(sample_build.db_path, db)
        with duckdb.connect(str(db)) as con:
            top_city = con.execute(
                "select customer_city from dim_customers group by 1 order by count(*) desc, 1 limit 1"
            ).fetchone()[0]
            tables = [t for (t,) in con.execute(
                "select table_name from information_schema.columns where column_name = 'customer_city' "
                "and table_schema = current_schema() and table_name in (select table_name from "
                "information_schema.tables where table_type = 'BASE TABLE')"
            ).fetchall()]
            for table in tables:
                con.execute(f"update {table} set customer_city = ? where customer_city = ?", [HOSTILE_CITY, top_city])
            con.execute("update brazil_states set capital = ? where state_code = 'SP'", [HOSTILE_CAPITAL])
        out = work / "reports"
        proc = render(db, out, "--strict")
        assert proc.returncode == 0, f"render failed:\n{proc.stdout}\n{proc.stderr}"
        return Rendered(out, db, proc)
    return _rendered("hostile", build)


def _without_bundle(text: str) -> str:
    return BUNDLE.sub("", text)


def _decoded(text: str) -> str:
    """Undo the \\uXXXX escapes plotly's JSON uses (for '/', non-ASCII, ...)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def _figure_data(text: str, div_id: str) -> list[dict]:
    """The traces passed to Plotly.newPlot for one figure of a page."""
    match = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*', text)
    data, _ = json.JSONDecoder().raw_decode(text, match.end())
    return data


def _values(array) -> list:
    """A trace array as plotly.py wrote it: a JSON list or a base64 typed array {dtype, bdata}."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).tolist()
    return list(array)


def _h2(text: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"<h2>(.*?)</h2>", text)]


# ---------------------------------------------------------------------------------------------

def test_every_section_renders_with_progress(sample_reports):
    proc = sample_reports.proc
    for number, slug in enumerate(SECTION_SLUGS, start=1):
        assert re.search(rf"^\[{number}/{len(SECTION_SLUGS)}\] .*: rendered \d+ figure", proc.stdout, re.M), \
            f"no progress line for section {number} ({slug}):\n{proc.stdout}"
        assert (sample_reports.out_dir / f"{slug}.html").exists()
    assert "skipped" not in proc.stdout and "FAILED" not in proc.stdout
    assert f"file://{sample_reports.out_dir / 'index.html'}" in proc.stdout


def test_index_links_every_page(sample_reports):
    index = sample_reports.page("index")
    for slug in SECTION_SLUGS:
        assert f'href="{slug}.html"' in index
        assert f'data-section="{slug}" data-status="ok"' in index


@pytest.mark.parametrize("slug", SECTION_SLUGS)
def test_page_structure(sample_reports, slug):
    text = sample_reports.page(slug)
    titles = _h2(text)
    for part in SECTION_PARTS[slug]:
        assert part in titles, f"{slug}: section '{part}' missing (found {titles})"
    figures = int(re.search(r'<meta name="report-figures" content="(\d+)">', text).group(1))
    assert figures == text.count('class="plotly-graph-div"') == text.count("Plotly.newPlot(")
    bundles = len(BUNDLE.findall(text))
    assert bundles == (1 if figures else 0), f"{slug}: plotly.js inlined {bundles} times for {figures} figures"
    assert 'class="error"' not in text, f"{slug}: a part of the page reported an error"
    if slug != "hypotheses":
        assert figures >= 1


@pytest.mark.parametrize("slug", ("index",) + SECTION_SLUGS)
def test_page_is_self_contained(sample_reports, slug):
    text = sample_reports.page(slug)
    lowered = text.lower()
    assert not re.search(r"<script[^>]*\bsrc\s*=", lowered), "a <script src> would need the network"
    assert not re.search(r"<(iframe|object|embed|img|audio|video|source)\b", lowered)
    for href in re.findall(r"<link[^>]*href=\"([^\"]*)\"", lowered):
        assert href.startswith("data:"), f"external <link href={href}>"
    rest = _without_bundle(text)
    for needle in ("http://", "https://", "fetch(", "xmlhttprequest", "import(", "@import", "url(", "//cdn"):
        assert needle not in rest.lower(), f"{slug}: '{needle}' outside the inlined plotly.js bundle"
    # keep pages reasonable: everything except plotly.js itself stays small (data aggregated in SQL)
    assert len(rest.encode()) < 2_500_000, f"{slug}: {len(rest.encode()):,} bytes of page data"


def test_overview_headline_matches_the_marts(sample_reports):
    db = sample_reports.db_path
    customers, purchasing, purchases = query(
        db, "select count(*), count(*) filter (where has_purchased), sum(purchase_count) from dim_customers")[0]
    orders = query(db, "select count(*) from fct_orders")[0][0]
    text = sample_reports.page("overview")
    kpis = dict((html.unescape(label), html.unescape(v)) for v, label in re.findall(
        r'<div class="kpi"><div class="v">(.*?)</div><div class="l">(.*?)</div></div>', text))
    assert kpis["customers (any order)"] == f"{customers:,}"
    assert kpis["purchasing customers"] == f"{purchasing:,}"
    assert kpis["purchases"] == f"{int(purchases):,}"
    assert kpis["orders (all statuses)"] == f"{orders:,}"
    # every exclusion rule of the quality mart is listed
    rules = query(db, "select count(*) from data_quality_exclusions")[0][0]
    section = text.split("<h2>Rows excluded by each rule</h2>", 1)[1].split("</section>", 1)[0]
    assert section.count("<tr>") == rules + 1


def test_cohort_state_selector_has_all_and_the_27_ufs(sample_reports):
    db = sample_reports.db_path
    with_data = {
        s for (s,) in query(db, "select distinct first_purchase_state from cohort_retention where not is_all_states")
    }
    ufs = sorted(s for (s,) in query(db, "select state_code from brazil_states"))
    assert len(ufs) == 27 and with_data <= set(ufs)
    text = sample_reports.page("cohorts")
    select = re.search(r'<select id="cohort-state".*?</select>', text, re.S).group(0)
    options = [html.unescape(o) for o in re.findall(r"<option [^>]*>(.*?)</option>", select)]
    assert options == ["ALL"] + [uf if uf in with_data else f"{uf} (no customers)" for uf in ufs]
    # one layer per option in each of the three heatmaps (plus its grey incomplete-period overlay) and the
    # cohort-size bars
    for index in range(len(options)):
        assert text.count(f'"meta":"opt:{index}"') == 7
    assert f'"meta":"opt:{len(options)}"' not in text


def test_cohort_heatmaps_grey_exactly_the_incomplete_months(sample_reports):
    """The month the analysis date cuts is not coloured as a (collapsed) retention: in each heatmap's ALL layer
    the coloured trace has no value there and a grey overlay covers exactly those cells, hover saying so."""
    db = sample_reports.db_path
    cells = query(db, "select cohort_month, months_since_first, is_complete_period, retention_rate "
                      "from cohort_retention where is_all_states")
    incomplete = {(c.strftime("%Y-%m"), m) for c, m, complete, _ in cells if not complete}
    complete = {(c.strftime("%Y-%m"), m) for c, m, complete, _ in cells if complete}
    assert incomplete and complete
    text = sample_reports.page("cohorts")
    for figure in ("cohorts-fig-1", "cohorts-fig-2", "cohorts-fig-3"):
        layers = [trace for trace in _figure_data(text, figure) if trace.get("meta") == "opt:0"]
        assert len(layers) == 2, figure
        coloured, grey = layers
        x, y = _values(coloured["x"]), list(coloured["y"])
        def cells_with_value(trace, x=x, y=y):
            return {(y[i], x[j]) for i, row in enumerate(trace["z"]) for j, v in enumerate(row) if v is not None}
        assert cells_with_value(grey) == incomplete, figure
        assert cells_with_value(coloured) == complete, figure
        assert grey["showscale"] is False and "incomplete month" in grey["hovertemplate"]
    assert "Grey: the month the analysis date" in text


def test_clusters_page_says_who_is_scored_and_who_has_a_known_outcome(sample_reports):
    db = sample_reports.db_path
    expected = dict(query(db, "select coalesce(known_outcome, 'open: scored'), count(*) from customer_repeat_scores "
                              "group by all"))
    assert set(expected) == {"open: scored", "repeated", "did not repeat"}
    text = sample_reports.page("clusters")
    section = text.split("<h2>Who gets a repeat score</h2>", 1)[1].split("</section>", 1)[0]
    rows = [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", section, re.S)]
    got = {}
    for cells in rows:
        if cells:
            got[cells[0]] = got.get(cells[0], 0) + int(cells[2].replace(",", ""))
    assert got == expected
    assert "after the feature window" in text


def test_geography_is_binned_with_every_layer(sample_reports):
    db = sample_reports.db_path
    text = sample_reports.page("geography")
    select = re.search(r'<select id="geo-layer".*?</select>', text, re.S).group(0)
    options = [html.unescape(o) for o in re.findall(r"<option [^>]*>(.*?)</option>", select)]
    risks = {r for (r,) in query(db, "select distinct churn_risk from customer_churn")}
    segments = {s for (s,) in query(db, "select distinct segment from customer_abc_xyz")}
    clusters = {c for (c,) in query(db, "select distinct cluster from customer_clusters")}
    assert options[0] == "All customers"
    assert {o.split(": ", 1)[1] for o in options if o.startswith("Churn risk: ")} == risks
    assert {o.split(": ", 1)[1] for o in options if o.startswith("ABC-XYZ segment: ")} == segments
    assert {int(re.match(r"Cluster (\d+)", o).group(1)) for o in options if o.startswith("Cluster ")} == clusters
    data = _figure_data(text, "geography-fig-1")
    layers = [t for t in data if str(t.get("meta", "")).startswith("opt:")]
    assert [t["meta"] for t in layers] == [f"opt:{i}" for i in range(len(options))], "one layer per option"
    assert all(t["type"] == "heatmap" for t in layers), "layers are binned density heatmaps, not points"
    n_with_coords, n_cells = query(db, """
        select count(*), count(distinct (floor(customer_lat / 0.5), floor(customer_lng / 0.5)))
        from dim_customers where customer_lat is not null and customer_lng is not null""")[0]
    assert n_with_coords > 0, "the sample has geolocated customers"
    assert f"{n_with_coords:,} of" in text
    everyone = layers[0]
    counts = [int(t.replace(",", "")) for t in everyone["text"] if t is not None]
    assert sum(counts) == n_with_coords and len(counts) == n_cells
    for layer in layers:  # every layer on the same regular 0.5-degree grid
        coords = _values(layer["x"]) + _values(layer["y"])
        assert all(abs((v + 0.25) / 0.5 - round((v + 0.25) / 0.5)) < 1e-6 for v in coords)
    for capital in (c for (c,) in query(db, "select capital from brazil_states")):
        assert html.escape(capital) in _decoded(text)


def test_clusters_page_states_its_sample_cap(sample_reports):
    text = sample_reports.page("clusters")
    match = re.search(r"sample of at most ([\d,]+) customers \(sample cap\) out of ([\d,]+)", text)
    assert match, "the clusters page must state its sample cap"
    cap, total = (int(g.replace(",", "")) for g in match.groups())
    assert total == query(sample_reports.db_path, "select count(*) from customer_clusters")[0][0]
    scatter = _figure_data(text, "clusters-fig-2")
    assert all(t["type"] == "scatter" for t in scatter)
    assert sum(len(_values(t["x"])) for t in scatter) == min(cap, total)


def test_hypotheses_table_has_one_row_per_hypothesis(sample_reports):
    n = query(sample_reports.db_path, "select count(*) from hypothesis_results")[0][0]
    text = sample_reports.page("hypotheses")
    assert text.count("<tr>") == n + 1
    assert 'class="badge' in text


def test_hostile_strings_are_escaped(hostile_reports):
    pages = {slug: hostile_reports.page(slug) for slug in ("index",) + SECTION_SLUGS}
    for slug, text in pages.items():
        assert HOSTILE_CITY not in text, f"{slug}: raw city markup in the page"
        assert "<script>window.__xss" not in text, f"{slug}: raw capital markup in the page"
        rest = _decoded(_without_bundle(text))
        escaped = len(re.findall(r"&lt;img src=x onerror=window\.__xss=1&gt;|&lt;script&gt;window\.__xss=2", rest))
        assert rest.count("window.__xss") == escaped, f"{slug}: a payload occurrence is not escaped"
    assert html.escape(HOSTILE_CITY) in pages["geography"], "the city must still be shown, as text"
    assert html.escape(HOSTILE_CAPITAL) in _decoded(pages["geography"]), "capital label kept, escaped"


def test_missing_database_and_empty_database_fail_clearly(tmp_path):
    proc = render(tmp_path / "nope.duckdb", tmp_path / "out")
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "nope.duckdb" in proc.stderr
    assert "Traceback" not in proc.stderr

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    proc = render(empty, tmp_path / "out")
    assert proc.returncode == 2
    assert "no marts found" in proc.stderr and "dbt build" in proc.stderr
    assert not (tmp_path / "out" / "index.html").exists()


def test_missing_marts_are_named_and_the_rest_renders(sample_build, tmp_path):
    db = tmp_path / "partial.duckdb"
    shutil.copyfile(sample_build.db_path, db)
    with duckdb.connect(str(db)) as con:
        con.execute("drop table cohort_retention")
        con.execute("drop table data_quality_exclusions")
        # as on the real subset, whose geolocation file is empty: no customer has coordinates
        con.execute("update dim_customers set customer_lat = null, customer_lng = null")
    out = tmp_path / "reports"
    proc = render(db, out)
    assert proc.returncode == 0, proc.stderr
    assert "Cohorts: section skipped: mart cohort_retention missing" in proc.stdout
    assert "section Cohorts skipped: mart cohort_retention missing" in proc.stderr
    assert "data_quality_exclusions missing" in proc.stdout
    assert not (out / "cohorts.html").exists()
    for slug in SECTION_SLUGS:
        if slug != "cohorts":
            assert (out / f"{slug}.html").exists(), f"{slug} should still render"
    assert 'data-section="cohorts" data-status="skipped"' in (out / "index.html").read_text()
    assert "mart data_quality_exclusions missing" in (out / "overview.html").read_text()
    geography = (out / "geography.html").read_text()
    assert "No customer has coordinates in this data" in geography
    bubbles = [t for t in _figure_data(geography, "geography-fig-1") if str(t.get("meta", "")).startswith("opt:")]
    assert bubbles and all(t["type"] == "scatter" for t in bubbles), "per-state bubbles at the capitals"
    states = query(db, "select count(distinct customer_state) from dim_customers")[0][0]
    assert len(_values(bubbles[0]["x"])) == states
    strict = render(db, tmp_path / "strict", "--strict")
    assert strict.returncode == 1


def test_default_database_comes_from_duckdb_path(sample_build, tmp_path):
    import os
    env = {**os.environ, "DUCKDB_PATH": str(sample_build.db_path)}
    proc = render(None, tmp_path / "out", env=env)
    assert proc.returncode == 0, proc.stderr
    assert str(sample_build.db_path) in proc.stdout


def test_exposures_cover_the_reports_and_bi(sample_build):
    manifest = json.loads((sample_build.db_path.parent / "target" / "manifest.json").read_text())
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    for slug in SECTION_SLUGS:
        assert f"report_{slug}" in exposures, f"no exposure for the {slug} report page"
    assert "bi_customer_segments" in exposures
    assert exposures["bi_customer_segments"]["depends_on"]["nodes"] == [
        "model.customer_segmentation.customer_segments"]
    for exposure in exposures.values():
        nodes = exposure["depends_on"]["nodes"]
        assert nodes and all(n in manifest["nodes"] for n in nodes)


# ---------------------------------------------------------------------------------------------
# every data string that reaches a page is escaped: one planted string per kind of data

def _payload(kind: str) -> str:
    return f"<script>window.__xss_{kind}=1</script>&{kind}"


# kind -> (columns that hold the value in every table, query picking the value to replace, pages that show it)
PLANTED = {
    "segment": (("segment", "from_segment", "to_segment", "dominant_abc_xyz_segment"),
                "select segment from customer_abc_xyz group by 1 order by count(*) desc, 1 limit 1",
                {"abc_xyz", "over_time", "clusters", "geography"}),
    "rfm_segment": (("rfm_segment", "dominant_rfm_segment"),
                    "select rfm_segment from customer_rfm group by 1 order by count(*) desc, 1 limit 1",
                    {"rfm", "clusters", "geography", "lifetime_value"}),
    "cluster": (("cluster_name",), "select cluster_name from cluster_profiles order by size desc, 1 limit 1",
                {"clusters", "geography"}),
    # before "state": picked by the state code it renames
    "state_name": (("state_name",), "select state_name from brazil_states where state_code = 'RJ'", {"geography"}),
    "state": (("customer_state", "first_purchase_state", "first_order_state", "main_seller_state", "seller_state",
               "state", "state_code"), "select 'RJ'", {"cohorts", "geography", "lifetime_value"}),
    "city": (("customer_city", "seller_city"),
             "select customer_city from dim_customers group by 1 order by count(*) desc, 1 limit 1", {"geography"}),
    # no page shows product categories today: planted so that one that starts to must escape them too
    "category": (("main_product_category", "product_category_name", "first_order_category",
                  "product_category_name_english"),
                 "select main_product_category from fct_orders where main_product_category is not null "
                 "group by 1 order by count(*) desc, 1 limit 1", set()),
    "rule": (("rule_description",), "select min(rule_description) from data_quality_exclusions", {"overview"}),
    "rfm_description": (("description",), "select min(description) from rfm_segments", {"rfm"}),
    "abc_description": (("description_en", "segment_description_en"),
                        "select segment_description_en from customer_abc_xyz group by 1 order by count(*) desc, 1 "
                        "limit 1", {"abc_xyz"}),
    "statement": (("statement",), "select statement from hypothesis_results order by hypothesis_id limit 1",
                  {"hypotheses"}),
}


@pytest.fixture(scope="module")
def planted_reports(sample_build, tmp_path_factory) -> Rendered:
    """The sample warehouse with one value of every kind of data string replaced, in every table holding it, by
    markup with an ampersand (so joins between the marts and the seeds still match)."""
    work = tmp_path_factory.mktemp("reports_planted")
    db = work / "planted.duckdb"
    shutil.copyfile(sample_build.db_path, db)
    with duckdb.connect(str(db)) as con:
        for kind, (columns, pick, _) in PLANTED.items():
            old = con.execute(pick).fetchone()[0]
            assert old is not None, kind
            targets = con.execute(
                "select table_name, column_name from information_schema.columns "
                "where table_schema = current_schema() and column_name in (select unnest(?)) "
                "and table_name in (select table_name from information_schema.tables "
                "where table_type = 'BASE TABLE' and table_schema = current_schema())", [list(columns)]).fetchall()
            changed = sum(con.execute(f'update "{table}" set "{column}" = ? where "{column}" = ?',
                                      [_payload(kind), old]).fetchone()[0] for table, column in targets)
            assert changed > 0, kind
    out = work / "reports"
    proc = render(db, out, "--strict")
    assert proc.returncode == 0, f"render failed:\n{proc.stdout}\n{proc.stderr}"
    return Rendered(out, db, proc)


def test_every_planted_data_string_is_escaped_where_it_is_shown(planted_reports):
    for slug in ("index",) + SECTION_SLUGS:
        text = planted_reports.page(slug)
        rest = _decoded(_without_bundle(text))
        for kind in PLANTED:
            assert _payload(kind) not in text and _payload(kind) not in rest, f"{slug}: raw {kind} in the page"
        # every occurrence of a payload, in HTML or in a figure's JSON, is the escaped one
        unescaped = len(re.findall(r"window\.__xss_", rest)) - len(re.findall(r"&lt;script&gt;window\.__xss_", rest))
        assert unescaped == 0, f"{slug}: {unescaped} payload occurrence(s) not escaped"
    for kind, (_, _, slugs) in PLANTED.items():
        for slug in slugs:  # shown, as text: the test would pass vacuously if the string never reached the page
            assert html.escape(_payload(kind)) in _decoded(_without_bundle(planted_reports.page(slug))), \
                f"{kind} not shown (escaped) on {slug}"


def _descendants(manifest: dict, uid: str) -> set[str]:
    found, todo = set(), [uid]
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            if child.startswith("model.") and child not in found:
                found.add(child)
                todo.append(child)
    return found


def test_over_time_page_says_so_when_segment_snapshots_is_excluded(sample_build, tmp_path):
    """What `dbt build --exclude segment_snapshots+` leaves in a fresh warehouse: every model but segment_snapshots
    and its descendants (read from the manifest); the over-time page is skipped with the name of the mart."""
    manifest = json.loads((sample_build.db_path.parent / "target" / "manifest.json").read_text())
    snapshots = "model.customer_segmentation.segment_snapshots"
    excluded = {uid.split(".")[-1] for uid in _descendants(manifest, snapshots) | {snapshots}}
    db = tmp_path / "no_snapshots.duckdb"
    shutil.copyfile(sample_build.db_path, db)
    with duckdb.connect(str(db)) as con:
        for name in excluded:
            con.execute(f'drop table if exists "{name}"')
    out = tmp_path / "reports"
    proc = render(db, out)
    assert proc.returncode == 0, proc.stderr
    assert "Over time: section skipped: mart segment_snapshots missing" in proc.stdout
    assert "section Over time skipped: mart segment_snapshots missing" in proc.stderr
    assert not (out / "over_time.html").exists()
    card = re.search(r'<div class="card" data-section="over_time" data-status="skipped">.*?</div></div>',
                     (out / "index.html").read_text(), re.S)
    assert card and "mart segment_snapshots missing" in card.group(0)
    # customer_churn reads the churn backtest, so the selector also drops it and the cluster profiles (README);
    # customer_rfm does not read churn and stays, but the RFM page needs customer_churn too
    assert {"customer_churn", "cluster_profiles"} <= excluded
    assert "customer_rfm" not in excluded
    index = (out / "index.html").read_text()
    for slug in ("rfm", "clusters"):
        assert f'data-section="{slug}" data-status="skipped"' in index
    assert render(db, tmp_path / "strict", "--strict").returncode == 1


def test_a_failing_section_exits_1_and_the_rest_renders(sample_build, tmp_path):
    """A section that raises (here: a p-value that is not a number) is reported as failed, the other pages and the
    index still render, and the exit code is 1 even without --strict."""
    db = tmp_path / "broken.duckdb"
    shutil.copyfile(sample_build.db_path, db)
    with duckdb.connect(str(db)) as con:
        con.execute("create or replace table hypothesis_results as "
                    "select * replace ('not a number' as p_value) from hypothesis_results")
    out = tmp_path / "reports"
    proc = render(db, out)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "section Hypotheses failed: ValueError" in proc.stderr
    assert not (out / "hypotheses.html").exists()
    assert 'data-section="hypotheses" data-status="failed"' in (out / "index.html").read_text()
    for slug in SECTION_SLUGS:
        if slug != "hypotheses":
            assert (out / f"{slug}.html").exists(), f"{slug} should still render"
