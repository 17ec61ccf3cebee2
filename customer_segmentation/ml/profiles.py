"""Per-cluster profiles in original units, dominant labels, and generated human-readable names."""
from __future__ import annotations

import numpy as np
import pandas as pd

from customer_segmentation.ml.features import REGION_COLUMN

# profile column -> input column of ml_customer_features (means in original units, missing ignored)
PROFILE_MEANS = {
    "mean_recency_days": "recency_days",
    "mean_frequency": "frequency",
    "mean_monetary": "monetary",
    "mean_review_score": "mean_review_score",
    "mean_delivery_days": "mean_delivery_days",
    "mean_installments": "mean_installments",
    "mean_boleto_share": "boleto_share",
    "mean_credit_card_share": "credit_card_share",
}

# a trait names the cluster when its mean is at least this many population standard deviations away
TRAIT_Z = 0.5
# recency / value words need this many standard deviations (of the log) from the population mean
LEVEL_Z = 0.35

TRAITS = {
    # column: (phrase when high, phrase when low)
    "mean_review_score": ("with high review scores", "with low review scores"),
    "mean_delivery_days": ("with slow deliveries", "with fast deliveries"),
    "mean_installments": ("on long installment plans", "paying in few installments"),
    "boleto_share": ("paying by boleto", None),
    "credit_card_share": ("paying by credit card", None),
}


def _cluster_codes(labels) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct cluster ids, index of each row's cluster among them) - np.unique without the
    O(n log n) sort when the ids are small non-negative integers (they are: 0..k-1)."""
    labels = np.asarray(labels)
    if labels.dtype.kind in "iu" and len(labels) and labels.min() >= 0 and labels.max() < 1_000_000:
        present = np.bincount(labels) > 0
        ids = np.flatnonzero(present)
        lookup = np.cumsum(present) - 1
        return ids.astype(labels.dtype), lookup[labels]
    return np.unique(labels, return_inverse=True)


def _factorize_sorted(values) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 = missing) and the distinct values in alphabetical order, for plain, Arrow
    string or categorical columns alike (a categorical's own category order is ignored)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    order = np.argsort(np.array([str(u) for u in uniques], dtype=object), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return np.append(rank, -1)[codes], uniques[order]


def _dominant(values: pd.Series, clusters: pd.Series, prefix: str) -> pd.DataFrame:
    """Most frequent non-null value per cluster (ties: alphabetical) and its share of the cluster.

    Counted on integer codes (the column is factorized once, codes in alphabetical order) with one
    bincount: no groupby on strings, which costs tens of seconds at millions of customers.
    """
    cluster_ids, cluster_codes = _cluster_codes(clusters)
    codes, uniques = _factorize_sorted(values)
    k, m = len(cluster_ids), len(uniques)
    sizes = np.bincount(cluster_codes, minlength=k)
    present = codes >= 0
    counts = np.bincount(cluster_codes[present] * m + codes[present], minlength=k * m).reshape(k, m)
    return _dominant_of_counts(cluster_ids, sizes, counts, uniques, prefix)


def dominant_of_label_counts(
    label_counts: pd.DataFrame, cluster_ids: np.ndarray, sizes: np.ndarray, prefix: str
) -> pd.DataFrame:
    """_dominant from counts already made (e.g. by DuckDB, pipeline.label_counts): label_counts has one row per
    cluster and non-null value (columns cluster, value, n); cluster_ids and sizes are those of every clustered
    customer (a customer without a value counts in the size, as in _dominant)."""
    uniques = np.array(sorted({str(v) for v in label_counts["value"]}), dtype=object)
    k, m = len(cluster_ids), len(uniques)
    counts = np.zeros((k, m), dtype=np.int64)
    if m:
        rows = np.searchsorted(cluster_ids, label_counts["cluster"].to_numpy())
        columns = np.searchsorted(uniques, label_counts["value"].astype(str).to_numpy())
        np.add.at(counts, (rows, columns), label_counts["n"].to_numpy(dtype=np.int64))
    return _dominant_of_counts(cluster_ids, sizes, counts, uniques, prefix)


def _dominant_of_counts(
    cluster_ids: np.ndarray, sizes: np.ndarray, counts: np.ndarray, uniques: np.ndarray, prefix: str
) -> pd.DataFrame:
    """counts: clusters x values (values in alphabetical order); sizes: customers per cluster."""
    k, m = counts.shape
    out = pd.DataFrame(index=pd.Index(cluster_ids, name="cluster"))
    if m == 0:
        out[prefix] = pd.Series([None] * k, index=out.index, dtype=object)
        out[f"{prefix}_share"] = np.nan
        return out
    best = counts.argmax(axis=1)  # the first maximum = the alphabetically smallest among tied values
    best_n = counts[np.arange(k), best]
    out[prefix] = np.where(best_n > 0, uniques[best], None)
    out[f"{prefix}_share"] = np.where(best_n > 0, best_n / np.maximum(sizes, 1), np.nan).astype("float64")
    return out


def _level(z: float, high: str, low: str) -> str:
    """high / low when the cluster stands out, else nothing (an average level is not worth a word)."""
    if np.isnan(z):
        return ""
    return high if z >= LEVEL_Z else low if z <= -LEVEL_Z else ""


def name_clusters(customers: pd.DataFrame, labels: np.ndarray) -> dict[int, str]:
    """A readable, unique name per cluster, e.g. 'recent high-value multi-buyers paying by boleto'.

    customers: ml_customer_features rows aligned with labels. Words come from how far the cluster mean
    lies from the population mean, in population standard deviations (log scale for recency and
    monetary): recent/lapsed, high-/low-value, multi-buyers when most of the cluster bought twice or
    more, then the most distinctive other trait (|z| >= TRAIT_Z), region included.
    """
    labels = np.asarray(labels)
    cluster_ids, cluster_codes = _cluster_codes(labels)
    k = len(cluster_ids)

    def numeric(values) -> np.ndarray:
        return pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()

    def z_scores(values: np.ndarray) -> np.ndarray:
        """Per cluster: (cluster mean - population mean) / population std (ddof 0), missing ignored."""
        present = ~np.isnan(values)
        if not present.any():
            return np.full(k, np.nan)
        std = values[present].std()
        if not std or np.isnan(std):
            return np.full(k, np.nan)
        sums = np.bincount(cluster_codes[present], weights=values[present], minlength=k)
        counts = np.bincount(cluster_codes[present], minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / counts
        return (means - values[present].mean()) / std

    z_recency = z_scores(np.log1p(np.clip(numeric(customers["recency_days"]), 0, None)))
    z_value = z_scores(np.log1p(np.clip(numeric(customers["monetary"]), 0, None)))
    sizes = np.bincount(cluster_codes, minlength=k)
    multi = np.bincount(cluster_codes, weights=(numeric(customers["frequency"]) >= 2), minlength=k) / sizes
    trait_z = {column: z_scores(numeric(customers[column])) for column in TRAITS}
    region_codes, region_values = _factorize_sorted(customers[REGION_COLUMN])
    r = len(region_values)
    present = region_codes >= 0
    region_counts = np.bincount(cluster_codes[present] * r + region_codes[present], minlength=k * r).reshape(k, r)
    population_counts = np.bincount(region_codes[present], minlength=r)

    names: dict[int, list[str]] = {}
    for i, cluster in enumerate(cluster_ids):
        recency = _level(-z_recency[i], "recent", "lapsed")
        value = _level(z_value[i], "high-value", "low-value")
        buyers = "multi-buyers" if multi[i] >= 0.5 else "one-time buyers"
        traits = []
        for column, (high, low) in TRAITS.items():
            score = trait_z[column][i]
            if np.isnan(score) or abs(score) < TRAIT_Z:
                continue
            phrase = high if score > 0 else low
            if phrase:
                traits.append((abs(score), phrase))
        known = region_counts[i].sum()
        if r and known:
            top = int(region_counts[i].argmax())  # ties: alphabetical
            top_region, top_share = str(region_values[top]), region_counts[i, top] / known
            population_share = population_counts[top] / len(labels)
            if top_share >= 0.8 and population_share <= 0.6:
                # express the concentration on the same footing as the numeric traits
                traits.append((max(TRAIT_Z, (top_share - population_share) / 0.2), f"in the {top_region}"))
        traits.sort(key=lambda t: (-t[0], t[1]))
        base = " ".join(word for word in (recency, value, buyers) if word)
        names[int(cluster)] = [base] + [t[1] for t in traits]

    # the base name plus as many traits as needed to tell clusters apart
    level = {cluster: min(1, len(parts) - 1) for cluster, parts in names.items()}

    def render(cluster: int) -> str:
        parts = names[cluster]
        traits = parts[1 : 1 + level[cluster]]
        return parts[0] + (" " + " and ".join(traits) if traits else "")

    while True:
        groups: dict[str, list[int]] = {}
        for cluster in names:
            groups.setdefault(render(cluster), []).append(cluster)
        grow = [
            c for group in groups.values() if len(group) > 1
            for c in group if level[c] < len(names[c]) - 1
        ]
        if not grow:
            break
        for cluster in grow:
            level[cluster] += 1
    result: dict[int, str] = {}
    taken: set[str] = set()
    for cluster in sorted(names):
        name = render(cluster)
        if name in taken:
            name = f"{name} (cluster {cluster})"
        taken.add(name)
        result[cluster] = name
    return result


def cluster_profiles(
    customers: pd.DataFrame,
    clusters: pd.DataFrame,
    rfm: pd.DataFrame | None = None,
    abc_xyz: pd.DataFrame | None = None,
    churn: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per cluster: size, share, means in original units, dominant labels, generated name.

    customers: ml_customer_features; clusters: customer_clusters (customer_unique_id, cluster,
    distance_to_centroid); rfm: customer_rfm (rfm_segment); abc_xyz: customer_abc_xyz (segment); churn:
    customer_churn (churn_risk). Joined on customer_unique_id; customers absent from rfm/abc_xyz/churn count as
    unknown.
    """
    frame = clusters.merge(customers, on="customer_unique_id", how="left", validate="one_to_one")
    if churn is not None:
        frame = frame.merge(
            churn[["customer_unique_id", "churn_risk"]], on="customer_unique_id", how="left", validate="one_to_one"
        )
    if rfm is not None:
        frame = frame.merge(
            rfm[["customer_unique_id", "rfm_segment"]], on="customer_unique_id", how="left", validate="one_to_one"
        )
    if abc_xyz is not None:
        frame = frame.merge(
            abc_xyz[["customer_unique_id", "segment"]].rename(columns={"segment": "abc_xyz_segment"}),
            on="customer_unique_id", how="left", validate="one_to_one",
        )
    frame = frame.sort_values("customer_unique_id", kind="stable").reset_index(drop=True)
    return profiles_from_frame(
        frame, with_rfm=rfm is not None, with_abc_xyz=abc_xyz is not None, with_churn=churn is not None
    )


def profiles_from_frame(
    frame: pd.DataFrame,
    *,
    with_rfm: bool = True,
    with_abc_xyz: bool = True,
    with_churn: bool = True,
    label_counts: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """cluster_profiles on an already joined frame: one row per clustered customer with cluster,
    distance_to_centroid, the ml_customer_features columns, and churn_risk (with_churn), rfm_segment (with_rfm)
    and abc_xyz_segment (with_abc_xyz). Only grouped sums and integer counts: no string groupby or merge.
    label_counts: for any of churn_risk / rfm_segment / abc_xyz_segment, its counts per cluster and value already
    made (dominant_of_label_counts) instead of a column of the frame.
    """
    label_counts = label_counts or {}
    clusters = frame["cluster"].astype("int64")
    grouped = frame.groupby(clusters)
    out = pd.DataFrame({"size": grouped.size()})
    out["share"] = out["size"] / out["size"].sum()
    out["mean_distance_to_centroid"] = grouped["distance_to_centroid"].mean()
    for name, column in PROFILE_MEANS.items():
        out[name] = pd.to_numeric(frame[column], errors="coerce").groupby(clusters).mean()
    out["multi_buyer_share"] = (pd.to_numeric(frame["frequency"]) >= 2).groupby(clusters).mean()
    out.index.name = "cluster"

    def dominant(column: str, prefix: str) -> pd.DataFrame:
        if column in label_counts:
            return dominant_of_label_counts(
                label_counts[column], out.index.to_numpy(), out["size"].to_numpy(), prefix
            )
        return _dominant(frame[column], clusters, prefix)

    parts = [out, dominant(REGION_COLUMN, "dominant_region")]
    if with_churn:
        parts.append(dominant("churn_risk", "dominant_churn_risk"))
    if with_rfm:
        parts.append(dominant("rfm_segment", "dominant_rfm_segment"))
    if with_abc_xyz:
        parts.append(dominant("abc_xyz_segment", "dominant_abc_xyz_segment"))
    out = pd.concat(parts, axis=1)
    names = name_clusters(frame, clusters.to_numpy())
    out.insert(0, "cluster_name", [names[int(c)] for c in out.index])
    out.index.name = "cluster"
    return out.reset_index()
