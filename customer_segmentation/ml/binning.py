"""The bin thresholds of HistGradientBoostingClassifier with sample weights, one sort per feature instead of 254.

Why: the repeat model is fit with class_weight="balanced", i.e. with sample weights. On fewer than 200,000 rows
(above that sklearn bins a weighted subsample without weights) scikit-learn 1.9.1 finds the thresholds of every
continuous feature with one `_weighted_percentile` call per threshold (`_find_binning_thresholds` in
sklearn/ensemble/_hist_gradient_boosting/binning.py), and each call sorts the column again: 254 sorts per feature
and fit. At 100 k orders that was 3.3 of the 5.9 s of `customer_repeat_scores` (16 fits of 57,765 rows,
cProfile, 2026-12-04).

`_weighted_percentile` takes a vector of percentile ranks and computes each one exactly as it computes a single
one (the same sort, the same cumulative weights, the same searchsorted per rank): `find_binning_thresholds` does
what the library's function does with one such call, so the thresholds, and with them the trees and every score,
are the same bits (tests/python/test_ml.py compares it with the library's own function, ties, zero weights,
missing values and few distinct values included, and a fit with and without it).

`install()` puts it in place of the library's function for the scikit-learn release it was checked against only;
any other release keeps its own (slower, same results).
"""
from __future__ import annotations

import numpy as np

CHECKED_SKLEARN_VERSION = "1.9.1"


def find_binning_thresholds(col_data, max_bins, sample_weight=None):
    """sklearn's `_find_binning_thresholds` (1.9.1): the same arguments and the same result."""
    from numpy.lib.stride_tricks import sliding_window_view
    from sklearn.ensemble._hist_gradient_boosting.common import ALMOST_INF, X_DTYPE
    from sklearn.utils.stats import _weighted_percentile

    # the library's steps, in its order: missing values out, zero weights out, sorted once
    missing = np.isnan(col_data)
    any_missing = missing.any()
    if any_missing:
        col_data = col_data[~missing]
    if sample_weight is not None:
        if any_missing:
            sample_weight = sample_weight[~missing]
        nonzero = sample_weight != 0
        col_data = col_data[nonzero]
        sample_weight = sample_weight[nonzero]
    order = np.argsort(col_data)
    col_data = col_data[order]
    if sample_weight is not None:
        sample_weight = sample_weight[order]
    distinct = np.unique(col_data).astype(X_DTYPE)
    if len(distinct) == 1:
        return np.asarray([])
    percentiles = np.linspace(0, 100, num=max_bins + 1)[1:-1]
    if len(distinct) <= max_bins:
        thresholds = sliding_window_view(distinct, 2).mean(axis=1)
    elif sample_weight is None:
        thresholds = np.percentile(col_data, percentiles, method="averaged_inverted_cdf")
    else:
        # the one change: every rank in one call (one sort), not one call per rank
        thresholds = np.asarray(_weighted_percentile(col_data, sample_weight, percentiles, average=True))
    unique = np.unique(thresholds)
    if unique.shape[0] != thresholds.shape[0]:
        thresholds = unique
    np.clip(thresholds, a_min=None, a_max=ALMOST_INF, out=thresholds)
    return thresholds


_LIBRARY_FUNCTION = None


def library_find_binning_thresholds():
    """scikit-learn's own `_find_binning_thresholds`, also after install() (the reference of the tests)."""
    from sklearn.ensemble._hist_gradient_boosting import binning

    return _LIBRARY_FUNCTION or binning._find_binning_thresholds


def install() -> bool:
    """Use find_binning_thresholds inside scikit-learn's HistGradientBoosting binning (the checked release only).

    Returns whether it is in place. Idempotent.
    """
    global _LIBRARY_FUNCTION
    import sklearn
    from sklearn.ensemble._hist_gradient_boosting import binning

    if sklearn.__version__ != CHECKED_SKLEARN_VERSION:
        return False
    if binning._find_binning_thresholds is not find_binning_thresholds:
        _LIBRARY_FUNCTION = binning._find_binning_thresholds
        binning._find_binning_thresholds = find_binning_thresholds
    return True
