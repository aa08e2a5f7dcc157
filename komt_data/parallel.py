"""Stage 1 on several processes: the units (and chunks of large files) of a build, shared out.

Each job is a plain, picklable description of one unit's work; :func:`run_job` turns it
into a :class:`~komt_data.builder.Segment` using nothing but the job, so it can run in
this process, in a pool of processes, or on another engine. Results are gathered in job
order, so the segments, and therefore the output, do not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import KomtDataError
from .sources import MAX_LINE_BYTES, Unit

if TYPE_CHECKING:
    from .builder import ProgressBar, Segment
    from .guards import ErrorBudget
    from .records import TaskRunner


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
    label: str | None = None  # the file's label (the driver's view of its path)


# The build's runners, set before the pool forks so that every worker has them as built
# (adapters, templates, analyzers, prompt settings) without pickling or rebuilding them.
_RUNNERS: list[TaskRunner] = []


def run_job(runner: TaskRunner, job: UnitJob, progress: ProgressBar | None = None,
            budget: ErrorBudget | None = None) -> Segment:
    """Run stage 1 for one job with ``runner`` and return its segment (spool and rejections on disk)."""
    from .builder import spool_unit

    return spool_unit(runner, job.unit, job.spool_dir, job.index, limit=job.limit, on_error=job.on_error,
                      progress=progress, encoding=job.encoding, budget=budget, max_line_bytes=job.max_line_bytes,
                      label=job.label)


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


def run_jobs(runners: Sequence[TaskRunner], jobs: Sequence[UnitJob], workers: int, progress: ProgressBar,
             budget: ErrorBudget | None = None) -> list[Segment]:
    """Run all jobs on ``workers`` processes (1: in this process); segments in job order.

    ``budget`` (``--max-errors``) counts as rows are read in this process; with several
    workers it is checked once all segments are back. Workers are forked, so that they
    start with the build's runners; where there is no fork, stage 1 runs in this process.
    """
    if workers <= 1 or len(jobs) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [run_job(runners[job.task], job, progress, budget) for job in jobs]
    context = multiprocessing.get_context("fork")
    _RUNNERS[:] = runners
    segments: list[Segment] = []
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
            try:
                for result in pool.map(_run_in_worker, jobs):
                    if isinstance(result, _Failure):
                        raise result.error()
                    segments.append(result)
                    progress.update(result.read)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        _RUNNERS.clear()
    if budget is not None:
        budget.check_segments(segments)
    return segments


def default_workers() -> int:
    """The number of processes ``workers=0`` means: the CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on macOS or Windows
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ShardJob:
    """Stage 3 for one shard: copy these spooled lines, in this order, into ``path``."""

    path: Path
    spools: tuple[Path, ...]
    segment_of: Any  # numpy arrays, one entry per record of the shard
    offsets: Any
    lengths: Any


def write_shard(job: ShardJob) -> str:
    """Write one shard from the spools and return its sha256 (hex)."""
    from .spool import SpoolFile
    from .writer import write_blocks

    opened: dict[int, SpoolFile] = {}

    def blocks() -> Iterator[bytes]:
        # Blocks of plain ints: indexing numpy arrays one scalar at a time costs more than the read.
        for start in range(0, len(job.segment_of), 8192):
            end = start + 8192
            batch = []
            for s, offset, length in zip(job.segment_of[start:end].tolist(), job.offsets[start:end].tolist(),
                                         job.lengths[start:end].tolist(), strict=True):
                spool = opened.get(s)
                if spool is None:
                    spool = opened[s] = SpoolFile(job.spools[s])
                batch.append(spool.read_at(offset, length))
            yield b"".join(batch)

    try:
        return write_blocks(job.path, blocks())
    finally:
        for spool in opened.values():
            spool.close()


def write_shards(jobs: Sequence[ShardJob], workers: int, progress: ProgressBar) -> list[str]:
    """Write shards on ``workers`` processes; their sha256 digests in job order."""
    if workers <= 1 or len(jobs) <= 1:
        digests = []
        for job in jobs:
            digests.append(write_shard(job))
            progress.update(len(job.segment_of))
        return digests
    if "fork" not in multiprocessing.get_all_start_methods():
        return write_shards(jobs, 1, progress)
    context = multiprocessing.get_context("fork")
    digests = []
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        for job, digest in zip(jobs, pool.map(write_shard, jobs), strict=True):
            digests.append(digest)
            progress.update(len(job.segment_of))
    return digests
