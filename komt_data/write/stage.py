"""Stage 3 of a build, from stage 2's decisions to a staged output directory: few-shot
records, shards, rejected.jsonl and manifest.json (the card, report and export format are
:mod:`komt_data.write.finish`'s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..config import Recipe
from ..decide import contract
from ..dedup.contamination import Decontaminator
from ..spool.columns import Table
from ..spool.contract import ProgressFactory, Segment
from . import audit, fewshot, figures
from .manifest import count, task_entries
from .manifest import manifest as make_manifest
from .output_dir import MANIFEST, REJECTED, write_json
from .rejected import Evaluation, write_rejected
from .shards import write_splits


def write_output(stage: Path, recipe: Recipe, seed: int, segments: list[Segment], decisions: contract.Decisions,
                 orders: dict[int, np.ndarray] | None, recipe_fingerprint: str, make_bar: ProgressFactory,
                 decontaminator: Decontaminator | None = None, workers: int = 1) -> dict[str, Any]:
    """Stage 3 into ``stage``: the few-shot records, the shards of every split, rejected.jsonl
    and manifest.json; returns the manifest, with report.html's examples under ``_report``.

    ``orders``: each split's records in output order when stage 2 ran on Ray (else they are
    ordered here, on disk); emptied once the shards are written, so that its arrays are freed.
    """
    names = [ref.config.name for ref in recipe.tasks]
    table = Table(segments, names)
    split = decisions.split
    composed = fewshot.Composed.none()
    if fewshot.enabled(recipe):  # exemplars from the train records just decided
        composed = fewshot.write(table, fewshot.select(table, split, recipe, seed), len(names),
                                 recipe.prompt_format, stage / "_spool", workers)
    bar = make_bar(desc="writing", unit=" records", total=int(np.count_nonzero(split != contract.UNSELECTED)))
    evaluation = Evaluation(decontaminator)
    rejected: list[int] = []  # rejected.jsonl is written while the shard writers run: it needs none of them
    try:
        shards, split_counts = write_splits(
            stage, recipe, seed, table, split, orders, workers, bar, composed,
            meanwhile=lambda: rejected.append(write_rejected(stage / REJECTED, table, decisions, evaluation)))
        if orders is not None:  # the Ray engine's: written out as the splits' order files
            orders.clear()
    finally:
        bar.close()
    counts = count(table, decisions, len(names))
    tasks = task_entries(recipe, segments, decisions, counts, composed)
    manifest = make_manifest(recipe, seed, recipe_fingerprint, decisions, counts, tasks, shards, split_counts,
                             rejected[0], evaluation)
    manifest["stats"] = figures.stats(list(tasks), table, split)
    write_json(stage / MANIFEST, manifest)
    # report.html's examples and checks, read from the spools while they exist (popped by komt_data.write.finish).
    manifest["_report"] = audit.gather(manifest, audit.recipe_roles(recipe), table, split,
                                       audit.read_findings(segments), stage / REJECTED, seed)
    return manifest
