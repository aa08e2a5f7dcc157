"""komt-data: build Korean multi-task instruction-tuning data in the komt format.

>>> import komt_data
>>> manifest = komt_data.build(None, "out")      # the bundled sample recipe
"""

from __future__ import annotations

__version__ = "0.1.0"

from .adapters import Adapter, Skip, adapter_names, get_adapter, register_adapter  # noqa: E402
from .builder import build  # noqa: E402
from .catalog import list_adapters, list_tasks, list_templates, validate  # noqa: E402
from .config import Recipe, TaskConfig, load, load_task_config  # noqa: E402
from .errors import ConfigError, DataError, KomtDataError, OutputError, TemplateError  # noqa: E402
from .outputs import Output  # noqa: E402
from .outputs import open_output as open  # noqa: E402, A001
from .preview import preview  # noqa: E402
from .publish import export, load_manifest  # noqa: E402

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
