"""Data arriving later: the bundled sample with its last purchase day cut off, then the whole sample (issue 19).

The property, whatever the materialization: snapshots of months that ended before the cut day, and cohort rows
of months complete in both builds, are the same with or without the later day.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import SAMPLE_DIR, UNIT_TESTS, query, run_dbt

ORDERS = "olist_orders_dataset.csv"
ORDER_CHILDREN = ("olist_order_items_dataset.csv", "olist_order_payments_dataset.csv",
                  "olist_order_reviews_dataset.csv")
CUSTOMERS = "olist_customers_dataset.csv"


def _read(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def last_purchase_day(raw_dir: Path) -> str:
    return max(row["order_purchase_timestamp"][:10] for row in _read(raw_dir / ORDERS)[1])


def cut_day(raw_dir: Path, out: Path, day: str) -> Path:
    """A copy of raw_dir without the orders placed on `day` and their items, payments, reviews and customer rows
    (an Olist customer_id belongs to one order)."""
    shutil.copytree(raw_dir, out)
    header, orders = _read(raw_dir / ORDERS)
    dropped = [row for row in orders if row["order_purchase_timestamp"].startswith(day)]
    assert dropped, f"no order on {day}"
    dropped_ids = {row["order_id"] for row in dropped}
    _write(out / ORDERS, header, [row for row in orders if row["order_id"] not in dropped_ids])
    for name in ORDER_CHILDREN:
        header, rows = _read(raw_dir / name)
        _write(out / name, header, [row for row in rows if row["order_id"] not in dropped_ids])
    kept_customers = {row["customer_id"] for row in orders if row["order_id"] not in dropped_ids}
    header, rows = _read(raw_dir / CUSTOMERS)
    _write(out / CUSTOMERS, header, [row for row in rows if row["customer_id"] in kept_customers])
    return out


def build(work: Path, raw_dir: Path, db_path: Path | None = None, command: tuple[str, ...] = ("build",),
          extra: tuple[str, ...] = ("--exclude", UNIT_TESTS)):
    """dbt `command` on raw_dir into db_path (default: a new warehouse in work); fails the test if dbt fails."""
    db_path = db_path or work / "warehouse.duckdb"
    run = run_dbt([*command, *extra], db_path, work, {"raw_data_dir": str(raw_dir)})
    assert run.returncode == 0, f"dbt {' '.join(command)} on {raw_dir} failed:\n{run.output[-6000:]}"
    return run


def table_checksums(db_path: Path) -> dict[str, tuple]:
    """Row count and order-free sum of row hashes of every table and view of the main schema; doubles rounded
    to 10 significant digits (DuckDB's parallel float sums differ in the last bits between two builds)."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        names = [name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' order by 1").fetchall()]
        sums = {}
        for name in names:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns where table_schema = 'main' "
                "and table_name = ? order by ordinal_position", [name]).fetchall()
            values = []
            for column, data_type in columns:
                value = f'"{column}"'
                if data_type in ("DOUBLE", "FLOAT", "REAL"):
                    value = (f"case when {value} is null or isnan({value}) or isinf({value}) or {value} = 0 "
                             f"then {value} else round({value}, 9 - cast(floor(log10(abs({value}))) as int)) end")
                values.append(value)
            sums[name] = con.execute(
                f'select count(*), coalesce(sum(hash({", ".join(values)})), 0) from "{name}"').fetchone()
        return sums


def assert_same_warehouses(got: Path, expected: Path) -> None:
    got_sums, expected_sums = table_checksums(got), table_checksums(expected)
    assert set(got_sums) == set(expected_sums)
    differ = sorted(name for name in got_sums if got_sums[name] != expected_sums[name])
    assert not differ, f"tables that differ from a full build: {differ}"


@pytest.fixture(scope="module")
def cut_sample(tmp_path_factory) -> tuple[Path, str]:
    """(the bundled sample without its last purchase day, that day)."""
    day = last_purchase_day(SAMPLE_DIR)
    return cut_day(SAMPLE_DIR, tmp_path_factory.mktemp("cut") / "raw", day), day


@pytest.fixture(scope="module")
def cut_build(tmp_path_factory, cut_sample) -> Path:
    """Full build of the cut sample (the warehouse the incremental tests start from: copy it, never write it)."""
    work = tmp_path_factory.mktemp("cut_build")
    build(work, cut_sample[0], extra=("--exclude", UNIT_TESTS, "--full-refresh"))
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

