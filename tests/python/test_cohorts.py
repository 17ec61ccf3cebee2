"""Cohort retention and the 18 hypotheses, checked against pandas / scipy on the raw CSVs.

Every expected figure is recomputed here from the raw files (raw_olist readers), at the grain the
hypothesis names, with scipy for correlations and normal quantiles: nothing is copied from the SQL.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from conftest import query, query_df, run_dbt
from raw_olist import orders_with_customers, read

ROOT = Path(__file__).resolve().parents[2]
VARS = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
ALPHA = VARS["hypothesis_alpha"]
ALL = VARS["cohort_all_states_label"]
LARGE_CITIES = set(VARS["hypothesis_large_cities"])
PEAK_HOURS = tuple(VARS["hypothesis_peak_hours"])
MIN_GROUP = VARS["hypothesis_min_group_size"]
MIN_ABS_R = VARS["hypothesis_min_abs_correlation"]
CHEAP_QUANTILE = VARS["hypothesis_cheap_price_quantile"]
REVIEW_HYPOTHESES = {"H03", "H07", "H13", "H14", "H15", "H16", "H18"}


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


def _z(comparisons: int = 1) -> float:
    return float(stats.norm.ppf(1 - ALPHA / (2 * comparisons)))


def _result(run, hypothesis_id: str) -> dict:
    df = query_df(run.db_path, f"select * from hypothesis_results where hypothesis_id = '{hypothesis_id}'")
    assert len(df) == 1, f"{hypothesis_id} must have exactly one row"
    return df.iloc[0].to_dict()


def _two_group_check(row: dict, a: pd.Series, b: pd.Series, variance: str, comparisons: int = 1) -> None:
    """value_a/b, n, estimate and CI of a difference of means (ddof 1) or proportions (ddof 0)."""
    ddof = 1 if variance == "samp" else 0
    assert row["n_a"] == len(a) and row["n_b"] == len(b)
    assert row["value_a"] == pytest.approx(a.mean(), rel=1e-9)
    assert row["value_b"] == pytest.approx(b.mean(), rel=1e-9)
    est = a.mean() - b.mean()
    se = np.sqrt(a.var(ddof=ddof) / len(a) + b.var(ddof=ddof) / len(b))
    z = _z(comparisons)
    assert row["comparisons"] == comparisons
    assert row["z_critical"] == pytest.approx(z, rel=1e-7)
    assert row["estimate"] == pytest.approx(est, rel=1e-9, abs=1e-12)
    assert row["ci_low"] == pytest.approx(est - z * se, rel=1e-6, abs=1e-9)
    assert row["ci_high"] == pytest.approx(est + z * se, rel=1e-6, abs=1e-9)


def _verdict(estimate, low, high, direction, min_abs=None) -> str:
    big_enough = min_abs is None or abs(estimate) >= min_abs
    if direction == "positive":
        ok = estimate > 0 and low > 0
    elif direction == "negative":
        ok = estimate < 0 and high < 0
    else:
        ok = low > 0 or high < 0
    return "supported" if ok and big_enough else "not supported"


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


# ---------------------------------------------------------------------------------------------
# hypotheses

def test_hypothesis_results_shape_and_quantiles(any_build):
    run, _ = any_build
    df = query_df(run.db_path, "select * from hypothesis_results order by hypothesis_id")
    assert df["hypothesis_id"].tolist() == [f"H{i:02d}" for i in range(1, 19)]
    computed = df[df["z_critical"].notna()]
    assert len(computed) > 0
    for _, row in computed.iterrows():
        assert row["z_critical"] == pytest.approx(_z(int(row["comparisons"])), rel=1e-7), row["hypothesis_id"]
    assert ((df["n"] == 0) == (df["verdict"] == "no data")).all()


def test_review_hypotheses_report_no_data_on_the_real_subset(real_subset_build):
    df = query_df(real_subset_build.db_path, "select hypothesis_id, requires, n, verdict from hypothesis_results")
    reviews = df[df["requires"] == "reviews"]
    assert set(reviews["hypothesis_id"]) == REVIEW_HYPOTHESES
    assert (reviews["n"] == 0).all() and (reviews["verdict"] == "no data").all()
    others = df[df["requires"].isin(["purchases", "payments"])]
    assert (others["n"] > 0).all() and (others["verdict"] != "no data").all()


def test_review_hypotheses_are_computed_when_reviews_exist(sample_build):
    df = query_df(sample_build.db_path, "select hypothesis_id, n, verdict from hypothesis_results")
    assert (df["n"] > 0).all()
    assert not (df["verdict"] == "no data").any()


def test_h01_and_h17_large_cities(any_build):
    run, raw_dir = any_build
    orders = _purchases(raw_dir)
    customers = read(raw_dir, "customers")
    customers["customer_id"] = customers["customer_id"].str.strip()
    orders = orders.merge(customers[["customer_id", "customer_city"]], on="customer_id", how="left")
    orders["large"] = orders["customer_city"].str.strip().str.lower().isin(LARGE_CITIES)
    purchases = orders[orders["is_purchase"]]

    # H17: order grain, city of the order's address
    row = _result(run, "H17")
    _two_group_check(row, purchases.loc[purchases["large"], "payment_value"],
                     purchases.loc[~purchases["large"], "payment_value"], "samp")
    assert row["verdict"] == _verdict(row["estimate"], row["ci_low"], row["ci_high"], "positive")

    # H01: customer grain, city of the latest order (any status), purchases per customer
    latest = orders.sort_values(["purchased_at", "order_id"]).groupby("customer_unique_id").tail(1)
    large = latest.set_index("customer_unique_id")["large"]
    counts = purchases.groupby("customer_unique_id").size()
    is_large = counts.index.map(large).astype(bool)
    row = _result(run, "H01")
    _two_group_check(row, counts[is_large], counts[~is_large], "samp")
    assert row["n"] == len(counts)


def test_h04_payment_type_at_order_grain(any_build):
    run, raw_dir = any_build
    orders = _purchases(raw_dir)
    payments = read(raw_dir, "order_payments").drop_duplicates()
    payments["order_id"] = payments["order_id"].str.strip()
    payments["payment_value"] = payments["payment_value"].astype(float)
    payments["payment_sequential"] = payments["payment_sequential"].astype(int)
    payments["payment_type"] = payments["payment_type"].str.strip().str.lower()
    main = (
        payments.sort_values(["order_id", "payment_value", "payment_sequential"], ascending=[True, False, True])
        .drop_duplicates("order_id")[["order_id", "payment_type"]]
    )
    units = orders[orders["is_purchase"]].merge(main, on="order_id", how="inner")
    groups = units.groupby("payment_type")["payment_value"]
    eligible = groups.mean()[groups.size() >= MIN_GROUP].sort_values(kind="stable")
    high = eligible.index[eligible.values == eligible.max()].min()
    low = eligible.index[eligible.values == eligible.min()].min()
    k = len(eligible)
    row = _result(run, "H04")
    assert (row["group_a"], row["group_b"]) == (high, low)
    _two_group_check(
        row,
        units.loc[units["payment_type"] == high, "payment_value"],
        units.loc[units["payment_type"] == low, "payment_value"],
        "samp",
        comparisons=k * (k - 1) // 2,
    )
    assert row["n"] == len(units)
    assert row["verdict"] == _verdict(row["estimate"], row["ci_low"], row["ci_high"], "any")


def test_h02_h05_product_correlations_match_scipy(any_build):
    run, raw_dir = any_build
    orders = _purchases(raw_dir)
    items = read(raw_dir, "order_items")
    items["order_id"] = items["order_id"].str.strip()
    items["product_id"] = items["product_id"].str.strip()
    purchase_ids = set(orders.loc[orders["is_purchase"], "order_id"])
    sold = items[items["order_id"].isin(purchase_ids)].drop_duplicates(["product_id", "order_id"])
    per_product = sold.groupby("product_id").size().rename("orders").reset_index()
    products = read(raw_dir, "products")
    products["product_id"] = products["product_id"].str.strip()
    products = products.drop_duplicates("product_id").merge(per_product, on="product_id")
    for hypothesis_id, column in [("H02", "product_photos_qty"), ("H05", "product_description_lenght")]:
        pairs = products[[column, "orders"]].dropna().astype(float)
        res = stats.pearsonr(pairs[column], pairs["orders"])
        ci = res.confidence_interval(1 - ALPHA)
        row = _result(run, hypothesis_id)
        assert row["n"] == len(pairs)
        assert row["estimate"] == pytest.approx(res.statistic, abs=1e-9)
        assert row["ci_low"] == pytest.approx(ci.low, abs=1e-7)
        assert row["ci_high"] == pytest.approx(ci.high, abs=1e-7)
        assert row["verdict"] == _verdict(res.statistic, ci.low, ci.high, "positive", min_abs=MIN_ABS_R)


def test_h09_h10_time_of_purchase(any_build):
    run, raw_dir = any_build
    purchases = _purchases(raw_dir)
    purchases = purchases[purchases["is_purchase"]]
    n = len(purchases)

    inside = purchases["purchased_at"].dt.hour.between(*PEAK_HOURS)
    share, expected = inside.mean(), (PEAK_HOURS[1] - PEAK_HOURS[0] + 1) / 24
    se = np.sqrt(share * (1 - share) / n)
    row = _result(run, "H09")
    assert (row["n"], row["n_a"]) == (n, inside.sum())
    assert row["estimate"] == pytest.approx(share - expected, rel=1e-9)
    assert row["ci_low"] == pytest.approx(share - expected - _z() * se, rel=1e-6)

    counts = purchases["purchased_at"].dt.day_of_week.value_counts()       # 0 = Monday
    shares = counts / n
    names = ["1 Monday", "2 Tuesday", "3 Wednesday", "4 Thursday", "5 Friday", "6 Saturday", "7 Sunday"]
    p1, p2 = shares.max(), shares.min()
    se = np.sqrt((p1 + p2 - (p1 - p2) ** 2) / n)
    k = len(counts)
    row = _result(run, "H10")
    assert row["group_a"] == names[min(counts.index[counts == counts.max()])]
    assert row["group_b"] == names[min(counts.index[counts == counts.min()])]
    assert row["estimate"] == pytest.approx(p1 - p2, rel=1e-9)
    assert row["ci_high"] == pytest.approx(p1 - p2 + _z(k * (k - 1) // 2) * se, rel=1e-6)


def test_h12_first_purchase_price_class(any_build):
    run, raw_dir = any_build
    orders = _purchases(raw_dir)
    purchases = orders[orders["is_purchase"]].sort_values(["purchased_at", "order_id"])
    counts = purchases.groupby("customer_unique_id").size()
    first = purchases.drop_duplicates("customer_unique_id")
    items = read(raw_dir, "order_items")
    items["order_id"] = items["order_id"].str.strip()
    items["price"] = items["price"].astype(float)
    mean_price = items.groupby("order_id")["price"].mean()
    first = first.assign(price=first["order_id"].map(mean_price)).dropna(subset=["price"])
    cut = np.percentile(first["price"], CHEAP_QUANTILE * 100)         # linear, as percentile_cont
    repeat = first["customer_unique_id"].map(counts).ge(2).astype(float)
    cheap = first["price"] <= cut
    row = _result(run, "H12")
    _two_group_check(row, repeat[cheap], repeat[~cheap], "pop")


def test_h07_h18_delivery_and_review_score(any_build):
    run, raw_dir = any_build
    orders = _purchases(raw_dir)
    reviews = read(raw_dir, "order_reviews")
    if reviews.empty:
        for hypothesis_id in ("H07", "H18"):
            row = _result(run, hypothesis_id)
            assert (row["n"], row["verdict"]) == (0, "no data")
        return
    reviews["order_id"] = reviews["order_id"].str.strip()
    reviews["review_id"] = reviews["review_id"].str.strip()
    for col in ("review_creation_date", "review_answer_timestamp"):
        reviews[col] = pd.to_datetime(reviews[col])
    scored = reviews.dropna(subset=["review_score"]).sort_values(
        ["order_id", "review_creation_date", "review_answer_timestamp", "review_id"],
        ascending=[True, False, False, True], na_position="last",
    )
    latest = scored.drop_duplicates("order_id").set_index("order_id")["review_score"].astype(float)
    delivered = pd.to_datetime(orders["order_delivered_customer_date"])
    orders["delivery_days"] = (delivered.dt.normalize() - orders["purchased_at"].dt.normalize()).dt.days
    orders["score"] = orders["order_id"].map(latest)
    units = orders[orders["is_purchase"]].dropna(subset=["delivery_days", "score"])

    res = stats.pearsonr(units["delivery_days"], units["score"])
    ci = res.confidence_interval(1 - ALPHA)
    row = _result(run, "H07")
    assert row["n"] == len(units)
    assert row["estimate"] == pytest.approx(res.statistic, abs=1e-9)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), abs=1e-7)

    row = _result(run, "H18")
    _two_group_check(row, units.loc[units["score"] == 1, "delivery_days"],
                     units.loc[units["score"] == 5, "delivery_days"], "samp")


def test_analyses_render_the_same_figures_as_the_mart(sample_build, tmp_path):
    """analyses/h01..h18 compile and run, and their detail reproduces the mart's values (no drift)."""
    files = sorted(p.name for p in (ROOT / "analyses").glob("h*.sql"))
    assert [f[:3] for f in files] == [f"h{i:02d}" for i in range(1, 19)]
    catalog = query_df(sample_build.db_path, "select hypothesis_id, short_name from hypothesis_catalog")
    assert sorted(f"{i.lower()}_{s}.sql" for i, s in catalog.itertuples(index=False)) == files

    run = run_dbt(["compile", "--select", "path:analyses"], sample_build.db_path, tmp_path,
                  {"raw_data_dir": str(ROOT / "data" / "sample")})
    assert run.returncode == 0, run.output[-3000:]
    compiled = tmp_path / "target" / "compiled" / "customer_segmentation" / "analyses"
    mart = query_df(sample_build.db_path, "select * from hypothesis_results").set_index("hypothesis_id")
    for name in files:
        detail = query_df(sample_build.db_path, (compiled / name).read_text())
        assert len(detail) > 0, name
        row = mart.loc[re.match(r"h(\d\d)", name).group(0).upper()]
        if row["method"] == "pearson correlation":
            assert detail["n_units"].sum() == row["n"], name
            continue
        if row["method"] == "share minus expected share":
            inside = detail[detail["is_in_claimed_set"]]
            assert inside["share"].sum() == pytest.approx(row["value_a"], rel=1e-9), name
            assert (inside["n_units"].sum(), detail["n_units"].sum()) == (row["n_a"], row["n"]), name
            continue
        by_group = detail.set_index("group_label")
        value_col = "mean_value" if "mean_value" in by_group else "share"
        for side in ("a", "b"):
            group = row[f"group_{side}"]
            assert by_group.loc[group, value_col] == pytest.approx(row[f"value_{side}"], rel=1e-12), name
            assert by_group.loc[group, "n_units"] == row[f"n_{side}"], name
