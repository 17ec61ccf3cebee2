"""Per-cluster profiles in original units, dominant labels, and generated human-readable names."""
from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation_ml.features import REGION_COLUMN

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


def _dominant(values: pd.Series, clusters: pd.Series, prefix: str) -> pd.DataFrame:
    """Most frequent non-null value per cluster (ties: alphabetical) and its share of the cluster."""
    frame = pd.DataFrame({"cluster": clusters.to_numpy(), "value": values.to_numpy()})
    sizes = frame.groupby("cluster").size()
    counts = (
        frame.dropna(subset=["value"])
        .groupby(["cluster", "value"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["cluster", "n", "value"], ascending=[True, False, True])
        .drop_duplicates("cluster")
        .set_index("cluster")
    )
    out = pd.DataFrame(index=sizes.index)
    out[prefix] = counts["value"].reindex(sizes.index)
    out[f"{prefix}_share"] = (counts["n"].reindex(sizes.index) / sizes).astype("float64")
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
    log_recency = np.log1p(pd.to_numeric(customers["recency_days"], errors="coerce").clip(lower=0))
    log_monetary = np.log1p(pd.to_numeric(customers["monetary"], errors="coerce").clip(lower=0))
    frequency = pd.to_numeric(customers["frequency"], errors="coerce")
    stats = {c: pd.to_numeric(customers[c], errors="coerce") for c in TRAITS}
    region = customers[REGION_COLUMN].astype("object")

    def z(series: pd.Series, mask: np.ndarray) -> float:
        std = series.std(ddof=0)
        if not std or np.isnan(std):
            return float("nan")
        return float((series[mask].mean() - series.mean()) / std)

    names: dict[int, list[str]] = {}
    for cluster in sorted(np.unique(labels)):
        mask = labels == cluster
        recency = _level(-z(log_recency, mask), "recent", "lapsed")
        value = _level(z(log_monetary, mask), "high-value", "low-value")
        buyers = "multi-buyers" if (frequency[mask] >= 2).mean() >= 0.5 else "one-time buyers"
        traits = []
        for column, (high, low) in TRAITS.items():
            score = z(stats[column], mask)
            if np.isnan(score) or abs(score) < TRAIT_Z:
                continue
            phrase = high if score > 0 else low
            if phrase:
                traits.append((abs(score), phrase))
        region_counts = region[mask].value_counts(normalize=True)
        if len(region_counts):
            top_region, top_share = region_counts.index[0], region_counts.iloc[0]
            population_share = (region == top_region).mean()
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
) -> pd.DataFrame:
    """One row per cluster: size, share, means in original units, dominant labels, generated name.

    customers: ml_customer_features; clusters: customer_clusters (customer_unique_id, cluster,
    distance_to_centroid); rfm: customer_rfm (churn_risk, rfm_segment); abc_xyz: customer_abc_xyz
    (segment). Joined on customer_unique_id; customers absent from rfm/abc_xyz count as unknown.
    """
    frame = clusters.merge(customers, on="customer_unique_id", how="left", validate="one_to_one")
    if rfm is not None:
        frame = frame.merge(
            rfm[["customer_unique_id", "churn_risk", "rfm_segment"]],
            on="customer_unique_id", how="left", validate="one_to_one",
        )
    if abc_xyz is not None:
        frame = frame.merge(
            abc_xyz[["customer_unique_id", "segment"]].rename(columns={"segment": "abc_xyz_segment"}),
            on="customer_unique_id", how="left", validate="one_to_one",
        )
    frame = frame.sort_values("customer_unique_id", kind="stable").reset_index(drop=True)
    grouped = frame.groupby("cluster")
    out = pd.DataFrame({"size": grouped.size()})
    out["share"] = out["size"] / out["size"].sum()
    out["mean_distance_to_centroid"] = grouped["distance_to_centroid"].mean()
    for name, column in PROFILE_MEANS.items():
        out[name] = pd.to_numeric(frame[column], errors="coerce").groupby(frame["cluster"]).mean()
    out["multi_buyer_share"] = (pd.to_numeric(frame["frequency"]) >= 2).groupby(frame["cluster"]).mean()
    parts = [out, _dominant(frame[REGION_COLUMN], frame["cluster"], "dominant_region")]
    if rfm is not None:
        parts.append(_dominant(frame["churn_risk"], frame["cluster"], "dominant_churn_risk"))
        parts.append(_dominant(frame["rfm_segment"], frame["cluster"], "dominant_rfm_segment"))
    if abc_xyz is not None:
        parts.append(_dominant(frame["abc_xyz_segment"], frame["cluster"], "dominant_abc_xyz_segment"))
    out = pd.concat(parts, axis=1)
    names = name_clusters(frame, frame["cluster"].to_numpy())
    out.insert(0, "cluster_name", [names[int(c)] for c in out.index])
    out.index.name = "cluster"
    return out.reset_index()
