"""manifest.json: what a build read, decided and wrote, task by task, and how."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._version import __version__
from ..config import Recipe, TaskConfig
from ..decide import contract
from ..dedup.contamination import hub_revisions
from ..exclusion import excluded_keys
from ..spool.checks import roles_of
from ..spool.columns import Table
from ..spool.contract import Segment
from ..spool.unit import display_path
from ..templates import load_template_set
from . import drops, fewshot
from .output_dir import REJECTED
from .rejected import Evaluation


@dataclass
class Counts:
    """Per task: records dropped by stage 2 per reason code (spare renderings not counted),
    records per split code (UNSELECTED included), spare renderings written."""

    dropped: np.ndarray
    splits: np.ndarray
    repeated: np.ndarray


def count(table: Table, decisions: contract.Decisions, tasks: int) -> Counts:
    counts = Counts(np.zeros((tasks, 256), np.int64), np.zeros((tasks, 256), np.int64), np.zeros(tasks, np.int64))
    for block in table.blocks("ranks"):
        t = table.task[block.segment]
        reason = decisions.reason[block.start:block.stop]
        split = decisions.split[block.start:block.stop]
        counted = block["ranks"] == 0  # spare renderings count only when written (as repeats)
        counts.dropped[t] += np.bincount(reason[counted], minlength=256)
        counts.splits[t] += np.bincount(split, minlength=256)
        counts.repeated[t] += int(np.count_nonzero(~counted & (split != contract.UNSELECTED)))
    return counts


def sources(segments: list[Segment]) -> list[dict[str, Any]]:
    """Per input file (the chunks of one file added up): its name, encoding and rows read; the
    output split it was read into (``split``) and the dataset's own split it is
    (``dataset_split``, as the task config's ``files:`` mapping or hub split names it), each
    when that is not train: a dataset's dev / test file."""
    files: dict[str, dict[str, Any]] = {}
    for s in segments:
        entry = files.setdefault(s.label, {"file": s.label, "encoding": s.encoding, "read": 0})
        entry["read"] += s.read
        if s.output_split != "train":
            entry["split"] = s.output_split
        if s.dataset_split != "train":
            entry["dataset_split"] = s.dataset_split
    return list(files.values())


def task_entries(recipe: Recipe, segments: list[Segment], decisions: contract.Decisions, counts: Counts,
                 composed: fewshot.Composed) -> dict[str, Any]:
    """manifest.json's ``tasks``: per task what was read, planned, written (per split) and
    dropped (per reason), with its lineage; a task left with nothing stops the build
    (:func:`komt_data.write.drops.check_not_empty`)."""
    plans = {t.name: t for t in decisions.plan.tasks}
    tasks: dict[str, Any] = {}
    for t, ref in enumerate(recipe.tasks):
        task: TaskConfig = ref.config
        own = [s for s in segments if s.task == task.name]
        dropped: Counter = Counter()
        for s in own:
            dropped.update(s.dropped)
        for code, reason in contract.REASONS.items():
            if counts.dropped[t, code]:
                dropped[reason] += int(counts.dropped[t, code])
        written = int(counts.splits[t, :len(contract.SPLIT_NAMES)].sum())
        repeated = int(counts.repeated[t])
        entry = {
            "adapter": task.adapter,
            "family": own[0].family if own else None,
            "templates": display_path(task.templates, task.path.parent),
            "license": task.license,
            "sources": sources(own),
            "weight": ref.weight,
            "cap": ref.cap,
            "read": sum(s.read for s in own),
            "expanded": sum(s.expanded for s in own) + repeated,
            "available": plans[task.name].available,
            "planned": plans[task.name].planned,
            "written": written,
            "splits": {name: int(counts.splits[t, code]) for code, name in contract.SPLIT_NAMES.items()
                       if name != "test" or counts.splits[:, contract.TEST].any()},
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
            from ..sources.hub import resolved_revision

            entry["revision"] = resolved_revision(task.source.hub, task.source.revision)
        if task.source.exclude is not None:  # lineage: which evaluation rows were held out, by what key
            exclude = task.source.exclude
            entry["exclude"] = {"files": [str(path) for path in exclude.source.files], "key": exclude.key,
                                "column": exclude.column, "keys": len(excluded_keys(exclude))}
        tasks[task.name] = entry
        drops.check_not_empty(task.name, entry, task.path, allowed=ref.allow_empty,
                              rejected_files=[s.rejected for s in own])
    return tasks


def manifest(recipe: Recipe, seed: int, recipe_fingerprint: str, decisions: contract.Decisions, counts: Counts,
             tasks: dict[str, Any], shards: list[dict[str, Any]], split_counts: dict[str, int], rejected: int,
             evaluation: Evaluation) -> dict[str, Any]:
    """manifest.json as stage 3 writes it (the figures and the files list come later)."""
    manifest = {
        "komt_data_version": __version__,
        "name": recipe.name,
        "seed": seed,
        "recipe_fingerprint": recipe_fingerprint,
        "format": recipe.output_format,
        "splits": split_counts,
        "plan": decisions.plan.as_dict(),
        "tasks": tasks,
        "shards": shards,
        "rejected": {"path": REJECTED, "records": rejected},
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
            "dropped": int(counts.dropped[:, contract.CONTAMINATED].sum()),
        }
    return manifest
