"""Imported by the fork server of the CLV work only (clv.FORKSERVER_PRELOAD), never by dbt's process. It compiles
one small pytensor function with a gradient, so pytensor's one-time start (its compile cache and C linker, ~0.5 s
of CPU measured at 100 k orders) is done once in the fork server and inherited by every fit process it forks,
instead of being paid again by each fit's first compile; and it compiles the library's Pareto/NBD log-likelihood
(clv.pareto_log_likelihood, cached per process), which every scoring child then inherits ready. The fits and the
scoring compile the same graphs from the same cached C code either way: their results do not change.
"""
import numpy as np
import pytensor
import pytensor.tensor as pt

from customer_segmentation.ml import clv


def _warm_up() -> None:
    x = pt.dvector("x")
    y = pt.dscalar("y")
    value = pt.sum(pt.gammaln(x + y) * pt.log(x) + pt.exp(y))
    pytensor.function([y, x], [value, pytensor.grad(value, y)])
    # called once: the first call of a compiled function compiles more (measured: 0.27 s in each child otherwise)
    one = np.ones(1)
    clv._pareto_log_likelihood_function()(1.0, 1.0, 1.0, 1.0, one, one, 2 * one)


try:
    _warm_up()
except Exception:  # noqa: BLE001 - only a head start: a fit or scoring that cannot compile raises in its own process
    pass
