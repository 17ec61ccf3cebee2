"""Reproduce the published CDNOW results with the project's CLV module (customer_segmentation/ml/clv.py).

    .venv/bin/python scripts/validate_clv.py --cdnow ../shared/cdnow [--json]

Reads CDNOW_sample.txt (the 2,357-customer sample of Fader, Hardie & Lee 2005; a folder holding it or
the file itself), builds the calibration summary with the papers' conventions, fits BG/NBD, MBG/NBD,
Pareto/NBD and Gamma-Gamma with clv.fit_model and compares the predicted repeat purchases of the
holdout period with the actual ones. A check that the module fits what the literature fits: the
published values are BG/NBD r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.4; Pareto/NBD r 0.553,
alpha 10.578, s 0.606, beta 11.669, LL -9595.0; Gamma-Gamma p 6.25, q 3.74, v 15.44.

Conventions (../shared/cdnow/README.md): time in weeks; the calibration period holds purchases up to
1997-09-30 (weeks 1-39), the holdout 1997-10-01 .. 1998-06-30 (weeks 40-78, 39 weeks); several purchases
of a customer on one day are one transaction; T runs from the first purchase to 1997-09-30.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root: package customer_segmentation

from customer_segmentation.ml import clv  # noqa: E402
from customer_segmentation.ml.config import ClvConfig  # noqa: E402

CALIBRATION_END = pd.Timestamp("1997-09-30")
HOLDOUT_END = pd.Timestamp("1998-06-30")
HOLDOUT_WEEKS = (HOLDOUT_END - CALIBRATION_END).days / 7
# Thresholds of the verdicts for this check (they do not change the estimates). No sample: all 2,357.
VALIDATION_CONFIG = {
    "time_limit_seconds": 300,
    "min_repeat_customers": 30,
    "shape_parameter_range": [0.01, 100],
    "max_log_se": 1.0,
    "gamma_gamma_max_abs_correlation": 0.3,
    "sample_size": None,
    "random_seed": 42,
    "horizons": [273],
    "clv_horizon": 12,
    "annual_discount_rate": 0.1,
    "time_unit_days": 7,
}


def read_cdnow_sample(path: Path) -> pd.DataFrame:
    """Transactions of CDNOW_sample.txt (whitespace-separated, no header, CRLF), one row per customer-day."""
    file = path / "CDNOW_sample.txt" if path.is_dir() else path
    raw = pd.read_csv(
        file, sep=r"\s+", header=None, names=["customer_id", "sample_id", "date", "number_of_cds", "dollar_value"],
        dtype={"customer_id": str, "sample_id": str, "date": str},
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw.groupby(["customer_id", "date"], as_index=False)["dollar_value"].sum()


def calibration_summary(days: pd.DataFrame) -> pd.DataFrame:
    """pymc-marketing's summary (frequency, recency, T in weeks, monetary_value) of the calibration period."""
    calibration = days[days["date"] <= CALIBRATION_END]
    first = calibration.groupby("customer_id")["date"].transform("min")
    repeat = calibration[calibration["date"] > first]
    per_customer = calibration.groupby("customer_id").agg(
        first=("date", "min"), last=("date", "max"), days=("date", "size")
    )
    summary = pd.DataFrame({
        "customer_id": per_customer.index,
        "frequency": (per_customer["days"] - 1).to_numpy(dtype=float),
        "recency": ((per_customer["last"] - per_customer["first"]).dt.days / 7).to_numpy(),
        "T": ((CALIBRATION_END - per_customer["first"]).dt.days / 7).to_numpy(),
    })
    mean_repeat_value = repeat.groupby("customer_id")["dollar_value"].mean()
    summary["monetary_value"] = summary["customer_id"].map(mean_repeat_value).fillna(0.0).to_numpy()
    return summary.reset_index(drop=True)


def validate(path: Path) -> dict:
    """Fits, verdicts and holdout predictions as a JSON-ready dict."""
    days = read_cdnow_sample(path)
    summary = calibration_summary(days)
    config = ClvConfig.from_dict(VALIDATION_CONFIG)
    result: dict = {
        "data": {
            "customers": len(summary),
            "customer_days": len(days),
            "repeat_customers": int((summary["frequency"] > 0).sum()),
            "calibration_repeat_purchases": int(summary["frequency"].sum()),
        },
    }
    predicted = {}
    for name in clv.MODEL_PARAMETERS:
        fit = clv.fit_model(name, summary, **config.fit_arguments())
        result[name] = {
            **(fit["parameters"] or {}),
            "log_likelihood": fit["log_likelihood"],
            "verdict": fit["verdict"],
            "verdict_reason": fit["verdict_reason"],
            "n_customers": fit["n_customers"],
            "fit_seconds": fit["fit_seconds"],
        }
        if name in clv.TRANSACTION_MODELS and fit["is_identified"]:
            predicted[name] = float(clv.expected_purchases(
                name, fit["parameters"], summary["frequency"], summary["recency"], summary["T"], HOLDOUT_WEEKS).sum())
    holdout = days[(days["date"] > CALIBRATION_END) & (days["date"] <= HOLDOUT_END)]
    result["holdout"] = {
        "weeks": HOLDOUT_WEEKS,
        "actual_repeat_purchases": len(holdout),
        "predicted_repeat_purchases": predicted,
    }
    return result


def print_table(result: dict) -> None:
    data = result["data"]
    print(f"CDNOW sample: {data['customers']:,} customers, {data['customer_days']:,} customer-days, "
          f"{data['repeat_customers']:,} repeat customers in weeks 1-39")
    print(f"{'model':<12} {'verdict':<26} {'log-lik':>10} {'seconds':>8}  parameters")
    for name, parameters in clv.MODEL_PARAMETERS.items():
        fit = result[name]
        shown = "  ".join(f"{p} {fit[p]:.4g}" for p in parameters if p in fit)
        log_likelihood = "" if fit["log_likelihood"] is None else f"{fit['log_likelihood']:.1f}"
        print(f"{name:<12} {fit['verdict']:<26} {log_likelihood:>10} {fit['fit_seconds']:>8.1f}  {shown}")
    holdout = result["holdout"]
    print(f"\nholdout weeks 40-78: actual repeat purchases {holdout['actual_repeat_purchases']:,}")
    for name, value in holdout["predicted_repeat_purchases"].items():
        print(f"  predicted by {name:<11} {value:,.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cdnow", type=Path, required=True, help="folder holding CDNOW_sample.txt, or the file")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if not args.cdnow.exists():
        parser.error(f"not found: {args.cdnow}")
    result = validate(args.cdnow)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
