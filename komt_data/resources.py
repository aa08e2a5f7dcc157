"""Where the bundled template sets, task configs and sample recipe live.

In a wheel they are packaged inside ``komt_data/_bundled``; in a source checkout
(including an editable install) they are the top-level ``templates/`` and
``task_configs/`` folders next to the package.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def bundled_dir(kind: str) -> Path:
    """Return the folder of bundled ``templates`` or ``task_configs``."""
    for candidate in (_PACKAGE / "_bundled" / kind, _PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"komt-data is installed without its bundled {kind}/ folder")


def template_set_path(name: str) -> Path:
    """Path of the built-in template set ``name`` (e.g. ``nli``)."""
    return bundled_dir("templates") / f"{name}.yaml"


def template_set_names() -> list[str]:
    """Names of the built-in template sets."""
    return sorted(p.stem for p in bundled_dir("templates").glob("*.yaml"))


def task_config_paths() -> list[Path]:
    """Every bundled task config (the sample data's configs included)."""
    root = bundled_dir("task_configs")
    return sorted(p for p in root.rglob("*.yaml") if p.name != "recipe.yaml")


def sample_recipe_path() -> Path:
    """The recipe that mixes the bundled sample data; ``build`` uses it by default."""
    return bundled_dir("task_configs") / "sample" / "recipe.yaml"
