"""Stage 1 on this machine: the build's task runners (:func:`runners`, which the Ray engine
builds on its workers too) and every unit spooled on a pool of processes (:func:`spool_local`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from ..config import Recipe
from ..dedup.contamination import Decontaminator
from ..sources import MAX_DOCUMENT_BYTES, Unit, chunks, resolve_encoding, units_of
from ..sources.chunks import decompressed_chunks, iter_chunks, worth_decompressing
from .budget import ErrorBudget
from .contract import ProgressBar, Segment
from .facts import Analyzer
from .pool import UnitJob, run_jobs
from .records import TaskRunner, configure_runner
from .unit import shown_path, unit_label


def runners(recipe: Recipe, seed: int) -> list[TaskRunner]:
    """One runner per task of the recipe, in recipe order (the Ray engine builds the same on workers)."""
    decontaminator = Decontaminator.from_config(recipe.decontaminate) if recipe.decontaminate else None
    runners = [TaskRunner(ref.config, seed, analyzer=Analyzer(recipe, ref, decontaminator),
                          repeat=recipe.repeats(ref)) for ref in recipe.tasks]
    for runner in runners:
        configure_runner(runner, recipe)
    return runners


def spool_local(runners: list[TaskRunner], spool_dir: Path, *, limit: int | None, on_error: str,
                max_line_bytes: int, workers: int, bar: ProgressBar, budget: ErrorBudget,
                max_document_bytes: int = MAX_DOCUMENT_BYTES) -> list[Segment]:
    """Stage 1 on this machine: every unit (large line files in chunks) on ``workers`` processes."""
    # A row limit and a fraction of bad rows are per file: such builds read files whole.
    whole = limit is not None or isinstance(budget.max_errors, float)
    copies: list[Path] = []
    units: list[tuple[int, Unit, bool]] = []  # (task, unit, decompressed into chunks?)
    expected = 0  # about how many jobs there will be: a forking pool starts all its processes at once
    for t, runner in enumerate(runners):
        for unit in units_of(runner.task.source):
            gunzip = not whole and workers > 1 and worth_decompressing(unit)
            units.append((t, unit, gunzip))
            if whole or not isinstance(unit.path, Path):
                expected += 1
            else:  # a .gz by its compressed size, at least four times smaller than its text
                size = unit.path.stat().st_size * (4 if gunzip else 1)
                expected += -(-size // chunks.CHUNK_BYTES) or 1

    def jobs() -> Iterator[UnitJob]:
        # Made while the first ones run: workers start on a file's first chunks while the
        # rest of it is still being cut (or decompressed).
        index = 0
        for t, unit, gunzip in units:
            label = unit_label(unit, runners[t].task.path.parent)
            shown = shown_path(unit.path) if unit.path is not None else label
            encoding = resolve_encoding(unit)
            pieces: Iterable[Unit]
            if whole:
                pieces = [unit]
            elif gunzip:
                # A large .gz is one unit. With several workers it is decompressed once into
                # the spool directory and split like any large file (raw NSMC: 146 MB). One
                # worker reads it through gzip: as fast (the same CPU time), and no copy on
                # disk. The copy is removed when stage 1 ends, before stage 3 writes the
                # shards (the build's peak of disk use). Its encoding is the .gz file's:
                # the same answer (the first 8 MB, which both checks read whole, decide).
                prefix = f"{len(copies):05d}.gunzip."
                copies.append(spool_dir / f"{prefix}{unit.path.name[:-3]}")
                pieces = decompressed_chunks(unit, spool_dir, prefix, label, encoding)
            else:
                pieces = iter_chunks(unit, encoding)
            for piece in pieces:
                yield UnitJob(t, piece, encoding, spool_dir, index, limit=limit, on_error=on_error,
                                       max_line_bytes=max_line_bytes, max_document_bytes=max_document_bytes,
                                       label=label, shown=shown)
                index += 1

    try:
        return run_jobs(runners, jobs(), workers, bar, budget, expected=expected)
    finally:
        for copy in copies:
            copy.unlink(missing_ok=True)
