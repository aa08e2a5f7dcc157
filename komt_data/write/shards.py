"""Stage 3's shards: each split put in order (:func:`write_splits`), then its records copied
from the spools into pre-sized shards on several processes (:func:`write_shards`), the same
bytes for any number of processes.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import Recipe
from ..decide import contract
from ..errors import KomtDataError
from ..exports.base import file_sha256, shard_names
from ..spool.columns import Table
from ..spool.pool import forked_pool
from . import fewshot
from .contract import ROW, ShardJob
from .order import order_split, rows_of

if TYPE_CHECKING:
    from ..spool.contract import ProgressBar


@dataclass(frozen=True)
class _Piece:
    """A share of stage 3 for one process: (shard, order file, first row, end row, whole shard?) ranges."""

    spools: tuple[Path, ...]
    ranges: tuple[tuple[Path, Path, int, int, bool], ...]

    @property
    def records(self) -> int:
        return sum(stop - start for _, _, start, stop, _ in self.ranges)


# Rows read, and lines copied with one write, at a time: about 700 KB of QA records. A
# batch that fits in the CPU cache is joined, hashed and written while still there, and
# its buffer is reused; 8,192 rows (11 MB) made stage 3 a third slower.
_BATCH = 512
# The fewest records worth a process of their own in stage 3.
_PIECE_RECORDS = 8192


def _write_piece(piece: _Piece) -> tuple[int, dict[Path, str]]:
    """Copy the lines of ``piece`` into their pre-sized shards; returns the records written and
    the sha256 of the shards it wrote whole (synced to disk)."""
    from ..spool.files import pread

    fds: dict[int, int] = {}  # spool number -> file descriptor, opened when first needed
    digests: dict[Path, str] = {}
    try:
        for shard, rows_path, start, stop, whole in piece.ranges:
            fd = os.open(shard, os.O_WRONLY)
            digest = hashlib.sha256() if whole else None
            try:
                with open(rows_path, "rb") as f:
                    for first in range(start, stop, _BATCH):
                        f.seek(first * ROW.itemsize)
                        rows = np.frombuffer(f.read((min(first + _BATCH, stop) - first) * ROW.itemsize), ROW)
                        segments = rows["segment"].tolist()
                        for s in set(segments).difference(fds):
                            fds[s] = os.open(piece.spools[s], os.O_RDONLY | getattr(os, "O_BINARY", 0))
                        # Positioned reads mapped in C over plain ints: a Python loop (or a
                        # numpy scalar per record) cost more than the reads themselves.
                        data = b"".join(map(pread, map(fds.__getitem__, segments), rows["length"].tolist(),
                                            rows["offset"].tolist()))
                        if len(data) != int(rows["length"].sum()):  # a spool cut short under us
                            raise KomtDataError(f"a spool file ended early while writing {shard.name}")
                        if digest is not None:  # written in order: hashed on the way
                            digest.update(data)
                        # Consecutive rows of one shard are adjacent in it: one positioned write.
                        at = int(rows["at"][0])
                        while data:
                            done = os.pwrite(fd, data, at)
                            data, at = data[done:], at + done
                if digest is not None:
                    os.fsync(fd)
                    digests[shard] = digest.hexdigest()
            finally:
                os.close(fd)
    finally:
        for spool_fd in fds.values():
            os.close(spool_fd)
    return piece.records, digests


def _pieces(jobs: Sequence[ShardJob], spools: tuple[Path, ...], count: int) -> list[_Piece]:
    """The rows of all ``jobs`` cut into ``count`` runs of (nearly) equal numbers of records."""
    total = sum(job.stop - job.start for job in jobs)
    bounds = [total * k // count for k in range(count + 1)]
    done = 0  # records of the jobs before this one
    ranges: list[list[tuple[Path, Path, int, int, bool]]] = [[] for _ in range(count)]
    for job in jobs:
        for k in range(count):
            lo = max(bounds[k], done)
            hi = min(bounds[k + 1], done + job.stop - job.start)
            if lo < hi:
                whole = hi - lo == job.stop - job.start
                ranges[k].append((job.path, job.rows, job.start + lo - done, job.start + hi - done, whole))
        done += job.stop - job.start
    return [_Piece(spools, tuple(r)) for r in ranges if r]


def _cut_first(pieces: list[_Piece]) -> tuple[list[_Piece], list[_Piece]]:
    """Each piece as two: its parts of shards cut between pieces, then its whole shards.

    Run in that order, the cut shards are complete early, and are read back and hashed
    while the whole ones are still being written, not after everything else."""
    cut = [_Piece(p.spools, tuple(r for r in p.ranges if not r[4])) for p in pieces]
    whole = [_Piece(p.spools, tuple(r for r in p.ranges if r[4])) for p in pieces]
    return [p for p in cut if p.ranges], [p for p in whole if p.ranges]


def _digest(path: Path) -> str:
    """The sha256 of a written shard, once it is on disk (read back: a shard is written in pieces)."""
    with open(path, "rb+") as f:
        os.fsync(f.fileno())
    return file_sha256(path)


def write_shards(jobs: Sequence[ShardJob], spools: tuple[Path, ...], workers: int,
                 progress: ProgressBar, meanwhile: Callable[[], Any] | None = None) -> list[str]:
    """Write every shard of ``jobs`` from the ``spools`` on ``workers`` processes, and return
    their sha256 digests in job order. The records are shared out evenly whatever the shards
    (a process may write part of a shard, at its byte offsets), so the bytes do not depend on
    the number of workers. ``meanwhile`` runs in this process while the others write (after
    they are forked: no thread is running when they are), or before the shards without them."""
    for job in jobs:  # pre-sized: pieces write their byte ranges in any order
        with open(job.path, "wb") as f:
            f.truncate(job.size)
    # One piece per process (fewer shards cut in two, read back to be hashed), and no process
    # for fewer than _PIECE_RECORDS records: forking costs more than copying a small build.
    # (Each piece then runs as two jobs, its cut shards first, on as many processes.)
    total = sum(job.stop - job.start for job in jobs)
    count = min(workers, max(1, total // _PIECE_RECORDS))
    parallel = count > 1 and "fork" in multiprocessing.get_all_start_methods()
    pieces = _pieces(jobs, spools, count if parallel else 1)
    digests: dict[Path, str] = {}
    parallel = parallel and len(pieces) > 1
    if not parallel:
        if meanwhile is not None:
            meanwhile()
        for records, whole in map(_write_piece, pieces):
            digests.update(whole)
            progress.update(records)
    else:
        processes = len(pieces)
        cut, whole = _cut_first(pieces)
        cut_shards = {path for piece in cut for path, *_ in piece.ranges}
        with forked_pool(processes) as pool:
            futures = [pool.submit(_write_piece, piece) for piece in cut + whole]  # forks every process
            if meanwhile is not None:
                meanwhile()
            for i, future in enumerate(futures):
                records, hashed = future.result()
                digests.update(hashed)
                progress.update(records)
                if i == len(cut) - 1:  # the shards cut between processes are complete: hashed
                    _hash(sorted(cut_shards), digests, workers)  # while the others are written
    # Empty shards (no piece writes them).
    _hash([job.path for job in jobs if job.path not in digests], digests, workers)
    return [digests[job.path] for job in jobs]


def _hash(paths: list[Path], digests: dict[Path, str], workers: int) -> None:
    """Add the sha256 of written shards ``paths`` to ``digests``, read back. sha256 releases
    the GIL on large blocks, so threads hash them side by side."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as threads:
        digests.update(zip(paths, threads.map(_digest, paths), strict=True))


def write_splits(stage: Path, recipe: Recipe, seed: int, table: Table, split: np.ndarray,
                  orders: dict[int, np.ndarray] | None, workers: int,
                  progress: ProgressBar, composed: fewshot.Composed, meanwhile: Callable[[], Any] | None = None
                  ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The shards of every split, written by ``workers`` processes (the same bytes for any
    number), and the records of each split. ``orders``: each split's records in output order
    when stage 2 ran elsewhere (the Ray engine); else they are ordered here, on disk.
    ``composed``: the records rewritten with few-shot exemplars, copied from their new lines.
    ``meanwhile`` runs in this process while the shards are written (:func:`write_shards`)."""
    jobs: list[ShardJob] = []
    entries: list[dict[str, Any]] = []
    split_counts: dict[str, int] = {}
    for code, name in contract.SPLIT_NAMES.items():
        count = int(np.count_nonzero(split == code))
        if name != "train" and count == 0:
            continue
        rows = stage / "_spool" / f"{name}.order"
        if orders is None:
            sizes = order_split(table, split, code, seed, rows, recipe.shard_size, composed)
        else:
            sizes = rows_of(table, orders.get(code, np.zeros(0, np.int64)), rows, recipe.shard_size,
                                   composed)
        split_counts[name] = count
        for k, shard in enumerate(shard_names(name, len(sizes))):
            start, stop = k * recipe.shard_size, min((k + 1) * recipe.shard_size, count)
            jobs.append(ShardJob(stage / shard, rows, start, stop, sizes[k]))
            entries.append({"path": shard, "split": name, "records": stop - start})
    spools = tuple(s.spool for s in table.segments) + tuple(composed.files)
    digests = write_shards(jobs, spools, workers, progress, meanwhile)
    for entry, digest in zip(entries, digests, strict=True):
        entry["sha256"] = digest
    return entries, split_counts
