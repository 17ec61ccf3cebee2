"""Churn probability and churn risk (issue 14) against references that do not reuse the project's SQL.

* An independent Kaplan-Meier in pandas/numpy, written here from the raw CSVs (purchase days, gaps, censoring at
  the as-of date, top-down pooling of sparse buckets, the constant-hazard tail where fewer than churn_min_episodes
  gaps are at risk), must give the same curve and per-customer probability as
  int_churn__gap_survival / customer_churn / segment_snapshots, on the bundled sample and the real subset.
* Planted data sets in the Olist layout (written here) where the answer is known by construction: a customer
  silent longer has a lower return probability than one with the same history silent shorter, and more purchase
  days mean a higher return probability.
* Appending purchases after a month end changes nothing in that or any earlier snapshot.
* churn_risk is the same function of churn_probability in every month; the backtest's Brier score and ROC AUC
  equal sklearn's on the per-customer outcomes rebuilt from the raw files.
* BTYD churn (var churn_model) on generated Pareto/NBD data where the models are identified: the backtest rows
  of each identified model equal a recomputation from the purchases known at each month end and the fit on
  purchases before calibration_end (<= the month end's cutoff), on the same customers as empirical; auto picks
  the lowest like-for-like Brier score; bg_nbd replaces customer_churn's probability with the analysis-date
  fit's; a model not identified (the sample) leaves churn empirical and says why.

Rules (horizon, buckets, minimum episodes, thresholds) are read from dbt_project.yml, never restated here.
"""
from __future__ import annotations

import csv
import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import brier_score_loss, roc_auc_score

from conftest import ROOT, SAMPLE_DIR, UNIT_TESTS, prefetchable, query, query_df, run_dbt
from customer_segmentation.ml import clv, clv_pipeline
from raw_olist import FILES, orders_with_customers

VARS = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
HORIZON = VARS["churn_horizon_days"]
BUCKETS = list(VARS["churn_purchase_count_buckets"])
MIN_EPISODES = VARS["churn_min_episodes"]
THRESHOLDS = VARS["churn_risk_thresholds"]
BACKTEST_MONTHS = VARS["churn_backtest_months"]
CHURN_SELECT = ["+customer_churn", "+segment_snapshots", "+churn_backtest", "+churn_backtest_calibration"]


# --------------------------------------------------------------------------------------------- reference

def purchase_days(raw_dir: Path) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Distinct purchase days per customer (purchases only) and the default analysis date."""
    orders = orders_with_customers(raw_dir)
    purchases = orders[orders["is_purchase"]].copy()
    purchases["day"] = purchases["purchased_at"].dt.normalize()
    assert VARS["analysis_date"] is None, "these references assume the default analysis date"
    analysis_date = purchases["day"].max() + pd.Timedelta(days=1)
    days = purchases[["customer_unique_id", "day"]].drop_duplicates().sort_values(["customer_unique_id", "day"])
    return days.reset_index(drop=True), analysis_date


def raw_bucket(k: int) -> int:
    return max(b for b in BUCKETS if b <= k)


def episodes_as_of(days: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every purchase day up to as_of opens a gap: an event if the next purchase day is <= as_of, else censored
    at as_of - day. Columns: customer_unique_id, day, k (purchase-day number), bucket, time, event."""
    known = days[days["day"] <= as_of].copy()
    known["k"] = known.groupby("customer_unique_id").cumcount() + 1
    # the next purchase day in the FULL data; it only counts when it is known at as_of
    nxt = days.copy()
    nxt["next_day"] = nxt.groupby("customer_unique_id")["day"].shift(-1)
    known = known.merge(nxt, on=["customer_unique_id", "day"], how="left")
    known["event"] = known["next_day"].notna() & (known["next_day"] <= as_of)
    known["time"] = np.where(
        known["event"], (known["next_day"] - known["day"]).dt.days, (as_of - known["day"]).dt.days
    ).astype(int)
    known["bucket"] = known["k"].map(raw_bucket)
    return known


def pool_buckets(episodes: pd.DataFrame) -> dict[int, int]:
    """raw bucket -> bucket whose curve it uses: from the top, a bucket with fewer than MIN_EPISODES episodes
    (its own plus what was merged into it) merges into the next lower bucket; the lowest always stands."""
    counts = episodes["bucket"].value_counts().to_dict()
    heads: dict[int, int] = {}
    carried: list[int] = []
    carried_count = 0
    for b in sorted(BUCKETS, reverse=True):
        carried.append(b)
        carried_count += counts.get(b, 0)
        if carried_count >= MIN_EPISODES or b == BUCKETS[0]:
            for raw in carried:
                heads[raw] = b
            carried, carried_count = [], 0
    return heads


def kaplan_meier(time: np.ndarray, event: np.ndarray):
    """Classic product-limit estimator over the distinct event times: returns S as a step function."""
    event_times = np.unique(time[event])
    factors = []
    for t in event_times:
        at_risk = np.sum(time >= t)
        died = np.sum((time == t) & event)
        factors.append(1.0 - died / at_risk)
    survival = np.cumprod(factors) if factors else np.array([])

    def s(x):
        x = np.asarray(x)
        idx = np.searchsorted(event_times, x, side="right")  # number of event times <= x
        return np.where(idx == 0, 1.0, survival[np.maximum(idx - 1, 0)] if len(survival) else 1.0)

    return s


def survival_with_tail(time: np.ndarray, event: np.ndarray):
    """The product-limit curve up to the first day t0 >= 1 with fewer than MIN_EPISODES gaps at risk, then
    S(t0 - 1) * exp(-h * (t - t0 + 1)) with h = events / gap-days at risk over days max(1, t0 - H) .. t0 - 1."""
    km = kaplan_meier(time, event)
    ordered = np.sort(time)
    days = np.arange(1, time.max() + 2)
    at_risk = len(ordered) - np.searchsorted(ordered, days, side="left")
    t0 = int(days[np.argmax(at_risk < MIN_EPISODES)])
    window = np.arange(max(1, t0 - HORIZON), t0)
    exposure = (len(ordered) - np.searchsorted(ordered, window, side="left")).sum()
    events = np.isin(time[event], window).sum()
    hazard = events / exposure if exposure else 0.0
    base = float(km(t0 - 1))

    def s(x):
        x = np.asarray(x)
        return np.where(x < t0, km(x), base * np.exp(-hazard * (x - t0 + 1)))

    return s, km


def reference_churn(days: pd.DataFrame, as_of: pd.Timestamp) -> tuple[pd.DataFrame, dict]:
    """Per customer with a purchase day <= as_of: purchase days, days silent, return and churn probability."""
    episodes = episodes_as_of(days, as_of)
    heads = pool_buckets(episodes)
    episodes["pool"] = episodes["bucket"].map(heads)
    fitted = {
        pool: survival_with_tail(part["time"].to_numpy(), part["event"].to_numpy())
        for pool, part in episodes.groupby("pool")
    }
    curves = {pool: pair[0] for pool, pair in fitted.items()}
    km_curves = {pool: pair[1] for pool, pair in fitted.items()}
    last = episodes.groupby("customer_unique_id").agg(purchase_days=("k", "max"), last_day=("day", "max"))
    last["days_silent"] = (as_of - last["last_day"]).dt.days
    last["pool"] = last["purchase_days"].map(raw_bucket).map(heads)
    prob = np.empty(len(last))
    for pool, idx in last.groupby("pool").indices.items():
        d = last["days_silent"].to_numpy()[idx]
        s_d, s_dh = curves[pool](d), curves[pool](d + HORIZON)
        prob[idx] = (s_d - s_dh) / s_d
    last["return_probability"] = prob
    last["churn_probability"] = 1 - prob
    last["churn_risk"] = [risk_label(p) for p in last["churn_probability"]]
    return last, {"heads": heads, "curves": curves, "km_curves": km_curves}


def risk_label(churn_probability: float) -> str:
    if churn_probability >= THRESHOLDS["high"]:
        return "high"
    if churn_probability <= THRESHOLDS["low"]:
        return "low"
    return "medium"


def month_end(snapshot_month) -> pd.Timestamp:
    return pd.Timestamp(snapshot_month) + pd.offsets.MonthEnd(0)


# --------------------------------------------------------------------------------------------- KM vs SQL

@pytest.fixture(scope="module")
def churn_reference(any_build):
    run, raw_dir = any_build
    days, analysis_date = purchase_days(raw_dir)
    return run, raw_dir, days, analysis_date


def test_current_churn_equals_an_independent_kaplan_meier(churn_reference):
    run, _, days, analysis_date = churn_reference
    as_of = analysis_date - pd.Timedelta(days=1)
    expected, ref = reference_churn(days, as_of)
    got = query_df(run.db_path, "select * from customer_churn").set_index("customer_unique_id")
    assert sorted(got.index) == sorted(expected.index)
    got = got.loc[expected.index]
    assert (got["purchase_days"].to_numpy() == expected["purchase_days"].to_numpy()).all()
    assert (got["days_silent"].to_numpy() == expected["days_silent"].to_numpy()).all()
    np.testing.assert_allclose(got["churn_probability"].astype(float), expected["churn_probability"], atol=1e-9)
    assert (got["churn_risk"] == expected["churn_risk"]).all()
    assert (pd.to_datetime(got["as_of_date"]) == as_of).all()
    # the reason quotes the probability it explains, and the horizon
    pct = (100 * expected["return_probability"]).round(1)
    for customer in expected.index[:: max(1, len(expected) // 50)]:
        reason = got.at[customer, "churn_reason"]
        assert f"silent {expected.at[customer, 'days_silent']} day" in reason
        assert f"{pct[customer]:.1f} % bought again within {HORIZON} days" in reason, reason

    # the whole last curve, day by day, per pooled bucket
    curve = query_df(
        run.db_path,
        "select churn_bucket, gap_days, survival, km_survival from int_churn__gap_survival"
        " where snapshot_month = (select max(snapshot_month) from int_churn__gap_survival)",
    )
    assert set(curve["churn_bucket"]) == set(ref["heads"].values())
    for pool, part in curve.groupby("churn_bucket"):
        np.testing.assert_allclose(part["km_survival"], ref["km_curves"][pool](part["gap_days"].to_numpy()), atol=1e-9)
        np.testing.assert_allclose(part["survival"], ref["curves"][pool](part["gap_days"].to_numpy()), atol=1e-9)


def test_mid_history_snapshot_uses_only_gaps_known_at_its_month_end(churn_reference):
    run, _, days, _ = churn_reference
    months = [m for (m,) in query(run.db_path, "select distinct snapshot_month from segment_snapshots order by 1")]
    for month in (months[len(months) // 2], months[-3]):
        as_of = month_end(month)
        expected, ref = reference_churn(days, as_of)
        got = query_df(
            run.db_path,
            f"select * from segment_snapshots where snapshot_month = date '{month}'",
        ).set_index("customer_unique_id")
        assert sorted(got.index) == sorted(expected.index)
        got = got.loc[expected.index]
        assert (got["days_silent"].to_numpy() == expected["days_silent"].to_numpy()).all()
        assert (got["purchase_days"].to_numpy() == expected["purchase_days"].to_numpy()).all()
        np.testing.assert_allclose(got["churn_probability"].astype(float), expected["churn_probability"], atol=1e-9)
        assert (got["churn_risk"] == expected["churn_risk"]).all()
        pools = dict(
            query(
                run.db_path,
                "select purchase_day_bucket, churn_bucket from int_churn__bucket_pools "
                f"where snapshot_month = date '{month}'",
            )
        )
        assert pools == ref["heads"]


def test_churn_risk_uses_the_same_absolute_thresholds_in_every_month(any_build):
    run, _ = any_build
    snaps = query_df(
        run.db_path, "select snapshot_month, churn_probability, churn_risk, rfm_tier from segment_snapshots"
    )
    expected = snaps["churn_probability"].map(risk_label)
    assert (snaps["churn_risk"] == expected).all()
    # not a percentile tier: the share of 'high' follows the probabilities, while rfm_tier stays near its percentile
    shares = snaps.groupby("snapshot_month")["churn_risk"].apply(lambda s: (s == "high").mean())
    big = snaps.groupby("snapshot_month").size() >= 200
    assert (shares[big] > 0.5).all(), "with ~97 % one-time buyers most customers are unlikely to buy again"
    tier_high = snaps.groupby("snapshot_month")["rfm_tier"].apply(lambda s: (s == "high").mean())
    assert (tier_high[big] < 0.5).all()


def test_customer_segments_carries_the_churn_columns(any_build):
    run, _ = any_build
    mismatches = query(
        run.db_path,
        """
        select count(*)
        from customer_segments
        inner join customer_churn using (customer_unique_id)
        inner join customer_rfm using (customer_unique_id)
        where customer_segments.churn_probability <> customer_churn.churn_probability
            or customer_segments.churn_risk <> customer_churn.churn_risk
            or customer_segments.churn_reason <> customer_churn.churn_reason
            or customer_segments.rfm_tier <> customer_rfm.rfm_tier
        """,
    )[0][0]
    assert mismatches == 0


# --------------------------------------------------------------------------------------------- backtest

def test_backtest_metrics_match_sklearn_on_outcomes_from_the_raw_files(churn_reference):
    run, _, days, analysis_date = churn_reference
    last_as_of = analysis_date - pd.Timedelta(days=1)
    snaps = query_df(
        run.db_path,
        "select snapshot_month, as_of_date, customer_unique_id, days_silent, churn_probability, rfm_tier"
        " from segment_snapshots",
    )
    snaps["as_of_date"] = pd.to_datetime(snaps["as_of_date"])
    month_ends = snaps.groupby("snapshot_month")["as_of_date"].first().sort_index()
    complete = month_ends[month_ends + pd.Timedelta(days=HORIZON) <= last_as_of]
    calibratable = complete[complete >= complete.min() + pd.Timedelta(days=HORIZON)]
    chosen = calibratable.sort_index().tail(BACKTEST_MONTHS)
    got_months = [
        pd.Timestamp(m)
        for (m,) in query(
            run.db_path,
            "select backtest_month from churn_backtest where scope = 'month' and model = 'empirical' order by 1",
        )
    ]
    assert got_months == [pd.Timestamp(m) for m in chosen.index]
    if chosen.empty:
        pytest.skip("no month end with a complete horizon")

    # outcome from the raw purchase days: any purchase day in (as_of, as_of + H]
    rows = snaps[snaps["snapshot_month"].isin(chosen.index)].copy()
    merged = rows.merge(days.rename(columns={"day": "later_day"}), on="customer_unique_id")
    merged = merged[(merged["later_day"] > merged["as_of_date"])
                    & (merged["later_day"] <= merged["as_of_date"] + pd.Timedelta(days=HORIZON))]
    returned = merged.groupby(["snapshot_month", "customer_unique_id"]).size().rename("n").reset_index()
    rows = rows.merge(returned, on=["snapshot_month", "customer_unique_id"], how="left")
    rows["y"] = rows["n"].notna().astype(int)
    # the backtest groups customers on their probability rounded to 12 places (README: engines and DuckDB's own
    # parallel sums differ in the last bits, so equal probabilities must compare as ties)
    rows["p"] = (1 - rows["churn_probability"].astype(float)).round(12)

    backtest = query_df(run.db_path, "select * from churn_backtest")
    emp = backtest[backtest["model"] == "empirical"]
    pooled = emp[emp["scope"] == "all months"].iloc[0]
    assert pooled["customer_count"] == len(rows) and pooled["returned_count"] == rows["y"].sum()
    assert np.isclose(pooled["brier_score"], brier_score_loss(rows["y"], rows["p"]), atol=1e-12)
    if 0 < rows["y"].sum() < len(rows):
        assert np.isclose(pooled["roc_auc"], roc_auc_score(rows["y"], rows["p"]), atol=1e-9)
    for month, part in rows.groupby("snapshot_month"):
        got = emp[(emp["scope"] == "month") & (pd.to_datetime(emp["backtest_month"]) == pd.Timestamp(month))].iloc[0]
        assert np.isclose(got["brier_score"], brier_score_loss(part["y"], part["p"]), atol=1e-12)
        if 0 < part["y"].sum() < len(part):
            assert np.isclose(got["roc_auc"], roc_auc_score(part["y"], part["p"]), atol=1e-9)

    # rfm_tier: AUC of the tier order, probability = the tier's rate over earlier complete month ends
    tier_score = rows["rfm_tier"].map({"high": 0, "medium": 1, "low": 2})
    tier_rows = backtest[(backtest["model"] == "rfm_tier") & (backtest["scope"] == "all months")].iloc[0]
    if 0 < rows["y"].sum() < len(rows):
        assert np.isclose(tier_rows["roc_auc"], roc_auc_score(rows["y"], tier_score), atol=1e-9)
    assert tier_rows["brier_score"] == tier_rows["brier_score"]  # every backtest month has a calibration period
    scored = backtest["customer_count"].notna()
    assert backtest.loc[scored, "verdict"].str.startswith("AUC ").all()
    # a BTYD model that is not scored (the sample: none identified) says why in a row, never silently
    not_scored = backtest[~scored]
    assert set(not_scored["model"]) <= {"bg_nbd", "mbg_nbd", "pareto_nbd"}
    assert not_scored["verdict"].str.startswith("not scored: ").all()
    assert set(backtest["model"]) >= {"empirical", "rfm_tier", "bg_nbd", "mbg_nbd", "pareto_nbd"}


# --------------------------------------------------------------------------------------------- planted data

ORDER_COLUMNS = ["order_id", "customer_id", "order_status", "order_purchase_timestamp", "order_approved_at",
                 "order_delivered_carrier_date", "order_delivered_customer_date", "order_estimated_delivery_date"]


def write_planted(raw_dir: Path, purchases: dict[str, list[date]]) -> None:
    """Olist-layout CSVs with one delivered order per (customer, date); product, seller, geolocation and
    category files are copied from the bundled sample, reviews are header-only."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    for table in ("products", "sellers", "geolocation", "category_translation"):
        shutil.copy(SAMPLE_DIR / FILES[table], raw_dir / FILES[table])
    item = next(csv.DictReader((SAMPLE_DIR / FILES["order_items"]).open(encoding="utf-8-sig")))
    zip_prefix = next(csv.DictReader((SAMPLE_DIR / FILES["customers"]).open(encoding="utf-8-sig")))
    orders, customers, items, payments = [], [], [], []
    n = 0
    for person, dates in sorted(purchases.items()):
        for d in dates:
            n += 1
            order_id, customer_id = f"o{n:06d}", f"c{n:06d}"
            ts = f"{d.isoformat()} 10:00:00"
            later = (d + timedelta(days=3)).isoformat() + " 10:00:00"
            orders.append([order_id, customer_id, "delivered", ts, ts, later, later, later])
            customers.append([customer_id, person, zip_prefix["customer_zip_code_prefix"],
                              zip_prefix["customer_city"], zip_prefix["customer_state"]])
            items.append([order_id, 1, item["product_id"], item["seller_id"], later, "50.00", "10.00"])
            payments.append([order_id, 1, "credit_card", 1, "60.00"])

    def write(table, header, rows):
        with (raw_dir / FILES[table]).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)

    write("orders", ORDER_COLUMNS, orders)
    write("customers", ["customer_id", "customer_unique_id", "customer_zip_code_prefix", "customer_city",
                        "customer_state"], customers)
    write("order_items", ["order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date", "price",
                          "freight_value"], items)
    write("order_payments", ["order_id", "payment_sequential", "payment_type", "payment_installments",
                             "payment_value"], payments)
    write("order_reviews", ["review_id", "order_id", "review_score", "review_comment_title", "review_comment_message",
                            "review_creation_date", "review_answer_timestamp"], [])


END = date(2019, 12, 31)  # latest purchase: as_of_date of the last snapshot


def planted_purchases() -> dict[str, list[date]]:
    """Returns get likelier with every purchase day, and all returns come within ~45 days:
    - 40 loyal customers: 5 purchase days, gaps 20-39, 25-34, 25, 30 days;
    - 40 two-timers: 2 purchase days 30-44 days apart;
    - 200 one-timers spread over 2018-2019;
    - probes, all as of END: x_silent_20 / x_silent_35 / x_silent_300 (1 purchase day), y_two_days_silent_20
      (2 purchase days), z_three_days_silent_20 (3 purchase days)."""
    start = date(2018, 1, 5)
    out: dict[str, list[date]] = {}
    for i in range(40):
        d0 = start + timedelta(days=3 * i)
        gaps = [20 + i % 20, 25 + i % 10, 25, 30]
        dates = [d0]
        for g in gaps:
            dates.append(dates[-1] + timedelta(days=g))
        out[f"loyal_{i:02d}"] = dates
    for i in range(40):
        d0 = date(2018, 2, 1) + timedelta(days=4 * i)
        out[f"two_{i:02d}"] = [d0, d0 + timedelta(days=30 + i % 15)]
    for i in range(200):
        out[f"one_{i:03d}"] = [date(2018, 1, 3) + timedelta(days=3 * i)]
    out["last_buyer"] = [END]
    out["x_silent_20"] = [END - timedelta(days=20)]
    out["x_silent_35"] = [END - timedelta(days=35)]
    out["x_silent_300"] = [END - timedelta(days=300)]
    out["y_two_days_silent_20"] = [END - timedelta(days=60), END - timedelta(days=20)]
    out["z_three_days_silent_20"] = [END - timedelta(days=100), END - timedelta(days=60), END - timedelta(days=20)]
    return out


def build_churn(raw_dir: Path, work: Path, select: list[str] = CHURN_SELECT):
    """The unit tests run in the sample build (conftest.UNIT_TESTS: their result does not depend on the data)."""
    run = run_dbt(["build", "--indirect-selection", "cautious", "--select", *select, "--exclude", UNIT_TESTS],
                  work / "warehouse.duckdb", work, {"raw_data_dir": str(raw_dir)})
    assert run.returncode == 0, run.output[-5000:]
    return run


@prefetchable("churn_planted", "planted", __file__)
def _build_planted(work: Path):
    write_planted(work / "raw", planted_purchases())
    return build_churn(work / "raw", work / "build")


@pytest.fixture(scope="module")
def planted(prefetch):
    """Built in the background (conftest.Prefetch)."""
    return prefetch.result("churn_planted")


def test_planted_longer_silence_means_lower_return_probability(planted):
    p = dict(query(planted.db_path, "select customer_unique_id, return_probability from customer_churn"))
    silent = dict(query(planted.db_path, "select customer_unique_id, days_silent from customer_churn"))
    assert silent["x_silent_20"] == 20 and silent["x_silent_35"] == 35 and silent["x_silent_300"] == 300
    # same history (1 purchase day), longer silence: fewer of the customers still silent that long come back
    assert p["x_silent_20"] > p["x_silent_35"] > p["x_silent_300"]
    assert p["x_silent_300"] == 0  # nobody in the data ever returned after 300 silent days (and many were watched)


def test_planted_more_purchase_days_mean_higher_return_probability(planted):
    rows = query_df(planted.db_path, "select * from customer_churn").set_index("customer_unique_id")
    one, two, three = (rows.loc[c] for c in ("x_silent_20", "y_two_days_silent_20", "z_three_days_silent_20"))
    assert (one["days_silent"], two["days_silent"], three["days_silent"]) == (20, 20, 20)
    assert (one["purchase_days"], two["purchase_days"], three["purchase_days"]) == (1, 2, 3)
    assert one["return_probability"] < two["return_probability"] < three["return_probability"]
    assert one["churn_risk"] != "low" and three["churn_risk"] != "high"
    labels = set(rows.loc[["x_silent_20", "y_two_days_silent_20", "z_three_days_silent_20"], "churn_bucket_label"])
    assert labels == {"1", "2", "3+"}


def test_unknown_churn_model_stops_the_compile(planted, tmp_path):
    raw_dir = Path(planted.db_path).parent.parent / "raw"
    for value, fragment in (("magic", "var churn_model must be one of"), ("pareto", "var churn_model must be one of")):
        run = run_dbt(["compile", "--select", "customer_churn"], tmp_path / f"{value}.duckdb", tmp_path / value,
                      {"raw_data_dir": str(raw_dir), "churn_model": value})
        assert run.returncode != 0
        assert fragment in run.output, run.output[-2000:]


# --------------------------------------------------------------------------------------------- no future data

def test_purchases_after_a_month_end_change_nothing_up_to_it(sample_build, tmp_path):
    """Append purchases (returning customers and new ones) after a mid-history month end to a copy of the
    sample: every snapshot up to that month, its survival curves and bucket pools stay exactly the same."""
    months = [
        m for (m,) in query(sample_build.db_path, "select distinct snapshot_month from segment_snapshots order by 1")
    ]
    cut_month = months[len(months) // 2]
    cut = month_end(cut_month)
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_DIR, raw)
    orders = pd.read_csv(raw / FILES["orders"], dtype=str, keep_default_na=False)
    customers = pd.read_csv(raw / FILES["customers"], dtype=str, keep_default_na=False)
    payments = pd.read_csv(raw / FILES["order_payments"], dtype=str, keep_default_na=False)
    existing = orders.merge(customers, on="customer_id")
    existing = existing[pd.to_datetime(existing["order_purchase_timestamp"]) <= cut].head(60)
    latest = pd.to_datetime(orders["order_purchase_timestamp"]).max()
    new_orders, new_customers, new_payments = [], [], []
    for i, row in enumerate(existing.itertuples(index=False)):
        when = cut + pd.Timedelta(days=1 + (i * 7) % max(1, (latest - cut).days - 1), hours=9)
        person = row.customer_unique_id if i % 3 else f"brand_new_{i:03d}"
        order_id, customer_id = f"future_order_{i:03d}", f"future_customer_{i:03d}"
        ts = when.strftime("%Y-%m-%d %H:%M:%S")
        new_orders.append({**{c: "" for c in orders.columns}, "order_id": order_id, "customer_id": customer_id,
                           "order_status": "delivered", "order_purchase_timestamp": ts, "order_approved_at": ts,
                           "order_estimated_delivery_date": ts})
        new_customers.append({"customer_id": customer_id, "customer_unique_id": person,
                              "customer_zip_code_prefix": row.customer_zip_code_prefix,
                              "customer_city": row.customer_city, "customer_state": row.customer_state})
        new_payments.append({"order_id": order_id, "payment_sequential": "1", "payment_type": "credit_card",
                             "payment_installments": "1", "payment_value": "42.00"})
    pd.concat([orders, pd.DataFrame(new_orders)]).to_csv(raw / FILES["orders"], index=False)
    pd.concat([customers, pd.DataFrame(new_customers)]).to_csv(raw / FILES["customers"], index=False)
    pd.concat([payments, pd.DataFrame(new_payments)]).to_csv(raw / FILES["order_payments"], index=False)

    # only the tables compared (and their parents): none of them reads the BTYD fits, which the 40 returning
    # customers appended here would otherwise trigger (the sample alone has too few repeat customers to fit)
    run = build_churn(
        raw, tmp_path / "build", ["+segment_snapshots", "+int_churn__gap_survival", "+int_churn__bucket_pools"]
    )
    tables = {
        "segment_snapshots": "snapshot_month, customer_unique_id",
        "int_churn__gap_survival": "snapshot_month, churn_bucket, gap_days",
        "int_churn__bucket_pools": "snapshot_month, purchase_day_bucket",
    }
    for table, key in tables.items():
        sql = f"select * from {table} where snapshot_month <= date '{cut_month}' order by {key}"
        before, after = query_df(sample_build.db_path, sql), query_df(run.db_path, sql)
        assert len(before) > 0
        # floats to the last bits DuckDB's parallel sums leave (labels, counts and dates exactly)
        pd.testing.assert_frame_equal(before, after, check_exact=False, rtol=1e-12, atol=1e-15, obj=table)
    # ...while the later months did see the new purchases
    later = f"select count(*), sum(churn_probability) from segment_snapshots where snapshot_month > date '{cut_month}'"
    assert query(sample_build.db_path, later) != query(run.db_path, later)


# --------------------------------------------------------------------------------------------- BTYD churn
# Generated data (scripts/generate_olist.py simulates Pareto/NBD lifetimes) with a larger repeat share than the
# sample, so the BTYD models are identified; half the history held out so month ends with a whole horizon lie
# after the backtest's calibration_end.
BTYD_PLANTED = {"btyd_r": 0.55, "btyd_alpha": 10.6, "btyd_s": 0.61, "btyd_beta": 11.7}
BTYD_VARS = {"clv_backtest_holdout_share": 0.5, "churn_model": "auto"}
TIME_UNIT = VARS["clv_time_unit_days"]


@prefetchable("churn_btyd_planted", "btyd_planted", __file__)
def _build_btyd_planted(work: Path):
    from generate_olist import generate

    generate(3000, 11, work / "raw", **BTYD_PLANTED)
    # no unit tests: they pin churn_model and no unit-tested model reads clv_backtest_holdout_share
    # (conftest.UNIT_TESTS)
    run = run_dbt(["build", "--indirect-selection", "cautious", "--select", *CHURN_SELECT, "--exclude", UNIT_TESTS],
                  work / "build" / "warehouse.duckdb", work / "build", {"raw_data_dir": str(work / "raw"), **BTYD_VARS})
    assert run.returncode == 0, run.output[-5000:]
    return run, work / "raw"


@pytest.fixture(scope="module")
def btyd_planted(prefetch):
    """Built in the background (conftest.Prefetch)."""
    return prefetch.result("churn_btyd_planted")


def _btyd_summary(days: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """(frequency, recency, T) in time units from the raw purchase days before `cutoff`, per customer."""
    known = days[days["day"] < cutoff]
    g = known.groupby("customer_unique_id")["day"]
    first, last, n = g.min(), g.max(), g.size()
    return pd.DataFrame({
        "frequency": (n - 1).astype(float),
        "recency": (last - first).dt.days / TIME_UNIT,
        "T": (cutoff - first).dt.days / TIME_UNIT,
    })


def _fit_parameters(db_path, table: str) -> dict[str, dict[str, float]]:
    fits = clv_pipeline.fits_from_table(query_df(db_path, f"select * from {table}"))
    return {k: v for k, v in fits.items() if k in ("bg_nbd", "mbg_nbd", "pareto_nbd") and v["is_identified"]}


def test_btyd_backtest_rows_use_only_a_fit_and_purchases_before_their_date(btyd_planted):
    """The identified BTYD models of clv_backtest_fit get rows; each month end's predictions equal an independent
    recomputation from the raw purchases known at that month end and the calibration fit, whose calibration_end
    is not after the month end's cutoff; pooled Brier / AUC match sklearn on the same customers as empirical."""
    run, raw = btyd_planted
    days, _ = purchase_days(raw)
    identified = _fit_parameters(run.db_path, "clv_backtest_fit")
    assert identified, "the planted data should identify at least one BTYD model on the calibration period"
    backtest = query_df(run.db_path, "select * from churn_backtest")
    assert set(backtest.loc[backtest["scope"] == "btyd months", "model"]) == {"empirical", "rfm_tier", *identified}
    for name in {"bg_nbd", "mbg_nbd", "pareto_nbd"} - set(identified):
        row = backtest[backtest["model"] == name]
        assert len(row) == 1 and row["verdict"].iloc[0].startswith("not scored: not identified")

    (calibration_end,) = query(run.db_path, "select max(fit_date) from clv_backtest_fit")[0]
    months = query_df(
        run.db_path, "select snapshot_month, as_of_date from int_churn__backtest_months where is_btyd_month"
    )
    assert len(months) >= 2
    assert (pd.to_datetime(months["as_of_date"]) + pd.Timedelta(days=1) >= pd.Timestamp(calibration_end)).all()
    predictions = query_df(run.db_path, "select * from int_churn__btyd_backtest_predictions")
    assert set(predictions["model"]) == set(identified)
    snaps = query_df(run.db_path, "select snapshot_month, customer_unique_id from segment_snapshots")
    pooled = {name: [] for name in identified}
    for month, as_of in months.itertuples(index=False):
        cutoff = pd.Timestamp(as_of) + pd.Timedelta(days=1)
        summary = _btyd_summary(days, cutoff)
        customers = set(snaps.loc[pd.to_datetime(snaps["snapshot_month"]) == pd.Timestamp(month), "customer_unique_id"])
        assert set(summary.index) == customers
        later = days[(days["day"] >= cutoff) & (days["day"] <= cutoff + pd.Timedelta(days=HORIZON - 1))]
        y = summary.index.isin(later["customer_unique_id"]).astype(int)
        for name, fit in identified.items():
            expected = 1 - clv.probability_no_purchase(
                name, fit["parameters"], summary["frequency"], summary["recency"], summary["T"], HORIZON / TIME_UNIT
            )
            got = predictions[(pd.to_datetime(predictions["snapshot_month"]) == pd.Timestamp(month))
                              & (predictions["model"] == name)].set_index("customer_unique_id").loc[summary.index]
            np.testing.assert_allclose(got["return_probability"], expected, rtol=1e-9)
            np.testing.assert_array_equal(got["returned"], y)
            pooled[name].append(pd.DataFrame({"y": y, "p": expected}))
    empirical = backtest[(backtest["scope"] == "btyd months") & (backtest["model"] == "empirical")].iloc[0]
    for name, parts in pooled.items():
        rows = pd.concat(parts)
        got = backtest[(backtest["scope"] == "btyd months") & (backtest["model"] == name)].iloc[0]
        assert got["customer_count"] == len(rows) == empirical["customer_count"]
        assert got["returned_count"] == rows["y"].sum() == empirical["returned_count"]
        assert np.isclose(got["brier_score"], brier_score_loss(rows["y"], rows["p"]), atol=1e-12)
        assert np.isclose(got["roc_auc"], roc_auc_score(rows["y"], rows["p"]), atol=1e-9)
    calibration = query_df(run.db_path, "select * from churn_backtest_calibration where scope = 'btyd months'")
    counts = calibration.groupby("model")["customer_count"].sum()
    assert (counts == empirical["customer_count"]).all() and set(counts.index) == {"empirical", "rfm_tier", *identified}


def test_btyd_churn_model_auto_picks_the_lowest_brier_and_feeds_customer_churn(btyd_planted):
    run, _ = btyd_planted
    like_for_like = query_df(run.db_path, "select model, brier_score from churn_backtest where scope = 'btyd months'")
    at_analysis = _fit_parameters(run.db_path, "clv_model_fit")
    candidates = like_for_like[like_for_like["model"].isin(["empirical", *at_analysis])]
    best = candidates.sort_values("brier_score").iloc[0]["model"]
    (used, reason), = query(run.db_path, "select model_used, churn_model_reason from churn_model_selection")
    assert used == best and reason.startswith("var churn_model = auto")
    churn = query_df(run.db_path, "select * from customer_churn")
    assert (churn["churn_model"] == "auto").all() and (churn["churn_model_used"] == best).all()
    if best != "empirical":
        scores = query_df(run.db_path, f"select customer_unique_id, return_probability from int_churn__btyd_scores"
                                       f" where model = '{best}'").set_index("customer_unique_id")
        got = churn.set_index("customer_unique_id")
        np.testing.assert_allclose(got["return_probability"], scores.loc[got.index, "return_probability"], rtol=1e-12)
        assert (got["return_probability"] - got["empirical_return_probability"]).abs().mean() > 0.01


def test_btyd_churn_model_bg_nbd_uses_the_analysis_date_fit(btyd_planted, tmp_path):
    """churn_model = bg_nbd: customer_churn's return probability is 1 - P(no purchase within H) of the BG/NBD of
    clv_model_fit, recomputed here from the raw purchases before the analysis date; churn_risk follows it; the
    Kaplan-Meier estimate stays in empirical_return_probability and segment_snapshots is unchanged."""
    run, raw = btyd_planted
    identified = _fit_parameters(run.db_path, "clv_model_fit")
    assert "bg_nbd" in identified
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(run.db_path, db)
    snapshots_before = query_df(db, "select * from segment_snapshots order by snapshot_month, customer_unique_id")
    rerun = run_dbt(["run", "--select", "churn_model_selection", "customer_churn"], db, tmp_path,
                    {"raw_data_dir": str(raw), **BTYD_VARS, "churn_model": "bg_nbd"})
    assert rerun.returncode == 0, rerun.output[-3000:]
    churn = query_df(db, "select * from customer_churn").set_index("customer_unique_id")
    assert (churn["churn_model_used"] == "bg_nbd").all()
    days, analysis_date = purchase_days(raw)
    summary = _btyd_summary(days, analysis_date).loc[churn.index]
    expected = 1 - clv.probability_no_purchase("bg_nbd", identified["bg_nbd"]["parameters"], summary["frequency"],
                                               summary["recency"], summary["T"], HORIZON / TIME_UNIT)
    np.testing.assert_allclose(churn["return_probability"], expected, rtol=1e-9)
    np.testing.assert_allclose(churn["churn_probability"], 1 - expected, rtol=1e-9)
    assert (churn["churn_risk"] == [risk_label(c) for c in 1 - expected]).all()
    assert not np.allclose(churn["return_probability"], churn["empirical_return_probability"])
    assert churn["churn_reason"].str.contains("the bg_nbd model fit on the purchases before the analysis date").all()
    snapshots_after = query_df(db, "select * from segment_snapshots order by snapshot_month, customer_unique_id")
    pd.testing.assert_frame_equal(snapshots_before, snapshots_after)


def test_btyd_churn_model_not_identified_stays_empirical_and_says_so(sample_build, tmp_path):
    """On the sample no BTYD model is identified: churn_model = pareto_nbd keeps the Kaplan-Meier churn and the
    reason names the verdict."""
    (verdict,) = query(sample_build.db_path, "select verdict from clv_model_fit where model = 'pareto_nbd'")[0]
    if verdict == "identified":
        pytest.skip("pareto_nbd is identified on this sample")
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_build.db_path, db)
    rerun = run_dbt(["run", "--select", "churn_model_selection", "customer_churn"], db, tmp_path,
                    {"churn_model": "pareto_nbd"})
    assert rerun.returncode == 0, rerun.output[-3000:]
    churn = query_df(db, "select * from customer_churn")
    before = query_df(sample_build.db_path, "select customer_unique_id, return_probability from customer_churn")
    assert (churn["churn_model"] == "pareto_nbd").all() and (churn["churn_model_used"] == "empirical").all()
    assert (
        churn["churn_model_reason"]
        .str.contains(f"pareto_nbd is not identified.*{verdict}.*churn stays empirical")
        .all()
    )
    merged = churn.merge(before, on="customer_unique_id", suffixes=("", "_before"))
    assert len(merged) == len(before)
    np.testing.assert_array_equal(merged["return_probability"], merged["return_probability_before"])
    np.testing.assert_array_equal(merged["return_probability"], merged["empirical_return_probability"])


def test_btyd_backtest_at_calibration_end_when_no_month_end_qualifies(btyd_planted, tmp_path):
    """calibration_end just after the last month end with a whole horizon: no month end is on or after it, so the
    models are compared at calibration_end itself, on the customers of the month end before it, with BTYD
    predictions recomputed from the purchases before calibration_end; the month-end pools are unchanged."""
    run, raw = btyd_planted
    days, analysis_date = purchase_days(raw)
    last_as_of = analysis_date - pd.Timedelta(days=1)
    ends = [
        pd.Timestamp(d) for (d,) in query(run.db_path, "select as_of_date from int_churn__backtest_months order by 1")
    ]
    latest = ends[-1]
    if latest + pd.Timedelta(days=HORIZON) >= last_as_of:
        pytest.skip("no room for a calibration_end between the last complete month end and its horizon")
    calibration_end = latest + pd.Timedelta(days=2)
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(run.db_path, db)
    rerun = run_dbt(
        [
            "build",
            "--indirect-selection",
            "cautious",
            "--select",
            "int_clv__backtest_summary",
            "clv_backtest_fit",
            "int_churn__backtest_months",
            "int_churn__btyd_backtest_states",
            "int_churn__btyd_backtest_predictions",
            "int_churn__backtest_groups",
            "churn_backtest",
            "churn_backtest_calibration",
            "churn_model_selection",
            "customer_churn",
        ],
        db,
        tmp_path,
        {"raw_data_dir": str(raw), **BTYD_VARS, "clv_backtest_calibration_end": f"{calibration_end:%Y-%m-%d}"},
    )
    assert rerun.returncode == 0, rerun.output[-4000:]
    identified = _fit_parameters(db, "clv_backtest_fit")
    assert identified
    assert query(db, "select count(*) from int_churn__backtest_months where is_btyd_month") == [(0,)]
    as_of = calibration_end - pd.Timedelta(days=1)
    backtest = query_df(db, "select * from churn_backtest")
    at_date = backtest[pd.to_datetime(backtest["backtest_month"]) == as_of]
    assert set(at_date["model"]) == {"empirical", "rfm_tier", *identified}
    assert at_date["customer_count"].nunique() == 1
    pooled = backtest[backtest["scope"] == "btyd months"].set_index("model")
    for name in at_date["model"]:
        assert pooled.loc[name, "brier_score"] == pytest.approx(at_date.set_index("model").loc[name, "brier_score"])
    before = query_df(
        run.db_path,
        "select model, customer_count, brier_score from churn_backtest where scope = 'all months'"
        " and model in ('empirical', 'rfm_tier') order by model",
    )
    after = query_df(db, "select model, customer_count, brier_score from churn_backtest where scope = 'all months'"
                         " and model in ('empirical', 'rfm_tier') order by model")
    pd.testing.assert_frame_equal(before, after)

    summary = _btyd_summary(days, calibration_end)
    states = query_df(db, "select * from int_churn__btyd_backtest_states").set_index("customer_unique_id")
    assert states["is_calibration_end"].all() and states["empirical_return_probability"].notna().all()
    month_customers = {c for (c,) in query(db, "select customer_unique_id from segment_snapshots where as_of_date = ?",
                                           [latest.date()])}
    assert set(states.index) == month_customers
    summary = summary.loc[states.index]
    later = days[(days["day"] >= calibration_end) & (days["day"] < calibration_end + pd.Timedelta(days=HORIZON))]
    np.testing.assert_array_equal(states["returned"], states.index.isin(later["customer_unique_id"]).astype(int))
    predictions = query_df(db, "select * from int_churn__btyd_backtest_predictions")
    for name, fit in identified.items():
        got = predictions[predictions["model"] == name].set_index("customer_unique_id").loc[summary.index]
        expected = 1 - clv.probability_no_purchase(name, fit["parameters"], summary["frequency"], summary["recency"],
                                                   summary["T"], HORIZON / TIME_UNIT)
        np.testing.assert_allclose(got["return_probability"], expected, rtol=1e-9)
        row = at_date.set_index("model").loc[name]
        assert np.isclose(
            row["brier_score"], brier_score_loss(states["returned"], got["return_probability"]), atol=1e-12
        )
