"""The local Spark session of the `spark` dbt target, for scripts that must see the same warehouse as dbt.

dbt-spark in session mode starts SparkSession.builder.enableHiveSupport() with the target's
server_side_parameters (profiles.yml): this module reads those settings from profiles.yml (rendering its
env_var(...) calls as dbt does) and builds the same session, so scripts/load_raw.py writes its raw tables into the
metastore and warehouse that `dbt build --target spark` reads. Derby, the local metastore, admits one process at
a time: run the loader before dbt, not beside it.
"""
from __future__ import annotations

import os
from pathlib import Path

import jinja2
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "profiles.yml"


def spark_settings(profiles_path: Path = PROFILES) -> dict[str, str]:
    """server_side_parameters of the spark target, rendered with the environment (DBT_PROFILES_DIR defaults to the
    root)."""
    env = {**os.environ}
    env.setdefault("DBT_PROFILES_DIR", str(ROOT))

    def env_var(name, default=None):
        if name in env:
            return env[name]
        if default is None:
            raise KeyError(f"environment variable {name} is required by profiles.yml")
        return default

    profiles = yaml.safe_load(profiles_path.read_text())
    target = profiles["customer_segmentation"]["outputs"]["spark"]
    jinja = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {
        key: jinja.from_string(str(value)).render(env_var=env_var)
        for key, value in target.get("server_side_parameters", {}).items()
    }


# Set by keep_open(): the scripts' release() then leaves the session running for the next step of the same process
# (scripts/test_engines.py runs load, staged build and comparison in one process: one JVM, and with the in-memory
# catalog the tables live only in that session).
_keep_open = False


def keep_open() -> None:
    """Make release() a no-op in this process; the caller stops the session itself."""
    global _keep_open
    _keep_open = True


def release(spark) -> None:
    """End of a script's use of the session: stop it, unless keep_open() was called."""
    if not _keep_open:
        spark.stop()


def spark_session():
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_settings().items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_type(duckdb_type: str) -> str:
    """The Spark SQL type that holds a DuckDB column type of the raw sources without change."""
    t = duckdb_type.upper()
    mapping = {
        "VARCHAR": "string",
        "INTEGER": "int",
        "BIGINT": "bigint",
        "SMALLINT": "smallint",
        "BOOLEAN": "boolean",
        "DATE": "date",
        "DOUBLE": "double",
        "TIMESTAMP": "timestamp_ntz",
    }
    if t in mapping:
        return mapping[t]
    if t.startswith("DECIMAL"):
        return t.lower()
    raise ValueError(f"no Spark type for DuckDB type {duckdb_type}")
