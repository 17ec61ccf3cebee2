"""Data arriving later: the bundled sample with its last purchase day cut off, then the whole sample (issue 19).

- The property, whatever the materialization: snapshots of months that ended before the cut day, and cohort rows
  of months complete in both builds, are the same with or without the later day.
- with var segment_snapshots_incremental true, segment_snapshots is incremental (delete+insert by snapshot_month;
  by default a table): an incremental build on the whole sample
  over the warehouse of the cut sample equals a full build of the whole sample, table by table, and leaves the
  stored rows of the months before the recomputed ones untouched; so does one after a late order in an old month.
  These builds select segment_snapshots and what it is built from (SNAPSHOT_LINEAGE): the only incremental model
  and its inputs. The marts downstream of it are tables rebuilt whole from those inputs, and the Python models
  (fits, clusters) are not upstream of it: a whole build would add their cost, not a check.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

import benchmark
from conftest import SAMPLE_DIR, UNIT_TESTS, query, run_dbt
from test_bad_input import load, save

ORDER_CHILDREN = ("order_items", "order_payments", "order_reviews")
# segment_snapshots is a table unless this var is true (the full builds compared with: sample_build, a table)
INCREMENTAL = {"segment_snapshots_incremental": True}


def _replaced(row: list[str], index: int, value: str) -> list[str]:
    return [value if i == index else v for i, v in enumerate(row)]


def add_late_order(raw_dir: Path, out: Path, month: str) -> Path:
    """A copy of raw_dir with one more order (a copy of the first delivered order of `month`, YYYY-MM, with new
    ids: same customer, day, items and payments), as if it had arrived late."""
    shutil.copytree(raw_dir, out)
    header, orders = load(raw_dir, "orders")
    order_id, customer_id = header.index("order_id"), header.index("customer_id")
    purchased, status = header.index("order_purchase_timestamp"), header.index("order_status")
    original = next(row for row in orders if row[purchased].startswith(month) and row[status] == "delivered")
    new_order_id, new_customer_id = "late" + "0" * 28, "late" + "1" * 28
    late = _replaced(_replaced(original, order_id, new_order_id), customer_id, new_customer_id)
    save(out, "orders", header, [*orders, late])
    for table in ORDER_CHILDREN[:2]:
        header, rows = load(raw_dir, table)
        child_order_id = header.index("order_id")
        copies = [_replaced(row, child_order_id, new_order_id) for row in rows
                  if row[child_order_id] == original[order_id]]
        assert copies, f"order {original[order_id]} has no row in {table}"
        save(out, table, header, [*rows, *copies])
    header, rows = load(raw_dir, "customers")
    customer_key = header.index("customer_id")
    customer = next(row for row in rows if row[customer_key] == original[customer_id])
    save(out, "customers", header, [*rows, _replaced(customer, customer_key, new_customer_id)])
    return out


# The builds whose warehouses are compared with a full build leave out the data tests too: a warehouse equal to one
# whose tests passed (the sample build, the late full build) passes them all, and the comparison is the check.
WITHOUT_TESTS = ("--exclude", UNIT_TESTS, "resource_type:test")


SNAPSHOT_LINEAGE = ("--select", "+segment_snapshots")


def build(work: Path, raw_dir: Path, db_path: Path | None = None, command: tuple[str, ...] = ("build",),
          extra: tuple[str, ...] = (*WITHOUT_TESTS, *SNAPSHOT_LINEAGE)):
    """dbt `command` on raw_dir into db_path (default: a new warehouse in work); fails the test if dbt fails."""
    db_path = db_path or work / "warehouse.duckdb"
    run = run_dbt([*command, *extra], db_path, work, {"raw_data_dir": str(raw_dir), **INCREMENTAL})
    assert run.returncode == 0, f"dbt {' '.join(command)} on {raw_dir} failed:\n{run.output[-6000:]}"
    return run


def built_tables(run) -> set[str]:
    """The tables (and views) of the models and seeds a dbt run built."""
    return {uid.split(".")[-1] for uid, status in run.statuses().items()
            if uid.split(".")[0] in ("model", "seed") and status == "success"}


def assert_same_tables(got: Path, expected: Path, tables: set[str]) -> None:
    assert len(tables) > 20 and "segment_snapshots" in tables, tables
    # row count and order-free sum of row hashes per table (scripts/benchmark.py, tested in test_benchmark.py);
    # doubles rounded to 10 significant digits (DuckDB's parallel float sums differ in the last bits between builds)
    got_sums, expected_sums = (benchmark.warehouse_checksums(db, tables, significant_digits=10)
                               for db in (got, expected))
    for db, sums in ((got, got_sums), (expected, expected_sums)):
        assert set(sums) == tables, f"missing in {db}: {sorted(tables - set(sums))}"
    differ = sorted(name for name in tables if got_sums[name] != expected_sums[name])
    assert not differ, f"tables that differ from a full build: {differ}"


@pytest.fixture(scope="module")
def cut_sample(tmp_path_factory) -> tuple[Path, str]:
    """(the bundled sample without its last purchase day, that day): scripts/benchmark.py's cut, checked against the
    sample read with the csv module in test_benchmark.py."""
    raw_dir = tmp_path_factory.mktemp("cut") / "raw"
    return raw_dir, benchmark.cut_last_day(SAMPLE_DIR, raw_dir)["day"]


@pytest.fixture(scope="module")
def cut_build(tmp_path_factory, cut_sample) -> Path:
    """Full build of the cut sample (the warehouse the incremental tests start from: copy it, never write it)."""
    work = tmp_path_factory.mktemp("cut_build")
    build(work, cut_sample[0], extra=(*WITHOUT_TESTS, "--full-refresh", *SNAPSHOT_LINEAGE, "+cohort_retention"))
    return work / "warehouse.duckdb"


def test_past_snapshots_and_closed_cohort_months_ignore_a_later_day(cut_sample, cut_build, sample_build):
    raw_dir, day = cut_sample
    full = sample_build.db_path
    # the sample's last purchase day is 2018-09-02, a lone order: August is complete in both builds (reference
    # date 2018-09-01) and the whole sample adds the partial month of September
    snapshot_columns = [name for (name, *_) in query(full, "describe segment_snapshots")]
    months_before_day = f"snapshot_month < date '{day}' - interval 1 month"
    with duckdb.connect() as con:
        con.execute(f"attach '{cut_build}' as cut (read_only)")
        con.execute(f"attach '{full}' as whole (read_only)")
        months = con.execute(f"select count(distinct snapshot_month) from cut.segment_snapshots "
                             f"where {months_before_day}").fetchone()[0]
        assert months >= 12
        for left, right in (("cut", "whole"), ("whole", "cut")):
            missing = con.execute(
                f"select count(*) from (select * from {left}.segment_snapshots where {months_before_day} "
                f"except all select * from {right}.segment_snapshots where {months_before_day})").fetchone()[0]
            assert missing == 0, f"{missing} past snapshot rows of {left} are not in {right} ({snapshot_columns})"
        # cohort_retention: one row per cohort, months_since_first and state; a row whose activity month is
        # complete in both builds is the same, except analysis_date (the day after the latest purchase)
        cohort_columns = ", ".join(name for (name, *_) in query(full, "describe cohort_retention")
                                   if name != "analysis_date")
        closed = con.execute("select count(*) from cut.cohort_retention where is_complete_period").fetchone()[0]
        assert closed > 100
        for left, right in (("cut", "whole"), ("whole", "cut")):
            missing = con.execute(
                f"select count(*) from (select {cohort_columns} from {left}.cohort_retention "
                f"where activity_month + interval 1 month <= date '{day}' "
                f"except all select {cohort_columns} from {right}.cohort_retention)").fetchone()[0]
            assert missing == 0, f"{missing} closed cohort rows of {left} are not in {right}"


def copy_warehouse(source: Path, work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(source, work / "warehouse.duckdb"))


def mark_stored_months(db_path: Path) -> list:
    """Write a marker into one row of every stored month of segment_snapshots (in `segment`, which the change
    fingerprint does not read); returns the months. A month the next run recomputes loses its marker."""
    with duckdb.connect(str(db_path)) as con:
        con.execute("""
            update segment_snapshots set segment = 'stored ' || cast(snapshot_month as varchar)
            where (snapshot_month, customer_unique_id) in (
                select (snapshot_month, min(customer_unique_id)) from segment_snapshots group by snapshot_month
            )""")
        return [month for (month,) in con.execute(
            "select distinct snapshot_month from segment_snapshots order by 1").fetchall()]


def marked_months(db_path: Path) -> list:
    return [month for (month,) in query(
        db_path, "select distinct snapshot_month from segment_snapshots where segment like 'stored %' order by 1")]


def test_incremental_build_after_a_new_day_equals_a_full_build(tmp_path_factory, cut_build, sample_build):
    work = tmp_path_factory.mktemp("incremental_day")
    warehouse = copy_warehouse(cut_build, work)
    run = build(work, SAMPLE_DIR, warehouse)
    assert run.statuses()["model.customer_segmentation.segment_snapshots"] == "success"
    assert_same_tables(warehouse, sample_build.db_path, built_tables(run))


def test_incremental_run_after_a_new_day_rewrites_only_the_latest_stored_month(tmp_path_factory, cut_build):
    work = tmp_path_factory.mktemp("incremental_day_marked")
    warehouse = copy_warehouse(cut_build, work)
    stored = mark_stored_months(warehouse)
    build(work, SAMPLE_DIR, warehouse, command=("run",), extra=SNAPSHOT_LINEAGE)
    # months before the latest stored one (August 2018, complete then) keep their rows; August is recomputed
    assert marked_months(warehouse) == stored[:-1]
    assert query(warehouse, "select max(snapshot_month) from segment_snapshots")[0][0] > stored[-1]


@pytest.fixture(scope="module")
def late_sample(tmp_path_factory) -> Path:
    """The whole sample plus an order placed in March 2017 that arrives late."""
    return add_late_order(SAMPLE_DIR, tmp_path_factory.mktemp("late") / "raw", "2017-03")


def test_incremental_build_after_a_late_order_equals_a_full_build(tmp_path_factory, late_sample, sample_build):
    full_work = tmp_path_factory.mktemp("late_full")
    full = build(full_work, late_sample, extra=("--exclude", UNIT_TESTS, "--full-refresh", *SNAPSHOT_LINEAGE,
                                                "--indirect-selection", "cautious"))
    work = tmp_path_factory.mktemp("late_incremental")
    warehouse = copy_warehouse(sample_build.db_path, work)
    run = build(work, late_sample, warehouse)
    assert built_tables(run) == built_tables(full)
    assert_same_tables(warehouse, full_work / "warehouse.duckdb", built_tables(run))


def test_incremental_run_after_a_late_order_starts_at_its_month(tmp_path_factory, late_sample, sample_build):
    work = tmp_path_factory.mktemp("late_marked")
    warehouse = copy_warehouse(sample_build.db_path, work)
    stored = mark_stored_months(warehouse)
    build(work, late_sample, warehouse, command=("run",), extra=SNAPSHOT_LINEAGE)
    assert marked_months(warehouse) == [month for month in stored if str(month) < "2017-03-01"]
