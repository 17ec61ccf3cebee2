#!/usr/bin/env python3
"""Atomic `dbt build`: the warehouse file is replaced only by a build that fully succeeded.

Plain `dbt build` replaces tables one by one, so a build that fails half-way leaves some marts new and others
old. This wrapper never lets that happen to the warehouse people query:

  1. takes a build lock (<warehouse>.build.lock): a second safe_build on the same file stops at once with a
     clear message instead of racing the first;
  2. checks that no other process has the warehouse open for writing (a plain `dbt build`, the DuckDB CLI, a
     notebook); readers are fine, and keep reading the previous version throughout;
  3. copies the warehouse (if any) to <warehouse>.building and runs `dbt build <your arguments>` against the copy
     (so --select works, and the previous marts stay queryable the whole time);
  4. only if dbt exits 0: checkpoints the copy and renames it over the warehouse in one atomic step
     (os.replace). Open read-only connections keep reading the old version until they reconnect.
     If dbt fails, the warehouse is untouched and the failed build is kept as <warehouse>.failed for inspection
     (point DUCKDB_PATH at it to run the compiled code of a failing test).

The dbt unit tests are left out (DBT_EXCLUDE_RESOURCE_TYPES=unit_test, PRODUCTION_ENV): they read only their own
given rows, never your data, so they test the code, which `make test` does; dbt Labs recommends running them in
development and CI only. Every data test still runs. To run them here too: DBT_EXCLUDE_RESOURCE_TYPES= make build.

Usage (`make build` calls it; dbt runs from the project root, so relative paths in --vars are read from there):
    python scripts/safe_build.py [any dbt build arguments, e.g. --vars '{raw_data_dir: /path/to/csvs}']
    python scripts/safe_build.py --fresh ...   # start from an empty file instead of a copy of the warehouse

The warehouse is DUCKDB_PATH (default warehouse.duckdb, as in profiles.yml). Exit status: dbt's exit status when
dbt fails, 3 when the warehouse is busy (another build or a writer holds it), 0 on success. POSIX only (fcntl).
"""
from __future__ import annotations

import errno
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXIT_BUSY = 3
# what a production build sets unless the caller's environment already does (scripts/benchmark.py times the same)
PRODUCTION_ENV = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}


def say(message: str) -> None:
    print(f"safe_build: {message}", file=sys.stderr, flush=True)


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def wal_of(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def remove_db(path: Path) -> None:
    for p in (path, wal_of(path)):
        if p.exists():
            p.unlink()


def writer_holding(path: Path) -> str | None:
    """None if no process has the DuckDB file open for writing, else a description of the conflict.

    DuckDB takes a POSIX record lock on the database file: exclusive for a read-write connection, shared for a
    read-only one. A shared probe lock therefore fails exactly when a writer holds the file.
    """
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EAGAIN):
            raise
    finally:
        os.close(fd)  # closing the descriptor releases the probe lock
    # ask DuckDB itself for its message, which names the process holding the lock
    try:
        import duckdb

        duckdb.connect(str(path), read_only=True).close()
    except Exception as exc:  # noqa: BLE001 - any failure here is the explanation we want to show
        return str(exc).splitlines()[0]
    return "another process holds a write lock on it"


def checkpoint(path: Path) -> None:
    """Fold any write-ahead log into the file, so the file alone is the whole database."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("checkpoint")
    finally:
        con.close()


def main(argv: list[str]) -> int:
    fresh = "--fresh" in argv
    dbt_args = [a for a in argv if a != "--fresh"]
    target = Path(os.environ.get("DUCKDB_PATH", "warehouse.duckdb"))
    if not target.is_absolute():
        target = Path.cwd() / target
    target.parent.mkdir(parents=True, exist_ok=True)
    # suffixes after the full name keep DuckDB's catalog name (the part before the first dot) identical, so the
    # file can be renamed over the warehouse without breaking anything that refers to the catalog
    building = target.with_name(target.name + ".building")
    failed = target.with_name(target.name + ".failed")
    lock_path = target.with_name(target.name + ".build.lock")

    lock_file = open(lock_path, "a+")
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock_file.seek(0)
        holder = lock_file.read().strip() or "unknown process"
        say(
            f"another build is already running on {target} ({holder}). Nothing was changed. "
            "Wait for it to finish, or give this build its own file: DUCKDB_PATH=/other/file.duckdb."
        )
        return EXIT_BUSY
    lock_file.seek(0)
    lock_file.truncate()
    lock_file.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    lock_file.flush()

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    try:
        conflict = writer_holding(target)
        if conflict:
            say(
                f"{target} is open for writing in another process, so it cannot be rebuilt now: {conflict}. "
                "DuckDB allows one writer per file: close that process (a running `dbt build`, the DuckDB CLI, "
                "a notebook) and retry. Nothing was changed."
            )
            return EXIT_BUSY
        remove_db(building)
        if target.exists() and not fresh:
            # no writer holds the file, so it is consistent as it is, unless a crashed writer left a log behind:
            # then fold the log in first (this needs the file to itself: readers must be closed)
            if wal_of(target).exists():
                try:
                    checkpoint(target)
                except Exception as exc:  # noqa: BLE001 - a lock held by a reader, or a damaged file
                    say(
                        f"{target} has an unfinished write-ahead log ({wal_of(target).name}) that could not be "
                        f"applied: {exc}. Close other connections to it and retry, or rerun with --fresh to build "
                        "from an empty file. Nothing was changed."
                    )
                    return 1
            shutil.copyfile(target, building)
        env = {**PRODUCTION_ENV, **os.environ, "DUCKDB_PATH": str(building)}
        env.setdefault("DBT_PROFILES_DIR", str(ROOT))
        say(f"building into {building.name}; {target.name} stays as it is until the build has succeeded")
        dbt = subprocess.Popen([dbt_executable(), "build", *dbt_args], env=env, cwd=ROOT)
        try:
            returncode = dbt.wait()
        except KeyboardInterrupt:
            dbt.terminate()
            dbt.wait()
            raise
        if returncode != 0:
            remove_db(failed)
            if building.exists():
                os.replace(building, failed)
            if wal_of(building).exists():
                os.replace(wal_of(building), wal_of(failed))
            state = "still holds the previous build" if target.exists() else "was not created"
            say(
                f"dbt build failed (exit {returncode}): {target} was NOT changed and {state}. "
                f"The failed build is kept in {failed} (DUCKDB_PATH={failed} to inspect it)."
            )
            return returncode
        checkpoint(building)
        conflict = writer_holding(target)
        if conflict:
            say(
                f"the build succeeded but {target} was opened for writing meanwhile ({conflict}); it was NOT "
                f"replaced. The new build is in {building}: close that process and rerun."
            )
            return EXIT_BUSY
        os.replace(building, target)
        # the checkpointed file needs no log; a leftover one would belong to the previous file
        if wal_of(target).exists():
            wal_of(target).unlink()
        remove_db(failed)  # a failed build from an earlier attempt is no longer the latest word
        say(f"published {target} (replaced atomically)")
        return 0
    except KeyboardInterrupt:
        remove_db(building)
        say(f"interrupted: {target} was NOT changed")
        return 130
    finally:
        fcntl.flock(lock_file, fcntl.LOCK_UN)
        lock_file.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
