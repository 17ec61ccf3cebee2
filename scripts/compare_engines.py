"""Compare the marts of two warehouses built from the same data (issue 18: DuckDB vs PostgreSQL vs Spark).

    python scripts/compare_engines.py --left duckdb:warehouse.duckdb --right postgres [--manifest target/manifest.json]

Warehouses: duckdb:<file> (schema main), postgres (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE; schema
PG_SCHEMA, default analytics), spark (the local session of the spark target, scripts/spark_session.py; database
SPARK_SCHEMA, default analytics).

Which tables: every model under models/marts and models/intermediate in the manifest (the DuckDB build's, default
target/manifest.json) that exists in both warehouses: the marts and every intermediate table they are built from.
A mart present on the left only is listed as not built on the right (a partial build); with --require-all
(scripts/test_engines.py passes it: every mart, the dbt Python models' tables included, must exist on every engine)
that fails too.

Per mart: the row count, then every value: each is normalised once (numbers rounded to --decimals places, default
6, half-even; integers, decimals and floats alike, -0 as 0; timestamps and dates in ISO form, booleans as
true/false, NULL as NULL) and the rows are matched by key. The key is the mart's grain from its tests in the
manifest (the first `unique` key of its columns_valid test, else a unique or unique_combination_of_columns
test), else the whole row. A key whose rounded values differ
is compared column by column with a tolerance of 10^-decimals (relative above 1: a value that sits on a rounding
boundary is not a difference); per column the first differing key (in sorted order) is reported with both
values. Exit 1 on any difference.
"""
from __future__ import annotations

import argparse
import datetime as dt
import decimal
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# --- warehouses -------------------------------------------------------------------------------------------------

class Warehouse:
    name: str

    def tables(self) -> set[str]: ...
    def rows(self, table: str) -> tuple[list[str], list[tuple]]: ...
    def close(self) -> None: ...


class DuckDBWarehouse(Warehouse):
    def __init__(self, path: str, schema: str = "main"):
        import duckdb

        self.name, self.schema = f"duckdb:{path}", schema
        self.con = duckdb.connect(path, read_only=True)

    def tables(self):
        return {r[0].lower() for r in self.con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [self.schema]).fetchall()}

    def rows(self, table):
        cur = self.con.execute(f'select * from "{self.schema}"."{table}"')
        return [d[0].lower() for d in cur.description], cur.fetchall()

    def close(self):
        self.con.close()


class PostgresWarehouse(Warehouse):
    def __init__(self):
        import psycopg2

        self.schema = os.environ.get("PG_SCHEMA", "analytics")
        self.con = psycopg2.connect(
            host=os.environ.get("PGHOST", "127.0.0.1"), port=int(os.environ.get("PGPORT", "55432")),
            user=os.environ.get("PGUSER", "dbt"), password=os.environ.get("PGPASSWORD", "dbt"),
            dbname=os.environ.get("PGDATABASE", "customer_segmentation"),
        )
        self.name = f"postgres:{self.schema}"

    def tables(self):
        with self.con.cursor() as cur:
            cur.execute("select table_name from information_schema.tables where table_schema = %s", [self.schema])
            return {r[0].lower() for r in cur.fetchall()}

    def rows(self, table):
        with self.con.cursor() as cur:
            cur.execute(f'select * from "{self.schema}"."{table}"')
            return [d[0].lower() for d in cur.description], cur.fetchall()

    def close(self):
        self.con.close()


class SparkWarehouse(Warehouse):
    def __init__(self):
        sys.path.insert(0, str(ROOT / "scripts"))
        from spark_session import spark_session

        self.schema = os.environ.get("SPARK_SCHEMA", "analytics")
        self.spark = spark_session()
        self.name = f"spark:{self.schema}"

    def tables(self):
        return {r.tableName.lower() for r in self.spark.sql(f"show tables in {self.schema}").collect()}

    def rows(self, table):
        frame = self.spark.table(f"{self.schema}.{table}")
        return [c.lower() for c in frame.columns], [tuple(r) for r in frame.collect()]

    def close(self):
        from spark_session import release

        release(self.spark)


def open_warehouse(spec: str) -> Warehouse:
    if spec.startswith("duckdb:"):
        return DuckDBWarehouse(spec.split(":", 1)[1])
    if spec == "postgres":
        return PostgresWarehouse()
    if spec == "spark":
        return SparkWarehouse()
    raise SystemExit(f"compare_engines: unknown warehouse {spec!r} (duckdb:<file>, postgres or spark)")


# --- normalisation ----------------------------------------------------------------------------------------------

def normalize(value, decimals: int) -> str:
    if value is None:
        return "NULL"
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return f"{value}.{'0' * decimals}" if decimals > 0 else str(value)
    if kind is float:
        if math.isnan(value) or math.isinf(value):
            return str(value)
        # the binary value rounded half-even: a value on a rounding boundary may round otherwise than its decimal
        # twin on the other engine; compare_table then compares the two with close_enough
        return _no_negative_zero(f"{value:.{decimals}f}")
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return str(value)
        text = f"{value.quantize(decimal.Decimal(1).scaleb(-decimals), rounding=decimal.ROUND_HALF_EVEN):f}"
        return _no_negative_zero(text)
    if isinstance(value, (int, float)):  # numpy and other number subclasses
        return normalize(float(value) if isinstance(value, float) else int(value), decimals)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _no_negative_zero(text: str) -> str:
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def close_enough(a, b, decimals: int) -> bool:
    if a is None or b is None:
        return a is None and b is None
    numeric = (int, float, decimal.Decimal)
    if isinstance(a, numeric) and isinstance(b, numeric) and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(float(a) - float(b)) <= 10 ** -decimals * max(1.0, abs(float(a)))
    return normalize(a, decimals) == normalize(b, decimals)


# --- marts and their keys from the manifest ---------------------------------------------------------------------

def marts_and_keys(manifest_path: Path) -> dict[str, list[str]]:
    manifest = json.loads(manifest_path.read_text())
    marts = {
        node["name"]: []
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["original_file_path"].startswith(("models/marts/", "models/intermediate/"))
    }
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("attached_node"):
            continue
        model = node["attached_node"].split(".")[-1]
        if model not in marts or marts[model]:
            continue
        meta = node.get("test_metadata") or {}
        kwargs = meta.get("kwargs", {})
        if meta.get("name") == "columns_valid" and kwargs.get("unique"):
            marts[model] = [c.lower() for c in _key_columns(kwargs["unique"][0])]
        elif meta.get("name") == "unique" and node.get("column_name"):
            marts[model] = [node["column_name"].lower()]
        elif meta.get("name") == "unique_combination_of_columns":
            marts[model] = [c.lower() for c in kwargs.get("combination_of_columns", [])]
    return marts


def _key_columns(rule) -> list[str]:
    """The columns of one `unique` rule of columns_valid: a column, a list of columns, or {column | columns}."""
    if isinstance(rule, str):
        return [rule]
    if isinstance(rule, dict):
        return [rule["column"]] if rule.get("column") else list(rule.get("columns", []))
    return list(rule)


# --- comparison -------------------------------------------------------------------------------------------------

def compare_table(table, key, left, right, decimals) -> list[str]:
    left_columns, left_rows = left.rows(table)
    right_columns, right_rows = right.rows(table)
    problems = []
    if set(left_columns) != set(right_columns):
        only_left = sorted(set(left_columns) - set(right_columns))
        only_right = sorted(set(right_columns) - set(left_columns))
        problems.append(f"{table}: columns differ (only {left.name}: {only_left}; only {right.name}: {only_right})")
    if len(left_rows) != len(right_rows):
        problems.append(f"{table}: {len(left_rows)} rows on {left.name}, {len(right_rows)} on {right.name}")
    columns = [c for c in left_columns if c in right_columns]
    key = [c for c in key if c in columns] or columns

    # every value is normalised once; a row is (normalised values of `columns`, the row as returned)
    positions = [columns.index(c) for c in key]
    shown = {}  # normalized key -> the key's values as the left (else right) warehouse returned them

    def keyed(names, rows):
        index = [names.index(c) for c in columns]
        out = {}
        for row in rows:
            values = [row[i] for i in index]
            normal = tuple([normalize(v, decimals) for v in values])
            k = tuple([normal[p] for p in positions])
            if k not in shown:
                shown[k] = "(" + ", ".join(f"{c}={values[p]}" for c, p in zip(key, positions)) + ")"
            out.setdefault(k, []).append((normal, values))
        return out

    left_keyed, right_keyed = keyed(left_columns, left_rows), keyed(right_columns, right_rows)
    missing = sorted(set(left_keyed) - set(right_keyed))
    extra = sorted(set(right_keyed) - set(left_keyed))
    if missing:
        problems.append(f"{table}: key {shown[missing[0]]} on {left.name} only ({len(missing)} keys)")
    if extra:
        problems.append(f"{table}: key {shown[extra[0]]} on {right.name} only ({len(extra)} keys)")
    first_difference = {}  # column -> the message for its first differing key (keys in sorted order)
    for k in sorted(set(left_keyed) & set(right_keyed)):
        lrows, rrows = left_keyed[k], right_keyed[k]
        if len(lrows) == len(rrows) and sorted(r[0] for r in lrows) == sorted(r[0] for r in rrows):
            continue  # every value equal after rounding
        for i, column in enumerate(columns):
            if column in key or column in first_difference:
                continue
            # per column, the key's values as multisets (sorted by their normalised form)
            lv = [r[1][i] for r in sorted(lrows, key=lambda r: r[0][i])]
            rv = [r[1][i] for r in sorted(rrows, key=lambda r: r[0][i])]
            if len(lv) == len(rv) and all(
                normalize(a, decimals) == normalize(b, decimals) or close_enough(a, b, decimals) for a, b in zip(lv, rv)
            ):
                continue
            first_difference[column] = (
                f"{table}.{column}: first differing key {shown[k]}: "
                f"{left.name} {lv[0] if len(lv) == 1 else lv} vs {right.name} {rv[0] if len(rv) == 1 else rv}"
            )
    problems += [first_difference[c] for c in columns if c in first_difference]
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--left", default="duckdb:" + os.environ.get("DUCKDB_PATH", "warehouse.duckdb"))
    parser.add_argument("--right", required=True)
    parser.add_argument("--manifest", default=str(ROOT / "target" / "manifest.json"))
    parser.add_argument("--decimals", type=int, default=6, help="numbers are rounded to this many decimal places")
    parser.add_argument("--require-all", action="store_true", help="a mart missing on the right fails too")
    args = parser.parse_args(argv)

    started = time.monotonic()
    marts = marts_and_keys(Path(args.manifest))
    left, right = open_warehouse(args.left), open_warehouse(args.right)
    try:
        left_tables, right_tables = left.tables(), right.tables()
        problems, compared, not_built = [], [], []
        for mart in sorted(marts):
            if mart not in left_tables:
                continue
            if mart not in right_tables:
                not_built.append(mart)
                continue
            table_problems = compare_table(mart, marts[mart], left, right, args.decimals)
            compared.append(mart)
            problems += table_problems
            print(f"compare_engines: {mart}: {'DIFFERS' if table_problems else 'same'}", flush=True)
    finally:
        left.close()
        right.close()
    if not_built:
        print(f"compare_engines: not built on {right.name} ({len(not_built)}): {', '.join(not_built)}")
        if args.require_all:
            problems.append(f"{len(not_built)} marts not built on {right.name}")
    for problem in problems:
        print(f"compare_engines: DIFFERENCE {problem}", file=sys.stderr)
    print(
        f"compare_engines: {len(compared)} marts compared ({left.name} vs {right.name}, numbers to {args.decimals} "
        f"decimals): {len(problems)} differences in {time.monotonic() - started:.1f}s"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
