"""make test-engines: build the bundled sample on DuckDB and on the other engines, and compare every mart.

    python scripts/test_engines.py [--engines postgres,spark] [--raw-dir data/sample]

The DuckDB build (`dbt build`, every node but the dbt unit tests), then the engines side by side, each in its own
thread: load the raw tables (scripts/load_raw.py), the whole project through `scripts/run_python_models.py --target
<engine> --build` (`dbt build` in stages, the dbt Python models run by that script between them, their data tests in
the next stage; README "Other engines"), then scripts/compare_engines.py --require-all against the DuckDB build
(every mart, row counts + rounded checksums). PostgreSQL is started first by scripts/start_postgres.sh. Artifacts go
under target/engines/<engine>/ (the DuckDB warehouse is target/engines/duckdb/warehouse.duckdb). Prints the time of
every step (and of every stage of the staged builds); exits 1 when a build fails or a mart differs.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(step: str, args: list[str], env: dict, log: Path, echo: str | None = None) -> bool:
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


def staged_build(target: str, out: Path, env: dict, raw_dir: str) -> bool:
    args = [
        str(BIN / "python"), "scripts/run_python_models.py", "--target", target, "--build",
        "--target-path", str(out / "target"), "--", "--vars", f"{{raw_data_dir: '{raw_dir}'}}",
    ]
    return run(f"run_python_models.py --target {target} --build", args, env, out / "build.log",
               echo="run_python_models:")


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
    args = parser.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]
    work = ROOT / "target" / "engines"
    env = {**os.environ, "DBT_PROFILES_DIR": str(ROOT), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    # Spark on the sample: ~400 queries on a few thousand rows, where compiling each query's Java costs more than it
    # saves (Spark load + staged build + compare, whole machine: 260 s and 346 s of CPU without, 290 s and 393 s
    # with, 2026-12-02; the same 0 differences)
    env.setdefault("SPARK_WHOLE_STAGE_CODEGEN", "false")

    duck = work / "duckdb"
    duck_db = duck / "warehouse.duckdb"
    duck_db.unlink(missing_ok=True)
    if not dbt_build(duck, {**env, "DUCKDB_PATH": str(duck_db)}, args.raw_dir):
        return 1
    # The engines side by side: the PostgreSQL chain (~1.5 min alone) runs while Spark's (~4.5 min, CPU-bound in
    # its JVM) does, instead of after it; each has its own folders, schema and (Spark) metastore. Their lines
    # interleave, each names its engine.
    with ThreadPoolExecutor(max_workers=len(engines) or 1) as pool:
        results = list(pool.map(lambda engine: engine_steps(engine, work, env, args.raw_dir, duck), engines))
    for engine, ok in zip(engines, results):
        print(f"test_engines: {engine}: {'ok' if ok else 'FAILED'}", flush=True)
    return 0 if all(results) else 1


def engine_steps(engine: str, work: Path, env: dict, raw_dir: str, duck: Path) -> bool:
    """Start (PostgreSQL), load the raw tables, staged build, compare with the DuckDB build; stops at a failure."""
    out = work / engine
    if engine == "postgres" and not run(
        "start_postgres.sh", ["bash", "scripts/start_postgres.sh"], env, out / "start.log"
    ):
        return False
    ok = (
        run(f"load_raw.py --target {engine}",
            [str(BIN / "python"), "scripts/load_raw.py", "--target", engine, "--raw-dir", raw_dir],
            env, out / "load.log")
        and staged_build(engine, out, env, raw_dir)
        and run(f"compare_engines.py duckdb vs {engine}",
                [str(BIN / "python"), "scripts/compare_engines.py", "--left", f"duckdb:{duck / 'warehouse.duckdb'}",
                 "--right", engine, "--manifest", str(duck / "target" / "manifest.json"), "--require-all"],
                env, out / "compare.log")
    )
    if ok:
        print(f"test_engines: {engine}: " + (out / "compare.log").read_text().splitlines()[-1], flush=True)
    return ok


if __name__ == "__main__":
    sys.exit(main())
