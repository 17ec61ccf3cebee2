"""A fork server for the tests' dbt runs: `python dbt_forkserver.py SOCKET` imports dbt once, then forks one child per
request, which runs dbt's own command-line entry point (`dbt.cli.main.cli`, what the `dbt` script calls) as a new
`dbt` process would.

Every dbt run of the tests used to start a Python process and import dbt-core and its adapter: about 2.5 s of CPU
of the 4 s a run with a saved parse costs, paid ~60 times per `make test`. A forked child starts with those imports
done (the server imports and nothing more: no dbt command has run in it, so the child's dbt state is that of a
fresh process). Each child gets the request's argv, working directory, environment and stdout/stderr (file
descriptors passed over the socket), and exits with dbt's exit code.

Protocol (conftest.DbtForkServer is the client): the client sends an 8-byte length and a JSON request
{"argv", "cwd", "env"} with two file descriptors; the server answers "<pid>\\n" once the child is forked, and
"<exit code> <CPU seconds>\\n" when it ends. The server stays single-threaded (it forks; a thread would make the
children unsafe) and exits when its parent (the pytest process) is gone.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import select
import socket
import struct
import sys
import traceback

from dbt.cli.main import cli


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
