"""The build: every task's units are spooled to disk, then mixed and written as shards.

Stage 1 (per input unit, independent): read → adapt → clean → render → spool file plus
a few numbers per record. Stage 2 (whole recipe, on those numbers only): exact dedup,
sampling, split, order. Stage 3: copy the chosen lines from the spools into shards,
then write ``rejected.jsonl`` and ``manifest.json``, and move the directory into place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from . import audit, columns, drops, fewshot, figures, freshness, mixing, parallel, passes, publish
from ._version import __version__
from .analysis import Analyzer
from .arguments import check_flag, check_limit, check_seed
from .config import Recipe, TaskConfig, load
from .dedup.contamination import Decontaminator, hub_revisions
from .engines import ENGINES
from .errors import ConfigError, DataError, KomtDataError
from .exclusion import excluded_keys
from .guards import ErrorBudget, check_output_location, parse_max_errors
from .records import Record, TaskRunner
from .resources import bundled_dir, sample_recipe_path
from .sources import MAX_DOCUMENT_BYTES, MAX_LINE_BYTES, Unit, chunks, resolve_encoding, units_of
from .sources.chunks import decompressed_chunks, iter_chunks, worth_decompressing
from .sources.registry import reader_of
from .spool.contract import NoProgress, ProgressBar, ProgressFactory, Segment
from .spool.files import SpoolFile
from .storage import URL
from .templates import load_template_set
from .writer import MANIFEST, REJECTED, clear_leftovers, shard_names, staged_output, write_json

_SPOOL_BUFFER = 1 << 20


def _display_path(path: Path | URL, base: Path | None = None) -> str:
    """How manifest.json and rejected.jsonl name a file, the same from any working directory:
    a bundled file as ``<bundled>/templates/nli.yaml`` (not the install path), a file under
    ``base`` (the folder of the config that names it) relative to it, any other by its
    absolute path; a URL as given."""
    if isinstance(path, URL):
        return str(path)
    resolved = Path(path).resolve()
    for kind in ("templates", "task_configs"):
        try:
            root = bundled_dir(kind)
        except FileNotFoundError:
            continue
        if resolved.is_relative_to(root):
            return f"<bundled>/{kind}/{resolved.relative_to(root).as_posix()}"
    if base is not None and resolved.is_relative_to(base.resolve()):
        return resolved.relative_to(base.resolve()).as_posix()
    return str(resolved)


def _shown(path: Path | URL) -> str:
    """How an error message names a file for the person at the terminal: relative to the
    working directory when under it ("../../tmp/x" helps nobody find a file)."""
    if isinstance(path, URL):
        return str(path)
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def unit_label(unit: Unit, base: Path | None = None) -> str:
    """How manifest.json and rejected.jsonl name a unit: its path relative to ``base``, the
    folder of its task config (see :func:`_display_path`), or its hub name."""
    return _display_path(unit.path, base) if unit.path is not None else unit.label


def spool_unit(runner: TaskRunner, unit: Unit, spool_dir: Path, index: int, *, limit: int | None = None,
               on_error: str = "skip", progress: ProgressBar | None = None, label: str | None = None,
               budget: ErrorBudget | None = None, max_line_bytes: int = MAX_LINE_BYTES,
               encoding: str | None = None, max_document_bytes: int = MAX_DOCUMENT_BYTES,
               shown: str | None = None) -> Segment:
    """Stage 1 for one unit: write its records to a spool and its rejections to a side file.

    ``label`` names the unit in provenance; by default its path relative to the working
    directory (a remote worker gets the driver's label, since its working directory differs).
    ``budget`` counts the rejections against ``--max-errors``; ``max_line_bytes`` caps one line,
    ``max_document_bytes`` a file read whole.
    ``encoding`` is the unit's resolved encoding (looked up when not given).
    """
    # Errors name the file for the terminal (``shown``); rejected.jsonl and the manifest by
    # ``label``. A chunk of a decompressed copy is given both, for the .gz file it came from.
    if shown is None:
        shown = label or (_shown(unit.path) if unit.path is not None else unit.label)
    label = label or unit_label(unit)
    line_based = unit.path is not None and reader_of(unit.source, unit.path).line_based
    encoding = encoding or resolve_encoding(unit)
    segment = Segment(
        task=runner.task.name, family=runner.family, label=label,
        position_kind="line" if line_based else "row", encoding=encoding,
        spool=spool_dir / f"{index:05d}.jsonl", rejected=spool_dir / f"{index:05d}.rejected.jsonl",
        output_split=unit.output_split,
    )
    lengths, content, ids = array("I"), array("Q"), array("Q")
    positions, examples = array("I"), array("I")
    keys, groups, ranks, contaminated, overlaps = array("Q"), array("Q"), array("H"), array("i"), array("f")
    bands = array("I")  # flat: a list of small arrays would cost ~100 bytes of overhead each
    instruction_chars, output_chars, templates = array("I"), array("I"), array("H")
    template_number: dict[str, int] = {}
    sig_file = None
    near_texts: list[tuple] = []  # MinHash is computed per batch of examples (numpy, not per row)
    # A batch ends at 2,048 examples or 256k characters of text, whichever comes first: its
    # numpy temporaries cost about 40 bytes a character (long documents must not add up).
    batched = [0, 0]  # characters in near_texts, in pending

    def flush_near() -> None:
        rows, band_rows = runner.analyzer.near_batch(near_texts)
        bands.frombytes(band_rows.tobytes())
        sig_file.write(rows.tobytes())
        near_texts.clear()
        batched[0] = 0

    pending: list[Any] = []  # (record number, facts) whose contamination is still to come

    def flush_contamination() -> None:
        unique = list({id(f): f for _, f in pending}.values())  # the records of an example share facts
        found = dict(zip(map(id, unique), runner.analyzer.contamination(unique), strict=True))
        for i, facts in pending:
            contaminated[i], overlaps[i] = found[id(facts)]
        pending.clear()
        batched[1] = 0

    if runner.analyzer is not None and runner.analyzer.near is not None:
        segment.signatures = spool_dir / f"{index:05d}.sig"
        sig_file = open(segment.signatures, "wb")  # noqa: SIM115 - closed below
    events = 0
    last_reported = 0
    # A 1 MB buffer: records are about a kilobyte, and the default 8 KB buffer made a write
    # system call every few records (a tenth of stage 1's time on QA passages).
    line_checks = getattr(runner, "line_checks", None)
    findings: list[bytes] = []
    with open(segment.spool, "wb", buffering=_SPOOL_BUFFER) as spool, open(segment.rejected, "wb") as rejected, \
            _named(unit, shown):
        write = spool.write
        for event in runner.run(unit, encoding, limit, max_line_bytes, max_document_bytes):
            if type(event) is Record:
                line, content_hash, id_hash, position, example, rank, facts, template, ichars, ochars = event
                if rank == 0:  # spare renderings for repeats are not events of a row
                    events += 1
                write(line)
                if line_checks is not None:
                    problems = line_checks(line, template)
                    if problems:
                        findings += (orjson.dumps([len(lengths), *p], option=orjson.OPT_APPEND_NEWLINE)
                                     for p in problems)
                lengths.append(len(line))
                content.append(content_hash)
                ids.append(id_hash)
                positions.append(position)
                examples.append(example)
                ranks.append(rank)
                instruction_chars.append(ichars)
                output_chars.append(ochars)
                templates.append(template_number.setdefault(template, len(template_number)))
                if facts is not None:
                    key_hash, group_hash, near, copied, overlap, eval_texts = facts
                    keys.append(key_hash)
                    groups.append(group_hash)
                    contaminated.append(copied)
                    overlaps.append(overlap)
                    if eval_texts is not None:
                        pending.append((len(contaminated) - 1, facts))
                        batched[1] += sum(map(len, eval_texts))
                        if len(pending) >= 2048 or batched[1] >= 262144:
                            flush_contamination()
                    if near is not None:
                        near_texts.append(near)
                        batched[0] += sum(map(len, near[1]))
                        if len(near_texts) >= 2048 or batched[0] >= 262144:
                            flush_near()
                # Without facts (a runner makes them for all records or none), the keys and
                # groups are the content hashes, and nothing is contaminated: filled below.
            else:
                events += 1
                if on_error == "fail":
                    raise DataError(f"{event.reason}: {event.detail}", file=shown, line=event.position)
                segment.dropped[event.reason] += 1
                if budget is not None:
                    budget.rejected(event.reason, shown, event.position)
                reason, detail, position, row = event
                if position is None:
                    entry = {"task": segment.task, "reason": reason, "detail": detail, "file": label, "input": row}
                else:  # what segment.provenance gives, without a dict to merge
                    entry = {"task": segment.task, "reason": reason, "detail": detail, "file": label,
                             segment.position_kind: int(position), "input": row}
                rejected.write(orjson.dumps(entry, default=str, option=orjson.OPT_APPEND_NEWLINE))
            if progress is not None and runner.rows_read - last_reported >= 2048:
                progress.update(runner.rows_read - last_reported)
                last_reported = runner.rows_read
    if pending:
        flush_contamination()
    if sig_file is not None:
        if near_texts:
            flush_near()
        sig_file.close()
    if progress is not None:
        progress.update(runner.rows_read - last_reported)
    if runner.analyzer is not None and runner.analyzer.near is not None:
        segment.bands = np.frombuffer(bands, dtype=np.uint32).reshape(-1, runner.analyzer.width)
    segment.read = runner.rows_read
    segment.expanded = events - runner.rows_read
    if budget is not None:
        budget.unit_done(shown, events, segment.dropped)
    if not keys and content:  # records without facts
        keys = groups = content
        contaminated, overlaps = array("i", [-1]) * len(content), array("f", [0.0]) * len(content)
    # The numbers go to disk, not back to the caller: stage 2 reads them in bounded passes.
    segment.numbers = spool_dir / f"{index:05d}.numbers"
    segment.records = columns.write_numbers(segment.numbers, {
        "lengths": lengths, "content": content, "ids": ids, "positions": positions, "examples": examples,
        "keys": keys, "groups": groups, "ranks": ranks, "contaminated": contaminated, "overlaps": overlaps,
        "instruction_chars": instruction_chars, "output_chars": output_chars, "templates": templates})
    segment.template_names = list(template_number)
    if findings:
        segment.findings = spool_dir / f"{index:05d}.findings.jsonl"
        segment.findings.write_bytes(b"".join(findings))
    return segment


@contextmanager
def _named(unit: Unit, label: str) -> Iterator[None]:
    """Readers name their file as they were given it; messages name it as the user sees it."""
    try:
        yield
    except DataError as exc:
        if unit.path is not None and exc.file == str(unit.path) and exc.file != label:
            raise DataError(exc.problem, file=label, line=exc.line) from None
        raise


def _fingerprint(recipe: Recipe, seed: int) -> str:
    digest = hashlib.sha256(f"komt-data {__version__}\nseed {seed}\n".encode())
    files: list[Path] = [recipe.path] if recipe.path else []
    for ref in recipe.tasks:
        files += [ref.config.path, ref.config.templates]
        digest.update(f"{ref.config.name} weight={ref.weight} cap={ref.cap}\n".encode())
        if ref.fewshot is not None:  # (a recipe made in code has no file to digest)
            digest.update(f"{ref.config.name} fewshot={ref.fewshot}\n".encode())
    stack = list(recipe.parts)
    while stack:  # included recipes (submixtures) shape the mix too
        part = stack.pop()
        stack.extend(part.parts)
        if part.path is not None:
            files.append(part.path)
    if recipe.decontaminate is not None:
        for spec in recipe.decontaminate.sets:
            files += list(spec.files)
            digest.update(f"eval {spec.name} {spec.hub} {spec.configs} {spec.split} {spec.fields}\n".encode())
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def resolve_recipe(recipe: str | Path | Recipe | None) -> Recipe:
    """A Recipe object from a path (recipe or single task config), or the bundled sample."""
    if isinstance(recipe, Recipe):
        return recipe
    return load(sample_recipe_path() if recipe is None else recipe)


def _runners(recipe: Recipe, seed: int) -> list[TaskRunner]:
    """One runner per task of the recipe, in recipe order (the Ray engine builds the same on workers)."""
    decontaminator = Decontaminator.from_config(recipe.decontaminate) if recipe.decontaminate else None
    runners = [TaskRunner(ref.config, seed, analyzer=Analyzer(recipe, ref, decontaminator),
                          repeat=mixing._repeat_of(recipe, ref)) for ref in recipe.tasks]
    for runner in runners:
        publish.configure_runner(runner, recipe)
    return runners


def _read_local(runners: list[TaskRunner], spool_dir: Path, *, limit: int | None, on_error: str,
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

    def jobs() -> Iterator[parallel.UnitJob]:
        # Made while the first ones run: workers start on a file's first chunks while the
        # rest of it is still being cut (or decompressed).
        index = 0
        for t, unit, gunzip in units:
            label = unit_label(unit, runners[t].task.path.parent)
            shown = _shown(unit.path) if unit.path is not None else label
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
                yield parallel.UnitJob(t, piece, encoding, spool_dir, index, limit=limit, on_error=on_error,
                                       max_line_bytes=max_line_bytes, max_document_bytes=max_document_bytes,
                                       label=label, shown=shown)
                index += 1

    try:
        return parallel.run_jobs(runners, jobs(), workers, bar, budget, expected=expected)
    finally:
        for copy in copies:
            copy.unlink(missing_ok=True)


def plan(recipe: str | Path | Recipe | None = None, *, seed: int | None = None, limit: int | None = None,
         progress: ProgressFactory | None = None) -> mixing.MixPlan:
    """What a build of ``recipe`` would take from every task, without writing any output.

    The inputs are read (and spooled to a temporary directory that is removed) because the
    plan depends on what survives dedup and decontamination.
    """
    check_seed(seed)
    check_limit(limit)
    recipe = resolve_recipe(recipe)
    seed = check_seed(recipe.seed if seed is None else seed)
    runners = _runners(recipe, seed)
    bar = (progress or NoProgress)(desc="reading", unit=" rows")
    with tempfile.TemporaryDirectory(prefix="komt-data-plan-") as tmp:
        try:
            segments = _read_local(runners, Path(tmp), limit=limit, on_error="skip", max_line_bytes=MAX_LINE_BYTES,
                                   workers=1, bar=bar, budget=ErrorBudget(None))
        finally:
            bar.close()
        decisions = mixing.decide(recipe, seed, segments)
        if not fewshot.enabled(recipe):
            return decisions.plan
        names = [ref.config.name for ref in recipe.tasks]
        selection = fewshot.select(columns.Table(segments, names), decisions.split, recipe, seed)
        counts = selection.counts(len(names))
        return replace(decisions.plan, fewshot={
            name: counts.get(t, fewshot.NO_COUNTS)
            for t, (name, ref) in enumerate(zip(names, recipe.tasks, strict=True)) if ref.fewshot is not None})


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
    workers = workers or parallel.default_workers()
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
        from .engines import ray_engine

        ray_engine.import_ray()  # a missing extra fails before anything is read or written
    recipe = resolve_recipe(recipe)
    seed = check_seed(recipe.seed if seed is None else seed)  # a Recipe made in Python is not checked
    output = Path(output)
    # First: an output that holds an input of this build (its recipe, a template, data read
    # back through file://) is refused, before anything is compared, read or replaced.
    check_output_location(output, recipe)
    # Before the up-to-date check: a build killed between its renames left the previous
    # output aside, and putting it back may make this build unnecessary.
    clear_leftovers(output.resolve())
    fingerprint = freshness.build_fingerprint(
        recipe, _fingerprint(recipe, seed), limit=limit, on_error=on_error,
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
    runners = _runners(recipe, seed)
    with staged_output(output, overwrite or force) as stage, _engine_session(engine, address) as ray:
        spool_dir = stage / "_spool"
        spool_dir.mkdir()
        segments: list[Segment] = []
        bar = make_bar(desc="reading", unit=" rows")
        try:
            if engine == "ray":
                segments = ray_engine.spool_segments(recipe, seed, spool_dir, limit=limit, on_error=on_error,
                                                     address=address, progress=bar)
                budget.check_segments(segments)
            else:
                segments = _read_local(runners, spool_dir, limit=limit, on_error=on_error,
                                       max_line_bytes=max_line_bytes, workers=workers, bar=bar, budget=budget,
                                       max_document_bytes=max_document_bytes)
        finally:
            bar.close()
        decontaminator = runners[0].analyzer.decontaminator if runners else None
        manifest = _mix_and_write(recipe, seed, segments, stage, make_bar, decontaminator, workers, ray=ray)
        shutil.rmtree(spool_dir)
        manifest = publish.finish(stage, recipe, manifest, build_fingerprint=fingerprint, progress=progress)
    return manifest


def _engine_session(engine: str, address: str | None) -> AbstractContextManager[Any]:
    """The Ray connection a ray build keeps open across stages 1 and 2 (None for local)."""
    if engine != "ray":
        return nullcontext(None)
    from .engines import ray_engine

    return ray_engine.connected(address)


def _mix_and_write(recipe: Recipe, seed: int, segments: list[Segment], stage: Path,
                   make_bar: ProgressFactory, decontaminator: Decontaminator | None = None,
                   workers: int = 1, ray: Any = None) -> dict[str, Any]:
    names = [ref.config.name for ref in recipe.tasks]
    table = columns.Table(segments, names)
    orders: dict[int, np.ndarray] | None = None
    if ray is None:
        decisions = mixing.decide(recipe, seed, segments)
    else:  # the same decisions, made by Ray Data workers (komt_data.engines.ray_stage2)
        from .engines import ray_stage2

        decisions, orders = ray_stage2.decide(ray, recipe, seed, segments, mixing.gather(recipe, segments))
    split = decisions.split
    composed = fewshot.Composed.none()
    if fewshot.enabled(recipe):  # exemplars from the train records just decided
        composed = fewshot.write(table, fewshot.select(table, split, recipe, seed), len(names),
                                 recipe.prompt_format, stage / "_spool", workers)
    bar = make_bar(desc="writing", unit=" records", total=int(np.count_nonzero(split != mixing.UNSELECTED)))
    evaluation = _Evaluation(decontaminator)
    rejected: list[int] = []  # rejected.jsonl is written while the shard writers run: it needs none of them
    try:
        shards, split_counts = _write_splits(
            stage, recipe, seed, table, split, orders, workers, bar, composed,
            meanwhile=lambda: rejected.append(_write_rejected(stage / REJECTED, table, decisions, evaluation)))
        rejected_count = rejected[0]
        orders = None  # the Ray engine's: written out as the splits' order files
    finally:
        bar.close()
    counts = _counts(table, decisions, len(names))

    plans = {t.name: t for t in decisions.plan.tasks}
    tasks: dict[str, Any] = {}
    for t, ref in enumerate(recipe.tasks):
        task: TaskConfig = ref.config
        own = [s for s in segments if s.task == task.name]
        dropped: Counter = Counter()
        for s in own:
            dropped.update(s.dropped)
        for code, reason in mixing.REASONS.items():
            if counts.dropped[t, code]:
                dropped[reason] += int(counts.dropped[t, code])
        written = int(counts.splits[t, :len(mixing.SPLIT_NAMES)].sum())
        repeated = int(counts.repeated[t])
        entry = {
            "adapter": task.adapter,
            "family": own[0].family if own else None,
            "templates": _display_path(task.templates, task.path.parent),
            "license": task.license,
            "sources": _sources(own),
            "weight": ref.weight,
            "cap": ref.cap,
            "read": sum(s.read for s in own),
            "expanded": sum(s.expanded for s in own) + repeated,
            "available": plans[task.name].available,
            "planned": plans[task.name].planned,
            "written": written,
            "splits": {name: int(counts.splits[t, code]) for code, name in mixing.SPLIT_NAMES.items()
                       if name != "test" or counts.splits[:, mixing.TEST].any()},
            "dropped": dict(sorted(dropped.items())),
        }
        if repeated:
            entry["repeated"] = repeated
        if own:  # what the responses are (labels, extractive answers), for komt-data audit
            entry["roles"] = audit.roles_of(load_template_set(task.templates), own[0].family,
                                            task.options).as_dict()
        if ref.fewshot is not None:
            entry["fewshot"] = composed.counts.get(t, fewshot.NO_COUNTS)
        if task.source.hub:  # lineage: the commit the hub dataset was read at, when known
            from .sources.hub import resolved_revision

            entry["revision"] = resolved_revision(task.source.hub, task.source.revision)
        if task.source.exclude is not None:  # lineage: which evaluation rows were held out, by what key
            exclude = task.source.exclude
            entry["exclude"] = {"files": [str(path) for path in exclude.source.files], "key": exclude.key,
                                "column": exclude.column, "keys": len(excluded_keys(exclude))}
        tasks[task.name] = entry
        drops.check_not_empty(task.name, entry, task.path, allowed=ref.allow_empty,
                              rejected_files=[s.rejected for s in own])
    manifest = {
        "komt_data_version": __version__,
        "name": recipe.name,
        "seed": seed,
        "recipe_fingerprint": _fingerprint(recipe, seed),
        "format": recipe.output_format,
        "splits": split_counts,
        "plan": decisions.plan.as_dict(),
        "tasks": tasks,
        "shards": shards,
        "rejected": {"path": REJECTED, "records": rejected_count},
    }
    if recipe.dedup.near is not None:
        near = recipe.dedup.near
        manifest["near_dedup"] = {
            "threshold": near.threshold, "shingle": near.shingle, "num_perm": near.num_perm,
            "clusters": sum(decisions.cluster_sizes.values()),
            "cluster_sizes": {str(k): v for k, v in sorted(decisions.cluster_sizes.items())},
        }
    if recipe.decontaminate is not None:
        cfg = recipe.decontaminate
        manifest["decontamination"] = {
            "ngram": cfg.ngram, "threshold": cfg.threshold, "min_chars": cfg.min_chars,
            "sets": evaluation.sizes(),
            # lineage, as tasks.<name>.revision: the commit each hub-read set was read at
            **({"revisions": revisions} if (revisions := hub_revisions(cfg)) else {}),
            "dropped": int(counts.dropped[:, mixing.CONTAMINATED].sum()),
        }
    manifest["stats"] = figures.stats(list(tasks), table, split)
    write_json(stage / MANIFEST, manifest)
    # report.html's examples and checks, read from the spools while they exist (popped by publish).
    manifest["_report"] = audit.gather(manifest, audit.recipe_roles(recipe), table, split,
                                       audit.read_findings(segments), stage / REJECTED, seed)
    return manifest


class _Evaluation:
    """The evaluation items, to name the one a dropped record copies."""

    def __init__(self, decontaminator: Decontaminator | None):
        self.items = decontaminator.items if decontaminator is not None else []

    def sizes(self) -> dict[str, int]:
        return dict(Counter(item.set for item in self.items))


def _write_splits(stage: Path, recipe: Recipe, seed: int, table: columns.Table, split: np.ndarray,
                  orders: dict[int, np.ndarray] | None, workers: int,
                  progress: ProgressBar, composed: fewshot.Composed, meanwhile: Callable[[], Any] | None = None
                  ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The shards of every split, written by ``workers`` processes (the same bytes for any
    number), and the records of each split. ``orders``: each split's records in output order
    when stage 2 ran elsewhere (the Ray engine); else they are ordered here, on disk.
    ``composed``: the records rewritten with few-shot exemplars, copied from their new lines.
    ``meanwhile`` runs in this process while the shards are written (parallel.write_shards)."""
    jobs: list[parallel.ShardJob] = []
    entries: list[dict[str, Any]] = []
    split_counts: dict[str, int] = {}
    for code, name in mixing.SPLIT_NAMES.items():
        count = int(np.count_nonzero(split == code))
        if name != "train" and count == 0:
            continue
        rows = stage / "_spool" / f"{name}.order"
        if orders is None:
            sizes = passes.order_split(table, split, code, seed, rows, recipe.shard_size, composed)
        else:
            sizes = passes.rows_of(table, orders.get(code, np.zeros(0, np.int64)), rows, recipe.shard_size,
                                   composed)
        split_counts[name] = count
        for k, shard in enumerate(shard_names(name, len(sizes))):
            start, stop = k * recipe.shard_size, min((k + 1) * recipe.shard_size, count)
            jobs.append(parallel.ShardJob(stage / shard, rows, start, stop, sizes[k]))
            entries.append({"path": shard, "split": name, "records": stop - start})
    spools = tuple(s.spool for s in table.segments) + tuple(composed.files)
    digests = parallel.write_shards(jobs, spools, workers, progress, meanwhile)
    for entry, digest in zip(entries, digests, strict=True):
        entry["sha256"] = digest
    return entries, split_counts


@dataclass
class _Counts:
    """Per task: records dropped by stage 2 per reason code (spare renderings not counted),
    records per split code (UNSELECTED included), spare renderings written."""

    dropped: np.ndarray
    splits: np.ndarray
    repeated: np.ndarray


def _counts(table: columns.Table, decisions: mixing.Decisions, tasks: int) -> _Counts:
    counts = _Counts(np.zeros((tasks, 256), np.int64), np.zeros((tasks, 256), np.int64), np.zeros(tasks, np.int64))
    for block in table.blocks("ranks"):
        t = table.task[block.segment]
        reason = decisions.reason[block.start:block.stop]
        split = decisions.split[block.start:block.stop]
        counted = block["ranks"] == 0  # spare renderings count only when written (as repeats)
        counts.dropped[t] += np.bincount(reason[counted], minlength=256)
        counts.splits[t] += np.bincount(split, minlength=256)
        counts.repeated[t] += int(np.count_nonzero(~counted & (split != mixing.UNSELECTED)))
    return counts


def _sources(segments: list[Segment]) -> list[dict[str, Any]]:
    """Per input file (the chunks of one file added up): its name, encoding and rows read."""
    files: dict[str, dict[str, Any]] = {}
    for s in segments:
        entry = files.setdefault(s.label, {"file": s.label, "encoding": s.encoding, "read": 0})
        entry["read"] += s.read
    return list(files.values())


class _Lines:
    """Spool lines of any record by its position in the table (a segment's offsets computed once)."""

    def __init__(self, table: columns.Table):
        self.table = table
        self.offsets: dict[int, np.ndarray] = {}

    def line(self, index: int) -> bytes:
        seg = int(np.searchsorted(self.table.starts, index, side="right") - 1)
        s = self.table.segments[seg]
        if seg not in self.offsets:
            sizes = columns.read_column(s.numbers, s.records, "lengths").astype(np.int64)
            self.offsets[seg] = np.cumsum(sizes) - sizes
        local = index - int(self.table.starts[seg])
        with open(s.spool, "rb") as f:
            f.seek(int(self.offsets[seg][local]))
            return f.readline()


def _write_rejected(path: Path, table: columns.Table, decisions: mixing.Decisions, evaluation: _Evaluation) -> int:
    """rejected.jsonl: stage-1 rejections per unit, then the mixer's drops in record order."""
    segments = table.segments
    lines = _Lines(table)
    count = 0
    with open(path, "wb") as out:
        for s in segments:
            with open(s.rejected, "rb") as f:
                for line in f:
                    out.write(line)
                    count += 1
        for block in table.blocks("ranks", "positions", "lengths", "offsets", "contaminated", "overlaps"):
            reason = decisions.reason[block.start:block.stop]
            dropped = np.flatnonzero((reason != mixing.KEEP) & (block["ranks"] == 0))
            if not len(dropped):
                continue
            s = segments[block.segment]
            # The records that duplicates repeat (anywhere in the recipe): where they are.
            others: dict[int, tuple[int, int]] = {}
            survivors: dict[int, int] = {}  # near duplicates: the survivor's record position
            for code, pointers in ((mixing.DUPLICATE, decisions.first_of), (mixing.NEAR_DUPLICATE, decisions.near_of)):
                mine = block.start + dropped[reason[dropped] == code]
                if len(mine):
                    firsts = pointers[mine]
                    found = zip(mine.tolist(), (np.searchsorted(table.starts, firsts, side="right") - 1).tolist(),
                                table.take("positions", firsts).tolist(), strict=True)
                    others.update((i, (seg, position)) for i, seg, position in found)
                    if code == mixing.NEAR_DUPLICATE:
                        survivors.update(zip(mine.tolist(), firsts.tolist(), strict=True))
            spool = SpoolFile(s.spool)
            try:
                for i in dropped.tolist():
                    code = int(reason[i])
                    extra: dict[str, Any] = {}
                    if code == mixing.DUPLICATE:
                        seg, position = others[block.start + i]
                        detail = f"same content as {segments[seg].label}:{position}"
                    elif code == mixing.CONTAMINATED:
                        item = evaluation.items[int(block["contaminated"][i])]
                        detail = (f"copies evaluation item {item.set} {item.where} "
                                  f"({float(block['overlaps'][i]):.0%} of character n-grams shared)")
                        extra["eval_item"] = {"set": item.set, "where": item.where, "text": item.text}
                    elif code == mixing.NEAR_DUPLICATE:
                        seg, position = others[block.start + i]
                        jaccard = float(decisions.similarity[block.start + i])
                        detail = f"near duplicate (estimated Jaccard {jaccard:.2f}) of {segments[seg].label}:{position}"
                        # The survivor itself, so that the pair can be compared side by side.
                        extra["jaccard"] = round(jaccard, 4)
                        extra["survivor"] = {**segments[seg].provenance(position),
                                             "record": orjson.Fragment(lines.line(survivors[block.start + i])[:-1])}
                    else:
                        detail = "not sampled: the task's cap or its share of the mix was reached"
                    entry = {"task": s.task, "reason": mixing.REASONS[code], "detail": detail,
                             **s.provenance(int(block["positions"][i])), **extra}
                    line = spool.read_at(int(block["offsets"][i]), int(block["lengths"][i]))
                    out.write(orjson.dumps(entry)[:-1] + b',"record":' + line[:-1] + b"}\n")
                    count += 1
            finally:
                spool.close()
        out.flush()
        os.fsync(out.fileno())  # on disk before the directory is renamed into place
    return count
