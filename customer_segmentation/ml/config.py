"""The typed settings of the dbt Python models, one frozen dataclass per model family, built once per model run.

Every setting comes from the model's dbt config (the YAML `config:` of the model, rendered from the vars of
dbt_project.yml). There are no defaults on the Python side: a setting missing from the config, or one that does not
parse, raises a ConfigError naming the config key and the var it is rendered from. A var may be null only where
the setting is optional (`nullable`), e.g. var kmeans_fixed_k: null lets the silhouette choose k.

dbt hands a Python model only the config keys its file reads with literal dbt.config.get("key") calls (they are
found by parsing the file), so each model file reads every key of its family itself and hands them over:

    config = ml.ClusterConfig.from_config({"random_seed": dbt.config.get("random_seed"), ...})

dbt renders a YAML config as a number, None (a null var) or a string ("2,10", "true", "null") depending on the
expression; the parsers below convert each value once. Families whose settings are one JSON object (clv_settings,
churn_btyd_settings) take that object: ClvSettings.from_config(dbt.config.get("clv_settings")).
"""
from __future__ import annotations

import ast
import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A setting of a dbt Python model is missing or invalid; the message names the config key and its var."""


# ---------------------------------------------------------------------------------------- parsing
def is_blank(value) -> bool:
    """None, NaN, an empty string, or what dbt renders for a null var ("None", "null")."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in ("", "none", "null")


def as_str(value) -> str | None:
    return None if is_blank(value) else str(value).strip()


def as_int(value) -> int | None:
    return None if is_blank(value) else int(float(value))


def as_float(value) -> float | None:
    return None if is_blank(value) else float(value)


def as_bool(value) -> bool | None:
    if is_blank(value):
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise ValueError(f"not a boolean: {value!r}")
    return bool(value)


def as_list(value) -> list | None:
    """A list from a list, a JSON/Python literal string ("[2, 10]"), or a comma-separated string ("2,10" -> [2, 10])."""
    if is_blank(value):
        return None
    if isinstance(value, (list, tuple)):
        return list(value)
    text = str(value).strip()
    for parse in (json.loads, ast.literal_eval):
        try:
            parsed = parse(text)
        except (ValueError, SyntaxError):
            continue
        if isinstance(parsed, (list, tuple)):
            return list(parsed)
    return [part.strip() for part in text.strip("[]").split(",") if part.strip()]


def _strings(value) -> tuple[str, ...] | None:
    items = as_list(value)
    return None if items is None else tuple(str(item) for item in items)


def _ints(value) -> tuple[int, ...] | None:
    items = as_list(value)
    return None if items is None else tuple(int(float(item)) for item in items)


def _positive_int(value) -> int | None:
    """A size cap: a positive integer, or None (null, or <= 0 in the config: no cap)."""
    number = as_int(value)
    return number if number is not None and number > 0 else None


def setting(parse: Callable[[Any], Any], var: str | None, nullable: bool = False):
    """A field of a config dataclass: its parser, the var it is rendered from (for the error messages; None for a
    setting written in the model's YAML config itself) and whether null is a valid value."""
    return field(metadata={"parse": parse, "var": var, "nullable": nullable})


def _source(key: str, var: str | None) -> str:
    return f"config {key!r} (var {var})" if var else f"config {key!r}"


class _FromConfig:
    """from_config for a dataclass whose fields are `setting(...)`s: every field read from the mapping, parsed once."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]):
        values, problems = {}, []
        for spec in dataclasses.fields(cls):
            parse, var, nullable = spec.metadata["parse"], spec.metadata["var"], spec.metadata["nullable"]
            where = _source(spec.name, var)
            if spec.name not in config:
                problems.append(f"{where} is missing from the model config")
                continue
            try:
                values[spec.name] = parse(config[spec.name])
            except (TypeError, ValueError, SyntaxError) as exc:
                problems.append(f"{where} = {config[spec.name]!r} is invalid: {exc}")
                continue
            if values[spec.name] is None and not nullable:
                # dbt renders a null var as None, and dbt.config.get gives None for a key the config lacks
                problems.append(f"{where} is null or missing from the model config; it must be set")
        if problems:
            raise ConfigError(f"{cls.__name__}: " + "; ".join(problems))
        return cls(**values)


# ---------------------------------------------------------------------------------------- families
@dataclass(frozen=True)
class ClusterConfig(_FromConfig):
    """cluster_selection and customer_clusters (the same config, so the refit reproduces the selection)."""

    random_seed: int = setting(as_int, "random_seed")
    k_range: tuple[int, ...] = setting(_ints, "kmeans_k_range")  # inclusive (low, high)
    fixed_k: int | None = setting(as_int, "kmeans_fixed_k", nullable=True)  # None: best silhouette
    silhouette_sample_size: int = setting(as_int, "kmeans_silhouette_sample_size")
    minibatch_threshold: int = setting(as_int, "kmeans_minibatch_threshold")
    n_init: int = setting(as_int, "kmeans_n_init")
    fit_sample_size: int | None = setting(_positive_int, "kmeans_fit_sample_size", nullable=True)  # None: all
    cluster_features: tuple[str, ...] = setting(_strings, None)  # names in features.CLUSTER_FEATURE_CATALOGUE

    def __post_init__(self):
        if len(self.k_range) != 2 or self.k_range[0] > self.k_range[1]:
            raise ConfigError(f"ClusterConfig: {_source('k_range', 'kmeans_k_range')} must be [low, high], "
                              f"got {list(self.k_range)}")

    @property
    def k_values(self) -> list[int]:
        low, high = self.k_range
        return list(range(low, high + 1))

    def fit_arguments(self) -> dict[str, Any]:
        """Keyword arguments of clustering.fit_clusters."""
        return {
            "seed": self.random_seed,
            "minibatch_threshold": self.minibatch_threshold,
            "n_init": self.n_init,
            "fit_sample_size": self.fit_sample_size,
        }

    def selection_arguments(self) -> dict[str, Any]:
        """Keyword arguments of clustering.cluster_selection (its candidates are k_values)."""
        return {
            **self.fit_arguments(),
            "silhouette_sample_size": self.silhouette_sample_size,
            "fixed_k": self.fixed_k,
        }


@dataclass(frozen=True)
class RepeatConfig(_FromConfig):
    """repeat_model_metrics and customer_repeat_scores (one config: the scores come from the model the metrics
    backtest)."""

    random_seed: int = setting(as_int, "random_seed")
    repeat_horizon_days: int = setting(as_int, "repeat_horizon_days")
    test_share: float = setting(as_float, "repeat_test_share")
    test_cutoff_date: str | None = setting(as_str, "repeat_test_cutoff_date", nullable=True)  # None: test_share
    train_embargo: bool = setting(as_bool, "repeat_train_embargo")
    baseline_feature: str | None = setting(as_str, "repeat_baseline_feature", nullable=True)  # None: best-separating
    bootstrap_samples: int = setting(as_int, "repeat_bootstrap_samples")
    train_sample_size: int | None = setting(_positive_int, "repeat_train_sample_size", nullable=True)
    bootstrap_sample_size: int | None = setting(_positive_int, "repeat_bootstrap_sample_size", nullable=True)
    numeric_features: tuple[str, ...] = setting(_strings, None)
    categorical_features: tuple[str, ...] = setting(_strings, None)

    def split_arguments(self) -> dict[str, Any]:
        """Keyword arguments of repeat_model.time_split (besides the data)."""
        return {
            "horizon_days": self.repeat_horizon_days,
            "test_share": self.test_share,
            "cutoff": self.test_cutoff_date,
            "embargo": self.train_embargo,
        }

    def scores_arguments(self) -> dict[str, Any]:
        """Keyword arguments of repeat_model.repeat_scores (besides the data)."""
        return {
            "horizon_days": self.repeat_horizon_days,
            "seed": self.random_seed,
            "numeric": list(self.numeric_features),
            "categorical": list(self.categorical_features),
            "train_sample_size": self.train_sample_size,
        }

    def metrics_arguments(self) -> dict[str, Any]:
        """Keyword arguments of repeat_model.repeat_model_metrics (besides the data): the scores' recipe on the
        time split."""
        return {
            **self.scores_arguments(),
            **self.split_arguments(),
            "baseline_feature": self.baseline_feature,
            "n_bootstrap": self.bootstrap_samples,
            "bootstrap_sample_size": self.bootstrap_sample_size,
        }


def _json_object(value, key: str) -> dict:
    """A config rendered as one JSON object ({{ tojson({...}) }}): dbt hands it over as a string, or as a dict."""
    if value is None:
        raise ConfigError(f"config {key!r} is missing from the model config")
    try:
        values = json.loads(value) if isinstance(value, str) else dict(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config {key!r} is not a JSON object: {exc}") from exc
    if not isinstance(values, dict):
        raise ConfigError(f"config {key!r} is not a JSON object: {value!r}")
    return values


@dataclass(frozen=True)
class ClvConfig:
    """Every threshold of fitting and scoring. No defaults here: the project keeps them in
    dbt_project.yml vars only, so a forgotten var fails loudly instead of silently using a second default.
    """

    time_limit_seconds: float  # per model fit, wall clock
    min_repeat_customers: int
    shape_parameter_range: tuple[float, float]  # inclusive bounds of r, a, b, s, p, q
    max_log_se: float  # largest standard error of a log-parameter still called identified
    gamma_gamma_max_abs_correlation: float
    sample_size: int | None  # fit on at most this many customers; None (or <= 0 in the config): all
    random_seed: int
    horizons: tuple[int, ...]  # days ahead of each expected_purchases_<h> column
    clv_horizon: int  # months of the clv sum
    annual_discount_rate: float
    time_unit_days: float  # length in days of the unit of recency and T (1: days, 7: weeks)

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> ClvConfig:
        """From a dbt model config, whose values may arrive as strings, numbers or lists.

        sample_size may be null (no sample). Any other missing key raises a ValueError naming it.
        """
        missing = [name for name in cls.__dataclass_fields__ if name not in config]
        if missing:
            raise ConfigError(f"CLV config is missing key(s): {', '.join(missing)}")

        def required(name: str, parse: Callable[[Any], Any]) -> Any:
            value = parse(config[name])
            if value is None:
                raise ConfigError(f"CLV config key {name} is empty")
            return value

        low, high = (float(v) for v in required("shape_parameter_range", as_list))
        sample_size = as_int(config["sample_size"])
        return cls(
            time_limit_seconds=required("time_limit_seconds", as_float),
            min_repeat_customers=required("min_repeat_customers", as_int),
            shape_parameter_range=(low, high),
            max_log_se=required("max_log_se", as_float),
            gamma_gamma_max_abs_correlation=required("gamma_gamma_max_abs_correlation", as_float),
            sample_size=sample_size if sample_size and sample_size > 0 else None,
            random_seed=required("random_seed", as_int),
            horizons=tuple(int(float(h)) for h in required("horizons", as_list)),
            clv_horizon=required("clv_horizon", as_int),
            annual_discount_rate=required("annual_discount_rate", as_float),
            time_unit_days=required("time_unit_days", as_float),
        )

    def fit_arguments(self) -> dict[str, Any]:
        """Keyword arguments of fit_model."""
        return {
            "time_limit_seconds": self.time_limit_seconds,
            "min_repeat_customers": self.min_repeat_customers,
            "shape_parameter_range": self.shape_parameter_range,
            "max_log_se": self.max_log_se,
            "gamma_gamma_max_abs_correlation": self.gamma_gamma_max_abs_correlation,
            "sample_size": self.sample_size,
            "random_seed": self.random_seed,
        }

    def score_arguments(self) -> dict[str, Any]:
        """Keyword arguments of score_customers."""
        return {
            "horizons": self.horizons,
            "clv_horizon": self.clv_horizon,
            "annual_discount_rate": self.annual_discount_rate,
            "time_unit_days": self.time_unit_days,
        }


@dataclass(frozen=True)
class ClvSettings:
    """The CLV Python models' clv_* vars (config clv_settings): the statistics' ClvConfig plus the tables' own
    settings."""

    clv: ClvConfig
    empirical_min_customers: int

    @classmethod
    def from_config(cls, settings) -> ClvSettings:
        values = _json_object(settings, "clv_settings")
        if as_int(values.get("empirical_min_customers")) is None:
            raise ConfigError("clv_settings: key empirical_min_customers (var clv_empirical_min_customers) is missing")
        return cls(ClvConfig.from_dict(values), as_int(values["empirical_min_customers"]))


@dataclass(frozen=True)
class ChurnBtydConfig:
    """The BTYD churn models (config churn_btyd_settings): the horizon and the time unit of the fits."""

    horizon_days: float
    time_unit_days: float

    @classmethod
    def from_config(cls, settings) -> ChurnBtydConfig:
        values = _json_object(settings, "churn_btyd_settings")
        vars_ = {"horizon_days": "churn_horizon_days", "time_unit_days": "clv_time_unit_days"}
        missing = [f"{key} (var {var})" for key, var in vars_.items() if as_float(values.get(key)) is None]
        if missing:
            raise ConfigError(f"churn_btyd_settings: missing key(s) {', '.join(missing)}")
        return cls(**{key: as_float(values[key]) for key in vars_})
