"""make test-engines: build the bundled sample on DuckDB and on the other engines, and compare every mart.

    python scripts/test_engines.py [--engines postgres,spark] [--raw-dir data/sample]

The DuckDB build (`dbt build`, every node but the dbt unit tests), then the engines side by side, each in a process
of its own (`--chain ENGINE`) that runs three steps in turn: load the raw tables (scripts/load_raw.py), the whole
project through `scripts/run_python_models.py --target <engine> --build` (`dbt build` in stages, the dbt Python
models run by that script between them, their data tests in the next stage; README "Other engines"), then
scripts/compare_engines.py --require-all against the DuckDB build (every mart, row counts + rounded checksums). One
process per engine: on Spark the three steps share one JVM and Spark session, and the session keeps its tables in
Spark's in-memory catalog (SPARK_CATALOG=in-memory, set here unless given; the profile's default is the Derby
metastore, which separate processes need to share the tables); its warehouse folder is target/engines/spark/local,
emptied first (unless SPARK_LOCAL_DIR is given). PostgreSQL is started first by scripts/start_postgres.sh. Artifacts
go under target/engines/<engine>/ (the DuckDB warehouse is target/engines/duckdb/warehouse.duckdb). Prints the time
of every step (and of every stage of the staged builds); exits 1 when a build fails or a mart differs.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORK = ROOT / "target" / "engines"  # an engine's artifacts under WORK/<engine>, the DuckDB reference's under DUCK
DUCK = WORK / "duckdb"


def run(step: str, args: list[str], env: dict, log: Path, echo: tuple[str, ...] = ()) -> bool:
    """Run one step, its output to `log`; print its time (and the log lines starting with `echo`)."""
    started = time.monotonic()
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as handle:
        proc = subprocess.run(args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - started
    status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode}, log {log.relative_to(ROOT)})"
    if echo:
        for line in log.read_text().splitlines():
            if line.startswith(echo):
                print("    " + line, flush=True)
    print(f"test_engines: {step}: {status} in {seconds:.1f}s", flush=True)
    if proc.returncode != 0:
        tail = log.read_text().splitlines()[-40:]
        print("\n".join("    " + line for line in tail), flush=True)
    return proc.returncode == 0


def dbt_build(out: Path, env: dict, raw_dir: str) -> bool:
    """The DuckDB reference: every node but the dbt unit tests (pytest's sample build runs those on DuckDB; the
    staged builds run them on each engine), dbt-duckdb running the Python models itself."""
    args = [
        str(BIN / "dbt"), "build", "--target", "dev", "--exclude", "resource_type:unit_test",
        "--target-path", str(out / "target"), "--log-path", str(out / "logs"),
        "--vars", f"{{raw_data_dir: '{raw_dir}'}}",
    ]
    ok = run("dbt build --target dev", args, env, out / "build.log")
    print_breakdown(out / "target" / "run_results.json")
    return ok


def print_breakdown(run_results: Path) -> None:
    """Where a build's time went: the summed execution time of its nodes per resource type."""
    if not run_results.exists():
        return
    results = json.loads(run_results.read_text())
    totals: dict[str, list] = {}
    for result in results.get("results", []):
        total = totals.setdefault(result["unique_id"].split(".")[0], [0, 0.0])
        total[0] += 1
        total[1] += result.get("execution_time") or 0.0
    parts = ", ".join(
        f"{n} {kind}s {seconds:.1f}s ({seconds / n:.2f}s each)"
        for kind, (n, seconds) in sorted(totals.items(), key=lambda item: -item[1][1])
    )
    print(f"test_engines:     nodes {results.get('elapsed_time', 0):.1f}s: {parts}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="postgres,spark")
    parser.add_argument("--raw-dir", default="data/sample")
    parser.add_argument("--chain", choices=["postgres", "spark"], help=argparse.SUPPRESS)  # one engine's steps
    args = parser.parse_args(argv)
    if args.chain:
        return chain(args.chain, args.raw_dir)
    engines = [e for e in args.engines.split(",") if e]
    env = {**os.environ, "DBT_PROFILES_DIR": str(ROOT), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    # Spark on the sample: ~400 queries on a few thousand rows, where compiling each query's Java costs more than it
    # saves (Spark load + staged build + compare, whole machine: 260 s and 346 s of CPU without, 290 s and 393 s
    # with, 2026-12-02; the same 0 differences)
    env.setdefault("SPARK_WHOLE_STAGE_CODEGEN", "false")
    # the three Spark steps share one session (chain): the in-memory catalog spares the Derby metastore's work on
    # every table created and read (Spark load + staged build + compare, alone: 441 s of CPU and 317 s in three
    # processes with Derby, 280 s and 216 s in one with the in-memory catalog, 2026-12-03; 0 differences both)
    env.setdefault("SPARK_CATALOG", "in-memory")

    duck_db = DUCK / "warehouse.duckdb"
    duck_db.unlink(missing_ok=True)
    if not dbt_build(DUCK, {**env, "DUCKDB_PATH": str(duck_db)}, args.raw_dir):
        return 1
    # The engines side by side: the PostgreSQL chain (~1.5 min alone) runs while Spark's (~4.5 min, CPU-bound in
    # its JVM) does, instead of after it; each has its own folders, schema and (Spark) metastore. Their lines
    # interleave, each names its engine.
    with ThreadPoolExecutor(max_workers=len(engines) or 1) as pool:
        results = list(pool.map(lambda engine: engine_steps(engine, env, args.raw_dir), engines))
    for engine, ok in zip(engines, results):
        print(f"test_engines: {engine}: {'ok' if ok else 'FAILED'}", flush=True)
    return 0 if all(results) else 1


def engine_steps(engine: str, env: dict, raw_dir: str) -> bool:
    """Start (PostgreSQL), then load, staged build and comparison in one process of their own (chain)."""
    out = WORK / engine
    if engine == "postgres" and not run(
        "start_postgres.sh", ["bash", "scripts/start_postgres.sh"], env, out / "start.log"
    ):
        return False
    if engine == "spark" and "SPARK_LOCAL_DIR" not in env:
        shutil.rmtree(out / "local", ignore_errors=True)  # in-memory catalog: table folders left over would clash
        env = {**env, "SPARK_LOCAL_DIR": str(out / "local")}
    log = out / "chain.log"
    ok = run(f"{engine}: load, build and compare", [
        str(BIN / "python"), "scripts/test_engines.py", "--chain", engine, "--raw-dir", raw_dir,
    ], env, log, echo=("test_engines:", "run_python_models:"))
    if ok:
        summary = [line for line in log.read_text().splitlines() if " marts compared (" in line]
        print(f"test_engines: {engine}: " + summary[-1], flush=True)
    return ok


def chain(engine: str, raw_dir: str) -> int:
    """--chain: the three steps of one engine in this process, each through its script's own entry point; stops at
    a failure. On Spark the scripts' session stays open from one step to the next (spark_session.keep_open)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import compare_engines
    import load_raw
    import run_python_models

    out = WORK / engine
    steps = [
        (f"load_raw.py --target {engine}", lambda: load_raw.main(["--target", engine, "--raw-dir", raw_dir])),
        (f"run_python_models.py --target {engine} --build", lambda: run_python_models.build(
            engine, out / "target", ["--vars", f"{{raw_data_dir: '{raw_dir}'}}"])),
        (f"compare_engines.py duckdb vs {engine}", lambda: compare_engines.main([
            "--left", f"duckdb:{DUCK / 'warehouse.duckdb'}", "--right", engine,
            "--manifest", str(DUCK / "target" / "manifest.json"), "--require-all"])),
    ]
    session = None
    if engine == "spark":
        import spark_session

        spark_session.keep_open()
        session = spark_session.spark_session()  # the one session of the three steps (each gets it by getOrCreate)
    try:
        for label, step in steps:
            started = time.monotonic()
            code = step()
            status = "ok" if code == 0 else f"FAILED (exit {code})"
            print(f"test_engines: {label}: {status} in {time.monotonic() - started:.1f}s", flush=True)
            if code != 0:
                return 1
        return 0
    finally:
        if session is not None:
            session.stop()


if __name__ == "__main__":
    sys.exit(main())
