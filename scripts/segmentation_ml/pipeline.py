"""Entry points of the dbt Python models: model config (rendered from vars) in, output table out.

dbt renders YAML configs to strings, lists or numbers depending on the expression, so every parameter
goes through the small parsers below. Each function returns a pandas DataFrame sorted by its key.
"""
from __future__ import annotations

import ast
import json
import math

import numpy as np
import pandas as pd

from segmentation_ml.clustering import cluster_selection, fit_clusters
from segmentation_ml.features import CLUSTER_NUMERIC_FEATURES, ClusterFeatureEncoder
from segmentation_ml.profiles import cluster_profiles
from segmentation_ml.repeat_model import (
    REPEAT_CATEGORICAL_FEATURES,
    REPEAT_NUMERIC_FEATURES,
    repeat_model_metrics,
    repeat_scores,
)


# ---------------------------------------------------------------------------------------- parsing
def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in ("", "none", "null")


def as_int(value, default=None):
    return default if _blank(value) else int(float(value))


def as_float(value, default=None):
    return default if _blank(value) else float(value)


def as_bool(value, default=False):
    if _blank(value):
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def as_list(value, default=None):
    """A list from a list, a JSON/Python literal string, or a comma-separated string."""
    if _blank(value):
        return None if default is None else list(default)
    if isinstance(value, (list, tuple)):
        return list(value)
    text = str(value).strip()
    for parse in (json.loads, ast.literal_eval):
        try:
            parsed = parse(text)
        except (ValueError, SyntaxError):
            continue
        if isinstance(parsed, (list, tuple)):
            return list(parsed)
    return [part.strip() for part in text.strip("[]").split(",") if part.strip()]


def as_str(value, default=None):
    return default if _blank(value) else str(value).strip()


def k_values(config: dict) -> list[int]:
    low, high = (int(float(v)) for v in as_list(config.get("k_range"), [2, 10]))
    return list(range(low, high + 1))


# ---------------------------------------------------------------------------------------- clusters
def _cluster_matrix(features: pd.DataFrame, config: dict, regions: list[str] | None) -> tuple[pd.DataFrame, np.ndarray]:
    features = features.sort_values("customer_unique_id", kind="stable").reset_index(drop=True)
    names = as_list(config.get("cluster_features"), list(CLUSTER_NUMERIC_FEATURES))
    encoder = ClusterFeatureEncoder(features=names, regions=regions)
    return features, encoder.fit_transform(features).to_numpy()


def _cluster_kwargs(config: dict) -> dict:
    return {
        "seed": as_int(config.get("random_seed"), 42),
        "minibatch_threshold": as_int(config.get("minibatch_threshold"), 200_000),
        "n_init": as_int(config.get("n_init"), 4),
    }


def cluster_selection_table(features: pd.DataFrame, config: dict, regions: list[str] | None = None) -> pd.DataFrame:
    _, X = _cluster_matrix(features, config, regions)
    return cluster_selection(
        X,
        k_values(config),
        silhouette_sample_size=as_int(config.get("silhouette_sample_size"), 20_000),
        fixed_k=as_int(config.get("fixed_k")),
        **_cluster_kwargs(config),
    )


def customer_clusters_table(
    features: pd.DataFrame, selection: pd.DataFrame, config: dict, regions: list[str] | None = None
) -> pd.DataFrame:
    chosen = selection[selection["chosen"].astype(bool)]
    if len(chosen) != 1:
        raise ValueError(f"cluster_selection must mark exactly one chosen k, found {len(chosen)}")
    k = int(chosen["k"].iloc[0])
    features, X = _cluster_matrix(features, config, regions)
    fit = fit_clusters(X, k, **_cluster_kwargs(config))
    expected = float(chosen["inertia"].iloc[0])
    if not math.isclose(fit.inertia, expected, rel_tol=1e-9, abs_tol=1e-9):
        raise RuntimeError(
            f"refit for k={k} gave inertia {fit.inertia} but cluster_selection scored {expected}: "
            "inputs or parameters differ between the two models"
        )
    return pd.DataFrame(
        {
            "customer_unique_id": features["customer_unique_id"].to_numpy(),
            "cluster": fit.labels.astype("int64"),
            "distance_to_centroid": fit.distances,
        }
    )


def cluster_profiles_table(
    features: pd.DataFrame,
    clusters: pd.DataFrame,
    rfm: pd.DataFrame | None,
    abc_xyz: pd.DataFrame | None,
) -> pd.DataFrame:
    return cluster_profiles(features, clusters, rfm, abc_xyz).sort_values("cluster").reset_index(drop=True)


# ---------------------------------------------------------------------------------------- repeat model
def _repeat_kwargs(config: dict) -> dict:
    return {
        "horizon_days": as_int(config.get("repeat_horizon_days"), 180),
        "seed": as_int(config.get("random_seed"), 42),
        "numeric": as_list(config.get("numeric_features"), REPEAT_NUMERIC_FEATURES),
        "categorical": as_list(config.get("categorical_features"), REPEAT_CATEGORICAL_FEATURES),
    }


def repeat_model_metrics_table(first_purchases: pd.DataFrame, config: dict) -> pd.DataFrame:
    return repeat_model_metrics(
        first_purchases,
        test_share=as_float(config.get("test_share"), 0.25),
        cutoff=as_str(config.get("test_cutoff_date")),
        embargo=as_bool(config.get("train_embargo"), True),
        baseline_feature=as_str(config.get("baseline_feature")),
        n_bootstrap=as_int(config.get("bootstrap_samples"), 200),
        **_repeat_kwargs(config),
    )


def customer_repeat_scores_table(first_purchases: pd.DataFrame, config: dict) -> pd.DataFrame:
    return repeat_scores(first_purchases, **_repeat_kwargs(config)).sort_values("customer_unique_id").reset_index(drop=True)
