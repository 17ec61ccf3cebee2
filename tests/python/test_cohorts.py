"""Cohort retention, checked against pandas on the raw CSVs (the hypotheses: test_hypotheses.py).

Every expected figure is recomputed here from the raw files (raw_olist readers): nothing is copied from the SQL.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import query, query_df, run_dbt
from raw_olist import orders_with_customers, read

ROOT = Path(__file__).resolve().parents[2]
VARS = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
ALL = VARS["cohort_all_states_label"]


# ---------------------------------------------------------------------------------------------
# independent pandas frames

def _purchases(raw_dir: Path) -> pd.DataFrame:
    orders = orders_with_customers(raw_dir)
    for col in ("order_id", "customer_id", "customer_unique_id"):
        orders[col] = orders[col].str.strip()
    return orders


def _month_index(ts: pd.Series) -> pd.Series:
    return ts.dt.year * 12 + ts.dt.month - 1


def _index_to_date(index: int):
    return pd.Timestamp(year=index // 12, month=index % 12 + 1, day=1).date()


# ---------------------------------------------------------------------------------------------
# cohort retention

def _expected_cohorts(purchases: pd.DataFrame, analysis_date: pd.Timestamp | None = None) -> dict:
    """The cohort table in pandas from purchase orders (customer_unique_id, order_id, purchased_at,
    customer_state, payment_value): purchases before the analysis date (default: the day after the latest
    purchase day) only; a customer's state is the one of their first purchase order (purchased_at, then
    order_id); the month spine runs to the month of the day before the analysis date; a month is complete when
    its next month starts on or before the analysis date. Key (cohort_month, state | ALL, months since first)
    -> (cohort_size, active customers, revenue, is_complete_period, is_all_states)."""
    days = purchases["purchased_at"].dt.normalize()
    if analysis_date is None:
        analysis_date = days.max() + pd.Timedelta(days=1)
    purchases = purchases[days < analysis_date].copy()
    purchases = purchases.sort_values(["purchased_at", "order_id"], kind="stable")
    first_state = purchases.drop_duplicates("customer_unique_id").set_index("customer_unique_id")["customer_state"]
    purchases["month"] = _month_index(purchases["purchased_at"])
    purchases["cohort"] = purchases.groupby("customer_unique_id")["month"].transform("min")
    purchases["k"] = purchases["month"] - purchases["cohort"]
    purchases["state"] = purchases["customer_unique_id"].map(first_state)
    last_day = analysis_date - pd.Timedelta(days=1)
    last = last_day.year * 12 + last_day.month - 1

    expected = {}
    for frame, is_all in ((purchases.assign(state=ALL), True), (purchases, False)):
        sizes = frame.groupby(["cohort", "state"])["customer_unique_id"].nunique()
        activity = frame.groupby(["cohort", "state", "k"]).agg(
            active=("customer_unique_id", "nunique"), revenue=("payment_value", "sum")
        )
        for (cohort, st), size in sizes.items():
            for k in range(0, last - cohort + 1):
                active, revenue = (
                    activity.loc[(cohort, st, k)].tolist() if (cohort, st, k) in activity.index else (0, 0.0)
                )
                next_month = pd.Timestamp(_index_to_date(cohort + k + 1))
                expected[(_index_to_date(cohort), st, k)] = (size, active, revenue, next_month <= analysis_date, is_all)
    return expected


def _check_cohort_table(db_path, expected: dict, n_customers: int) -> dict:
    rows = query(
        db_path,
        "select cohort_month, first_purchase_state, months_since_first, cohort_size, active_customers, revenue, "
        "retention_rate, activity_month, is_complete_period, is_all_states from cohort_retention",
    )
    got = {(r[0], r[1], r[2]): r[3:] for r in rows}
    assert len(got) == len(rows), "duplicate (cohort, state, month) rows"
    assert set(got) == set(expected)
    for key, (size, active, revenue, complete, is_all) in expected.items():
        g_size, g_active, g_revenue, g_rate, g_activity_month, g_complete, g_all = got[key]
        assert (g_size, g_active) == (size, active), key
        assert float(g_revenue) == pytest.approx(revenue, abs=0.005), key
        assert g_rate == pytest.approx(active / size, rel=1e-12), key
        cohort_index = key[0].year * 12 + key[0].month - 1
        assert g_activity_month == _index_to_date(cohort_index + key[2])
        assert (g_complete, g_all) == (complete, is_all), key
    month0 = [v for k, v in got.items() if k[2] == 0]
    assert all(v[3] == 1 for v in month0)
    # summed over the state rows (not is_all_states) and over the all-states rows, each customer counts once
    assert sum(v[0] for k, v in got.items() if v[6] and k[2] == 0) == n_customers
    assert sum(v[0] for k, v in got.items() if not v[6] and k[2] == 0) == n_customers
    return got


def test_cohort_retention_matches_pandas(any_build):
    """Every row of the mart (ALL and per state at first purchase) against a pandas cohort table built from the
    raw CSVs, including the zero rows: the key set must be exactly cohort x state x months 0..last, and the
    incomplete month flagged."""
    run, raw_dir = any_build
    orders = _purchases(raw_dir)
    customers = read(raw_dir, "customers")
    customers["customer_id"] = customers["customer_id"].str.strip()
    orders = orders.merge(
        customers[["customer_id", "customer_state"]].drop_duplicates("customer_id"), on="customer_id", how="left"
    )
    orders["customer_state"] = orders["customer_state"].str.strip().str.upper()
    purchases = orders[orders["is_purchase"]]
    expected = _expected_cohorts(purchases)
    got = _check_cohort_table(run.db_path, expected, purchases["customer_unique_id"].nunique())
    # the default analysis date is the day after the latest purchase: only the last month can be cut (unless the
    # latest purchase is on a month's last day), and on these data it is
    incomplete = {(k[0].year * 12 + k[0].month - 1 + k[2]) for k, v in got.items() if not v[5]}
    assert len(incomplete) == 1


def test_cohorts_use_the_first_purchase_state_and_an_explicit_analysis_date(sample_build, tmp_path):
    """Planted: a customer buys first from SP, moves to RJ, and last places a canceled order from AC; an explicit
    analysis date in the middle of a month. The customer stays in SP for every month, nothing on or after the
    analysis date counts, the cut month is the only incomplete one, and the whole mart equals the pandas
    reference computed from the planted orders."""
    db = tmp_path / "planted" / sample_build.db_path.name
    db.parent.mkdir()
    shutil.copy(sample_build.db_path, db)
    analysis_date = pd.Timestamp("2018-05-15")
    template = "select * from fct_orders where is_purchase order by order_id limit 1"
    planted = [
        ("planted_1", "2017-03-10 10:00:00", "SP", "delivered", 100),
        ("planted_2", "2017-05-20 10:00:00", "RJ", "delivered", 50),
        ("planted_3", "2018-05-14 23:00:00", "RJ", "delivered", 30),
        ("planted_4", "2018-05-15 00:00:00", "RJ", "delivered", 999),  # on the analysis date: not counted
        ("planted_5", "2018-06-01 09:00:00", "AC", "canceled", 0),     # the latest order: canceled, from AC
    ]
    with duckdb.connect(str(db)) as con:
        for order_id, at, state, status, paid in planted:
            con.execute(
                f"""insert into fct_orders by name
                    select t.* replace (
                        '{order_id}' as order_id, 'planted_mover' as customer_unique_id,
                        timestamp '{at}' as purchased_at, cast(timestamp '{at}' as date) as purchase_date,
                        '{state}' as customer_state, '{status}' as order_status,
                        {str(status != "canceled").lower()} as is_purchase,
                        cast({paid} as decimal(38, 2)) as payment_value
                    ) from ({template}) as t"""
            )
        orders = con.execute(
            "select customer_unique_id, order_id, purchased_at, customer_state, cast(payment_value as double) "
            "as payment_value from fct_orders where is_purchase"
        ).df()
    rebuilt = run_dbt(
        ["run", "--select", "dim_customers int_segmentation__purchases int_cohorts__customer_months cohort_retention"],
        db, tmp_path / "run", {"raw_data_dir": str(ROOT / "data" / "sample"), "analysis_date": "2018-05-15"},
    )
    assert rebuilt.returncode == 0, rebuilt.output[-3000:]
    before = orders[orders["purchased_at"].dt.normalize() < analysis_date]
    got = _check_cohort_table(db, _expected_cohorts(orders, analysis_date), before["customer_unique_id"].nunique())
    activity_months = {pd.Timestamp(k[0]) + pd.DateOffset(months=k[2]): v[5] for k, v in got.items()}
    assert max(activity_months) == pd.Timestamp("2018-05-01")  # nothing after the analysis date's month
    assert {m for m, complete in activity_months.items() if not complete} == {pd.Timestamp("2018-05-01")}
    march = pd.Timestamp("2017-03-01").date()
    assert query(
        db, "select distinct first_purchase_state, cohort_month from int_cohorts__customer_months "
            "where customer_unique_id = 'planted_mover'"
    ) == [("SP", march)]
    # the mover is active in May 2017 and May 2018 under SP, with the purchase of the 14th and not the 999 one
    sp = dict(query(
        db, "select months_since_first, revenue from cohort_retention where cohort_month = ? "
            "and first_purchase_state = 'SP' and months_since_first in (2, 14)", [march],
    ))
    assert float(sp[2]) >= 50 and 30 <= float(sp[14]) < 999
    # what the old definition (dim_customers: the latest order of any status) would have said instead
    assert query(db, "select customer_state from dim_customers where customer_unique_id = 'planted_mover'") == [("AC",)]


def test_cumulative_revenue_per_customer_accumulates(sample_build):
    df = query_df(
        sample_build.db_path,
        "select cohort_month, first_purchase_state, months_since_first, cohort_size, revenue, "
        "revenue_per_cohort_customer, cumulative_revenue_per_cohort_customer from cohort_retention",
    )
    df["revenue"] = df["revenue"].astype(float)
    df = df.sort_values(["cohort_month", "first_purchase_state", "months_since_first"])
    cumulative = df.groupby(["cohort_month", "first_purchase_state"])["revenue"].cumsum() / df["cohort_size"]
    assert np.allclose(df["cumulative_revenue_per_cohort_customer"], cumulative, rtol=1e-9)
    assert np.allclose(df["revenue_per_cohort_customer"], df["revenue"] / df["cohort_size"], rtol=1e-9)
    # the sample has repeat buyers: some cohort gets revenue after month 0, so the test is not vacuous
    assert (df.loc[df["months_since_first"] > 0, "revenue"] > 0).any()
