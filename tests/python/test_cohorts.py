"""Cohort retention, checked against pandas on the raw CSVs (the hypotheses: test_hypotheses.py).

Every expected figure is recomputed here from the raw files (raw_olist readers): nothing is copied from the SQL.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import query, query_df
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

def test_cohort_retention_matches_pandas(any_build):
    """Every row of the mart (ALL and per state) against a pandas cohort table built from the raw CSVs,
    including the zero rows: the key set must be exactly cohort x state x months 0..last."""
    run, raw_dir = any_build
    orders = _purchases(raw_dir)
    customers = read(raw_dir, "customers")
    customers["customer_id"] = customers["customer_id"].str.strip()
    orders = orders.merge(
        customers[["customer_id", "customer_state"]].drop_duplicates("customer_id"), on="customer_id", how="left"
    )
    # dim_customers: the state of the latest order of any status
    latest = orders.sort_values(["purchased_at", "order_id"]).groupby("customer_unique_id").tail(1)
    state = latest.set_index("customer_unique_id")["customer_state"].str.strip().str.upper()

    purchases = orders[orders["is_purchase"]].copy()
    purchases["month"] = _month_index(purchases["purchased_at"])
    purchases["cohort"] = purchases.groupby("customer_unique_id")["month"].transform("min")
    purchases["k"] = purchases["month"] - purchases["cohort"]
    purchases["state"] = purchases["customer_unique_id"].map(state)
    last = purchases["month"].max()

    expected = {}
    for frame in (purchases.assign(state=ALL), purchases):
        sizes = frame.groupby(["cohort", "state"])["customer_unique_id"].nunique()
        activity = frame.groupby(["cohort", "state", "k"]).agg(
            active=("customer_unique_id", "nunique"), revenue=("payment_value", "sum")
        )
        for (cohort, st), size in sizes.items():
            for k in range(0, last - cohort + 1):
                active, revenue = (
                    activity.loc[(cohort, st, k)].tolist() if (cohort, st, k) in activity.index else (0, 0.0)
                )
                expected[(_index_to_date(cohort), st, k)] = (size, active, revenue)

    rows = query(
        run.db_path,
        "select cohort_month, customer_state, months_since_first, cohort_size, active_customers, revenue, "
        "retention_rate, activity_month from cohort_retention",
    )
    got = {(r[0], r[1], r[2]): r[3:] for r in rows}
    assert len(got) == len(rows), "duplicate (cohort, state, month) rows"
    assert set(got) == set(expected)
    for key, (size, active, revenue) in expected.items():
        g_size, g_active, g_revenue, g_rate, g_activity_month = got[key]
        assert (g_size, g_active) == (size, active), key
        assert float(g_revenue) == pytest.approx(revenue, abs=0.005), key
        assert g_rate == pytest.approx(active / size, rel=1e-12), key
        cohort_index = key[0].year * 12 + key[0].month - 1
        assert g_activity_month == _index_to_date(cohort_index + key[2])
    month0 = [v for k, v in got.items() if k[2] == 0]
    assert all(v[3] == 1 for v in month0)
    assert sum(v[0] for k, v in got.items() if k[1] == ALL and k[2] == 0) == purchases["customer_unique_id"].nunique()


def test_cumulative_revenue_per_customer_accumulates(sample_build):
    df = query_df(
        sample_build.db_path,
        "select cohort_month, customer_state, months_since_first, cohort_size, revenue, "
        "revenue_per_cohort_customer, cumulative_revenue_per_cohort_customer from cohort_retention",
    )
    df["revenue"] = df["revenue"].astype(float)
    df = df.sort_values(["cohort_month", "customer_state", "months_since_first"])
    cumulative = df.groupby(["cohort_month", "customer_state"])["revenue"].cumsum() / df["cohort_size"]
    assert np.allclose(df["cumulative_revenue_per_cohort_customer"], cumulative, rtol=1e-9)
    assert np.allclose(df["revenue_per_cohort_customer"], df["revenue"] / df["cohort_size"], rtol=1e-9)
    # the sample has repeat buyers: some cohort gets revenue after month 0, so the test is not vacuous
    assert (df.loc[df["months_since_first"] > 0, "revenue"] > 0).any()
