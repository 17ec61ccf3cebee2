"""Entry points of the CLV and BTYD churn dbt Python models: the typed model config (config.ClvSettings,
config.ChurnBtydConfig, rendered from the clv_* and churn_* vars) in, output table out. The statistics live in
customer_segmentation.ml.clv (fits through pymc-marketing, vectorized scoring tested against it); this module only
shapes tables.

Inputs are the SQL summaries int_clv__customer_summary / int_clv__backtest_summary, whose btyd_* columns are
renamed here to pymc-marketing's names (frequency, recency, T, monetary_value).
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from customer_segmentation.ml import clv
from customer_segmentation.ml.config import ClvConfig, as_str
from customer_segmentation.ml.frames import as_relation, empty, to_pandas
from customer_segmentation.ml.pipeline import fetch, log

TRANSACTION_MODELS = clv.TRANSACTION_MODELS
SPEND_MODEL = "gamma_gamma"
# every parameter any model has, one nullable column each in clv_model_fit / clv_backtest_fit
PARAMETER_COLUMNS = ("r", "alpha", "a", "b", "s", "beta", "p", "q", "v")
# a customer's history: every BTYD figure of a customer is a function of these (clv_history_scores' key)
HISTORY_COLUMNS = ["btyd_frequency", "btyd_recency", "btyd_t", "btyd_monetary_value"]
# what the CLV models read of int_clv__customer_summary / int_clv__backtest_summary: numbers only, the customer
# as its md5 key (ordering.ROW_KEY, for the fit sample) instead of millions of id strings
FIT_COLUMNS = [*HISTORY_COLUMNS, "analysis_date"]
BACKTEST_COLUMNS = [*HISTORY_COLUMNS, "calibration_end", "holdout_end", "holdout_purchase_days"]
PYMC_NAMES = {
    "customer_unique_id": "customer_id",
    "btyd_frequency": "frequency",
    "btyd_recency": "recency",
    "btyd_t": "T",
    "btyd_monetary_value": "monetary_value",
}
# the frequency buckets of the backtest's per-bucket rows: 0 .. FREQUENCY_BUCKET_CAP, the last one "or more"
FREQUENCY_BUCKET_CAP = 7


def to_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """int_clv__*_summary columns -> pymc-marketing's (customer_id, frequency, recency, T, monetary_value), in
    customer order: every figure summed over customers then has the same last digits whatever order the table
    arrived in (a rebuild on the same data gives identical marts)."""
    frame = frame.sort_values("customer_unique_id", kind="stable", ignore_index=True)
    return frame.rename(columns=PYMC_NAMES)


def read_summary(relation, columns: list[str]) -> pd.DataFrame:
    """The named columns of a CLV summary relation (dbt.ref(...)) in pymc-marketing's names, numbers as
    doubles, plus ordering.ROW_KEY (the md5 key of customer_unique_id, frames.md5_key) in place of the id: at 10 M
    customers the id strings were most of the CLV models' memory, and nothing here needs them (the fit sample is
    drawn by the key, the scores are per history, and every sum runs over sorted histories, so the table order of the
    input does not reach the output)."""
    numeric = [c for c in columns if c in (*HISTORY_COLUMNS, "holdout_purchase_days")]
    return fetch(relation, columns, numeric, row_key=True).rename(columns=PYMC_NAMES)


def read_histories(relation) -> pd.DataFrame:
    """int_clv__customer_summary grouped in DuckDB by history (HISTORY_COLUMNS as doubles, as read_summary reads
    them), in pymc-marketing's names and sorted: customers per history and their summed money and purchase days
    (summed as DECIMAL and integers, exact whatever the order). 286,558 rows for 9.5 M customers at 10 M orders
    instead of the customers themselves. Any engine's table (frames.as_relation): the grouping runs in DuckDB."""
    relation = as_relation(relation)
    keys = [f'cast("{c}" as double)' for c in HISTORY_COLUMNS]
    selected = ", ".join(f'{k} as "{c}"' for k, c in zip(keys, HISTORY_COLUMNS))
    table = relation.aggregate(
        f"{selected}, count(*) as customers, cast(sum(total_value) as double) as total_value,"
        " cast(sum(purchase_day_count) as double) as purchase_day_count",
        ", ".join(keys),
    ).to_arrow_table()
    frame = table.to_pandas().rename(columns=PYMC_NAMES)
    order = ["frequency", "recency", "T", "monetary_value"]
    return frame.sort_values(order, kind="stable", na_position="last", ignore_index=True)


def fit_table(summary: pd.DataFrame, config: ClvConfig, fit_date, model_name: str) -> pd.DataFrame:
    """One row per model (the three transaction models and Gamma-Gamma) with parameters and verdict."""
    rows = []
    names = (*TRANSACTION_MODELS, SPEND_MODEL)
    for name, fit in zip(names, clv.fit_models(names, summary, **config.fit_arguments())):
        parameters = fit.get("parameters") or {}
        rows.append(
            {
                "fit_date": pd.Timestamp(fit_date).date() if fit_date is not None else None,
                "model": name,
                **{column: parameters.get(column) for column in PARAMETER_COLUMNS},
                "log_likelihood": fit.get("log_likelihood"),
                "n_customers": int(len(summary)),
                "n_fit_customers": fit.get("n_customers"),
                "n_repeat_customers": fit.get("n_repeat_customers"),
                "converged": fit.get("converged"),
                "is_identified": bool(fit.get("is_identified")),
                "verdict": fit["verdict"],
                "verdict_reason": fit["verdict_reason"],
                "time_unit_days": config.time_unit_days,
            }
        )
        # the wall time goes to the log, not the table: a rebuild on the same data must give identical marts
        log(model_name, f"{name}: {fit['verdict']} in {fit['fit_seconds']:.1f} s ({fit['verdict_reason']})")
    out = pd.DataFrame(rows)
    for column in (*PARAMETER_COLUMNS, "log_likelihood"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    for column in ("n_fit_customers", "n_repeat_customers"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("Int64")
    out["converged"] = out["converged"].astype("boolean")
    return out


def fits_from_table(table: pd.DataFrame) -> dict[str, dict]:
    """clv_model_fit / clv_backtest_fit rows back into {model: fit row} as clv.fit_model returns them."""
    fits = {}
    for row in table.to_dict("records"):
        parameters = {
            column: float(row[column]) for column in PARAMETER_COLUMNS
            if row.get(column) is not None and not pd.isna(row[column])
        }
        fits[row["model"]] = {**row, "parameters": parameters or None, "is_identified": bool(row["is_identified"])}
    return fits


def _holdout_days(backtest_summary: pd.DataFrame) -> int:
    """Days from calibration_end to the analysis date (0 without backtest customers)."""
    if not len(backtest_summary):
        return 0
    start = pd.Timestamp(backtest_summary["calibration_end"].max())
    return int((pd.Timestamp(backtest_summary["holdout_end"].max()) - start).days)


def _buckets(summary: pd.DataFrame) -> np.ndarray:
    """Repeat purchase days capped at FREQUENCY_BUCKET_CAP (the last bucket is "or more")."""
    return np.minimum(summary["frequency"].to_numpy(dtype="float64"), FREQUENCY_BUCKET_CAP).astype(int)


def empirical_rates(backtest_summary: pd.DataFrame, min_customers: int) -> pd.Series:
    """The empirical fallback of expected purchases: per calibration-frequency bucket, held-out purchase days
    per customer and day, i.e. what customers with that history did in the held-out period. Buckets with
    fewer than min_customers backtest customers are pooled with the bucket below them (from the top down), so
    no rate rests on a handful of customers. Returns the rate of every bucket 0 .. FREQUENCY_BUCKET_CAP."""
    holdout_days = _holdout_days(backtest_summary)
    if holdout_days <= 0:
        return pd.Series(dtype="float64")
    frame = pd.DataFrame({
        "bucket": _buckets(backtest_summary),
        "days": backtest_summary["holdout_purchase_days"].to_numpy(dtype="float64"),
    })
    grouped = (
        frame.groupby("bucket")["days"].agg(["size", "sum"]).reindex(range(FREQUENCY_BUCKET_CAP + 1), fill_value=0)
    )
    rates = {}
    pending = []  # buckets waiting to be pooled with the next one down
    customers = total = 0.0
    for bucket in range(FREQUENCY_BUCKET_CAP, -1, -1):
        pending.append(bucket)
        customers += grouped.loc[bucket, "size"]
        total += grouped.loc[bucket, "sum"]
        if customers >= min_customers or bucket == 0:
            for member in pending:
                rates[member] = total / (customers * holdout_days) if customers else 0.0
            pending, customers, total = [], 0.0, 0.0
    return pd.Series(rates).sort_index()


def backtest_detail_table(
    summary: pd.DataFrame, tracking: pd.DataFrame, fits: dict[str, dict], config: ClvConfig
) -> pd.DataFrame:
    """Actual vs predicted held-out repeat purchase days, per model, at two grains:
    'period' (bucket = 1 .. n periods of time_unit_days after calibration_end, with cumulative sums: the
    tracking plot) and 'calibration_frequency' (bucket = repeat purchase days in calibration, the last bucket
    FREQUENCY_BUCKET_CAP or more). Models: each transaction model the calibration fit identified, and 'naive'
    (every customer keeps their calibration rate frequency / T)."""
    unit = config.time_unit_days
    holdout_days = _holdout_days(summary)
    n_periods = int(np.ceil(holdout_days / unit)) if holdout_days > 0 else 0
    # time after calibration_end at the end of each period, in time units (the last period may be partial)
    ends = np.array([min(k * unit, holdout_days) / unit for k in range(1, n_periods + 1)])
    actual_by_period = np.zeros(n_periods)
    for period, count in zip(tracking["period_index"], tracking["actual_purchase_days"]):
        if 1 <= int(period) <= n_periods:
            actual_by_period[int(period) - 1] += float(count)
    # every figure below is a sum over customers of a function of (frequency, recency, T): summed over the
    # sorted distinct histories, weighted by their customers, each is computed once and in a fixed order
    grouped = summary.groupby(["frequency", "recency", "T"], sort=True)
    history = grouped.size().rename("customers").to_frame()
    history["actual"] = grouped["holdout_purchase_days"].sum()
    history = history.reset_index()
    bucket = _buckets(history)
    weights = history["customers"].to_numpy(dtype="float64")
    actual_by_bucket = pd.Series(history["actual"].to_numpy(dtype="float64")).groupby(bucket).sum()
    customers_by_bucket = pd.Series(weights).groupby(bucket).sum().astype("int64")

    x, t_x, age = (history[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T"))
    rate = np.divide(x, age, out=np.zeros_like(x), where=age > 0) * weights
    predictions = {"naive": (rate.sum() * ends, pd.Series(rate * holdout_days / unit).groupby(bucket).sum())}
    if n_periods:
        for name in TRANSACTION_MODELS:
            fit = fits.get(name)
            if fit is None or not fit["is_identified"]:
                continue
            expected = [clv.expected_purchases(name, fit["parameters"], x, t_x, age, t) * weights for t in ends]
            predictions[name] = (np.array([e.sum() for e in expected]), pd.Series(expected[-1]).groupby(bucket).sum())

    rows = []
    actual_cumulative = np.cumsum(actual_by_period)
    for name, (predicted_cumulative, by_bucket) in predictions.items():
        predicted_period = np.diff(np.concatenate([[0.0], predicted_cumulative]))
        for k in range(n_periods):
            rows.append((name, "period", k + 1, len(summary), actual_by_period[k], predicted_period[k],
                         actual_cumulative[k], predicted_cumulative[k]))
        for b, customers in customers_by_bucket.items():
            rows.append((name, "calibration_frequency", int(b), int(customers), float(actual_by_bucket.get(b, 0.0)),
                         float(by_bucket.get(b, 0.0)), np.nan, np.nan))
    out = pd.DataFrame(rows, columns=["model", "grain", "bucket", "customers", "actual", "predicted",
                                      "actual_cumulative", "predicted_cumulative"])
    return out.astype({"bucket": "int64", "customers": "int64", "actual": "float64", "predicted": "float64",
                       "actual_cumulative": "float64", "predicted_cumulative": "float64"})


def _population_order_value(history: pd.DataFrame) -> float:
    """Fallback order value without an identified Gamma-Gamma: the mean money of all repeat purchase days,
    or of all purchase days when nobody repeated (clv.score_customers uses the first for BTYD scoring).
    history: read_histories' rows (customers per history, summed money and purchase days)."""
    x = history["frequency"].to_numpy(dtype="float64")
    value = history["monetary_value"].to_numpy(dtype="float64", na_value=np.nan)
    customers = history["customers"].to_numpy(dtype="float64")
    repeat = (x > 0) & np.isfinite(value)
    repeat_days = (x * customers)[repeat].sum()
    if repeat_days > 0:
        return float((x * value * customers)[repeat].sum() / repeat_days)
    days = history["purchase_day_count"].to_numpy(dtype="float64").sum()
    return float(history["total_value"].to_numpy(dtype="float64").sum() / days) if days else 0.0


def history_scores_table(
    history: pd.DataFrame, fits: dict[str, dict], selection: pd.Series, rates: pd.Series, config: ClvConfig
) -> pd.DataFrame:
    """Per distinct history (frequency, recency, T, monetary_value; read_histories): how many customers have it,
    expected purchase days over each var horizon, p_alive, expected order value and CLV. Every figure of a
    customer is a function of their history, so each history is scored once and customer_lifetime_value joins
    the figures to its customers in SQL.

    Which model feeds what is decided in SQL (clv_model_selection): purchases and p_alive from an identified
    transaction model through clv.score_customers; else expected purchases from the empirical rates (the
    held-out purchase days per customer and day of customers with the same calibration repeat days, times
    the horizon) and no p_alive. Expected order value: Gamma-Gamma when identified, else the population mean
    of repeat purchase-day values (of all purchase-day values when nobody repeated)."""
    started = time.perf_counter()
    purchases_model = as_str(selection["purchases_model"])
    spend_model = as_str(selection["spend_model"])
    scoring = {"gamma_gamma": fits["gamma_gamma"]} if spend_model == SPEND_MODEL else {}
    fallback_value = _population_order_value(history)
    rows = history[["frequency", "recency", "T", "monetary_value"]].assign(customer_id=np.arange(len(history)))
    if purchases_model in TRANSACTION_MODELS:
        scoring[purchases_model] = fits[purchases_model]
        scored = clv.score_customers(rows, list(scoring.values()), **config.score_arguments())
        scored = (
            scored[scored["model"] == purchases_model].drop(columns=["model", "customer_id"]).reset_index(drop=True)
        )
        scored["expected_order_value"] = scored["expected_order_value"].fillna(fallback_value)
        if as_str(selection["p_alive_model"]) != purchases_model:
            scored["p_alive"] = np.nan
    else:
        per_day = pd.Series(_buckets(rows)).map(rates).fillna(0.0).to_numpy()
        if spend_model == SPEND_MODEL:
            value = clv.gamma_gamma_spend(fits[SPEND_MODEL]["parameters"], rows["frequency"], rows["monetary_value"])
        else:
            value = np.full(len(rows), fallback_value)
        monthly = clv.monthly_discount_rate(config.annual_discount_rate)
        discount = sum(1 / (1 + monthly) ** m for m in range(1, config.clv_horizon + 1))
        scored = pd.DataFrame({
            **{f"expected_purchases_{h}": per_day * h for h in config.horizons},
            "p_alive": np.nan,
            "expected_order_value": value,
            # a constant rate buys the same every month: per-day rate x days per month x discount factors
            "clv": per_day * clv.DAYS_PER_MONTH * discount * value,
        })
    keys = history[["frequency", "recency", "T", "monetary_value", "customers"]].rename(
        columns={pymc: column for column, pymc in PYMC_NAMES.items()})
    scored = pd.concat([keys, scored.rename(columns={f"expected_purchases_{h}": f"expected_purchases_{h}d"
                                                     for h in config.horizons})], axis=1)
    log(
        "clv_history_scores",
        f"{len(scored):,} histories of {int(history['customers'].sum()):,} customers scored: "
        f"purchases from {purchases_model}, p_alive"
        f" from {as_str(selection['p_alive_model']) or 'none'}, spend from {spend_model}"
        f" in {time.perf_counter() - started:.1f} s",
    )
    return scored


# churn (models/intermediate/churn, models/marts/churn): P(a purchase within var churn_horizon_days) from the BTYD fits
CHURN_STATE_COLUMNS = ["snapshot_month", "as_of_date", "customer_unique_id", "btyd_frequency", "btyd_recency", "btyd_t",
                       "returned"]
CHURN_STATE_DOUBLE = ["btyd_frequency", "btyd_recency", "btyd_t"]


def any_identified(fits: dict[str, dict]) -> bool:
    """Whether any transaction model of `fits` is identified (has a probability to give)."""
    return any(fits.get(name) is not None and fits[name]["is_identified"] and fits[name]["parameters"]
               for name in TRANSACTION_MODELS)


def churn_probability_table(fit_table, customers, columns: list[str], double: list[str], horizon_days: float,
                            time_unit_days: float) -> pd.DataFrame:
    """churn_return_probabilities for the dbt models: the customers' rows (a dbt.ref; only `columns`, those in
    `double` as double) scored with the fits of fit_table (clv_model_fit / clv_backtest_fit rows), customer_id
    named customer_unique_id again. The customers are not read when no transaction model is identified (nothing
    to score; customer-months at scale)."""
    fits = fits_from_table(to_pandas(fit_table))
    if not any_identified(fits):
        customers = empty(customers)
    summary = to_summary(fetch(customers, columns, double, row_key=False))
    out = churn_return_probabilities(summary, fits, horizon_days, time_unit_days)
    return out.rename(columns={"customer_id": "customer_unique_id"})


def churn_return_probabilities(summary: pd.DataFrame, fits: dict[str, dict], horizon_days: float,
                               time_unit_days: float) -> pd.DataFrame:
    """One row per customer row of `summary` (pymc-marketing's column names) and transaction model of `fits`
    that is identified: model and return_probability = 1 - P(no purchase within horizon_days), the horizon in
    the summary's time unit (horizon_days / time_unit_days). A model that is not identified gives no rows: a
    degenerate fit never feeds a probability. Each distinct (frequency, recency, T) is evaluated once.
    The other columns of `summary` are kept."""
    frames = []
    t = float(horizon_days) / float(time_unit_days)
    keys = ["frequency", "recency", "T"]
    histories = summary[keys].drop_duplicates().reset_index(drop=True)
    x, t_x, age = (histories[c].to_numpy(dtype="float64") for c in keys)
    for name in TRANSACTION_MODELS:
        fit = fits.get(name)
        if fit is None or not fit["is_identified"] or not fit["parameters"]:
            continue
        scored = histories.assign(
            return_probability=1.0 - clv.probability_no_purchase(name, fit["parameters"], x, t_x, age, t)
        )
        frames.append(summary.merge(scored, on=keys, how="left").assign(model=name))
    if not frames:
        out = summary.iloc[0:0].assign(model=pd.Series(dtype="string"), return_probability=pd.Series(dtype="float64"))
    else:
        out = pd.concat(frames, ignore_index=True)
    # typed even when empty (an empty object column would reach DuckDB as type NULL)
    for column in ("customer_id", "model"):
        out[column] = out[column].astype("string")
    for column in ("snapshot_month", "as_of_date"):
        if column in out:
            out[column] = pd.to_datetime(out[column]).astype("datetime64[ns]")
    return out
