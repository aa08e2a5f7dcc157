"""Stage 1 on several processes: the units (and chunks of large files) of a build shared out.

Each job is a plain, picklable description of one unit's work; :func:`run_job` turns it
into a :class:`~komt_data.spool.contract.Segment` using nothing but the job, so it can run in
this process, in a pool of processes, or on another engine. Results are gathered in job
order, so the segments, and therefore the output, do not depend on the number of workers.
:func:`forked_pool` is the one way the build starts worker processes (stages 1 and 3, few-shot).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import KomtDataError
from ..sources import MAX_DOCUMENT_BYTES, MAX_LINE_BYTES, Unit
from .unit import spool_unit

if TYPE_CHECKING:
    from .budget import ErrorBudget
    from .contract import ProgressBar, Segment
    from .records import TaskRunner


def forked_pool(processes: int) -> ProcessPoolExecutor:
    """A pool of ``processes`` forked workers (they start with the build's state as it is)
    that end with the build, however it ends (:func:`die_with_parent`)."""
    return_free_memory()
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                               initializer=die_with_parent, initargs=(os.getpid(),))


def return_free_memory() -> None:
    """Hand the memory this process has freed back to the system (glibc's ``malloc_trim``).

    Stage 2 allocates and frees arrays of every record's numbers; glibc keeps freed chunks
    that lie below the top of its heap, about 100 MB after near dedup on 712k reviews. They
    would count in this process's resident set for the rest of the build, and in every
    worker forked after it (stage 3's writers): measured on raw NSMC with near dedup, the
    build's peak RSS goes from 274 to about 230 MB and a writer's from 178 to about 93 MB. Elsewhere
    than glibc there is nothing to call and nothing is done.
    """
    trim = getattr(_LIBC, "malloc_trim", None)  # not in musl
    if trim is not None:
        trim(0)


def _load_libc() -> Any:
    """This process's C library on Linux (for malloc_trim and prctl), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None)
    except OSError:
        return None


_LIBC = _load_libc()


def die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker when the build process ends, however it ends.

    A pool's workers wait for work on a pipe whose write end every worker inherited too,
    so a ``kill -9`` of the build never gives them end-of-file: they would wait forever,
    re-parented to init. On Linux the kernel sends them SIGKILL when their parent dies
    (PR_SET_PDEATHSIG; the pool forks them from the main thread, whose exit is the
    process's); elsewhere, and in case the parent died before that was set, a thread
    watches the parent's pid.
    """
    if _LIBC is not None:
        try:
            _LIBC.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except AttributeError:
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
