"""Imported by the fork server of the CLV fits only (clv.FORKSERVER_PRELOAD), never by dbt's process: compiles
one small pytensor function with a gradient, so pytensor's one-time start (its compile cache and C linker, ~0.5 s
of CPU measured at 100 k orders) is done once in the fork server and inherited by every fit process it forks,
instead of being paid again by each fit's first compile. The fits compile the same graphs from the same cached
C code either way: their results do not change.
"""
import pytensor
import pytensor.tensor as pt


def _warm_up() -> None:
    x = pt.dvector("x")
    y = pt.dscalar("y")
    value = pt.sum(pt.gammaln(x + y) * pt.log(x) + pt.exp(y))
    pytensor.function([y, x], [value, pytensor.grad(value, y)])


try:
    _warm_up()
except Exception:  # noqa: BLE001 - only a head start: a fit that cannot compile raises in its own process
    pass
