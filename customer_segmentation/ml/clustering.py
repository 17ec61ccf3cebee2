"""KMeans with model selection over k: inertia on every customer, silhouette on a fixed-seed sample.

Scale: above fit_sample_size rows, KMeans is fit on a fixed-seed sample of exactly fit_sample_size rows
and every row is then assigned to its nearest centroid (chunked, float64 arithmetic), so labels, sizes,
distances and inertia still cover every customer. At or below the cap nothing changes: the fit uses
every row, exactly as before the cap existed.

Deterministic: same matrix (rows in the same order), same seed -> same labels, centers and scores.
KMeans runs single-threaded (threadpoolctl) because multi-threaded Lloyd sums partial centers in
thread-completion order, which can change the last bits between two runs. The candidate k (and the
blocks of every pass over the rows) run side by side instead, one single-threaded computation per core
(threads.parallel_map; sums over blocks added in block order): the bits of one at a time. Cluster ids are canonical:
0 is the largest cluster (ties broken by the centroid coordinates), so ids do not depend on the
arbitrary order the algorithm found them in.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans

from customer_segmentation.ml.ordering import mixed, smallest
from customer_segmentation.ml.threads import parallel_map, single_threaded


@dataclass
class ClusterFit:
    k: int
    labels: np.ndarray  # canonical cluster id per row
    centers: np.ndarray  # k x n_features, row i = centroid of cluster i (standardized space)
    distances: np.ndarray  # Euclidean distance of each row to its own centroid
    inertia: float  # sum of squared distances to the own centroid, over all rows
    algorithm: str  # "kmeans" or "minibatch_kmeans"
    n_fit: int = 0  # rows the centroids were fit on (all rows, or the fixed-seed sample)


# rows per block when assigning every row to its nearest centroid (bounds the temporary memory)
ASSIGN_CHUNK_ROWS = 262_144
# rows per MiniBatchKMeans step (above var kmeans_minibatch_threshold); a speed/memory detail, not a var
MINIBATCH_BATCH_SIZE = 4096


def fit_sample_rows(
    n: int, fit_sample_size: int | None, seed: int, keys: np.ndarray | None = None
) -> np.ndarray | None:
    """Row positions the KMeans is fit on, in the order it sees them; None = every row as it is.

    keys None (small input, rows sorted by customer id): None when n <= cap, else a sorted fixed-seed
    sample from its own random stream (seed, 1), so the silhouette sample drawn from default_rng(seed)
    stays the same with or without the cap. keys given (large input in table order, see ordering.py):
    the min(n, cap) customers with the smallest seed-mixed keys, in key order.
    """
    cap = None if fit_sample_size is None or int(fit_sample_size) <= 0 else int(fit_sample_size)
    if keys is not None:
        return smallest(mixed(keys, seed, 1), n if cap is None else min(n, cap))
    if cap is None or n <= cap:
        return None
    rng = np.random.default_rng([int(seed), 1])
    return np.sort(rng.choice(n, size=cap, replace=False))


def assign_to_centers(
    X: np.ndarray,
    centers: np.ndarray,
    chunk_rows: int | None = None,
    row_sq: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid and squared Euclidean distance to it for every row, in float64, block by block.

    row_sq None: the distance is computed exactly from the difference to the centroid. row_sq given
    (the rows' squared norms, see row_norms_sq): ||x||^2 - 2 x.c + ||c||^2, half the memory traffic,
    for the inertia of every candidate k (absolute error ~1e-15 of ||x||^2 per row).
    """
    chunk_rows = chunk_rows or ASSIGN_CHUNK_ROWS
    centers = np.ascontiguousarray(centers, dtype=np.float64)
    center_sq = (centers**2).sum(axis=1)
    n = len(X)
    labels = np.empty(n, dtype=np.int64)
    sq_dist = np.empty(n, dtype=np.float64)

    def assign(start: int) -> None:  # one block; blocks write disjoint rows
        block = np.asarray(X[start : start + chunk_rows], dtype=np.float64)
        stop = start + len(block)
        # ||x - c||^2 up to the row constant ||x||^2: enough to pick the nearest centroid
        scores = block @ (-2.0 * centers.T)
        scores += center_sq[None, :]
        lab = scores.argmin(axis=1)
        labels[start:stop] = lab
        if row_sq is None:
            diff = block - centers[lab]
            sq_dist[start:stop] = np.einsum("ij,ij->i", diff, diff)
        else:
            best = scores[np.arange(len(block)), lab]
            sq_dist[start:stop] = np.maximum(row_sq[start:stop] + best, 0.0)

    parallel_map(assign, range(0, n, chunk_rows))
    return labels, sq_dist


def _nearest(block: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid per row (same arithmetic as assign_to_centers)."""
    with single_threaded():
        scores = block @ (-2.0 * centers.T)
    scores += (centers**2).sum(axis=1)[None, :]
    return scores.argmin(axis=1)


def _inertias(X: np.ndarray, centers: list[np.ndarray], chunk_rows: int | None = None) -> list[float]:
    """Sum over every row of the squared distance to the nearest centroid, for several centroid sets
    in one pass over X (one float64 upcast and one matrix product per block for all of them)."""
    chunk_rows = chunk_rows or ASSIGN_CHUNK_ROWS
    stacked = -2.0 * np.vstack(centers)
    stacked_sq = (np.vstack(centers) ** 2).sum(axis=1)
    bounds = np.cumsum([0] + [len(c) for c in centers])

    def block_totals(start: int) -> list[float]:
        block = np.asarray(X[start : start + chunk_rows], dtype=np.float64)
        block_sq = np.einsum("ij,ij->i", block, block)
        # centroids x rows: the minimum over a contiguous band of rows is a fast elementwise reduction
        scores = stacked @ block.T
        scores += stacked_sq[:, None]
        return [
            float(np.maximum(block_sq + scores[bounds[j] : bounds[j + 1]].min(axis=0), 0.0).sum())
            for j in range(len(centers))
        ]

    # blocks side by side, their totals added in block order: the sums of a one-block-at-a-time pass
    totals = [0.0] * len(centers)
    for partial in parallel_map(block_totals, range(0, len(X), chunk_rows)):
        for j, value in enumerate(partial):
            totals[j] += value
    return totals


def row_norms_sq(X: np.ndarray, chunk_rows: int = ASSIGN_CHUNK_ROWS) -> np.ndarray:
    """Squared Euclidean norm of every row, computed in float64 block by block."""
    out = np.empty(len(X), dtype=np.float64)
    for start in range(0, len(X), chunk_rows):
        block = np.asarray(X[start : start + chunk_rows], dtype=np.float64)
        out[start : start + len(block)] = np.einsum("ij,ij->i", block, block)
    return out


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
    *,
    minibatch_threshold: int,
    n_init: int,
    fit_rows: np.ndarray | None = None,
    row_sq: np.ndarray | None = None,
) -> ClusterFit:
    """KMeans (Lloyd) up to minibatch_threshold fit rows, MiniBatchKMeans above it.

    fit_rows None: fit on every row of X and label them with the model (the exact, uncapped path).
    fit_rows given (see fit_sample_rows): fit on those rows only, then assign every row of X to the
    nearest fitted centroid; X may then be float32 storage (upcast block by block). row_sq (squared
    row norms) switches the distances of that assignment to the cheaper expanded form (model selection).
    """
    if fit_rows is not None:
        return _fit_kmeans_sampled(X, k, seed, minibatch_threshold, n_init, fit_rows, row_sq)
    X = np.ascontiguousarray(X, dtype=np.float64)
    model, algorithm = _fit_model(X, k, seed, minibatch_threshold, n_init)
    with single_threaded():
        raw_labels = model.predict(X)
    labels, centers = _canonical(raw_labels, model.cluster_centers_)
    distances = np.sqrt(((X - centers[labels]) ** 2).sum(axis=1))
    return ClusterFit(k, labels, centers, distances, float((distances**2).sum()), algorithm, len(X))


def _fit_model(X, k, seed, minibatch_threshold, n_init):
    if k < 1 or k > len(X):
        raise ValueError(f"k={k} impossible for {len(X)} rows")
    with single_threaded():
        if len(X) > minibatch_threshold:
            model = MiniBatchKMeans(
                n_clusters=k,
                random_state=seed,
                n_init=n_init,
                batch_size=MINIBATCH_BATCH_SIZE,
                max_iter=100,
                compute_labels=False,
            )
            algorithm = "minibatch_kmeans"
        else:
            model = KMeans(n_clusters=k, random_state=seed, n_init=n_init, algorithm="lloyd")
            algorithm = "kmeans"
        model.fit(X)
    return model, algorithm


def _fit_kmeans_sampled(X, k, seed, minibatch_threshold, n_init, fit_rows, row_sq=None) -> ClusterFit:
    fit_rows = np.asarray(fit_rows)
    sample = np.ascontiguousarray(X[fit_rows], dtype=np.float64)
    model, algorithm = _fit_model(sample, k, seed, minibatch_threshold, n_init)
    del sample
    raw_labels, sq_dist = assign_to_centers(X, model.cluster_centers_, row_sq=row_sq)
    labels, centers = _canonical(raw_labels, model.cluster_centers_)
    return ClusterFit(k, labels, centers, np.sqrt(sq_dist), float(sq_dist.sum()), algorithm, len(fit_rows))


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
    # one preallocated buffer per thread, updated in place: allocating a fresh chunk x n array per step is slow
    local = threading.local()

    def score_chunk(start: int) -> None:  # rows start..stop of every labeling; chunks write disjoint rows
        stop = min(start + chunk_size, n)
        if not hasattr(local, "buffer"):
            local.buffer = np.empty((min(chunk_size, n), n))
        d = local.buffer[: stop - start]
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

    # chunks side by side on single-threaded BLAS: the same bits as one chunk at a time (each row's values come
    # from its own chunk, the chunks are the same), at half the CPU time of multi-threaded BLAS (100 k orders:
    # 2.7 instead of 5.4 s; idle BLAS threads spin between the many small products)
    parallel_map(score_chunk, range(0, n, chunk_size))
    return [
        float(sums[j].mean()) if 2 <= len(counts[j]) <= n - 1 else float("nan")
        for j in range(len(labelings))
    ]


def cluster_selection(
    X: np.ndarray,
    k_values: list[int],
    seed: int,
    *,
    silhouette_sample_size: int,
    minibatch_threshold: int,
    fixed_k: int | None,
    n_init: int,
    fit_sample_size: int | None,
    keys: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per candidate k: inertia (all rows), silhouette (fixed-seed sample), chosen flag.

    fit_sample_size: above this many rows every candidate is fit on the same fixed-seed sample of that
    many rows (fit_sample_rows) and evaluated on all rows; None = always fit on every row.

    chosen = the k with the highest silhouette (smallest k on a tie), or fixed_k when given
    (fixed_k is added to the candidates if it is not among them).
    """
    n = len(X)
    fit_rows = fit_sample_rows(n, fit_sample_size, seed, keys)
    if fit_rows is None:
        X = np.ascontiguousarray(X, dtype=np.float64)
    candidates = sorted({int(k) for k in k_values} | ({int(fixed_k)} if fixed_k is not None else set()))
    candidates = [k for k in candidates if 2 <= k <= n - 1]
    if not candidates:
        raise ValueError(f"no candidate k in {list(k_values)} fits {n} rows")
    rng = np.random.default_rng(seed)
    sample_n = min(n, int(silhouette_sample_size))
    if keys is not None:  # large input in table order: the sample by seed-mixed key (ordering.py)
        sample = smallest(mixed(keys, seed, 2), sample_n)
    else:
        sample = np.sort(rng.choice(n, size=sample_n, replace=False)) if sample_n < n else np.arange(n)
    rows, sample_labels = [], []
    # the candidates are fit side by side (parallel_map: each fit single-threaded, as alone)
    if fit_rows is None:

        def fit_candidate(k: int) -> tuple[float, str, np.ndarray]:
            fit = fit_kmeans(X, k, seed, minibatch_threshold=minibatch_threshold, n_init=n_init)
            return fit.inertia, fit.algorithm, fit.labels[sample]

        for k, (inertia, algorithm, labels) in zip(candidates, parallel_map(fit_candidate, candidates)):
            rows.append({"k": k, "inertia": inertia, "algorithm": algorithm})
            sample_labels.append(labels)
    else:
        # every candidate fit on the same sample, then ONE pass over all rows scores all of them
        sample_fit = np.ascontiguousarray(X[fit_rows], dtype=np.float64)

        def fit_candidate(k: int) -> tuple[np.ndarray, str]:
            model, algorithm = _fit_model(sample_fit, k, seed, minibatch_threshold, n_init)
            return np.ascontiguousarray(model.cluster_centers_, dtype=np.float64), algorithm

        centers = []
        for k, (center, algorithm) in zip(candidates, parallel_map(fit_candidate, candidates)):
            centers.append(center)
            rows.append({"k": k, "algorithm": algorithm})
        del sample_fit
        inertias = _inertias(X, centers)
        sample_rows = np.ascontiguousarray(X[sample], dtype=np.float64)
        for row, inertia, c in zip(rows, inertias, centers):
            row["inertia"] = inertia
            # silhouette does not depend on the cluster ids: the raw nearest-centroid labels will do
            sample_labels.append(_nearest(sample_rows, c))
    silhouettes = silhouette_multi(X[sample], sample_labels)
    out = pd.DataFrame(rows)
    out["silhouette"] = silhouettes
    out["silhouette_sample_size"] = sample_n
    out["n_customers"] = n
    out["n_fit_customers"] = n if fit_rows is None else len(fit_rows)
    if fixed_k is not None:
        out["chosen"] = out["k"] == int(fixed_k)
        out["chosen_by"] = "fixed_k"
    else:
        scored = out["silhouette"].fillna(-np.inf)
        best = int(out.loc[scored.idxmax(), "k"]) if np.isfinite(scored.max()) else int(out["k"].min())
        out["chosen"] = out["k"] == best
        out["chosen_by"] = "best_silhouette"
    return out[
        [
            "k",
            "inertia",
            "silhouette",
            "chosen",
            "chosen_by",
            "algorithm",
            "silhouette_sample_size",
            "n_customers",
            "n_fit_customers",
        ]
    ]


def fit_clusters(
    X: np.ndarray,
    k: int,
    seed: int,
    *,
    minibatch_threshold: int,
    n_init: int,
    fit_sample_size: int | None,
    keys: np.ndarray | None = None,
) -> ClusterFit:
    """The final clustering for the chosen k (the same fit cluster_selection scored: same sample)."""
    fit_rows = fit_sample_rows(len(X), fit_sample_size, seed, keys)
    return fit_kmeans(X, k, seed, minibatch_threshold=minibatch_threshold, n_init=n_init, fit_rows=fit_rows)
