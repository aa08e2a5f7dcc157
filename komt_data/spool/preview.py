"""Preview: the first records of a task, rendered exactly as they will be trained on (stage 1
on the first rows of a task's source, nothing written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ..arguments import check_seed
from ..config import Recipe, resolve_recipe
from ..errors import ConfigError
from ..sources import resolve_encoding, units_of
from .records import Record, TaskRunner, configure_runner


def preview(config: str | Path | Recipe | None = None, n: int = 3, *, task: str | None = None,
            seed: int | None = None) -> list[dict[str, Any]]:
    """Return up to ``n`` records of one task (the first of the recipe unless ``task`` names one)."""
    check_seed(seed)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigError(f"n must be a whole number of records, got {n!r}")
    recipe = resolve_recipe(config)
    refs = [ref for ref in recipe.tasks if task is None or ref.config.name == task]
    if not refs:
        names = ", ".join(ref.config.name for ref in recipe.tasks)
        raise ConfigError(f"no task '{task}' in {recipe.name} (have: {names})")
    runner = TaskRunner(refs[0].config, recipe.seed if seed is None else seed)
    configure_runner(runner, recipe)  # the recipe's prompt format and token filters, as in a build
    records: list[dict[str, Any]] = []
    # Training records first: a source may read its dev / test split into validation / test.
    for unit in sorted(units_of(runner.task.source), key=lambda u: u.output_split != "train"):
        for event in runner.run(unit, resolve_encoding(unit)):
            if isinstance(event, Record):
                records.append(orjson.loads(event.line))
                if len(records) >= n:
                    return records
    return records
