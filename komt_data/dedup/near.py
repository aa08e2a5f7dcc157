"""Near dedup for Korean: MinHash over character shingles, LSH banding, verified clusters.

Two examples are near duplicates only when they teach the same thing: their outputs agree
(the label, score or answer: the exact-dedup fields near dedup does not compare must be
equal) and every compared field is near-identical *on its own*. A premise or passage that
several examples share therefore never makes their different hypotheses or questions merge.

Stage 1 (per unit, independent) makes each example's row: the 64-bit hash of its outputs
(two uint32 words, :data:`HEAD`), then one MinHash signature (``num_perm`` uint32 values)
per compared field, spooled to disk; and its LSH band hashes (kept in memory: 4 bytes a
band, 84 bytes at the default 0.8 threshold, whatever the number of fields). A band
hashes the same few values of every field's signature and the output hash
(:func:`near_bands`): only examples with equal outputs that agree on every field can
collide, so a premise or passage shared by many examples does not make them candidates.
Stage 2 groups records whose band hashes collide, verifies each candidate pair on the rows
(equal outputs, and the estimated Jaccard of every field ≥ threshold) and keeps the first
example of every cluster in input order.

Recall: a pair whose every field is at the threshold t shares a band with probability
≥ 0.995; the values per field and band are chosen for that (:func:`lsh_params_for`).

The compared text is the text as exact dedup sees it (:func:`komt_data.text.dedup_form`: NFC,
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
from xxhash import xxh3_64_intdigest

from ..text import dedup_form, squeeze
from .hashing import GOLDEN, rolling_hashes, splitmix64, splitmix64_inplace

_MASK32 = np.uint64(0xFFFFFFFF)


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> np.ndarray:
    # Fixed salts (not seeded): a near duplicate is a property of the data, not of the seed.
    rng = np.random.default_rng(0x6B6F6D74)
    return rng.integers(0, np.iinfo(np.uint64).max, size=num_perm, dtype=np.uint64, endpoint=True)


def shingle_hashes(text: str, k: int) -> np.ndarray:
    """32-bit hashes of the distinct ``k``-character shingles of ``text`` (one for shorter texts)."""
    hashes, _ = _batch_shingles([text], k)
    return np.unique(hashes)


def _batch_shingles(texts: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The shingle hashes (uint32) of all ``texts`` at once and, for each, its text's index
    (non-decreasing). A text shorter than ``k`` is one shingle; an empty text hashes to 0."""
    n = len(texts)
    lengths = np.array(list(map(len, texts)), dtype=np.int64)
    # One UTF-32 array of every code point (Python's len() counts exactly these), and k - 1
    # zeros so that a window starts at every position.
    text = "".join(texts).encode("utf-32-le") + b"\0\0\0\0" * (k - 1)
    codes = np.frombuffer(text, dtype=np.uint32).astype(np.uint64)
    total = len(codes) - (k - 1)
    ends = np.cumsum(lengths)
    short = lengths < k
    # A polynomial hash of every window of the batch at once; after step j, h[p] is the hash
    # of the j + 1 characters from p: a text shorter than k takes it at its own length.
    short_hashes = np.zeros(int(np.count_nonzero(short)), dtype=np.uint64)
    short_starts, short_lengths = (ends - lengths)[short], lengths[short]

    def take_short(j: int, h: np.ndarray) -> None:
        done = short_lengths == j
        short_hashes[done] = h[short_starts[done]]

    h = rolling_hashes(codes, k, total, take_short)
    # Windows that lie inside one text: all but those starting in a text's last k - 1 positions.
    inside = np.ones(total, dtype=bool)
    last = (ends[:, None] - np.arange(1, k, dtype=np.int64)[None, :]).ravel()
    inside[last[last >= 0]] = False
    long_hashes = splitmix64_inplace(h[inside])
    nonempty = short_lengths > 0
    short_hashes[nonempty] = splitmix64_inplace(short_hashes[nonempty])
    counts = np.where(short, 1, lengths - k + 1)
    owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    hashes = np.empty(len(owner), dtype=np.uint32)
    of_short = short[owner]
    hashes[~of_short] = long_hashes & _MASK32
    hashes[of_short] = short_hashes & _MASK32
    return hashes, owner


HEAD = 2  # uint32 words before a row's signatures: the 64-bit hash of the example's outputs


def field_texts(example: dict, fields: Sequence[str], *, cleaned: bool = False) -> tuple[str, ...]:
    """The normalized text of each of ``fields`` of one example, as near dedup compares them
    (``cleaned``: the fields already went through :func:`komt_data.text.clean_text`, as the
    task runner's do)."""
    if cleaned and len(fields) == 1:  # the common case (one text field), without the loop
        value = example.get(fields[0])
        if type(value) is str:
            return (squeeze(value).lower(),)
    form = squeeze if cleaned else dedup_form
    parts = []
    for name in fields:
        value = example.get(name)
        if type(value) is not str:
            if isinstance(value, list):
                value = "\x1f".join(str(v) for v in value)
            value = str(value if value is not None else "")
        parts.append(form(value).lower())
    return tuple(parts)


def output_hash(example: dict, fields: Sequence[str], family: str, *, cleaned: bool = False) -> int:
    """The 64-bit identity of what an example teaches besides its compared fields (its label,
    score or answer: ``fields``) and of its family; near duplicates must have equal ones."""
    texts = field_texts(example, fields, cleaned=cleaned)
    return xxh3_64_intdigest("\x1e".join((family, *texts)).encode())


def near_rows(contents: Sequence[tuple[int, tuple[str, ...]]], k: int, num_perm: int) -> np.ndarray:
    """The rows of a batch of examples, each given as (:func:`output_hash`, :func:`field_texts`)
    with the same number of fields F: ``HEAD + F × num_perm`` uint32 each (the output hash,
    then every field's MinHash signature).

    A text repeated in the batch (a passage under several questions, an example rendered
    with several templates) is hashed once."""
    n = len(contents)
    fields = len(contents[0][1]) if n else 0
    seen: dict[str, int] = {}
    where = np.empty((n, fields), dtype=np.int64)
    for f in range(fields):
        # A comprehension, not a loop per text: with short reviews this is per-example cost.
        where[:, f] = [seen.setdefault(parts[f], len(seen)) for _, parts in contents]
    unique = signatures(list(seen), k, num_perm)
    rows = np.empty((n, HEAD + fields * num_perm), dtype=np.uint32)
    outputs = np.array([c[0] for c in contents], dtype=np.uint64)
    rows[:, 0] = outputs & _MASK32
    rows[:, 1] = outputs >> np.uint64(32)
    rows[:, HEAD:] = unique[where].reshape(n, fields * num_perm)
    return rows


def row_outputs(rows: np.ndarray) -> np.ndarray:
    """The output hashes (uint64) of rows made by :func:`near_rows`."""
    return rows[:, 0].astype(np.uint64) | (rows[:, 1].astype(np.uint64) << np.uint64(32))


def lsh_params_for(threshold: float, num_perm: int, fields: int, recall: float = 0.995) -> tuple[int, int]:
    """Bands and rows per field for examples compared on ``fields`` fields. A band holds
    ``rows`` values of every field, so a pair collides in it with probability ∏ J_f ** rows,
    at least threshold ** (fields × rows) when every field is at the threshold.

    The band count of one field (:func:`lsh_params`: 21 at 0.8) is kept, so the band hashes
    cost the same bytes whatever a task compares, and the rows per field are the most that
    keep ``recall`` (two fields at 0.8: 3 each). Only when even one value per field is too
    many (seven fields or more at 0.8) are there more bands, one value of each field.
    """
    bands, rows = lsh_params(threshold, num_perm, recall)
    if fields <= 1:
        return bands, rows
    best = 0
    for r in range(1, num_perm // bands + 1):
        if 1 - (1 - threshold ** (fields * r)) ** bands >= recall:
            best = r
        else:
            break
    if best:
        return bands, best
    for more in range(bands + 1, num_perm + 1):
        if 1 - (1 - threshold ** fields) ** more >= recall:
            return more, 1
    return num_perm, 1


def near_bands(rows: np.ndarray, num_perm: int, bands: int, per_band: int, width: int | None = None) -> np.ndarray:
    """The LSH band hashes of near-dedup rows: band b hashes values b × per_band … of *every*
    field's signature together, and the output hash, so examples collide in a band only
    when their outputs are equal and every field agrees on those values. (Bands of one
    signature of all fields together would let a long shared premise or passage make all
    its examples collide, and a cluster's first member then hides the pairs behind it.)

    ``width``: the recipe's band count, when a task with many fields needs more bands than
    this one: the band hashes are repeated up to it (a repeated collision is verified once)."""
    n = len(rows)
    fields = (rows.shape[1] - HEAD) // num_perm
    sig = rows[:, HEAD:].reshape(n, fields, num_perm)[:, :, :bands * per_band]
    # (n, fields, bands, per_band) -> (n, bands, fields, per_band): each band's values together.
    arranged = sig.reshape(n, fields, bands, per_band).transpose(0, 2, 1, 3).reshape(n, bands * fields * per_band)
    hashes = band_hashes(arranged, bands, fields * per_band, salt=row_outputs(rows))
    if width is not None and width > bands:
        hashes = hashes[:, np.arange(width) % bands]
    return hashes


def signature(text: str, k: int, num_perm: int) -> np.ndarray:
    """The MinHash signature of ``text``: ``num_perm`` uint32 values (see :func:`signatures`)."""
    return signatures([text], k, num_perm)[0]


_U13, _U16 = np.uint32(13), np.uint32(16)
_F1, _F2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
_CHUNK = 1024  # shingle rows per block: a 1024 × 128 block of uint32 stays in the CPU cache


def signatures(texts: Sequence[str], k: int, num_perm: int) -> np.ndarray:
    """The MinHash signatures of ``texts``, one row of ``num_perm`` uint32 values each.

    Each "permutation" is murmur3's 32-bit finalizer of the shingle hash xor a fixed salt: a
    full-avalanche mix, so the minimum is a uniform pick among the shingles. (A linear
    (a·h + b) mod p family needs a and b drawn over all of [0, p); with small a the smallest
    shingle hash wins every permutation and similar texts look unrelated.) The whole batch
    is hashed as blocks of (shingles × num_perm): per example, Python costs nothing; a row
    depends on its text only.

    How the blocks are laid out is about speed only (the values are the finalizer's): texts
    with about the same number of shingles share a block, each padded to one width by
    repeating its last shingle (a repeat cannot change a minimum), so that a text's minimum
    is a plain ``min`` over one axis (``np.minimum.reduceat`` over ragged rows costs several
    times as much). The finalizer's first step, ``x ^= x >> 16``, distributes over the xor
    with the salt, so it is applied once per shingle and once per salt instead of per pair.
    """
    salts = (_permutations(num_perm) & _MASK32).astype(np.uint32)
    salts ^= salts >> _U16
    hashes, owner = _batch_shingles(texts, k)
    hashes ^= hashes >> _U16
    n = len(texts)
    out = np.empty((n, num_perm), dtype=np.uint32)
    if n == 0:
        return out
    counts = np.bincount(owner, minlength=n)  # at least 1: a text shorter than k is one shingle
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    # Pad to the count rounded up to an eighth of its power of two: at most 1/8 wasted,
    # and few distinct widths (each is a few numpy calls).
    step = np.maximum(1, (1 << np.log2(counts).astype(np.int64)) >> 3)
    width = -(-counts // step) * step
    order = np.argsort(width, kind="stable")
    sorted_width = width[order]
    bounds = np.flatnonzero(np.r_[True, sorted_width[1:] != sorted_width[:-1], True]).tolist()
    # Preallocated blocks: a fresh 512 KB array per block would cost page faults every time.
    x_block, tmp = np.empty(_CHUNK * num_perm, dtype=np.uint32), np.empty(_CHUNK * num_perm, dtype=np.uint32)
    salt_block = np.tile(salts, _CHUNK)
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        w = int(sorted_width[lo])
        group = order[lo:hi]
        if w > _CHUNK:  # a long document: its own blocks, one after another
            for t in group.tolist():
                own = hashes[starts[t]:starts[t + 1]]
                out[t] = 0xFFFFFFFF
                for s in range(0, len(own), _CHUNK):
                    np.minimum(out[t], _finalize(own[s:s + _CHUNK], salt_block, x_block, tmp).min(axis=0), out=out[t])
            continue
        per = _CHUNK // w
        column = np.arange(w, dtype=np.int64)[:, None]
        for g in range(0, len(group), per):
            members = group[g:g + per]
            # Shingle j of every member, then shingle j + 1, ...: the minimum over j is then
            # an elementwise minimum of whole (members × salts) slabs.
            rows = starts[members][None, :] + np.minimum(column, counts[members][None, :] - 1)
            x = _finalize(hashes[rows.ravel()], salt_block, x_block, tmp)
            out[members] = x.reshape(w, len(members), num_perm).min(axis=0)
    return out


def _finalize(hashes: np.ndarray, salt_block: np.ndarray, x_block: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """murmur3's finalizer of every (shingle hash xor salt), both already through ``x ^= x >> 16``:
    a (shingles × salts) view of ``x_block``. ``salt_block`` is the salts repeated."""
    num_perm = len(salt_block) // _CHUNK
    size = len(hashes) * num_perm
    x = x_block[:size].reshape(len(hashes), num_perm)
    np.copyto(x, hashes[:, None])  # then a plain xor: a broadcast one costs twice as much
    np.bitwise_xor(x, salt_block[:size].reshape(x.shape), out=x)
    t = tmp[:size].reshape(x.shape)
    x *= _F1
    np.right_shift(x, _U13, out=t)
    x ^= t
    x *= _F2
    np.right_shift(x, _U16, out=t)
    x ^= t
    return x


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


def band_hashes(sig: np.ndarray, bands: int, rows: int, salt: Any = None) -> np.ndarray:
    """One 32-bit hash per band of a signature, or of each row of a 2-D array of signatures
    (the band number is mixed in, and ``salt``, a uint64 per signature: the output hash, so
    that only examples with equal outputs collide)."""
    view = sig[..., :bands * rows].reshape(sig.shape[:-1] + (bands, rows))
    multipliers = _row_multipliers(rows)
    # Row by row over all bands at once (a sum over a short last axis costs three times as
    # much); uint64 arithmetic wraps, so the order of the terms does not matter.
    combined = np.multiply(view[..., 0], multipliers[0], dtype=np.uint64)
    for r in range(1, rows):
        combined += np.multiply(view[..., r], multipliers[r], dtype=np.uint64)
    combined ^= _band_salts(bands)
    if salt is not None:
        combined ^= np.asarray(salt, dtype=np.uint64)[..., None]
    return (splitmix64(combined) & _MASK32).astype(np.uint32)


@lru_cache(maxsize=8)
def _row_multipliers(rows: int) -> np.ndarray:
    # Distinct odd multipliers: a band's values combine order-sensitively before the mix.
    return (np.arange(rows, dtype=np.uint64) * np.uint64((GOLDEN * 2) & 0xFFFFFFFFFFFFFFFF)) | np.uint64(1)


@lru_cache(maxsize=8)
def _band_salts(bands: int) -> np.ndarray:
    return splitmix64(np.arange(1, bands + 1, dtype=np.uint64))


@dataclass(frozen=True)
class Clusters:
    """Near-dedup result over the candidate records: who is dropped and whose cluster it joins."""

    survivor_of: np.ndarray   # for each candidate, the candidate index of its cluster's survivor
    similarity: np.ndarray    # lowest per-field estimated Jaccard of each candidate with its survivor
                              # (1.0 for survivors)


def cluster(bands: np.ndarray, signatures: Any, scope: np.ndarray, threshold: float, num_perm: int) -> Clusters:
    """Cluster candidates (rows, in input order) whose band hashes collide within one ``scope``
    value and whose rows (:func:`near_rows`: output hash, then one signature of ``num_perm``
    values per field) have equal outputs and agree on at least ``threshold`` of the values
    of every field.

    A colliding group is linked as a star to its first member; every link is verified on the
    signatures, then linked records are merged. The survivor of a cluster is its first
    member in input order, so the result does not depend on how stage 1 was split.
    ``signatures`` is an array of rows, or anything that returns rows when indexed with
    an increasing array of candidate positions (the builder reads them from the spooled
    files on demand).

    The clusters are the connected components of the verified links, whatever order links
    are found in; so the links of several bands are handled together as arrays, a pair
    linked in several of them is verified once, and a link between records an earlier
    batch of bands already joined is not verified again.
    """
    n = len(bands)
    # A forest whose every root is its tree's smallest index (a parent is never larger than
    # its child). Roots are looked up for the linked rows only (:func:`_find`), and the
    # forest is flattened at the end (and on the way only when a path grows long): no pass
    # over every row per band.
    parent = np.arange(n, dtype=np.int64)
    if n:
        scope = scope.astype(np.int64)
        low = int(scope.min())
        scope_bits = int(scope.max() - low).bit_length()
        row_bits = max(1, (n - 1).bit_length())
        packed = scope_bits + 32 + row_bits <= 64
        if packed:  # (scope, band hash, row) in one uint64: a plain sort orders groups and rows
            prefix = ((scope - low).astype(np.uint64) << np.uint64(32 + row_bits)) | np.arange(n, dtype=np.uint64)
        else:
            prefix = scope.astype(np.uint64) << np.uint64(32)
        keys = np.empty(n, np.uint64)  # one buffer for every band's keys, sorted in place
        pending: list[tuple[np.ndarray, np.ndarray]] = []
        waiting = 0
        for band in range(bands.shape[1]):
            if packed:
                keys[:] = bands[:, band]  # widened first: a uint32 shift would drop the high bits
                keys <<= np.uint64(row_bits)
                keys |= prefix
                heads, others = _packed_links(keys, row_bits)
            else:
                heads, others = _band_links(prefix | bands[:, band])
            if len(heads):
                pending.append((heads, others))
                waiting += len(heads)
            # Links of several bands verified together: a pair that collides in many bands
            # is verified once, and a record's signature is read once per batch, not per band.
            if pending and (waiting >= _LINKS or band == bands.shape[1] - 1):
                _join_verified(parent, signatures, threshold, num_perm, pending)
                pending, waiting = [], 0
    _flatten(parent)
    roots = parent
    similarity = np.ones(n, dtype=np.float64)
    dropped = np.flatnonzero(roots != np.arange(n))
    if len(dropped):
        similarity[dropped] = _agreement(signatures, dropped, roots[dropped], num_perm)
    return Clusters(survivor_of=roots, similarity=similarity)


def _join_verified(parent: np.ndarray, signatures: Any, threshold: float, num_perm: int,
                   links: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Join the linked pairs (``links``: arrays of heads and others) whose rows agree
    (:func:`_agreement` ≥ ``threshold``); each distinct pair not joined yet is verified once."""
    heads = np.concatenate([h for h, _ in links])
    others = np.concatenate([o for _, o in links])
    unjoined = _find(parent, heads) != _find(parent, others)
    heads, others = heads[unjoined], others[unjoined]
    if len(heads) == 0:
        return
    order = np.lexsort((others, heads))  # repeats adjacent; by head, so a batch's reads are near
    heads, others = heads[order], others[order]
    distinct = np.r_[True, (heads[1:] != heads[:-1]) | (others[1:] != others[:-1])]
    heads, others = heads[distinct], others[distinct]
    agree = _agreement(signatures, heads, others, num_perm) >= threshold
    _join(parent, heads[agree], others[agree])


def _packed_links(packed: np.ndarray, row_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_band_links` of keys packed above their row number (``row_bits`` low bits):
    sorting the values alone (no argsort) puts groups together, rows ascending in each.
    Sorts ``packed`` in place."""
    packed.sort()
    ordered = packed
    key = ordered >> np.uint64(row_bits)
    same = key[1:] == key[:-1]  # most band hashes are unique
    shared = np.flatnonzero(np.r_[False, same] | np.r_[same, False])
    if len(shared) == 0:
        return shared, shared
    rows = (ordered[shared] & np.uint64((1 << row_bits) - 1)).astype(np.int64)
    first = np.r_[True, ~same][shared]
    heads = rows[first][np.cumsum(first) - 1]
    return heads[~first], rows[~first]


def _band_links(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every group of rows with equal ``key``: (first row, other row) of each other row."""
    # An unstable sort is several times faster than a stable one; the few rows that share a
    # key are put back in input order below.
    order = np.argsort(key)
    sorted_key = key[order]
    same = sorted_key[1:] == sorted_key[:-1]  # most band hashes are unique
    shared = np.flatnonzero(np.r_[False, same] | np.r_[same, False])
    if len(shared) == 0:
        return shared, shared
    group = np.cumsum(np.r_[True, ~same][shared])
    rows = order[shared]
    by_row = np.lexsort((rows, group))
    rows, group = rows[by_row], group[by_row]
    first = np.r_[True, group[1:] != group[:-1]]
    heads = rows[first][np.cumsum(first) - 1]
    return heads[~first], rows[~first]


def _flatten(parent: np.ndarray) -> None:
    """Point every node of the forest straight at its root (in place)."""
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            return
        parent[:] = grand


def _find(parent: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """The roots of ``nodes``, following their paths only; the nodes then point straight at
    their roots (path compression: later look-ups of them take one step)."""
    roots = parent[nodes]
    for _ in range(_STEPS):
        up = parent[roots]
        if np.array_equal(up, roots):
            parent[nodes] = roots
            return roots
        roots = up
    # A long path (one round of joins can chain a whole run of records): every node halves
    # its distance to the root on each pass, instead of these nodes climbing one level a pass.
    _flatten(parent)
    return parent[nodes]


def _join(parent: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Merge the trees of every pair (``a[i]``, ``b[i]``) of the forest, the smaller root
    becoming the parent, so a root stays its tree's smallest index."""
    while len(a):
        ra, rb = _find(parent, a), _find(parent, b)
        apart = ra != rb
        ra, rb = ra[apart], rb[apart]
        if len(ra) == 0:
            return
        # A root linked to several smaller ones takes the smallest; the others are joined
        # on the next round, when the pairs' roots are looked up again.
        np.minimum.at(parent, np.maximum(ra, rb), np.minimum(ra, rb))
        a, b = a[apart], b[apart]


_LINKS = 1 << 16  # band links gathered before they are verified (16 bytes a link)
_STEPS = 8  # levels a root look-up climbs before the whole forest is flattened
_PAIRS = 8192  # candidate pairs compared at once: their rows cost 1 KB a pair and field at 128 values


def _agreement(signatures: Any, a: np.ndarray, b: np.ndarray, num_perm: int) -> np.ndarray:
    """For every pair (``a[i]``, ``b[i]``): 0 when their outputs differ, else the lowest share
    of equal signature values over their fields (the estimated Jaccard of the least similar
    field). Rows of different widths (tasks with more fields) are zero-padded by the reader,
    and their outputs differ anyway (the family is part of the output hash)."""
    out = np.empty(len(a), dtype=np.float64)
    for s in range(0, len(a), _PAIRS):
        aa, bb = a[s:s + _PAIRS], b[s:s + _PAIRS]
        rows, inverse = np.unique(np.concatenate([aa, bb]), return_inverse=True)
        sig = signatures[rows]
        left, right = sig[inverse[:len(aa)]], sig[inverse[len(aa):]]
        fields = (left.shape[1] - HEAD) // num_perm
        equal = (left[:, HEAD:] == right[:, HEAD:]).reshape(len(aa), fields, num_perm)
        agreement = equal.mean(axis=2).min(axis=1, initial=1.0)
        agreement[(left[:, :HEAD] != right[:, :HEAD]).any(axis=1)] = 0.0
        out[s:s + _PAIRS] = agreement
    return out
