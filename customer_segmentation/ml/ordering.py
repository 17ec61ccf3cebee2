"""Row order and fixed-seed samples that do not depend on the order rows arrive in.

Small inputs (up to SORT_LIMIT rows) are sorted by customer_unique_id and sampled with numpy's seeded
generator, exactly as before the scale work. Sorting millions of string ids and reordering the whole
frame cost 10-20 s per model, so larger inputs stay in table order and everything order-sensitive
(fit samples, the order rows are fed to a model, bootstrap rows) is decided by a per-customer key
instead: a 64-bit hash of customer_unique_id (frames.md5_key: the first 16 hex digits of its md5, fetched as
column ROW_KEY by the dbt models, computed with hashlib when the column is absent; the same on every engine),
mixed with the seed. A sample of m rows is then the m
customers with the smallest mixed keys, in key order: the same customers and order whatever the table
order, and a different seed gives a different sample.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from customer_segmentation.ml.frames import md5_keys

# frames with at most this many rows are sorted by customer_unique_id (the exact small-data behaviour)
SORT_LIMIT = 1_000_000
ROW_KEY = "row_key"

_M1, _M2, _GOLDEN = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0x9E3779B97F4A7C15)


def by_customer(df: pd.DataFrame) -> pd.DataFrame:
    """df sorted by customer_unique_id when small (no-op if already sorted), else as is (fresh index)."""
    if len(df) > SORT_LIMIT or df["customer_unique_id"].is_monotonic_increasing:
        return df.reset_index(drop=True)
    return df.sort_values("customer_unique_id", kind="stable").reset_index(drop=True)


def is_key_ordered(df: pd.DataFrame) -> bool:
    """True when by_customer left df in table order (large input): order-sensitive steps use keys."""
    return len(df) > SORT_LIMIT


def row_keys(df: pd.DataFrame) -> np.ndarray:
    """uint64 key per row: the ROW_KEY column if present, else frames.md5_key of customer_unique_id."""
    if ROW_KEY in df.columns:
        return df[ROW_KEY].to_numpy(dtype=np.uint64)
    return md5_keys(df["customer_unique_id"])


def mixed(keys: np.ndarray, seed: int, stream: int) -> np.ndarray:
    """splitmix64 of key + seed/stream offset: independent orders for each (seed, stream)."""
    with np.errstate(over="ignore"):
        z = np.asarray(keys, dtype=np.uint64) + _GOLDEN * np.uint64((int(seed) * 1_000_003 + int(stream)) % 2**64)
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def smallest(keys: np.ndarray, size: int) -> np.ndarray:
    """Positions of the `size` smallest keys, ordered by key (all positions, key-ordered, if size >= n)."""
    keys = np.asarray(keys)
    size = min(int(size), len(keys))
    if size < len(keys):
        part = np.argpartition(keys, size - 1)[:size] if size > 0 else np.zeros(0, dtype=np.int64)
    else:
        part = np.arange(len(keys))
    return part[np.argsort(keys[part], kind="stable")]
