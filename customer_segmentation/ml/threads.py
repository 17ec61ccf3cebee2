"""single_threaded(): the BLAS and OpenMP thread pools limited to one thread, for results that must not depend on
the thread count (KMeans: partial sums in thread-completion order) or that only waste CPU time on idle spinning
threads (many small matrix products). parallel_map(): independent single-threaded computations side by side, one
per core, with the bits each gives alone.

threadpoolctl.threadpool_limits scans every loaded shared library on each call (about 6 ms of CPU); one
ThreadpoolController, created on first use, scans once. It is created after sklearn, numpy and scipy are
imported (the callers import sklearn at module level), so it sees their OpenBLAS and OpenMP libraries.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from threadpoolctl import ThreadpoolController

_CONTROLLER: ThreadpoolController | None = None


def _controller() -> ThreadpoolController:
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def single_threaded():
    """Context manager: every thread pool of the loaded libraries limited to 1 thread, restored on exit."""
    return _controller().limit(limits=1)


# at most this many threads per parallel_map: its largest maps are the 9 candidate k and the blocks of a pass over
# every customer, whose workers each hold a block (~130 MB at 9 candidates' 54 centroids); measured on 2 cores only
MAX_WORKERS = 4
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def available_cores(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup v2 CPU quota (a container's --cpus,
    which the affinity does not show), at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):  # no cgroup v2 quota file: the affinity alone
        pass
    return max(1, cores)


def parallel_map[T, R](function: Callable[[T], R], items: Iterable[T], workers: int | None = None) -> list[R]:
    """[function(item) for item in items], computed on up to `workers` threads (default: available_cores(), at
    most MAX_WORKERS).

    Every call runs single-threaded, as under single_threaded(): BLAS is limited for the whole process while
    the map runs, and OpenMP, whose thread count belongs to each calling thread, in every worker. So each result
    has the same bits as the same call made alone, in any order and with any number of workers; the items run
    side by side because numpy's and scikit-learn's compiled loops release the GIL. Results are in item order;
    the first exception raised is raised here.
    """
    items = list(items)
    workers = min(len(items), min(available_cores(), MAX_WORKERS) if workers is None else int(workers))
    with single_threaded():
        if workers <= 1:
            return [function(item) for item in items]
        controller = _controller()

        def run(item: T) -> R:
            with controller.limit(limits=1, user_api="openmp"):
                return function(item)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parallel_map") as pool:
            return list(pool.map(run, items))
