"""Logic of the dbt Python models (KMeans clusters, first-purchase repeat model, buy-till-you-die lifetime value
and the churn probabilities from it).

Pure functions on pandas DataFrames, unit-tested in tests/python/test_ml.py and tests/python/test_clv.py.
The dbt model files only fetch their inputs with dbt.ref(...), call these functions and return a DataFrame;
the inputs may be DuckDB relations, Spark or pandas DataFrames (frames.py). Their settings arrive as one typed,
frozen config object per model family (config.py), built from the model's dbt config with no default of its own.

How the models import it: profiles.yml lists the project root in dbt-duckdb's module_paths, so
`from customer_segmentation import ml` works inside dbt's process.
"""
from customer_segmentation.ml import clv, clv_pipeline, config, frames, pipeline
from customer_segmentation.ml.clustering import (
    ClusterFit,
    cluster_selection,
    fit_clusters,
    fit_kmeans,
    silhouette_multi,
)
from customer_segmentation.ml.clv import (
    customer_lifetime_value,
    expected_purchases,
    fit_model,
    gamma_gamma_spend,
    probability_alive,
    score_customers,
)
from customer_segmentation.ml.config import (
    ChurnBtydConfig,
    ClusterConfig,
    ClvConfig,
    ClvSettings,
    ConfigError,
    RepeatConfig,
)
from customer_segmentation.ml.features import (
    CLUSTER_FEATURE_CATALOGUE,
    ClusterFeatureEncoder,
)
from customer_segmentation.ml.profiles import cluster_profiles, name_clusters
from customer_segmentation.ml.repeat_model import (
    evaluate_scores,
    repeat_model_metrics,
    repeat_scores,
    time_split,
)

__all__ = [
    "CLUSTER_FEATURE_CATALOGUE",
    "ChurnBtydConfig",
    "ClusterConfig",
    "ClusterFeatureEncoder",
    "ClusterFit",
    "ClvConfig",
    "ClvSettings",
    "ConfigError",
    "RepeatConfig",
    "cluster_profiles",
    "cluster_selection",
    "customer_lifetime_value",
    "evaluate_scores",
    "expected_purchases",
    "fit_clusters",
    "fit_kmeans",
    "fit_model",
    "gamma_gamma_spend",
    "name_clusters",
    "clv",
    "clv_pipeline",
    "config",
    "frames",
    "pipeline",
    "probability_alive",
    "repeat_model_metrics",
    "repeat_scores",
    "score_customers",
    "silhouette_multi",
    "time_split",
]
