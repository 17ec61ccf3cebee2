"""KMeans clusters and the first-purchase repeat model (issue 5).

Two halves: unit tests of the importable package customer_segmentation.ml on synthetic data (planted
clusters, planted repeat signal, pure noise), then checks of the dbt outputs on the session builds,
including a leakage test that rewrites later orders in a copy of the warehouse, rebuilds the
first-purchase features and requires every feature column to stay the same. That a second build of the ML
models on the same inputs gives the same tables is checked with every other mart by
test_reliability.test_two_consecutive_builds_produce_identical_marts (a rebuild of every model, Python models
included, on the sample build's inputs).
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, average_precision_score, roc_auc_score, silhouette_score

from conftest import ROOT, query, query_df
from customer_segmentation.ml import pipeline
from customer_segmentation.ml.clustering import cluster_selection, fit_kmeans, silhouette_multi
from customer_segmentation.ml.config import ClusterConfig, ConfigError, RepeatConfig
from customer_segmentation.ml.features import ClusterFeatureEncoder
from customer_segmentation.ml.profiles import cluster_profiles
from customer_segmentation.ml.repeat_model import (
    FEATURE_SET_FIRST_ORDER,
    FEATURE_SET_FULL,
    LABEL,
    WINDOW_FEATURES,
    evaluate_scores,
    repeat_model_metrics,
    repeat_scores,
    roc_auc,
    time_split,
    top_fraction_precision_recall,
)
from raw_olist import orders_with_customers, read

ML_TABLES = [
    "ml_customer_features",
    "ml_first_purchase_features",
    "cluster_selection",
    "customer_clusters",
    "cluster_profiles",
    "repeat_model_metrics",
    "customer_repeat_scores",
]
VARS = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
ML_MODELS = {
    model["name"]: model
    for model in yaml.safe_load((ROOT / "models" / "marts" / "ml" / "_ml__models.yml").read_text())["models"]
}


def model_config(name: str) -> dict:
    """The YAML config of an ML model of _ml__models.yml as dbt renders it from dbt_project.yml's vars (strings)."""
    render = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {
        key: render.from_string(value).render(var=VARS.__getitem__) if isinstance(value, str) else value
        for key, value in ML_MODELS[name]["config"].items()
    }


def cluster_config(**settings) -> ClusterConfig:
    """The cluster models' config as dbt builds it (YAML config + vars), with the given settings instead."""
    return ClusterConfig.from_config({**model_config("cluster_selection"), **settings})


def repeat_config(**settings) -> RepeatConfig:
    """The repeat models' config as dbt builds it (YAML config + vars), with the given settings instead."""
    return RepeatConfig.from_config({**model_config("repeat_model_metrics"), **settings})


CLUSTER = cluster_config()
REPEAT = repeat_config()
CLUSTER_FEATURES = list(CLUSTER.cluster_features)
FIRST_PURCHASE_FEATURES = [
    "first_order_id",
    "first_purchased_at",
    *REPEAT.numeric_features,
    *REPEAT.categorical_features,
]


# ------------------------------------------------------------------------------------ synthetic data


def customers_from_blobs(n: int, centers: int, seed: int, regions=("North", "South", "Southeast"), std: float = 0.6):
    """An ml_customer_features-like table whose numeric features hold planted blobs."""
    rng = np.random.default_rng(seed)
    # planted centers: distinct corners of the hypercube {-3, 3}^4, so every pair is at least 6 apart
    corners = np.array(list(itertools.product([-3.0, 3.0], repeat=4)))
    planted = corners[rng.permutation(len(corners))[:centers]]
    X, y = make_blobs(n_samples=n, centers=planted, cluster_std=std, random_state=seed)
    df = pd.DataFrame(
        {
            "customer_unique_id": [f"c{i:06d}" for i in range(n)],
            "recency_days": np.expm1(np.clip(X[:, 0] + 6, 0, None)),
            "frequency": np.ones(n),
            "monetary": np.expm1(np.clip(X[:, 1] + 6, 0, None)),
            "mean_review_score": X[:, 2],
            "mean_delivery_days": X[:, 3],
            "mean_installments": np.full(n, 2.0),
            "boleto_share": np.zeros(n),
            "credit_card_share": np.ones(n),
            "customer_region": rng.choice(list(regions), n),
        }
    )
    return df, y


def synthetic_first_purchases(n: int, seed: int, signal: bool) -> pd.DataFrame:
    """An ml_first_purchase_features-like table; with signal, category and review drive repeats."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2017-01-01")
    first = start + pd.to_timedelta(rng.uniform(0, 700, n), unit="D")
    category = rng.choice(["toys", "books", "garden", "auto", "health"], n)
    review = rng.integers(1, 6, n).astype(float)
    review[rng.random(n) < 0.1] = np.nan
    logit = -3.2 + (2.2 * (category == "toys") + 1.2 * (review == 5) if signal else 0.0)
    repeated = rng.random(n) < 1 / (1 + np.exp(-logit))
    end = start + pd.Timedelta(days=700)
    complete = (first + pd.Timedelta(days=REPEAT.repeat_horizon_days)) <= end
    window_complete = (first + pd.Timedelta(days=VARS["repeat_feature_window_days"])) <= end
    # an open horizon: a repeat after the feature window may already be known (only once the window is over)
    label = pd.array(np.where(complete, repeated, np.where(repeated & window_complete, True, None)), dtype="boolean")
    return pd.DataFrame(
        {
            "customer_unique_id": [f"u{i:06d}" for i in range(n)],
            "first_order_id": [f"o{i:06d}" for i in range(n)],
            "first_purchased_at": first,
            "first_order_payment_value": rng.lognormal(4.5, 0.8, n),
            "first_order_freight_value": rng.lognormal(2.8, 0.5, n),
            "first_order_item_count": rng.integers(1, 4, n),
            "first_order_installments": rng.integers(1, 11, n),
            "first_order_hour": rng.integers(0, 24, n),
            "first_order_estimated_delivery_days": rng.integers(5, 40, n),
            "first_order_delivery_days": rng.integers(2, 30, n).astype(float),
            "first_order_review_score": review,
            "first_order_category": category,
            "first_order_payment_type": rng.choice(["credit_card", "boleto", "voucher"], n),
            "first_order_state": rng.choice(["SP", "RJ", "MG", "RS"], n),
            "first_order_region": rng.choice(["Southeast", "South"], n),
            "first_order_weekday": rng.integers(1, 8, n),
            "feature_window_complete": window_complete,
            "horizon_complete": complete,
            LABEL: label,
            "purchase_count": np.where(repeated, 2, 1),
        }
    )


# ------------------------------------------------------------------------------------ features
def test_encoder_imputes_flags_and_keeps_every_row():
    df, _ = customers_from_blobs(300, 3, seed=1)
    df.loc[[0, 5, 9], "mean_review_score"] = np.nan
    df.loc[[3], "monetary"] = np.nan
    encoder = ClusterFeatureEncoder(CLUSTER_FEATURES)
    out = encoder.fit_transform(df)
    assert len(out) == len(df) and out.index.equals(df.index)
    assert not out.isna().any().any()
    assert out["mean_review_score_missing"].sum() == 3
    assert out.loc[[0, 5, 9], "mean_review_score_missing"].eq(1).all()
    assert out["log_monetary_missing"].sum() == 1
    # imputed rows carry the median of the observed values (after the transform, before scaling)
    median = df["mean_review_score"].median()
    expected = (median - encoder.means_["mean_review_score"]) / encoder.stds_["mean_review_score"]
    assert out.loc[0, "mean_review_score"] == pytest.approx(expected)
    # numeric features are z-scored on the fit data, indicators stay 0/1
    for name in encoder.features:
        if encoder.stds_[name] != 1.0:
            assert out[name].mean() == pytest.approx(0, abs=1e-9)
            assert out[name].std(ddof=0) == pytest.approx(1)
    indicators = [c for c in out.columns if c.endswith("_missing") or c.startswith("region_")]
    assert set(np.unique(out[indicators].to_numpy())) <= {0.0, 1.0}


def test_encoder_log_transforms_recency_frequency_monetary():
    df, _ = customers_from_blobs(50, 2, seed=2)
    encoder = ClusterFeatureEncoder(CLUSTER_FEATURES).fit(df)
    assert encoder.means_["log_monetary"] == pytest.approx(np.log1p(df["monetary"]).mean())
    assert encoder.means_["log_recency"] == pytest.approx(np.log1p(df["recency_days"]).mean())


def test_region_is_one_hot_and_unseen_regions_map_to_unknown():
    train, _ = customers_from_blobs(200, 2, seed=3, regions=("North", "South"))
    encoder = ClusterFeatureEncoder(CLUSTER_FEATURES).fit(train)
    region_columns = [c for c in encoder.columns if c.startswith("region_")]
    assert region_columns == ["region_north", "region_south", "region_unknown"]
    fitted = encoder.transform(train)
    assert (fitted[region_columns].sum(axis=1) == 1).all()  # exactly one hot per row
    assert fitted["region_unknown"].sum() == 0
    other = train.head(4).copy()
    other["customer_region"] = ["Southeast", None, "North", "Center-West"]
    out = encoder.transform(other)
    assert list(out.columns) == encoder.columns  # unseen values add no column
    assert out["region_unknown"].tolist() == [1.0, 1.0, 0.0, 1.0]
    assert out["region_north"].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert out["region_south"].sum() == 0


def test_fixed_region_list_gives_stable_columns():
    df, _ = customers_from_blobs(100, 2, seed=4, regions=("South",))
    regions = ["Center-West", "North", "Northeast", "South", "Southeast"]
    out = ClusterFeatureEncoder(CLUSTER_FEATURES, regions=regions).fit_transform(df)
    assert [c for c in out.columns if c.startswith("region_")] == [
        "region_center_west",
        "region_north",
        "region_northeast",
        "region_south",
        "region_southeast",
        "region_unknown",
    ]
    assert out["region_south"].eq(1).all()


# ------------------------------------------------------------------------------------ clustering
def test_silhouette_multi_matches_sklearn():
    X, y = make_blobs(n_samples=700, n_features=5, centers=4, random_state=0)
    rng = np.random.default_rng(0)
    singleton = y.copy()
    singleton[0] = 99  # a cluster of one scores 0 for that point
    labelings = [y, rng.integers(0, 3, len(X)), singleton]
    got = silhouette_multi(X, labelings, chunk_size=128)
    expected = [silhouette_score(X, labels) for labels in labelings]
    assert got == pytest.approx(expected, abs=1e-10)
    assert np.isnan(silhouette_multi(X, [np.zeros(len(X), int)])[0])


def test_single_threaded_limits_every_pool_and_restores_it():
    from threadpoolctl import threadpool_info

    from customer_segmentation.ml.threads import single_threaded

    before = [pool["num_threads"] for pool in threadpool_info()]
    with single_threaded():
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert [pool["num_threads"] for pool in threadpool_info()] == before


def test_parallel_map_runs_every_call_single_threaded_side_by_side_and_in_order():
    import threading

    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
    from threadpoolctl import threadpool_info

    from customer_segmentation.ml.threads import parallel_map

    before = [pool["num_threads"] for pool in threadpool_info()]
    both_running = threading.Barrier(2, timeout=30)  # breaks (and fails the test) unless two calls overlap

    def probe(item: int):
        if item < 2:
            both_running.wait()
        blas = {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
        return item, threading.get_ident(), _openmp_effective_n_threads(), blas

    results = parallel_map(probe, range(6), workers=2)
    assert [item for item, *_ in results] == list(range(6))
    assert len({ident for _, ident, _, _ in results}) == 2
    assert all(openmp == 1 and blas == {1} for _, _, openmp, blas in results)
    assert [pool["num_threads"] for pool in threadpool_info()] == before
    with pytest.raises(ZeroDivisionError):
        parallel_map(lambda item: 1 / item, [1, 0, 2], workers=2)


def test_available_cores_follows_the_affinity_and_a_containers_cpu_quota(tmp_path, monkeypatch):
    import os
    import threading

    import customer_segmentation.ml.threads as threads

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    cpu_max = tmp_path / "cpu.max"
    assert threads.available_cores(cpu_max) == 8  # no quota file
    for text, cores in (("max 100000\n", 8), ("150000 100000\n", 2), ("50000 100000\n", 1), ("garbage", 8)):
        cpu_max.write_text(text)
        assert threads.available_cores(cpu_max) == cores, text
    # parallel_map's own default: the cores, at most MAX_WORKERS threads
    monkeypatch.setattr(threads, "available_cores", lambda: 64)
    idents = threads.parallel_map(lambda item: (time.sleep(0.05), threading.get_ident())[1], range(20))
    assert 1 < len(set(idents)) <= threads.MAX_WORKERS


def test_models_fit_side_by_side_give_the_bits_of_one_fit_at_a_time(monkeypatch):
    """parallel_map on 1 core (the calls one after another) and on 3 workers: the same tables, bit for bit."""
    import customer_segmentation.ml.clustering as clustering
    import customer_segmentation.ml.threads as threads

    monkeypatch.setattr(clustering, "ASSIGN_CHUNK_ROWS", 300)  # every row pass in several blocks

    df, X, _ = _blob_matrix(2500, 4, seed=31)
    keys = pd.util.hash_pandas_object(df["customer_unique_id"], index=False).to_numpy()
    fp = synthetic_first_purchases(3000, seed=32, signal=True)
    uncapped = cluster_config(silhouette_sample_size=700, fit_sample_size=None)
    capped = cluster_config(silhouette_sample_size=700, fit_sample_size=900)

    def outputs():
        from customer_segmentation.ml.clustering import fit_clusters

        fit = fit_clusters(X, 4, keys=keys, **capped.fit_arguments())
        return [
            cluster_selection(X, range(2, 8), **uncapped.selection_arguments()),
            cluster_selection(X, range(2, 8), keys=keys, **capped.selection_arguments()),
            pd.DataFrame({"label": fit.labels, "distance": fit.distances}),
            repeat_scores(fp, **repeat_config().scores_arguments()),
            repeat_model_metrics(fp, **repeat_config().metrics_arguments()),
        ]

    monkeypatch.setattr(threads, "available_cores", lambda: 1)
    alone = outputs()
    monkeypatch.setattr(threads, "available_cores", lambda: 3)
    for a, b in zip(alone, outputs()):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_weighted_bin_thresholds_equal_the_librarys_own():
    """binning.find_binning_thresholds against scikit-learn's _find_binning_thresholds, bit for bit."""
    from customer_segmentation.ml import binning

    library = binning.library_find_binning_thresholds()
    assert library is not binning.find_binning_thresholds
    rng = np.random.default_rng(33)
    columns = {
        "continuous": rng.normal(size=3000),
        "ties": rng.integers(0, 600, size=3000).astype(float),
        "rounded": np.round(rng.exponential(size=3000), 2),
        "few values": rng.integers(0, 20, size=3000).astype(float),
        "constant": np.full(3000, 3.0),
        "missing": np.where(rng.random(3000) < 0.3, np.nan, rng.normal(size=3000)),
    }
    weights = {
        "none": None,
        "balanced": np.where(rng.random(3000) < 0.1, 5.0, 0.55),
        "zeros": rng.choice([0.0, 0.5, 1.0, 7.3], size=3000),
    }
    for (column, x), (weighting, w), max_bins in itertools.product(columns.items(), weights.items(), (255, 10, 3)):
        expected = library(x.copy(), max_bins, None if w is None else w.copy())
        got = binning.find_binning_thresholds(x.copy(), max_bins, None if w is None else w.copy())
        assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes(), (column, weighting, max_bins)


def test_weighted_binning_is_in_place_for_the_pinned_scikit_learn_and_changes_no_prediction(monkeypatch):
    import re

    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.ensemble._hist_gradient_boosting import binning as sklearn_binning

    from customer_segmentation.ml import binning

    pinned = re.search(r"^scikit-learn==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert binning.CHECKED_SKLEARN_VERSION == pinned  # a new release: re-check find_binning_thresholds first
    assert binning.install() and sklearn_binning._find_binning_thresholds is binning.find_binning_thresholds
    rng = np.random.default_rng(34)
    X = np.column_stack([rng.normal(size=4000), rng.integers(0, 400, size=4000), rng.exponential(size=4000)])
    y = (X[:, 0] + rng.normal(size=4000) > 1.2).astype(int)

    def probabilities():
        model = HistGradientBoostingClassifier(class_weight="balanced", random_state=0, max_iter=30)
        return model.fit(X, y).predict_proba(X)[:, 1]

    patched = probabilities()
    monkeypatch.setattr(sklearn_binning, "_find_binning_thresholds", binning.library_find_binning_thresholds())
    assert probabilities().tobytes() == patched.tobytes()


@pytest.mark.parametrize("minibatch_threshold", [10**9, 100])
def test_kmeans_recovers_planted_clusters(minibatch_threshold):
    df, planted = customers_from_blobs(2000, 4, seed=5)
    X = ClusterFeatureEncoder(CLUSTER_FEATURES).fit_transform(df).to_numpy()
    fit = fit_kmeans(X, 4, seed=CLUSTER.random_seed, minibatch_threshold=minibatch_threshold, n_init=CLUSTER.n_init)
    assert fit.algorithm == ("kmeans" if minibatch_threshold > len(X) else "minibatch_kmeans")
    assert adjusted_rand_score(planted, fit.labels) >= 0.9
    sizes = np.bincount(fit.labels)
    assert list(sizes) == sorted(sizes, reverse=True)  # canonical ids: 0 = largest
    assert fit.inertia == pytest.approx((fit.distances**2).sum())
    assert np.allclose(fit.distances, np.linalg.norm(X - fit.centers[fit.labels], axis=1))


@pytest.mark.parametrize("planted_k", [3, 5, 7])
def test_selection_picks_the_planted_k(planted_k):
    # one region: a random region one-hot would be structure of its own
    df, _ = customers_from_blobs(1500, planted_k, seed=planted_k, regions=("Southeast",))
    X = ClusterFeatureEncoder(CLUSTER_FEATURES).fit_transform(df).to_numpy()
    selection = cluster_selection(X, range(2, 9), **cluster_config(silhouette_sample_size=800).selection_arguments())
    assert selection["chosen"].sum() == 1
    assert int(selection.loc[selection["chosen"], "k"].iloc[0]) == planted_k
    assert selection["silhouette_sample_size"].eq(800).all()
    assert selection["inertia"].is_monotonic_decreasing  # more clusters never fit worse here


def test_fixed_k_overrides_the_silhouette_choice():
    df, _ = customers_from_blobs(600, 3, seed=6)
    X = ClusterFeatureEncoder(CLUSTER_FEATURES).fit_transform(df).to_numpy()
    selection = cluster_selection(X, range(2, 5), **cluster_config(fixed_k=7).selection_arguments())
    assert selection.loc[selection["chosen"], "k"].tolist() == [7]
    assert set(selection["chosen_by"]) == {"fixed_k"}


def test_clustering_is_deterministic_and_seeded():
    df, _ = customers_from_blobs(1200, 6, seed=7)
    config = cluster_config(random_seed=11, k_range="2,8", silhouette_sample_size=500)
    a = pipeline.cluster_selection_table(df, config)
    b = pipeline.cluster_selection_table(df.sample(frac=1, random_state=3), config)  # input order does not matter
    pd.testing.assert_frame_equal(a, b)
    clusters_a = pipeline.customer_clusters_table(df, a, config)
    clusters_b = pipeline.customer_clusters_table(df.iloc[::-1], a, config)
    pd.testing.assert_frame_equal(clusters_a, clusters_b)


def test_cluster_profiles_name_the_planted_groups():
    rng = np.random.default_rng(8)
    n = 600
    loyal = np.arange(n) < 100
    df = pd.DataFrame(
        {
            "customer_unique_id": [f"p{i:04d}" for i in range(n)],
            "recency_days": np.where(loyal, rng.integers(5, 40, n), rng.integers(200, 600, n)),
            "frequency": np.where(loyal, rng.integers(2, 5, n), 1),
            "monetary": np.where(loyal, rng.uniform(800, 2000, n), rng.uniform(20, 120, n)),
            "mean_review_score": rng.uniform(3.5, 5, n),
            "mean_delivery_days": rng.uniform(5, 15, n),
            "mean_installments": rng.uniform(1, 4, n),
            "boleto_share": np.where(np.arange(n) % 2 == 0, 1.0, 0.0),
            "credit_card_share": np.where(np.arange(n) % 2 == 0, 0.0, 1.0),
            "customer_region": "Southeast",
        }
    )
    clusters = pd.DataFrame(
        {"customer_unique_id": df["customer_unique_id"], "cluster": np.where(loyal, 1, 0), "distance_to_centroid": 1.0}
    )
    # as the marts: rfm_segment in customer_rfm, churn_risk in customer_churn
    rfm = pd.DataFrame(
        {"customer_unique_id": df["customer_unique_id"], "rfm_segment": np.where(loyal, "Champions", "Hibernating")}
    )
    churn = pd.DataFrame({"customer_unique_id": df["customer_unique_id"], "churn_risk": np.where(loyal, "low", "high")})
    abc = pd.DataFrame({"customer_unique_id": df["customer_unique_id"], "segment": np.where(loyal, "A_Z", "C_Single")})
    profiles = cluster_profiles(df, clusters, rfm, abc, churn=churn).set_index("cluster")
    assert profiles.loc[1, "cluster_name"] == "recent high-value multi-buyers"
    assert profiles.loc[0, "cluster_name"] == "lapsed low-value one-time buyers"
    assert profiles.loc[1, "dominant_churn_risk"] == "low" and profiles.loc[1, "dominant_churn_risk_share"] == 1.0
    assert profiles.loc[0, "dominant_rfm_segment"] == "Hibernating"
    assert profiles.loc[1, "dominant_abc_xyz_segment"] == "A_Z"
    assert profiles["size"].tolist() == [500, 100]
    assert profiles.loc[1, "mean_monetary"] == pytest.approx(df.loc[loyal, "monetary"].mean())
    assert profiles["share"].sum() == pytest.approx(1.0)


def test_cluster_profiles_from_duckdb_counts_equal_the_pandas_profiles():
    """cluster_profiles_from_relations (the dbt model's path: the label columns counted per cluster by DuckDB, one
    join at a time) against profiles.cluster_profiles (pandas merges of the frames): planted ties (alphabetical
    winner), customers missing from a label table or with a null label (in the size, not in the counts), label rows
    of customers not clustered (ignored), a cluster where one label is never known, non-contiguous cluster ids."""
    rng = np.random.default_rng(21)
    n = 900
    df, _ = customers_from_blobs(n, 3, seed=21)
    df["customer_region"] = rng.choice(["North", "South", "Southeast"], n)
    clusters = pd.DataFrame(
        {
            "customer_unique_id": df["customer_unique_id"],
            "cluster": np.array([0, 3, 7])[np.arange(n) % 3],
            "distance_to_centroid": rng.uniform(0, 2, n),
        }
    )
    in_0, in_3 = clusters["cluster"].eq(0).to_numpy(), clusters["cluster"].eq(3).to_numpy()
    # cluster 0: "b" and "a" equally often (tie -> "a"); cluster 3: "c" most often; cluster 7: random
    rfm_segment = np.where(in_0, np.where(np.arange(n) % 2 == 0, "b", "a"), rng.choice(["a", "b", "c"], n))
    rfm_segment = np.where(in_3, np.where(np.arange(n) % 5 == 0, "a", "c"), rfm_segment)
    rfm = pd.DataFrame({"customer_unique_id": df["customer_unique_id"], "rfm_segment": rfm_segment})
    rfm.loc[(rng.random(n) < 0.1) & ~in_0, "rfm_segment"] = None  # null labels
    missing = in_3 & (np.arange(n) < 90)  # customers absent from customer_rfm
    extra = pd.DataFrame({"customer_unique_id": ["zz1", "zz2"], "rfm_segment": ["z", "z"]})  # not clustered
    rfm = pd.concat([rfm[~missing], extra], ignore_index=True)
    churn = pd.DataFrame(
        {
            "customer_unique_id": df["customer_unique_id"],
            "churn_risk": np.where(in_0, None, rng.choice(["high", "low"], n)),  # never known in cluster 0
        }
    )
    abc = pd.DataFrame({"customer_unique_id": df["customer_unique_id"].iloc[::2], "segment": "A_X"})
    tie = pd.Series(rfm_segment[in_0]).value_counts()
    assert tie["a"] == tie["b"] == in_0.sum() / 2  # a planted tie: "a" must win
    con = duckdb.connect()
    for name, frame in {"f": df, "c": clusters, "r": rfm, "a": abc, "h": churn}.items():
        con.register(f"{name}_frame", frame)
        con.execute(f"create table {name} as select * from {name}_frame")
    got = pipeline.cluster_profiles_from_relations(
        con.table("c"), con.table("f"), con.table("r"), con.table("a"), churn=con.table("h")
    )
    expected = cluster_profiles(df, clusters, rfm, abc, churn=churn)
    labels = [c for c in expected.columns if c.startswith("dominant_") and not c.endswith("_share")]
    assert got[labels].astype(object).equals(expected[labels].astype(object))
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, check_dtype=False)
    # the Spark / PostgreSQL path (scripts/run_python_models.py) hands the model frames, not relations
    from_frames = pipeline.cluster_profiles_from_relations(clusters, df, rfm, abc, churn=churn)
    pd.testing.assert_frame_equal(from_frames, got, check_exact=False, rtol=1e-12)
    by_cluster = got.set_index("cluster")
    assert list(by_cluster.index) == [0, 3, 7]
    assert by_cluster.loc[3, "dominant_rfm_segment"] == "c"
    assert by_cluster.loc[0, "dominant_rfm_segment"] == "a" and by_cluster.loc[0, "dominant_rfm_segment_share"] == 0.5
    assert pd.isna(by_cluster.loc[0, "dominant_churn_risk"])
    assert np.isnan(by_cluster.loc[0, "dominant_churn_risk_share"])


def test_cluster_names_stay_unique_when_base_names_collide():
    df, planted = customers_from_blobs(400, 2, seed=9)
    df["frequency"], df["recency_days"], df["monetary"] = 1, 100.0, 50.0  # identical base words
    df["boleto_share"] = np.where(planted == 0, 1.0, 0.0)
    clusters = pd.DataFrame(
        {"customer_unique_id": df["customer_unique_id"], "cluster": planted, "distance_to_centroid": 0.0}
    )
    profiles = cluster_profiles(df, clusters)
    assert profiles["cluster_name"].is_unique
    assert all(name.startswith("one-time buyers") for name in profiles["cluster_name"])


# ------------------------------------------------------------------------------------ repeat model
def test_metric_helpers_agree_with_sklearn_and_handle_ties():
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.1
    score = np.round(rng.random(500), 1)  # many ties
    assert roc_auc(y, score) == pytest.approx(roc_auc_score(y, score))
    constant = np.zeros(500)
    precision, recall = top_fraction_precision_recall(y, constant, 0.1)
    assert precision == pytest.approx(y.mean()) and recall == pytest.approx(0.1)
    metrics = evaluate_scores(y, constant, constant)
    assert metrics["roc_auc"] == 0.5 and metrics["pr_auc"] == pytest.approx(y.mean())
    perfect = y.astype(float)
    hits = min(50, int(y.sum()))  # a perfect score puts every repeat buyer first
    assert top_fraction_precision_recall(y, perfect, 0.1) == (pytest.approx(hits / 50), pytest.approx(hits / y.sum()))
    assert evaluate_scores(y, perfect)["pr_auc"] == pytest.approx(average_precision_score(y, perfect))


def test_time_split_trains_only_on_labels_known_at_the_cutoff():
    df = synthetic_first_purchases(2000, seed=1, signal=True)
    train, test, cutoff = time_split(df, **repeat_config(test_share=0.25, train_embargo=True).split_arguments())
    first = df["first_purchased_at"]
    assert not (train & test).any()
    assert df.loc[train | test, "horizon_complete"].all()
    assert (first[test] >= cutoff).all()
    assert ((first[train] + pd.Timedelta(days=REPEAT.repeat_horizon_days)) <= cutoff).all()
    eligible = df["horizon_complete"].sum()
    assert test.sum() == pytest.approx(0.25 * eligible, abs=2)
    fixed_train, fixed_test, fixed = time_split(
        df, **repeat_config(test_cutoff_date="2018-03-01", train_embargo=False).split_arguments()
    )
    assert fixed == pd.Timestamp("2018-03-01")
    assert (first[fixed_train] < fixed).all() and (first[fixed_test] >= fixed).all()


def test_model_beats_baselines_on_a_planted_signal():
    df = synthetic_first_purchases(4000, seed=2, signal=True)
    config = repeat_config(bootstrap_samples=100)
    metrics = repeat_model_metrics(df, **config.metrics_arguments()).set_index("model_name")
    assert list(metrics.index) == ["hist_gradient_boosting", "baseline_always_no", "baseline_single_feature_logistic"]
    for column in ["roc_auc", "pr_auc", "precision_top_decile", "recall_top_decile", "base_rate"]:
        assert metrics[column].between(0, 1).all(), column
    model = metrics.loc["hist_gradient_boosting"]
    assert model["roc_auc"] > 0.7
    assert bool(model["beats_baselines"]) and model["roc_auc_gain_ci_low"] > 0
    assert model["verdict"].startswith("beats the baselines:")
    always_no = metrics.loc["baseline_always_no"]
    assert always_no["roc_auc"] == 0.5 and always_no["pr_auc"] == pytest.approx(always_no["base_rate"])
    # calibrated probabilities: the mean prediction is near the observed rate, not near 0 or 0.5
    assert model["mean_predicted_probability"] == pytest.approx(model["base_rate"], rel=0.5)
    assert metrics["n_test"].nunique() == 1 and model["n_test_positive"] > 0


def test_metrics_say_so_when_the_model_does_not_beat_the_baselines():
    df = synthetic_first_purchases(3000, seed=3, signal=False)
    config = repeat_config(bootstrap_samples=100)
    metrics = repeat_model_metrics(df, **config.metrics_arguments()).set_index("model_name")
    model = metrics.loc["hist_gradient_boosting"]
    assert not model["verdict"].startswith("beats the baselines:")
    assert model["roc_auc_gain_ci_low"] <= 0
    assert metrics.loc["baseline_always_no", "verdict"] is None or pd.isna(metrics.loc["baseline_always_no", "verdict"])


def test_metrics_without_positives_in_training_are_reported_not_raised():
    df = synthetic_first_purchases(800, seed=4, signal=True)
    df[LABEL] = pd.array(np.where(df["horizon_complete"], False, None), dtype="boolean")
    metrics = repeat_model_metrics(df, **REPEAT.metrics_arguments()).set_index("model_name")
    assert metrics.loc["hist_gradient_boosting", "verdict"].startswith("not trained")
    assert pd.isna(metrics.loc["hist_gradient_boosting", "roc_auc"])
    scores = repeat_scores(df, **REPEAT.scores_arguments())
    scored = scores["known_outcome"].isna()
    assert scored.sum() == (~df["horizon_complete"]).sum() > 0
    assert scores.loc[scored, "model_name"].eq("constant_observed_rate").all()
    assert scores.loc[scored, "repeat_probability"].eq(0).all()
    assert scores.loc[~scored, "known_outcome"].eq("did not repeat").all()


def test_label_and_later_order_columns_never_reach_the_model():
    df = synthetic_first_purchases(2500, seed=5, signal=True)
    with pytest.raises(ValueError, match="not features"):
        repeat_model_metrics(
            df, **repeat_config(numeric_features=[*REPEAT.numeric_features, "purchase_count"]).metrics_arguments()
        )
    with pytest.raises(ValueError, match="not features"):
        with_label = repeat_config(categorical_features=[*REPEAT.categorical_features, LABEL])
        repeat_scores(df, **with_label.scores_arguments())
    # columns built from later orders (or the label itself) sitting in the input change nothing
    leaky = df.copy()
    leaky["frequency"] = leaky["purchase_count"]
    leaky["monetary"] = np.where(leaky[LABEL].fillna(False), 1000.0, 10.0)
    leaky["purchase_count"] = np.where(leaky["purchase_count"] > 1, 9, 1)
    config = repeat_config(bootstrap_samples=50)
    a = repeat_model_metrics(df, **config.metrics_arguments())
    b = repeat_model_metrics(leaky, **config.metrics_arguments())
    pd.testing.assert_frame_equal(a, b)


def test_repeat_scores_rank_open_customers_deterministically():
    df = synthetic_first_purchases(2500, seed=6, signal=True)
    a = repeat_scores(df, **REPEAT.scores_arguments())
    b = repeat_scores(df.sample(frac=1, random_state=1), **REPEAT.scores_arguments())
    pd.testing.assert_frame_equal(
        a.sort_values("customer_unique_id").reset_index(drop=True),
        b.sort_values("customer_unique_id").reset_index(drop=True),
    )
    assert set(a["customer_unique_id"]) == set(df["customer_unique_id"])
    scored = a[a["known_outcome"].isna()]
    assert set(scored["customer_unique_id"]) == set(df.loc[df[LABEL].isna(), "customer_unique_id"])
    assert scored["repeat_probability"].between(0, 1).all()
    assert sorted(scored["repeat_decile"].unique()) == list(range(1, 11))
    # decile 1 holds the highest probabilities
    assert (
        scored.loc[scored["repeat_decile"] == 1, "repeat_probability"].min()
        >= scored.loc[scored["repeat_decile"] == 10, "repeat_probability"].max()
    )


def test_known_outcomes_are_reported_not_ranked():
    """Planted: customers whose horizon is over, and open-horizon customers who already repeated after the
    feature window, have a known outcome. They get it in known_outcome and no score; the deciles split the open
    customers alone into tenths."""
    df = synthetic_first_purchases(3000, seed=16, signal=True)
    scores = repeat_scores(df, **REPEAT.scores_arguments()).set_index("customer_unique_id")
    scores = scores.loc[df["customer_unique_id"]]
    label = df.set_index("customer_unique_id")[LABEL]
    open_ = label.isna().to_numpy()
    assert open_.sum() > 100 and (~open_).sum() > 1000
    assert (~df["horizon_complete"] & df[LABEL].fillna(False)).sum() > 0  # open horizon, outcome already known
    expected = np.where(open_, None, np.where(label.fillna(False), "repeated", "did not repeat"))
    assert scores["known_outcome"].astype(object).where(~open_, None).tolist() == expected.tolist()
    assert scores.loc[~open_, ["repeat_probability", "repeat_decile", "model_name", "feature_set"]].isna().all().all()
    assert scores.loc[open_, "repeat_probability"].notna().all() and scores.loc[open_, "repeat_decile"].notna().all()
    counts = scores.loc[open_, "repeat_decile"].value_counts()
    assert counts.max() - counts.min() <= 1  # tenths of the open customers, not of everyone


def test_open_feature_window_is_scored_without_window_features():
    """Planted: an open customer whose feature window is not over has no delivery / review yet for a reason that
    never occurs in training (there null means "not within the window"). Their score must not depend on those
    columns at all, and says which features it used; customers with a complete window use every feature."""
    df = synthetic_first_purchases(3000, seed=17, signal=True)
    early = (~df["feature_window_complete"]).to_numpy()
    assert early.sum() > 20 and df.loc[early, LABEL].isna().all()
    full_mask = ~early & df[LABEL].isna().to_numpy()  # open, window over: scored with every feature
    base = repeat_scores(df, **REPEAT.scores_arguments()).set_index("customer_unique_id")
    # change the window features of the scored (never training) customers only: the models stay the same
    changed = df.copy()
    even = np.arange(len(df)) % 2 == 0
    for column in WINDOW_FEATURES:
        changed.loc[early & even, column] = np.nan
    changed.loc[early & ~even, "first_order_review_score"] = 5.0
    changed.loc[full_mask, "first_order_review_score"] = np.where(
        df.loc[full_mask, "first_order_review_score"] == 5, 1.0, 5.0
    )
    other = repeat_scores(changed, **REPEAT.scores_arguments()).set_index("customer_unique_id")
    ids, full = df.loc[early, "customer_unique_id"], df.loc[full_mask, "customer_unique_id"]
    assert (base.loc[ids, "repeat_probability"] == other.loc[ids, "repeat_probability"]).all()
    assert base.loc[ids, "feature_set"].eq(FEATURE_SET_FIRST_ORDER).all()
    assert not base.loc[ids, "feature_window_complete"].any()
    assert len(full) > 0 and base.loc[full, "feature_set"].eq(FEATURE_SET_FULL).all()
    # with the window over, the review does matter (the planted signal): the full model reads it
    assert not np.allclose(base.loc[full, "repeat_probability"], other.loc[full, "repeat_probability"])


def test_configs_parse_what_dbt_renders():
    """dbt renders the YAML configs of _ml__models.yml as strings: numbers, "None" for a null var, comma lists."""
    rendered = {
        "random_seed": "42",
        "k_range": "2,4",
        "fixed_k": "None",
        "silhouette_sample_size": "20000",
        "minibatch_threshold": "200000",
        "n_init": "4",
        "fit_sample_size": "0",
        "cluster_features": "log_recency,log_frequency",
    }
    config = ClusterConfig.from_config(rendered)
    assert config.k_values == [2, 3, 4] and config.fixed_k is None and config.fit_sample_size is None
    assert config.cluster_features == ("log_recency", "log_frequency") and config.random_seed == 42
    assert ClusterConfig.from_config({**rendered, "k_range": "[3, 5]", "fixed_k": "4"}).k_values == [3, 4, 5]
    repeat = RepeatConfig.from_config(
        {
            "random_seed": "7",
            "repeat_horizon_days": "180",
            "test_share": "0.25",
            "test_cutoff_date": "None",
            "train_embargo": "true",
            "baseline_feature": "null",
            "bootstrap_samples": "200",
            "train_sample_size": "500000",
            "bootstrap_sample_size": "-1",
            "numeric_features": "a,b",
            "categorical_features": '["c"]',
        }
    )
    assert (repeat.test_share, repeat.test_cutoff_date, repeat.train_embargo, repeat.baseline_feature) == (
        0.25,
        None,
        True,
        None,
    )
    assert repeat.bootstrap_sample_size is None and repeat.train_sample_size == 500_000
    assert repeat.numeric_features == ("a", "b") and repeat.categorical_features == ("c",)


def test_configs_have_no_defaults_and_name_the_var():
    """A setting missing from the model config, null where it must be set, or unparseable fails; no fallback."""
    rendered = {
        "random_seed": "42",
        "k_range": "2,4",
        "fixed_k": "None",
        "silhouette_sample_size": "20000",
        "minibatch_threshold": "200000",
        "n_init": "4",
        "fit_sample_size": "0",
        "cluster_features": "log_recency",
    }
    with pytest.raises(ConfigError, match=r"'n_init' \(var kmeans_n_init\) is missing"):
        ClusterConfig.from_config({k: v for k, v in rendered.items() if k != "n_init"})
    with pytest.raises(ConfigError, match=r"'n_init' \(var kmeans_n_init\) is null or missing"):
        ClusterConfig.from_config({**rendered, "n_init": None})  # dbt.config.get of a key the config lacks
    with pytest.raises(ConfigError, match=r"'random_seed' \(var random_seed\) is null"):
        ClusterConfig.from_config({**rendered, "random_seed": "None"})
    with pytest.raises(ConfigError, match=r"'silhouette_sample_size' \(var kmeans_silhouette_sample_size\) = 'many'"):
        ClusterConfig.from_config({**rendered, "silhouette_sample_size": "many"})
    with pytest.raises(ConfigError, match="kmeans_k_range"):
        ClusterConfig.from_config({**rendered, "k_range": "5,2"})
    with pytest.raises(ConfigError, match=r"'train_embargo' \(var repeat_train_embargo\) is missing"):
        RepeatConfig.from_config({})


# ------------------------------------------------------------------------------------ scale: fit caps (issue 8)
def _blob_matrix(n: int, centers: int, seed: int):
    df, planted = customers_from_blobs(n, centers, seed=seed, regions=("Southeast",))
    return df, ClusterFeatureEncoder(CLUSTER_FEATURES).fit_transform(df).to_numpy(), planted


class _FitSizeSpy:
    """Records how many rows every KMeans / gradient-boosting fit received."""

    def __init__(self, monkeypatch, module, name):
        self.sizes = []
        original = getattr(module, name)
        spy = self

        class Recording(original):
            def fit(self, X, *args, **kwargs):
                spy.sizes.append(len(X))
                return super().fit(X, *args, **kwargs)

        monkeypatch.setattr(module, name, Recording)


@pytest.mark.parametrize("with_keys", [False, True])
def test_kmeans_fit_cap_fits_on_exactly_the_cap_and_labels_every_row(monkeypatch, with_keys):
    import customer_segmentation.ml.clustering as clustering

    df, X, planted = _blob_matrix(3000, 4, seed=21)
    keys = pd.util.hash_pandas_object(df["customer_unique_id"], index=False).to_numpy() if with_keys else None
    spy = _FitSizeSpy(monkeypatch, clustering, "KMeans")
    config = cluster_config(silhouette_sample_size=600, fit_sample_size=500)
    selection = cluster_selection(X, range(2, 7), keys=keys, **config.selection_arguments())
    assert spy.sizes and set(spy.sizes) == {500}  # every candidate trained on exactly the cap
    assert selection["n_fit_customers"].eq(500).all() and selection["n_customers"].eq(3000).all()
    assert int(selection.loc[selection["chosen"], "k"].iloc[0]) == 4  # still finds the planted k
    spy.sizes.clear()
    fit = clustering.fit_clusters(X, 4, keys=keys, **config.fit_arguments())
    assert spy.sizes == [500] and fit.n_fit == 500
    assert len(fit.labels) == len(X) and set(np.unique(fit.labels)) == {0, 1, 2, 3}  # every row labelled
    assert adjusted_rand_score(planted, fit.labels) >= 0.95
    assert np.allclose(fit.distances, np.linalg.norm(X - fit.centers[fit.labels], axis=1))
    assert list(np.bincount(fit.labels)) == sorted(np.bincount(fit.labels), reverse=True)
    # the final fit reproduces the inertia cluster_selection reported for that k (customer_clusters checks this)
    assert fit.inertia == pytest.approx(float(selection.loc[selection["k"] == 4, "inertia"].iloc[0]), rel=1e-9)


def test_capped_kmeans_is_deterministic_and_seeded():
    _, X, _ = _blob_matrix(2500, 5, seed=22)
    config = cluster_config(random_seed=7, silhouette_sample_size=400, fit_sample_size=300)
    a = cluster_selection(X, range(2, 7), **config.selection_arguments())
    b = cluster_selection(X, range(2, 7), **config.selection_arguments())
    pd.testing.assert_frame_equal(a, b)
    from customer_segmentation.ml.clustering import fit_clusters, fit_sample_rows

    fa, fb = fit_clusters(X, 5, **config.fit_arguments()), fit_clusters(X, 5, **config.fit_arguments())
    assert np.array_equal(fa.labels, fb.labels) and np.array_equal(fa.distances, fb.distances)
    # the seed picks the sample
    assert not np.array_equal(fit_sample_rows(len(X), 300, 7), fit_sample_rows(len(X), 300, 8))


def test_kmeans_at_or_below_the_cap_is_identical_to_the_uncapped_path():
    _, X, _ = _blob_matrix(1200, 3, seed=23)
    uncapped_config = cluster_config(silhouette_sample_size=500, fit_sample_size=None)
    uncapped = cluster_selection(X, range(2, 6), **uncapped_config.selection_arguments())
    for cap in (len(X), 10 * len(X)):
        capped_config = cluster_config(silhouette_sample_size=500, fit_sample_size=cap)
        capped = cluster_selection(X, range(2, 6), **capped_config.selection_arguments())
        pd.testing.assert_frame_equal(capped, uncapped)
        assert capped["n_fit_customers"].eq(len(X)).all()
    from customer_segmentation.ml.clustering import fit_clusters

    a = fit_clusters(X, 3, **uncapped_config.fit_arguments())
    b = fit_clusters(X, 3, **cluster_config(fit_sample_size=len(X)).fit_arguments())
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.distances, b.distances) and a.inertia == b.inertia


def test_large_input_path_does_not_depend_on_row_order(monkeypatch):
    """Above ordering.SORT_LIMIT rows nothing is sorted: samples and model input order come from keys."""
    import customer_segmentation.ml.ordering as ordering

    monkeypatch.setattr(ordering, "SORT_LIMIT", 100)
    df, _ = customers_from_blobs(1500, 4, seed=24)
    config = cluster_config(random_seed=5, k_range="2,6", silhouette_sample_size=400, fit_sample_size=600)
    shuffled = df.sample(frac=1, random_state=2)
    a, b = pipeline.cluster_selection_table(df, config), pipeline.cluster_selection_table(shuffled, config)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
    assert a["n_fit_customers"].eq(600).all()
    key = ["customer_unique_id"]
    ca = pipeline.customer_clusters_table(df, a, config).sort_values(key).reset_index(drop=True)
    cb = pipeline.customer_clusters_table(shuffled, a, config).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(ca, cb)
    fp = synthetic_first_purchases(3000, seed=25, signal=True)
    capped = repeat_config(train_sample_size=800).scores_arguments()
    ra = repeat_scores(fp, **capped)
    rb = repeat_scores(fp.sample(frac=1, random_state=4), **capped)
    pd.testing.assert_frame_equal(
        ra.sort_values(key).reset_index(drop=True), rb.sort_values(key).reset_index(drop=True)
    )


def test_repeat_training_cap_fits_on_exactly_the_cap_and_scores_everyone(monkeypatch):
    import customer_segmentation.ml.repeat_model as repeat_model

    df = synthetic_first_purchases(4000, seed=26, signal=True)
    labelled = df[df["horizon_complete"]]
    spy = _FitSizeSpy(monkeypatch, repeat_model, "HistGradientBoostingClassifier")
    capped = repeat_config(train_sample_size=1000).scores_arguments()
    scores = repeat_scores(df, **capped)
    # the model and its calibration folds (fit side by side: any order) saw the sample
    assert 1000 in spy.sizes and max(spy.sizes) == 1000
    assert scores["n_training_customers"].eq(1000).all()
    assert scores["n_labelled_customers"].eq(len(labelled)).all()
    repeat_share = labelled[LABEL].fillna(False).astype(bool).mean()
    assert scores["n_training_repeaters"].iloc[0] == round(1000 * repeat_share)  # stratified
    assert set(scores.loc[scores["known_outcome"].isna(), "customer_unique_id"]) == set(
        df.loc[df[LABEL].isna(), "customer_unique_id"]
    )
    assert scores.loc[scores["known_outcome"].isna(), "repeat_probability"].between(0, 1).all()
    again = repeat_scores(df, **capped)
    pd.testing.assert_frame_equal(scores, again)  # deterministic
    # at or below the cap: identical to the uncapped path
    uncapped = repeat_scores(df, **repeat_config(train_sample_size=None).scores_arguments())
    at_cap = repeat_scores(df, **repeat_config(train_sample_size=len(labelled)).scores_arguments())
    pd.testing.assert_frame_equal(at_cap, uncapped)

    spy.sizes.clear()
    capped = repeat_config(bootstrap_samples=50, train_sample_size=500, bootstrap_sample_size=300)
    metrics = repeat_model_metrics(df, **capped.metrics_arguments())
    assert 500 in spy.sizes and max(spy.sizes) == 500 and metrics["n_train_fit"].eq(500).all()
    assert metrics["n_test_bootstrap"].eq(300).all() and (metrics["n_test"] > 300).all()
    assert metrics["roc_auc"].notna().iloc[0]
    uncapped = repeat_config(bootstrap_samples=50, train_sample_size=None, bootstrap_sample_size=None)
    base = repeat_model_metrics(df, **uncapped.metrics_arguments())
    big_caps = repeat_config(bootstrap_samples=50, train_sample_size=10**9, bootstrap_sample_size=10**9)
    pd.testing.assert_frame_equal(repeat_model_metrics(df, **big_caps.metrics_arguments()), base)
    assert (base["n_train_fit"] == base["n_train"]).all() and (base["n_test_bootstrap"] == base["n_test"]).all()


def test_fast_bootstrap_auc_equals_ranking_every_resample():
    from customer_segmentation.ml.repeat_model import bootstrap_auc

    rng = np.random.default_rng(3)
    y = rng.random(400) < 0.2
    scores = {"tied": np.round(rng.random(400), 1), "smooth": rng.random(400) + y}
    got = bootstrap_auc(y, scores, seed=9, n_boot=40, sample_size=None)
    reference = {name: [] for name in scores}
    draw = np.random.default_rng(9)
    for _ in range(40):
        idx = draw.integers(0, len(y), len(y))
        if y[idx].all() or not y[idx].any():
            continue
        for name, s in scores.items():
            reference[name].append(roc_auc_score(y[idx], s[idx]))
    for name in scores:
        assert got[name] == pytest.approx(np.array(reference[name]), abs=1e-12)


def _resident_mb() -> float:
    import os

    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="resident memory is read from /proc (Linux)")
def test_fetch_keeps_only_the_frame_resident():
    """fetch's frame must not keep DuckDB's Arrow export alive nor leave its freed memory with the process: a
    pandas column wrapping the exported id buffers kept every column of the export (a batch is freed only when
    none of its columns is referenced), 2.2 GB held beside a 1.3 GB frame at 9.5 M customers. Here 3 M rows: the
    process may grow by the frame and little more (the export alone is as large as the frame)."""
    con = duckdb.connect()
    con.execute(
        "create table features as select md5(cast(range as varchar)) as customer_unique_id,"
        " range % 7 = 0 as flag, ['N', 'S', 'SE'][range % 3 + 1] as region,"
        + ", ".join(f"cast(range * {k} % 1000 as decimal(18, 2)) as x{k}" for k in range(1, 9))
        + " from range(3000000)"
    )
    columns = ["customer_unique_id", "flag", "region", *[f"x{k}" for k in range(1, 9)]]
    before = _resident_mb()
    frame = pipeline.fetch(con.table("features"), columns, [f"x{k}" for k in range(1, 9)])
    grown = _resident_mb() - before
    frame_mb = frame.memory_usage(deep=True).sum() / 2**20
    assert len(frame) == 3_000_000 and frame["x3"].sum() == pytest.approx(
        float(con.execute("select sum(x3) from features").fetchone()[0])
    )
    assert grown < 1.3 * frame_mb + 64, f"resident memory grew {grown:.0f} MB for a {frame_mb:.0f} MB frame"


def _model_output(n: int) -> pd.DataFrame:
    """A model's output frame with the column kinds the Python models return."""
    rows = np.arange(n)
    return pd.DataFrame(
        {
            "customer_unique_id": [f"c{i:07d}" for i in rows],
            "score": rows / 7.0,
            "decile": pd.array(np.where(rows % 5 == 0, None, rows % 10), dtype="Int64"),
            "flag": pd.array(np.where(rows % 3 == 0, None, rows % 2 == 0), dtype="boolean"),
            "label": pd.Categorical(np.array(["low", "mid", "high"])[rows % 3]),
            "as_of": pd.Timestamp("2018-08-31") + pd.to_timedelta(rows % 30, unit="D"),
        }
    )


def test_model_result_frees_the_inputs_and_gives_dbt_duckdb_the_same_table():
    """On dbt-duckdb's session (its cursor wrapper, as dbt hands it to model()) the result is a relation, the
    frame and everything build() read are gone before model_result returns, and the table dbt-duckdb makes of the
    relation (register + create table as, its materialize) equals the one it makes of the DataFrame itself."""
    import weakref

    from dbt.adapters.duckdb.environments.local import DuckDBCursorWrapper

    con = duckdb.connect()
    alive = {}

    def build():
        inputs = _model_output(5000)
        out = inputs.copy()
        alive["inputs"], alive["out"] = weakref.ref(inputs), weakref.ref(out)
        return out

    session = DuckDBCursorWrapper(con.cursor())
    result = pipeline.model_result(session, build)
    assert alive["inputs"]() is None and alive["out"]() is None
    # materialized as dbt-duckdb does: a relation on the session it was made on, a DataFrame on another cursor
    for name, obj, cursor in (("from_relation", result, session), ("from_frame", _model_output(5000), con.cursor())):
        cursor.register(f"{name}_view", obj)
        cursor.execute(f"create table {name} as select * from {name}_view")
        cursor.unregister(f"{name}_view")
    assert con.execute("describe from_relation").fetchall() == con.execute("describe from_frame").fetchall()
    for a, b in (("from_relation", "from_frame"), ("from_frame", "from_relation")):
        assert con.execute(f"select count(*) from (from {a} except all from {b})").fetchone()[0] == 0
    assert con.execute("select count(*) from from_relation").fetchone()[0] == 5000
    # not a DuckDB session (Spark, PostgreSQL through scripts/run_python_models.py): the frame itself
    frame = _model_output(3)
    assert pipeline.model_result(None, lambda: frame) is frame
    assert pipeline.model_result(object(), lambda: frame) is frame


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="the server's command line is read from /proc")
def test_model_result_starts_the_fork_server_of_the_lifetime_value_work():
    """A dbt Python model's table written (model_result on a DuckDB session), the fork server of the CLV fits and
    scoring is already starting, with its preload (pymc-marketing, this package's clv), so the first fit does not
    wait for that import; and nothing of the library is imported in the model's own process."""
    code = (
        "import sys, time; import duckdb, pandas as pd; from customer_segmentation.ml import pipeline\n"
        "pipeline.model_result(duckdb.connect().cursor(), lambda: pd.DataFrame({'x': [1.0]}))\n"
        "assert 'pymc_marketing' not in sys.modules\n"
        "from multiprocessing import forkserver\n"
        "pid = forkserver._forkserver._forkserver_pid\n"
        "print(open(f'/proc/{pid}/cmdline').read().replace(chr(0), ' '))\n"
        # the server would finish its ~5 s import before it notices this process is gone: CPU the other tests need
        "import os, signal; os.kill(pid, signal.SIGKILL)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "multiprocessing.forkserver" in run.stdout and "pymc_marketing.clv" in run.stdout
    assert "customer_segmentation.ml.clv_forkserver" in run.stdout


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="resident memory is read from /proc (Linux)")
def test_model_result_hands_the_models_freed_memory_back():
    """What build() allocated and freed must not stay with the process for the rest of the build: C-heap blocks
    freed between survivors are kept by the allocator unless handed back (a DataFrame returned to dbt-duckdb left
    2.4 GB resident after customer_repeat_scores at 10 M orders). Here 400 MB of 2 KB blocks, one in 50 kept:
    without the hand-back the process stays ~390 MB larger (measured)."""
    con = duckdb.connect()
    survivors = []

    def build():
        blocks = [bytes(2000) + bytes([i % 256]) for i in range(200_000)]
        survivors.extend(blocks[::50])
        return pd.DataFrame({"x": np.arange(10.0)})

    before = _resident_mb()
    pipeline.model_result(con.cursor(), build)
    grown = _resident_mb() - before
    assert len(survivors) == 4000
    assert grown < 100, f"resident memory grew {grown:.0f} MB after model_result"


# ------------------------------------------------------------------------------------ dbt outputs
def test_ml_models_built_and_passed_their_tests(any_build):
    run, _ = any_build
    statuses = run.statuses()
    for name in ML_TABLES:
        uid = f"model.customer_segmentation.{name}"
        assert statuses.get(uid) == "success", (uid, statuses.get(uid))
    ml_tests = [uid for uid in statuses if uid.startswith("test.") and any(t in uid for t in ML_TABLES)]
    # every ML table has its columns_valid test (nulls, ranges, accepted values and expressions in one query)
    assert {f"columns_valid_{name}" for name in ML_TABLES} <= {uid.split(".")[2] for uid in ml_tests}
    assert all(statuses[uid] == "pass" for uid in ml_tests)


def test_one_cluster_row_per_customer_and_consistent_selection(any_build):
    run, _ = any_build
    db = run.db_path
    n_rfm = query(db, "select count(*) from customer_rfm")[0][0]
    assert query(db, "select count(*), count(distinct customer_unique_id) from customer_clusters")[0] == (n_rfm, n_rfm)
    assert query(db, "select count(*) from ml_customer_features")[0][0] == n_rfm
    selection = query_df(db, "select * from cluster_selection order by k")
    assert selection["chosen"].sum() == 1
    chosen = selection[selection["chosen"]].iloc[0]
    assert chosen["silhouette"] == selection["silhouette"].max()  # default: best silhouette
    assert list(selection["k"]) == list(range(2, 11))
    profiles = query_df(db, "select * from cluster_profiles order by cluster")
    assert list(profiles["cluster"]) == list(range(int(chosen["k"])))
    assert profiles["size"].sum() == n_rfm
    assert profiles["cluster_name"].is_unique
    counted = query_df(db, "select cluster, count(*) as n from customer_clusters group by cluster order by cluster")
    assert counted["n"].tolist() == profiles["size"].tolist()


def test_repeat_scores_report_known_outcomes_and_rank_only_open_customers(any_build):
    run, _ = any_build
    db = run.db_path
    df = query_df(
        db,
        """select f.customer_unique_id, f.horizon_complete, f.feature_window_complete as window_complete,
                  f.repeated_in_outcome_window as label, s.customer_unique_id as scored_id, s.known_outcome,
                  s.repeat_probability, s.repeat_decile, s.feature_set, s.feature_window_complete, s.model_name
           from ml_first_purchase_features f
           left join customer_repeat_scores s using (customer_unique_id)""",
    )
    assert df["scored_id"].notna().all()  # one row per customer, the known outcomes included
    assert query(db, "select count(*) from customer_repeat_scores")[0][0] == len(df)
    label = df["label"].astype("boolean")
    expected = np.where(label.isna(), None, np.where(label.fillna(False), "repeated", "did not repeat"))
    assert df["known_outcome"].astype(object).where(df["known_outcome"].notna(), None).tolist() == expected.tolist()
    scored = df["known_outcome"].isna()
    assert not df.loc[df["horizon_complete"].astype(bool), "known_outcome"].isna().any()  # horizon over: never ranked
    assert df.loc[scored, "repeat_probability"].notna().all() and df.loc[~scored, "repeat_probability"].isna().all()
    assert df.loc[scored, "repeat_decile"].notna().all() and df.loc[~scored, "repeat_decile"].isna().all()
    assert (df["feature_window_complete"] == df["window_complete"]).all()
    trained = scored & (df["model_name"] == "hist_gradient_boosting")
    assert (
        df.loc[trained, "feature_set"]
        == np.where(df.loc[trained, "window_complete"], "first_order_and_feature_window", "first_order_only")
    ).all()
    metrics = query_df(db, "select * from repeat_model_metrics")
    assert sorted(metrics["model_name"]) == [
        "baseline_always_no",
        "baseline_single_feature_logistic",
        "hist_gradient_boosting",
    ]
    assert metrics.loc[metrics["model_role"] == "model", "verdict"].notna().all()


def test_first_purchase_features_and_label_match_pandas_on_raw(sample_build):
    """Independent recomputation from the raw CSVs: first purchase, its money, the window features (known by the
    window end and before the analysis date), the window flags and the label (a repeat on a later calendar day,
    after the feature window, by the horizon end)."""
    raw_dir = ROOT / "data" / "sample"
    orders = orders_with_customers(raw_dir)
    items = read(raw_dir, "order_items")
    items["price"] = items["price"].astype(float)
    items["freight_value"] = items["freight_value"].astype(float)
    per_order = items.groupby("order_id").agg(item_count=("order_item_id", "count"), freight=("freight_value", "sum"))
    purchases = orders[orders["is_purchase"]].sort_values(["customer_unique_id", "purchased_at", "order_id"])
    purchases = purchases.join(per_order, on="order_id")
    first = purchases.groupby("customer_unique_id").head(1).set_index("customer_unique_id")
    end = purchases["purchased_at"].dt.normalize().max() + pd.Timedelta(days=1)
    horizon, window = pd.Timedelta(days=180), pd.Timedelta(days=30)
    merged = purchases.join(
        first[["purchased_at"]].rename(columns={"purchased_at": "first_at"}), on="customer_unique_id"
    )
    returns = merged[
        (merged["purchased_at"].dt.normalize() >= merged["first_at"].dt.normalize() + pd.Timedelta(days=1))
        & (merged["purchased_at"] > merged["first_at"] + window)
        & (merged["purchased_at"] <= merged["first_at"] + horizon)
    ]
    repeaters = set(returns["customer_unique_id"])
    inside_window_only = (
        set(
            merged.loc[
                (merged["purchased_at"].dt.normalize() >= merged["first_at"].dt.normalize() + pd.Timedelta(days=1))
                & (merged["purchased_at"] <= merged["first_at"] + window),
                "customer_unique_id",
            ]
        )
        - repeaters
    )

    got = query_df(sample_build.db_path, "select * from ml_first_purchase_features").set_index("customer_unique_id")
    assert set(got.index) == set(first.index)
    got = got.loc[first.index]
    assert (got["first_order_id"] == first["order_id"]).all()
    assert np.allclose(got["first_order_payment_value"].astype(float), first["payment_value"], atol=0.005)
    assert np.allclose(got["first_order_freight_value"].astype(float), first["freight"].fillna(0), atol=0.005)
    assert (got["first_order_item_count"] == first["item_count"].fillna(0)).all()
    assert (got["purchase_count"] == purchases.groupby("customer_unique_id").size().loc[first.index]).all()
    complete = (first["purchased_at"] + horizon) <= end
    assert (got["horizon_complete"] == complete).all()
    assert (got["feature_window_complete"] == ((first["purchased_at"] + window) <= end)).all()
    label = got.loc[complete, "repeated_in_outcome_window"].astype(bool)
    assert label.sum() == len(repeaters & set(label.index))
    assert set(label[label].index) == repeaters & set(label.index)
    open_label = got.loc[~complete, "repeated_in_outcome_window"]
    assert set(open_label[open_label.notna()].index) == repeaters & set(open_label.index)
    assert not open_label[open_label.notna()].eq(False).any()
    # customers whose only repeats fall inside the feature window are not repeat buyers of the label
    assert (
        len(inside_window_only & set(label.index)) > 0
        and not label.loc[list(inside_window_only & set(label.index))].any()
    )

    # delivery: delivered by the window end and before the analysis date, else null
    delivered = pd.to_datetime(first["order_delivered_customer_date"])
    known = (delivered <= first["purchased_at"] + window) & (delivered < end)
    days = (delivered.dt.normalize() - first["purchased_at"].dt.normalize()).dt.days
    assert (got["first_order_delivery_days"].notna() == known).all()
    assert (got.loc[known, "first_order_delivery_days"] == days[known]).all()
    assert ((delivered >= end) & (delivered <= first["purchased_at"] + window)).any()  # the sample has such late news
    # review: the latest answer by the window end and before the analysis date
    reviews = read(raw_dir, "order_reviews")
    for col in ("review_creation_date", "review_answer_timestamp"):
        reviews[col] = pd.to_datetime(reviews[col])
    reviews = reviews.dropna(subset=["review_score"]).merge(
        first[["order_id", "purchased_at"]].reset_index(), on="order_id"
    )
    reviews = reviews[
        (reviews["review_answer_timestamp"] <= reviews["purchased_at"] + window)
        & (reviews["review_answer_timestamp"] < end)
    ]
    latest = reviews.sort_values(
        ["customer_unique_id", "review_answer_timestamp", "review_creation_date"], ascending=[True, False, False]
    ).drop_duplicates("customer_unique_id")
    score = latest.set_index("customer_unique_id")["review_score"].astype(float).reindex(first.index)
    assert (got["first_order_review_score"].notna() == score.notna()).all()
    assert (got.loc[score.notna(), "first_order_review_score"].astype(float) == score.dropna()).all()


def _copy_warehouse(run, tmp_path, name):
    """A copy of a session warehouse, same file name (hence same DuckDB catalog name) in its own folder."""
    folder = tmp_path / name
    folder.mkdir()
    copy = folder / run.db_path.name
    shutil.copy(run.db_path, copy)
    return copy


def test_first_purchase_features_ignore_later_orders(sample_build, tmp_path):
    """Leakage test: rewrite, add and delete purchases after each customer's first one (and the reviews
    of those later orders) in a copy of the warehouse, rerun the model's compiled SQL, and require
    identical feature columns while the labels and purchase counts do change."""
    compiled = sample_build.db_path.parent / "target" / "compiled"
    model_sql = next(compiled.rglob("ml_first_purchase_features.sql")).read_text()
    dim_customers_sql = next(compiled.rglob("dim_customers.sql")).read_text()
    db = _copy_warehouse(sample_build, tmp_path, "mutated")
    before = query_df(db, "select * from ml_first_purchase_features order by customer_unique_id")
    with duckdb.connect(str(db)) as con:
        con.execute(
            """
            create temp table first_orders as
            select customer_unique_id, first_order_id, first_purchased_at from ml_first_purchase_features
            """
        )
        max_date = con.execute("select max(purchase_date) from fct_orders where is_purchase").fetchone()[0]
        later = """(select o.order_id from fct_orders o join first_orders f using (customer_unique_id)
                    where o.purchased_at > f.first_purchased_at
                        or (o.purchased_at = f.first_purchased_at and o.order_id > f.first_order_id))"""
        n_later = con.execute(f"select count(*) from {later}").fetchone()[0]
        assert n_later > 0, "the sample needs repeat buyers for this test to mean anything"
        # 1) change everything about the later orders
        con.execute(
            f"""
            update fct_orders set
                payment_value = payment_value * 7 + 3, freight_value = freight_value + 11,
                item_count = item_count + 5, payment_installments = 12, main_payment_type = 'voucher',
                main_product_category = 'mutated_category', customer_state = 'AC', customer_region = 'North',
                delivery_days = 1, delivered_customer_at = purchased_at + interval 1 day,
                review_score = 1, mean_review_score = 1
            where order_id in {later}
            """
        )
        con.execute(f"update stg_olist__order_reviews set review_score = 1 where order_id in {later}")
        # 2) drop the later orders of every other repeat buyer
        con.execute(
            f"""
            delete from fct_orders where order_id in {later}
                and hash(customer_unique_id) % 2 = 0
            """
        )
        # 3) give 200 one-time buyers a new purchase 30 days after their first (inside the data range)
        con.execute(
            f"""
            insert into fct_orders by name
            select o.* replace (
                o.order_id || '_later' as order_id,
                o.purchased_at + interval 30 day as purchased_at,
                cast(o.purchased_at + interval 30 day as date) as purchase_date,
                o.payment_value + 500 as payment_value
            )
            from fct_orders o
            join first_orders f on o.order_id = f.first_order_id
            join ml_first_purchase_features m on m.customer_unique_id = f.customer_unique_id
            where m.purchase_count = 1 and cast(o.purchased_at + interval 30 day as date) <= date '{max_date}'
            order by o.order_id
            limit 200
            """
        )
        # downstream customer table refreshed too, so reading it instead of the first order would show
        con.execute(f"create or replace table dim_customers as {dim_customers_sql}")
        # the model, exactly as dbt compiled it for this warehouse, rebuilt on the mutated orders
        con.execute(f"create or replace table ml_first_purchase_features as {model_sql}")
    after = query_df(db, "select * from ml_first_purchase_features order by customer_unique_id")
    assert list(after["customer_unique_id"]) == list(before["customer_unique_id"])
    pd.testing.assert_frame_equal(after[FIRST_PURCHASE_FEATURES], before[FIRST_PURCHASE_FEATURES])
    # the mutation did reach what later orders are allowed to drive: labels and purchase counts
    assert (after["purchase_count"] != before["purchase_count"]).sum() >= 200

    def coded(label):  # true 1, false 0, open horizon -1
        return label.astype("boolean").astype("Int64").fillna(-1)

    assert (coded(after[LABEL]) != coded(before[LABEL])).sum() > 0


def _rebuild_first_purchase_features(sample_build, db) -> pd.DataFrame:
    """Rerun ml_first_purchase_features exactly as dbt compiled it for the sample, on a mutated copy."""
    compiled = sample_build.db_path.parent / "target" / "compiled"
    model_sql = next(compiled.rglob("ml_first_purchase_features.sql")).read_text()
    with duckdb.connect(str(db)) as con:
        con.execute(f"create or replace table ml_first_purchase_features as {model_sql}")
    return query_df(db, "select * from ml_first_purchase_features").set_index("customer_unique_id")


def test_window_features_ignore_events_after_the_analysis_date(sample_build, tmp_path):
    """Planted: recent customers (feature window still open) whose first order is delivered and reviewed inside
    the window but AFTER the analysis date. Those events have not happened yet: the features stay null and the
    window is flagged incomplete. A delivery inside the window before the analysis date still counts."""
    db = _copy_warehouse(sample_build, tmp_path, "late_news")
    recent = query_df(
        db,
        """select customer_unique_id, first_order_id, first_purchased_at from ml_first_purchase_features
           where first_purchased_at >= (select max(purchase_date) - 9 from fct_orders where is_purchase)
           order by customer_unique_id limit 20""",
    )
    assert len(recent) >= 10
    late, control = recent.iloc[::2], recent.iloc[1::2]
    with duckdb.connect(str(db)) as con:
        analysis_at = con.execute(
            "select cast(max(purchase_date) + 1 as timestamp) from fct_orders where is_purchase"
        ).fetchone()[0]
        ids = lambda frame: "(" + ", ".join(f"'{o}'" for o in frame["first_order_id"]) + ")"  # noqa: E731
        con.execute(f"""update fct_orders set
                            delivered_customer_at = timestamp '{analysis_at}' + interval 1 hour,
                            delivery_days = date_diff('day', purchased_at, timestamp '{analysis_at}' + interval 1 hour)
                        where order_id in {ids(late)}""")
        con.execute(f"""update fct_orders set
                            delivered_customer_at = timestamp '{analysis_at}' - interval 1 hour,
                            delivery_days = date_diff('day', purchased_at, timestamp '{analysis_at}' - interval 1 hour)
                        where order_id in {ids(control)}""")
        con.execute(f"delete from stg_olist__order_reviews where order_id in {ids(recent)}")
        con.execute(
            f"""insert into stg_olist__order_reviews by name
                select r.* replace (
                    'planted_' || o.order_id as review_id, o.order_id as order_id, 1 as review_score,
                    timestamp '{analysis_at}' + interval 1 hour as review_created_at,
                    timestamp '{analysis_at}' + interval 2 hour as review_answered_at
                )
                from fct_orders o
                cross join (select * from stg_olist__order_reviews order by review_id limit 1) r
                where o.order_id in {ids(recent)}"""
        )
    got = _rebuild_first_purchase_features(sample_build, db)
    assert got.loc[late["customer_unique_id"], "first_order_delivery_days"].isna().all()
    assert got.loc[recent["customer_unique_id"], "first_order_review_score"].isna().all()
    assert not got.loc[recent["customer_unique_id"], "feature_window_complete"].any()
    expected = (pd.Timestamp(analysis_at) - pd.Timedelta(hours=1)).normalize() - control[
        "first_purchased_at"
    ].dt.normalize()
    assert (
        got.loc[control["customer_unique_id"], "first_order_delivery_days"].to_numpy() == expected.dt.days.to_numpy()
    ).all()


def test_label_counts_repeats_after_the_feature_window_only(sample_build, tmp_path):
    """Planted one-time buyers: A repeats on day 10 (inside the feature window: not the label's), B on day 40
    (the label), C orders again the same day (not a repeat purchase, macros/repeat.sql); D (horizon open) orders
    again the same day: still open, so scored; E (horizon open) repeats on day 35: outcome known, not scored."""
    db = _copy_warehouse(sample_build, tmp_path, "planted_repeats")
    singles = query_df(
        db,
        """select customer_unique_id, first_order_id, first_purchased_at, horizon_complete, feature_window_complete
           from ml_first_purchase_features
           where purchase_count = 1 and hour(first_purchased_at) < 22
             and first_purchased_at + interval 40 day < (select max(purchased_at) from fct_orders where is_purchase)
           order by customer_unique_id""",
    )
    complete = singles[singles["horizon_complete"]]
    open_ = singles[~singles["horizon_complete"] & singles["feature_window_complete"]]
    assert len(complete) >= 3 and len(open_) >= 2
    planted = {
        "A": (complete.iloc[0], "interval 10 day"),
        "B": (complete.iloc[1], "interval 40 day"),
        "C": (complete.iloc[2], "interval 1 hour"),
        "D": (open_.iloc[0], "interval 1 hour"),
        "E": (open_.iloc[1], "interval 35 day"),
    }
    with duckdb.connect(str(db)) as con:
        for name, (row, gap) in planted.items():
            con.execute(
                f"""insert into fct_orders by name
                    select o.* replace (
                        o.order_id || '_planted_{name}' as order_id,
                        o.purchased_at + {gap} as purchased_at,
                        cast(o.purchased_at + {gap} as date) as purchase_date
                    )
                    from fct_orders o where o.order_id = '{row["first_order_id"]}'"""
            )
    got = _rebuild_first_purchase_features(sample_build, db)
    who = {name: row["customer_unique_id"] for name, (row, _) in planted.items()}
    label = got["repeated_in_outcome_window"]
    assert label[who["A"]] == False and label[who["B"]] == True and label[who["C"]] == False  # noqa: E712
    assert pd.isna(label[who["D"]]) and label[who["E"]] == True  # noqa: E712
    assert (got.loc[list(who.values()), "purchase_count"] == 2).all()  # orders, not repeat purchases
    scores = repeat_scores(got.reset_index(), **REPEAT.scores_arguments()).set_index("customer_unique_id")
    assert pd.isna(scores.loc[who["D"], "known_outcome"]) and scores.loc[who["D"], "repeat_probability"] >= 0
    assert scores.loc[who["E"], "known_outcome"] == "repeated" and pd.isna(scores.loc[who["E"], "repeat_probability"])
    assert (
        scores.loc[who["A"], "known_outcome"] == "did not repeat"
        and scores.loc[who["B"], "known_outcome"] == "repeated"
    )
