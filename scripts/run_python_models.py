"""Run the dbt Python models on the engines without dbt Python models (issue 18): PostgreSQL and Spark session mode.

dbt-postgres has no Python models and dbt-spark runs them only on Databricks, so on the targets `postgres` and
`spark` this script runs each Python model's own `model(dbt, session)` (the model file, imported) with a small
`dbt` object of its own (PythonModelShim):

- `dbt.ref(name)` / `dbt.source(source, table)` read the parent table through the adapter's connection:
  psycopg2 on PostgreSQL (a pandas DataFrame, Arrow-typed: numeric stays decimal, integers stay integers);
  the Spark session of scripts/spark_session.py on Spark (a Spark DataFrame, as on Databricks);
- `dbt.config.get(key)` returns the node's config from the target's manifest (the vars rendered by dbt, as
  dbt-duckdb hands them to the model); `dbt.this` names the target relation.

The returned table is written whole as the model's relation (`<target schema>.<model name>`, the manifest's
relation_name) with the column types the DuckDB build gives it (dbt-duckdb stores the returned pandas DataFrame
through DuckDB: the same DuckDB type inference runs here, then DuckDB -> PostgreSQL / Spark types as in
scripts/load_raw.py; TIMESTAMP_NS is stored as timestamp; PostgreSQL gets it by COPY of a CSV, Spark over Arrow).
On the bundled sample the largest of these tables has 2,964 rows (one per customer).

    python scripts/run_python_models.py --target postgres --build        # the whole project, staged (below)
    python scripts/run_python_models.py --target spark --manifest M --select cluster_selection,customer_clusters

--build: the whole `dbt build` of the target, in stages computed from the target's manifest (`dbt parse`): a
Python model needs SQL models that themselves need Python models (cluster_profiles <- customer_churn <-
int_churn__btyd_scores <- clv_model_fit), so SQL nodes (models, seeds, data and unit tests) and Python models
alternate: each `dbt build --select <stage>` builds the nodes whose Python ancestors have run, then the Python
models whose parents exist run, and so on (4 dbt builds and 3 Python steps on this project). Each step is its own
process: Derby, Spark's local metastore, admits one process at a time. Extra arguments after `--` go to every
`dbt build` (e.g. `-- --vars "{raw_data_dir: data/sample}"`).
"""
from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the project root (package customer_segmentation, which the model files import, as dbt-duckdb's module_paths
# give it) and scripts/ (load_raw, spark_session)
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]


# --- the manifest -----------------------------------------------------------------------------------------------

def load_manifest(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def is_python_model(node: dict) -> bool:
    return node.get("resource_type") == "model" and node.get("language") == "python"


def _parents(node: dict) -> list[str]:
    return (node.get("depends_on") or {}).get("nodes") or []


def plan(manifest: dict) -> list[tuple[str, list[str]]]:
    """The staged build: [("dbt", [selection names]) | ("python", [model unique_ids in DAG order]), ...].

    A node's stage is the largest number of Python models on a path from a source to it (a Python model's own
    stage counts the Python models before it): SQL nodes of stage d are built by one `dbt build`, then the Python
    models of stage d run. Unit tests go with the model they test. A dbt stage without models or seeds (tests only)
    joins the next dbt stage, and Python stages with nothing between them run as one step.
    """
    nodes = {uid: node for uid, node in manifest["nodes"].items()
             if node.get("resource_type") in ("model", "seed", "snapshot", "test")
             and (node.get("config") or {}).get("enabled", True)}
    python = {uid for uid, node in nodes.items() if is_python_model(node)}

    @functools.cache
    def stage(uid: str) -> int:
        return max((stage(p) + (p in python) for p in _parents(nodes[uid]) if p in nodes), default=0)

    unit_tests = manifest.get("unit_tests", {})
    depth = max((stage(uid) for uid in nodes), default=0)
    steps: list[tuple[str, list[str]]] = []
    pending_dbt: list[str] = []
    for d in range(depth + 1):
        sql = [uid for uid in nodes if uid not in python and stage(uid) == d]
        sql += [uid for uid, test in unit_tests.items() if any(p in nodes and stage(p) == d for p in _parents(test))]
        pending_dbt += sql
        if any(nodes.get(uid, {}).get("resource_type") in ("model", "seed", "snapshot") for uid in sql):
            steps.append(("dbt", pending_dbt))
            pending_dbt = []
        models = sorted((uid for uid in python if stage(uid) == d), key=lambda uid: nodes[uid]["name"])
        if models:  # tests still pending (of earlier Python models) wait for the next dbt stage
            if steps and steps[-1][0] == "python":
                steps[-1][1].extend(models)
            else:
                steps.append(("python", models))
    if pending_dbt:
        steps.append(("dbt", pending_dbt))
    name = {**{uid: n["name"] for uid, n in nodes.items()}, **{uid: t["name"] for uid, t in unit_tests.items()}}
    return [(kind, sorted(name[uid] for uid in uids) if kind == "dbt" else uids) for kind, uids in steps]


# --- the dbt object of a Python model ---------------------------------------------------------------------------

class _Config:
    """dbt.config: callable (dbt.config(materialized="table") sets nothing here: the node's config is already in the
    manifest) with get(key, default) reading the node's config."""

    def __init__(self, config: dict):
        self._config = config

    def __call__(self, *args, **kwargs) -> None:
        return None

    def get(self, key: str, default=None):
        value = self._config.get(key)
        return default if value is None else value


class _This:
    def __init__(self, node: dict):
        self.database, self.schema = node.get("database"), node.get("schema")
        self.identifier = node.get("alias") or node["name"]
        self.relation_name = node["relation_name"]

    def __str__(self) -> str:
        return self.relation_name

    __repr__ = __str__


class PythonModelShim:
    """The `dbt` argument of model(dbt, session) outside dbt: ref/source through `read(relation_name)`, config and
    this from the manifest node."""

    def __init__(self, node: dict, manifest: dict, read):
        self.node, self.manifest, self._read = node, manifest, read
        self.config = _Config(node.get("config") or {})
        self.this = _This(node)

    def is_incremental(self) -> bool:
        return False

    def ref(self, *names, version=None, v=None):
        name = names[-1]
        for uid in _parents(self.node):
            parent = self.manifest["nodes"].get(uid)
            if (
                parent is not None
                and parent["name"] == name
                and (len(names) == 1 or parent["package_name"] == names[0])
            ):
                return self._read(parent["relation_name"])
        raise KeyError(f"{self.node['name']}: ref('{name}') is not among the model's parents in the manifest")

    def source(self, source_name: str, table_name: str):
        for uid in _parents(self.node):
            source = self.manifest.get("sources", {}).get(uid)
            if source is not None and (source["source_name"], source["name"]) == (source_name, table_name):
                return self._read(source["relation_name"])
        raise KeyError(f"{self.node['name']}: source('{source_name}', '{table_name}') is not among its parents")


def run_model(node: dict, manifest: dict, read, session=None):
    """The node's model(dbt, session) on the shim: its returned DataFrame."""
    path = ROOT / node["original_file_path"]
    spec = importlib.util.spec_from_file_location(f"dbt_python_model_{node['name']}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model(PythonModelShim(node, manifest, read), session)


# --- writing a model's table ------------------------------------------------------------------------------------

def duckdb_columns(con, frame) -> list[tuple[str, str]]:
    """(name, DuckDB type) of the table dbt-duckdb would create from the returned DataFrame, timestamps of any
    precision as TIMESTAMP (microseconds: PostgreSQL's and Spark's precision)."""
    columns = []
    for name, duck_type, *_ in con.execute("describe select * from frame").fetchall():
        columns.append((name, "TIMESTAMP" if duck_type.startswith("TIMESTAMP") and "TIME ZONE" not in duck_type
                        else duck_type))
    return columns


def _typed(frame, write):
    """write(duckdb connection, select of the returned DataFrame cast to the DuckDB build's types); returns
    (columns, write's result)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("frame", frame)
        columns = duckdb_columns(con, frame)
        select = "select " + ", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in columns) + " from frame"
        return columns, write(con, select)
    finally:
        con.close()


def frame_to_csv(frame, path: Path) -> list[tuple[str, str]]:
    """The returned DataFrame as CSV (NULL empty, an empty string ""), typed as the DuckDB build types it."""
    columns, _ = _typed(frame, lambda con, select: con.execute(
        f"copy ({select}) to '{path}' (format csv, header true)"))
    return columns


def frame_to_arrow(frame):
    """(columns, Arrow table) of the returned DataFrame, typed as the DuckDB build types it (strings as plain
    Arrow strings)."""
    import pyarrow as pa

    columns, table = _typed(frame, lambda con, select: con.sql(select).to_arrow_table())
    schema = pa.schema(
        [
            pa.field(f.name, pa.string()) if pa.types.is_string_view(f.type) or pa.types.is_large_string(f.type) else f
            for f in table.schema
        ]
    )
    return columns, table.cast(schema)


def _numeric_type(column, values):
    """Arrow type of a PostgreSQL numeric column: decimal(p, s) as declared; an unconstrained numeric (no
    precision: e.g. a sum of numerics) as decimal(38, s) with the largest scale among its values (its values
    exactly, as DuckDB's DECIMAL sums give them), else (more than 38 digits, e.g. a quotient) double."""
    import pyarrow as pa

    if column.precision is not None and 1 <= column.precision <= 38:
        return pa.decimal128(column.precision, column.scale)
    scale = max((-v.as_tuple().exponent for v in values if v is not None and v.is_finite()), default=0)
    digits = max((len(v.as_tuple().digits) - v.as_tuple().exponent - scale for v in values
                  if v is not None and v.is_finite()), default=0)  # digits before the point
    if 0 <= scale and digits + scale <= 38:
        return pa.decimal128(38, scale)
    return pa.float64()


class Postgres:
    def __init__(self):
        from load_raw import postgres_connection

        self.con = postgres_connection()
        self.session = None

    # PostgreSQL type oid -> Arrow type (numeric: from the column's precision and scale)
    _ARROW = {16: "bool_", 20: "int64", 21: "int16", 23: "int32", 700: "float32", 701: "float64", 25: "string",
              1043: "string", 1082: "date32"}

    def read(self, relation_name: str):
        """The table as a pandas DataFrame of Arrow dtypes (no float fallback for a nullable integer, decimals
        stay decimals)."""
        import pandas as pd
        import pyarrow as pa

        with self.con.cursor() as cur:
            cur.execute(f"select * from {relation_name}")
            rows = cur.fetchall()
            arrays = {}
            for position, column in enumerate(cur.description):
                values = [row[position] for row in rows]
                if column.type_code == 1700:
                    arrow_type = _numeric_type(column, values)
                    if pa.types.is_floating(arrow_type):
                        values = [None if v is None else float(v) for v in values]
                elif column.type_code == 1114:
                    arrow_type = pa.timestamp("us")
                elif column.type_code in self._ARROW:
                    arrow_type = getattr(pa, self._ARROW[column.type_code])()
                else:
                    raise TypeError(
                        f"{relation_name}.{column.name}: no Arrow type for PostgreSQL type oid {column.type_code}"
                    )
                arrays[column.name] = pa.array(values, type=arrow_type)
        self.con.rollback()
        return pa.table(arrays).to_pandas(types_mapper=pd.ArrowDtype)

    def write(self, relation_name: str, frame) -> int:
        from load_raw import postgres_type, quote_ident

        with tempfile.TemporaryDirectory(prefix="run_python_models_") as tmp:
            csv = Path(tmp) / "table.csv"
            columns = frame_to_csv(frame, csv)
            ddl = ",\n    ".join(f"{quote_ident(c)} {postgres_type(t)}" for c, t in columns)
            with self.con:  # one transaction: the old table stays until the new one is complete
                with self.con.cursor() as cur:
                    # cascade: views built on the previous table go too (the next dbt stage rebuilds them)
                    cur.execute(f"drop table if exists {relation_name} cascade")
                    cur.execute(f"create table {relation_name} (\n    {ddl}\n)")
                    with open(csv, encoding="utf-8") as handle:
                        cur.copy_expert(f"copy {relation_name} from stdin with (format csv, header true)", handle)
                    cur.execute(f"select count(*) from {relation_name}")
                    return cur.fetchone()[0]

    def close(self) -> None:
        self.con.close()


class Spark:
    def __init__(self):
        from spark_session import spark_session

        self.session = spark_session()

    def read(self, relation_name: str):
        """The table as a Spark DataFrame (what dbt.ref returns on Databricks)."""
        return self.session.table(relation_name)

    def write(self, relation_name: str, frame) -> int:
        """Over Arrow, not CSV: Spark's CSV reader cannot tell an empty string from NULL."""
        from spark_session import spark_type

        columns, table = frame_to_arrow(frame)
        data = self.session.createDataFrame(table).selectExpr(
            *[f"cast(`{c}` as {spark_type(t)}) as `{c}`" for c, t in columns])
        self.session.sql(f"drop table if exists {relation_name}")
        data.write.format("parquet").mode("overwrite").saveAsTable(relation_name)
        return self.session.table(relation_name).count()

    def close(self) -> None:
        from spark_session import release

        release(self.session)


def open_engine(target: str):
    return Postgres() if target == "postgres" else Spark()


def run_models(target: str, manifest: dict, unique_ids: list[str], engine=None) -> None:
    """Run the Python models in order and write their tables; through `engine` when given (left open), else through
    a connection or Spark session of their own."""
    own = engine is None
    engine = open_engine(target) if own else engine
    try:
        for uid in unique_ids:
            node = manifest["nodes"][uid]
            started = time.monotonic()
            frame = run_model(node, manifest, engine.read, engine.session)
            rows = engine.write(node["relation_name"], frame)
            print(f"run_python_models: {node['relation_name']}: {rows} rows in {time.monotonic() - started:.1f}s",
                  flush=True)
    finally:
        if own:
            engine.close()


# --- command line -----------------------------------------------------------------------------------------------

def _dbt(command: str, target: str, target_path: Path, extra: list[str], select: list[str] | None = None) -> list[str]:
    args = [command, "--project-dir", str(ROOT), "--target", target, "--target-path", str(target_path),
            "--log-path", str(target_path.parent / "logs"), *extra]
    if select is not None:
        args += ["--indirect-selection", "empty", "--select", *select]
    return args


def build(target: str, target_path: Path, extra: list[str], start_step: int = 1) -> int:
    """The staged dbt build of the target (module docstring), every step in this process: dbt through its
    programmatic entry point (dbtRunner) with the manifest of one parse, the Python models through one connection
    or Spark session, which dbt-spark's session mode shares (getOrCreate), so the JVM and its Derby metastore start
    once, not once per step. Prints each step's time; stops at a failure."""
    from dbt.cli.main import dbtRunner

    def step(label: str, run) -> bool:
        started = time.monotonic()
        try:
            ok = run()
        except Exception:  # a Python model raising: its traceback, then the step fails
            traceback.print_exc()
            ok = False
        print(f"run_python_models: {label}: {'ok' if ok else 'FAILED'} in {time.monotonic() - started:.1f}s",
              flush=True)
        return ok

    vars_args = extra[extra.index("--vars"):extra.index("--vars") + 2] if "--vars" in extra else []
    frozen = target_path.parent / "python_models_manifest.json"  # the parse's manifest (dbt build rewrites it)
    parsed = {}

    def parse() -> bool:
        result = dbtRunner().invoke(_dbt("parse", target, target_path, vars_args))
        parsed["manifest"] = result.result if result.success else None
        return result.success

    if not step(f"dbt parse --target {target}", parse):
        return 1
    if start_step == 1 or not frozen.exists():  # a resumed build keeps the plan of its first parse
        frozen.write_text((target_path / "manifest.json").read_text())
    manifest = load_manifest(frozen)
    steps = plan(manifest)
    engine = None
    try:
        for number, (kind, items) in enumerate(steps, start=1):
            if number < start_step:
                continue
            if kind == "dbt":
                args = _dbt("build", target, target_path, extra, items)
                ok = step(f"step {number}/{len(steps)}: dbt build --target {target} ({len(items)} nodes)",
                          lambda args=args: dbtRunner(manifest=parsed["manifest"]).invoke(args).success)
            else:
                engine = engine or open_engine(target)
                names = [uid.split(".")[-1] for uid in items]

                def python_step(items=items, engine=engine) -> bool:
                    run_models(target, manifest, items, engine)  # raises when a model fails
                    return True

                ok = step(f"step {number}/{len(steps)}: Python models {', '.join(names)}", python_step)
            if not ok:
                return 1
    finally:
        if engine is not None:
            engine.close()
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, choices=["postgres", "spark"])
    parser.add_argument("--manifest", help="the target's manifest.json (after dbt parse/build --target ...)")
    parser.add_argument("--select", help="comma-separated Python models (default: all, in DAG order)")
    parser.add_argument("--build", action="store_true", help="the whole staged dbt build of the target")
    parser.add_argument("--target-path", default=str(ROOT / "target"), help="dbt's --target-path for --build")
    parser.add_argument("--start-step", type=int, default=1,
                        help="--build: resume at this step (earlier ones done; the plan of the first parse is kept)")
    args = parser.parse_args(argv)
    if args.build:
        return build(args.target, Path(args.target_path).resolve(), extra, args.start_step)
    manifest = load_manifest(Path(args.manifest or Path(args.target_path) / "manifest.json"))
    order = [uid for kind, uids in plan(manifest) if kind == "python" for uid in uids]
    if args.select:
        wanted = {name.strip() for name in args.select.split(",") if name.strip()}
        unknown = wanted - {uid.split(".")[-1] for uid in order}
        if unknown:
            print(
                f"run_python_models: not Python models of the manifest: {', '.join(sorted(unknown))}", file=sys.stderr
            )
            return 1
        order = [uid for uid in order if uid.split(".")[-1] in wanted]
    run_models(args.target, manifest, order)
    return 0


if __name__ == "__main__":
    sys.exit(main())
