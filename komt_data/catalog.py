"""What is available: adapters, template sets, bundled task configs; and config validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .adapters import adapter_names, get_adapter
from .config import load, read_yaml
from .resources import bundled_dir, task_config_paths, template_set_names, template_set_path
from .spool.facts import Analyzer
from .spool.records import TaskRunner
from .templates import load_template_set


def list_adapters() -> list[dict[str, Any]]:
    """Every registered adapter with its family and the fields it reads."""
    rows = []
    for name in adapter_names():
        cls = get_adapter(name)
        rows.append({"name": name, "family": cls.family, "fields": list(cls.fields),
                     "optional_fields": list(cls.optional_fields), "class": f"{cls.__module__}.{cls.__qualname__}"})
    return rows


def list_templates() -> list[dict[str, Any]]:
    """Every built-in template set with its counts of original and inverted templates."""
    rows = []
    for name in template_set_names():
        template_set = load_template_set(template_set_path(name))
        inverted = sum(1 for t in template_set.templates if not t.original_task)
        rows.append({"name": name, "family": template_set.family, "templates": len(template_set),
                     "inverted": inverted, "description": template_set.description})
    return rows


def list_tasks() -> list[dict[str, Any]]:
    """Every bundled task config: how a recipe refers to it, name, adapter, where it reads from."""
    rows = []
    root = bundled_dir("task_configs")
    for path in task_config_paths():
        data = read_yaml(path)
        source = data.get("source") or {}
        where = source.get("hub") or source.get("files")
        ref = path.relative_to(root).with_suffix("").as_posix()
        rows.append({"ref": ref, "name": data.get("name"), "adapter": data.get("adapter"), "source": where,
                     "license": data.get("license"), "path": str(path)})
    return rows


def validate(path: str | Path) -> dict[str, Any]:
    """Check a recipe or task config, its task configs and their templates without building.

    Raises the first ConfigError or TemplateError; returns a summary when all is well.
    """
    recipe = load(path)
    tasks = []
    for ref in recipe.tasks:
        runner = TaskRunner(ref.config, recipe.seed)  # loads and checks the template set
        Analyzer(recipe, ref)  # checks split.group_by and dedup fields against the adapter
        tasks.append({"name": ref.config.name, "adapter": ref.config.adapter,
                      "templates": len(runner.template_set)})
    return {"name": recipe.name, "tasks": tasks}
