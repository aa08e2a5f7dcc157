"""The build, top to bottom: the recipe, the up-to-date check, then three stages into a
staged directory that is moved into place at the end.

Stage 1 (:mod:`komt_data.spool`, per input unit, independent): read → adapt → clean →
render → a spool file plus a few numbers per record. Stage 2 (:mod:`komt_data.decide`, the
whole recipe, on those numbers only): dedup, decontamination, sampling, split. Stage 3
(:mod:`komt_data.write`): the chosen lines copied from the spools into shards in order,
``rejected.jsonl``, ``manifest.json``, then the export format, card and report.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import freshness
from .arguments import check_flag, check_limit, check_seed
from .config import Recipe, resolve_recipe
from .decide import contract, steps
from .engines import ENGINES, session
from .errors import ConfigError, KomtDataError
from .sources import MAX_DOCUMENT_BYTES, MAX_LINE_BYTES
from .spool.budget import ErrorBudget, parse_max_errors
from .spool.columns import Table
from .spool.contract import NoProgress, ProgressFactory, Segment
from .spool.local import runners, spool_local
from .spool.pool import default_workers
from .templates import load_template_set
from .write import fewshot
from .write.finish import finish
from .write.location import check_output_location
from .write.output_dir import clear_leftovers, staged_output
from .write.stage import write_output


def plan(recipe: str | Path | Recipe | None = None, *, seed: int | None = None, limit: int | None = None,
         progress: ProgressFactory | None = None) -> contract.MixPlan:
    """What a build of ``recipe`` would take from every task, without writing any output.

    The inputs are read (and spooled to a temporary directory that is removed) because the
    plan depends on what survives dedup and decontamination.
    """
    check_seed(seed)
    check_limit(limit)
    recipe = resolve_recipe(recipe)
    seed = check_seed(recipe.seed if seed is None else seed)
    task_runners = runners(recipe, seed)
    bar = (progress or NoProgress)(desc="reading", unit=" rows")
    with tempfile.TemporaryDirectory(prefix="komt-data-plan-") as tmp:
        try:
            segments = spool_local(task_runners, Path(tmp), limit=limit, on_error="skip", max_line_bytes=MAX_LINE_BYTES,
                                   workers=1, bar=bar, budget=ErrorBudget(None))
        finally:
            bar.close()
        decisions = steps.decide(recipe, seed, segments)
        if not fewshot.enabled(recipe):
            return decisions.plan
        table = Table(segments, [ref.config.name for ref in recipe.tasks])
        return replace(decisions.plan, fewshot=fewshot.planned(recipe, table, decisions.split, seed))


def build(recipe: str | Path | Recipe | None = None, output: str | Path = "out", *, seed: int | None = None,
          limit: int | None = None, overwrite: bool = False, on_error: str = "skip",
          progress: ProgressFactory | None = None, force: bool = False, engine: str = "local",
          address: str | None = None, max_errors: int | float | str | None = None,
          max_line_bytes: int = MAX_LINE_BYTES, workers: int = 1,
          max_document_bytes: int = MAX_DOCUMENT_BYTES) -> dict[str, Any]:
    """Build a recipe into ``output`` and return its manifest.

    ``recipe`` is a recipe or task-config path, a :class:`Recipe`, or None for the bundled
    sample. ``seed`` overrides the recipe's; ``limit`` reads at most that many rows per
    input unit; ``on_error`` is ``skip`` (bad rows go to rejected.jsonl) or ``fail``
    (the first bad row raises :class:`DataError`). ``progress`` is a tqdm-like factory.

    When ``output`` already holds a build of the same recipe, inputs (by content),
    komt-data version, seed and options, nothing is touched and that manifest is
    returned with ``"up_to_date": True``; ``force`` rebuilds (and replaces) regardless.
    ``engine`` is ``local`` or ``ray`` (stage 1 on Ray Data, at ``address``: None for a
    local Ray, ``auto``, or ``ray://host:port``); both write the same bytes.

    ``max_errors`` (a number of rows, or a fraction below 1 of any one file) stops a build
    that rejects more than that with a DataError (on Ray, once stage 1 is done);
    ``max_line_bytes`` is the longest line a line format accepts (longer ones are rejected
    as ``line_too_long``); ``max_document_bytes`` the largest file a format read whole
    (JSON, SQuAD, AIHub JSON, what an ``.xlsx`` unpacks to) may be. A build that stops
    leaves no output directory behind, and a previous output untouched.
    """
    check_seed(seed)
    check_limit(limit)
    check_flag(overwrite, "overwrite")
    check_flag(force, "force")
    if on_error not in ("skip", "fail"):
        raise KomtDataError(f"on_error must be 'skip' or 'fail', got {on_error!r}")
    if engine not in ENGINES:
        raise KomtDataError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if address is not None and engine != "ray":
        raise KomtDataError("an address is for the ray engine; pass engine='ray' (--engine ray)")
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
        raise KomtDataError(f"workers must be a whole number of processes (0: one per CPU), got {workers!r}")
    workers = workers or default_workers()
    budget = ErrorBudget(parse_max_errors(max_errors))
    if not isinstance(max_line_bytes, int) or isinstance(max_line_bytes, bool) or max_line_bytes < 1:
        raise ConfigError(f"max_line_bytes must be a positive whole number, got {max_line_bytes!r}")
    if not isinstance(max_document_bytes, int) or isinstance(max_document_bytes, bool) or max_document_bytes < 1:
        raise ConfigError(f"max_document_bytes must be a positive whole number, got {max_document_bytes!r}")
    if engine == "ray":
        if max_document_bytes != MAX_DOCUMENT_BYTES:
            raise ConfigError("--max-document-bytes is not supported with --engine ray yet (the workers use "
                              f"the default of {MAX_DOCUMENT_BYTES:,})")
        if max_line_bytes != MAX_LINE_BYTES:
            raise ConfigError("--max-line-bytes is not supported with --engine ray yet (the workers use "
                              f"the default of {MAX_LINE_BYTES:,})")
        from .engines import ray_session

        ray_session.import_ray()  # a missing extra fails before anything is read or written
    recipe = resolve_recipe(recipe)
    seed = check_seed(recipe.seed if seed is None else seed)  # a Recipe made in Python is not checked
    output = Path(output)
    # First: an output that holds an input of this build (its recipe, a template, data read
    # back through file://) is refused, before anything is compared, read or replaced.
    check_output_location(output, recipe)
    # Before the up-to-date check: a build killed between its renames left the previous
    # output aside, and putting it back may make this build unnecessary.
    clear_leftovers(output.resolve())
    recipe_fp = freshness.recipe_fingerprint(recipe, seed)  # reads the recipe's files: once a build
    fingerprint = freshness.build_fingerprint(
        recipe, recipe_fp, limit=limit, on_error=on_error,
        **({"max_line_bytes": max_line_bytes} if max_line_bytes != MAX_LINE_BYTES else {}),
        **({"max_document_bytes": max_document_bytes} if max_document_bytes != MAX_DOCUMENT_BYTES else {}))
    for ref in recipe.tasks:
        # Before "up to date": an output an older komt-data built from a template that is
        # now refused (lipsum, say: different bytes every build) must not pass for current.
        load_template_set(ref.config.templates)
    if not force:
        current = freshness.current_manifest(output, fingerprint)
        if current is not None:
            return {**current, "up_to_date": True}
    make_bar = progress or NoProgress
    task_runners = runners(recipe, seed)
    with staged_output(output, overwrite or force) as stage, session(engine, address) as ray:
        spool_dir = stage / "_spool"
        spool_dir.mkdir()
        bar = make_bar(desc="reading", unit=" rows")
        try:  # stage 1
            if ray is not None:
                from .engines import ray_spool

                segments = ray_spool.spool_segments(recipe, seed, spool_dir, limit=limit, on_error=on_error,
                                                     address=address, progress=bar)
                budget.check_segments(segments)
            else:
                segments = spool_local(task_runners, spool_dir, limit=limit, on_error=on_error,
                                       max_line_bytes=max_line_bytes, workers=workers, bar=bar, budget=budget,
                                       max_document_bytes=max_document_bytes)
        finally:
            bar.close()
        decisions, orders = _decide(recipe, seed, segments, ray)  # stage 2
        decontaminator = task_runners[0].analyzer.decontaminator if task_runners else None
        manifest = write_output(stage, recipe, seed, segments, decisions, orders, recipe_fp, make_bar,
                                decontaminator, workers)  # stage 3
        shutil.rmtree(spool_dir)
        manifest = finish(stage, recipe, manifest, build_fingerprint=fingerprint, progress=progress)
    return manifest


def _decide(recipe: Recipe, seed: int, segments: list[Segment], ray: Any
            ) -> tuple[contract.Decisions, dict[int, np.ndarray] | None]:
    """Stage 2 here, or on Ray Data workers when ``ray`` is a connection (the same decisions;
    Ray also gives each split's records in output order)."""
    if ray is None:
        return steps.decide(recipe, seed, segments), None
    from .decide.in_memory import gather
    from .engines import ray_decide

    return ray_decide.decide(ray, recipe, seed, segments, gather(recipe, segments))
