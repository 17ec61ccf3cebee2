"""Buy-till-you-die customer lifetime value: BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma (issue 13).

Pure functions, pandas in / pandas out, called by the dbt Python models of the CLV marts and by
scripts/validate_clv.py. The input is a customer summary in pymc-marketing's column names:
customer_id, frequency (repeat purchase days), recency (first to last purchase), T (first purchase to
the analysis date; recency and T in one time unit) and monetary_value (mean value of the repeat
purchase days, 0 or null for one-time buyers).

Fitting (fit_model) is maximum likelihood: the pymc-marketing model is built with flat priors
(HalfFlat on every parameter, so its log-density is the log-likelihood) and scipy's L-BFGS-B (what
pymc's find_MAP runs for `fit(method="map")`) maximises the library's compiled logp with the library's
gradient, in the log-parameter space pymc uses for positive parameters. Driving the optimizer here
instead of calling `fit()` gives the convergence flag (find_MAP drops it) and the gradient for the
Hessian. Each fit runs in a child process that is killed at the time limit (see _maximise_in_child).

Scoring (score_customers) is closed-form numpy/scipy from the fitted parameters, vectorised and
chunked so it scales to millions of customers; tests compare it with the library's own methods.
Only the Pareto/NBD needs each customer's likelihood, which is the library's ParetoNBD logp compiled
once per process. pymc-marketing takes ~3 s to import, so it is imported inside the functions that need it,
and in dbt's build only by the fork server of the fits, which also computes that likelihood
(pareto_log_likelihood).
"""
from __future__ import annotations

import functools
import json
import multiprocessing
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, special

from customer_segmentation.ml.frames import md5_keys
from customer_segmentation.ml.ordering import ROW_KEY, mixed, smallest
from customer_segmentation.ml.threads import available_cores

if TYPE_CHECKING:
    from pymc_marketing.clv.models.basic import CLVModel

# one fit: (log-parameter estimate, log-likelihood, converged, optimizer message, negative Hessian)
Maximum = tuple[np.ndarray, float, bool, str, np.ndarray]

MODEL_PARAMETERS: dict[str, tuple[str, ...]] = {
    "bg_nbd": ("r", "alpha", "a", "b"),
    "mbg_nbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
    "gamma_gamma": ("p", "q", "v"),
}
TRANSACTION_MODELS = ("bg_nbd", "mbg_nbd", "pareto_nbd")
# what each model's log-likelihood is a function of, per customer
LIKELIHOOD_COLUMNS: dict[str, list[str]] = {
    **{name: ["frequency", "recency", "T"] for name in TRANSACTION_MODELS},
    "gamma_gamma": ["frequency", "monetary_value"],
}
# shape parameters: outside a plausible range the mixing distribution degenerates (scale parameters
# alpha, beta, v only carry the time or money unit, so they are not range-checked)
SHAPE_PARAMETERS = frozenset({"r", "a", "b", "s", "p", "q"})
# every value of fit_model's verdict, in the order the checks run (see fit_model)
VERDICTS = (
    "no_data",
    "too_few_repeat_customers",
    "timed_out",
    "gamma_gamma_dependence",
    "parameter_at_bound",
    "not_converged",
    "not_identified",
    "identified",
)
# pymc-marketing's month (365.25 / 12 days), so clv agrees with its customer_lifetime_value
DAYS_PER_MONTH = 365.25 / 12
# rows scored at once: bounds the temporaries of the vectorised formulas at ~10 M customers
SCORE_CHUNK_ROWS = 1_000_000
# bounds of the log-parameters the optimizer searches. Degenerate fits run off towards 0 or infinity:
# unbounded, a parameter underflowed to 0, where the library's logp raises; bounded at +-25, a Pareto/NBD
# fit on the online retail file drove s to ~1e-11 and ran past 300 s (53 s at +-15). Shapes at e^+-15
# (3e-7 .. 3e6) are far outside any plausible range; scale parameters (alpha, beta, v) carry the time
# and money units, so they get more room (a mean spend of millions in a small currency unit).
SHAPE_LOG_BOUND = 15.0
SCALE_LOG_BOUND = 25.0
# finite-difference step of the Hessian, in log-parameter units (relative step of 1e-4 in the parameter)
HESSIAN_STEP = 1e-4


# ---------------------------------------------------------------------------------------- fitting
class _TimeLimitReached(Exception):
    """The fit's process was killed at its deadline."""


def library_model(name: str) -> CLVModel:
    """An unfitted pymc-marketing model with a flat (HalfFlat) prior on every parameter: its MAP fit
    (`fit(data, method="map")`) is the maximum-likelihood estimate. With the library's default priors
    the published CDNOW estimates are not reproduced."""
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel

    model_class = {
        "bg_nbd": BetaGeoModel,
        "mbg_nbd": ModifiedBetaGeoModel,
        "pareto_nbd": ParetoNBDModel,
        "gamma_gamma": GammaGammaModel,
    }[name]
    return model_class(model_config={parameter: Prior("HalfFlat") for parameter in MODEL_PARAMETERS[name]})


def fit_input(name: str, summary: pd.DataFrame) -> pd.DataFrame:
    """The rows and columns a model is fit on: every customer for the transaction models, the repeat
    customers with a positive mean repeat value for Gamma-Gamma (its likelihood is of repeat spend)."""
    keys = [column for column in ("customer_id", ROW_KEY) if column in summary.columns]
    if name == "gamma_gamma":
        value = summary["monetary_value"].fillna(0.0)
        rows = summary[(summary["frequency"] > 0) & (value > 0)]
        return rows[[*keys, "frequency", "monetary_value"]].astype({"monetary_value": float})
    return summary[[*keys, *LIKELIHOOD_COLUMNS["pareto_nbd"]]]


def sample_customers(summary: pd.DataFrame, sample_size: int | None, random_seed: int) -> pd.DataFrame:
    """At most sample_size customers, chosen by a seed-mixed hash of the customer (ordering.py: column ROW_KEY,
    the md5 key of customer_unique_id as the dbt models fetch it, else frames.md5_key of customer_id: the same
    on every engine), so the sample does not depend on the order rows arrive in or on the engine; all customers
    when there are not more."""
    if sample_size is None or len(summary) <= sample_size:
        return summary
    if ROW_KEY in summary.columns:
        keys = summary[ROW_KEY].to_numpy(dtype=np.uint64)
    else:
        keys = md5_keys(summary["customer_id"])
    return summary.iloc[smallest(mixed(keys, random_seed, stream=13), sample_size)]


def distinct_rows(name: str, data: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct rows of a model's likelihood inputs, in sorted order, and how many customers share each.

    The log-likelihood is a sum over customers of a function of (frequency, recency, T) only (Gamma-Gamma:
    of frequency and monetary_value), so it equals the sum over distinct rows weighted by their counts. Where
    most customers buy once, their rows differ only in T (one value per first-purchase day): a 50,000-customer
    sample of Olist-like data has ~2,000 distinct rows, and each likelihood evaluation costs that much less.
    Sorted, the rows and hence the sum's order do not depend on the order the customers arrived in.
    """
    columns = LIKELIHOOD_COLUMNS[name]
    counted = data.groupby(columns, sort=True).size().reset_index(name="weight")
    counted.insert(0, "customer_id", np.arange(len(counted)))
    return counted[["customer_id", *columns]], counted["weight"].to_numpy(dtype=float)


def _fmt(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"


def _row(name: str, **fields: Any) -> dict[str, Any]:
    row = {
        "model": name,
        "parameters": None,
        "log_likelihood": None,
        "n_customers": 0,
        "n_repeat_customers": 0,
        "converged": False,
        "is_identified": False,
        "verdict": None,
        "verdict_reason": None,
        "fit_seconds": 0.0,
    }
    row.update(fields)
    row["is_identified"] = row["verdict"] == "identified"
    return row


# what a shape parameter below / above its range does to the fitted population, in words
_SHAPE_MEANING: dict[str, tuple[str, str]] = {
    "r": ("purchase rates are near 0 for almost everybody, with a few extremely fast buyers",
          "every customer has the same purchase rate (no heterogeneity left)"),
    "s": ("dropout rates are near 0 for almost everybody: the model says nobody churns",
          "every customer has the same dropout rate (no heterogeneity left)"),
    "p": ("one customer's spend varies enormously between purchases (coefficient of variation 1 / sqrt(p))",
          "every customer spends exactly the same on every purchase"),
    "q": ("customers' mean spends have no finite population mean",
          "every customer has the same mean spend (no heterogeneity left)"),
}


def _degenerate_reason(name: str, outside: dict[str, float], parameters: dict[str, float]) -> str:
    """What the out-of-range shape parameters mean for the predictions, in words with the numbers."""
    effects = [_SHAPE_MEANING[k][0 if v < 1 else 1] for k, v in outside.items() if k in _SHAPE_MEANING]
    if name in ("bg_nbd", "mbg_nbd") and ({"a", "b"} & outside.keys()):
        a, b = parameters["a"], parameters["b"]
        mean = a / (a + b)
        if mean >= 0.99:
            effects.append(f"the dropout probability after a purchase is pinned at 1 (mean {mean:.4g}); P(alive) would"
                           " be 1 for every one-time buyer and 0 for every repeater")
        elif mean <= 0.01:
            effects.append(f"the dropout probability after a purchase is pinned at 0 (mean {mean:.3g}); P(alive) would"
                           " be about 1 for every customer: the model no longer estimates churn")
        elif a + b > 1:
            effects.append(f"every customer has the same dropout probability {mean:.3g} (no heterogeneity left)")
        else:
            effects.append("the dropout probability is 0 for some customers and 1 for the others, nothing in between")
    shown = " and ".join(f"{k} = {_fmt(v)}" for k, v in outside.items())
    return f"{shown}: {'; '.join(effects)}"


def fit_model(
    name: str,
    summary: pd.DataFrame,
    *,
    time_limit_seconds: float,
    min_repeat_customers: int,
    shape_parameter_range: tuple[float, float],
    max_log_se: float,
    gamma_gamma_max_abs_correlation: float,
    sample_size: int | None,
    random_seed: int,
) -> dict[str, Any]:
    """Maximum-likelihood fit of one model ("bg_nbd", "mbg_nbd", "pareto_nbd", "gamma_gamma") and
    whether its parameters are identified by the data. Never raises on degenerate data: the row says why.

    Verdicts, checked in this order (the first that applies):
    - no_data: no customers (Gamma-Gamma: no repeat customer with a positive value), or every T is 0
      (everybody bought on the analysis date: no time was observed).
    - too_few_repeat_customers: fewer than min_repeat_customers repeat customers (Gamma-Gamma: with a
      positive repeat value); repeat purchases are what identify the purchase and dropout processes.
    - timed_out: the fit was stopped at time_limit_seconds (wall clock, including model compilation).
    - gamma_gamma_dependence: Gamma-Gamma assumes spend independent of purchase frequency;
      |Pearson corr(frequency, monetary_value)| among its customers exceeds gamma_gamma_max_abs_correlation.
    - parameter_at_bound: a shape parameter (r, a, b, s, p, q) is outside shape_parameter_range, the
      degenerate fits of data where almost everybody buys once (BG/NBD a = 226, b = 0.004).
    - not_converged: the optimizer did not report convergence, or the estimate is not finite.
    - not_identified: the log-likelihood is flat at the estimate: the Hessian of the negative
      log-likelihood in log-parameter space is not positive definite, or a standard error of a
      log-parameter (about the relative standard error of the parameter) exceeds max_log_se.

    Above sample_size customers (Gamma-Gamma: repeat customers) the fit uses a fixed-seed sample of that
    many (n_customers). parameters is None unless an estimate exists (it is kept for
    parameter_at_bound, not_converged, not_identified and gamma_gamma_dependence, for diagnosis).
    Malformed input (recency > T, negative values) is a bug upstream: a RuntimeError carrying the
    library's ValueError.
    """
    if name not in MODEL_PARAMETERS:
        raise ValueError(f"unknown CLV model {name!r}; expected one of {', '.join(MODEL_PARAMETERS)}")
    started = time.monotonic()
    deadline = started + time_limit_seconds
    names = MODEL_PARAMETERS[name]
    data = fit_input(name, summary)
    n_repeat = int((data["frequency"] > 0).sum())

    def elapsed() -> float:
        return round(time.monotonic() - started, 3)

    if data.empty or (name != "gamma_gamma" and not (data["T"] > 0).any()):
        if summary.empty:
            reason = "no customers"
        elif data.empty:
            reason = f"none of the {len(summary)} customers has a repeat purchase day with a positive value"
        else:
            reason = f"all {len(data)} customers made their first purchase on the analysis date (T = 0)"
        return _row(name, verdict="no_data", verdict_reason=reason, n_customers=len(data), n_repeat_customers=n_repeat,
                    fit_seconds=elapsed())
    if n_repeat < min_repeat_customers:
        return _row(
            name,
            verdict="too_few_repeat_customers",
            n_customers=len(data),
            n_repeat_customers=n_repeat,
            verdict_reason=(
                f"{n_repeat} repeat customers of {len(data)}, fewer than the {min_repeat_customers} required"
            ),
            fit_seconds=elapsed(),
        )

    # in the order of the likelihood's inputs: a sum's (and a correlation's) last bits depend on the order of its
    # terms, so the same customers arriving in another table order must give the same estimate to the last digit
    data = sample_customers(data, sample_size, random_seed).sort_values(LIKELIHOOD_COLUMNS[name], kind="stable")
    n_customers, n_repeat = len(data), int((data["frequency"] > 0).sum())
    counts = {"n_customers": n_customers, "n_repeat_customers": n_repeat}
    try:
        estimate, log_likelihood, converged, message, neg_hessian = _maximise_in_child(
            name, *distinct_rows(name, data), names, deadline
        )
    except _TimeLimitReached:
        return _row(
            name,
            verdict="timed_out",
            fit_seconds=elapsed(),
            **counts,
            verdict_reason=f"the fit was stopped after {elapsed():.1f} s, over the {time_limit_seconds:g} s limit",
        )

    parameters = {k: float(v) for k, v in zip(names, np.exp(estimate))}
    shown = ", ".join(f"{k} = {_fmt(v)}" for k, v in parameters.items())
    fitted = {"parameters": parameters, "log_likelihood": log_likelihood, "converged": converged, **counts}
    # checked first: when spend depends on frequency the model's premise fails, whatever the estimates
    # look like (undefined, so not failed, when every repeat customer has the same frequency)
    correlation = data["frequency"].corr(data["monetary_value"]) if name == "gamma_gamma" else np.nan
    if abs(correlation) > gamma_gamma_max_abs_correlation:
        return _row(name, verdict="gamma_gamma_dependence", fit_seconds=elapsed(), **fitted,
                    verdict_reason=f"corr(frequency, monetary_value) among the {n_customers} repeat customers is"
                                   f" {correlation:.3g}; Gamma-Gamma assumes spend independent of frequency"
                                   f" (|corr| <= {gamma_gamma_max_abs_correlation:g}); {shown}")
    low, high = shape_parameter_range
    outside = {k: v for k, v in parameters.items() if k in SHAPE_PARAMETERS and not low <= v <= high}
    if np.all(np.isfinite(estimate)) and outside:
        return _row(name, verdict="parameter_at_bound", fit_seconds=elapsed(), **fitted,
                    verdict_reason=f"{_degenerate_reason(name, outside, parameters)} (shape parameters must lie in"
                                   f" [{low:g}, {high:g}]; {shown})")
    if not converged or not np.isfinite(log_likelihood) or not np.all(np.isfinite(estimate)):
        return _row(name, verdict="not_converged", fit_seconds=elapsed(), **fitted,
                    verdict_reason=f"the optimizer stopped without converging ({message}); {shown}")

    if not np.all(np.isfinite(neg_hessian)):
        return _row(name, verdict="not_identified", fit_seconds=elapsed(), **fitted,
                    verdict_reason=f"the curvature of the log-likelihood at {shown} is not finite")
    smallest_eigenvalue = float(np.linalg.eigvalsh(neg_hessian)[0])
    if smallest_eigenvalue <= 0:
        return _row(name, verdict="not_identified", fit_seconds=elapsed(), **fitted,
                    verdict_reason=f"the log-likelihood is flat or not a maximum at {shown} (smallest eigenvalue of"
                                   f" the negative Hessian in log-parameter space {smallest_eigenvalue:.3g})")
    log_se = np.sqrt(np.diag(np.linalg.inv(neg_hessian)))
    if np.max(log_se) > max_log_se:
        worst = names[int(np.argmax(log_se))]
        return _row(name, verdict="not_identified", fit_seconds=elapsed(), **fitted,
                    verdict_reason=f"the log-likelihood is nearly flat: the standard error of log({worst}) is"
                                   f" {np.max(log_se):.3g}, above {max_log_se:g} ({shown})")
    max_se = ", ".join(f"{k} {se:.2g}" for k, se in zip(names, log_se))
    return _row(name, verdict="identified", fit_seconds=elapsed(), **fitted,
                verdict_reason=f"{shown}; standard errors of the log-parameters: {max_se}")


def fit_models(names: Iterable[str], summary: pd.DataFrame, **arguments: Any) -> list[dict[str, Any]]:
    """fit_model(name, summary, **arguments) of each name, in names' order, run as many at a time as this process
    may use cores (each fit is a process of its own, _maximise_in_child; its time limit runs from its own start).
    Each fit is the same computation in its own process whether run alone or next to another, so the rows are
    identical to one-after-another fits; on 2 cores the four fits of a table take about the slowest one plus
    the rest instead of their sum. The slowest fit (Pareto/NBD: its hyp2f1 likelihood) starts first."""
    names = list(names)
    order = sorted(names, key=lambda name: name != "pareto_nbd")
    workers = max(1, min(len(names), available_cores()))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="clv_fit") as pool:
        futures = {name: pool.submit(fit_model, name, summary, **arguments) for name in order}
        return [futures[name].result() for name in names]


# imported once by the fork server instead of once per fit or Pareto/NBD scoring (pymc-marketing: ~3 s);
# clv_forkserver runs pytensor's one-time start and compiles the scoring there (each child paid ~0.5 s of CPU)
FORKSERVER_PRELOAD = ["pymc_marketing.clv", "customer_segmentation.ml.clv", "customer_segmentation.ml.clv_forkserver"]
# multiprocessing re-runs the caller's main script in every child (Python 3.12's fork server does not
# preload it); dbt's entry script only imports this module, ~2 s of CPU per fit unless preloaded
DBT_ENTRY_MODULE = "dbt.cli.main"


def _fork_server_context() -> multiprocessing.context.ForkServerContext:
    """multiprocessing's fork server context, with the preload of the CLV work (set before the server starts)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(
        [*FORKSERVER_PRELOAD, *([DBT_ENTRY_MODULE] if DBT_ENTRY_MODULE in sys.modules else [])]
    )
    return context


def start_fork_server() -> None:
    """Start the fork server of the CLV work now, if it is not running: it returns at once, and the server
    imports pymc-marketing and compiles (~5.7 s, measured) in its own process while the caller goes on. Every
    dbt Python model calls it when its table is written (pipeline.model_result), so in a build the import
    overlaps the models before the first fit instead of being waited for by it."""
    _fork_server_context()
    from multiprocessing import forkserver

    forkserver.ensure_running()


def _maximise_in_child(
    name: str, data: pd.DataFrame, weights: np.ndarray, names: tuple[str, ...], deadline: float
) -> Maximum:
    """_maximise in a child process that is killed at the monotonic `deadline` (_TimeLimitReached).

    In-process, a deadline can only be checked between likelihood evaluations, and one Pareto/NBD
    evaluation at degenerate parameters (hyp2f1 series) was measured to run for minutes; a process can
    always be killed. The children come from multiprocessing's fork server: a fresh interpreter started
    once (it inherits no DuckDB connection, thread or open file of dbt's process), which imports
    pymc-marketing once and forks a child per fit, so a fit costs no ~3 s import. Process.start() waits
    for that import the first time, so it runs in a thread and is not waited for beyond the deadline.
    """
    context = _fork_server_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child_fit, args=(sender, name, data, weights, names), daemon=True)
    starter = threading.Thread(target=process.start, daemon=True)
    starter.start()
    starter.join(max(deadline - time.monotonic(), 0.0))
    if starter.is_alive():
        threading.Thread(target=_kill_once_started, args=(starter, process, sender, receiver), daemon=True).start()
        raise _TimeLimitReached
    sender.close()
    try:
        if not receiver.poll(max(deadline - time.monotonic(), 0.0)):
            raise _TimeLimitReached
        status, payload = receiver.recv()
    except EOFError:
        raise RuntimeError(f"the {name} fit process died without a result (exit code {process.exitcode})") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    if status == "error":
        raise RuntimeError(f"the {name} fit failed in its process:\n{payload}")
    return payload


def _kill_once_started(
    starter: threading.Thread, process: BaseProcess, sender: Connection, receiver: Connection
) -> None:
    """Kill a fit process whose start outlived its deadline, as soon as it exists."""
    starter.join()
    if process.is_alive():
        process.kill()
        process.join()
    sender.close()
    receiver.close()


def _child_fit(sender: Connection, name: str, data: pd.DataFrame, weights: np.ndarray, names: tuple[str, ...]) -> None:
    """Body of a fit process: _maximise's result, or the traceback of its exception, to the parent."""
    try:
        sender.send(("ok", _maximise(name, data, weights, names)))
    except Exception:  # noqa: BLE001 - reported to the parent, which raises it
        sender.send(("error", traceback.format_exc()))
    finally:
        sender.close()


def _maximise(name: str, data: pd.DataFrame, weights: np.ndarray, names: tuple[str, ...]) -> Maximum:
    """(log-parameter estimate in `names` order, log-likelihood, converged, optimizer message,
    Hessian of the negative log-likelihood in log-parameter space) from the library's model, built on
    distinct rows (distinct_rows) whose per-row log-likelihoods are weighted by their customer counts."""
    import pytensor
    import pytensor.tensor as pt
    from pymc.logprob.utils import ParameterValueError

    model = library_model(name)
    model.build_model(data)
    value_vars = {v.name: v for v in model.model.value_vars}
    inputs = [value_vars[f"{k}_log__"] for k in names]
    # flat priors (log-density 0) and no Jacobian: the log-likelihood is the observed variables' log-density
    # (Gamma-Gamma: its Potential), one term per row
    per_row = model.model.logp(vars=[*model.model.observed_RVs, *model.model.potentials], jacobian=False, sum=False)
    weight = pt.as_tensor_variable(np.asarray(weights, dtype=float))
    logp = sum(pt.sum(weight * term) for term in per_row)
    logp_and_gradient = pytensor.function(inputs, [logp, *pytensor.grad(logp, inputs)])

    def negative(x: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            value, *gradient = logp_and_gradient(*x)
        except ParameterValueError:  # a parameter over- or underflowed: not a point the optimizer may take
            return np.inf, np.zeros_like(x)
        return -float(value), -np.asarray(gradient, dtype=float)

    # pymc's initial point, as find_MAP starts from (every parameter 1 for HalfFlat)
    initial_point = model.model.initial_point()
    start = np.array([initial_point[f"{k}_log__"] for k in names], dtype=float)
    # scipy's default tolerances, as find_MAP: tighter ones (ftol 1e-13) moved estimates by < 3e-4 but
    # kept degenerate Pareto/NBD fits crawling along flat directions past a 120 s limit (13 s before)
    bounds = [(-SHAPE_LOG_BOUND, SHAPE_LOG_BOUND) if k in SHAPE_PARAMETERS else (-SCALE_LOG_BOUND, SCALE_LOG_BOUND)
              for k in names]
    # minimised per customer: L-BFGS-B's first step is the raw negative gradient clipped to the bounds, and the
    # summed gradient (thousands of customers) sent a Pareto/NBD fit straight to a corner of the box (r = e^-15,
    # alpha = e^15), where one evaluation of the library's hyp2f1 ran for minutes; per customer it takes a
    # step of the parameters' own size. gtol scaled alike, so the stopping rule is scipy's default on the sum.
    customers = float(np.sum(weights))

    def per_customer(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = negative(x)
        return value / customers, gradient / customers

    result = optimize.minimize(per_customer, start, jac=True, method="L-BFGS-B", bounds=bounds,
                               options={"gtol": 1e-5 / customers})
    estimate = result.x
    log_likelihood = -float(result.fun) * customers
    neg_hessian = np.empty((len(names), len(names)))
    for j in range(len(names)):
        step = np.zeros(len(names))
        step[j] = HESSIAN_STEP
        neg_hessian[:, j] = (negative(estimate + step)[1] - negative(estimate - step)[1]) / (2 * HESSIAN_STEP)
    return estimate, log_likelihood, bool(result.success), str(result.message), (neg_hessian + neg_hessian.T) / 2


# ---------------------------------------------------------------------------------------- scoring
@functools.cache
def _pareto_log_likelihood_function() -> Callable[..., np.ndarray]:
    """The library's Pareto/NBD log-likelihood per customer, compiled once per process for vectors.

    It is the one formula of the scoring that needs hyp2f1 of fitted quantities in several branches,
    so it is taken from pymc-marketing rather than rewritten.
    """
    import pymc as pm
    import pytensor
    import pytensor.tensor as pt
    from pymc_marketing.clv.distributions import ParetoNBD

    r, alpha, s, beta = pt.dscalars("r", "alpha", "s", "beta")
    x, t_x, T = pt.dvectors("x", "t_x", "T")
    logp = pm.logp(ParetoNBD.dist(r=r, alpha=alpha, s=s, beta=beta, T=T), pt.stack([t_x, x], axis=1))
    return pytensor.function([r, alpha, s, beta, x, t_x, T], logp)


def pareto_log_likelihood(
    parameters: Mapping[str, float], frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
) -> np.ndarray:
    """Each customer's Pareto/NBD log-likelihood (the library's), needed by its predictions.

    Computed where pymc-marketing is already imported: in this process if it is (a fit's process, a script,
    the tests), else in a child of the fork server, which preloads the library and this compiled function
    (clv_forkserver), so dbt's process never pays the library's import (~4 s, measured in
    clv_backtest_detail at 10 k orders) nor holds its memory. The same compiled function either way."""
    p = parameters
    r_alpha_s_beta = (p["r"], p["alpha"], p["s"], p["beta"])
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    if "pymc_marketing" in sys.modules:
        return _pareto_log_likelihood_function()(*r_alpha_s_beta, x, t_x, T)
    return _pareto_log_likelihood_in_child(r_alpha_s_beta, x, t_x, T)


def _pareto_log_likelihood_in_child(
    r_alpha_s_beta: tuple[float, ...], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """pareto_log_likelihood in one child of the fork server, the customers sent SCORE_CHUNK_ROWS at a time
    (bounded pipe buffers at millions of customers)."""
    context = _fork_server_context()
    connection, child_end = context.Pipe()
    process = context.Process(target=_child_pareto_log_likelihood, args=(child_end, r_alpha_s_beta), daemon=True)
    process.start()
    child_end.close()
    out = np.empty(len(x), dtype=float)
    try:
        for start in range(0, len(x), SCORE_CHUNK_ROWS):
            rows = slice(start, start + SCORE_CHUNK_ROWS)
            connection.send((x[rows], t_x[rows], T[rows]))
            status, payload = connection.recv()
            if status == "error":
                raise RuntimeError(f"the Pareto/NBD log-likelihood failed in its process:\n{payload}")
            out[rows] = payload
        connection.send(None)
    except EOFError:
        raise RuntimeError(
            f"the Pareto/NBD log-likelihood process died without a result (exit code {process.exitcode})"
        ) from None
    finally:
        connection.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    return out


def _child_pareto_log_likelihood(connection: Connection, r_alpha_s_beta: tuple[float, ...]) -> None:
    """Body of the child of _pareto_log_likelihood_in_child: one result (or traceback) per chunk received,
    until None."""
    try:
        while (chunk := connection.recv()) is not None:
            connection.send(("ok", _pareto_log_likelihood_function()(*r_alpha_s_beta, *chunk)))
    except Exception:  # noqa: BLE001 - reported to the parent, which raises it
        connection.send(("error", traceback.format_exc()))
    finally:
        connection.close()


def expected_purchases(
    name: str, parameters: Mapping[str, float], frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, t: float, *,
    pareto_loglike: np.ndarray | None = None,
) -> np.ndarray:
    """Expected purchases in the next t time units given each customer's (frequency, recency, T):
    BG/NBD eq. 10 of Fader, Hardie & Lee (2005), MBG/NBD eq. 6 of Batislam et al. (2007), Pareto/NBD
    eq. 41 of Fader & Hardie's derivation note, as pymc-marketing's expected_purchases computes them.
    pareto_loglike (pareto_log_likelihood of the same customers) saves recomputing it for many t."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    p = parameters
    r, alpha = p["r"], p["alpha"]
    if name == "pareto_nbd":
        s, beta = p["s"], p["beta"]
        loglike = pareto_log_likelihood(p, x, t_x, T) if pareto_loglike is None else pareto_loglike
        log_ratio = np.log((beta + T) / (beta + T + t))
        # (1 - ratio^(s-1)) / (s-1), written with expm1 so s near 1 stays accurate
        growth = -log_ratio if s == 1 else -np.expm1((s - 1) * log_ratio) / (s - 1)
        log_value = (
            special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
            - (r + x) * np.log(alpha + T) - s * np.log(beta + T)
            + np.log(r + x) + np.log(beta + T) - np.log(alpha + T) + np.log(growth)
        )
        return np.exp(log_value - loglike)
    a, b = p["a"], p["b"]
    discount = ((alpha + T) / (alpha + T + t)) ** (r + x)
    recency_odds = ((alpha + T) / (alpha + t_x)) ** (r + x)
    if name == "bg_nbd":
        hyp2f1 = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        numerator = (a + b + x - 1) / (a - 1) * (1 - discount * hyp2f1)
        return numerator / (1 + (x > 0) * a / (b + np.maximum(x, 1) - 1) * recency_odds)
    if name == "mbg_nbd":
        hyp2f1 = special.hyp2f1(r + x, b + x + 1, a + b + x, t / (alpha + T + t))
        numerator = (a + b + x) / (a - 1) * (1 - discount * hyp2f1)
        return numerator / (1 + a / (b + x) * recency_odds)
    raise ValueError(f"{name!r} is not a transaction model")


def probability_alive(
    name: str, parameters: Mapping[str, float], frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, *,
    pareto_loglike: np.ndarray | None = None,
) -> np.ndarray:
    """P(the customer has not dropped out by T), as pymc-marketing's expected_probability_alive.

    BG/NBD gives 1 to every one-time buyer (dropout happens only right after a repeat purchase);
    MBG/NBD and Pareto/NBD allow dropout before any repeat.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    p = parameters
    r, alpha = p["r"], p["alpha"]
    if name == "pareto_nbd":
        s, beta = p["s"], p["beta"]
        loglike = pareto_log_likelihood(p, x, t_x, T) if pareto_loglike is None else pareto_loglike
        log_alive = (
            special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha / (alpha + T)) - x * np.log(alpha + T)
            + s * np.log(beta / (beta + T))
        )
        return np.exp(log_alive - loglike)
    a, b = p["a"], p["b"]
    if name == "bg_nbd":
        log_odds = (r + x) * np.log((alpha + T) / (alpha + t_x)) + np.log(a / (b + np.maximum(x, 1) - 1))
        return np.where(x == 0, 1.0, special.expit(-log_odds))
    if name == "mbg_nbd":
        return 1.0 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    raise ValueError(f"{name!r} is not a transaction model")


def transaction_log_likelihood(name: str, parameters: Mapping[str, float], frequency, recency, T) -> np.ndarray:
    """Each customer's log-likelihood of (frequency, recency, T): the density of x repeat purchases with the last at
    t_x and none in (t_x, T]. BG/NBD eq. 6 of Fader, Hardie & Lee (2005), MBG/NBD of Batislam et al. (2007)
    (both in closed form here), Pareto/NBD the library's (pareto_log_likelihood)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    p = parameters
    if name == "pareto_nbd":
        return pareto_log_likelihood(p, x, t_x, T)
    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    purchases = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    if name == "bg_nbd":
        alive = special.betaln(a, b + x) - (r + x) * np.log(alpha + T)
        dropped = special.betaln(a + 1, b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x)
        both = np.where(x > 0, np.logaddexp(alive, dropped), alive)
    elif name == "mbg_nbd":
        alive = special.betaln(a, b + x + 1) - (r + x) * np.log(alpha + T)
        dropped = special.betaln(a + 1, b + x) - (r + x) * np.log(alpha + t_x)
        both = np.logaddexp(alive, dropped)
    else:
        raise ValueError(f"{name!r} is not a transaction model")
    return purchases - special.betaln(a, b) + both


def probability_no_purchase(
    name: str, parameters: Mapping[str, float], frequency, recency, T, t: float, *,
    pareto_loglike: np.ndarray | None = None,
) -> np.ndarray:
    """P(no purchase in (T, T + t] | frequency, recency, T): the churn side of "will they buy within t".

    No purchase in (T, T + t] after the history (x, t_x, T) is the same event as the history (x, t_x, T + t),
    so P = L(x, t_x, T + t) / L(x, t_x, T) with each model's likelihood L (transaction_log_likelihood). For
    BG/NBD this is pymc-marketing's expected_probability_no_purchase (eq. 34 of Fader & Hardie's 2019
    derivation note), for Pareto/NBD its expected_purchase_probability with n_purchases = 0; MBG/NBD has no
    library method, its likelihood is the library's ModifiedBetaGeoNBD logp. Tests compare all three.
    t, recency and T are in the summary's time unit (var clv_time_unit_days); pareto_loglike
    (pareto_log_likelihood of the same customers) saves recomputing the denominator."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    if name == "pareto_nbd" and pareto_loglike is not None:
        now = pareto_loglike
    else:
        now = transaction_log_likelihood(name, parameters, x, t_x, T)
    later = transaction_log_likelihood(name, parameters, x, t_x, T + t)
    return np.clip(np.exp(later - now), 0.0, 1.0)


def gamma_gamma_spend(parameters: Mapping[str, float], frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
    """Gamma-Gamma expected value of a future purchase (Fader & Hardie 2013, eq. 5): the customer's mean
    repeat value weighted by p x / (p x + q - 1) against the population mean p v / (q - 1). A one-time
    buyer (frequency 0, value null) gets the population mean. Needs q > 1 (a finite population mean)."""
    p, q, v = parameters["p"], parameters["q"], parameters["v"]
    x = np.asarray(frequency, dtype=float)
    value = np.nan_to_num(np.asarray(monetary_value, dtype=float), nan=0.0)
    weight = p * x / (p * x + q - 1)
    return (1 - weight) * (p * v / (q - 1)) + weight * value


def monthly_discount_rate(annual_discount_rate: float) -> float:
    """The monthly rate that compounds to the annual one."""
    return (1 + annual_discount_rate) ** (1 / 12) - 1


def customer_lifetime_value(
    name: str, parameters: Mapping[str, float], frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
    order_value: ArrayLike, *,
    months: int, annual_discount_rate: float, time_unit_days: float, pareto_loglike: np.ndarray | None = None,
) -> np.ndarray:
    """Discounted value of the next `months` months: the sum over months m of (expected purchases in
    month m) x order_value / (1 + monthly rate)^m, months of 365.25 / 12 days. The same sum as
    pymc-marketing's customer_lifetime_value with discount_rate = the monthly rate."""
    rate = monthly_discount_rate(annual_discount_rate)
    total = np.zeros(len(np.asarray(frequency)))
    previous = 0.0
    for month in range(1, months + 1):
        cumulative = expected_purchases(
            name,
            parameters,
            frequency,
            recency,
            T,
            month * DAYS_PER_MONTH / time_unit_days,
            pareto_loglike=pareto_loglike,
        )
        total += (cumulative - previous) / (1 + rate) ** month
        previous = cumulative
    return total * np.asarray(order_value, dtype=float)


def _fit_rows(fits: Iterable[Mapping[str, Any]] | pd.DataFrame) -> dict[str, dict[str, Any]]:
    """model name -> fit row, from fit_model's dicts or a DataFrame of them (parameters as a dict or JSON)."""
    rows = fits.to_dict("records") if isinstance(fits, pd.DataFrame) else list(fits)
    by_model = {}
    for row in rows:
        parameters = row.get("parameters")
        if isinstance(parameters, str):
            parameters = json.loads(parameters)
        by_model[row["model"]] = {**row, "parameters": parameters}
    return by_model


def _usable(fit: Mapping[str, Any] | None) -> bool:
    return fit is not None and bool(fit["is_identified"]) and fit["parameters"] is not None


def score_customers(
    summary: pd.DataFrame,
    fits: Iterable[Mapping[str, Any]] | pd.DataFrame,
    *,
    horizons: Iterable[int],
    clv_horizon: int,
    annual_discount_rate: float,
    time_unit_days: float,
) -> pd.DataFrame:
    """One row per customer and transaction model in `fits` (pass only the models you want rows for):
    customer_id, model, expected_purchases_<h> for each horizon h in days, p_alive,
    expected_order_value and clv (clv_horizon months, see customer_lifetime_value).

    Where a transaction model is not identified, its expected purchases, p_alive and clv are null: a
    degenerate fit would state certainties it does not have. expected_order_value is the Gamma-Gamma
    conditional expected spend when the gamma_gamma fit is identified (and q > 1); otherwise the fallback
    is the population mean of repeat-day values (sum of frequency x monetary_value over sum of frequency),
    the same for every customer: without Gamma-Gamma there is no estimate of how much to trust one
    customer's few values. Null when nobody repeated. summary's recency and T are in units of
    time_unit_days days (7 for weeks); fits are fit_model rows or a DataFrame of them.
    """
    horizons = [int(h) for h in horizons]
    by_model = _fit_rows(fits)
    frequency = summary["frequency"].to_numpy(dtype=float)
    recency = summary["recency"].to_numpy(dtype=float)
    age = summary["T"].to_numpy(dtype=float)
    monetary_value = summary["monetary_value"].to_numpy(dtype=float, na_value=np.nan)
    gamma_gamma = by_model.get("gamma_gamma")
    if _usable(gamma_gamma) and gamma_gamma["parameters"]["q"] > 1:
        order_value = gamma_gamma_spend(gamma_gamma["parameters"], frequency, monetary_value)
    else:
        repeat = (frequency > 0) & np.isfinite(monetary_value)
        days = frequency[repeat].sum()
        order_value = np.full(
            len(summary), (frequency[repeat] * monetary_value[repeat]).sum() / days if days else np.nan
        )

    prediction_columns = [*(f"expected_purchases_{h}" for h in horizons), "p_alive", "clv"]
    frames = []
    for name in (m for m in TRANSACTION_MODELS if m in by_model):
        fit = by_model[name]
        columns = {column: np.full(len(summary), np.nan) for column in prediction_columns}
        if _usable(fit):
            for start in range(0, len(summary), SCORE_CHUNK_ROWS):
                rows = slice(start, start + SCORE_CHUNK_ROWS)
                x, t_x, T = frequency[rows], recency[rows], age[rows]
                loglike = pareto_log_likelihood(fit["parameters"], x, t_x, T) if name == "pareto_nbd" else None
                for h in horizons:
                    columns[f"expected_purchases_{h}"][rows] = expected_purchases(
                        name, fit["parameters"], x, t_x, T, h / time_unit_days, pareto_loglike=loglike)
                columns["p_alive"][rows] = probability_alive(name, fit["parameters"], x, t_x, T, pareto_loglike=loglike)
                columns["clv"][rows] = customer_lifetime_value(
                    name, fit["parameters"], x, t_x, T, order_value[rows], months=clv_horizon,
                    annual_discount_rate=annual_discount_rate, time_unit_days=time_unit_days, pareto_loglike=loglike)
        frames.append(pd.DataFrame({
            "customer_id": summary["customer_id"].to_numpy(),
            "model": name,
            **{c: columns[c] for c in prediction_columns if c != "clv"},
            "expected_order_value": order_value,
            "clv": columns["clv"],
        }))
    if not frames:
        return pd.DataFrame(columns=["customer_id", "model", *prediction_columns[:-1], "expected_order_value", "clv"])
    return pd.concat(frames, ignore_index=True)
