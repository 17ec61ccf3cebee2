"""Benchmark the whole `dbt build` against a hand-written DuckDB script and a pandas pipeline.

For each scale (orders), on the same generated files:
  1. `dbt build` of the whole project (wall time, peak RSS of the process tree, per-node timings
     from target/run_results.json), then the "core build" `dbt build --selector core_marts` (selectors.yml:
     the core marts, the quality marts, their upstream and their data tests) into its own warehouse;
  2. scripts/bench_duckdb.sql, one hand-written DuckDB script computing the core outputs (order grain,
     RFM scores, rfm_tier, ABC, XYZ, cohort retention): a lower bound of what the engine can do;
  3. scripts/bench_pandas.py, the same outputs in straightforward vectorized pandas.
Then it checks that the core build, 2 and 3 agree with the dbt marts on a few totals (customers, revenue, ABC, XYZ and
rfm_tier counts, cohort totals), prints a table, and merges the results into benchmarks/results.json
(one entry per scale, with the machine described).

    .venv/bin/python scripts/benchmark.py                      # 10k, 100k, 1M orders  (make bench)
    .venv/bin/python scripts/benchmark.py --scales 10m         # add the 10 M run       (make bench-10m)
    .venv/bin/python scripts/benchmark.py --scales 1m --threads 2 --no-save

Every process is measured from the outside the same way: wall time with time.perf_counter around the
child process (dbt's start-up and its parse included, as a user pays them: the build runs after a `dbt parse`
of the project into its target folder, timed apart, so it parses partially as every build but a user's first
does; --cold-parse times a build that parses everything itself), peak memory as the larger
of the kernel's ru_maxrss of the child (os.wait4: largest single process of the tree) and the peak of
the summed RSS of the process tree sampled from /proc every 0.1 s.

Generated data and work files live under benchmarks/data/ (git-ignored); data is reused when it was
generated with the same arguments.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import string
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project root: package customer_segmentation

from customer_segmentation.data.olist import FILES  # noqa: E402  (table -> CSV file name, from the sources YAML)
from safe_build import PRODUCTION_ENV  # noqa: E402  (the build is timed as `make build` runs it: no unit tests)

GENERATOR = ROOT / "scripts" / "generate_olist.py"
DUCKDB_SQL = ROOT / "scripts" / "bench_duckdb.sql"
PANDAS_SCRIPT = ROOT / "scripts" / "bench_pandas.py"
DEFAULT_DATA_DIR = ROOT / "benchmarks" / "data"
DEFAULT_RESULTS = ROOT / "benchmarks" / "results.json"
PYTHON = sys.executable
DBT = str(Path(sys.executable).with_name("dbt"))
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

SCALES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
DEFAULT_SCALES = ["10k", "100k", "1m"]


# --------------------------------------------------------------------------------------------------
# Measuring a child process: wall time and peak memory of its process tree
# --------------------------------------------------------------------------------------------------

def _tree_rss_bytes(root_pid: int) -> int:
    """Sum of the RSS of root_pid and all its descendants, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces: split after the last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * PAGE_SIZE
        except OSError:
            pass
        stack.extend(children.get(pid, []))
    return total


def loadavg() -> float:
    """1-minute load average: other work on the machine inflates wall times, so it is recorded."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return -1.0


def wait_until_quiet(max_load: float | None, max_wait: float = 600) -> None:
    """Wait (up to max_wait s) until the 1-minute load average is at most max_load."""
    if max_load is None:
        return
    deadline = time.monotonic() + max_wait
    while loadavg() > max_load and time.monotonic() < deadline:
        time.sleep(10)


def measure(cmd: list[str], env: dict | None = None, log_file: Path | None = None,
            interval: float = 0.1) -> dict:
    """Run cmd, return wall seconds, peak RSS (MB) and the exit code; output goes to log_file."""
    log_file = log_file or Path(os.devnull)
    load_before = loadavg()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    peak = {"tree": 0}
    timeline: list[tuple[float, int]] = []  # (epoch seconds, tree RSS bytes)
    with open(log_file, "w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})},
                                stdout=out, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                rss = _tree_rss_bytes(proc.pid)
                peak["tree"] = max(peak["tree"], rss)
                timeline.append((time.time(), rss))
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    max_single = usage.ru_maxrss * 1024  # KiB on Linux
    return {
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(max(max_single, peak["tree"]) / 2**20, 1),
        "max_single_process_rss_mb": round(max_single / 2**20, 1),
        "sampled_tree_rss_mb": round(peak["tree"] / 2**20, 1),
        "user_s": round(usage.ru_utime, 2),
        "system_s": round(usage.ru_stime, 2),
        "returncode": proc.returncode,
        "loadavg_before_after": [load_before, loadavg()],
        "measured_at": dt.datetime.now().isoformat(timespec="seconds"),
        "_timeline": timeline,
    }


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(_read_text(path).splitlines()[-lines:])


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------

def _generator_help(generator: Path) -> str:
    if not generator.exists():
        sys.exit(f"{generator} not found: the benchmark generates its data with it")
    return subprocess.run([PYTHON, str(generator), "--help"], capture_output=True, text=True, cwd=ROOT).stdout


def _count_orders(raw_dir: Path) -> int:
    import duckdb

    with duckdb.connect() as con:
        return con.execute(
            "select count(*) from read_csv(?, header = true, all_varchar = true)",
            [str(raw_dir / FILES["orders"])],
        ).fetchone()[0]


def _orders_per_customer(seed: int, data_dir: Path, generator: Path) -> float:
    """Orders per customer of the generator (used when it has no --orders option), measured once."""
    probe = data_dir / f"calibration_seed{seed}"
    marker = probe / "BENCH_CALIBRATION.json"
    if marker.exists():
        return json.loads(marker.read_text())["orders_per_customer"]
    customers = 50_000
    subprocess.run([PYTHON, str(generator), "--customers", str(customers), "--seed", str(seed),
                    "--out", str(probe)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    ratio = _count_orders(probe) / customers
    marker.write_text(json.dumps({"customers": customers, "orders_per_customer": ratio}))
    return ratio


def generate(label: str, target_orders: int, seed: int, data_dir: Path, generator: Path = GENERATOR) -> dict:
    """Generate (or reuse) the scale's raw files; returns where they are and how they were made."""
    help_text = _generator_help(generator)
    if re.search(r"--orders\b", help_text):
        args = ["--orders", str(target_orders)]
    else:
        customers = max(1, round(target_orders / _orders_per_customer(seed, data_dir, generator)))
        args = ["--customers", str(customers)]
    args += ["--seed", str(seed)]
    out = data_dir / f"orders_{label}"
    marker = out / "BENCH_GENERATED.json"
    if marker.exists() and json.loads(marker.read_text()).get("args") == args:
        info = json.loads(marker.read_text())
        info["reused"] = True
        return info
    if out.exists():
        shutil.rmtree(out)
    print(f"[{label}] generating: generate_olist.py {' '.join(args)}", flush=True)
    run = measure([PYTHON, str(generator), *args, "--out", str(out)], log_file=data_dir / f"generate_{label}.log")
    run.pop("_timeline")
    if run["returncode"] != 0:
        sys.exit(f"generator failed:\n{_tail(data_dir / f'generate_{label}.log')}")
    size = sum(f.stat().st_size for f in out.glob("*.csv"))
    info = {"args": args, "raw_dir": str(out), "orders": _count_orders(out), "generator": str(generator),
            "csv_mb": round(size / 2**20, 1), "generate": run}
    marker.write_text(json.dumps(info, indent=2))
    info["reused"] = False
    return info


# --------------------------------------------------------------------------------------------------
# The three contenders
# --------------------------------------------------------------------------------------------------

def project_vars() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]


def render_duckdb_sql(raw_dir: Path, rules: dict) -> str:
    """Fill the placeholders of scripts/bench_duckdb.sql from the project's vars."""
    bins = int(rules["rfm_bins"])

    def literal(value: str) -> str:
        return "'" + str(value).replace("'", "''") + "'"

    statuses = rules["revenue_excluded_statuses"] or ["\x00none"]
    values = {
        **{f"{table}_csv": str(Path(raw_dir) / name).replace("'", "''") for table, name in FILES.items()},
        "excluded_statuses": ", ".join(literal(s) for s in statuses),
        "analysis_date": f"date {literal(rules['analysis_date'])}" if rules.get("analysis_date")
        else "cast(null as date)",
        "rfm_bins": bins,
        "bin_quantiles": "[" + ", ".join(repr(k / bins) for k in range(1, bins)) + "]",
        "w_r": rules["rfm_weights"]["r"], "w_f": rules["rfm_weights"]["f"], "w_m": rules["rfm_weights"]["m"],
        "tier_low_pct": rules["rfm_tier_percentiles"][0],
        "tier_high_pct": rules["rfm_tier_percentiles"][1],
        "abc_a": rules["abc_thresholds"][0], "abc_b": rules["abc_thresholds"][1],
        "xyz_x": rules["xyz_thresholds"][0], "xyz_y": rules["xyz_thresholds"][1],
        "xyz_min_periods": int(rules.get("xyz_min_periods", 3)),
        # F = purchases capped at rfm_bins (var rfm_frequency_score count), or the quantile bin
        "f_score": f"least(b.frequency, {bins})" if rules.get("rfm_frequency_score", "count") == "count"
        else "1 + len(list_filter(t.f_t, lambda x: x < b.frequency))",
    }
    return string.Template(DUCKDB_SQL.read_text()).safe_substitute(values)


def run_duckdb_script(raw_dir: Path, db_path: Path) -> None:
    """Child-process entry point: run the hand-written script into a fresh DuckDB file."""
    import duckdb

    sql = render_duckdb_sql(raw_dir, project_vars())
    if db_path.exists():
        db_path.unlink()
    with duckdb.connect(str(db_path)) as con:
        con.execute(sql)


def _fetch(db_path: Path, sql: str):
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _tables(db_path: Path) -> set[str]:
    return {row[0] for row in _fetch(db_path, "select table_name from information_schema.tables")}


# the dbt marts totals_from_db reads (rfm, abc_xyz, cohorts, orders)
MART_TOTAL_TABLES = ("customer_rfm", "customer_abc_xyz", "cohort_retention", "fct_orders")


def totals_from_db(db_path: Path, rfm: str, abc_xyz: str, cohorts: str, orders: str) -> dict:
    """The compared totals, read from a warehouse (the dbt marts or the hand-written script's tables)."""
    tables = _tables(db_path)
    out: dict = {}
    if orders in tables:
        out["orders"] = _fetch(db_path, f"select count(*) from {orders}")[0][0]
    if rfm in tables:
        count, revenue = _fetch(db_path, f"select count(*), sum(monetary) from {rfm}")[0]
        out["customers"], out["revenue"] = count, float(revenue)
        out["rfm_tier"] = dict(_fetch(db_path, f"select rfm_tier, count(*) from {rfm} group by 1 order by 1"))
    elif "dim_customers" in tables:  # before the segmentation marts exist
        count, revenue = _fetch(
            db_path, "select count(*), sum(purchase_value) from dim_customers where has_purchased")[0]
        out["customers"], out["revenue"] = count, float(revenue)
    if abc_xyz in tables:
        out["abc"] = dict(_fetch(db_path, f"select abc_class, count(*) from {abc_xyz} group by 1 order by 1"))
        out["xyz"] = dict(_fetch(db_path, f"select xyz_class, count(*) from {abc_xyz} group by 1 order by 1"))
    if cohorts in tables:
        # the mart flags its all-states rows (is_all_states); the benchmark's own tables label them 'ALL'
        columns = {
            c
            for (c,) in _fetch(
                db_path, f"select column_name from information_schema.columns where table_name = '{cohorts}'"
            )
        }
        is_all = "is_all_states" if "is_all_states" in columns else "customer_state = 'ALL'"
        size, revenue, rows = _fetch(db_path, f"""
            select
                sum(case when {is_all} and months_since_first = 0 then cohort_size end),
                sum(case when {is_all} then revenue end),
                count(*)
            from {cohorts}""")[0]
        out["cohort_customers"], out["cohort_revenue"], out["cohort_rows"] = size, float(revenue), rows
    return out


def check_entry(entry: dict) -> dict:
    """Agreement of the core build, the DuckDB script and pandas with the dbt marts, on the totals both have."""
    reference = entry.get("dbt", {}).get("totals")
    checks = {}
    if reference:
        for name in ("dbt_core", "duckdb", "pandas"):
            if entry.get(name, {}).get("totals"):
                problems = compare(reference, entry[name]["totals"])
                checks[name] = {"agree": not problems, "compared": sorted(set(reference) & set(entry[name]["totals"])),
                                "differences": problems}
    return checks


def merge_runs(saved: dict, runs: dict) -> dict:
    """New runs replace saved ones scale by scale; a contender skipped now (--skip) keeps its saved
    measurement (each carries its own measured_at) when it was measured on the same data (same generator
    arguments and the same number of orders: the generator itself can change), and the checks are recomputed."""
    merged = dict(saved)
    for label, entry in runs.items():
        old = saved.get(label)
        same_data = all(old.get(k) == entry.get(k) for k in ("generator_args", "orders")) if old else False
        if same_data:
            entry = {**entry, **{k: old[k] for k in CONTENDERS if k in old and k not in entry}}
            entry["checks"] = check_entry(entry)
        merged[label] = entry
    return merged


def compare(reference: dict, other: dict) -> list[str]:
    """Differences between two totals dicts, on the keys both have (money within a cent)."""
    problems = []
    for key in sorted(set(reference) & set(other) - {"timings_s"}):
        a, b = reference[key], other[key]
        same = abs(a - b) <= 0.01 + 1e-12 * abs(a) if isinstance(a, float) or isinstance(b, float) else a == b
        if not same:
            problems.append(f"{key}: dbt {a} vs {b}")
    return problems


def _epoch(iso: str) -> float:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _read_manifest(manifest_file: Path) -> dict | None:
    return json.loads(manifest_file.read_text()) if manifest_file.exists() else None


def _seconds_by_folder(results: dict, manifest: dict | None) -> dict:
    """Seconds of models and of their data tests per model folder (a test counts for the folder of the
    model it is attached to, a singular test for its own folder under tests/; source tests: staging)."""
    if manifest is None:
        return {}
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}

    def folder(uid: str) -> str:
        node = nodes.get(uid) or manifest.get("sources", {}).get(uid)
        if node is None:
            return "other"
        if uid.startswith("source."):
            return "staging/sources"
        if node.get("attached_node"):
            return folder(node["attached_node"])
        if uid.startswith("unit_test.") and node.get("depends_on", {}).get("nodes"):
            return folder(node["depends_on"]["nodes"][0])
        path = Path(node.get("original_file_path", ""))
        if path.parts and path.parts[0] == "models":
            return "/".join(path.parts[1:-1]) or "models"
        if path.parts and path.parts[0] == "tests" and len(path.parts) > 2:
            return f"tests/{path.parts[1]}"
        return path.parts[0] if path.parts else "other"

    out: dict[str, dict[str, float]] = {}
    for result in results.get("results", []):
        uid = result["unique_id"]
        kind = uid.split(".")[0]
        kind = "models" if kind in ("model", "seed") else "tests"
        if uid.startswith("test.") and (nodes.get(uid, {}).get("attached_node") or "").startswith("source."):
            key = "staging/sources"
        else:
            key = folder(uid)
        entry = out.setdefault(key, {"models": 0.0, "tests": 0.0})
        entry[kind] += float(result.get("execution_time") or 0)
    return {k: {kind: round(v, 1) for kind, v in e.items()}
            for k, e in sorted(out.items(), key=lambda kv: -sum(kv[1].values()))}


# The dbt marts holding what the DuckDB script and the pandas pipeline compute: their models and every model
# and seed upstream of them (staging, order grain, ...), without the data tests, the rest of the DAG (snapshots,
# hypotheses, ML) or dbt's start-up. Their summed execution time is the like-for-like figure against the script.
CORE_MARTS = ("fct_orders", "customer_rfm", "customer_abc_xyz", "cohort_retention")
# The selector (selectors.yml) of the "core build" contender: `dbt build --selector core_marts`, CORE_MARTS, the
# quality marts counting excluded rows, everything upstream and the data tests within that set, timed as a whole
# process like the full build (a user who needs only RFM, ABC-XYZ and cohorts).
CORE_SELECTOR = "core_marts"
# what a run may hold besides its own fields: each kept from the saved results when skipped now (merge_runs)
CONTENDERS = ("dbt_parse", "dbt", "dbt_core_parse", "dbt_core", "duckdb", "pandas")


def core_model_seconds(results: dict, manifest: dict | None) -> dict:
    """Summed execution time of CORE_MARTS and all models and seeds upstream of them (manifest parent_map)."""
    if manifest is None:
        return {}
    parents = manifest.get("parent_map", {})
    stack = [uid for uid in manifest.get("nodes", {})
             if uid.startswith("model.") and uid.rsplit(".", 1)[-1] in CORE_MARTS]
    seen: set[str] = set()
    while stack:
        uid = stack.pop()
        if uid not in seen:
            seen.add(uid)
            stack.extend(p for p in parents.get(uid, []) if p.startswith(("model.", "seed.")))
    seconds = sum(float(r.get("execution_time") or 0) for r in results.get("results", []) if r["unique_id"] in seen)
    return {"seconds": round(seconds, 1), "node_count": len(seen),
            "marts": [m for m in CORE_MARTS if any(uid.endswith("." + m) for uid in seen)]}


def python_model_seconds(results: dict, manifest: dict | None) -> float | None:
    """Summed execution time of the dbt Python models (manifest language python): the fits and scoring."""
    if manifest is None:
        return None
    nodes = manifest.get("nodes", {})
    return round(sum(float(r.get("execution_time") or 0) for r in results.get("results", [])
                     if nodes.get(r["unique_id"], {}).get("language") == "python"), 1)


def node_timings(run_results: Path, timeline: list[tuple[float, int]] | None = None) -> dict:
    """Per-node timings of a dbt run, slowest first, plus totals by resource type. With the RSS
    timeline of the run, each node also gets the highest RSS sampled while it executed (DuckDB keeps
    memory it has used, so the node where the run's peak is first reached is the one to look at)."""
    if not run_results.exists():
        return {}
    results = json.loads(run_results.read_text())
    nodes = []
    by_type: dict[str, float] = {}
    for result in results.get("results", []):
        uid = result["unique_id"]
        kind = uid.split(".")[0]
        seconds = float(result.get("execution_time") or 0)
        by_type[kind] = by_type.get(kind, 0.0) + seconds
        node = {"node": uid.split(".", 2)[-1] if kind != "test" else uid.split(".")[2],
                "type": kind, "status": result["status"], "s": round(seconds, 3)}
        execute = [t for t in result.get("timing", []) if t.get("name") == "execute"]
        if timeline and execute:
            start, end = _epoch(execute[0]["started_at"]), _epoch(execute[0]["completed_at"])
            node["_start"] = start
            during = [rss for t, rss in timeline if start - 0.05 <= t <= end + 0.05]
            if during:
                node["rss_mb"] = round(max(during) / 2**20)
        nodes.append(node)
    manifest = _read_manifest(run_results.with_name("manifest.json"))
    by_folder = _seconds_by_folder(results, manifest)
    core = core_model_seconds(results, manifest)
    peak_node = None
    if timeline:
        peak = max(rss for _, rss in timeline) / 2**20
        in_order = sorted((n for n in nodes if "rss_mb" in n), key=lambda n: n["_start"])
        peak_node = next((n["node"] for n in in_order if n["rss_mb"] >= 0.95 * peak), None)
    for node in nodes:
        node.pop("_start", None)
    nodes.sort(key=lambda n: -n["s"])
    return {
        "peak_rss_first_reached_in": peak_node,
        "seconds_by_folder": by_folder,
        "core_models": core,
        "python_models_s": python_model_seconds(results, manifest),
        "elapsed_s": round(float(results.get("elapsed_time") or 0), 3),
        "seconds_by_type": {k: round(v, 3) for k, v in sorted(by_type.items())},
        "node_count": len(nodes),
        "failures": [n["node"] for n in nodes if n["status"] in ("error", "fail")],
        "nodes": nodes,
    }


def _run_dbt(label: str, command: str, raw_dir: Path, db_path: Path, target: Path, log_file: Path,
             options: list[str] | None = None, extra_vars: dict | None = None) -> dict:
    """`dbt <command>` as `make build` runs it (PRODUCTION_ENV), into db_path with its own target and log folders
    (target/../logs), measured; a failure prints the end of its log."""
    cmd = [DBT, command, "--target-path", str(target), "--log-path", str(target.parent / "logs"),
           "--vars", json.dumps({"raw_data_dir": str(raw_dir), **(extra_vars or {})}), *(options or [])]
    env = {**PRODUCTION_ENV, "DUCKDB_PATH": str(db_path), "DBT_PROFILES_DIR": str(ROOT),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    run = measure(cmd, env, log_file)
    if run["returncode"] != 0:
        run["log_tail"] = _tail(log_file)
        print(f"[{label}] dbt {command} FAILED (exit {run['returncode']}):\n{run['log_tail']}", flush=True)
    return run


def dbt_parse(label: str, raw_dir: Path, db_path: Path, target: Path, log_file: Path) -> dict:
    """`dbt parse` of the project with the build's vars, environment and target folder, measured: the one-time
    parse a user's first build pays; the build that follows in the same target folder parses partially (only
    what changed since), as every later build of a user does."""
    run = _run_dbt(label, "parse", raw_dir, db_path, target, log_file)
    run.pop("_timeline", None)
    return run


def dbt_build(label: str, raw_dir: Path, db_path: Path, target: Path, log_file: Path, threads: int | None,
              extra_vars: dict | None = None, selector: str | None = None) -> dict:
    """`dbt build` (_run_dbt), of the whole project or of a selector of selectors.yml, measured; the per-node
    timings come from target/run_results.json."""
    options = (["--threads", str(threads)] if threads else []) + (["--selector", selector] if selector else [])
    run = _run_dbt(label, "build", raw_dir, db_path, target, log_file, options, extra_vars)
    if selector:
        run["selector"] = selector
    run["threads"] = threads or "profile"
    run["duckdb_memory_limit"] = os.environ.get("DUCKDB_MEMORY_LIMIT", "profile default")
    run["timings"] = node_timings(target / "run_results.json", run["_timeline"])
    return run


def dbt_contender(label: str, raw_dir: Path, work: Path, threads: int | None, parse_first: bool,
                  selector: str | None = None) -> tuple[dict | None, dict]:
    """(`dbt parse` or None, `dbt build`) of the whole project or of a selector, into work/dbt.duckdb with the
    target folder work/target. parse_first: the build follows a parse of the same project, vars, environment and
    target folder (so it parses partially; `partial_parse` records whether dbt could, from its log). The build's
    totals and warehouse size are read from the warehouse it left."""
    work.mkdir(parents=True, exist_ok=True)
    db, target, log = work / "dbt.duckdb", work / "target", work / "dbt_build.log"
    what = "dbt build" + (f" --selector {selector}" if selector else "")
    parse = None
    if parse_first:
        print(f"[{label}] dbt parse ({what}) ...", flush=True)
        parse = dbt_parse(label, raw_dir, db, target, work / "dbt_parse.log")
        print(f"[{label}] dbt parse {parse['wall_s']:.1f} s", flush=True)
    print(f"[{label}] {what} ...", flush=True)
    run = dbt_build(label, raw_dir, db, target, log, threads, selector=selector)
    run["project_parsed_before"] = parse_first
    if parse_first:  # what dbt says when the parse it found could not be reused (then it parsed everything)
        reparsed = [line.strip() for line in _read_text(log).splitlines() if "Unable to do partial parsing" in line]
        run["partial_parse"] = not reparsed
        if reparsed:
            print(f"[{label}] {what} parsed the whole project again: {reparsed[0]}", flush=True)
    print(f"[{label}] {what} {run['wall_s']:.1f} s, peak {run['peak_rss_mb']:.0f} MB", flush=True)
    if db.exists():
        run["totals"] = totals_from_db(db, *MART_TOTAL_TABLES)
        run["warehouse_mb"] = round(db.stat().st_size / 2**20, 1)
    return parse, run


def bench_scale(label: str, data: dict, work_root: Path, threads: int | None,
                skip: set[str], keep_work: bool, max_load: float | None = None,
                pandas_max_orders: int | None = None, parse_first: bool = True) -> dict:
    """The contenders on one scale's files. parse_first: `dbt parse` into the build's target folder first
    (dbt_parse, recorded as dbt_parse), so the timed build is the build of a parsed project that every build but
    a user's first is; False: the timed build parses the whole project itself (a fresh target folder)."""
    raw_dir = Path(data["raw_dir"])
    work = work_root / label
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    entry: dict = {"orders": data["orders"], "csv_mb": data.get("csv_mb"), "generator_args": data["args"],
                   "generator": data.get("generator"),
                   "measured_at": dt.datetime.now().isoformat(timespec="seconds")}
    if data.get("generate"):
        entry["generate_s"] = data["generate"]["wall_s"]

    if "dbt" not in skip:
        wait_until_quiet(max_load)
        parse, entry["dbt"] = dbt_contender(label, raw_dir, work, threads, parse_first)
        if parse:
            entry["dbt_parse"] = parse
    if "dbt_core" not in skip:  # its own warehouse and target folder, parsed first like the whole build's
        wait_until_quiet(max_load)
        parse, entry["dbt_core"] = dbt_contender(label, raw_dir, work / "core", threads, parse_first, CORE_SELECTOR)
        if parse:
            entry["dbt_core_parse"] = parse

    if "duckdb" not in skip:
        wait_until_quiet(max_load)
        print(f"[{label}] hand-written DuckDB script ...", flush=True)
        db = work / "script.duckdb"
        run = measure([PYTHON, str(Path(__file__).resolve()), "--run-duckdb-script", str(raw_dir), str(db)],
                      log_file=work / "duckdb_script.log")
        if run["returncode"] != 0:
            run["log_tail"] = _tail(work / "duckdb_script.log")
            print(f"[{label}] DuckDB script FAILED:\n{run['log_tail']}", flush=True)
        else:
            run["totals"] = totals_from_db(db, "bench_customer_rfm", "bench_customer_abc_xyz",
                                           "bench_cohort_retention", "bench_orders")
        entry["duckdb"] = run
        print(f"[{label}] DuckDB script {run['wall_s']:.1f} s, peak {run['peak_rss_mb']:.0f} MB", flush=True)

    if "pandas" not in skip and pandas_max_orders and data["orders"] > pandas_max_orders:
        print(f"[{label}] pandas skipped: {data['orders']:,} orders > --pandas-max-orders {pandas_max_orders:,}",
              flush=True)
        entry["pandas"] = {"skipped": f"more than --pandas-max-orders {pandas_max_orders} orders "
                                      "(its memory grows ~1.8 GB per 1 M orders)"}
    elif "pandas" not in skip:
        wait_until_quiet(max_load)
        print(f"[{label}] pandas ...", flush=True)
        totals_file = work / "pandas_totals.json"
        run = measure([PYTHON, str(PANDAS_SCRIPT), "--raw-dir", str(raw_dir), "--out", str(totals_file)],
                      log_file=work / "pandas.log")
        if run["returncode"] != 0:
            run["log_tail"] = _tail(work / "pandas.log")
            print(f"[{label}] pandas FAILED:\n{run['log_tail']}", flush=True)
        else:
            run["totals"] = json.loads(totals_file.read_text())
            run["step_timings_s"] = run["totals"].pop("timings_s", {})
        entry["pandas"] = run
        print(f"[{label}] pandas {run['wall_s']:.1f} s, peak {run['peak_rss_mb']:.0f} MB", flush=True)

    entry["checks"] = check_entry(entry)
    for name in ("dbt", "dbt_core", "duckdb", "pandas"):
        entry.get(name, {}).pop("_timeline", None)
    if not keep_work:
        for name in ("dbt.duckdb", "script.duckdb", "core/dbt.duckdb"):
            (work / name).unlink(missing_ok=True)
    return entry


# --------------------------------------------------------------------------------------------------
# Incremental: a warehouse built without the last purchase day, then built again with it
# --------------------------------------------------------------------------------------------------

ORDER_CHILDREN = ("order_items", "order_payments", "order_reviews")
CSV_READ = "header = true, delim = ',', quote = '\"', escape = '\"', all_varchar = true"
CSV_WRITE = "header, delimiter ',', quote '\"', escape '\"'"


def cut_last_day(raw_dir: Path, out: Path) -> dict:
    """out: the files of raw_dir without the orders placed on their last purchase day and those orders' items,
    payments, reviews and customer rows (an Olist customer_id belongs to one order); the other files are links to
    raw_dir's. Values are read and written as text, so every kept row is the same values (the quoting may differ).
    Returns the day and the rows left out per file."""
    import duckdb

    out.mkdir(parents=True)
    orders = str(raw_dir / FILES["orders"])
    with duckdb.connect(config={"memory_limit": "3GB", "threads": 2}) as con:
        con.execute(f"set temp_directory = '{out.parent / 'cut.tmp'}'")
        (day,) = con.execute(
            f"select max(order_purchase_timestamp)[:10] from read_csv(?, {CSV_READ})", [orders]).fetchone()
        con.execute(f"""
            create temp table cut_orders as
            select order_id, customer_id from read_csv(?, {CSV_READ})
            where order_purchase_timestamp >= ?""", [orders, day])
        removed = {}
        for table in ("orders", "customers", *ORDER_CHILDREN):
            key = "customer_id" if table == "customers" else "order_id"
            source = str(raw_dir / FILES[table])
            (before,) = con.execute(f"select count(*) from read_csv(?, {CSV_READ})", [source]).fetchone()
            # anti join, not `not in`: a row whose key is null is kept, as the rows of every other day; copy
            # returns the number of rows it wrote
            (written,) = con.execute(f"""
                copy (
                    select raw.* from read_csv('{source}', {CSV_READ}) as raw
                    anti join cut_orders as cut on raw.{key} = cut.{key}
                ) to '{out / FILES[table]}' ({CSV_WRITE})""").fetchone()
            removed[table] = before - written
    for name in FILES.values():
        if not (out / name).exists():
            (out / name).symlink_to(raw_dir / name)
    return {"day": day, "rows_removed": removed}


def point_raw_dir(raw: Path, files_dir: Path) -> None:
    """raw: a folder of links to files_dir's CSVs, re-pointed in place (the build reads the same folder before and
    after the new day arrives, as a shop's export folder is appended to, so dbt's vars and partial parse stay)."""
    raw.mkdir(exist_ok=True)
    for name in FILES.values():
        link = raw / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(files_dir / name)


SIGNIFICANT_DIGITS = 9


def warehouse_checksums(db_path: Path, only: set[str] | None = None, significant_digits: int | None = None,
                        ignore: dict[str, str] | None = None) -> dict[str, list]:
    """{table: [rows, sum of the rows' hashes]} of every table dbt built (schema main; or those in `only`): the
    same multiset of rows gives the same pair, whatever their order. `significant_digits`: floating-point columns
    are first rounded to that many significant digits (two full builds of the same data differ in the last bits of
    some statistics: DuckDB adds doubles in parallel, in no fixed order). `ignore`: {table: column} left out."""
    import duckdb

    ignore = ignore or {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = [name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' order by 1").fetchall()]
        checksums = {}
        for name in tables if only is None else [t for t in tables if t in only]:
            columns = con.execute(
                "select column_name, data_type in ('DOUBLE', 'FLOAT') from information_schema.columns "
                "where table_schema = 'main' and table_name = ? order by ordinal_position", [name]).fetchall()
            values = []
            for column, is_float in columns:
                if ignore.get(name) == column:
                    continue
                value = f't."{column}"'
                if significant_digits and is_float:
                    value = (f"case when isfinite({value}) and {value} <> 0 then round({value}, "
                             f"{significant_digits - 1} - cast(floor(log10(abs({value}))) as integer)) "
                             f"else {value} end")
                values.append(f'"{column}" := {value}')
            checksums[name] = [int(v) for v in con.execute(
                f"select count(*), coalesce(sum(hash(struct_pack({', '.join(values)}))::hugeint), 0) "
                f'from main."{name}" as t').fetchone()]
        return checksums


def bench_incremental(label: str, data: dict, work_root: Path, threads: int | None,
                      reference_db: Path | None = None, max_load: float | None = None) -> dict:
    """Issue 19's incremental run: a warehouse is built from the data without its last purchase day (var
    segment_snapshots_incremental true, as a user who opted in), the day is appended (the raw folder's links
    re-pointed to the whole files) and `dbt build` runs again on that warehouse with the same vars and target
    folder (partial parse, as a user's next build). Its tables are then compared, by row count and row hashes,
    with a full build of the whole data: reference_db (a kept warehouse of the same data) or a fresh build."""
    raw_dir = Path(data["raw_dir"])
    work = work_root / f"{label}-incremental"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    entry: dict = {"orders": data["orders"], "generator_args": data["args"],
                   "measured_at": dt.datetime.now().isoformat(timespec="seconds")}
    print(f"[{label}] incremental: cutting the last purchase day ...", flush=True)
    started = time.perf_counter()
    entry["cut"] = cut_last_day(raw_dir, work / "raw_cut")
    entry["cut"]["wall_s"] = round(time.perf_counter() - started, 1)
    print(f"[{label}] incremental: left out {entry['cut']['day']}: {entry['cut']['rows_removed']}", flush=True)
    raw, db, target = work / "raw", work / "dbt.duckdb", work / "target"
    opt_in = {"segment_snapshots_incremental": True}
    for step, files in (("base", work / "raw_cut"), ("incremental", raw_dir)):
        point_raw_dir(raw, files)
        wait_until_quiet(max_load)
        print(f"[{label}] incremental: {step} build ...", flush=True)
        entry[step] = dbt_build(label, raw, db, target, work / f"{step}_build.log", threads, opt_in)
        entry[step].pop("_timeline", None)
        print(f"[{label}] incremental: {step} build {entry[step]['wall_s']:.1f} s, "
              f"peak {entry[step]['peak_rss_mb']:.0f} MB", flush=True)
        if entry[step]["returncode"] != 0:
            return entry
    if reference_db is None:
        wait_until_quiet(max_load)
        print(f"[{label}] incremental: full build of the same data ...", flush=True)
        reference_db = work / "full.duckdb"
        entry["full"] = dbt_build(label, raw, reference_db, work / "full" / "target", work / "full_build.log",
                                  threads, opt_in)
        entry["full"].pop("_timeline", None)
        if entry["full"]["returncode"] != 0:
            return entry
    entry["reference_db"] = str(reference_db)
    print(f"[{label}] incremental: comparing every table with {reference_db} ...", flush=True)
    # input_summary names the folder the CSVs were read from: here the folder of links, for a kept reference the
    # scale's own folder; that one value is left out of the comparison then
    ignore = {} if reference_db.parent == work else {"input_summary": "input_location"}
    entry["comparison_ignores"] = ignore
    got, expected = warehouse_checksums(db, ignore=ignore), warehouse_checksums(reference_db, ignore=ignore)
    unequal = {t for t in expected if t in got and got[t] != expected[t]}
    got_rounded, expected_rounded = (warehouse_checksums(db, unequal, SIGNIFICANT_DIGITS, ignore),
                                     warehouse_checksums(reference_db, unequal, SIGNIFICANT_DIGITS, ignore))
    entry["comparison"] = {
        "tables": len(expected),
        "identical": sorted(t for t in expected if got.get(t) == expected[t]),
        f"equal_at_{SIGNIFICANT_DIGITS}_significant_digits": sorted(
            t for t in unequal if got_rounded[t] == expected_rounded[t]),
        "different": sorted(t for t in unequal if got_rounded[t] != expected_rounded[t]),
        "missing": sorted(set(expected) - set(got)),
        "extra": sorted(set(got) - set(expected)),
    }
    entry["comparison"]["all_identical"] = not any(
        entry["comparison"][k] for k in ("different", "missing", "extra"))
    return entry


# --------------------------------------------------------------------------------------------------
# Results: machine, merge into benchmarks/results.json, table
# --------------------------------------------------------------------------------------------------

def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem_kb = 0
    try:
        mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        pass

    def version(module: str) -> str:
        try:
            from importlib.metadata import version as v

            return v(module)
        except Exception:  # noqa: BLE001
            return "?"

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return {
        "cores": os.cpu_count(), "cpu": cpu, "ram_gb": round(mem_kb / 2**20, 1),
        "os": platform.platform(), "python": platform.python_version(),
        "dbt_core": version("dbt-core"), "dbt_duckdb": version("dbt-duckdb"),
        "duckdb": version("duckdb"), "pandas": version("pandas"),
        "git_commit": commit.stdout.strip() or None,
    }


def _ratio(a, b) -> float | None:
    return round(a / b, 2) if a and b else None


def summarize(runs: dict) -> list[dict]:
    """One row per scale, in order of size, with the ratios and the growth from the previous scale."""
    rows, previous = [], None
    for label, entry in sorted(runs.items(), key=lambda kv: kv[1]["orders"]):
        dbt_s = entry.get("dbt", {}).get("wall_s")
        duck_s = entry.get("duckdb", {}).get("wall_s")
        pandas_s = entry.get("pandas", {}).get("wall_s")
        timings = entry.get("dbt", {}).get("timings", {})
        core_s = timings.get("core_models", {}).get("seconds")
        tests_s = timings.get("seconds_by_type", {}).get("test")
        core_build_s = entry.get("dbt_core", {}).get("wall_s")
        ok = [entry[n].get("returncode") == 0 for n in ("dbt", "dbt_core", "duckdb", "pandas")
              if n in entry and "skipped" not in entry[n]]
        row = {
            "scale": label, "orders": entry["orders"],
            "customers": entry.get("dbt", {}).get("totals", {}).get("customers"),
            "dbt_s": dbt_s, "duckdb_s": duck_s, "pandas_s": pandas_s,
            "dbt_parse_s": entry.get("dbt_parse", {}).get("wall_s"),
            "dbt_cpu_s": (round(entry["dbt"]["user_s"] + entry["dbt"]["system_s"], 1)
                          if "user_s" in entry.get("dbt", {}) else None),
            "dbt_over_duckdb": _ratio(dbt_s, duck_s), "pandas_over_dbt": _ratio(pandas_s, dbt_s),
            "core_s": core_s, "core_over_duckdb": _ratio(core_s, duck_s),
            "core_build_s": core_build_s, "core_build_over_duckdb": _ratio(core_build_s, duck_s),
            # where the whole build's time goes: the Python models' and the data tests' summed execution time
            "python_models_s": timings.get("python_models_s"),
            "data_tests_s": None if tests_s is None else round(tests_s, 1),
            "dbt_peak_mb": entry.get("dbt", {}).get("peak_rss_mb"),
            "duckdb_peak_mb": entry.get("duckdb", {}).get("peak_rss_mb"),
            "pandas_peak_mb": entry.get("pandas", {}).get("peak_rss_mb"),
            "growth_dbt": None, "growth_orders": None,
            "all_ok": all(ok), "checks_agree": all(c["agree"] for c in entry.get("checks", {}).values()),
        }
        if previous and previous["dbt_s"] and dbt_s:
            row["growth_dbt"] = _ratio(dbt_s, previous["dbt_s"])
            row["growth_orders"] = _ratio(entry["orders"], previous["orders"])
        rows.append(row)
        previous = row
    return rows


def format_table(rows: list[dict]) -> str:
    def cell(value, fmt="{:.1f}") -> str:
        return "—" if value is None else fmt.format(value)

    header = ("| scale | orders | customers | dbt build s | dbt CPU s | dbt core marts s | DuckDB script s "
              "| pandas s | dbt/DuckDB | core/DuckDB | pandas/dbt | peak RSS dbt / DuckDB / pandas MB "
              "| growth dbt (orders) | first dbt parse s | core build s (×DuckDB) | checks |")
    lines = [header, "|" + "|".join(["---"] * 16) + "|"]
    for r in rows:
        growth = "—" if r["growth_dbt"] is None else f"{r['growth_dbt']:.1f}× ({r['growth_orders']:.0f}×)"
        peaks = " / ".join(cell(r[k], "{:.0f}") for k in ("dbt_peak_mb", "duckdb_peak_mb", "pandas_peak_mb"))
        status = ("ok" if r["checks_agree"] else "MISMATCH") if r["all_ok"] else "FAILED"
        core_build = ("—" if r.get("core_build_s") is None
                      else f"{r['core_build_s']:.1f} ({cell(r.get('core_build_over_duckdb'), '{:.1f}')}×)")
        lines.append(
            f"| {r['scale']} | {r['orders']:,} | {cell(r['customers'], '{:,}')} | {cell(r['dbt_s'])} "
            f"| {cell(r['dbt_cpu_s'], '{:.0f}')} | {cell(r.get('core_s'))} "
            f"| {cell(r['duckdb_s'])} | {cell(r['pandas_s'])} | {cell(r['dbt_over_duckdb'], '{:.2f}')} "
            f"| {cell(r.get('core_over_duckdb'), '{:.2f}')} "
            f"| {cell(r['pandas_over_dbt'], '{:.2f}')} | {peaks} | {growth} | {cell(r.get('dbt_parse_s'))} "
            f"| {core_build} | {status} |"
        )
    return "\n".join(lines)


def incremental_summary(entry: dict) -> str:
    """One line: the three builds' times and the comparison."""
    def build(step: str) -> str:
        run = entry.get(step)
        if not run:
            return f"{step} —"
        failed = "" if run.get("returncode", 0) == 0 else f" FAILED (exit {run['returncode']})"
        return f"{step} {run['wall_s']:.1f} s{failed}"

    line = ", ".join(build(step) for step in ("base", "incremental", "full"))
    comparison = entry.get("comparison")
    if comparison:
        rounded = comparison[f"equal_at_{SIGNIFICANT_DIGITS}_significant_digits"]
        verdict = (f"{len(comparison['identical'])} identical to the full build, {len(rounded)} equal at "
                   f"{SIGNIFICANT_DIGITS} significant digits ({', '.join(rounded) or 'none'})")
        if not comparison["all_identical"]:
            verdict += "; DIFFERENT: " + ", ".join(
                comparison["different"] + [f"{t} missing" for t in comparison["missing"]]
                + [f"{t} extra" for t in comparison["extra"]])
        line += f"; {comparison['tables']} tables, {verdict}"
    return line


def slowest_nodes(entry: dict, count: int = 8) -> str:
    nodes = entry.get("dbt", {}).get("timings", {}).get("nodes", [])
    return ", ".join(f"{n['node']} {n['s']:.1f}s" for n in nodes[:count])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default=",".join(DEFAULT_SCALES),
                        help=f"comma-separated scales among {', '.join(SCALES)} or plain order counts "
                             f"(default {','.join(DEFAULT_SCALES)})")
    parser.add_argument("--with-10m", action="store_true", help="add the 10 M-order scale")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--threads", type=int, help="dbt --threads (default: the profile's)")
    parser.add_argument("--skip", default="",
                        help="comma-separated contenders to skip: dbt, dbt_core (the core build), duckdb, pandas")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help="generated data and work files (default benchmarks/data, git-ignored)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                        help="JSON to merge the results into (default benchmarks/results.json)")
    parser.add_argument("--no-save", action="store_true", help="print only, do not write the results JSON")
    parser.add_argument("--pandas-max-orders", type=int, default=2_000_000,
                        help="skip pandas above this many orders (default 2,000,000: at ~1.8 GB per 1 M "
                             "orders the 10 M run would need ~18 GB); 0 = never skip")
    parser.add_argument("--max-load", type=float,
                        help="before each measurement wait (up to 10 min) until the 1-minute load average "
                             "is at most this (the machine may be shared)")
    parser.add_argument("--keep-work", action="store_true", help="keep the DuckDB files of each run")
    parser.add_argument("--cold-parse", action="store_true",
                        help="time the dbt build with a fresh target folder (the whole project parsed inside the "
                             "timed build, as a user's first build) instead of after a separate `dbt parse`")
    parser.add_argument("--generator", type=Path, default=GENERATOR,
                        help="data generator to run (default scripts/generate_olist.py)")
    parser.add_argument("--raw-dir", type=Path,
                        help="benchmark this existing folder of Olist CSVs instead of generated scales")
    parser.add_argument("--label", default="custom", help="scale label for --raw-dir (default custom)")
    parser.add_argument("--incremental", action="store_true",
                        help="after each scale's runs, the incremental run (bench_incremental): a build without "
                             "the last purchase day, then one with it on the same warehouse, compared table by "
                             "table with the scale's full build")
    parser.add_argument("--incremental-only", action="store_true",
                        help="the incremental run alone (no dbt / DuckDB / pandas contenders); it then builds its "
                             "own full reference unless --incremental-reference is given")
    parser.add_argument("--incremental-reference", type=Path,
                        help="a kept warehouse of a full build of the same data (one scale only), e.g. "
                             "benchmarks/data/work/10m/dbt.duckdb of a --keep-work run, instead of a third build")
    parser.add_argument("--run-duckdb-script", nargs=2, metavar=("RAW_DIR", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.run_duckdb_script:
        run_duckdb_script(Path(args.run_duckdb_script[0]), Path(args.run_duckdb_script[1]))
        return 0

    labels = [s.strip().lower() for s in args.scales.split(",") if s.strip()]
    if args.with_10m and "10m" not in labels:
        labels.append("10m")
    scales = {}
    for label in labels:
        scales[label] = SCALES[label] if label in SCALES else int(label.replace("_", ""))
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    data_dir = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)

    incremental_runs = args.incremental or args.incremental_only
    if args.incremental_reference and len(scales) != 1:
        parser.error("--incremental-reference is a warehouse of one scale: give one scale")
    started = time.perf_counter()
    runs: dict = {}
    incremental: dict = {}
    if args.raw_dir:
        scales = {args.label: 0}
    for label, orders in sorted(scales.items(), key=lambda kv: kv[1]):
        if args.raw_dir:
            raw = args.raw_dir.resolve()
            data = {"args": ["--raw-dir", str(raw)], "raw_dir": str(raw), "orders": _count_orders(raw)}
        else:
            data = generate(label, orders, args.seed, data_dir, args.generator.resolve())
        if not args.incremental_only:
            runs[label] = bench_scale(label, data, data_dir / "work", args.threads, skip,
                                      args.keep_work or incremental_runs, args.max_load, args.pandas_max_orders,
                                      parse_first=not args.cold_parse)
            print(f"[{label}] slowest dbt nodes: {slowest_nodes(runs[label])}", flush=True)
            peak_in = runs[label].get("dbt", {}).get("timings", {}).get("peak_rss_first_reached_in")
            if peak_in:
                print(f"[{label}] dbt peak RSS first reached in: {peak_in}", flush=True)
            for name, check in runs[label]["checks"].items():
                verdict = "agree" if check["agree"] else "DISAGREE: " + "; ".join(check["differences"])
                print(f"[{label}] {name} vs dbt marts on {', '.join(check['compared'])}: {verdict}", flush=True)
        if incremental_runs:
            kept = data_dir / "work" / label / "dbt.duckdb"
            reference = args.incremental_reference
            if reference is None and runs.get(label, {}).get("dbt", {}).get("returncode") == 0 and kept.exists():
                reference = kept
            incremental[label] = bench_incremental(label, data, data_dir / "work", args.threads, reference,
                                                   args.max_load)
            if reference == kept and label in runs:
                incremental[label]["full"] = {"wall_s": runs[label]["dbt"]["wall_s"],
                                              "peak_rss_mb": runs[label]["dbt"]["peak_rss_mb"],
                                              "measured_at": runs[label]["dbt"]["measured_at"],
                                              "build": "the scale's dbt run above"}
            print(f"[{label}] incremental: {incremental_summary(incremental[label])}", flush=True)
            if not args.keep_work:
                shutil.rmtree(data_dir / "work" / f"{label}-incremental", ignore_errors=True)
                if label in runs:
                    kept.unlink(missing_ok=True)

    table_runs = runs
    if not args.no_save:
        saved = json.loads(args.results.read_text()) if args.results.exists() else {}
        merged = merge_runs(saved.get("runs", {}), runs)
        document = {
            "description": "scripts/benchmark.py: whole dbt build vs hand-written DuckDB script vs pandas, "
                           "per scale of generated Olist-shaped orders. Times are wall seconds of the whole "
                           "process (start-up included); memory is peak RSS of the process tree.",
            "machine": machine(),
            "updated_at": dt.datetime.now().isoformat(timespec="seconds"),
            "runs": merged,
        }
        document["summary"] = summarize(merged)
        document["incremental"] = {**saved.get("incremental", {}), **incremental}
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(document, indent=2, default=str) + "\n")
        table_runs = merged
        print(f"results merged into {args.results}")
    print()
    print(format_table(summarize(table_runs)))
    print(f"\nbenchmark wall time: {time.perf_counter() - started:.0f} s")

    failed = [label for label, entry in runs.items()
              if any(entry.get(n, {}).get("returncode", 0) != 0 for n in ("dbt", "duckdb", "pandas"))
              or not all(c["agree"] for c in entry["checks"].values())]
    failed += [f"{label} (incremental)" for label, entry in incremental.items()
               if not entry.get("comparison", {}).get("all_identical")]
    if failed:
        print(f"FAILED or disagreeing scales: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
