"""Entry points of the dbt Python models: the typed model config (config.py, rendered from vars) in, output table
out. Each function returns a pandas DataFrame sorted by its key.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
import pandas as pd

from customer_segmentation.ml import clv
from customer_segmentation.ml.clustering import cluster_selection, fit_clusters
from customer_segmentation.ml.config import ClusterConfig, RepeatConfig
from customer_segmentation.ml.features import CLUSTER_FEATURE_CATALOGUE, REGION_COLUMN, ClusterFeatureEncoder
from customer_segmentation.ml.frames import as_relation, as_relations, md5_key_sql
from customer_segmentation.ml.ordering import ROW_KEY, by_customer, is_key_ordered, row_keys
from customer_segmentation.ml.profiles import PROFILE_MEANS, profiles_from_frame
from customer_segmentation.ml.repeat_model import FEATURE_SET_FIRST_ORDER, LABEL, repeat_model_metrics, repeat_scores

# ---------------------------------------------------------------------------------------- inputs
# columns of ml_customer_features the cluster models read (numeric ones fetched as double)
CLUSTER_INPUT_NUMERIC = sorted({column for column, _ in CLUSTER_FEATURE_CATALOGUE.values()})
CLUSTER_INPUT_COLUMNS = ["customer_unique_id", *CLUSTER_INPUT_NUMERIC, REGION_COLUMN]
# columns of ml_first_purchase_features the repeat models read besides the feature lists
REPEAT_BOOKKEEPING_COLUMNS = [
    "customer_unique_id",
    "first_purchased_at",
    "feature_window_complete",
    "horizon_complete",
    LABEL,
    "purchase_count",
]


def _arrow_types() -> dict:
    import pyarrow as pa

    # nullable integers and booleans keep their type (no float / object fallback when a value is null)
    return {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }


try:
    _ARROW_TO_PANDAS = _arrow_types()
except ImportError:  # pragma: no cover - pyarrow ships with the project's duckdb/pandas
    _ARROW_TO_PANDAS = {}


def fetch(relation, columns: list[str], double: list[str] | tuple = (), row_key: bool = True) -> pd.DataFrame:
    """Only the named columns of a table (dbt.ref(...): a DuckDB relation, a Spark or pandas DataFrame; see
    frames.py) as a pandas DataFrame, in table order.

    Cheaper than relation.df() on the whole table: unused columns (ids, strings) are never converted,
    the columns in `double` are cast in DuckDB (a DECIMAL would otherwise arrive as Python objects), and
    the conversion goes through Arrow (relation.df() took 7-40 s and up to 9 GB at 9 M rows, Arrow ->
    pandas about 2-4 s). row_key adds the md5 key of customer_unique_id (frames.md5_key) as column
    ordering.ROW_KEY (the order-free key of large inputs and fit samples, see ordering.py): the same on
    every engine.
    """
    relation = as_relation(relation)
    double = set(double)
    exprs = [f'cast("{c}" as double) as "{c}"' if c in double else f'"{c}"' for c in columns]
    if row_key:
        exprs.append(f"{md5_key_sql('customer_unique_id')} as {ROW_KEY}")
    # label columns (region, category, state, ...) dictionary-encoded: pandas categoricals of small integer codes
    # instead of millions of strings (less memory, cheap factorizing); the ids stay strings
    return _to_pandas(
        _read_arrow(
            relation.select(", ".join(exprs)),
            lambda field: field.name != "customer_unique_id" and _is_string(field.type),
        )
    )


def _read_arrow(relation, encode, batch_rows: int = 1_000_000):
    """The rows of a DuckDB relation as an Arrow table in Arrow's own memory, read batch by batch: the columns
    for which encode(field) is true dictionary-encoded (one dictionary after unify_dictionaries), the others
    copied. At most one batch of DuckDB's export is alive at a time: a batch of the export is freed only when
    none of its columns is referenced any more, and pandas wraps exported buffers as they are, so a frame made
    from the export kept all of it (1.6 GB beside a 1.3 GB frame at 9.5 M customers) through its id column."""
    import pyarrow as pa

    reader = relation.to_arrow_reader(batch_rows)
    encoded = [encode(field) for field in reader.schema]
    schema = pa.schema(
        [pa.field(f.name, pa.dictionary(pa.int32(), f.type)) if e else f for f, e in zip(reader.schema, encoded)]
    )
    parts = [
        pa.RecordBatch.from_arrays(
            [c.dictionary_encode() if e else pa.concat_arrays([c]) for c, e in zip(batch.columns, encoded)],
            schema=schema,
        )
        for batch in reader
    ]
    return pa.Table.from_batches(parts, schema=schema).unify_dictionaries()


def _to_pandas(table) -> pd.DataFrame:
    """The frame of an Arrow table of _read_arrow (nullable integers and booleans kept), its Arrow memory released
    column by column and what was freed handed back to the operating system."""
    frame = table.to_pandas(types_mapper=_ARROW_TO_PANDAS.get, self_destruct=True)
    del table
    release_freed_memory()
    return frame


def model_result(session, build):
    """What a dbt Python model returns: the DataFrame of build(), a function without arguments that reads the
    model's inputs and computes its table. On dbt-duckdb (session: a DuckDB connection) the frame is copied into
    a temporary DuckDB table and the relation of that table is returned, after the frame and every input build()
    read have been freed and that memory handed back (release_freed_memory). Returned as a DataFrame, it would be
    copied by dbt-duckdb after model() returned, and the C heap it and the inputs had used stayed resident under
    every later model of the build: at 10 M orders, `dbt run -s customer_repeat_scores customer_segments` peaked
    at 6.2 GB in the SQL model (4.2 GB when run alone), 4.4 GB with the memory handed back (measured). Elsewhere
    (Spark, PostgreSQL through scripts/run_python_models.py, tests: session is not a DuckDB connection) the frame
    itself."""
    frame = build()
    # a DuckDB connection, or dbt-duckdb's wrapper of its cursor (which forwards these methods): register and
    # unregister, which a Spark session does not have
    if not (callable(getattr(session, "register", None)) and callable(getattr(session, "unregister", None))):
        return frame
    import uuid

    release_freed_memory()  # what the inputs used, before DuckDB copies the frame
    name = f"__model_result_{uuid.uuid4().hex}"
    session.register(f"{name}_frame", frame)
    try:
        session.execute(f"create temp table {name} as select * from {name}_frame")
    finally:
        session.unregister(f"{name}_frame")
    del frame
    release_freed_memory()
    # after this model's memory is handed back, so it does not add to this model's peak
    clv.start_fork_server()
    return session.table(name)


def release_freed_memory() -> None:
    """Return memory freed by the last conversion to the operating system (the C heap, where DuckDB's export
    lives, and Arrow's pool keep freed pages for reuse): 1.1-1.4 GB less resident after a fetch of 9.5 M
    customers, measured. Linux (glibc) only; elsewhere only Arrow's pool is asked."""
    import ctypes

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL(None).malloc_trim(0)  # the process's own symbols: glibc's, without looking the library up
    except (OSError, AttributeError, TypeError):  # not glibc (musl, macOS, Windows): nothing to trim
        pass


def _is_string(arrow_type) -> bool:
    import pyarrow as pa

    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_string_view(arrow_type)


def repeat_input_columns(config: RepeatConfig) -> tuple[list[str], list[str]]:
    """(all columns, numeric columns) of ml_first_purchase_features the repeat models need."""
    numeric, categorical = list(config.numeric_features), list(config.categorical_features)
    columns = list(dict.fromkeys(REPEAT_BOOKKEEPING_COLUMNS + numeric + categorical))
    return columns, numeric


def log(model: str, message: str) -> None:
    """One line in dbt's console output (stdout of the dbt process) for a Python model."""
    print(f"{time.strftime('%H:%M:%S')}  [{model}] {message}", file=sys.stdout, flush=True)


# ---------------------------------------------------------------------------------------- clusters
def _cluster_matrix(features: pd.DataFrame, config: ClusterConfig, regions: list[str] | None):
    """Customers (sorted by id when small, else in table order), their encoded matrix, and the
    order-free row keys of a large input (None when small; see ordering.py).

    The encoder (medians, means, standard deviations) always learns from every customer. A large or
    capped input is stored as float32 (half the memory; the KMeans code upcasts the rows it computes
    on); otherwise float64, exactly as before.
    """
    features = by_customer(features)
    encoder = ClusterFeatureEncoder(features=list(config.cluster_features), regions=regions).fit(features)
    keys = row_keys(features) if is_key_ordered(features) else None
    cap = config.fit_sample_size
    compact = keys is not None or (cap is not None and len(features) > cap)
    return features, encoder.transform_array(features, np.float32 if compact else np.float64), keys


def cluster_selection_table(
    features: pd.DataFrame, config: ClusterConfig, regions: list[str] | None = None
) -> pd.DataFrame:
    started = time.perf_counter()
    features, X, keys = _cluster_matrix(features, config, regions)
    del features
    out = cluster_selection(X, config.k_values, keys=keys, **config.selection_arguments())
    log(
        "cluster_selection",
        f"KMeans fit on {int(out['n_fit_customers'].iloc[0]):,} of {len(X):,} customers, every customer "
        f"assigned for the inertia; silhouette on {int(out['silhouette_sample_size'].iloc[0]):,}; "
        f"k = {int(out.loc[out['chosen'], 'k'].iloc[0])} chosen in {time.perf_counter() - started:.1f} s",
    )
    return out


def customer_clusters_table(
    features: pd.DataFrame, selection: pd.DataFrame, config: ClusterConfig, regions: list[str] | None = None
) -> pd.DataFrame:
    started = time.perf_counter()
    chosen = selection[selection["chosen"].astype(bool)]
    if len(chosen) != 1:
        raise ValueError(f"cluster_selection must mark exactly one chosen k, found {len(chosen)}")
    k = int(chosen["k"].iloc[0])
    features, X, keys = _cluster_matrix(features, config, regions)
    ids = features["customer_unique_id"]  # kept as is (Arrow strings): no 9 M Python string objects
    del features
    fit = fit_clusters(X, k, keys=keys, **config.fit_arguments())
    expected = float(chosen["inertia"].iloc[0])
    if not math.isclose(fit.inertia, expected, rel_tol=1e-9, abs_tol=1e-9):
        raise RuntimeError(
            f"refit for k={k} gave inertia {fit.inertia} but cluster_selection scored {expected}: "
            "inputs or parameters differ between the two models"
        )
    log(
        "customer_clusters",
        f"KMeans k={k} fit on {fit.n_fit:,} customers, {len(X):,} customers labelled "
        f"in {time.perf_counter() - started:.1f} s",
    )
    return pd.DataFrame(
        {
            "customer_unique_id": ids,
            "cluster": fit.labels.astype("int64"),
            "distance_to_centroid": fit.distances,
        }
    )


def profile_input(clusters, features) -> pd.DataFrame:
    """The joined per-customer frame of cluster_profiles, built by DuckDB from the dbt relations (or from
    Spark / pandas frames converted by frames.as_relations): customer_clusters left joined to
    ml_customer_features on customer_unique_id (cluster, distance, the profiled numbers and the region).

    The string-key join runs in DuckDB (pandas merges on 9 M string keys took about 95 of the 158 s) and only the
    needed columns come back. Rows are put in a canonical order (the md5 key of the id, frames.md5_key) so that the
    grouped float means do not depend on the join's output order. The label columns are counted by label_counts.
    """
    clusters, features = as_relations(clusters, features)
    numeric = sorted(set(PROFILE_MEANS.values()) | {"frequency", "recency_days", "monetary"})
    rel = clusters.select("customer_unique_id, cluster, distance_to_centroid").join(
        features.select(
            ", ".join(["customer_unique_id", *[f'cast("{c}" as double) as "{c}"' for c in numeric], REGION_COLUMN])
        ),
        "customer_unique_id",
        how="left",
    )
    columns = [
        f"{md5_key_sql('customer_unique_id')} as {ROW_KEY}",
        "cluster",
        "distance_to_centroid",
        *numeric,
        REGION_COLUMN,
    ]
    # the region dictionary-encoded (a pandas categorical): reordering and counting it moves integer codes,
    # not millions of strings
    frame = _to_pandas(_read_arrow(rel.select(", ".join(columns)), lambda field: field.name == REGION_COLUMN))
    order = np.argsort(frame[ROW_KEY].to_numpy(), kind="stable")
    return frame.drop(columns=ROW_KEY).take(order).reset_index(drop=True)


def label_counts(clusters, labels, column: str) -> pd.DataFrame:
    """Clustered customers per cluster and non-null value of one label column (cluster, value, n), counted by
    DuckDB: customer_clusters joined to the label's relation on customer_unique_id (customers absent from it
    have no value). One join at a time: joined with the others and the features in one query, the five hash tables
    on 9.5 M string keys filled DuckDB's 4 GB cap while the frame was read (the 10 M build's peak, 6.2 GB)."""
    clusters, labels = as_relations(clusters, labels)
    joined = clusters.select("customer_unique_id, cluster").join(
        labels.select(f"customer_unique_id, {column} as value"), "customer_unique_id"
    )
    counted = joined.filter("value is not null").aggregate("cluster, value, count(*) as n", "cluster, value")
    return counted.order("cluster, value").df()


def cluster_profiles_from_relations(clusters, features, rfm=None, abc_xyz=None, churn=None) -> pd.DataFrame:
    """cluster_profiles for the dbt model: the label counts (label_counts), then the numbers (profile_input),
    then grouped aggregates. Same profiles as profiles.cluster_profiles on the frames (tests)."""
    started = time.perf_counter()
    clusters, features, rfm, abc_xyz, churn = as_relations(clusters, features, rfm, abc_xyz, churn)  # once each
    # (relation, its label column, the label's name in profiles_from_frame)
    labels = [(churn, "churn_risk", "churn_risk"), (rfm, "rfm_segment", "rfm_segment"),
              (abc_xyz, "segment", "abc_xyz_segment")]
    counts = {
        name: label_counts(clusters, relation, column) for relation, column, name in labels if relation is not None
    }
    frame = profile_input(clusters, features)
    out = profiles_from_frame(
        frame,
        with_rfm=rfm is not None,
        with_abc_xyz=abc_xyz is not None,
        with_churn=churn is not None,
        label_counts=counts,
    ).sort_values("cluster").reset_index(drop=True)
    log(
        "cluster_profiles",
        f"{len(frame):,} customers profiled in {len(out)} clusters in {time.perf_counter() - started:.1f} s",
    )
    return out


# ---------------------------------------------------------------------------------------- repeat model
def repeat_model_metrics_table(first_purchases: pd.DataFrame, config: RepeatConfig) -> pd.DataFrame:
    started = time.perf_counter()
    out = repeat_model_metrics(first_purchases, **config.metrics_arguments())
    row = out.iloc[0]
    log(
        "repeat_model_metrics",
        f"models fit on {int(row['n_train_fit']):,} of {int(row['n_train']):,} training customers, scored on "
        f"{int(row['n_test']):,} test customers (bootstrap on {int(row['n_test_bootstrap']):,}) "
        f"in {time.perf_counter() - started:.1f} s",
    )
    return out


def customer_repeat_scores_table(first_purchases: pd.DataFrame, config: RepeatConfig) -> pd.DataFrame:
    started = time.perf_counter()
    out = repeat_scores(first_purchases, **config.scores_arguments())
    out = by_customer(out)
    if len(out):
        scored = out["known_outcome"].isna()
        early = int((out["feature_set"] == FEATURE_SET_FIRST_ORDER).sum())
        log(
            "customer_repeat_scores",
            f"model fit on {int(out['n_training_customers'].iloc[0]):,} "
            f"of {int(out['n_labelled_customers'].iloc[0]):,} "
            f"labelled customers; {int(scored.sum()):,} open customers scored ({early:,} with the feature window "
            f"still open: first-order features only), {int((~scored).sum()):,} with a known outcome not scored, "
            f"in {time.perf_counter() - started:.1f} s",
        )
    return out
