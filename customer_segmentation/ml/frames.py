"""The one converter between what dbt.ref(...) returns on each engine and what the entry functions compute on.

dbt.ref(...) is a DuckDB relation on dbt-duckdb and a Spark DataFrame on Databricks (and in
scripts/run_python_models.py --target spark); tests and scripts/run_python_models.py --target postgres pass
pandas DataFrames. Every entry function first turns its inputs into DuckDB relations (as_relation): a DuckDB
relation stays as it is; a Spark DataFrame comes over Arrow (DataFrame.toArrow(), pyspark >= 4.0), a pandas
DataFrame through pyarrow, both into one private in-memory DuckDB connection. The column selection, casts,
grouping and joins of the entry functions then run the same SQL on every engine's data. Nothing here imports
pyspark.

The order-free customer key (ordering.ROW_KEY, for fit samples and canonical row orders) is md5 based, which
DuckDB, PostgreSQL, Spark and Python's hashlib compute identically: the first 16 hex digits of
md5(customer_unique_id) read as an unsigned 64-bit integer (md5_key, md5_keys).
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

_LOCAL = None  # the private DuckDB connection of converted frames (created on first use)


def _local():
    global _LOCAL
    if _LOCAL is None:
        import duckdb

        _LOCAL = duckdb.connect()
    return _LOCAL


def is_duckdb_relation(obj) -> bool:
    return type(obj).__module__.split(".")[0] in ("duckdb", "_duckdb") and hasattr(obj, "to_arrow_table")


def is_spark_frame(obj) -> bool:
    return type(obj).__module__.startswith("pyspark.") and hasattr(obj, "toArrow")


def as_relation(obj):
    """A DuckDB relation of a DuckDB relation (unchanged), a Spark DataFrame or a pandas DataFrame."""
    import pyarrow as pa

    if is_duckdb_relation(obj):
        return obj
    if is_spark_frame(obj):
        return _local().from_arrow(obj.toArrow())
    if isinstance(obj, pd.DataFrame):
        return _local().from_arrow(pa.Table.from_pandas(obj, preserve_index=False))
    if isinstance(obj, pa.Table):
        return _local().from_arrow(obj)
    raise TypeError(f"expected a DuckDB relation, a Spark DataFrame or a pandas DataFrame, got {type(obj).__name__}")


def as_relations(*objs):
    """as_relation of each, on one connection (so they can be joined): DuckDB relations are kept only if all
    inputs are DuckDB relations (dbt-duckdb hands them all out on its own connection); None stays None."""
    present = [obj for obj in objs if obj is not None]
    if all(is_duckdb_relation(obj) for obj in present):
        return objs
    return tuple(None if obj is None else as_relation(obj.to_arrow_table() if is_duckdb_relation(obj) else obj)
                 for obj in objs)


def to_pandas(obj) -> pd.DataFrame:
    """The whole table as pandas, as DuckDB's relation.df() gives it (DECIMAL as double, DATE as datetime)."""
    return as_relation(obj).df()


def empty(obj):
    """The same table without rows (skips reading it): relation/DataFrame .limit(0), pandas .head(0)."""
    return obj.head(0) if isinstance(obj, pd.DataFrame) else obj.limit(0)


def md5_key_sql(column: str) -> str:
    """DuckDB SQL of md5_key(column) (as UBIGINT)."""
    return f"('0x' || md5(cast(\"{column}\" as varchar))[1:16])::ubigint"


def md5_key(value: str) -> int:
    """The first 16 hex digits of md5(value) as an unsigned 64-bit integer (PostgreSQL:
    ('x' || left(md5(v), 16))::bit(64), Spark: conv(substr(md5(v), 1, 16), 16, 10))."""
    return int.from_bytes(hashlib.md5(str(value).encode("utf-8")).digest()[:8], "big")


def md5_keys(values) -> np.ndarray:
    """md5_key of every value, as uint64."""
    values = list(values)
    return np.fromiter((md5_key(v) for v in values), dtype=np.uint64, count=len(values))
