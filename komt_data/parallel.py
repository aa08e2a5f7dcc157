"""Stages 1 and 3 on several processes: the units (and chunks of large files) of a build,
and the records of its shards, shared out.

Each job is a plain, picklable description of one unit's work; :func:`run_job` turns it
into a :class:`~komt_data.spool.contract.Segment` using nothing but the job, so it can run in
this process, in a pool of processes, or on another engine. Results are gathered in job
order, so the segments, and therefore the output, do not depend on the number of workers.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import KomtDataError
from .sources import MAX_DOCUMENT_BYTES, MAX_LINE_BYTES, Unit
from .spool.unit import spool_unit
from .writer import file_sha256

if TYPE_CHECKING:
    from .guards import ErrorBudget
    from .records import TaskRunner
    from .spool.contract import ProgressBar, Segment


def forked_pool(processes: int) -> ProcessPoolExecutor:
    """A pool of ``processes`` forked workers (they start with the build's state as it is)
    that end with the build, however it ends (:func:`die_with_parent`)."""
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                               initializer=die_with_parent, initargs=(os.getpid(),))


def die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker when the build process ends, however it ends.

    A pool's workers wait for work on a pipe whose write end every worker inherited too,
    so a ``kill -9`` of the build never gives them end-of-file: they would wait forever,
    re-parented to init. On Linux the kernel sends them SIGKILL when their parent dies
    (PR_SET_PDEATHSIG; the pool forks them from the main thread, whose exit is the
    process's); elsewhere, and in case the parent died before that was set, a thread
    watches the parent's pid.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the worker got this far
        os._exit(1)
    watch_parent(parent)


def watch_parent(parent: int, interval: float = 0.5) -> threading.Thread:
    """Start a daemon thread that ends this process once its parent ``parent`` is gone (the
    portable fallback of :func:`die_with_parent`): a re-parented process sees another ppid."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    thread = threading.Thread(target=watch, name="komt-data-parent-watch", daemon=True)
    thread.start()
    return thread


@dataclass(frozen=True)
class UnitJob:
    """Stage 1 for one unit or chunk: which task (its index in the build's runners), which
    input, where to spool, how."""

    task: int
    unit: Unit
    encoding: str
    spool_dir: Path
    index: int
    limit: int | None = None
    on_error: str = "skip"
    max_line_bytes: int = MAX_LINE_BYTES
    max_document_bytes: int = MAX_DOCUMENT_BYTES
    label: str | None = None  # the file's label (the driver's view of its path)
    shown: str | None = None  # how error messages name the file (relative to the working directory)


# The build's runners, set before the pool forks so that every worker has them as built
# (adapters, templates, analyzers, prompt settings) without pickling or rebuilding them.
_RUNNERS: list[TaskRunner] = []


def run_job(runner: TaskRunner, job: UnitJob, progress: ProgressBar | None = None,
            budget: ErrorBudget | None = None) -> Segment:
    """Run stage 1 for one job with ``runner`` and return its segment (spool and rejections on disk)."""
    return spool_unit(runner, job.unit, job.spool_dir, job.index, limit=job.limit, on_error=job.on_error,
                      progress=progress, encoding=job.encoding, budget=budget, max_line_bytes=job.max_line_bytes,
                      max_document_bytes=job.max_document_bytes, label=job.label, shown=job.shown)


@dataclass(frozen=True)
class _Failure:
    """A library error raised in a worker, carried back as data (not all of them pickle)."""

    cls: type
    message: str
    attributes: dict[str, Any]

    def error(self) -> KomtDataError:
        error = self.cls.__new__(self.cls)
        Exception.__init__(error, self.message)
        error.__dict__.update(self.attributes)
        return error


def _run_in_worker(job: UnitJob) -> Segment | _Failure:
    try:
        return run_job(_RUNNERS[job.task], job)
    except KomtDataError as exc:
        return _Failure(type(exc), str(exc), dict(exc.__dict__))


def run_jobs(runners: Sequence[TaskRunner], jobs: Iterable[UnitJob], workers: int, progress: ProgressBar,
             budget: ErrorBudget | None = None, *, expected: int | None = None) -> list[Segment]:
    """Run all jobs on ``workers`` processes (1: in this process); segments in job order.

    ``jobs`` may be a generator: with several workers, each job is handed out as soon as it
    is made, so the processes start while later ones are still being prepared (a large
    file being cut or decompressed). ``budget`` (``--max-errors``) counts as rows are read
    in this process; with several workers it is checked once all segments are back.
    Workers are forked, so that they start with the build's runners; where there is no
    fork, stage 1 runs in this process. ``expected`` (about how many jobs there will be)
    keeps a small build from forking a process per CPU of a large machine.
    """
    jobs = iter(jobs)
    head = list(itertools.islice(jobs, 2))
    if workers <= 1 or len(head) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [run_job(runners[job.task], job, progress, budget) for job in itertools.chain(head, jobs)]
    _RUNNERS[:] = runners
    segments: list[Segment] = []
    try:
        # A forking pool starts all its processes at once: no more than there will be jobs.
        processes = min(workers, max(2, expected)) if expected is not None else workers
        with forked_pool(processes) as pool:
            try:
                # A few jobs per process in flight: results (and a worker's error) are taken
                # in job order as they come, while later jobs are still being made.
                pending: deque = deque()
                for job in itertools.chain(head, jobs):
                    pending.append(pool.submit(_run_in_worker, job))
                    if len(pending) > 2 * processes:
                        segments.append(_segment_of(pending.popleft(), progress))
                while pending:
                    segments.append(_segment_of(pending.popleft(), progress))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        _RUNNERS.clear()
    if budget is not None:
        budget.check_segments(segments)
    return segments


def _segment_of(future: Any, progress: ProgressBar) -> Segment:
    result = future.result()
    if isinstance(result, _Failure):
        raise result.error()
    progress.update(result.read)
    return result


def default_workers() -> int:
    """The number of processes ``workers=0`` means: the CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on macOS or Windows
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ShardJob:
    """Stage 3 for one shard: rows ``start:stop`` of a split's order file
    (:data:`komt_data.passes.ROW`: where each line is in the spools, where it goes in the
    shard) make ``path``, ``size`` bytes."""

    path: Path
    rows: Path
    start: int
    stop: int
    size: int


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
    from .passes import ROW
    from .spool.files import pread

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
