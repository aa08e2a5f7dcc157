"""Seeded per-record keys and the sorts on them: every sampling, split and order decision
comes from a hash of the record and the seed, never from the order records arrived in, so
the same inputs give the same output whatever the number of workers.
"""

from __future__ import annotations

import numpy as np

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)

# Salts that make the sampling, split and order keys independent of each other.
SAMPLE, SPLIT, ORDER = 0x5A17, 0x5B11, 0x0DE7


def seeded_keys(id_hashes: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """A uniform 64-bit key per record from its id hash and the seed (splitmix64 finalizer)."""
    # In place, with one scratch array: stage 2's peak memory is here, and each temporary of
    # an expression like (z ^ (z >> 30)) * m costs 8 bytes a record. uint64 wraps silently.
    z = np.bitwise_xor(id_hashes.astype(np.uint64, copy=False),
                       np.uint64((seed * 0x9E3779B97F4A7C15 + salt) & 0xFFFFFFFFFFFFFFFF))
    z += np.uint64(0x9E3779B97F4A7C15)
    t = np.empty_like(z)
    for shift, multiplier in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
        np.right_shift(z, np.uint64(shift), out=t)
        z ^= t
        z *= np.uint64(multiplier)
    np.right_shift(z, np.uint64(31), out=t)
    z ^= t
    return z


def sort_order(primary: np.ndarray, secondary: np.ndarray | None = None) -> np.ndarray:
    """Positions ordered by ``primary``, ties by ``secondary`` (if given), then by position:
    ``np.lexsort((secondary, primary))``, or ``np.argsort(primary, kind="stable")``.

    Faster than either when few ``primary`` values repeat (hashes): an unstable argsort of
    ``primary`` alone is several times faster than a stable sort, and only the runs of equal
    values are then put in order, by a lexsort of just their positions."""
    order = np.argsort(primary)
    sorted_primary = primary[order]
    same = sorted_primary[1:] == sorted_primary[:-1]
    del sorted_primary
    if same.any():
        tied = np.r_[False, same] | np.r_[same, False]
        runs = order[tied]  # equal values are adjacent: the runs in value order, as in the result
        keys = (runs, primary[runs]) if secondary is None else (runs, secondary[runs], primary[runs])
        order[tied] = runs[np.lexsort(keys)]
    return order


def smallest(keys: np.ndarray, k: int) -> np.ndarray:
    """Mask of the ``k`` records with the smallest keys (ties broken by position)."""
    mask = np.zeros(len(keys), dtype=bool)
    if k >= len(keys):
        mask[:] = True
    elif k > 0:
        mask[sort_order(keys)[:k]] = True
    return mask
