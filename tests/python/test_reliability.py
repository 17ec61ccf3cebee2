"""Atomicity, idempotency and concurrency of builds.

- Plain `dbt build` stops at the source checks before any mart is replaced (every failing case of test_bad_input
  checks that), but a failure after the marts have started to be rebuilt leaves them mixed. scripts/safe_build.py
  (`make build`) builds into a copy and publishes it only on success: a failing build leaves the warehouse as it was.
- Two consecutive builds on the same inputs produce identical marts (row count + hash of every row of every mart).
- Two builds on one DuckDB file at once: one fails with DuckDB's lock message, the file stays intact, and the next
  build succeeds; two safe_builds at once: the second stops at once with its own message.

Every test starts from a copy of the session's sample warehouse, so each pays only for the builds it is about.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import DBT, ROOT, SAMPLE_DIR, query
from test_bad_input import copy_raw, load, mart_checksums, plain, save

SAFE_BUILD = ROOT / "scripts" / "safe_build.py"
# every model and seed, no tests: what the marts are made of, at the lowest cost
MODELS_ONLY = ["--select", "resource_type:model", "resource_type:seed", "--indirect-selection", "empty"]
# the models up to data_quality_exclusions (fct_orders and dim_customers's inputs included), then its rate test
UP_TO_THRESHOLD = ["--select", "+data_quality_exclusions", "test_name:rate_within_thresholds",
                   "--indirect-selection", "empty"]
# the smallest real build, for races where only the build lock matters
ONE_MODEL = ["--select", "stg_olist__orders", "--indirect-selection", "empty"]


def env_for(db: Path) -> dict:
    return {**os.environ, "DUCKDB_PATH": str(db), "DBT_PROFILES_DIR": str(ROOT),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def artifacts(work: Path) -> list[str]:
    return ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]


def start_safe_build(db: Path, work: Path, args: list[str], dbt_vars: dict) -> subprocess.Popen:
    work.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(SAFE_BUILD), *args, *artifacts(work), "--vars", json.dumps(dbt_vars)]
    return subprocess.Popen(cmd, cwd=ROOT, env=env_for(db), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def start_dbt_build(db: Path, work: Path, args: list[str], dbt_vars: dict) -> subprocess.Popen:
    work.mkdir(parents=True, exist_ok=True)
    cmd = [DBT, "build", *args, *artifacts(work), "--vars", json.dumps(dbt_vars)]
    return subprocess.Popen(cmd, cwd=ROOT, env=env_for(db), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def finish(proc: subprocess.Popen, timeout: int = 900) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, plain(out)


def model_results(work: Path) -> dict[str, str]:
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("model.")}


@pytest.fixture
def warehouse(sample_build, tmp_path) -> tuple[Path, dict]:
    """A private copy of the sample warehouse, and the checksums of its marts."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(sample_build.db_path, db)
    checksums = mart_checksums(db)
    assert {"fct_orders", "dim_customers", "data_quality_exclusions"} <= set(checksums)
    return db, checksums


def mutate_for_late_failure(raw: Path) -> None:
    """Data that passes every source and staging check, but excludes rows (items of an unknown order) and changes
    the money of the orders kept (one payment +10), so a rebuilt fct_orders differs from the good one."""
    header, items = load(raw, "order_items")
    orphans = [list(r) for r in items[:3]]
    for i, row in enumerate(orphans, start=1):
        row[header.index("order_id")], row[header.index("order_item_id")] = "order_not_in_orders_file", str(i)
    save(raw, "order_items", header, items + orphans)
    header, payments = load(raw, "order_payments")
    value = header.index("payment_value")
    payments[0][value] = f"{float(payments[0][value]) + 10:.2f}"
    save(raw, "order_payments", header, payments)


def test_failing_build_leaves_the_previous_marts_intact_and_queryable(warehouse, tmp_path):
    db, good = warehouse
    raw = copy_raw(tmp_path / "raw")
    mutate_for_late_failure(raw)
    # any excluded row is an error: the build fails at data_quality_exclusions' threshold test, i.e. after
    # fct_orders and dim_customers have been rebuilt
    dbt_vars = {"raw_data_dir": str(raw), "data_quality_thresholds": {"warn_rate": 0, "error_rate": 0}}
    code, out = finish(start_safe_build(db, tmp_path / "bad", UP_TO_THRESHOLD, dbt_vars))
    assert code != 0
    assert "Failure in test data_quality_exclusion_rate_within_thresholds" in out
    assert f"{db} was NOT changed and still holds the previous build" in out
    assert mart_checksums(db) == good
    assert query(db, "select count(*) from fct_orders")[0][0] == len(load(SAMPLE_DIR, "orders")[1])
    # what a plain `dbt build` would have left behind: fct_orders replaced although the build failed
    failed = db.with_name(db.name + ".failed")
    assert model_results(tmp_path / "bad")["model.customer_segmentation.fct_orders"] == "success"
    assert mart_checksums(failed)["fct_orders"] != good["fct_orders"]
    assert not db.with_name(db.name + ".building").exists()


# holds a read-only connection until told to query, then prints the row count of the table argv[2]
READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("connected", flush=True)
sys.stdin.readline()
print(con.execute(f"select count(*) from {sys.argv[2]}").fetchone()[0])
"""


def race(start, db: Path, work: Path, args: list[str], dbt_vars: dict) -> list[tuple[int, str]]:
    """Start two builds on the same file at the same moment; (exit code, output) of each."""
    procs = [start(db, work / f"run{i}", args, dbt_vars) for i in (1, 2)]
    return [finish(proc) for proc in procs]


@pytest.fixture(scope="module")
def dbt_race(sample_build, tmp_path_factory) -> dict:
    """Two plain `dbt build`s of every model, started together on a copy of the sample warehouse.

    DuckDB allows one writer per file, so whichever opens the file second fails at once, and the first rebuilds
    every mart: a second build on the inputs of the sample build. If both happened to finish without
    overlapping (possible on a very uneven machine), they race again (at most three times)."""
    work = tmp_path_factory.mktemp("dbt_race")
    db = work / "warehouse.duckdb"
    shutil.copyfile(sample_build.db_path, db)
    first = mart_checksums(db)
    for attempt in range(3):
        runs = race(start_dbt_build, db, work / f"attempt{attempt}", MODELS_ONLY, {"raw_data_dir": str(SAMPLE_DIR)})
        if any(code != 0 for code, _ in runs):
            break
    winner = next((i for i, (code, _) in enumerate(runs, start=1) if code == 0), None)
    return {"db": db, "first": first, "runs": runs,
            "winner_work": work / f"attempt{attempt}" / f"run{winner}" if winner else None}


def test_two_dbt_builds_at_once_one_fails_with_a_clear_lock_message(dbt_race):
    codes = sorted(code for code, _ in dbt_race["runs"])
    assert codes[0] == 0 and codes[1] != 0, [text[-2000:] for _, text in dbt_race["runs"]]
    loser = next(text for code, text in dbt_race["runs"] if code != 0)
    assert f'Could not set lock on file "{dbt_race["db"]}"' in loser
    assert "Conflicting lock is held" in loser


def test_two_consecutive_builds_produce_identical_marts(dbt_race):
    # the race winner rebuilt every model on the sample build's inputs, on top of the sample build's own file: the
    # Python models too (the KMeans clusters, the repeat model and the lifetime-value fits run with fixed seeds)
    rebuilt = model_results(dbt_race["winner_work"])
    assert rebuilt and set(rebuilt.values()) == {"success"}
    python_models = {"cluster_selection", "customer_clusters", "customer_repeat_scores", "clv_model_fit"}
    assert python_models <= {uid.split(".")[-1] for uid in rebuilt}
    after = mart_checksums(dbt_race["db"])
    assert after == dbt_race["first"], [name for name in after if after[name] != dbt_race["first"].get(name)]


def test_after_the_race_the_file_is_intact_and_the_next_builds_succeed(dbt_race, tmp_path):
    db = dbt_race["db"]
    assert mart_checksums(db) == dbt_race["first"]  # opens, every mart readable, same content
    old_orders = query(db, "select count(*) from stg_olist__orders")[0][0]
    # the next builds read an orders file with the last 5 orders left out, so the published stg_olist__orders
    # differs from the one the reader started with (their items become orphans: no test runs in ONE_MODEL)
    raw = copy_raw(tmp_path / "raw")
    header, orders = load(raw, "orders")
    save(raw, "orders", header, orders[:-5])
    # a reader (say a BI tool) stays connected throughout: it neither blocks safe_build nor is disturbed by it
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db), "stg_olist__orders"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True)
    assert reader.stdout.readline().strip() == "connected"
    # the next builds: two safe_builds at once; one publishes, the other stops at once with its own message
    runs = race(start_safe_build, db, tmp_path / "safe", ONE_MODEL, {"raw_data_dir": str(raw)})
    reader_out, _ = reader.communicate("query\n", timeout=60)
    # the reader still sees the version it connected to; a new connection sees the published one
    assert reader.returncode == 0 and int(reader_out) == old_orders
    assert query(db, "select count(*) from stg_olist__orders")[0][0] == old_orders - 5
    winners = [text for code, text in runs if code == 0]
    losers = [(code, text) for code, text in runs if code != 0]
    assert len(winners) == 1 and len(losers) == 1, [text[-2000:] for _, text in runs]
    assert "published" in winners[0]
    code, text = losers[0]
    assert code == 3
    assert f"another build is already running on {db}" in text and "Nothing was changed" in text
    assert mart_checksums(db) == dbt_race["first"]


def test_safe_build_refuses_a_warehouse_open_for_writing(warehouse, tmp_path):
    db, good = warehouse
    holder = duckdb.connect(str(db))  # e.g. a notebook, or a plain dbt build in progress
    try:
        code, out = finish(start_safe_build(db, tmp_path / "busy", ONE_MODEL, {"raw_data_dir": str(SAMPLE_DIR)}),
                           timeout=120)
    finally:
        holder.close()
    assert code == 3
    assert "is open for writing in another process" in out and "Conflicting lock is held" in out
    assert "Nothing was changed" in out
    assert not (tmp_path / "busy" / "target" / "run_results.json").exists()  # dbt never started
    assert mart_checksums(db) == good


def test_safe_build_leaves_out_the_dbt_unit_tests(sample_build, warehouse, tmp_path):
    """make build (safe_build) runs every data test but no dbt unit test (they read only their own given rows:
    make test runs them, in the sample build). The same selector that finds them in the sample build selects
    nothing in a safe build."""
    unit_tests = {uid: s for uid, s in sample_build.statuses().items() if uid.startswith("unit_test.")}
    assert len(unit_tests) >= 10 and set(unit_tests.values()) == {"pass"}
    db, good = warehouse
    code, out = finish(start_safe_build(db, tmp_path / "safe", ["--select", "test_type:unit"],
                                        {"raw_data_dir": str(SAMPLE_DIR)}))
    assert code == 0, out
    results_file = tmp_path / "safe" / "target" / "run_results.json"
    ran = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    assert ran == []
    assert mart_checksums(db) == good
