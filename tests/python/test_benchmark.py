"""scripts/benchmark.py and its two contenders (no timings asserted: only that what is timed is right).

- the hand-written DuckDB script and the pandas pipeline compute the same core outputs as the dbt
  marts on the sample and the real subset (the benchmark's agreement check, on every compared total);
- the measuring helper sees the memory of a child process and its exit code;
- the core build (`dbt build --selector core_marts`, selectors.yml) builds the tagged marts, exactly their upstream
  and every data test within that set, into the same tables as the whole build;
- the table and the growth ratios are computed from the runs as documented;
- the incremental run's inputs and comparison: the cut data is the sample without its last purchase day's orders
  and their rows (against the csv module's reading), and the warehouse checksums see a changed, missing or moved
  value but not the row order, and float noise only when rounding is asked for.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import bench_pandas
import benchmark
from conftest import SAMPLE_DIR, run_dbt

COMPARED = {"orders", "customers", "revenue", "abc", "xyz", "rfm_tier",
            "cohort_customers", "cohort_revenue", "cohort_rows"}


def _marts_totals(db_path: Path) -> dict:
    return benchmark.totals_from_db(db_path, *benchmark.MART_TOTAL_TABLES)


def test_duckdb_script_and_pandas_agree_with_the_marts(any_build, tmp_path):
    run, raw_dir = any_build
    marts = _marts_totals(run.db_path)
    assert COMPARED <= set(marts), f"marts the benchmark compares are missing: {COMPARED - set(marts)}"

    script_db = tmp_path / "script.duckdb"
    benchmark.run_duckdb_script(raw_dir, script_db)
    script = benchmark.totals_from_db(script_db, "bench_customer_rfm", "bench_customer_abc_xyz",
                                      "bench_cohort_retention", "bench_orders")
    pandas = bench_pandas.run(raw_dir, bench_pandas.project_vars())

    assert benchmark.compare(marts, script) == []
    assert benchmark.compare(marts, pandas) == []
    assert COMPARED <= set(script) and COMPARED <= set(pandas)


def test_compare_reports_a_difference():
    reference = {"customers": 10, "revenue": 100.0, "abc": {"A": 2, "B": 3, "C": 5}}
    assert benchmark.compare(reference, dict(reference)) == []
    assert benchmark.compare(reference, {**reference, "revenue": 100.005}) == []
    problems = benchmark.compare(reference, {**reference, "revenue": 100.5, "abc": {"A": 3, "B": 2, "C": 5}})
    assert len(problems) == 2 and problems[0].startswith("abc") and problems[1].startswith("revenue")


def test_measure_sees_the_memory_and_exit_code_of_the_child():
    allocate = "import sys; block = bytearray(300 * 2**20); block[::4096] = b'x' * len(block[::4096]); sys.exit(3)"
    run = benchmark.measure([sys.executable, "-c", allocate])
    assert run["returncode"] == 3
    assert run["peak_rss_mb"] >= 300
    assert run["max_single_process_rss_mb"] >= 300
    assert run["wall_s"] > 0


def test_summary_ratios_and_growth():
    runs = {
        "big": {"orders": 1000, "dbt": {"wall_s": 30.0, "returncode": 0, "peak_rss_mb": 900, "timings": {
                    "python_models_s": 12.5, "seconds_by_type": {"model": 20.0, "test": 3.3}}},
                "dbt_parse": {"wall_s": 7.25, "returncode": 0}, "dbt_core": {"wall_s": 15.0, "returncode": 0},
                "duckdb": {"wall_s": 10.0, "returncode": 0}, "pandas": {"wall_s": 60.0, "returncode": 0},
                "checks": {"duckdb": {"agree": True}, "pandas": {"agree": False}}},
        "small": {"orders": 100, "dbt": {"wall_s": 5.0, "returncode": 0},
                  "duckdb": {"wall_s": 1.0, "returncode": 0}, "pandas": {"wall_s": 2.0, "returncode": 0},
                  "checks": {}},
    }
    small, big = benchmark.summarize(runs)
    assert (small["scale"], big["scale"]) == ("small", "big")
    assert small["growth_dbt"] is None
    assert big["growth_dbt"] == 6.0 and big["growth_orders"] == 10.0
    assert big["dbt_over_duckdb"] == 3.0 and big["pandas_over_dbt"] == 2.0
    assert small["checks_agree"] and not big["checks_agree"]
    table = benchmark.format_table([small, big])
    assert "| big | 1,000 |" in table and "| 900 /" in table and "MISMATCH" in table and "6.0× (10×)" in table
    assert big["dbt_parse_s"] == 7.25 and small["dbt_parse_s"] is None and "(10×) | 7.2 |" in table
    assert big["core_build_s"] == 15.0 and big["core_build_over_duckdb"] == 1.5 and small["core_build_s"] is None
    assert small["python_models_s"] is None and small["data_tests_s"] is None
    assert big["python_models_s"] == 12.5 and big["data_tests_s"] == 3.3
    assert "| 7.2 | 15.0 (1.5×) | MISMATCH |" in table
    # a failed core build fails the scale's row
    runs["big"]["dbt_core"]["returncode"] = 2
    assert "FAILED" in benchmark.format_table(benchmark.summarize(runs))


@pytest.mark.parametrize("bins", [2, 4, 5])
def test_duckdb_script_follows_the_vars(bins):
    rules = {**bench_pandas.project_vars(), "rfm_bins": bins}
    sql = benchmark.render_duckdb_sql(Path("/data"), rules)
    assert "${" not in sql.split("-- 1.")[1], "a placeholder was left unfilled"
    assert f"{bins} - len(list_filter" in sql
    assert sql.count("/data/olist_") == 5


def test_merge_keeps_a_skipped_contender_and_rechecks():
    dbt_run = {"wall_s": 9.0, "returncode": 0, "totals": {"customers": 5, "revenue": 10.0}}
    saved = {"1m": {"orders": 10, "generator_args": ["--orders", "10"], "dbt": dbt_run,
                    "dbt_core": {"wall_s": 3.0, "returncode": 0, "totals": {"customers": 6}},
                    "duckdb": {"wall_s": 2.0, "returncode": 0, "totals": {"customers": 4}},
                    "checks": {"duckdb": {"agree": False}}},
             "10k": {"orders": 1, "generator_args": ["--orders", "1"]}}
    new = {"1m": {"orders": 10, "generator_args": ["--orders", "10"],
                  "duckdb": {"wall_s": 1.5, "returncode": 0, "totals": {"customers": 5, "revenue": 10.0}},
                  "checks": {}}}
    merged = benchmark.merge_runs(saved, new)
    assert merged["10k"] == saved["10k"]
    assert merged["1m"]["dbt"] == dbt_run and merged["1m"]["duckdb"]["wall_s"] == 1.5
    assert merged["1m"]["checks"]["duckdb"]["agree"] is True
    assert merged["1m"]["dbt_core"]["wall_s"] == 3.0 and merged["1m"]["checks"]["dbt_core"]["agree"] is False
    # other data (different generator arguments): nothing of the old entry survives
    other = benchmark.merge_runs(saved, {"1m": {**new["1m"], "generator_args": ["--orders", "11"]}})
    assert "dbt" not in other["1m"]
    # same arguments, but the generator changed and wrote other data (another order count): nothing survives either
    regenerated = benchmark.merge_runs(saved, {"1m": {**new["1m"], "orders": 11}})
    assert "dbt" not in regenerated["1m"]


def test_core_model_seconds_sums_the_core_marts_and_their_upstream_only(tmp_path):
    def uid(kind, name):
        return f"{kind}.customer_segmentation.{name}"
    manifest = {
        "nodes": {uid("model", n): {} for n in ("stg_orders", "fct_orders", "customer_rfm", "segment_snapshots")}
        | {uid("seed", "brazil_states"): {}, uid("test", "unique_fct_orders_order_id"): {}},
        "parent_map": {
            uid("model", "fct_orders"): [uid("model", "stg_orders"), uid("seed", "brazil_states")],
            uid("model", "customer_rfm"): [uid("model", "fct_orders")],
            uid("model", "segment_snapshots"): [uid("model", "customer_rfm")],
            uid("test", "unique_fct_orders_order_id"): [uid("model", "fct_orders")],
        },
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    seconds = {"stg_orders": 1.0, "brazil_states": 0.5, "fct_orders": 2.0, "customer_rfm": 4.0,
               "segment_snapshots": 100.0, "unique_fct_orders_order_id": 50.0}
    results = {"results": [
        {"unique_id": next(u for u in manifest["nodes"] if u.endswith("." + name)), "execution_time": s}
        for name, s in seconds.items()
    ]}
    core = benchmark.core_model_seconds(results, benchmark._read_manifest(tmp_path / "manifest.json"))
    assert core["seconds"] == 7.5  # not the snapshot downstream, not the data test
    assert core["node_count"] == 4 and core["marts"] == ["fct_orders", "customer_rfm"]


def test_python_model_seconds_sums_the_models_written_in_python_only(tmp_path, sample_build):
    """The summary's python_models_s: the models of the project's .py files (the real manifest of the sample
    build), not its SQL models, seeds or tests."""
    manifest_file = sample_build.db_path.parent / "target" / "manifest.json"
    python_files = {path.stem for path in (benchmark.ROOT / "models").rglob("*.py")}
    assert len(python_files) >= 10
    results = {"results": [{"unique_id": uid, "execution_time": 1.0 if uid.split(".")[-1] in python_files else 100.0}
                           for uid in json.loads(manifest_file.read_text())["nodes"]]}
    assert benchmark.python_model_seconds(results, benchmark._read_manifest(manifest_file)) == float(len(python_files))
    assert benchmark.python_model_seconds(results, benchmark._read_manifest(tmp_path / "missing.json")) is None


def _csv_rows(path: Path) -> tuple[list[str], list[tuple[str, ...]]]:
    import csv

    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [tuple(row) for row in rows[1:]]


def test_cut_last_day_leaves_out_that_days_orders_and_only_their_rows(tmp_path):
    """The incremental run's base data: compared with the sample's rows read by the csv module (text, any
    quoting), the cut files hold every row except the last purchase day's orders, their items, payments, reviews
    and customer rows; the other files are the sample's."""
    sample = SAMPLE_DIR
    cut = benchmark.cut_last_day(sample, tmp_path / "cut")

    header, orders = _csv_rows(sample / benchmark.FILES["orders"])
    purchased, order_key, customer_key = (header.index(c) for c in
                                          ("order_purchase_timestamp", "order_id", "customer_id"))
    last_day = max(row[purchased] for row in orders)[:10]
    dropped = [row for row in orders if row[purchased].startswith(last_day)]
    assert cut["day"] == last_day and dropped
    dropped_orders = {row[order_key] for row in dropped}
    dropped_customers = {row[customer_key] for row in dropped}

    expected_removed = {}
    for table, ids, key in (("orders", dropped_orders, "order_id"), ("customers", dropped_customers, "customer_id"),
                            ("order_items", dropped_orders, "order_id"),
                            ("order_payments", dropped_orders, "order_id"),
                            ("order_reviews", dropped_orders, "order_id")):
        header, rows = _csv_rows(sample / benchmark.FILES[table])
        cut_header, cut_rows = _csv_rows(tmp_path / "cut" / benchmark.FILES[table])
        index = header.index(key)
        kept = [row for row in rows if row[index] not in ids]
        assert cut_header == header
        assert sorted(cut_rows) == sorted(kept), table
        expected_removed[table] = len(rows) - len(kept)
    assert cut["rows_removed"] == expected_removed
    assert expected_removed["order_items"] > 0 and expected_removed["order_payments"] > 0
    for table in ("products", "sellers", "geolocation", "category_translation"):
        path = tmp_path / "cut" / benchmark.FILES[table]
        assert path.resolve() == (sample / benchmark.FILES[table]).resolve()


def test_warehouse_checksums_see_any_changed_row_but_not_the_order_or_float_noise(tmp_path):
    import duckdb

    def warehouse(name: str, rows: list[tuple]) -> Path:
        path = tmp_path / f"{name}.duckdb"
        with duckdb.connect(str(path)) as con:
            con.execute("create table t (id varchar, amount decimal(18, 2), share double, place varchar)")
            con.executemany("insert into t values (?, ?, ?, ?)", rows)
        return path

    rows = [("a", 1.25, 0.1 + 0.2, "x"), ("b", 2.5, None, "y"), ("a", 1.25, 0.1 + 0.2, "x")]
    same = warehouse("same", rows[::-1])
    reference = warehouse("reference", rows)
    changed = warehouse("changed", [rows[0], ("b", 2.51, None, "y"), rows[2]])
    one_less = warehouse("one_less", rows[:2] + [("c", 1.25, 0.3, "x")])
    noise = warehouse("noise", [("a", 1.25, 0.3, "x"), rows[1], ("a", 1.25, 0.3, "x")])  # 0.1 + 0.2 != 0.3
    moved = warehouse("moved", [rows[0], ("b", 2.5, None, "z"), rows[2]])

    checksums = benchmark.warehouse_checksums
    assert checksums(same) == checksums(reference)
    assert checksums(changed) != checksums(reference)
    assert checksums(one_less) != checksums(reference)
    assert checksums(noise) != checksums(reference)
    assert checksums(noise, {"t"}, significant_digits=9) == checksums(reference, {"t"}, significant_digits=9)
    assert checksums(changed, {"t"}, significant_digits=9) != checksums(reference, {"t"}, significant_digits=9)
    assert checksums(moved) != checksums(reference)
    assert checksums(moved, ignore={"t": "place"}) == checksums(reference, ignore={"t": "place"})


@pytest.mark.parametrize("parse_first", [True, False])
def test_the_build_is_timed_after_a_parse_of_the_same_project_target_vars_and_environment(
        tmp_path, monkeypatch, parse_first):
    """bench_scale runs `dbt parse` with exactly the build's target folder, vars and environment before the timed
    build (so the build parses partially), records whether dbt then reparsed everything, and --cold-parse
    (parse_first False) times a build that parses alone."""
    calls = []

    def fake_measure(cmd, env=None, log_file=None, interval=0.1):
        calls.append((cmd, env))
        if cmd[1] == "build":  # what dbt writes when the saved parse cannot be reused
            log_file.write_text("12:00:00  Unable to do partial parsing because a project config has changed\n")
        return {"wall_s": 1.0, "peak_rss_mb": 1.0, "returncode": 0, "_timeline": []}

    monkeypatch.setattr(benchmark, "measure", fake_measure)
    monkeypatch.setattr(benchmark, "node_timings", lambda *args: {})
    data = {"raw_dir": str(SAMPLE_DIR), "orders": 1, "args": []}
    entry = benchmark.bench_scale("tiny", data, tmp_path, None, {"dbt_core", "duckdb", "pandas"}, keep_work=True,
                                  parse_first=parse_first)
    commands = [cmd[1] for cmd, _ in calls]
    if not parse_first:
        assert commands == ["build"] and "dbt_parse" not in entry and "partial_parse" not in entry["dbt"]
        return
    assert commands == ["parse", "build"]
    (parse, parse_env), (build, build_env) = calls

    def option(cmd, name):
        return cmd[cmd.index(name) + 1]

    for name in ("--target-path", "--vars"):
        assert option(parse, name) == option(build, name)
    assert option(build, "--target-path") == str(tmp_path / "tiny" / "target")
    assert json.loads(option(build, "--vars"))["raw_data_dir"] == str(SAMPLE_DIR)
    assert parse_env == build_env and build_env["DUCKDB_PATH"] == str(tmp_path / "tiny" / "dbt.duckdb")
    assert entry["dbt_parse"]["wall_s"] == 1.0 and entry["dbt"]["project_parsed_before"]
    assert entry["dbt"]["partial_parse"] is False  # the log said dbt parsed everything again


def test_the_core_build_is_the_selector_in_its_own_warehouse_parsed_first(tmp_path, monkeypatch):
    """bench_scale's core build: `dbt parse`, then `dbt build --selector core_marts`, with its own warehouse and
    target folder (not the whole build's), the same vars and environment as the whole build; its totals are
    checked against the whole build's like the script's."""
    calls = []

    def fake_measure(cmd, env=None, log_file=None, interval=0.1):
        calls.append((cmd, env))
        if cmd[1] == "build":
            Path(env["DUCKDB_PATH"]).touch()
        return {"wall_s": 1.0, "peak_rss_mb": 1.0, "returncode": 0, "_timeline": []}

    def fake_totals(db, *tables):  # the core warehouse counts one customer more
        return {"customers": 4 if db.parent.name == "core" else 3, "revenue": 10.0}

    monkeypatch.setattr(benchmark, "measure", fake_measure)
    monkeypatch.setattr(benchmark, "node_timings", lambda *args: {})
    monkeypatch.setattr(benchmark, "totals_from_db", fake_totals)
    data = {"raw_dir": str(SAMPLE_DIR), "orders": 1, "args": []}
    entry = benchmark.bench_scale("tiny", data, tmp_path, None, {"duckdb", "pandas"}, keep_work=True)

    def option(cmd, name):
        return cmd[cmd.index(name) + 1] if name in cmd else None

    (whole_parse, _), (whole, whole_env), (core_parse, core_parse_env), (core, core_env) = calls
    assert [c[1] for c in (whole_parse, whole, core_parse, core)] == ["parse", "build", "parse", "build"]
    assert option(core, "--selector") == benchmark.CORE_SELECTOR and option(whole, "--selector") is None
    assert option(core, "--target-path") == option(core_parse, "--target-path") == str(tmp_path / "tiny/core/target")
    assert core_env["DUCKDB_PATH"] == core_parse_env["DUCKDB_PATH"] == str(tmp_path / "tiny/core/dbt.duckdb")
    assert option(core, "--vars") == option(whole, "--vars")
    assert {k: v for k, v in core_env.items() if k != "DUCKDB_PATH"} == \
        {k: v for k, v in whole_env.items() if k != "DUCKDB_PATH"}
    assert entry["dbt_core"]["selector"] == benchmark.CORE_SELECTOR and entry["dbt_core_parse"]["wall_s"] == 1.0
    assert entry["checks"]["dbt_core"] == {"agree": False, "compared": ["customers", "revenue"],
                                           "differences": ["customers: dbt 3 vs 4"]}


def test_the_core_marts_selector_builds_the_tagged_marts_their_upstream_and_every_test_within(
        sample_build, tmp_path):
    """`dbt build --selector core_marts` (make build-core, the benchmark's core build) on the sample: it runs
    exactly the models tagged core_marts and every model and seed upstream of them (from the manifest's parent map),
    every data test all of whose parents are among them (a test between two tagged marts included) and no other,
    and its tables are those of the whole sample build."""
    run = run_dbt(["build", "--selector", benchmark.CORE_SELECTOR], tmp_path / "warehouse.duckdb", tmp_path,
                  {"raw_data_dir": str(SAMPLE_DIR)}, env={"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"})
    assert run.returncode == 0, run.output[-4000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    nodes, parents = manifest["nodes"], manifest["parent_map"]
    tagged = {uid for uid, node in nodes.items() if "core_marts" in node.get("tags", [])}
    assert {nodes[uid]["name"] for uid in tagged} >= set(benchmark.CORE_MARTS) | {"input_summary"}
    expected, stack = set(), list(tagged)
    while stack:
        uid = stack.pop()
        if uid not in expected:
            expected.add(uid)
            stack.extend(p for p in parents.get(uid, []) if p.startswith(("model.", "seed.")))
    ran = run.statuses()
    assert {uid for uid in ran if uid.startswith(("model.", "seed."))} == expected
    # (a test reading no node, e.g. of the other input layout's disabled models or of engine functions, is not one)
    within = {uid for uid, node in nodes.items() if node["resource_type"] == "test" and node["depends_on"]["nodes"]
              and all(p in expected or p.startswith("source.") for p in node["depends_on"]["nodes"])}
    assert {uid for uid in ran if uid.startswith("test.")} == within
    assert any("customer_abc_xyz" in uid and "customer_rfm" in uid for uid in within)  # between two tagged marts
    assert set(ran.values()) == {"success", "pass"}
    names = {nodes[uid]["name"] for uid in expected if uid.startswith("model.")}
    assert benchmark.warehouse_checksums(run.db_path, names, significant_digits=9) == \
        benchmark.warehouse_checksums(sample_build.db_path, names, significant_digits=9)
