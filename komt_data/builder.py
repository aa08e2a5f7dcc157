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
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from . import audit, drops, fewshot, figures, freshness, mixing, parallel, passes, publish
from ._version import __version__
from .arguments import check_flag, check_limit, check_seed
from .config import Recipe, TaskConfig, load
from .decontam import Decontaminator
from .engines import ENGINES
from .errors import ConfigError, KomtDataError
from .exclusion import excluded_keys
from .guards import check_output_location
from .resources import sample_recipe_path
from .sources import MAX_DOCUMENT_BYTES, MAX_LINE_BYTES
from .spool.budget import ErrorBudget, parse_max_errors
from .spool.checks import roles_of
from .spool.columns import Table, read_column
from .spool.contract import NoProgress, ProgressBar, ProgressFactory, Segment
from .spool.files import SpoolFile
from .spool.local import runners, spool_local
from .spool.pool import default_workers
from .spool.unit import display_path
from .templates import load_template_set
from .writer import MANIFEST, REJECTED, clear_leftovers, shard_names, staged_output, write_json


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
    task_runners = runners(recipe, seed)
    bar = (progress or NoProgress)(desc="reading", unit=" rows")
    with tempfile.TemporaryDirectory(prefix="komt-data-plan-") as tmp:
        try:
            segments = spool_local(task_runners, Path(tmp), limit=limit, on_error="skip", max_line_bytes=MAX_LINE_BYTES,
                                   workers=1, bar=bar, budget=ErrorBudget(None))
        finally:
            bar.close()
        decisions = mixing.decide(recipe, seed, segments)
        if not fewshot.enabled(recipe):
            return decisions.plan
        names = [ref.config.name for ref in recipe.tasks]
        selection = fewshot.select(Table(segments, names), decisions.split, recipe, seed)
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
    task_runners = runners(recipe, seed)
    with staged_output(output, overwrite or force) as stage, _engine_session(engine, address) as ray:
        spool_dir = stage / "_spool"
        spool_dir.mkdir()
        segments: list[Segment] = []
        bar = make_bar(desc="reading", unit=" rows")
        try:
            if engine == "ray":
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
        decontaminator = task_runners[0].analyzer.decontaminator if task_runners else None
        manifest = _mix_and_write(recipe, seed, segments, stage, make_bar, decontaminator, workers, ray=ray)
        shutil.rmtree(spool_dir)
        manifest = publish.finish(stage, recipe, manifest, build_fingerprint=fingerprint, progress=progress)
    return manifest


def _engine_session(engine: str, address: str | None) -> AbstractContextManager[Any]:
    """The Ray connection a ray build keeps open across stages 1 and 2 (None for local)."""
    if engine != "ray":
        return nullcontext(None)
    from .engines import ray_session

    return ray_session.connected(address)


def _mix_and_write(recipe: Recipe, seed: int, segments: list[Segment], stage: Path,
                   make_bar: ProgressFactory, decontaminator: Decontaminator | None = None,
                   workers: int = 1, ray: Any = None) -> dict[str, Any]:
    names = [ref.config.name for ref in recipe.tasks]
    table = Table(segments, names)
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
            "templates": display_path(task.templates, task.path.parent),
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
            entry["roles"] = roles_of(load_template_set(task.templates), own[0].family,
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


def _write_splits(stage: Path, recipe: Recipe, seed: int, table: Table, split: np.ndarray,
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


def _counts(table: Table, decisions: mixing.Decisions, tasks: int) -> _Counts:
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

    def __init__(self, table: Table):
        self.table = table
        self.offsets: dict[int, np.ndarray] = {}

    def line(self, index: int) -> bytes:
        seg = int(np.searchsorted(self.table.starts, index, side="right") - 1)
        s = self.table.segments[seg]
        if seg not in self.offsets:
            sizes = read_column(s.numbers, s.records, "lengths").astype(np.int64)
            self.offsets[seg] = np.cumsum(sizes) - sizes
        local = index - int(self.table.starts[seg])
        with open(s.spool, "rb") as f:
            f.seek(int(self.offsets[seg][local]))
            return f.readline()


def _write_rejected(path: Path, table: Table, decisions: mixing.Decisions, evaluation: _Evaluation) -> int:
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
