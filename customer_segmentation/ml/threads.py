"""single_threaded(): the BLAS and OpenMP thread pools limited to one thread, for results that must not depend on
the thread count (KMeans: partial sums in thread-completion order) or that only waste CPU time on idle spinning
threads (many small matrix products).

threadpoolctl.threadpool_limits scans every loaded shared library on each call (about 6 ms of CPU); one
ThreadpoolController, created on first use, scans once. It is created after sklearn, numpy and scipy are
imported (the callers import sklearn at module level), so it sees their OpenBLAS and OpenMP libraries.
"""
from __future__ import annotations

from threadpoolctl import ThreadpoolController

_CONTROLLER: ThreadpoolController | None = None


def single_threaded():
    """Context manager: every thread pool of the loaded libraries limited to 1 thread, restored on exit."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1)
