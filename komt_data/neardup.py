"""Near dedup for Korean: MinHash over character shingles, LSH banding, verified clusters.

Stage 1 (per unit, independent) turns each example's content into a MinHash signature
(``num_perm`` 32-bit values, spooled to disk) and ``bands`` 32-bit band hashes (kept in
memory: 4 bytes × bands per record, 84 bytes at the default 0.8 threshold). Stage 2
groups records whose band hashes collide, verifies each candidate pair on the signatures
(estimated Jaccard ≥ threshold) and keeps the first example of every cluster in input order.

The content is the text as exact dedup sees it (:func:`komt_data.text.dedup_form`: NFC,
invisible characters removed, all whitespace removed), lower-cased. Shingles are runs of
``shingle`` Hangul syllables / characters: never NFKC (it rewrites compatibility jamo) and
never jamo decomposition (it makes every shingle span less than two syllables, so any two
Korean texts look alike). Character shingles, not word n-grams: a Korean word carries its
particle (학교에/학교를), so word n-grams change with every particle while character
shingles change only around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .text import dedup_form, squeeze

_MASK32 = np.uint64(0xFFFFFFFF)


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> np.ndarray:
    # Fixed salts (not seeded): a near duplicate is a property of the data, not of the seed.
    rng = np.random.default_rng(0x6B6F6D74)
    return rng.integers(0, np.iinfo(np.uint64).max, size=num_perm, dtype=np.uint64, endpoint=True)


_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_FNV = np.uint64(0x100000001B3)


def _mix64(z: np.ndarray) -> np.ndarray:
    # splitmix64's finalizer. Array arithmetic on uint64 wraps silently (no errstate needed:
    # entering np.errstate costs more than the arithmetic on a short review).
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def shingle_hashes(text: str, k: int) -> np.ndarray:
    """32-bit hashes of the ``k``-character shingles of ``text`` (one for shorter texts)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) == 0:
        return np.zeros(1, dtype=np.uint64)
    if len(codes) < k:
        k = len(codes)
    n = len(codes) - k + 1
    h = codes[:n].copy()
    for j in range(1, k):  # a polynomial hash of every shingle at once
        h = h * _FNV + codes[j:j + n]
    return np.unique(_mix64(h) & _MASK32)


def content_of(example: dict, fields: Sequence[str], *, cleaned: bool = False) -> str:
    """The normalized text near dedup compares for one example (``cleaned``: its fields
    already went through :func:`komt_data.text.clean_text`, as the task runner's do)."""
    form = squeeze if cleaned else dedup_form
    parts = []
    for name in fields:
        value = example.get(name)
        if isinstance(value, list):
            value = "\x1f".join(str(v) for v in value)
        parts.append(form(str(value if value is not None else "")).lower())
    return "\x1e".join(parts)


def signature(text: str, k: int, num_perm: int) -> np.ndarray:
    """The MinHash signature of ``text``: ``num_perm`` uint32 values.

    Each "permutation" is the splitmix64 finalizer of the shingle hash xor a fixed salt: a
    full-avalanche 64-bit mix, so the minimum is a uniform pick among the shingles. (A
    linear (a·h + b) mod p family needs a and b drawn over all of [0, p); with small a the
    smallest shingle hash wins every permutation and similar texts look unrelated.)
    """
    salts = _permutations(num_perm)
    h = shingle_hashes(text, k)
    values = _mix64(h[:, None] ^ salts[None, :])
    return (values.min(axis=0) & _MASK32).astype(np.uint32)


def lsh_params(threshold: float, num_perm: int, recall: float = 0.995) -> tuple[int, int]:
    """Bands and rows (bands × rows ≤ num_perm): the most rows (fewest chance candidates)
    for which a pair exactly at the threshold still shares a band with probability
    ``recall``. Candidates are verified on the signatures, so extra ones cost time only,
    while a pair that shares no band is never seen. At 0.8 and 128 values: 21 bands of 6.
    """
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if 1 - (1 - threshold ** rows) ** bands >= recall:
            best = (bands, rows)
        else:
            break
    return best


def band_hashes(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 32-bit hash per band of a signature (the band number is mixed in)."""
    view = sig[:bands * rows].astype(np.uint64).reshape(bands, rows)
    combined = (view * _row_multipliers(rows)).sum(axis=1, dtype=np.uint64) ^ _band_salts(bands)
    return (_mix64(combined) & _MASK32).astype(np.uint32)


@lru_cache(maxsize=8)
def _row_multipliers(rows: int) -> np.ndarray:
    # Distinct odd multipliers: a band's values combine order-sensitively before the mix.
    return (np.arange(rows, dtype=np.uint64) * np.uint64((0x9E3779B97F4A7C15 * 2) & 0xFFFFFFFFFFFFFFFF)) | np.uint64(1)


@lru_cache(maxsize=8)
def _band_salts(bands: int) -> np.ndarray:
    return _mix64(np.arange(1, bands + 1, dtype=np.uint64))


@dataclass(frozen=True)
class Clusters:
    """Near-dedup result over the candidate records: who is dropped and whose cluster it joins."""

    survivor_of: np.ndarray   # for each candidate, the candidate index of its cluster's survivor
    similarity: np.ndarray    # estimated Jaccard of each candidate with its survivor (1.0 for survivors)


def cluster(bands: np.ndarray, signatures: Any, scope: np.ndarray, threshold: float) -> Clusters:
    """Cluster candidates (rows, in input order) whose band hashes collide within one ``scope``
    value and whose signatures agree on at least ``threshold`` of their values.

    A colliding group is linked as a star to its first member; every link is verified on the
    signatures, then linked records are merged (union-find). The survivor of a cluster is its
    first member in input order, so the result does not depend on how stage 1 was split.
    ``signatures`` is an array, or anything that returns signature rows when indexed with
    candidate positions (the builder reads them from the spooled files on demand).
    """
    n = len(bands)
    parent = np.arange(n, dtype=np.int64)

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = int(parent[root])
        while parent[i] != root:
            parent[i], i = root, int(parent[i])
        return root

    if n:
        scope64 = scope.astype(np.uint64)
        for band in range(bands.shape[1]):
            key = (scope64 << np.uint64(32)) | bands[:, band].astype(np.uint64)
            order = np.argsort(key, kind="stable")
            sorted_key = key[order]
            starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
            ends = np.r_[starts[1:], n]
            shared = ends - starts >= 2  # most band hashes are unique: skip them without a Python loop
            for s, e in zip(starts[shared].tolist(), ends[shared].tolist(), strict=True):
                members = order[s:e]
                head = int(members[0])
                others = members[1:]
                agree = (signatures[others] == signatures[head]).mean(axis=1)
                for j in others[agree >= threshold]:
                    a, b = find(head), find(int(j))
                    if a != b:
                        parent[max(a, b)] = min(a, b)  # the earlier record stays the root
    roots = np.array([find(i) for i in range(n)], dtype=np.int64)
    similarity = np.ones(n, dtype=np.float64)
    dropped = np.flatnonzero(roots != np.arange(n))
    if len(dropped):
        similarity[dropped] = (signatures[dropped] == signatures[roots[dropped]]).mean(axis=1)
    return Clusters(survivor_of=roots, similarity=similarity)
