"""Straightforward pandas version of the project's core outputs, for scripts/benchmark.py.

What an analyst's notebook would do: read the CSVs it needs, roll items, payments and reviews up to
the order, join, then vectorized groupbys for RFM scores, rfm_tier, ABC, XYZ and cohort retention.
The rules are the same as the dbt marts (issues 3 and 4) and their parameters come from the vars in
dbt_project.yml. Money is handled in integer cents so sums are exact, like the SQL decimals.

    .venv/bin/python scripts/bench_pandas.py --raw-dir DIR [--out totals.json]

prints (or writes) the totals the benchmark checks against the dbt marts.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project root: package customer_segmentation

from customer_segmentation.data.olist import FILES  # noqa: E402  (table -> CSV file name, from the sources YAML)


def project_vars(project_file: Path = ROOT / "dbt_project.yml") -> dict:
    """The business-rule vars with their defaults from dbt_project.yml."""
    return yaml.safe_load(project_file.read_text())["vars"]


def _read(raw_dir: Path, table: str, usecols: list[str], dtype: dict, dates: list[str] | None = None):
    frame = pd.read_csv(Path(raw_dir) / FILES[table], usecols=usecols, dtype=dtype, encoding="utf-8-sig")
    for column in dates or []:
        frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d %H:%M:%S")
    return frame


def _cents(values: pd.Series) -> pd.Series:
    return (values.astype("float64") * 100).round().astype("int64")


def order_grain(raw_dir: Path, excluded_statuses: list[str]) -> pd.DataFrame:
    """One row per order: customer, status, purchase flag, items / payments / reviews rolled up."""
    orders = _read(
        raw_dir, "orders", ["order_id", "customer_id", "order_status", "order_purchase_timestamp"],
        {"order_id": str, "customer_id": str, "order_status": str}, ["order_purchase_timestamp"],
    ).drop_duplicates()
    customers = _read(
        raw_dir, "customers", ["customer_id", "customer_unique_id", "customer_state"],
        {"customer_id": str, "customer_unique_id": str, "customer_state": str},
    ).drop_duplicates()
    items = _read(
        raw_dir, "order_items", ["order_id", "order_item_id", "price", "freight_value"],
        {"order_id": str, "order_item_id": "int64", "price": "float64", "freight_value": "float64"},
    ).drop_duplicates()
    payments = _read(
        raw_dir, "order_payments",
        ["order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value"],
        {"order_id": str, "payment_sequential": "int64", "payment_type": str,
         "payment_installments": "Int64", "payment_value": "float64"},
    ).drop_duplicates()
    reviews = _read(raw_dir, "order_reviews", ["order_id", "review_score"],
                    {"order_id": str, "review_score": "Int64"})

    items["price_cents"] = _cents(items["price"])
    items["freight_cents"] = _cents(items["freight_value"])
    items_by_order = items.groupby("order_id").agg(
        item_count=("order_item_id", "size"),
        items_cents=("price_cents", "sum"),
        freight_cents=("freight_cents", "sum"),
    )
    payments["payment_cents"] = _cents(payments["payment_value"])
    payments_by_order = payments.groupby("order_id").agg(
        payment_count=("payment_cents", "size"), payment_cents=("payment_cents", "sum"),
    )
    reviews_by_order = reviews.groupby("order_id").agg(
        review_count=("order_id", "size"), mean_review_score=("review_score", "mean"),
    )

    out = (
        orders.rename(columns={"order_purchase_timestamp": "purchased_at"})
        .merge(customers, on="customer_id", how="left")
        .merge(items_by_order, left_on="order_id", right_index=True, how="left")
        .merge(payments_by_order, left_on="order_id", right_index=True, how="left")
        .merge(reviews_by_order, left_on="order_id", right_index=True, how="left")
    )
    for column in ["item_count", "items_cents", "freight_cents", "payment_count", "payment_cents", "review_count"]:
        out[column] = out[column].fillna(0).astype("int64")
    out["is_purchase"] = ~out["order_status"].isin(excluded_statuses)
    return out


def _score(values: pd.Series, thresholds: np.ndarray) -> np.ndarray:
    """1 + number of thresholds strictly below the value (value <= first threshold -> 1)."""
    return 1 + np.searchsorted(thresholds, values.to_numpy(dtype="float64"), side="left")


def customer_rfm(purchases: pd.DataFrame, rules: dict) -> pd.DataFrame:
    bins = int(rules["rfm_bins"])
    weights = rules["rfm_weights"]
    analysis_date = rules.get("analysis_date")
    purchase_day = purchases["purchased_at"].dt.normalize()
    analysis_day = (
        pd.Timestamp(analysis_date) if analysis_date else purchase_day.max() + pd.Timedelta(days=1)
    )
    rfm = (
        purchases.assign(purchase_day=purchase_day)
        .groupby("customer_unique_id")
        .agg(
            last_day=("purchase_day", "max"),
            first_purchase_at=("purchased_at", "min"),
            frequency=("order_id", "size"),
            monetary_cents=("payment_cents", "sum"),
        )
    )
    rfm["recency_days"] = (analysis_day - rfm["last_day"]).dt.days
    rfm["monetary"] = rfm["monetary_cents"] / 100
    quantiles = [k / bins for k in range(1, bins)]
    for metric, score in [("recency_days", "r_score"), ("frequency", "f_score"), ("monetary", "m_score")]:
        thresholds = rfm[metric].astype("float64").quantile(quantiles, interpolation="linear").to_numpy()
        rfm[score] = _score(rfm[metric], thresholds)
    rfm["r_score"] = bins + 1 - rfm["r_score"]
    if rules.get("rfm_frequency_score", "count") == "count":  # F = purchases capped at rfm_bins
        rfm["f_score"] = rfm["frequency"].clip(upper=bins)
    rfm.attrs["analysis_day"] = analysis_day
    rfm["rfm_weighted"] = (
        weights["r"] * rfm["r_score"] + weights["f"] * rfm["f_score"] + weights["m"] * rfm["m_score"]
    )
    low, high = rules["rfm_tier_percentiles"]
    p_low, p_high = rfm["rfm_weighted"].quantile([low, high], interpolation="linear")
    rfm["rfm_tier"] = np.select(
        [rfm["rfm_weighted"] <= p_low, rfm["rfm_weighted"] > p_high], ["high", "low"], "medium"
    )
    return rfm


def customer_abc_xyz(purchases: pd.DataFrame, rfm: pd.DataFrame, rules: dict) -> pd.DataFrame:
    a_cut, b_cut = rules["abc_thresholds"]
    x_cut, y_cut = rules["xyz_thresholds"]
    abc = (
        rfm[["monetary_cents"]].reset_index()
        .sort_values(["monetary_cents", "customer_unique_id"], ascending=[False, True])
    )
    total = abc["monetary_cents"].sum()
    abc["monetary_share"] = abc["monetary_cents"] / total
    abc["share_before"] = (abc["monetary_cents"].cumsum() - abc["monetary_cents"]) / total
    abc["abc_class"] = np.select(
        [abc["share_before"] < a_cut, abc["share_before"] < b_cut], ["A", "B"], "C"
    )

    # XYZ: spend per month from the first purchase month to the last complete month before the analysis
    # date, zero months included (spend in the incomplete month is left out).
    # Zero months add nothing to the sums, only to the number of periods: closed-form variance.
    month = purchases["purchased_at"].dt.to_period("M")
    monthly = (
        purchases.assign(month=month.astype("int64"))  # months since 1970-01
        .groupby(["customer_unique_id", "month"])["payment_cents"].sum()
        .reset_index()
    )
    # In integer cents, n * sum_sq - total^2 is exact (as the mart's decimals): stddev_pop / mean equals
    # sqrt(n * sum_sq - total^2) / total, so a cv exactly on a threshold classes the same.
    last_complete = (rfm.attrs["analysis_day"].to_period("M") - 1).ordinal  # months since 1970-01
    first_month = monthly.groupby("customer_unique_id")["month"].min()
    monthly = monthly[monthly["month"] <= last_complete].copy()
    monthly["cents_sq"] = monthly["payment_cents"] ** 2
    xyz = monthly.groupby("customer_unique_id").agg(
        total=("payment_cents", "sum"), total_sq=("cents_sq", "sum"),
    ).reindex(first_month.index, fill_value=0)
    xyz["periods_active"] = (last_complete - first_month + 1).clip(lower=0)
    xyz["frequency"] = rfm["frequency"].reindex(xyz.index)
    spread = (xyz["periods_active"] * xyz["total_sq"] - xyz["total"] ** 2).astype("float64")
    xyz["cv"] = np.where(
        (xyz["periods_active"] > 1) & (xyz["total"] > 0),
        np.sqrt(spread.clip(lower=0)) / xyz["total"].where(xyz["total"] > 0).astype("float64"),
        np.nan,
    )
    xyz["xyz_class"] = np.select(
        [xyz["frequency"] == 1, xyz["periods_active"] < int(rules.get("xyz_min_periods", 3)),
         xyz["cv"] <= x_cut, xyz["cv"] <= y_cut],
        ["Single Purchase", "Short History", "X", "Y"], "Z",
    )
    out = abc.set_index("customer_unique_id").join(xyz[["periods_active", "cv", "xyz_class"]], how="inner")
    out["segment"] = out["abc_class"] + "_" + out["xyz_class"]
    return out


def cohort_retention(orders: pd.DataFrame, purchases: pd.DataFrame, rfm: pd.DataFrame) -> pd.DataFrame:
    # the state of the customer's first purchase order (as cohort_retention.first_purchase_state)
    first = purchases.sort_values(["purchased_at", "order_id"]).drop_duplicates("customer_unique_id", keep="first")
    state = first.set_index("customer_unique_id")["customer_state"]
    cohort = pd.DataFrame({
        "cohort": rfm["first_purchase_at"].dt.to_period("M").astype("int64"),
        "customer_state": state.reindex(rfm.index),
    })
    activity = (
        purchases.assign(month=purchases["purchased_at"].dt.to_period("M").astype("int64"))
        .groupby(["customer_unique_id", "month"])["payment_cents"].sum()
        .reset_index()
        .join(cohort, on="customer_unique_id")
    )
    activity["months_since_first"] = activity["month"] - activity["cohort"]
    last_month = int(activity["month"].max())

    frames = []
    for by_state in (True, False):
        keys = ["cohort", "customer_state"] if by_state else ["cohort"]
        sizes = cohort.groupby(keys).size().rename("cohort_size").reset_index()
        active = (
            activity.groupby([*keys, "months_since_first"])
            .agg(active_customers=("customer_unique_id", "size"), revenue_cents=("payment_cents", "sum"))
            .reset_index()
        )
        if not by_state:
            sizes["customer_state"] = "ALL"
            active["customer_state"] = "ALL"
        # every cohort gets every month from 0 to the last month of data (zero rows included)
        spans = last_month - sizes["cohort"] + 1
        grid = sizes.loc[sizes.index.repeat(spans)].copy()
        grid["months_since_first"] = grid.groupby(["cohort", "customer_state"]).cumcount()
        frames.append(
            grid.merge(active, on=["cohort", "customer_state", "months_since_first"], how="left")
        )
    out = pd.concat(frames, ignore_index=True)
    out["active_customers"] = out["active_customers"].fillna(0).astype("int64")
    out["revenue_cents"] = out["revenue_cents"].fillna(0).astype("int64")
    out["retention_rate"] = out["active_customers"] / out["cohort_size"]
    out["revenue"] = out["revenue_cents"] / 100
    out["revenue_per_customer"] = out["revenue"] / out["cohort_size"]
    out = out.sort_values(["cohort", "customer_state", "months_since_first"])
    out["cumulative_revenue_per_customer"] = (
        out.groupby(["cohort", "customer_state"])["revenue"].cumsum() / out["cohort_size"]
    )
    out["cohort_month"] = pd.PeriodIndex.from_ordinals(out["cohort"], freq="M").to_timestamp()
    return out


def run(raw_dir: Path, rules: dict) -> dict:
    """Compute every output; return the totals the benchmark compares, with step timings."""
    timings = {}
    started = time.perf_counter()
    orders = order_grain(raw_dir, rules["revenue_excluded_statuses"])
    timings["order_grain"] = time.perf_counter() - started

    step = time.perf_counter()
    purchases = orders[orders["is_purchase"] & orders["customer_unique_id"].notna()]
    rfm = customer_rfm(purchases, rules)
    timings["rfm"] = time.perf_counter() - step

    step = time.perf_counter()
    abc_xyz = customer_abc_xyz(purchases, rfm, rules)
    timings["abc_xyz"] = time.perf_counter() - step

    step = time.perf_counter()
    cohorts = cohort_retention(orders, purchases, rfm)
    timings["cohort_retention"] = time.perf_counter() - step
    timings["total"] = time.perf_counter() - started

    all_states = cohorts[cohorts["customer_state"] == "ALL"]
    return {
        "orders": int(len(orders)),
        "customers": int(len(rfm)),
        "revenue": int(rfm["monetary_cents"].sum()) / 100,
        "abc": {k: int(v) for k, v in abc_xyz["abc_class"].value_counts().sort_index().items()},
        "xyz": {k: int(v) for k, v in abc_xyz["xyz_class"].value_counts().sort_index().items()},
        "rfm_tier": {k: int(v) for k, v in rfm["rfm_tier"].value_counts().sort_index().items()},
        "cohort_customers": int(all_states.loc[all_states["months_since_first"] == 0, "cohort_size"].sum()),
        "cohort_revenue": int(all_states["revenue_cents"].sum()) / 100,
        "cohort_rows": int(len(cohorts)),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw-dir", type=Path, required=True, help="folder with the Olist CSV files")
    parser.add_argument("--out", type=Path, help="write the totals as JSON here (default: print)")
    args = parser.parse_args()
    totals = run(args.raw_dir, project_vars())
    text = json.dumps(totals, indent=2)
    if args.out:
        args.out.write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
