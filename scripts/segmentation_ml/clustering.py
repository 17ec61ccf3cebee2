"""KMeans with model selection over k: inertia on every customer, silhouette on a fixed-seed sample.

Deterministic: same matrix (rows in the same order), same seed -> same labels, centers and scores.
KMeans runs single-threaded (threadpoolctl) because multi-threaded Lloyd sums partial centers in
thread-completion order, which can change the last bits between two runs. Cluster ids are canonical:
0 is the largest cluster (ties broken by the centroid coordinates), so ids do not depend on the
arbitrary order the algorithm found them in.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans
from threadpoolctl import threadpool_limits


@dataclass
class ClusterFit:
    k: int
    labels: np.ndarray  # canonical cluster id per row
    centers: np.ndarray  # k x n_features, row i = centroid of cluster i (standardized space)
    distances: np.ndarray  # Euclidean distance of each row to its own centroid
    inertia: float  # sum of squared distances to the own centroid, over all rows
    algorithm: str  # "kmeans" or "minibatch_kmeans"


def _canonical(labels: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = centers.shape[0]
    sizes = np.bincount(labels, minlength=k)
    # sort by size descending, then by the centroid coordinates (lexicographic) for ties
    keys = [centers[:, j] for j in reversed(range(centers.shape[1]))] + [-sizes]
    order = np.lexsort(keys)
    new_id = np.empty(k, dtype=np.int64)
    new_id[order] = np.arange(k)
    return new_id[labels], centers[order]


def fit_kmeans(
    X: np.ndarray,
    k: int,
    seed: int,
    minibatch_threshold: int = 200_000,
    n_init: int = 4,
    batch_size: int = 4096,
) -> ClusterFit:
    """KMeans (Lloyd) up to minibatch_threshold rows, MiniBatchKMeans above it."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    if k < 1 or k > len(X):
        raise ValueError(f"k={k} impossible for {len(X)} rows")
    with threadpool_limits(limits=1):
        if len(X) > minibatch_threshold:
            model = MiniBatchKMeans(
                n_clusters=k,
                random_state=seed,
                n_init=n_init,
                batch_size=batch_size,
                max_iter=100,
                compute_labels=False,
            )
            algorithm = "minibatch_kmeans"
        else:
            model = KMeans(n_clusters=k, random_state=seed, n_init=n_init, algorithm="lloyd")
            algorithm = "kmeans"
        model.fit(X)
        raw_labels = model.predict(X)
    labels, centers = _canonical(raw_labels, model.cluster_centers_)
    distances = np.sqrt(((X - centers[labels]) ** 2).sum(axis=1))
    return ClusterFit(k, labels, centers, distances, float((distances**2).sum()), algorithm)


def silhouette_multi(X: np.ndarray, labelings: list[np.ndarray], chunk_size: int = 256) -> list[float]:
    """Mean silhouette coefficient of several labelings of the same rows, computing the distances once.

    Same definition as sklearn.metrics.silhouette_score (Euclidean; a point alone in its cluster
    scores 0); NaN for a labeling with fewer than 2 or more than n-1 clusters.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    n = len(X)
    blocks, offsets, counts, codes = [], [], [], []
    offset = 0
    for labels in labelings:
        uniq, code = np.unique(np.asarray(labels), return_inverse=True)
        k = len(uniq)
        onehot = np.zeros((n, k))
        onehot[np.arange(n), code] = 1.0
        blocks.append(onehot)
        offsets.append(offset)
        counts.append(onehot.sum(axis=0))
        codes.append(code)
        offset += k
    membership = np.hstack(blocks) if blocks else np.zeros((n, 0))
    sums = [np.zeros(n) for _ in labelings]
    sq = (X**2).sum(axis=1)
    # one preallocated buffer, updated in place: allocating a fresh chunk x n array per step is slow
    buffer = np.empty((min(chunk_size, n), n))
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        d = buffer[: stop - start]
        np.matmul(X[start:stop], X.T, out=d)
        d *= -2.0
        d += sq[None, :]
        d += sq[start:stop, None]
        np.maximum(d, 0.0, out=d)
        d[np.arange(stop - start), np.arange(start, stop)] = 0.0
        np.sqrt(d, out=d)
        dist_to_clusters = d @ membership  # chunk x sum(k): summed distance to each cluster
        rows = np.arange(stop - start)
        for j, code in enumerate(codes):
            k = len(counts[j])
            if k < 2 or k > n - 1:
                continue
            block = dist_to_clusters[:, offsets[j] : offsets[j] + k]
            own = code[start:stop]
            own_count = counts[j][own]
            a = block[rows, own] / np.maximum(own_count - 1, 1)
            mean_other = block / counts[j][None, :]
            mean_other[rows, own] = np.inf
            b = mean_other.min(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                s = (b - a) / np.maximum(a, b)
            s = np.where(own_count > 1, np.nan_to_num(s, nan=0.0), 0.0)
            sums[j][start:stop] = s
    return [
        float(sums[j].mean()) if 2 <= len(counts[j]) <= n - 1 else float("nan")
        for j in range(len(labelings))
    ]


def cluster_selection(
    X: np.ndarray,
    k_values: list[int],
    seed: int,
    silhouette_sample_size: int = 20_000,
    minibatch_threshold: int = 200_000,
    fixed_k: int | None = None,
    n_init: int = 4,
) -> pd.DataFrame:
    """One row per candidate k: inertia (all rows), silhouette (fixed-seed sample), chosen flag.

    chosen = the k with the highest silhouette (smallest k on a tie), or fixed_k when given
    (fixed_k is added to the candidates if it is not among them).
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    n = len(X)
    candidates = sorted({int(k) for k in k_values} | ({int(fixed_k)} if fixed_k is not None else set()))
    candidates = [k for k in candidates if 2 <= k <= n - 1]
    if not candidates:
        raise ValueError(f"no candidate k in {list(k_values)} fits {n} rows")
    rng = np.random.default_rng(seed)
    sample_n = min(n, int(silhouette_sample_size))
    sample = np.sort(rng.choice(n, size=sample_n, replace=False)) if sample_n < n else np.arange(n)
    rows, sample_labels = [], []
    for k in candidates:
        fit = fit_kmeans(X, k, seed, minibatch_threshold=minibatch_threshold, n_init=n_init)
        rows.append({"k": k, "inertia": fit.inertia, "algorithm": fit.algorithm})
        sample_labels.append(fit.labels[sample])
    silhouettes = silhouette_multi(X[sample], sample_labels)
    out = pd.DataFrame(rows)
    out["silhouette"] = silhouettes
    out["silhouette_sample_size"] = sample_n
    out["n_customers"] = n
    if fixed_k is not None:
        out["chosen"] = out["k"] == int(fixed_k)
        out["chosen_by"] = "fixed_k"
    else:
        scored = out["silhouette"].fillna(-np.inf)
        best = int(out.loc[scored.idxmax(), "k"]) if np.isfinite(scored.max()) else int(out["k"].min())
        out["chosen"] = out["k"] == best
        out["chosen_by"] = "best_silhouette"
    return out[["k", "inertia", "silhouette", "chosen", "chosen_by", "algorithm", "silhouette_sample_size", "n_customers"]]


def fit_clusters(
    X: np.ndarray,
    k: int,
    seed: int,
    minibatch_threshold: int = 200_000,
    n_init: int = 4,
) -> ClusterFit:
    """The final clustering for the chosen k (the same fit cluster_selection scored)."""
    return fit_kmeans(X, k, seed, minibatch_threshold=minibatch_threshold, n_init=n_init)
