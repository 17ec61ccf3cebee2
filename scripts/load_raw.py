"""Load the nine Olist CSV files into warehouse tables, as an EL tool would leave them (issue 18).

On DuckDB (target dev) the sources are the CSV files themselves (dbt-duckdb external_location read_csv(...)).
On the other engines the sources are tables in the warehouse: this script creates and fills them from the same
files with the same types, in schema var raw_schema (default olist):

    python scripts/load_raw.py --target postgres --raw-dir data/sample
    python scripts/load_raw.py --target spark    --raw-dir data/sample

Same types, same parsing: every file is read by DuckDB with the very read_csv(...) that the DuckDB sources use
(the external_location of models/staging/olist/_olist__sources.yml, rendered with --raw-dir and --encoding), so
each table holds exactly the rows and values the DuckDB build reads, and a bad file fails with the messages of
the source test raw_csv_is_readable (tests/generic, macros/raw_csv_is_readable.sql):
    raw file not found: <path> (var raw_data_dir = '<dir>'). ...
    raw file is empty (no header row): <path>
    <path> is missing required column(s): a, b. Found: ... ...
    DuckDB's "CSV Error on Line: N ... Error when converting column "x"" for a value that does not parse.
Every file is read and checked before anything is written; on PostgreSQL all nine tables are then replaced in one
transaction (a failed load leaves the previous tables), on Spark one table after another.

Column types (DuckDB -> PostgreSQL / Spark): VARCHAR -> text / string, INTEGER -> integer / int,
DECIMAL(18,2) -> numeric(18,2) / decimal(18,2), DOUBLE -> double precision / double,
TIMESTAMP -> timestamp / timestamp_ntz (no time zone on any engine). Columns of a file that the sources do not
type (extra columns) are loaded as text, like the DuckDB sources read them.

Connection: PostgreSQL from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (defaults of profiles.yml and
scripts/start_postgres.sh); Spark: a local session with the settings of the spark target (scripts/spark_session.py).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import jinja2
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project root: package customer_segmentation

from customer_segmentation.data import olist  # noqa: E402

TRANSACTIONS_SOURCES_YML = ROOT / "models" / "staging" / "transactions" / "_transactions__sources.yml"
DEFAULT_RAW_SCHEMA = "olist"


class LoadError(Exception):
    """A file cannot be loaded; the message is the one the DuckDB source test gives."""


@dataclass
class RawTable:
    name: str  # source table name (orders, order_items, ...)
    path: str  # the CSV file, as the DuckDB source names it
    relation_sql: str  # read_csv('<path>', ..., types={...})
    required: list[str]  # the typed columns (every one must be in the header)
    not_found: str = ""  # the message when no file matches path
    columns: list[tuple[str, str]] | None = None  # (name, DuckDB type) after reading
    csv_copy: Path | None = None  # the rows as DuckDB read them, re-written as CSV (PostgreSQL COPY)


def _render(template: str, values: dict) -> str:
    """A source's external_location rendered as dbt-duckdb renders it, with these vars."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return env.from_string(template).render(var=lambda name, default=None: values.get(name, default)).strip()


def source_tables(raw_dir: str, encoding: str, input_format: str = "olist") -> list[RawTable]:
    """The nine tables of source olist with their read_csv(...) rendered as dbt-duckdb renders them (in the
    transactions layout the DuckDB sources read the header-only files of data/olist_empty, and so does this)."""
    values = {"raw_data_dir": raw_dir, "input_format": input_format, "raw_csv_encoding": encoding}
    tables = []
    for table in olist.source_spec()["tables"]:
        relation_sql = _render(table["config"]["meta"]["external_location"], values)
        path = re.search(r"read_csv\(\s*'([^']+)'", relation_sql).group(1)
        types = re.search(r"types\s*=\s*\{([^}]*)\}", relation_sql).group(1)
        required = re.findall(r"'([^']+)'\s*:\s*'[^']*'", types)
        not_found = (
            f"raw file not found: {path} (var raw_data_dir = '{raw_dir}'). "
            "The folder must hold the nine Olist CSV files under their Kaggle names; "
            "see README 'Bringing your own data'."
        )
        tables.append(RawTable(table["name"], path, relation_sql, required, not_found))
    return tables


def transactions_table(transactions_path: str, encoding: str) -> RawTable:
    """Table `lines` of source transactions: the file (CSV or Parquet, or a glob) read by the external_location of
    the DuckDB source, so CSV columns are text and Parquet keeps its types, exactly as the DuckDB build reads them.
    The mapped columns are checked by the model (stg_transactions__lines), on every engine."""
    spec = yaml.safe_load(TRANSACTIONS_SOURCES_YML.read_text())
    (source,) = [s for s in spec["sources"] if s["name"] == "transactions"]
    (table,) = source["tables"]
    values = {"transactions_path": transactions_path, "raw_csv_encoding": encoding}
    relation_sql = _render(table["config"]["meta"]["external_location"], values)
    not_found = f"transactions file not found: {transactions_path} (var transactions_path)"
    return RawTable(table["name"], transactions_path, relation_sql, [], not_found)


def read_and_check(con: duckdb.DuckDBPyConnection, table: RawTable, raw_dir: str, work_dir: Path) -> None:
    """The checks of raw_csv_is_readable, in its order and with its messages, then the typed read."""
    found_files = con.execute("select count(*) from glob(?)", [table.path]).fetchone()[0]
    if found_files == 0:
        raise LoadError(table.not_found)
    header_sql = re.sub(r",\s*types\s*=\s*\{[^}]*\}", "", table.relation_sql)
    found = [row[0] for row in con.execute(f"describe select * from {header_sql}").fetchall()]
    if table.required and found == ["column0"] and "column0" not in table.required:
        raise LoadError(f"raw file is empty (no header row): {table.path}")
    missing = [column for column in table.required if column not in found]
    if missing:
        raise LoadError(
            f"{table.path} is missing required column(s): {', '.join(missing)}. Found: {', '.join(found)}. "
            "Header names must match the Kaggle export exactly "
            "(a renamed column counts as missing; extra columns are ignored)."
        )
    # the typed read: every value converts to its declared type here, or DuckDB's CSV error names line and column
    table.columns = [(row[0], row[1]) for row in con.execute(f"describe select * from {table.relation_sql}").fetchall()]
    table.csv_copy = work_dir / f"{table.name}.csv"
    # NULL is written as an empty field, an empty string as "" (PostgreSQL's CSV COPY reads them back the same)
    con.execute(
        f"copy (select * from {table.relation_sql}) to '{table.csv_copy}' (format csv, header true)"
    )


# --- PostgreSQL -----------------------------------------------------------------------------------------------

def postgres_type(duckdb_type: str) -> str:
    t = duckdb_type.upper()
    if t == "VARCHAR":
        return "text"
    if t in ("INTEGER", "BIGINT", "SMALLINT", "BOOLEAN", "DATE", "TIMESTAMP"):
        return t.lower()
    if t == "DOUBLE":
        return "double precision"
    if t.startswith("DECIMAL"):
        return t.lower().replace("decimal", "numeric")
    raise LoadError(f"no PostgreSQL type for DuckDB type {duckdb_type}")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def postgres_connection():
    """psycopg2 connection from the libpq variables, with the defaults of profiles.yml / start_postgres.sh."""
    import psycopg2

    return psycopg2.connect(
        host=os.environ.get("PGHOST", "127.0.0.1"),
        port=int(os.environ.get("PGPORT", "55432")),
        user=os.environ.get("PGUSER", "dbt"),
        password=os.environ.get("PGPASSWORD", "dbt"),
        dbname=os.environ.get("PGDATABASE", "customer_segmentation"),
    )


def load_postgres(tables: list[RawTable], schema: str) -> None:
    con = postgres_connection()
    try:
        with con:  # one transaction: all nine tables or none
            with con.cursor() as cur:
                cur.execute(f"create schema if not exists {quote_ident(schema)}")
                for table in tables:
                    qualified = f"{quote_ident(schema)}.{quote_ident(table.name)}"
                    columns = ",\n    ".join(f"{quote_ident(c)} {postgres_type(t)}" for c, t in table.columns)
                    cur.execute(f"drop table if exists {qualified}")
                    cur.execute(f"create table {qualified} (\n    {columns}\n)")
                    with open(table.csv_copy, encoding="utf-8") as handle:
                        cur.copy_expert(f"copy {qualified} from stdin with (format csv, header true)", handle)
                    cur.execute(f"select count(*) from {qualified}")
                    print(f"load_raw: {schema}.{table.name}: {cur.fetchone()[0]} rows")
    finally:
        con.close()


# --- Spark ----------------------------------------------------------------------------------------------------

def read_typed_csv(spark, ddl: str, path: Path):
    """A CSV file written by DuckDB (header; NULL empty, an empty string "") as a Spark DataFrame of schema ddl."""
    return (
        spark.read.option("header", "true")
        .option("multiLine", "true")
        .option("escape", '"')
        .option("nullValue", "")
        .option("emptyValue", "")
        .option("timestampNTZFormat", "yyyy-MM-dd HH:mm:ss[.SSSSSS]")
        .option("mode", "FAILFAST")
        .schema(ddl)
        .csv(str(path))
    )


def load_spark(tables: list[RawTable], schema: str) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from spark_session import release, spark_session, spark_type  # noqa: E402

    spark = spark_session()
    try:
        spark.sql(f"create database if not exists {schema}")
        for table in tables:
            ddl = ", ".join(f"`{c}` {spark_type(t)}" for c, t in table.columns)
            frame = read_typed_csv(spark, ddl, table.csv_copy)
            spark.sql(f"drop table if exists {schema}.{table.name}")
            frame.write.format("parquet").mode("overwrite").saveAsTable(f"{schema}.{table.name}")
            rows = spark.table(f"{schema}.{table.name}").count()
            print(f"load_raw: {schema}.{table.name}: {rows} rows")
    finally:
        release(spark)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, choices=["postgres", "spark"])
    parser.add_argument(
        "--raw-dir", default="data/sample", help="folder with the nine Olist CSV files (var raw_data_dir)"
    )
    parser.add_argument("--encoding", default="utf-8", help="var raw_csv_encoding (utf-8 or latin-1)")
    parser.add_argument("--schema", default=DEFAULT_RAW_SCHEMA, help="schema of the raw tables (var raw_schema)")
    parser.add_argument("--input-format", default="olist", choices=["olist", "transactions"],
                        help="var input_format: transactions also loads table `lines` from --transactions-path")
    parser.add_argument("--transactions-path", help="var transactions_path: a CSV or Parquet file, or a glob of either")
    args = parser.parse_args(argv)
    if args.input_format == "transactions" and not args.transactions_path:
        parser.error("--input-format transactions needs --transactions-path (var transactions_path)")

    started = time.monotonic()
    tables = source_tables(args.raw_dir, args.encoding, args.input_format)
    if args.input_format == "transactions":
        tables.append(transactions_table(args.transactions_path, args.encoding))
    with tempfile.TemporaryDirectory(prefix="load_raw_") as tmp:
        con = duckdb.connect()
        try:
            for table in tables:
                read_and_check(con, table, args.raw_dir, Path(tmp))
        except LoadError as error:
            print(f"load_raw: {error}", file=sys.stderr)
            return 1
        except duckdb.Error as error:  # a value that does not parse: DuckDB's CSV error names file, line and column
            print(f"load_raw: {error}", file=sys.stderr)
            return 1
        finally:
            con.close()
        if args.target == "postgres":
            load_postgres(tables, args.schema)
        else:
            load_spark(tables, args.schema)
    print(
        f"load_raw: {len(tables)} tables into {args.target} schema {args.schema} in {time.monotonic() - started:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
