"""Customer feature matrix for KMeans: transform, impute + flag, standardize, one-hot the region.

Input: one row per customer as in the ml_customer_features model (customer_unique_id, recency_days,
frequency, monetary, mean_review_score, mean_delivery_days, mean_installments, boleto_share,
credit_card_share, customer_region).

Output of ClusterFeatureEncoder.transform: a float DataFrame with, in this order,
- every numeric feature, transformed (log1p where listed), missing values replaced by the fitted
  median, then z-scored with the fitted mean and standard deviation;
- `<feature>_missing` (0/1) for every numeric feature: imputed rows are flagged, never dropped;
- `region_<value>` (0/1) one column per region seen at fit (or passed in `regions`), and
  `region_unknown` (0/1) for a missing region or one not seen at fit. One-hot, never label-encoded.
Indicator columns stay 0/1 instead of being z-scored: z-scoring a 5 % category would blow it up to
about 4.4 standard units and let rare regions dominate the Euclidean distance.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# every feature the encoder knows: name -> (input column, transform applied before imputation and scaling). Which
# of them the KMeans uses is the model config cluster_features (_ml__models.yml), not a list kept here.
CLUSTER_FEATURE_CATALOGUE: dict[str, tuple[str, str | None]] = {
    "log_recency": ("recency_days", "log1p"),
    "log_frequency": ("frequency", "log1p"),
    "log_monetary": ("monetary", "log1p"),
    "mean_review_score": ("mean_review_score", None),
    "mean_delivery_days": ("mean_delivery_days", None),
    "mean_installments": ("mean_installments", None),
    "boleto_share": ("boleto_share", None),
    "credit_card_share": ("credit_card_share", None),
}
REGION_COLUMN = "customer_region"


def _slug(value: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(value).strip().lower()).strip("_") or "blank"


def category_codes(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Position of str(value) in categories for every row; -1 when missing or not a category.

    Factorizes the column once and looks up only its distinct values (no Python loop over rows).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = pd.Index(list(categories), dtype=object).get_indexer([str(u) for u in uniques])
    # a trailing -1 so that the missing-value code -1 maps to -1
    return np.append(lookup, -1).astype(np.int64)[codes]


def raw_feature_values(df: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The numeric features after their transform, before imputation (NaN where missing)."""
    out = {}
    for name in features:
        if name not in CLUSTER_FEATURE_CATALOGUE:
            raise ValueError(f"unknown cluster feature {name!r}; known: {sorted(CLUSTER_FEATURE_CATALOGUE)}")
        column, transform = CLUSTER_FEATURE_CATALOGUE[name]
        values = pd.to_numeric(df[column], errors="coerce").astype("float64").to_numpy(copy=True)
        if transform == "log1p":
            values = np.log1p(np.clip(values, 0, None))
        out[name] = values
    return pd.DataFrame(out, index=df.index)


@dataclass
class ClusterFeatureEncoder:
    """Fit on one customer table, transform any other with the same columns (deterministic)."""

    features: list[str]  # names in CLUSTER_FEATURE_CATALOGUE (config cluster_features)
    regions: list[str] | None = None  # fixed category list; None = learn the sorted distinct values
    medians_: dict[str, float] = field(default_factory=dict, init=False)
    means_: dict[str, float] = field(default_factory=dict, init=False)
    stds_: dict[str, float] = field(default_factory=dict, init=False)
    regions_: list[str] = field(default_factory=list, init=False)

    def fit(self, df: pd.DataFrame) -> ClusterFeatureEncoder:
        raw = raw_feature_values(df, self.features)
        for name in self.features:
            col = raw[name]
            median = col.median()
            median = 0.0 if pd.isna(median) else float(median)  # an all-missing column imputes to 0
            filled = col.fillna(median)
            std = float(filled.std(ddof=0))
            self.medians_[name] = median
            self.means_[name] = float(filled.mean())
            self.stds_[name] = std if std > 0 else 1.0
        if self.regions is not None:
            self.regions_ = list(dict.fromkeys(str(r) for r in self.regions))
        else:
            self.regions_ = sorted(str(r) for r in df[REGION_COLUMN].dropna().unique())
        return self

    @property
    def columns(self) -> list[str]:
        return (
            list(self.features)
            + [f"{name}_missing" for name in self.features]
            + [f"region_{_slug(r)}" for r in self.regions_]
            + ["region_unknown"]
        )

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(self.transform_array(df), index=df.index, columns=self.columns)

    def transform_array(self, df: pd.DataFrame, dtype=np.float64) -> np.ndarray:
        """The encoded matrix (rows of df, columns in self.columns order) written into one array.

        Same values as transform() (float64), without the intermediate frames: at millions of customers
        each extra copy of the matrix costs 1-2 GB. dtype=np.float32 halves the storage (callers upcast
        the rows they compute on).
        """
        if not self.means_:
            raise RuntimeError("ClusterFeatureEncoder.transform called before fit")
        n, p = len(df), len(self.features)
        out = np.empty((n, len(self.columns)), dtype=dtype)
        for j, name in enumerate(self.features):
            column, transform = CLUSTER_FEATURE_CATALOGUE[name]
            col = pd.to_numeric(df[column], errors="coerce").astype("float64").to_numpy()
            if transform == "log1p":
                col = np.log1p(np.clip(col, 0, None))
            missing = np.isnan(col)
            filled = np.where(missing, self.medians_[name], col)
            out[:, j] = (filled - self.means_[name]) / self.stds_[name]
            out[:, p + j] = missing
        # region: one vectorized category lookup (-1 = missing or not a known region -> region_unknown)
        codes = category_codes(df[REGION_COLUMN], self.regions_)
        for i in range(len(self.regions_)):
            out[:, 2 * p + i] = codes == i
        out[:, 2 * p + len(self.regions_)] = codes < 0
        return out

    def fit_transform(self, df: pd.DataFrame) -> pd.DataFrame:
        return self.fit(df).transform(df)
