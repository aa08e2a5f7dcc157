"""Stage 1's per-record numbers on disk, and stage 2's passes over them in bounded blocks.

Stage 1 writes the numbers of one unit's records to one file next to its spool (column
after column, in the order of :data:`COLUMNS`) instead of handing them over in memory, so
a build holds only what stage 2 is working on: a block of records at a time, plus a byte or
two of decisions per record. The files stay in the build's spool directory (the Ray engine
ships them to the driver like the spools).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Column name → dtype, in file order: 56 bytes a record. keys/groups: stage 2's exact-dedup
# key and split group (the record's content hash when the task has no analyzer);
# contaminated/overlaps: evaluation item copied (-1: none) and its n-gram overlap;
# instruction_chars/output_chars/templates: report.html's figures (template: a number into the
# segment's template names).
COLUMNS: dict[str, Any] = {
    "lengths": np.uint32, "ids": np.uint64, "positions": np.uint32,
    "examples": np.uint32, "keys": np.uint64, "groups": np.uint64, "ranks": np.uint16,
    "contaminated": np.int32, "overlaps": np.float32, "instruction_chars": np.uint32,
    "output_chars": np.uint32, "templates": np.uint16,
}
_SIZES = {name: np.dtype(dtype).itemsize for name, dtype in COLUMNS.items()}

# Records per block of a pass: about 2 MB per 64-bit column, whatever the size of the build.
BLOCK = 1 << 18


def write_numbers(path: Path, columns: dict[str, Any]) -> int:
    """Write every column of :data:`COLUMNS` (buffers of equal length: ``array`` or numpy)
    to ``path``; returns the number of records."""
    counts = {name: len(memoryview(columns[name]).cast("B")) // _SIZES[name] for name in COLUMNS}
    n = counts["lengths"]
    if any(count != n for count in counts.values()):
        raise ValueError(f"columns of unequal length: {counts}")
    with open(path, "wb") as f:
        for name in COLUMNS:
            f.write(memoryview(columns[name]).cast("B"))
    return n


def _offset(name: str, n: int) -> int:
    start = 0
    for other in COLUMNS:
        if other == name:
            return start
        start += _SIZES[other] * n
    raise KeyError(name)


def read_column(path: Path, n: int, name: str, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Records ``start:stop`` of column ``name`` of a numbers file holding ``n`` records."""
    stop = n if stop is None else min(stop, n)
    if stop <= start:
        return np.zeros(0, COLUMNS[name])
    size = _SIZES[name]
    fd = os.open(path, os.O_RDONLY)
    try:
        data = _pread_all(fd, (stop - start) * size, _offset(name, n) + start * size)
    finally:
        os.close(fd)
    return np.frombuffer(data, COLUMNS[name])


def _pread_all(fd: int, length: int, offset: int) -> bytes:
    parts = []
    while length > 0:
        part = os.pread(fd, length, offset)
        if not part:
            raise OSError(f"numbers file ends early (wanted {length} more bytes at {offset})")
        parts.append(part)
        length -= len(part)
        offset += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


@dataclass
class Block:
    """Records ``start:start + len`` (positions in the whole recipe) of segment ``segment``,
    with the columns a pass asked for (``offsets``: where each line starts in the spool)."""

    segment: int
    start: int
    local: int
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    @property
    def stop(self) -> int:
        """Position after the block's last record."""
        return self.start + len(self)


class Table:
    """The numbers of all segments (:class:`komt_data.spool.contract.Segment`) as one sequence of
    records in segment order: the record positions stage 2's decisions are indexed by."""

    def __init__(self, segments: Sequence[Any], task_names: Sequence[str]):
        self.segments = list(segments)
        sizes = [s.records for s in self.segments]
        self.starts = np.cumsum([0] + sizes).astype(np.int64)
        self.n = int(self.starts[-1])
        # Per segment: its task's index in the recipe.
        self.task = [list(task_names).index(s.task) for s in self.segments]

    def of_task(self, t: int) -> list[int]:
        """The segments of task ``t``."""
        return [i for i, task in enumerate(self.task) if task == t]

    def blocks(self, *names: str, segments: Sequence[int] | None = None, size: int | None = None) -> Iterator[Block]:
        """Blocks of at most :data:`BLOCK` records, in record order, of ``segments`` (all by
        default), each with the columns ``names`` (``offsets`` is computed from ``lengths``)."""
        size = size or BLOCK
        for i in range(len(self.segments)) if segments is None else segments:
            s = self.segments[i]
            position = 0  # spool offset of the block's first line
            for local in range(0, s.records, size):
                stop = min(local + size, s.records)
                columns = {name: read_column(s.numbers, s.records, name, local, stop)
                           for name in names if name != "offsets"}
                if "offsets" in names:
                    lengths = columns.get("lengths")
                    if lengths is None:
                        lengths = read_column(s.numbers, s.records, "lengths", local, stop)
                    offsets = np.cumsum(lengths, dtype=np.uint64)
                    offsets -= lengths
                    offsets += np.uint64(position)
                    columns["offsets"] = offsets
                    position += int(lengths.sum(dtype=np.uint64))
                yield Block(i, int(self.starts[i]) + local, local, columns)

    def column(self, name: str, dtype: Any = None) -> np.ndarray:
        """Column ``name`` of every record, in memory (the in-memory stage 2 paths)."""
        out = np.empty(self.n, dtype or COLUMNS[name])
        for i, s in enumerate(self.segments):
            out[self.starts[i]:self.starts[i + 1]] = read_column(s.numbers, s.records, name)
        return out

    def take(self, name: str, indices: np.ndarray) -> np.ndarray:
        """Column ``name`` at record positions ``indices`` (any order), read span by span."""
        indices = np.asarray(indices, np.int64)
        out = np.zeros(len(indices), COLUMNS[name])
        if len(indices) == 0:
            return out
        segment = np.searchsorted(self.starts, indices, side="right") - 1
        for i in np.unique(segment).tolist():
            mask = segment == i
            s = self.segments[i]
            local = indices[mask] - self.starts[i]
            lo, hi = int(local.min()), int(local.max()) + 1
            if hi - lo <= max(BLOCK, 64 * len(local)):  # one read of the span
                out[mask] = read_column(s.numbers, s.records, name, lo, hi)[local - lo]
            else:
                out[mask] = [read_column(s.numbers, s.records, name, r, r + 1)[0] for r in local.tolist()]
        return out
