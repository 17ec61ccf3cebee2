"""Segmentation marts (customer_rfm, customer_abc_xyz, customer_segments, segment_snapshots) against an
independent pandas computation of the same definitions, done here from the raw CSVs.

The reference below never reads the warehouse: purchases, recency, quantile thresholds (numpy's linear
interpolation = percentile_cont), scores, weighted score, rfm_tier, ABC shares (in integer cents) and
XYZ (a full period range with zero periods, population standard deviation) are rebuilt from the files.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE_DIR, query, query_df, run_dbt
from raw_olist import orders_with_customers, read

DEFAULTS = {
    "analysis_date": None,
    "rfm_bins": 4,
    "rfm_weights": {"r": 0.5, "f": 0.3, "m": 0.2},
    "rfm_tier_percentiles": [0.25, 0.75],
    "abc_thresholds": [0.80, 0.95],
    "xyz_period": "month",
    "xyz_thresholds": [0.10, 0.25],
}
PANDAS_PERIOD = {"month": "M", "quarter": "Q", "year": "Y"}


def quantile_score(values: pd.Series, bins: int, reverse: bool = False) -> pd.Series:
    """1 + number of percentile_cont(k/n) thresholds strictly below the value (ties share a score)."""
    thresholds = [np.quantile(values.to_numpy(dtype=float), k / bins) for k in range(1, bins)]
    score = 1 + sum((values.to_numpy(dtype=float) > t).astype(int) for t in thresholds)
    score = pd.Series(score, index=values.index)
    return bins + 1 - score if reverse else score


def reference_segments(raw_dir, **overrides) -> pd.DataFrame:
    """Per customer with a purchase before the analysis date: RFM, rfm_tier, ABC, XYZ and segment."""
    rules = {**DEFAULTS, **overrides}
    orders = orders_with_customers(raw_dir)
    purchases = orders[orders["is_purchase"]].copy()
    purchases["purchase_date"] = purchases["purchased_at"].dt.normalize()
    if rules["analysis_date"] is None:
        analysis_date = purchases["purchase_date"].max() + pd.Timedelta(days=1)
    else:
        analysis_date = pd.Timestamp(rules["analysis_date"])
    purchases = purchases[purchases["purchase_date"] < analysis_date]

    out = purchases.groupby("customer_unique_id").agg(
        last_purchase=("purchase_date", "max"),
        frequency=("order_id", "count"),
        monetary=("payment_value", "sum"),
    )
    out["monetary"] = out["monetary"].round(2)
    out["recency_days"] = (analysis_date - out["last_purchase"]).dt.days

    bins = rules["rfm_bins"]
    out["r_score"] = quantile_score(out["recency_days"], bins, reverse=True)
    out["f_score"] = quantile_score(out["frequency"], bins)
    out["m_score"] = quantile_score(out["monetary"], bins)
    w = rules["rfm_weights"]
    out["rfm_weighted"] = (w["r"] * out["r_score"] + w["f"] * out["f_score"] + w["m"] * out["m_score"]).round(6)
    p_low, p_high = (np.quantile(out["rfm_weighted"], p) for p in rules["rfm_tier_percentiles"])
    out["rfm_tier"] = np.where(
        out["rfm_weighted"] <= p_low, "high", np.where(out["rfm_weighted"] > p_high, "low", "medium")
    )

    # ABC on exact cents: monetary desc, ties by id; share of everyone ranked before
    ranked = out.reset_index().sort_values(["monetary", "customer_unique_id"], ascending=[False, True])
    cents = (ranked["monetary"] * 100).round().astype("int64")
    before = cents.cumsum() - cents
    ranked["share_before"] = before / cents.sum() if cents.sum() > 0 else 0.0
    a_cut, b_cut = rules["abc_thresholds"]
    ranked["abc_class"] = np.where(
        ranked["share_before"] < a_cut, "A", np.where(ranked["share_before"] < b_cut, "B", "C")
    )
    out = out.join(ranked.set_index("customer_unique_id")[["share_before", "abc_class"]])

    # XYZ: spend per period over the full span from the first to the last purchase period, zeros included
    purchases["period"] = purchases["purchase_date"].dt.to_period(PANDAS_PERIOD[rules["xyz_period"]])
    spend = purchases.groupby(["customer_unique_id", "period"])["payment_value"].sum()
    x_cut, y_cut = rules["xyz_thresholds"]
    xyz = {}
    for customer, per_period in spend.groupby(level=0):
        per_period = per_period.droplevel(0)
        full = per_period.reindex(pd.period_range(per_period.index.min(), per_period.index.max()), fill_value=0.0)
        if len(full) == 1:
            xyz[customer] = "Single Purchase"
            continue
        mean = full.mean()
        cv = full.std(ddof=0) / mean if mean > 0 else np.nan
        xyz[customer] = "X" if cv <= x_cut else "Y" if cv <= y_cut else "Z"  # nan -> Z
    out["xyz_class"] = pd.Series(xyz)
    out["segment"] = out["abc_class"] + "_" + out["xyz_class"]
    out.attrs["analysis_date"] = analysis_date
    return out


def latest_state(raw_dir) -> pd.Series:
    """customer_unique_id -> UF of the address of the customer's latest order (any status)."""
    orders = orders_with_customers(raw_dir)
    states = read(raw_dir, "customers")[["customer_id", "customer_state"]]
    orders = orders.merge(states, on="customer_id", how="left")
    latest = orders.sort_values(["purchased_at", "order_id"]).groupby("customer_unique_id").tail(1)
    return latest.set_index("customer_unique_id")["customer_state"].str.strip().str.upper()


def counts(series: pd.Series) -> dict:
    return {str(k): int(v) for k, v in series.value_counts().items()}


def mart(db_path, table: str) -> pd.DataFrame:
    return query_df(db_path, f"select * from {table}").set_index("customer_unique_id")


def assert_same_per_customer(got: pd.DataFrame, expected: pd.DataFrame, columns: list[str]) -> None:
    assert sorted(got.index) == sorted(expected.index)
    got = got.loc[expected.index]
    for column in columns:
        if pd.api.types.is_numeric_dtype(expected[column]):
            mismatched = (got[column].astype(float) != expected[column].astype(float)).sum()
        else:
            mismatched = (got[column].astype(str) != expected[column].astype(str)).sum()
        assert mismatched == 0, f"{column}: {mismatched} customers differ from the pandas reference"


@pytest.fixture(scope="module")
def reference(any_build):
    run, raw_dir = any_build
    return run, reference_segments(raw_dir), raw_dir


def test_rfm_counts_and_scores_match_pandas(reference):
    run, expected, _ = reference
    got = mart(run.db_path, "customer_rfm")
    assert pd.Timestamp(got["analysis_date"].iloc[0]) == expected.attrs["analysis_date"]
    for column in ("rfm_tier", "r_score", "f_score", "m_score"):
        assert counts(got[column]) == counts(expected[column]), column
    assert_same_per_customer(
        got, expected, ["recency_days", "frequency", "r_score", "f_score", "m_score", "rfm_tier"]
    )
    assert np.allclose(got.loc[expected.index, "monetary"].astype(float), expected["monetary"], atol=0.005)
    assert np.allclose(got.loc[expected.index, "rfm_weighted"].astype(float), expected["rfm_weighted"])
    # the documented shape of F: with most customers buying once, single buyers share score 1
    single = expected["frequency"] == 1
    if single.mean() > 1 - 1 / DEFAULTS["rfm_bins"]:
        assert (got.loc[single[single].index, "f_score"] == 1).all()
        assert (got.loc[single[~single].index, "f_score"] == DEFAULTS["rfm_bins"]).all()


def test_abc_xyz_counts_match_pandas(reference):
    run, expected, _ = reference
    got = mart(run.db_path, "customer_abc_xyz")
    for column in ("abc_class", "xyz_class", "segment"):
        assert counts(got[column]) == counts(expected[column]), column
    assert_same_per_customer(got, expected, ["abc_class", "xyz_class", "segment"])
    assert np.allclose(got.loc[expected.index, "share_before"], expected["share_before"], atol=1e-12)
    top = got.sort_values(["monetary", "share_before"], ascending=[False, True]).iloc[0]
    assert top["abc_class"] == "A" and top["share_before"] == 0


def test_customer_segments_answers_segment_state_tier_in_one_query(reference):
    run, expected, raw_dir = reference
    expected = expected.join(latest_state(raw_dir).rename("customer_state"))
    want = expected.groupby(["segment", "customer_state", "rfm_tier"]).size()
    got = query(
        run.db_path,
        """
        select segment, customer_state, rfm_tier, count(*)
        from customer_segments
        where rfm_tier is not null
        group by segment, customer_state, rfm_tier
        """,
    )
    assert {(s, st, c): n for s, st, c, n in got} == {k: int(v) for k, v in want.items()}
    # the question of the issue, as BI would ask it
    a_x_sp_high = query(
        run.db_path,
        "select count(*) from customer_segments"
        " where segment = 'A_X' and customer_state = 'SP' and rfm_tier = 'high'",
    )[0][0]
    assert a_x_sp_high == int(want.get(("A_X", "SP", "high"), 0))
    # one row per person of dim_customers, RFM only for purchasers
    n_rows, n_people, n_scored = query(
        run.db_path,
        "select count(*), count(distinct customer_unique_id), count(rfm_tier) from customer_segments",
    )[0]
    assert n_rows == n_people == query(run.db_path, "select count(*) from dim_customers")[0][0]
    assert n_scored == len(expected)
    # the absolute churn risk covers exactly the same customers
    assert query(run.db_path, "select count(churn_risk), count(churn_probability) from customer_segments")[0] == (
        len(expected), len(expected))


def test_snapshot_is_computed_as_of_its_month_end(reference):
    """A mid-history snapshot equals the whole computation redone with only the purchases up to that month end."""
    run, _, raw_dir = reference
    months = [m for (m,) in query(run.db_path, "select distinct snapshot_month from segment_snapshots order by 1")]
    month = months[len(months) // 2]
    next_month_start = pd.Timestamp(month) + pd.offsets.MonthBegin(1)
    expected = reference_segments(raw_dir, analysis_date=next_month_start)
    got = query_df(
        run.db_path, f"select * from segment_snapshots where snapshot_month = date '{month}'"
    ).set_index("customer_unique_id")
    assert pd.Timestamp(got["as_of_date"].iloc[0]) == next_month_start - pd.Timedelta(days=1)
    assert counts(got["rfm_tier"]) == counts(expected["rfm_tier"])
    assert counts(got["segment"]) == counts(expected["segment"])
    assert_same_per_customer(
        got, expected, ["recency_days", "frequency", "r_score", "f_score", "m_score", "rfm_tier", "segment"]
    )
    # not today's values relabelled by month: customers who have not bought since are exactly
    # (analysis date - snapshot reference date) days more recent in the snapshot than today
    current = mart(run.db_path, "customer_rfm").loc[got.index]
    unchanged = current["frequency"] == got["frequency"]
    shift = (pd.Timestamp(current["analysis_date"].iloc[0]) - next_month_start).days
    assert shift > 0 and unchanged.any()
    assert (current.loc[unchanged, "recency_days"] == got.loc[unchanged, "recency_days"] + shift).all()


def test_customer_segments_contract_is_enforced(sample_build):
    manifest = json.loads((sample_build.db_path.parent / "target" / "manifest.json").read_text())
    node = manifest["nodes"]["model.customer_segmentation.customer_segments"]
    assert node["config"]["contract"]["enforced"] is True
    assert node["columns"] and all(col.get("data_type") for col in node["columns"].values())
    built = {name for (name,) in query(
        sample_build.db_path,
        "select column_name from information_schema.columns where table_name = 'customer_segments'",
    )}
    assert built == set(node["columns"])


VARIANT = {
    "rfm_bins": 5,
    "rfm_weights": {"r": 0.2, "f": 0.4, "m": 0.4},
    "rfm_tier_percentiles": [0.2, 0.6],
    "abc_thresholds": [0.5, 0.9],
    "xyz_period": "quarter",
    "xyz_thresholds": [0.3, 0.6],
}


def test_every_rule_follows_its_var(tmp_path):
    """Rebuild the segmentation marts on the (small) sample with every rule changed and an explicit
    analysis date, then recheck them against pandas run with the same rules."""
    raw_dir = SAMPLE_DIR
    if not raw_dir.exists():
        pytest.fail(f"bundled sample missing at {raw_dir}")
    probe = reference_segments(raw_dir)
    analysis_date = (probe.attrs["analysis_date"] - pd.DateOffset(months=4)).date().isoformat()
    dbt_vars = {"raw_data_dir": str(raw_dir), "analysis_date": analysis_date, **VARIANT}
    run = run_dbt(
        [
            "build", "--indirect-selection", "cautious",
            "--select", "+customer_segments", "+segment_migration", "+segment_summary", "+segment_monthly_summary",
            # the foundation's own data tests already ran in the session builds
            "--exclude", "test_type:data,path:models/staging", "test_type:data,path:models/intermediate",
            "test_type:data,path:models/marts/core", "test_type:data,path:tests/reconciliation",
        ],
        tmp_path / "warehouse.duckdb", tmp_path, dbt_vars,
    )
    assert run.returncode == 0, run.output[-4000:]
    expected = reference_segments(raw_dir, **{k: v for k, v in dbt_vars.items() if k != "raw_data_dir"})
    rfm = mart(run.db_path, "customer_rfm")
    abc_xyz = mart(run.db_path, "customer_abc_xyz")
    assert pd.Timestamp(rfm["analysis_date"].iloc[0]) == pd.Timestamp(analysis_date)
    assert rfm["r_score"].max() == 5
    assert_same_per_customer(rfm, expected, ["recency_days", "frequency", "r_score", "f_score", "m_score", "rfm_tier"])
    assert_same_per_customer(abc_xyz, expected, ["abc_class", "xyz_class", "segment"])
    last_snapshot = query(run.db_path, "select max(as_of_date) from segment_snapshots")[0][0]
    assert pd.Timestamp(last_snapshot) == pd.Timestamp(analysis_date) - pd.Timedelta(days=1)
