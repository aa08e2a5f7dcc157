"""Entry-point plugins: one loader for every registry (adapters, export formats, prompt formats).

A plugin package names its objects in ``entry_points.txt`` under a group; the registry that
owns the group calls :func:`load_entry_points` before it answers a lookup by name, so an
installed plugin is usable from a recipe, the CLI and the Python API alike.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .errors import ConfigError

DISABLE_PLUGINS_ENV = "KOMT_DATA_DISABLE_PLUGINS"

_loaded: set[str] = set()


def load_entry_points(group: str, register: Callable[[str, Any], None], *, have: Callable[[str], bool],
                      what: str) -> None:
    """Load every entry point of ``group`` once and hand ``(name, object)`` to ``register``.

    ``have(name)`` skips names already registered (a built-in or a plugin registered by
    import wins over the entry point of the same name). ``what`` names the kind of object in
    the error of a plugin that fails to load.
    """
    if group in _loaded:
        return
    _loaded.add(group)
    # Test suites (ours included) switch plugins off so an installed plugin cannot change results.
    if os.environ.get(DISABLE_PLUGINS_ENV):
        return
    from importlib.metadata import entry_points  # late: 20 ms of imports a build of built-ins never needs

    for ep in entry_points(group=group):
        if have(ep.name):
            continue
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not hide the others
            raise ConfigError(f"plugin {what} '{ep.name}' ({ep.value}) failed to load: {exc}") from None
        register(ep.name, obj)
