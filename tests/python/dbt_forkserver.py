"""A fork server for the tests' dbt runs: `python dbt_forkserver.py SOCKET` imports dbt once, then forks one child per
request, which runs dbt's own command-line entry point (`dbt.cli.main.cli`, what the `dbt` script calls) as a new
`dbt` process would.

Every dbt run of the tests used to start a Python process and import dbt-core and its adapter: about 2.5 s of CPU
of the 4 s a run with a saved parse costs, paid ~60 times per `make test`. A forked child starts with those imports
done. Before it serves, the server also parses a small throwaway project (`_warm_up`): a dbt parse fills
class-level caches (the JSON schemas dbt validates every node against, built once per class) and imports the
modules dbt loads on first use, about 4 of the 10 s of CPU a child's full parse of this project costs. The warm-up
reads nothing of this project and leaves no state a later command reads: dbt resets its flags, adapters and
invocation context at every command, as when several commands run in one process (dbtRunner). It does not use
dbt's static parser (a Rust extension whose worker threads would not survive the fork), and the server checks that
it is still single-threaded before it serves. Each child gets the request's argv, working directory, environment
and stdout/stderr (file descriptors passed over the socket), and exits with dbt's exit code.

Protocol (conftest.DbtForkServer is the client): the client sends an 8-byte length and a JSON request
{"argv", "cwd", "env"} with two file descriptors; the server answers "<pid>\\n" once the child is forked, and
"<exit code> <CPU seconds>\\n" when it ends. The server stays single-threaded (it forks; a thread would make the
children unsafe) and exits when its parent (the pytest process) is gone.
"""
from __future__ import annotations

import atexit
import gc
import json
import logging
import os
import select
import socket
import struct
import sys
import tempfile
import traceback
from pathlib import Path

from dbt.cli.main import cli, dbtRunner

# The warm-up project: one of each kind of node a parse of this project builds (a seed, SQL and Python models, a
# source, generic tests of each built-in kind and a custom one, a singular test, a macro, a doc block, an
# analysis, an exposure). No unit test: their parser calls the Rust static extractor.
WARM_UP_FILES = {
    "dbt_project.yml": "name: fork_server_warm_up\nversion: '1.0'\nprofile: fork_server_warm_up\n"
                       "vars:\n  limit: 3\nmodels:\n  fork_server_warm_up:\n    +materialized: table\n",
    "profiles.yml": "fork_server_warm_up:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                    "      path: ':memory:'\n",
    "seeds/warm_seed.csv": "id,name\n1,a\n",
    "models/warm_sql.sql": "{{ config(materialized='view') }}\nselect id, {{ warm_macro('name') }} as name\n"
                           "from {{ ref('warm_seed') }} where id < {{ var('limit') }}\n"
                           "union all select 1, 'b' from {{ source('raw', 'lines') }}\n",
    "models/warm_python.py": "def model(dbt, session):\n    dbt.config(materialized='table')\n"
                             "    return dbt.ref('warm_sql').df()\n",
    "models/_models.yml": "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: lines\n"
                          "        columns:\n          - name: id\n            data_tests: [not_null]\n"
                          "models:\n  - name: warm_sql\n    description: '{{ doc(\"warm_doc\") }}'\n"
                          "    data_tests:\n      - warm_test: {column: id}\n    columns:\n      - name: id\n"
                          "        data_tests:\n          - unique\n          - not_null\n"
                          "          - accepted_values: {arguments: {values: [1]}, config: {severity: warn}}\n"
                          "          - relationships: {arguments: {to: ref('warm_seed'), field: id}}\n"
                          "  - name: warm_python\n    columns:\n      - name: id\n"
                          "exposures:\n  - name: warm_exposure\n    type: dashboard\n    owner: {name: x}\n"
                          "    depends_on: [ref('warm_sql')]\n",
    "models/docs.md": "{% docs warm_doc %}A model.{% enddocs %}\n",
    "macros/warm_macro.sql": "{% macro warm_macro(column) %}upper({{ column }}){% endmacro %}\n",
    "tests/generic/warm_test.sql": "{% test warm_test(model, column) %}select * from {{ model }} "
                                   "where {{ column }} is null{% endtest %}\n",
    "tests/warm_singular.sql": "select * from {{ ref('warm_sql') }} where id < 0\n",
    "analyses/warm_analysis.sql": "select count(*) as n from {{ ref('warm_python') }}\n",
}


def _warm_up() -> None:
    """Parse the warm-up project in this process (see the module docstring); raises if that fails or leaves a
    thread behind."""
    with tempfile.TemporaryDirectory(prefix="dbt_forkserver_warm_up_") as folder:
        for name, text in WARM_UP_FILES.items():
            path = Path(folder) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        result = dbtRunner().invoke(["parse", "--no-static-parser", "--quiet", "--project-dir", folder,
                                     "--profiles-dir", folder, "--target-path", str(Path(folder) / "target"),
                                     "--log-path", str(Path(folder) / "logs"), "--no-send-anonymous-usage-stats"])
    if not result.success:
        raise RuntimeError(f"the warm-up parse failed: {result.exception}")
    threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1
    if threads != 1:
        raise RuntimeError(f"the warm-up parse left {threads - 1} thread(s): forking would not be safe")
    gc.collect()
    gc.freeze()  # the children do not scan, nor copy on write, the objects the server made


def _child(request: dict, fds: list[int]) -> None:
    """In the forked child: become the dbt process of the request; never returns."""
    code = 1
    try:
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        for fd in fds:
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        try:
            cli.main(args=sys.argv[1:], prog_name="dbt")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if not isinstance(exc.code, (int, type(None))):
                print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - the child must always exit, never return into the server loop
        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    head, fds, _, _ = socket.recv_fds(conn, 8, 2)
    (size,) = struct.unpack("!Q", head)
    body = b""
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise ConnectionError("request cut short")
        body += chunk
    return json.loads(body), list(fds)


def serve(path: str) -> None:
    _warm_up()
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    print("ready", flush=True)
    children: dict[int, socket.socket] = {}
    while os.getppid() == parent:
        readable, _, _ = select.select([listener], [], [], 0.05)
        if readable:
            conn, _ = listener.accept()
            try:
                request, fds = _receive(conn)
            except (OSError, ValueError):
                conn.close()
                continue
            pid = os.fork()
            if pid == 0:
                for other in (listener, conn, *children.values()):
                    other.close()
                _child(request, fds)
            for fd in fds:
                os.close(fd)
            conn.sendall(f"{pid}\n".encode())
            children[pid] = conn
        while children:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
            if pid == 0:
                break
            conn = children.pop(pid, None)
            if conn is not None:
                with conn:
                    code = os.waitstatus_to_exitcode(status)
                    try:
                        conn.sendall(f"{code} {usage.ru_utime + usage.ru_stime}\n".encode())
                    except OSError:
                        pass


if __name__ == "__main__":
    serve(sys.argv[1])
