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
    """32-bit hashes of the distinct ``k``-character shingles of ``text`` (one for shorter texts)."""
    hashes, _ = _batch_shingles([text], k)
    return np.unique(hashes)


def _batch_shingles(texts: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The shingle hashes (uint32) of all ``texts`` at once and, for each, its text's index
    (non-decreasing). A text shorter than ``k`` is one shingle; an empty text hashes to 0."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    # One UTF-32 array of every code point: Python's len() counts exactly these.
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = len(codes)
    if total >= k:
        count = total - k + 1
        h = codes[:count].copy()
        for j in range(1, k):  # a polynomial hash of every window of the batch at once
            h *= _FNV
            h += codes[j:j + count]
        # Keep the windows that lie inside one text.
        owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)[:count]
        inside = np.arange(count, dtype=np.int64) - offsets[owner] <= (lengths - k)[owner]
        owner, long_hashes = owner[inside], (_mix64(h[inside]) & _MASK32).astype(np.uint32)
    else:
        owner, long_hashes = np.zeros(0, np.int64), np.zeros(0, np.uint32)
    short = np.flatnonzero(lengths < k)
    if len(short) == 0:
        return long_hashes, owner
    # Texts shorter than a shingle: rare, so one at a time.
    extra = np.zeros(len(short), dtype=np.uint64)
    for n, i in enumerate(short.tolist()):
        part = codes[offsets[i]:offsets[i + 1]]
        if len(part):
            h = 0
            for c in part.tolist():  # Python ints: numpy scalars warn when they wrap
                h = (h * int(_FNV) + c) & 0xFFFFFFFFFFFFFFFF
            extra[n] = _mix64(np.array([h], dtype=np.uint64))[0] & _MASK32
    owner = np.concatenate([owner, short])
    order = np.argsort(owner, kind="stable")
    return np.concatenate([long_hashes, extra.astype(np.uint32)])[order], owner[order]


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
    """The MinHash signature of ``text``: ``num_perm`` uint32 values (see :func:`signatures`)."""
    return signatures([text], k, num_perm)[0]


_U13, _U16 = np.uint32(13), np.uint32(16)
_F1, _F2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
_CHUNK = 1024  # shingles per block: a 1024 × 128 block of uint32 stays in the CPU cache


def signatures(texts: Sequence[str], k: int, num_perm: int) -> np.ndarray:
    """The MinHash signatures of ``texts``, one row of ``num_perm`` uint32 values each.

    Each "permutation" is murmur3's 32-bit finalizer of the shingle hash xor a fixed salt: a
    full-avalanche mix, so the minimum is a uniform pick among the shingles. (A linear
    (a·h + b) mod p family needs a and b drawn over all of [0, p); with small a the smallest
    shingle hash wins every permutation and similar texts look unrelated.) The whole batch
    is hashed as blocks of (shingles × num_perm) and reduced per text with
    ``np.minimum.reduceat``: per example, Python costs nothing; a row depends on its text only.
    """
    salts = (_permutations(num_perm) & _MASK32).astype(np.uint32)
    hashes, owner = _batch_shingles(texts, k)
    out = np.full((len(texts), num_perm), 0xFFFFFFFF, dtype=np.uint32)
    tmp = np.empty((min(_CHUNK, len(hashes)), num_perm), dtype=np.uint32)
    for start in range(0, len(hashes), _CHUNK):
        block = hashes[start:start + _CHUNK]
        x = np.bitwise_xor(block[:, None], salts[None, :])
        t = tmp[:len(block)]
        np.right_shift(x, _U16, out=t)
        x ^= t
        x *= _F1
        np.right_shift(x, _U13, out=t)
        x ^= t
        x *= _F2
        np.right_shift(x, _U16, out=t)
        x ^= t
        who = owner[start:start + _CHUNK]
        starts = np.flatnonzero(np.r_[True, who[1:] != who[:-1]])
        ids = who[starts]  # a text's shingles are contiguous, so ids are distinct in a block
        out[ids] = np.minimum(out[ids], np.minimum.reduceat(x, starts, axis=0))
    return out


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
    """One 32-bit hash per band of a signature, or of each row of a 2-D array of signatures
    (the band number is mixed in)."""
    view = sig[..., :bands * rows].astype(np.uint64).reshape(sig.shape[:-1] + (bands, rows))
    combined = (view * _row_multipliers(rows)).sum(axis=-1, dtype=np.uint64) ^ _band_salts(bands)
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
