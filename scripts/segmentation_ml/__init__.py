"""Logic of the dbt Python models in models/marts/ml/ (KMeans clusters, first-purchase repeat model).

Pure functions on pandas DataFrames, unit-tested in tests/python/test_ml.py. The dbt model files only
fetch their inputs with dbt.ref(...), call these functions and return a DataFrame.

How the models import this package (models/marts/ml/*.py, function _import_ml): dbt-duckdb runs a
Python model in-process from a temporary file, so the model cannot locate itself. It puts the folder
named by var ml_package_dir (default "scripts") on sys.path, a relative value resolving from the project
root: the --project-dir of the running dbt command, else env DBT_PROJECT_DIR, else the current directory
(dbt is normally run from the project root). Failing that, it looks for scripts/segmentation_ml at and
above those roots, and raises ImportError naming the folders it tried.
"""
from segmentation_ml.clustering import (
    ClusterFit,
    cluster_selection,
    fit_clusters,
    fit_kmeans,
    silhouette_multi,
)
from segmentation_ml.features import (
    CLUSTER_NUMERIC_FEATURES,
    ClusterFeatureEncoder,
)
from segmentation_ml.profiles import cluster_profiles, name_clusters
from segmentation_ml import pipeline
from segmentation_ml.repeat_model import (
    REPEAT_CATEGORICAL_FEATURES,
    REPEAT_NUMERIC_FEATURES,
    evaluate_scores,
    repeat_model_metrics,
    repeat_scores,
    time_split,
)

__all__ = [
    "CLUSTER_NUMERIC_FEATURES",
    "ClusterFeatureEncoder",
    "ClusterFit",
    "REPEAT_CATEGORICAL_FEATURES",
    "REPEAT_NUMERIC_FEATURES",
    "cluster_profiles",
    "cluster_selection",
    "evaluate_scores",
    "fit_clusters",
    "fit_kmeans",
    "name_clusters",
    "pipeline",
    "repeat_model_metrics",
    "repeat_scores",
    "silhouette_multi",
    "time_split",
]
