"""Shared pytest fixtures: run `dbt build` into throw-away DuckDB files and read the results.

The sample build and the real-subset build are session-scoped: every test module reuses the
same two warehouses, so the suite pays for each build once. The real-subset build and a few modules'
planted-data builds run in one background thread while the tests run (Prefetch, at the end).
"""
from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]
# the project's package (customer_segmentation) and the entry points of scripts/ importable by every test module
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
SAMPLE_DIR = ROOT / "data" / "sample"
# OLIST_REAL_DIR points elsewhere (tests of the CI policy point it at a folder that does not exist)
REAL_DIR = Path(os.environ.get("OLIST_REAL_DIR") or ROOT.parent / "shared" / "olist_real")
REAL_SUBSET_DIR = REAL_DIR / "subset"
DBT = str(Path(sys.executable).with_name("dbt"))


@dataclass
class DbtRun:
    returncode: int
    output: str
    db_path: Path
    run_results: dict

    def statuses(self) -> dict[str, str]:
        """unique_id -> status for every node dbt ran."""
        return {r["unique_id"]: r["status"] for r in self.run_results.get("results", [])}

    def failures(self) -> list[str]:
        return [uid for uid, status in self.statuses().items() if status in ("error", "fail")]


def run_dbt(
    command: list[str],
    db_path: Path,
    work_dir: Path,
    dbt_vars: dict | None = None,
    env: dict | None = None,
    timeout: int = 900,
) -> DbtRun:
    """Run a dbt command from the project root against db_path; artifacts go under work_dir. dbt gets the
    warehouse's folder through a stable alias and the saved parse of its vars (SavedParses)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    target = work_dir / "target"
    with SAVED_PARSES.prepared(target, dbt_vars, db_path) as (dbt_vars, dbt_db_path):
        args = [DBT, *command, "--target-path", str(target), "--log-path", str(work_dir / "logs")]
        if dbt_vars:
            args += ["--vars", json.dumps(dbt_vars)]
        full_env = {
            **os.environ,
            "DUCKDB_PATH": dbt_db_path,
            "DBT_PROFILES_DIR": str(ROOT),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **(env or {}),
        }
        started = time.monotonic()
        with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
            if FORK_SERVER.available():
                returncode, cpu_seconds = FORK_SERVER.run(args, full_env, stdout, stderr, started, timeout)
            else:
                proc = subprocess.Popen(args, cwd=ROOT, env=full_env, stdout=stdout, stderr=stderr, text=True)
                returncode, cpu_seconds = _wait(proc, args, started, timeout)
            stdout.seek(0)
            stderr.seek(0)
            output = stdout.read() + stderr.read()
    _log_dbt_run(command, dbt_vars, db_path, returncode, time.monotonic() - started, cpu_seconds)
    results_file = target / "run_results.json"
    run_results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return DbtRun(returncode, output, db_path, run_results)


class SavedParses:
    """dbt parses the whole project (about 3.3 s of CPU in a run forked from the fork server, which keeps Jinja's
    caches; 9-13 s in a new process) unless it finds, in the target folder, a saved parse (partial_parse.msgpack)
    made with the same --vars, profile (the DuckDB file's path included) and project files; it checks that itself
    and parses afresh otherwise. Each test build has its own target folder and warehouse, so every run used to parse
    afresh even with the same --vars. Here:

    - the warehouse's folder reaches dbt through an alias: a symlink `db<slot>` in this process's temp folder,
      pointed at the test's folder for the run. Runs at the same time (the Prefetch thread, test_transactions'
      pool) take different slots. The parse does not read the file (the build does, through the link; DuckDB's
      write-ahead log lands beside the real file), and no table holds its path. raw_data_dir is not aliased:
      input_summary records it, and builds compared table by table must agree on it;
    - after a run, its saved parse is kept under those paths and --vars, and copied into the target folder of the
      next run with the same ones that has none of its own."""

    def __init__(self):
        self.lock = threading.Lock()
        self.folder: Path | None = None
        self.free: list[int] = []
        self.slots = 0

    def _folder(self) -> Path:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="customer_segmentation_parses_"))
            atexit.register(shutil.rmtree, self.folder, True)
        return self.folder

    @contextlib.contextmanager
    def prepared(self, target: Path, dbt_vars: dict | None, db_path: Path):
        with self.lock:
            folder = self._folder()
            slot = self.free.pop() if self.free else self.slots
            self.slots = max(self.slots, slot + 1)
        try:
            dbt_db_path = str(self._alias(f"db{slot}", Path(db_path).parent) / Path(db_path).name)
            key = hashlib.sha256(json.dumps([dbt_vars or {}, dbt_db_path], sort_keys=True).encode()).hexdigest()[:16]
            saved, own = folder / f"{key}.msgpack", target / "partial_parse.msgpack"
            if saved.exists() and not own.exists():
                target.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(saved, own)
            yield dbt_vars, dbt_db_path
            if own.exists():
                shutil.copyfile(own, folder / f"{key}.{slot}.tmp")
                (folder / f"{key}.{slot}.tmp").replace(saved)
        finally:
            with self.lock:
                self.free.append(slot)

    def _alias(self, name: str, real) -> Path:
        """Symlink `name` in this process's folder, (re)pointed at `real` (relative to the project root)."""
        alias, link = self.folder / name, self.folder / f"{name}.new"
        link.unlink(missing_ok=True)
        link.symlink_to((ROOT / real).resolve())
        link.replace(alias)
        return alias


SAVED_PARSES = SavedParses()


def _wait(proc: subprocess.Popen, args: list[str], started: float, timeout: int) -> tuple[int, float]:
    """(exit code, user + system CPU seconds) of the dbt process; killed and TimeoutExpired after `timeout` s.
    os.wait4 gives this process's own CPU time (resource.getrusage would sum every finished child, and two dbt runs
    overlap: Prefetch)."""
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_utime + usage.ru_stime
        if time.monotonic() > started + timeout:
            proc.kill()
            proc.wait()
            raise subprocess.TimeoutExpired(args, timeout)
        time.sleep(0.05)


class DbtForkServer:
    """Client of tests/python/dbt_forkserver.py: one server per pytest process, started at its first dbt run, that
    forks each dbt run from a process that has already imported dbt and parsed a throwaway project (about 2.5 s of
    CPU saved per run, and about 4 s more on a full parse; the child runs dbt's own entry point with this run's
    argv, environment and output files). DBT_TEST_FORK_SERVER=0 runs every dbt command as a new process instead; so
    does a server that failed to start (with a warning)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.socket_path: str | None = None
        self.failed = os.environ.get("DBT_TEST_FORK_SERVER", "1") == "0"

    def available(self) -> bool:
        with self.lock:
            if self.proc is None and not self.failed:
                self._start()
            return not self.failed

    def _start(self) -> None:
        folder = tempfile.mkdtemp(prefix="dbt_forkserver_")
        self.socket_path = str(Path(folder) / "socket")
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("dbt_forkserver.py")),
                                      self.socket_path], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        atexit.register(self._stop, folder)
        if self.proc.stdout.readline().strip() != "ready":
            self.failed = True
            warnings.warn("dbt fork server did not start: every dbt run of the tests starts a new process",
                          stacklevel=3)

    def _stop(self, folder: str) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(folder, ignore_errors=True)

    def run(self, args: list[str], env: dict, stdout, stderr, started: float, timeout: int) -> tuple[int, float]:
        """(exit code, CPU seconds) of `dbt args[1:]` run by a forked child; killed and TimeoutExpired after
        `timeout` s."""
        request = json.dumps({"argv": ["dbt", *args[1:]], "cwd": str(ROOT), "env": env}).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(self.socket_path)
            socket.send_fds(conn, [struct.pack("!Q", len(request))], [stdout.fileno(), stderr.fileno()])
            conn.sendall(request)
            replies = conn.makefile("r")
            pid = int(replies.readline())
            conn.settimeout(max(1.0, started + timeout - time.monotonic()))
            try:
                line = replies.readline()
            except TimeoutError:
                os.kill(pid, 9)
                raise subprocess.TimeoutExpired(args, timeout) from None
        if not line:
            raise RuntimeError(f"dbt fork server ended during `{' '.join(args[1:])}`")
        code, cpu_seconds = line.split()
        return int(code), float(cpu_seconds)


FORK_SERVER = DbtForkServer()


def _log_dbt_run(command: list[str], dbt_vars: dict | None, db_path: Path, returncode: int, seconds: float,
                 cpu_seconds: float) -> None:
    """With DBT_RUN_LOG=<file>, append one JSON line per dbt run (command, vars, test, thread, wall and CPU time):
    how the suite's time is spent (README "Tests"). CPU time depends less on what else the machine runs."""
    log = os.environ.get("DBT_RUN_LOG")
    if not log:
        return
    entry = {"test": os.environ.get("PYTEST_CURRENT_TEST", ""), "thread": threading.current_thread().name,
             "command": command, "vars": dbt_vars, "db": str(db_path), "returncode": returncode,
             "seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds, 1), "ended": time.strftime("%H:%M:%S")}
    with open(log, "a") as out:
        out.write(json.dumps(entry) + "\n")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(message: str) -> None:
    """Missing real data or tools: skip with the reason, but fail under CI=true, where a skip would go unseen."""
    if in_ci():
        pytest.fail(f"{message} (required when CI=true)")
    pytest.skip(message)


def query(db_path: Path, sql: str, params=None):
    """Read-only query against a built warehouse."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def query_df(db_path: Path, sql: str):
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql).df()


# The dbt unit tests read only their `given` rows (never the raw files) and pin the vars they were worked out with
# (`overrides: vars:` &unit_test_vars in each YAML file with unit tests; the cohorts ones use no var): their
# result is the same in every build whose --vars differ from the sample build's only in raw_data_dir or in pinned
# vars. The sample build runs them all; such other builds skip them with `--exclude UNIT_TESTS` (the real-subset
# build, the planted-data builds of test_churn, the variant build of test_segmentation, the builds of
# test_transactions): the same checks again on the same rows (all 16 cost about 4.6 s of CPU, 2026-12-02).
UNIT_TESTS = "resource_type:unit_test"


@pytest.fixture(scope="session")
def sample_build(prefetch) -> DbtRun:
    """dbt build on the bundled sample (the default raw_data_dir); under pytest-xdist one build for all workers."""
    if not SAMPLE_DIR.exists():
        pytest.fail(f"bundled sample missing at {SAMPLE_DIR}")
    return prefetch.result("sample_build")


def _build_in(work: Path, raw_dir: Path, select: tuple[str, ...] = ()) -> DbtRun:
    run = run_dbt(["build", *select], work / "warehouse.duckdb", work, {"raw_data_dir": str(raw_dir)})
    if run.returncode != 0:
        pytest.fail(f"dbt build on {raw_dir} failed:\n{run.output[-6000:]}")
    return run


@pytest.fixture(scope="session")
def real_subset_build(prefetch) -> DbtRun:
    """dbt build on ../shared/olist_real/subset (skipped where that folder is absent; fails under CI=true);
    started in the background."""
    if not REAL_SUBSET_DIR.exists():
        skip_or_fail(f"real Olist subset not found at {REAL_SUBSET_DIR}: real-data tests skipped")
    return prefetch.result("real_subset_build")


@pytest.fixture(scope="session", params=["sample", "real_subset"])
def any_build(request) -> tuple[DbtRun, Path]:
    """Parametrizes a test over both builds: yields (run, raw_dir)."""
    if request.param == "sample":
        return request.getfixturevalue("sample_build"), SAMPLE_DIR
    return request.getfixturevalue("real_subset_build"), REAL_SUBSET_DIR


# ------------------------------------------------------------------------------------------------------------
# Prefetch: the warehouses of a few fixtures are built in ONE background thread while the tests run
# ------------------------------------------------------------------------------------------------------------
# Each dbt run is a subprocess with its own DuckDB file and folders, and most of a run is dbt's single-threaded
# parse and node overhead: on two cores a second build next to the tests nearly halves its cost (the pattern of
# test_transactions' Jobs). At most two dbt builds at a time (the tests' own + this thread); no pytest-xdist.
# A module registers a builder (work_dir -> result) under its fixture's name at import; the session starts the
# builders of the fixtures the collected tests use, in PREFETCH_ORDER (the order the modules need them); a
# fixture that asks for one gets its result (waiting if need be), or builds it inline when it was not started.
# A builder's failure is raised in the test that uses the fixture, as if the fixture had built it.

PREFETCH_BUILDERS: dict[str, Callable[[Path], object]] = {}
PREFETCH_USERS: dict[str, tuple[str | None, str]] = {}  # job -> (test module file or None = any, fixture name)
PREFETCH_ORDER = ["real_subset_build", "bad_empty_tables", "churn_planted", "churn_btyd_planted", "clv_planted",
                  "hypotheses_planted", "segmentation_variant"]


def prefetchable(job: str, fixture: str, module: str | None = None):
    """Decorator: register `builder(work_dir)` as background job `job`, started when a collected test of `module`
    (a file name; None = any) uses `fixture`."""
    def register(builder):
        PREFETCH_BUILDERS[job] = builder
        PREFETCH_USERS[job] = (module and Path(module).name, fixture)
        return builder
    return register


def xdist_worker() -> str | None:
    """This process's pytest-xdist worker id (gw0, gw1, ...); None when pytest runs without workers."""
    if os.environ.get("PYTEST_XDIST_TESTRUNUID"):
        return os.environ.get("PYTEST_XDIST_WORKER")
    return None


# The builds every pytest-xdist worker needs (`make test` runs two): under xdist each is built once, by the first
# worker that gets to it, and the other reads its result (_shared_result); without xdist, built in this process.
SHARED_JOBS = ("sample_build", "real_subset_build")


def _shared_result(factory, job: str, builder: Callable[[Path], DbtRun]) -> DbtRun:
    """builder's DbtRun, built once per pytest run: a lock file and a JSON record in the workers' common temp
    folder. A failed build is recorded too, so the other worker fails with its message instead of building again."""
    root = factory.getbasetemp().parent / f"shared-{os.environ['PYTEST_XDIST_TESTRUNUID']}"
    root.mkdir(exist_ok=True)
    record = root / f"{job}.json"
    with FileLock(str(root / f"{job}.lock")):
        if not record.exists():
            try:
                run = builder(root / job)
            except BaseException as exc:
                record.write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
                raise
            record.write_text(json.dumps({**asdict(run), "db_path": str(run.db_path)}))
    data = json.loads(record.read_text())
    if "error" in data:
        pytest.fail(f"{job}: the build failed in another pytest-xdist worker:\n{data['error']}")
    return DbtRun(**{**data, "db_path": Path(data["db_path"])})


class Prefetch:
    def __init__(self, factory):
        self.factory = factory
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch")
        self.futures: dict[str, Future] = {}

    def _build(self, job: str, work: Path | None):
        if job in SHARED_JOBS and xdist_worker():
            return _shared_result(self.factory, job, PREFETCH_BUILDERS[job])
        return PREFETCH_BUILDERS[job](work or self.factory.mktemp(job))

    def start(self, job: str) -> None:
        work = None if job in SHARED_JOBS and xdist_worker() else self.factory.mktemp(job)  # in the main thread
        self.futures[job] = self.pool.submit(self._build, job, work)

    def result(self, job: str):
        """The job's result: from the background thread if it was started, else built here and now."""
        future = self.futures.pop(job, None)
        if future is None:
            return self._build(job, None)
        return future.result()


def _jobs_to_start(used: set) -> list[str]:
    """Without xdist, the jobs of PREFETCH_ORDER whose fixtures the collected tests use. Under xdist every worker
    collects every test but runs only some modules: it starts the shared builds only, the first one in turn
    (gw0 the sample, gw1 the real subset, ...), so that two workers build two of them at once; a module's own
    builds run when its tests ask for them."""
    if not xdist_worker():
        return [job for job in PREFETCH_ORDER if job in PREFETCH_BUILDERS and PREFETCH_USERS[job] in used]
    shared = [job for job in SHARED_JOBS if PREFETCH_USERS[job] in used]
    turn = int(xdist_worker().removeprefix("gw") or 0) % max(len(shared), 1)
    return shared[turn:] + shared[:turn]


@pytest.fixture(scope="session")
def prefetch(request, tmp_path_factory):
    runner = Prefetch(tmp_path_factory)
    used = set()
    for item in request.session.items:
        for name in getattr(item, "fixturenames", ()):
            used |= {(None, name), (Path(str(item.fspath)).name, name)}
            if name == "any_build":
                used |= {(None, "real_subset_build"), (None, "sample_build")}
    for job in _jobs_to_start(used):
        if job == "real_subset_build" and not REAL_SUBSET_DIR.exists():
            continue  # the fixture skips
        runner.start(job)
    yield runner
    runner.pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session", autouse=True)
def _start_prefetch(prefetch):
    """Starts the background builds with the first test."""


@prefetchable("sample_build", "sample_build")
def _build_sample(work: Path) -> DbtRun:
    return _build_in(work, SAMPLE_DIR)


@prefetchable("real_subset_build", "real_subset_build")
def _build_real_subset(work: Path) -> DbtRun:
    return _build_in(work, REAL_SUBSET_DIR, ("--exclude", UNIT_TESTS))  # the sample build runs the unit tests


# ------------------------------------------------------------------------------------------------------------
# pytest-xdist: `make test` runs the modules on two workers, each module whole on one worker (--dist loadfile
# --no-loadscope-reorder), longest first so that the workers finish together. Modules not listed run after, in
# file order.
XDIST_MODULE_ORDER = [  # by the modules' summed test times in a two-worker run (junit XML, 2026-12-02)
    "test_churn.py", "test_incremental.py", "test_bad_input.py", "test_reliability.py", "test_transactions.py",
    "test_dirty.py", "test_vars.py", "test_ml.py", "test_clv.py", "test_ci_policy.py", "test_segmentation.py",
    "test_clv_marts.py", "test_dbt_fork_server.py", "test_reports_browser.py", "test_reports.py",
    "test_hypotheses.py", "test_engine_inputs.py",
    "test_generator.py", "test_engine_scripts.py", "test_cohorts.py", "test_foundation.py", "test_columns_valid.py",
]


def pytest_collection_modifyitems(config, items):
    if not xdist_worker():
        return
    rank = {name: i for i, name in enumerate(XDIST_MODULE_ORDER)}
    items.sort(key=lambda item: rank.get(Path(str(item.fspath)).name, len(rank)))  # stable: a module's own order
