"""Stage 3's order of a split (:func:`order_split`): an external bucket sort on the order
key, bucket by bucket into a file of (spool, offset, length, place in shard) rows that
stage 3 reads (:data:`komt_data.write.contract.ROW`); or the rows of an order given
(:func:`rows_of`, the Ray engine's).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..decide.keys import ORDER, seeded_keys, sort_order
from ..spool.columns import Table
from .contract import ROW
from .fewshot import Composed

# Records per bucket of the order sort (its sort costs about 60 to 100 bytes a record); a
# test sets it small to run many passes on small inputs.
BUCKET = 1 << 18


_ENTRY = np.dtype([("key", np.uint64), ("segment", np.uint32), ("length", np.uint32), ("offset", np.uint64)])


def order_split(table: Table, split: np.ndarray, code: int, seed: int, path: Path, shard_size: int,
                composed: Composed | None = None) -> list[int]:
    """Write the rows (:data:`ROW`) of split ``code``'s records in output order to ``path``:
    by seeded order key, ties by position (a stable sort on the key; the keys are a
    bijection of the ids, so this is the order of a lexsort over (key, id)). ``at`` is
    where the line starts in its shard of ``shard_size`` records. Returns the byte size of
    every shard (one, empty, for an empty split). Records rewritten with few-shot exemplars
    (``composed``) are copied from their new lines."""
    count = int(np.count_nonzero(split == code))
    bits = max(0, int(np.ceil(np.log2(max(1, count) / BUCKET))))
    buckets = [path.with_name(f"{path.name}.{b}") for b in range(1 << bits)]
    files = [open(b, "wb") for b in buckets]  # noqa: SIM115 - closed below
    try:
        for block in table.blocks("ids", "lengths", "offsets"):
            local = np.flatnonzero(split[block.start:block.stop] == code)
            if not len(local):
                continue
            entries = np.empty(len(local), _ENTRY)
            entries["key"] = seeded_keys(block["ids"][local], seed, ORDER)
            entries["segment"] = block.segment
            entries["length"] = block["lengths"][local]
            entries["offset"] = block["offsets"][local]
            if composed is not None:
                composed.redirect(len(table.segments), block.start + local, entries["segment"], entries["offset"],
                                  entries["length"])
            # To the bucket of the key's top bits, in position order within each bucket.
            if bits:
                # A stable sort on 16 bits is a radix sort (2^16 buckets: 2^34 records).
                top = (entries["key"] >> np.uint64(64 - bits)).astype(np.uint16 if bits <= 16 else np.intp)
                order = np.argsort(top, kind="stable")
                entries, top = np.take(entries, order), top[order]  # take: faster than [] on records
                cuts = np.searchsorted(top, np.arange((1 << bits) + 1))
            else:
                cuts = np.array([0, len(entries)])
            for b in np.flatnonzero(np.diff(cuts)).tolist():
                files[b].write(entries[cuts[b]:cuts[b + 1]].tobytes())
    finally:
        for f in files:
            f.close()
    sizes = np.zeros(max(1, -(-count // shard_size)), np.int64)
    written = 0
    with open(path, "wb") as out:
        for bucket in buckets:
            entries = np.fromfile(bucket, _ENTRY)
            bucket.unlink()
            entries = np.take(entries, sort_order(entries["key"]))
            rows = np.empty(len(entries), ROW)
            for name in ("segment", "length", "offset"):
                rows[name] = entries[name]
            del entries
            _place(rows, written, sizes, shard_size)
            out.write(rows.tobytes())
            written += len(rows)
    return sizes.tolist()


def _place(rows: np.ndarray, written: int, sizes: np.ndarray, shard_size: int) -> None:
    """Fill ``at`` of the next ``rows`` of a split (``written`` rows came before them) and add
    their bytes to ``sizes``, the bytes of every shard so far."""
    if not len(rows):
        return
    shard = (written + np.arange(len(rows))) // shard_size
    first = np.flatnonzero(np.r_[True, shard[1:] != shard[:-1]])
    ends = np.cumsum(rows["length"], dtype=np.int64)
    starts = ends - rows["length"]
    # A line starts after what its shard holds already and the lines before it in this batch.
    rows["at"] = starts - np.repeat(starts[first] - sizes[shard[first]], np.diff(np.r_[first, len(rows)]))
    sizes[shard[first]] += ends[np.r_[first[1:], len(rows)] - 1] - starts[first]


def rows_of(table: Table, order: np.ndarray, path: Path, shard_size: int,
            composed: Composed | None = None) -> list[int]:
    """:func:`order_split`'s file for records already in output order (positions ``order``,
    as the Ray engine's stage 2 gives them); the same rows, the same shard sizes."""
    rows = np.empty(len(order), ROW)
    segment = np.searchsorted(table.starts, order, side="right") - 1
    rows["segment"] = segment
    # Bytes of all lines before each record (in memory: the Ray engine's path keeps its arrays).
    lengths = table.column("lengths")
    before = np.zeros(table.n + 1, np.uint64)
    np.cumsum(lengths, dtype=np.uint64, out=before[1:])
    rows["length"] = lengths[order]
    del lengths
    rows["offset"] = before[order] - before[table.starts[segment]]
    if composed is not None:
        composed.redirect(len(table.segments), order, rows["segment"], rows["offset"], rows["length"])
    sizes = np.zeros(max(1, -(-len(order) // shard_size)), np.int64)
    _place(rows, 0, sizes, shard_size)
    rows.tofile(path)
    return sizes.tolist()
