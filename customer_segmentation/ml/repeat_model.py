"""Will a customer buy again after the feature window, within the horizon, judged from what is known when the
feature window closes?

Input: one row per purchasing customer as in the ml_first_purchase_features model: the features of the
first purchase only (the model config numeric_features / categorical_features of _ml__models.yml; delivery and
review only when they happened within the feature window and before the analysis date), first_purchased_at, and
columns that are NOT features: feature_window_complete (the whole feature window lies before the analysis date),
horizon_complete (the whole horizon after the first purchase is inside the data), repeated_in_outcome_window (the
label: a repeat purchase after the feature window and by the horizon end; null while unknown) and purchase_count.
Only the columns named in the feature lists ever reach a model.

Evaluation is a time-based backtest: pick a cutoff date; test on customers whose first purchase is on
or after it (whole horizon observed); train on customers whose label was already known at the cutoff
(first purchase + horizon <= cutoff: "embargo"; without it, first purchase before the cutoff). A
gradient-boosting model is compared with two baselines: always-no, and a logistic regression on one
numeric feature (chosen on the training set only). Class weights are balanced for training; the
model's probabilities are Platt-scaled on out-of-fold training scores, the baseline's corrected for the
prior shift (odds * n_pos / n_neg). AUCs and the top decile depend on the ranking only.

Scoring (repeat_scores) ranks only the customers whose outcome is still open at the analysis date (no repeat
after the feature window yet, horizon not over); the others get their known outcome and no score. A customer
whose feature window is still open has no delivery / review feature yet for a reason that does not exist in
training (there a missing value means "not within the window"), so they are scored by the same recipe fit
without the window features (feature_set first_order_only).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from customer_segmentation.ml import binning
from customer_segmentation.ml.features import category_codes
from customer_segmentation.ml.ordering import by_customer, is_key_ordered, mixed, row_keys, smallest
from customer_segmentation.ml.threads import parallel_map, single_threaded

# features known only once the feature window has passed (an event inside it); the others are known at purchase
WINDOW_FEATURES = ("first_order_delivery_days", "first_order_review_score")
LABEL = "repeated_in_outcome_window"
WINDOW_COMPLETE = "feature_window_complete"
# never features: the label, the observation flags, and the purchase count (computed from later orders)
NOT_FEATURES = {
    LABEL, "horizon_complete", WINDOW_COMPLETE, "feature_window_end_at", "horizon_end_at", "purchase_count",
    "customer_unique_id", "first_purchased_at",
}
# known_outcome of customers whose label is known at the analysis date (they get no score)
OUTCOME_REPEATED = "repeated"
OUTCOME_NOT_REPEATED = "did not repeat"
FEATURE_SET_FULL = "first_order_and_feature_window"
FEATURE_SET_FIRST_ORDER = "first_order_only"
# the share of customers ranked highest behind the *_top_decile columns (part of their name: not a var)
TOP_FRACTION = 0.1

DEFAULT_MODEL_PARAMS = {
    "learning_rate": 0.1,
    "max_iter": 100,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
}
MODEL_NAME = "hist_gradient_boosting"
ALWAYS_NO = "baseline_always_no"
SINGLE_FEATURE = "baseline_single_feature_logistic"


# ---------------------------------------------------------------------------------------- metrics
def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Mann-Whitney ROC AUC with average ranks for ties (= sklearn's); NaN with one class only."""
    y = np.asarray(y, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(score)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def top_fraction_precision_recall(y: np.ndarray, score: np.ndarray, fraction: float) -> tuple[float, float]:
    """Precision and recall among the top `fraction` by score; ties at the boundary share credit.

    With ties the top-k set is not unique, so the expected value over the tied rows is used: a constant
    score gives precision = base rate and recall = fraction, whatever the row order.
    """
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    n = len(y)
    n_pos = y.sum()
    if n == 0:
        return float("nan"), float("nan")
    k = max(1, int(np.ceil(fraction * n)))
    threshold = np.sort(score)[::-1][k - 1]
    above = score > threshold
    tied = score == threshold
    remaining = k - above.sum()
    hits = y[above].sum() + remaining * (y[tied].mean() if tied.any() else 0.0)
    precision = hits / k
    recall = hits / n_pos if n_pos > 0 else float("nan")
    return float(precision), float(recall)


def evaluate_scores(y: np.ndarray, score: np.ndarray, probability: np.ndarray | None = None) -> dict:
    y = np.asarray(y, dtype=bool)
    precision, recall = top_fraction_precision_recall(y, score, TOP_FRACTION)
    return {
        "roc_auc": roc_auc(y, score),
        "pr_auc": float(average_precision_score(y, score)) if y.any() else float("nan"),
        "precision_top_decile": precision,
        "recall_top_decile": recall,
        "base_rate": float(y.mean()) if len(y) else float("nan"),
        "mean_predicted_probability": float(np.mean(probability))
        if probability is not None and len(y)
        else float("nan"),
    }


def bootstrap_auc(
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    seed: int,
    n_boot: int,
    sample_size: int | None,
    keys: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """ROC AUC of each score on the same bootstrap resamples of the test set (paired).

    Each resample is drawn as before (rng.integers(0, n, n) from default_rng(seed)), but its AUC comes
    from how often every row was drawn: the scores are sorted and tie-grouped once, and each resample
    only sums its row counts per tie group (O(n) instead of re-ranking). Same AUC as ranking the
    resampled rows (midranks for ties). sample_size: with a larger test set the resamples are drawn
    from a fixed-seed sample of that many test rows (a wider, conservative interval; point metrics
    always use the whole test set). keys (large input in table order, see ordering.py): the sample is
    the rows with the smallest seed-mixed keys, in key order (all test rows in key order below the cap).
    """
    y = np.asarray(y, dtype=bool)
    out = {name: [] for name in scores}
    if n_boot <= 0 or y.sum() == 0 or (~y).sum() == 0:
        return {name: np.array([]) for name in scores}
    rows = bootstrap_rows(len(y), sample_size, seed, keys)
    if rows is not None:
        y = y[rows]
        scores = {name: np.asarray(s)[rows] for name, s in scores.items()}
    n = len(y)
    groups = {name: np.unique(np.asarray(s, dtype=float), return_inverse=True) for name, s in scores.items()}
    yf = y.astype(float)
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        pos_counts = counts * yf
        n_pos = pos_counts.sum()
        if n_pos == 0 or n_pos == n:
            continue
        neg_counts = counts - pos_counts
        n_neg = n - n_pos
        for name, (uniq, inverse) in groups.items():
            pos_w = np.bincount(inverse, weights=pos_counts, minlength=len(uniq))
            neg_w = np.bincount(inverse, weights=neg_counts, minlength=len(uniq))
            neg_below = np.cumsum(neg_w) - neg_w
            out[name].append(float((pos_w * (neg_below + 0.5 * neg_w)).sum() / (n_pos * n_neg)))
    return {name: np.array(v) for name, v in out.items()}


def bootstrap_rows(n: int, sample_size: int | None, seed: int, keys: np.ndarray | None = None) -> np.ndarray | None:
    """Positions of the test rows the bootstrap resamples, in order; None = all rows as they are."""
    cap = None if sample_size is None or int(sample_size) <= 0 else int(sample_size)
    if keys is not None:
        return smallest(mixed(keys, seed, 3), n if cap is None else min(n, cap))
    if cap is None or n <= cap:
        return None
    return np.sort(np.random.default_rng([int(seed), 3]).choice(n, size=cap, replace=False))


def training_sample(
    y: np.ndarray, sample_size: int | None, seed: int, keys: np.ndarray | None = None
) -> np.ndarray | None:
    """Positions of the rows a model is trained on, in order; None = every row as it is.

    Above sample_size rows: a fixed-seed stratified sample of exactly sample_size rows (the class shares
    of y kept, at least one row of each class present). keys None (small input sorted by customer id):
    drawn with default_rng((seed, 2)), returned sorted. keys given (large input in table order, see
    ordering.py): per class the rows with the smallest seed-mixed keys, all returned in key order (every
    row in key order when there is no cap to apply).
    """
    y = np.asarray(y, dtype=bool)
    n = len(y)
    cap = None if sample_size is None or int(sample_size) <= 0 else int(sample_size)
    if cap is None or n <= cap:
        return None if keys is None else smallest(mixed(keys, seed, 2), n)
    positives, negatives = np.flatnonzero(y), np.flatnonzero(~y)
    n_pos = int(round(cap * len(positives) / n))
    n_pos = min(len(positives), max(n_pos, 1 if len(positives) else 0), cap - (1 if len(negatives) else 0))
    if keys is not None:
        key = mixed(keys, seed, 2)
        take = np.concatenate(
            [positives[smallest(key[positives], n_pos)], negatives[smallest(key[negatives], cap - n_pos)]]
        )
        return take[np.argsort(key[take], kind="stable")]
    rng = np.random.default_rng([int(seed), 2])
    take = np.concatenate(
        [rng.choice(positives, size=n_pos, replace=False), rng.choice(negatives, size=cap - n_pos, replace=False)]
    )
    return np.sort(take)


# ---------------------------------------------------------------------------------------- split
def time_split(
    df: pd.DataFrame,
    horizon_days: int,
    *,
    test_share: float,
    cutoff: str | pd.Timestamp | None,
    embargo: bool,
) -> tuple[np.ndarray, np.ndarray, pd.Timestamp]:
    """Boolean train and test masks over df and the cutoff used.

    Only customers with horizon_complete are eligible. cutoff None: the first-purchase time that leaves
    test_share of the eligible customers on or after it.
    """
    first = pd.to_datetime(df["first_purchased_at"])
    eligible = df["horizon_complete"].fillna(False).astype(bool).to_numpy()
    if cutoff is None:
        times = np.sort(first[eligible].to_numpy())
        if len(times) == 0:
            return np.zeros(len(df), bool), np.zeros(len(df), bool), pd.NaT
        position = min(len(times) - 1, int(np.floor(len(times) * (1 - test_share))))
        cutoff = pd.Timestamp(times[position])
    cutoff = pd.Timestamp(cutoff)
    test = eligible & (first >= cutoff).to_numpy()
    if embargo:
        train = eligible & ((first + pd.Timedelta(days=int(horizon_days))) <= cutoff).to_numpy()
    else:
        train = eligible & (first < cutoff).to_numpy()
    return train, test, cutoff


# ---------------------------------------------------------------------------------------- models
class _Encoder:
    """Numeric columns as float; categorical columns as codes of the training categories (unseen, rare
    beyond the 254 most frequent, or missing -> NaN, which the gradient-boosting model treats as missing)."""

    def __init__(self, numeric: list[str], categorical: list[str]):
        self.numeric, self.categorical = list(numeric), list(categorical)
        self.categories: dict[str, list[str]] = {}

    def fit(self, df: pd.DataFrame) -> _Encoder:
        # a column without a single value in the training data carries nothing (and breaks binning)
        self.dropped = [c for c in self.numeric + self.categorical if df[c].notna().sum() == 0]
        self.numeric = [c for c in self.numeric if c not in self.dropped]
        self.categorical = [c for c in self.categorical if c not in self.dropped]
        for col in self.categorical:
            counts = df[col].dropna().astype(str).value_counts()
            counts = counts.sort_index().sort_values(ascending=False, kind="stable")
            self.categories[col] = sorted(counts.index[:254])
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        cols = [pd.to_numeric(df[c], errors="coerce").astype("float64").to_numpy() for c in self.numeric]
        for col in self.categorical:
            # code of str(value) among the training categories; unseen or missing -> NaN
            codes = category_codes(df[col], self.categories[col]).astype("float64")
            codes[codes < 0] = np.nan
            cols.append(codes)
        return np.column_stack(cols) if cols else np.zeros((len(df), 0))

    @property
    def categorical_mask(self) -> np.ndarray:
        return np.array([False] * len(self.numeric) + [True] * len(self.categorical))


def _prior_correct(weighted_probability: np.ndarray, n_pos: int, n_neg: int) -> np.ndarray:
    """Undo balanced class weights: true odds = weighted odds * n_pos / n_neg."""
    p = np.clip(weighted_probability, 1e-12, 1 - 1e-12)
    odds = p / (1 - p) * (n_pos / n_neg)
    return odds / (1 + odds)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p)).reshape(-1, 1)


class GradientBoostingRepeatModel:
    """HistGradientBoostingClassifier with balanced class weights and native categorical splits.

    Probabilities: the class-weighted scores rank well but are far from calibrated (an overfit weighted
    model pushes most scores to ~0), so they are Platt-scaled on out-of-fold scores of the training set
    (stratified folds, at most calibration_folds, fixed seed). With fewer than 2 repeat buyers to fold,
    the prior-shift correction odds * n_pos / n_neg is used instead.
    """

    def __init__(self, numeric, categorical, seed: int, params: dict | None = None, calibration_folds: int = 3):
        self.encoder = _Encoder(numeric, categorical)
        self.seed = seed
        self.params = {**DEFAULT_MODEL_PARAMS, **(params or {})}
        self.calibration_folds = calibration_folds

    def _fit_one(self, X: np.ndarray, y: np.ndarray) -> HistGradientBoostingClassifier:
        # early stopping holds out a stratified validation split: only with enough positives for it
        early = int(y.sum()) >= 50
        model = HistGradientBoostingClassifier(
            categorical_features=self.encoder.categorical_mask,
            class_weight="balanced",
            random_state=self.seed,
            early_stopping=early,
            validation_fraction=0.15 if early else None,
            n_iter_no_change=20,
            **self.params,
        )
        with single_threaded():
            return model.fit(X, y)

    def fit(self, df: pd.DataFrame, y: np.ndarray) -> GradientBoostingRepeatModel:
        from sklearn.model_selection import StratifiedKFold

        y = np.asarray(y, dtype=int)
        self.n_pos, self.n_neg = int(y.sum()), int((1 - y).sum())
        X = self.encoder.fit(df).transform(df)
        binning.install()  # the library's weighted bin thresholds with one sort per feature: the same bits
        self.calibrator = None
        folds = min(self.calibration_folds, self.n_pos, self.n_neg)
        splits = []
        if folds >= 2:
            splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.seed).split(X, y))

        def fit_part(part: int):  # 0: the model on every row; i: fold i's model, scoring its held-out rows
            if part == 0:
                return self._fit_one(X, y)
            train_idx, valid_idx = splits[part - 1]
            return self._fit_one(X[train_idx], y[train_idx]).predict_proba(X[valid_idx])[:, 1]

        # the model and the fold models side by side (parallel_map: each fit single-threaded, as alone)
        self.model, *fold_scores = parallel_map(fit_part, range(1 + len(splits)))
        if splits:
            out_of_fold = np.zeros(len(y))
            for (_, valid_idx), scores in zip(splits, fold_scores):
                out_of_fold[valid_idx] = scores
            self.calibrator = LogisticRegression().fit(_logit(out_of_fold), y)
        self.calibration = "platt_out_of_fold" if self.calibrator is not None else "prior_shift"
        return self

    def score(self, df: pd.DataFrame, rows: np.ndarray | None = None, chunk_rows: int = 1_000_000) -> np.ndarray:
        """Class-weighted score of every row of df, or of df's rows at the sorted positions `rows`.

        Encoded and predicted block by block over df (bounded memory, no copy of the selected rows at
        millions of customers). Prediction is row by row, so it may use every core: the result does not
        depend on the threads or the blocks.
        """
        if rows is None:
            rows = np.arange(len(df))
        rows = np.asarray(rows)
        if len(rows) == 0:
            return np.zeros(0)
        parts = []
        for start in range(0, len(df), chunk_rows):
            lo, hi = np.searchsorted(rows, [start, start + chunk_rows])
            if hi == lo:
                continue
            block = df.iloc[start : start + chunk_rows]
            if hi - lo < len(block) // 2:  # few rows wanted here: predict only those
                block, wanted = block.iloc[rows[lo:hi] - start], slice(None)
            else:
                wanted = rows[lo:hi] - start
            parts.append(self.model.predict_proba(self.encoder.transform(block))[:, 1][wanted])
        return np.concatenate(parts)

    def probability(self, df: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
        return self.calibrate(self.score(df, rows))

    def calibrate(self, score: np.ndarray) -> np.ndarray:
        """Probabilities from scores of score() (Platt scaling, or the prior-shift correction)."""
        if self.calibrator is None:
            return _prior_correct(score, self.n_pos, self.n_neg)
        return self.calibrator.predict_proba(_logit(score))[:, 1]


class SingleFeatureLogistic:
    """Logistic regression on one numeric feature (median-imputed, standardized), balanced weights."""

    def __init__(self, candidates: list[str], feature: str | None):
        self.candidates, self.feature = list(candidates), feature

    def fit(self, df: pd.DataFrame, y: np.ndarray) -> SingleFeatureLogistic:
        y = np.asarray(y, dtype=int)
        self.n_pos, self.n_neg = int(y.sum()), int((1 - y).sum())
        if self.feature is None:
            # the candidate that separates the training labels best (|AUC - 0.5|), training data only
            best, best_gap = self.candidates[0], -1.0
            for col in self.candidates:
                values = pd.to_numeric(df[col], errors="coerce").astype("float64")
                if values.notna().sum() == 0:
                    continue
                gap = abs(roc_auc(y, values.fillna(values.median()).to_numpy()) - 0.5)
                if gap > best_gap + 1e-12:
                    best, best_gap = col, gap
            self.feature = best
        values = pd.to_numeric(df[self.feature], errors="coerce").astype("float64")
        self.median = float(values.median()) if values.notna().any() else 0.0
        filled = values.fillna(self.median)
        self.mean, self.std = float(filled.mean()), float(filled.std(ddof=0)) or 1.0
        self.model = LogisticRegression(class_weight="balanced").fit(self._x(df), y)
        return self

    def _x(self, df: pd.DataFrame) -> np.ndarray:
        values = pd.to_numeric(df[self.feature], errors="coerce").astype("float64").fillna(self.median)
        return ((values.to_numpy() - self.mean) / self.std).reshape(-1, 1)

    def score(self, df: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(self._x(df))[:, 1]

    def probability(self, df: pd.DataFrame) -> np.ndarray:
        return _prior_correct(self.score(df), self.n_pos, self.n_neg)


def _check_features(numeric: list[str], categorical: list[str]) -> None:
    leaked = (set(numeric) | set(categorical)) & NOT_FEATURES
    if leaked:
        raise ValueError(f"not features (label or computed from later orders): {sorted(leaked)}")


def _ordered(df: pd.DataFrame) -> pd.DataFrame:
    """Sorted by customer id when small, table order when large (ordering.py)."""
    return by_customer(df)


def _labels(codes: np.ndarray, labels: list[str]) -> pd.api.extensions.ExtensionArray:
    """A pandas string column holding labels[code] per row, null where code is -1: built by Arrow from the
    codes, without a Python string object per row (an object column of 9 M labels cost ~0.5 GB on the way)."""
    import pyarrow as pa

    dictionary = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(labels, pa.string()))
    return pd.array(dictionary.cast(pa.string()), dtype="string")


# ---------------------------------------------------------------------------------------- outputs
def repeat_model_metrics(
    df: pd.DataFrame,
    horizon_days: int,
    seed: int,
    *,
    numeric: list[str],
    categorical: list[str],
    test_share: float,
    cutoff: str | None,
    embargo: bool,
    baseline_feature: str | None,
    n_bootstrap: int,
    train_sample_size: int | None,
    bootstrap_sample_size: int | None,
    model_params: dict | None = None,
) -> pd.DataFrame:
    """One row per model (gradient boosting, always-no, single-feature logistic) on the time split.

    train_sample_size: with more training customers, both trained models are fit on a fixed-seed
    stratified sample of that many (training_sample); they are always evaluated on the whole test set.
    bootstrap_sample_size: the bootstrap CIs resample a fixed-seed sample of at most that many test rows.
    """
    numeric, categorical = list(numeric), list(categorical)
    _check_features(numeric, categorical)
    df = _ordered(df)
    train_mask, test_mask, used_cutoff = time_split(
        df, horizon_days, test_share=test_share, cutoff=cutoff, embargo=embargo
    )
    train, test = df[train_mask], df[test_mask]
    y_train = train[LABEL].fillna(False).astype(bool).to_numpy()
    y_test = test[LABEL].fillna(False).astype(bool).to_numpy()
    first = pd.to_datetime(df["first_purchased_at"])

    common = {
        "n_train": int(len(train)),
        "n_train_positive": int(y_train.sum()),
        "n_test": int(len(test)),
        "n_test_positive": int(y_test.sum()),
        "split_cutoff": used_cutoff,
        "train_first_purchase_from": first[train_mask].min() if train_mask.any() else pd.NaT,
        "train_first_purchase_to": first[train_mask].max() if train_mask.any() else pd.NaT,
        "test_first_purchase_from": first[test_mask].min() if test_mask.any() else pd.NaT,
        "test_first_purchase_to": first[test_mask].max() if test_mask.any() else pd.NaT,
        "repeat_horizon_days": int(horizon_days),
    }
    trainable = len(train) > 0 and 0 < y_train.sum() < len(train)
    keys = row_keys(df) if is_key_ordered(df) else None
    fit_rows = training_sample(y_train, train_sample_size, seed, None if keys is None else keys[train_mask])
    train_fit = train if fit_rows is None else train.iloc[fit_rows]
    y_fit = y_train if fit_rows is None else y_train[fit_rows]
    test_keys = None if keys is None else keys[test_mask]
    boot_rows = bootstrap_rows(len(test), bootstrap_sample_size, seed, test_keys)
    n_boot_rows = len(test) if boot_rows is None else len(boot_rows)
    common["n_train_fit"] = int(len(train_fit)) if trainable else 0
    common["n_test_bootstrap"] = int(n_boot_rows) if n_bootstrap > 0 else 0
    scores: dict[str, np.ndarray] = {}
    probabilities: dict[str, np.ndarray] = {}
    features: dict[str, str] = {}
    notes: dict[str, str] = {}
    calibration = {ALWAYS_NO: "none", SINGLE_FEATURE: "prior_shift", MODEL_NAME: None}

    scores[ALWAYS_NO] = np.zeros(len(test))
    probabilities[ALWAYS_NO] = np.zeros(len(test))
    features[ALWAYS_NO] = ""
    if trainable:
        baseline = SingleFeatureLogistic(numeric, baseline_feature).fit(train_fit, y_fit)
        scores[SINGLE_FEATURE] = baseline.score(test)
        probabilities[SINGLE_FEATURE] = baseline.probability(test)
        features[SINGLE_FEATURE] = baseline.feature
        model = GradientBoostingRepeatModel(numeric, categorical, seed, model_params).fit(train_fit, y_fit)
        scores[MODEL_NAME] = model.score(test)
        probabilities[MODEL_NAME] = model.calibrate(scores[MODEL_NAME])
        calibration[MODEL_NAME] = model.calibration
        used = model.encoder.numeric + model.encoder.categorical
        features[MODEL_NAME] = ", ".join(used) + (
            f" (dropped, no value in the training set: {', '.join(model.encoder.dropped)})"
            if model.encoder.dropped
            else ""
        )
    else:
        reason = "not trained: the training set needs both repeat and non-repeat customers"
        for name, feats in ((SINGLE_FEATURE, baseline_feature or ""), (MODEL_NAME, ", ".join(numeric + categorical))):
            scores[name], probabilities[name], features[name], notes[name] = None, None, feats, reason

    boot = bootstrap_auc(
        y_test, {k: v for k, v in scores.items() if v is not None}, seed, n_bootstrap, bootstrap_sample_size, test_keys
    )
    rows = []
    for name in (MODEL_NAME, ALWAYS_NO, SINGLE_FEATURE):
        row = {
            "model_name": name,
            "model_role": "model" if name == MODEL_NAME else "baseline",
            "features": features[name],
            "probability_calibration": calibration[name],
        }
        if scores[name] is None or len(test) == 0:
            row.update(
                {
                    m: float("nan")
                    for m in (
                        "roc_auc",
                        "pr_auc",
                        "precision_top_decile",
                        "recall_top_decile",
                        "mean_predicted_probability",
                    )
                }
            )
            row["base_rate"] = float(y_test.mean()) if len(test) else float("nan")
        else:
            row.update(evaluate_scores(y_test, scores[name], probabilities[name]))
        draws = boot.get(name, np.array([]))
        row["roc_auc_ci_low"] = float(np.quantile(draws, 0.025)) if len(draws) else float("nan")
        row["roc_auc_ci_high"] = float(np.quantile(draws, 0.975)) if len(draws) else float("nan")
        row.update(common)
        rows.append(row)
    out = pd.DataFrame(rows)

    # the verdict: does the model beat both baselines on the test period, and is the gain more than noise?
    model_row = out["model_name"] == MODEL_NAME
    baselines = out[out["model_role"] == "baseline"]
    m = out[model_row].iloc[0]
    out["beats_baselines"] = pd.Series([None] * len(out), dtype="boolean")
    out["roc_auc_gain_ci_low"] = float("nan")
    out["roc_auc_gain_ci_high"] = float("nan")
    if not trainable:
        verdict = notes[MODEL_NAME]
    elif len(test) == 0 or y_test.sum() == 0 or y_test.all():
        verdict = "not evaluable: the test period needs both repeat and non-repeat customers"
    else:
        best_roc = baselines["roc_auc"].max()
        best_pr = baselines["pr_auc"].max()
        beats = bool(m["roc_auc"] > best_roc and m["pr_auc"] > best_pr)
        out.loc[model_row, "beats_baselines"] = beats
        best_name = baselines.loc[baselines["roc_auc"].idxmax(), "model_name"]
        gain = boot.get(MODEL_NAME, np.array([])) - boot.get(best_name, np.array([]))
        if len(gain):
            low, high = float(np.quantile(gain, 0.025)), float(np.quantile(gain, 0.975))
            out.loc[model_row, "roc_auc_gain_ci_low"] = low
            out.loc[model_row, "roc_auc_gain_ci_high"] = high
            ci = f" (95% paired bootstrap CI of the ROC AUC gain {low:+.3f} to {high:+.3f})"
            significant = low > 0
        else:
            ci, significant = "", False
        if beats and significant:
            headline = "beats the baselines"
        elif beats:
            headline = "beats the baselines on point estimates only, the ROC AUC gain is not distinguishable from noise"
        else:
            headline = "does NOT beat the baselines"
        verdict = (
            f"{headline}: ROC AUC {m['roc_auc']:.3f} vs {best_roc:.3f} for {best_name}{ci}; PR AUC "
            f"{m['pr_auc']:.3f} vs {best_pr:.3f} best baseline; base rate {m['base_rate']:.4f}, "
            f"{int(y_test.sum())} repeat buyers among {len(test)} test customers, "
            f"{int(y_train.sum())} among {len(train)} training customers"
        )
    out["verdict"] = None
    out.loc[model_row, "verdict"] = verdict
    for name in (ALWAYS_NO, SINGLE_FEATURE):
        if name in notes:
            out.loc[out["model_name"] == name, "verdict"] = notes[name]
    return out


def repeat_scores(
    df: pd.DataFrame,
    horizon_days: int,
    seed: int,
    *,
    numeric: list[str],
    categorical: list[str],
    train_sample_size: int | None,
    model_params: dict | None = None,
) -> pd.DataFrame:
    """One row per customer of df: a repeat probability and decile for every customer whose outcome is still
    open at the analysis date (label null), the known outcome for the others (no score).

    known_outcome: 'repeated' (a repeat after the feature window, within the horizon, already happened) or
    'did not repeat' (the horizon is over without one); null = open, scored. Deciles rank the scored
    customers only.

    The model is refit on every customer whose horizon is complete (the metrics table measures the same
    recipe on the time split); train_sample_size: with more labelled customers, it is fit on a fixed-seed
    stratified sample of that many (training_sample). Open customers whose feature window is not complete at
    the analysis date are scored by the same recipe fit without WINDOW_FEATURES (feature_set
    first_order_only), since their missing delivery / review means "not yet", not "not within the window".
    Without both classes to learn from, every open customer gets the observed repeat rate and model_name
    says so.
    """
    numeric, categorical = list(numeric), list(categorical)
    _check_features(numeric, categorical)
    df = _ordered(df)
    # positions instead of boolean-mask copies of the whole frame (millions of rows, string columns)
    labelled_pos = np.flatnonzero(df["horizon_complete"].fillna(False).astype(bool).to_numpy())
    label = df[LABEL].astype("boolean")
    y_all = label.fillna(False).astype(bool).to_numpy()[labelled_pos]
    open_mask = label.isna().to_numpy(dtype=bool)
    window_complete = df[WINDOW_COMPLETE].fillna(False).astype(bool).to_numpy()
    full_pos = np.flatnonzero(open_mask & window_complete)
    partial_pos = np.flatnonzero(open_mask & ~window_complete)
    keys = row_keys(df) if is_key_ordered(df) else None
    fit_rows = training_sample(y_all, train_sample_size, seed, None if keys is None else keys[labelled_pos])
    train_pos = labelled_pos if fit_rows is None else labelled_pos[fit_rows]
    y = y_all if fit_rows is None else y_all[fit_rows]
    probability = np.full(len(df), np.nan)
    # label columns as small integer codes (-1 = null) until the output: no Python string per row
    feature_set = np.full(len(df), -1, dtype=np.int8)
    if len(train_pos) and 0 < y.sum() < len(y):
        train = df.iloc[train_pos]
        model = GradientBoostingRepeatModel(numeric, categorical, seed, model_params).fit(train, y)
        if len(full_pos):
            probability[full_pos] = model.probability(df, rows=full_pos)
            feature_set[full_pos] = 0
        if len(partial_pos):
            first_order_numeric = [c for c in numeric if c not in WINDOW_FEATURES]
            early = GradientBoostingRepeatModel(first_order_numeric, categorical, seed, model_params).fit(train, y)
            probability[partial_pos] = early.probability(df, rows=partial_pos)
            feature_set[partial_pos] = 1
        name, calibration = MODEL_NAME, model.calibration
    else:
        probability[open_mask] = float(y.mean()) if len(y) else 0.0
        name, calibration = "constant_observed_rate", "none"
    repeated = label.fillna(False).to_numpy(dtype=bool)
    known_outcome = np.where(open_mask, -1, np.where(repeated, 0, 1)).astype(np.int8)
    open_codes = np.where(open_mask, 0, -1).astype(np.int8)
    out = pd.DataFrame(
        {
            # the columns themselves: no round trip of 9 M ids through Python strings
            "customer_unique_id": df["customer_unique_id"].reset_index(drop=True),
            "first_purchased_at": pd.to_datetime(df["first_purchased_at"]).reset_index(drop=True),
            "known_outcome": _labels(known_outcome, [OUTCOME_REPEATED, OUTCOME_NOT_REPEATED]),
            "repeat_probability": probability,
        }
    )
    # decile 1 = the 10 % of scored customers most likely to buy again (ties broken by customer id,
    # deterministic); small input: rows are in customer id order (_ordered), so the position breaks ties like
    # the id (no string sort); large input: the order-free row key breaks them (ordering.py)
    scored_pos = np.flatnonzero(open_mask)
    tie_break = scored_pos if keys is None else keys[open_mask]
    order = np.lexsort((tie_break, -probability[scored_pos]))
    rank = np.empty(len(scored_pos), dtype=np.int64)
    rank[order] = np.arange(len(scored_pos))
    decile = np.zeros(len(df), dtype=np.int64)
    decile[scored_pos] = rank * 10 // max(len(scored_pos), 1) + 1
    out["repeat_decile"] = pd.arrays.IntegerArray(decile, ~open_mask)
    out["feature_window_complete"] = window_complete
    out["feature_set"] = _labels(feature_set, [FEATURE_SET_FULL, FEATURE_SET_FIRST_ORDER])
    out["model_name"] = _labels(open_codes, [name])
    out["probability_calibration"] = _labels(open_codes, [calibration])
    out["n_training_customers"] = int(len(train_pos))
    out["n_training_repeaters"] = int(y.sum())
    out["n_labelled_customers"] = int(len(y_all))
    out["n_labelled_repeaters"] = int(y_all.sum())
    out["repeat_horizon_days"] = int(horizon_days)
    return out
