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

Half of what a child's full parse of this project still cost after that (about 3 of 6 s of CPU) was Jinja reading
the same sources again: dbt's and dbt-duckdb's macros and this project's files, lexed, parsed and compiled to Python
code in every run although only --vars and the data differ between the tests' runs. The server therefore turns on
the Jinja caches dbt-core keeps for its own test suite (`dbt_common.tests.enable_test_caching`: parsed templates,
top-level blocks and macro calls, keyed by the source text) and keeps the code Jinja compiles from a source
(`_memoize_jinja_compile`: keyed by the source and every setting of the environment that the generated code depends
on), then parses this project once (`_warm_up_project`, its default vars, a throwaway target folder): each child
starts with every source of the project already read. A cache is looked up by the exact text, so a file that
changed since is read afresh; what dbt renders (refs, configs, SQL) is rendered in the child with the run's own vars
and data. `test_dbt_fork_server.py` checks that a parse through the server and one in a new process give the same
manifest.

Protocol (conftest.DbtForkServer is the client): the client sends an 8-byte length and a JSON request
{"argv", "cwd", "env"} with two file descriptors; the server answers "<pid>\\n" once the child is forked, and
"<exit code> <CPU seconds>\\n" when it ends. The server stays single-threaded (it forks; a thread would make the
children unsafe) and exits when its parent (the pytest process) is gone.
"""
from __future__ import annotations

import ast
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

import jinja2
from dbt.cli.main import cli, dbtRunner
from dbt_common.tests import enable_test_caching
from jinja2.utils import internalcode

PROJECT = Path(__file__).resolve().parents[2]

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


def _memoize_jinja_compile() -> None:
    """Jinja's Environment.compile (source text -> Python code object; what every `from_string` of dbt runs) keeps
    its result, keyed by the source, the template's name, filename and defer_init, and every setting of the
    environment that the code generator reads: its class and code generator, extensions, delimiters and whitespace
    options, autoescape, finalize, async mode, and the filters and tests it holds (the generated call depends on
    how a filter takes its context). A code object is immutable; each template still gets its own globals."""
    original = jinja2.Environment.compile
    codes: dict[tuple, object] = {}

    @internalcode
    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        if raw or not isinstance(source, str):
            return original(self, source, name, filename, raw, defer_init)
        key = (
            type(self), self.code_generator_class, tuple(sorted(self.extensions)), self.block_start_string,
            self.block_end_string, self.variable_start_string, self.variable_end_string, self.comment_start_string,
            self.comment_end_string, self.line_statement_prefix, self.line_comment_prefix, self.trim_blocks,
            self.lstrip_blocks, self.newline_sequence, self.keep_trailing_newline, self.optimized, self.is_async,
            self.finalize, self.autoescape,
            tuple(sorted((k, id(v)) for k, v in self.filters.items())),
            tuple(sorted((k, id(v)) for k, v in self.tests.items())),
            source, name, filename, defer_init,
        )
        code = codes.get(key)
        if code is None:
            code = codes[key] = original(self, source, name, filename, raw, defer_init)
        return code

    jinja2.Environment.compile = compile


def _extract_without_threads(source: str) -> dict:
    """What dbt_extractor.py_extract_from_source returns for the one-call sources dbt's unit-test parser gives it
    ("{{ ref('model') }}", "{{ source('name', 'table') }}"), read with Python's own parser: the Rust extractor starts
    worker threads at its first call, after which the server could not fork safely. Used during the warm-up only."""
    from dbt_extractor import ExtractionError

    try:
        call = ast.parse(source.strip().removeprefix("{{").removesuffix("}}").strip(), mode="eval").body
        args = [ast.literal_eval(arg) for arg in call.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
        function = call.func.id
    except (SyntaxError, ValueError, AttributeError) as exc:
        raise ExtractionError(str(exc)) from None
    if function == "ref" and 1 <= len(args) <= 2:
        ref = {"name": args[-1], **({"package": args[0]} if len(args) == 2 else {})}
        version = kwargs.get("version", kwargs.get("v"))
        return {"refs": [ref if version is None else {**ref, "version": version}], "sources": set(), "configs": []}
    if function == "source" and len(args) == 2:
        return {"refs": [], "sources": {tuple(args)}, "configs": []}
    raise ExtractionError(f"not a ref or source call: {source}")


def _warm_up_project() -> None:
    """Parse this project once with its default vars (see the module docstring), into a throwaway target folder and
    with a throwaway DuckDB path (a parse opens no connection), without dbt's Rust static parser (models:
    --no-static-parser; unit tests: _extract_without_threads). A failing parse only leaves the caches emptier: the
    tests' own runs report the error."""
    import dbt.parser.unit_tests

    extractor = dbt.parser.unit_tests.py_extract_from_source
    dbt.parser.unit_tests.py_extract_from_source = _extract_without_threads
    with tempfile.TemporaryDirectory(prefix="dbt_forkserver_project_") as folder:
        saved = os.environ.get("DUCKDB_PATH")
        os.environ["DUCKDB_PATH"] = str(Path(folder) / "warehouse.duckdb")
        try:
            dbtRunner().invoke(["parse", "--no-static-parser", "--no-partial-parse", "--quiet", "--project-dir",
                                str(PROJECT), "--profiles-dir", str(PROJECT), "--target-path",
                                str(Path(folder) / "target"), "--log-path", str(Path(folder) / "logs"),
                                "--no-send-anonymous-usage-stats"])
        finally:
            dbt.parser.unit_tests.py_extract_from_source = extractor
            if saved is None:
                os.environ.pop("DUCKDB_PATH", None)
            else:
                os.environ["DUCKDB_PATH"] = saved


def _warm_up() -> None:
    """Parse the warm-up project, then this project, in this process with dbt's Jinja caches on (see the module
    docstring); raises if the warm-up project fails or either leaves a thread behind."""
    enable_test_caching()
    _memoize_jinja_compile()
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
    _warm_up_project()
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
