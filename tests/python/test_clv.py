"""Buy-till-you-die lifetime value (issue 13): customer_segmentation/ml/clv.py and scripts/validate_clv.py.

- CDNOW: validate_clv.py (a subprocess, as a user runs it) must reproduce the published estimates and
  log-likelihoods within 1 % (Fader, Hardie & Lee 2005; Fader & Hardie's Gamma-Gamma note).
- The vectorised scoring formulas must equal pymc-marketing's own methods on a model the library fit.
- Planted degenerate data (almost everybody buys once; identical constant-rate buyers) must not be
  called identified, and bad input must give a verdict instead of an exception.
- The time limit must stop a fit, not wait for it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import duckdb
import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from customer_segmentation.ml import clv
from customer_segmentation.ml.config import ClvConfig

CDNOW_DIR = ROOT.parent / "shared" / "cdnow"
FIT = {"time_limit_seconds": 120, "min_repeat_customers": 30, "shape_parameter_range": (0.01, 100.0), "max_log_se": 1.0,
       "gamma_gamma_max_abs_correlation": 0.3, "sample_size": None, "random_seed": 42}


def simulate_bg_nbd(n: int, seed: int, r=0.5, alpha=5.0, a=1.0, b=3.0) -> pd.DataFrame:
    """A BG/NBD population (weeks): Poisson purchases at gamma-distributed rates, dropout with a
    beta-distributed probability after each repeat purchase; Gamma-Gamma spend independent of frequency."""
    rng = np.random.default_rng(seed)
    rate, dropout = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    T = rng.uniform(10, 52, n)
    frequency, recency, now = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        now = np.where(active, now + rng.exponential(1 / np.maximum(rate, 1e-12)), now)
        active &= now <= T
        frequency += active
        recency = np.where(active, now, recency)
        active &= rng.random(n) >= dropout
    spend_scale = rng.gamma(3.0, 1 / 15.0, n)
    value = np.array([rng.gamma(6.0, 1 / s, int(k)).mean() if k else 0.0 for s, k in zip(spend_scale, frequency)])
    return pd.DataFrame({"customer_id": [f"c{i:05d}" for i in range(n)], "frequency": frequency, "recency": recency,
                         "T": T, "monetary_value": value})


def mostly_one_time_buyers(n: int, repeat_share: float, seed: int) -> pd.DataFrame:
    """Data like a marketplace where ~97 % buy once: a few repeaters with one or two repeat days."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(4, 100, n)
    repeats = rng.random(n) < repeat_share
    frequency = np.where(repeats, 1 + rng.poisson(0.3, n), 0).astype(float)
    return pd.DataFrame({"customer_id": [f"c{i:05d}" for i in range(n)], "frequency": frequency,
                         "recency": np.where(repeats, rng.uniform(0, 1, n) * T, 0.0), "T": T,
                         "monetary_value": np.where(repeats, rng.gamma(4, 25, n), 0.0)})


# ---------------------------------------------------------------------------------------- CDNOW
@pytest.fixture(scope="module")
def cdnow() -> dict:
    if not (CDNOW_DIR / "CDNOW_sample.txt").exists():
        message = f"CDNOW data not found at {CDNOW_DIR} (see ../shared/cdnow/README.md)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "validate_clv.py"), "--cdnow", str(CDNOW_DIR), "--json"],
        capture_output=True, text=True, timeout=600, check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize("model, published", [
    ("bg_nbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4}),
    ("pareto_nbd", {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669, "log_likelihood": -9595.0}),
    ("gamma_gamma", {"p": 6.25, "q": 3.74, "v": 15.44}),
])
def test_cdnow_reproduces_published_estimates(cdnow, model, published):
    fit = cdnow[model]
    assert fit["verdict"] == "identified", fit["verdict_reason"]
    for name, value in published.items():
        assert fit[name] == pytest.approx(value, rel=0.01), name


def test_cdnow_data_conventions_and_holdout(cdnow):
    data = cdnow["data"]
    assert (data["customers"], data["customer_days"], data["repeat_customers"]) == (2357, 6696, 946)
    assert cdnow["gamma_gamma"]["n_customers"] == 946
    assert cdnow["mbg_nbd"]["verdict"] == "identified"
    holdout = cdnow["holdout"]
    assert holdout["weeks"] == 39
    assert set(holdout["predicted_repeat_purchases"]) == set(clv.TRANSACTION_MODELS)
    for predicted in holdout["predicted_repeat_purchases"].values():
        assert predicted == pytest.approx(holdout["actual_repeat_purchases"], rel=0.2)


def test_cdnow_bg_nbd_conditional_expectation(cdnow):
    """Fader, Hardie & Lee (2005): a customer with x = 2, t_x = 30.43, T = 38.86 makes 1.226 purchases
    in the next 39 weeks."""
    parameters = {k: cdnow["bg_nbd"][k] for k in clv.MODEL_PARAMETERS["bg_nbd"]}
    expected = clv.expected_purchases("bg_nbd", parameters, [2.0], [30.43], [38.86], 39.0)
    assert expected[0] == pytest.approx(1.226, rel=0.01)


# ---------------------------------------------------------------------------------------- formulas
@pytest.fixture(scope="module")
def library_fits():
    """Synthetic customers, and the four pymc-marketing models fit on them by the library (MAP, flat priors)."""
    import warnings

    summary = simulate_bg_nbd(800, seed=5)
    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in clv.MODEL_PARAMETERS:
            model = clv.library_model(name)
            model.fit(clv.fit_input(name, summary), method="map", progressbar=False)
            models[name] = model
    return summary, models


def _parameters(model, name: str) -> dict[str, float]:
    return {k: float(model.idata.posterior[k].values.ravel()[0]) for k in clv.MODEL_PARAMETERS[name]}


@pytest.mark.parametrize("name", clv.TRANSACTION_MODELS)
def test_vectorised_formulas_equal_the_library(library_fits, name):
    from pymc_marketing.clv import customer_lifetime_value

    summary, models = library_fits
    model, parameters = models[name], _parameters(models[name], name)
    x, t_x, T = summary["frequency"], summary["recency"], summary["T"]
    for t in (4.3, 52.0):
        ours = clv.expected_purchases(name, parameters, x, t_x, T, t)
        theirs = model.expected_purchases(summary, future_t=t).values.ravel()
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    np.testing.assert_allclose(clv.probability_alive(name, parameters, x, t_x, T),
                               model.expected_probability_alive(summary).values.ravel(), rtol=1e-6)
    spend = np.full(len(summary), 37.5)
    ours = clv.customer_lifetime_value(name, parameters, x, t_x, T, spend, months=3, annual_discount_rate=0.1,
                                       time_unit_days=7)
    theirs = customer_lifetime_value(model, summary.assign(future_spend=spend), future_t=3,
                                     discount_rate=clv.monthly_discount_rate(0.1), time_unit="W")
    np.testing.assert_allclose(ours, theirs.values.ravel(), rtol=1e-6)


def _library_no_purchase_ratio(name: str, parameters: dict, x, t_x, T, t) -> np.ndarray:
    """L(x, t_x, T + t) / L(x, t_x, T) with the library's own likelihood (its distributions' logp)."""
    import pymc as pm
    from pymc_marketing.clv.distributions import BetaGeoNBD, ModifiedBetaGeoNBD, ParetoNBD

    distribution = {"bg_nbd": BetaGeoNBD, "mbg_nbd": ModifiedBetaGeoNBD, "pareto_nbd": ParetoNBD}[name]

    def logp(age):
        return pm.logp(distribution.dist(**parameters, T=age), np.stack([t_x, x], axis=1)).eval()

    return np.exp(logp(T + t) - logp(T))


@pytest.mark.parametrize("name", clv.TRANSACTION_MODELS)
def test_probability_no_purchase_equals_the_library(library_fits, name):
    """P(no purchase in (T, T + t]) on a fitted model, to 1e-6 relative: against the ratio of the library's own
    likelihood at T + t and at T (every model); BG/NBD against expected_probability_no_purchase for repeat
    customers; Pareto/NBD against expected_purchase_probability(n_purchases=0). Also 1 at t = 0, falling in t,
    and at least 1 - P(alive) (a wrong sign or a swapped T / recency breaks one of these).

    BG/NBD one-time buyers: pymc-marketing 1.3's expected_probability_no_purchase keeps the "dropped after the
    last purchase" term at x = 0 (eq. 34 of Fader & Hardie's note has it only for x > 0), so it gives them a
    higher P(no purchase) than its own likelihood and its expected_probability_alive (= 1 at x = 0) imply.
    Ours follows the likelihood: ((alpha + T) / (alpha + T + t))^r, the no-purchase chance of a customer
    certainly alive; the test pins both facts."""
    summary, models = library_fits
    model, parameters = models[name], _parameters(models[name], name)
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    for t in (4.3, 26.0, 52.0):
        ours = clv.probability_no_purchase(name, parameters, x, t_x, T, t)
        np.testing.assert_allclose(ours, _library_no_purchase_ratio(name, parameters, x, t_x, T, t), rtol=1e-6)
        if name == "bg_nbd":
            theirs = model.expected_probability_no_purchase(t, summary).values.ravel()
            repeat = x > 0
            np.testing.assert_allclose(ours[repeat], theirs[repeat], rtol=1e-6)
            r, alpha = parameters["r"], parameters["alpha"]
            np.testing.assert_allclose(ours[~repeat], ((alpha + T[~repeat]) / (alpha + T[~repeat] + t)) ** r, rtol=1e-9)
            assert (theirs[~repeat] > ours[~repeat] + 1e-3).all()
        elif name == "pareto_nbd":
            theirs = model.expected_purchase_probability(summary, n_purchases=0, future_t=t).values.ravel()
            np.testing.assert_allclose(ours, theirs, rtol=1e-6)
        assert ((ours > 0) & (ours < 1)).all()
    np.testing.assert_allclose(clv.probability_no_purchase(name, parameters, x, t_x, T, 0.0), 1.0, rtol=1e-12)
    short, long = (clv.probability_no_purchase(name, parameters, x, t_x, T, t) for t in (4.0, 40.0))
    assert (long < short).all()
    alive = clv.probability_alive(name, parameters, x, t_x, T)
    assert (long >= 1 - alive - 1e-12).all()


def test_gamma_gamma_spend_equals_the_library(library_fits):
    summary, models = library_fits
    model, parameters = models["gamma_gamma"], _parameters(models["gamma_gamma"], "gamma_gamma")
    repeaters = clv.fit_input("gamma_gamma", summary)
    np.testing.assert_allclose(clv.gamma_gamma_spend(parameters, repeaters["frequency"], repeaters["monetary_value"]),
                               model.expected_customer_spend(repeaters).values.ravel(), rtol=1e-6)
    population_mean = parameters["p"] * parameters["v"] / (parameters["q"] - 1)
    assert clv.gamma_gamma_spend(parameters, [0.0], [np.nan])[0] == pytest.approx(population_mean)


def test_fit_model_finds_the_library_estimate(library_fits, tmp_path):
    """fit_model drives the optimizer itself; it must land where the library's fit(method="map") does,
    to the optimizers' tolerance (the bounds fit_model adds change the path, not the maximum), with the
    same log-likelihood by the library's own logp. It runs beside an open DuckDB connection, as inside dbt: the fit
    process must not disturb it."""
    summary, models = library_fits
    name = "bg_nbd"
    connection = duckdb.connect(str(tmp_path / "open.duckdb"))
    connection.execute("create table t as select 1 as x")
    fit = clv.fit_model(name, summary, **FIT)
    connection.execute("insert into t values (2)")
    assert connection.execute("select sum(x) from t").fetchone() == (3,)
    connection.close()
    assert fit["verdict"] == "identified", fit["verdict_reason"]
    assert fit["converged"] and fit["n_customers"] == len(clv.fit_input(name, summary))
    library = _parameters(models[name], name)
    for k, value in library.items():
        assert fit["parameters"][k] == pytest.approx(value, rel=1e-3), k
    library_logp = models[name].model.compile_logp(jacobian=False)
    assert fit["log_likelihood"] == pytest.approx(
        library_logp({f"{k}_log__": np.log(v) for k, v in library.items()}), abs=1e-3
    )


def test_score_customers_columns_nulls_and_fallback(library_fits):
    summary, models = library_fits
    fits = [
        {"model": "bg_nbd", "parameters": json.dumps(_parameters(models["bg_nbd"], "bg_nbd")), "is_identified": True},
        {"model": "mbg_nbd", "parameters": {"r": 1, "alpha": 1, "a": 300, "b": 0.004}, "is_identified": False},
        {"model": "gamma_gamma", "parameters": None, "is_identified": False},
    ]
    scores = clv.score_customers(summary, fits, horizons=[30, 365], clv_horizon=12, annual_discount_rate=0.1,
                                 time_unit_days=7)
    assert list(scores.columns) == ["customer_id", "model", "expected_purchases_30", "expected_purchases_365",
                                    "p_alive", "expected_order_value", "clv"]
    assert scores.groupby("model").size().to_dict() == {"bg_nbd": len(summary), "mbg_nbd": len(summary)}
    bg, mbg = scores[scores["model"] == "bg_nbd"], scores[scores["model"] == "mbg_nbd"]
    assert bg[["p_alive", "clv", "expected_purchases_30"]].notna().all().all()
    assert (bg["expected_purchases_365"] > bg["expected_purchases_30"]).all()
    assert mbg[["p_alive", "clv", "expected_purchases_30"]].isna().all().all()
    repeat = summary[summary["frequency"] > 0]
    fallback = (repeat["frequency"] * repeat["monetary_value"]).sum() / repeat["frequency"].sum()
    np.testing.assert_allclose(scores["expected_order_value"], fallback)


# ---------------------------------------------------------------------------------------- degenerate data
def test_mostly_one_time_buyers_are_not_identified():
    summary = mostly_one_time_buyers(5000, repeat_share=0.03, seed=1)
    for name in ("bg_nbd", "mbg_nbd"):
        fit = clv.fit_model(name, summary, **FIT)
        assert fit["verdict"] == "parameter_at_bound" and not fit["is_identified"], fit
        assert "a = " in fit["verdict_reason"] and "[0.01, 100]" in fit["verdict_reason"]


def test_identical_constant_rate_buyers_are_not_identified():
    T = np.random.default_rng(3).uniform(20, 52, 500)
    frequency = np.floor(T / 4)
    summary = pd.DataFrame({"customer_id": np.arange(500), "frequency": frequency, "recency": 4 * frequency, "T": T,
                            "monetary_value": 50.0})
    fit = clv.fit_model("bg_nbd", summary, **FIT)
    assert fit["verdict"] == "parameter_at_bound", fit
    assert "same purchase rate" in fit["verdict_reason"]


def test_flat_likelihood_and_spend_dependence_are_reported():
    summary = simulate_bg_nbd(800, seed=5)
    flat = clv.fit_model("bg_nbd", summary, **{**FIT, "max_log_se": 0.01})
    assert flat["verdict"] == "not_identified" and "standard error of log(" in flat["verdict_reason"]
    dependent = summary.assign(monetary_value=np.where(summary["frequency"] > 0, 10 + 5 * summary["frequency"], 0.0)
                               * np.random.default_rng(0).gamma(20, 1 / 20, len(summary)))
    fit = clv.fit_model("gamma_gamma", dependent, **FIT)
    assert fit["verdict"] == "gamma_gamma_dependence", fit
    assert "corr(frequency, monetary_value)" in fit["verdict_reason"]


@pytest.mark.parametrize("case, names, verdict, words", [
    ("empty", clv.MODEL_PARAMETERS, "no_data", "no customers"),
    ("one_customer", ["bg_nbd", "pareto_nbd"], "too_few_repeat_customers", "1 repeat customers of 1"),
    ("no_repeat_buyers", ["bg_nbd", "mbg_nbd"], "too_few_repeat_customers", "0 repeat customers of 500"),
    ("all_on_one_day", ["bg_nbd", "pareto_nbd"], "no_data", "first purchase on the analysis date"),
    ("zero_value_purchases", ["gamma_gamma"], "no_data", "positive value"),
])
def test_bad_input_gives_a_verdict_not_an_exception(case, names, verdict, words):
    rng = np.random.default_rng(0)
    frequency = rng.integers(1, 4, 500).astype(float)
    summary = {
        "empty": pd.DataFrame({"customer_id": [], "frequency": [], "recency": [], "T": [], "monetary_value": []}),
        "one_customer": pd.DataFrame({"customer_id": ["c1"], "frequency": [2.0], "recency": [10.0], "T": [20.0],
                                      "monetary_value": [30.0]}),
        "no_repeat_buyers": pd.DataFrame({"customer_id": range(500), "frequency": 0.0, "recency": 0.0,
                                          "T": rng.uniform(1, 50, 500), "monetary_value": np.nan}),
        "all_on_one_day": pd.DataFrame({"customer_id": range(500), "frequency": 0.0, "recency": 0.0, "T": 0.0,
                                        "monetary_value": 0.0}),
        "zero_value_purchases": pd.DataFrame({"customer_id": range(500), "frequency": frequency, "recency": frequency,
                                              "T": 20.0, "monetary_value": 0.0}),
    }[case]
    fits = [clv.fit_model(name, summary, **FIT) for name in names]
    for fit in fits:
        assert fit["verdict"] == verdict and fit["parameters"] is None and not fit["is_identified"], fit
        assert words in fit["verdict_reason"]
    scores = clv.score_customers(
        summary, fits, horizons=[30], clv_horizon=3, annual_discount_rate=0.1, time_unit_days=1
    )
    assert scores["p_alive"].isna().all()


# ---------------------------------------------------------------------------------------- time limit, sample, config
def test_time_limit_stops_the_fit():
    summary = simulate_bg_nbd(800, seed=5)
    started = time.monotonic()
    fit = clv.fit_model("pareto_nbd", summary, **{**FIT, "time_limit_seconds": 0.5, "sample_size": 300})
    assert time.monotonic() - started < 0.5 + 5
    assert fit["verdict"] == "timed_out" and fit["parameters"] is None and "0.5 s limit" in fit["verdict_reason"]
    assert fit["n_customers"] == 300


def test_fit_models_gives_the_rows_of_fits_one_after_another():
    """fit_models runs the fits concurrently (and Pareto/NBD first): the rows must be fit_model's, in names' order,
    to the last bit, whatever order they finished in."""
    summary = simulate_bg_nbd(500, seed=7)
    names = ["gamma_gamma", "bg_nbd", "pareto_nbd"]
    together = clv.fit_models(names, summary, **FIT)
    alone = [clv.fit_model(name, summary, **FIT) for name in names]
    assert [fit["model"] for fit in together] == names
    for fit, expected in zip(together, alone):
        assert fit["parameters"] is not None, fit
        assert {k: v for k, v in fit.items() if k != "fit_seconds"} == {
            k: v for k, v in expected.items() if k != "fit_seconds"}


def test_time_limit_stops_concurrent_fits():
    summary = simulate_bg_nbd(800, seed=5)
    fits = clv.fit_models(["bg_nbd", "pareto_nbd"], summary, **{**FIT, "time_limit_seconds": 0.5, "sample_size": 300})
    assert [fit["model"] for fit in fits] == ["bg_nbd", "pareto_nbd"]
    pareto = fits[1]
    assert pareto["verdict"] == "timed_out" and pareto["parameters"] is None
    assert "0.5 s limit" in pareto["verdict_reason"]


def test_forkserver_preload_modules_import():
    """multiprocessing's fork server skips a preload module that fails to import, silently: a misspelt name or a
    broken warm-up would only show as slower fits."""
    import importlib

    for module in clv.FORKSERVER_PRELOAD:
        importlib.import_module(module)


def test_sample_is_fixed_and_independent_of_row_order():
    summary = simulate_bg_nbd(3000, seed=5)
    sample = clv.sample_customers(summary, 1000, random_seed=42)
    shuffled = clv.sample_customers(summary.sample(frac=1, random_state=1), 1000, random_seed=42)
    assert len(sample) == 1000 and set(sample["customer_id"]) == set(shuffled["customer_id"])
    assert set(clv.sample_customers(summary, 1000, random_seed=7)["customer_id"]) != set(sample["customer_id"])
    assert clv.sample_customers(summary, 5000, random_seed=42) is summary


def test_import_does_not_load_pymc_marketing():
    """dbt imports customer_segmentation.ml for every Python model; pymc-marketing (~3 s) only loads for CLV work."""
    code = ("import sys; from customer_segmentation import ml;"
            " assert 'pymc_marketing' not in sys.modules and 'pymc' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_scoring_without_the_library_in_the_process_gives_the_library_result(library_fits, tmp_path):
    """dbt's process scores the Pareto/NBD without importing pymc-marketing (its log-likelihood is computed in a
    child of the fork server): the scores it gets are the ones the library's own methods give, and the library is
    still not imported in that process afterwards."""
    summary, models = library_fits
    summary.to_pickle(tmp_path / "summary.pkl")
    fit = {"model": "pareto_nbd", "is_identified": True, "parameters": _parameters(models["pareto_nbd"], "pareto_nbd")}
    code = (
        "import json, sys; import pandas as pd; from customer_segmentation.ml import clv\n"
        "folder = sys.argv[1]\n"
        "scores = clv.score_customers(pd.read_pickle(folder + '/summary.pkl'), [json.loads(sys.argv[2])],"
        " horizons=[30], clv_horizon=3, annual_discount_rate=0.1, time_unit_days=7)\n"
        "assert 'pymc_marketing' not in sys.modules and 'pymc' not in sys.modules, 'the library was imported'\n"
        "scores.to_pickle(folder + '/scores.pkl')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path), json.dumps(fit)], cwd=ROOT, check=True, timeout=300)
    scores = pd.read_pickle(tmp_path / "scores.pkl")
    model = models["pareto_nbd"]
    np.testing.assert_allclose(scores["expected_purchases_30"], model.expected_purchases(summary, future_t=30 / 7)
                               .values.ravel(), rtol=1e-6)
    np.testing.assert_allclose(scores["p_alive"], model.expected_probability_alive(summary).values.ravel(), rtol=1e-6)


def test_pareto_log_likelihood_in_a_child_equals_it_in_process(monkeypatch):
    """The child's result is the in-process compiled function's, bit for bit, also when the customers go over in
    several chunks; an empty input gives an empty result; the library's error in the child is raised here."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 8, 2_500).astype(float)
    T = rng.uniform(1, 60, 2_500)
    t_x = np.where(x > 0, rng.uniform(0, 1, 2_500) * T, 0.0)
    r_alpha_s_beta = (0.55, 10.6, 0.61, 11.7)
    local = clv._pareto_log_likelihood_function()(*r_alpha_s_beta, x, t_x, T)
    monkeypatch.setattr(clv, "SCORE_CHUNK_ROWS", 700)
    np.testing.assert_array_equal(clv._pareto_log_likelihood_in_child(r_alpha_s_beta, x, t_x, T), local)
    assert clv._pareto_log_likelihood_in_child(r_alpha_s_beta, x[:0], t_x[:0], T[:0]).shape == (0,)
    with pytest.raises(RuntimeError, match=r"log-likelihood failed in its process(.|\n)*r > 0"):
        clv._pareto_log_likelihood_in_child((-1.0, *r_alpha_s_beta[1:]), x, t_x, T)


def test_config_parses_dbt_strings_and_names_a_missing_key():
    rendered = {"time_limit_seconds": "600", "min_repeat_customers": "100", "shape_parameter_range": "[0.01, 100]",
                "max_log_se": "1.0", "gamma_gamma_max_abs_correlation": "0.3", "sample_size": "None",
                "random_seed": "42", "horizons": "30, 90, 365", "clv_horizon": "12", "annual_discount_rate": "0.1",
                "time_unit_days": "1"}
    config = ClvConfig.from_dict(rendered)
    assert config.shape_parameter_range == (0.01, 100.0) and config.horizons == (30, 90, 365)
    assert config.sample_size is None and config.fit_arguments()["min_repeat_customers"] == 100
    with pytest.raises(ValueError, match="max_log_se"):
        ClvConfig.from_dict({k: v for k, v in rendered.items() if k != "max_log_se"})
