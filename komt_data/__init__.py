"""komt-data: build Korean multi-task instruction-tuning data in the komt format.

>>> import komt_data
>>> manifest = komt_data.build(None, "out")      # the bundled sample recipe
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._version import __version__

# Imported when first used (PEP 562): ``import komt_data`` stays light, so the command line
# has its signal handlers in place before numpy and the readers load (a Ctrl-C during
# start-up is one line, not a traceback).
_LAZY = {
    "Adapter": "adapters", "Skip": "adapters", "adapter_names": "adapters", "get_adapter": "adapters",
    "register_adapter": "adapters", "build": "builder", "list_adapters": "catalog", "list_tasks": "catalog",
    "list_templates": "catalog", "validate": "catalog", "Recipe": "config", "TaskConfig": "config",
    "load": "config", "load_task_config": "config", "ConfigError": "errors", "DataError": "errors",
    "KomtDataError": "errors", "OutputError": "errors", "TemplateError": "errors", "preview": "spool.preview",
    "export": "write.export", "load_manifest": "write.output_dir", "Output": "outputs", "open": "outputs",
}

if TYPE_CHECKING:
    from .adapters import Adapter, Skip, adapter_names, get_adapter, register_adapter
    from .builder import build
    from .catalog import list_adapters, list_tasks, list_templates, validate
    from .config import Recipe, TaskConfig, load, load_task_config
    from .errors import ConfigError, DataError, KomtDataError, OutputError, TemplateError
    from .outputs import Output
    from .outputs import open_output as open  # noqa: A001
    from .spool.preview import preview
    from .write.export import export
    from .write.output_dir import load_manifest


def __getattr__(name: str):
    import importlib
    import importlib.util

    module = _LAZY.get(name)
    if module is None:
        # A submodule (``komt_data.resources``), as the eager imports used to make available.
        if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f".{name}", __name__)
        raise AttributeError(f"module 'komt_data' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), "open_output" if name == "open" else name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Adapter",
    "ConfigError",
    "DataError",
    "KomtDataError",
    "Output",
    "OutputError",
    "Recipe",
    "Skip",
    "TaskConfig",
    "TemplateError",
    "__version__",
    "adapter_names",
    "build",
    "export",
    "get_adapter",
    "list_adapters",
    "list_tasks",
    "list_templates",
    "load",
    "load_manifest",
    "load_task_config",
    "open",
    "preview",
    "register_adapter",
    "validate",
]
