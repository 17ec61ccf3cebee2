"""The dbt Python models outside DuckDB (issue 18): the entry functions on pandas and Spark DataFrames give what the
DuckDB build gave, the md5 customer key equals a hashlib reference on every engine, and the shim of
scripts/run_python_models.py hands each model the config dbt compiles into it.

The reference tables are the sample build's (dbt-duckdb: the model read DuckDB relations); the same model files run
here through run_python_models' shim on the warehouse's parent tables as pandas DataFrames (rows shuffled: another
engine returns them in its own order) and as Spark DataFrames of one local SparkSession (pyspark missing: skipped,
failing under CI=true).
"""
from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import run_python_models
from conftest import skip_or_fail
from customer_segmentation.ml import frames, pipeline
from customer_segmentation.ml.ordering import ROW_KEY

ROOT = Path(__file__).resolve().parents[2]

# Python models cheap enough to rerun here (a KMeans selection, the clusters, the joins of the profiles, the CLV
# tables read by SQL-side grouping, the backtest detail) and each output's key
MODELS = {
    "cluster_selection": ["k"],
    "customer_clusters": ["customer_unique_id"],
    "cluster_profiles": ["cluster"],
    "clv_history_scores": ["btyd_frequency", "btyd_recency", "btyd_t", "btyd_monetary_value"],
    "clv_backtest_detail": ["model", "grain", "bucket"],
}


def reference_key(value: str) -> int:
    """The md5 key as documented: the first 16 hex digits of md5(value), read as an unsigned integer."""
    return int(hashlib.md5(value.encode("utf-8")).hexdigest()[:16], 16)


IDS = ["861eff4711a542e4b93843c6dd7febb0", "abc", "", "são paulo", "0" * 32]


def test_md5_key_equals_hashlib_in_duckdb_and_pandas():
    frame = pd.DataFrame({"customer_unique_id": IDS, "x": np.arange(len(IDS), dtype="float64")})
    expected = [reference_key(v) for v in IDS]
    con = duckdb.connect()
    relation = con.from_df(frame)
    for source in (relation, frame):
        fetched = pipeline.fetch(source, ["customer_unique_id", "x"], ["x"])
        assert [int(k) for k in fetched[ROW_KEY]] == expected
    assert [int(k) for k in frames.md5_keys(IDS)] == expected


@pytest.fixture(scope="module")
def spark():
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        skip_or_fail("pyspark not installed (requirements-engines.txt): Spark DataFrame inputs not tested")
    session = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_md5_key_equals_hashlib_in_spark(spark):
    data = spark.createDataFrame([(v,) for v in IDS], "customer_unique_id string")
    # Spark's own md5, read as documented (what a Spark SQL user would write)
    rows = data.selectExpr("customer_unique_id", "conv(substr(md5(customer_unique_id), 1, 16), 16, 10) as k").collect()
    assert {r["customer_unique_id"]: int(r["k"]) for r in rows} == {v: reference_key(v) for v in IDS}
    fetched = pipeline.fetch(data, ["customer_unique_id"])
    assert dict(zip(fetched["customer_unique_id"], (int(k) for k in fetched[ROW_KEY]))) == {
        v: reference_key(v) for v in IDS}


def _manifest(sample_build) -> dict:
    return json.loads((sample_build.db_path.parent / "target" / "manifest.json").read_text())


def _node(manifest: dict, name: str) -> dict:
    (node,) = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == name]
    return node


def test_shim_config_is_the_config_dbt_compiles_into_the_model(sample_build):
    manifest = _manifest(sample_build)
    python = [n for n in manifest["nodes"].values() if run_python_models.is_python_model(n)]
    assert len(python) == 11
    keys_seen = 0
    for node in python:
        # dbt-duckdb runs the compiled code, whose config_dict holds every key the model reads
        line = next(li for li in node["compiled_code"].splitlines() if li.startswith("config_dict = "))
        compiled = ast.literal_eval(line.split("=", 1)[1].strip())
        keys_seen += len(compiled)
        shim = run_python_models.PythonModelShim(node, manifest, read=None)
        assert {key: shim.config.get(key) for key in compiled} == compiled, node["name"]
        assert str(shim.this) == node["relation_name"]
    assert keys_seen >= 30  # the models do read their parameters from the config


def _warehouse_table(db: Path, relation_name: str) -> pd.DataFrame:
    table = relation_name.split(".")[-1].strip('"')
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(f'select * from main."{table}"').to_arrow_table().to_pandas(types_mapper=pd.ArrowDtype)


def _same_table(actual: pd.DataFrame, expected: pd.DataFrame, key: list[str], name: str) -> None:
    """Equal after both are stored the way dbt-duckdb stores a returned frame (DuckDB's types), in key order."""
    con = duckdb.connect()
    stored = con.from_df(actual).df()
    assert list(stored.columns) == list(expected.columns), name
    stored = stored.sort_values(key, ignore_index=True)
    expected = expected.sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False, rtol=1e-12, atol=1e-12, obj=name)


def _run(sample_build, name: str, read) -> pd.DataFrame:
    manifest = _manifest(sample_build)
    return run_python_models.run_model(_node(manifest, name), manifest, read)


def _reference(sample_build, name):
    with duckdb.connect(str(sample_build.db_path), read_only=True) as con:
        return con.execute(f'select * from main."{name}"').df()


@pytest.mark.parametrize("name", MODELS)
def test_model_on_shuffled_pandas_frames_equals_the_duckdb_build(sample_build, name):
    def read(relation_name):  # another engine's table: its own row order, Arrow-typed like run_python_models' reader
        frame = _warehouse_table(sample_build.db_path, relation_name)
        return frame.sample(frac=1.0, random_state=7).reset_index(drop=True)

    _same_table(_run(sample_build, name, read), _reference(sample_build, name), MODELS[name], name)


def test_models_on_spark_frames_equal_the_duckdb_build(sample_build, spark):
    def read(relation_name):
        table = relation_name.split(".")[-1].strip('"')
        with duckdb.connect(str(sample_build.db_path), read_only=True) as con:
            arrow = con.sql(f'select * from main."{table}"').to_arrow_table()
        return spark.createDataFrame(arrow).repartition(3)  # rows come back in Spark's order

    for name in ("cluster_selection", "cluster_profiles", "clv_history_scores"):
        frame = _run(sample_build, name, read)
        _same_table(frame, _reference(sample_build, name), MODELS[name], name)
