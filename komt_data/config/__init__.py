"""Recipes, task configs and their validation into frozen, typed objects.

Four layers, each importing only the ones before it: :mod:`.checks` (the one vocabulary of
checks: YAML, keys, kinds, numbers), :mod:`.schema` (the dataclasses), :mod:`.sections` (the
recipe's mixing, dedup, decontaminate, split and prompting sections) and :mod:`.loading`
(recipes and task configs from files; it is the part that asks the registries: adapters,
export formats, prompts). The registries import ``checks`` and ``schema`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .checks import check_keys, one_of, read_yaml
from .schema import Exclude, Part, Recipe, SourceConfig, TaskConfig, TaskRef

if TYPE_CHECKING:
    from .loading import (
        OUTPUT_KEYS,
        RECIPE_KEYS,
        SOURCE_KEYS,
        TASK_KEYS,
        load,
        load_task_config,
        parse_task_config,
        resolve_recipe,
        resolve_templates,
    )

# The loader's names are imported when first asked for (PEP 562): the registries import
# ``config.checks`` and ``config.schema``, which runs this file, and the loader imports the
# registries; loading it here would import a registry in the middle of its own import.
_LOADING = {"OUTPUT_KEYS", "RECIPE_KEYS", "SOURCE_KEYS", "TASK_KEYS", "load", "load_task_config",
            "parse_task_config", "resolve_recipe", "resolve_templates"}

__all__ = [
    "OUTPUT_KEYS", "RECIPE_KEYS", "SOURCE_KEYS", "TASK_KEYS", "Exclude", "Part", "Recipe", "SourceConfig",
    "TaskConfig", "TaskRef", "check_keys", "load", "load_task_config", "one_of", "parse_task_config",
    "read_yaml", "resolve_recipe", "resolve_templates",
]


def __getattr__(name: str) -> Any:
    if name in _LOADING:
        from . import loading

        return getattr(loading, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
