"""The hash functions of dedup and of the seeded decisions, written once.

:func:`splitmix64` (and its in-place twin) is splitmix64's finalizer: it turns any 64-bit
numbers into uniform ones. :func:`rolling_hashes` is the polynomial (FNV-prime) hash of every
``n``-code window of an array of code points, computed for all windows at once. Near dedup's
shingles, decontamination's n-grams and the seeded sample/split/order keys all go through
these, so one change here changes every one of them (and the output bytes).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

GOLDEN = 0x9E3779B97F4A7C15  # splitmix64's increment (2**64 / golden ratio)
FNV = np.uint64(0x100000001B3)  # the 64-bit FNV prime: the base of the rolling hash

_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def splitmix64(z: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer of ``z`` (uint64), as a new array; ``z`` is left alone."""
    # Array arithmetic on uint64 wraps silently (no errstate needed: entering np.errstate
    # costs more than the arithmetic on a short review).
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def splitmix64_inplace(z: np.ndarray) -> np.ndarray:
    """:func:`splitmix64` of ``z``, overwriting it and returning it.

    One scratch array and no other temporary: each temporary of an expression like
    ``(z ^ (z >> 30)) * m`` costs 8 bytes a record (and page faults), and stage 2's peak
    memory is where the seeded keys are made."""
    t = z >> _S30
    z ^= t
    z *= _M1
    np.right_shift(z, _S27, out=t)
    z ^= t
    z *= _M2
    np.right_shift(z, _S31, out=t)
    z ^= t
    return z


def rolling_hashes(codes: np.ndarray, n: int, count: int | None = None,
                   on_step: Callable[[int, np.ndarray], None] | None = None) -> np.ndarray:
    """``h[p]``: the polynomial hash (base :data:`FNV`, wrapping) of ``codes[p:p + n]``, for
    every start ``p < count`` (default: every start with ``n`` codes after it).

    ``codes`` is uint64. ``on_step(j, h)``, if given, is called once ``h`` covers ``j``
    codes, for ``j`` = 1 … ``n``: a caller that also needs shorter windows (a text shorter
    than ``n``) takes them there. The windows are not mixed: callers pass the hashes they
    keep to :func:`splitmix64` or :func:`splitmix64_inplace`."""
    if count is None:
        count = len(codes) - n + 1
    h = codes[:count].copy()
    for j in range(1, n + 1):
        if on_step is not None:
            on_step(j, h)
        if j < n:
            h *= FNV
            h += codes[j:j + count]
    return h
