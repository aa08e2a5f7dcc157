"""The adapter registry: built-ins by name, plugins by entry point, any class by ``module:Class``."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ..errors import ConfigError
from ..plugins import DISABLE_PLUGINS_ENV, load_entry_points
from .base import Adapter

ENTRY_POINT_GROUP = "komt_data.adapters"
__all__ = ["DISABLE_PLUGINS_ENV", "ENTRY_POINT_GROUP", "add_adapter", "adapter_names", "get_adapter",
           "register_adapter"]

_REGISTRY: dict[str, type[Adapter]] = {}


def register_adapter(name: str) -> Callable[[type[Adapter]], type[Adapter]]:
    """Class decorator that registers an :class:`Adapter` subclass under ``name``.

    >>> @register_adapter("my_qa")
    ... class MyQA(Adapter): ...
    """

    def decorate(cls: type[Adapter]) -> type[Adapter]:
        add_adapter(name, cls)
        return cls

    return decorate


def add_adapter(name: str, cls: type[Adapter]) -> None:
    """Register ``cls`` under ``name``; a different class under a taken name is an error."""
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise ConfigError(f"adapter '{name}' must be a subclass of komt_data.Adapter, got {cls!r}")
    if not cls.family:
        raise ConfigError(f"adapter '{name}' ({cls.__qualname__}) does not set a family")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls:
        raise ConfigError(
            f"adapter name '{name}' is taken by {existing.__module__}.{existing.__qualname__}; "
            f"cannot register {cls.__module__}.{cls.__qualname__}"
        )
    _REGISTRY[name] = cls


def _load_entry_points() -> None:
    load_entry_points(ENTRY_POINT_GROUP, add_adapter, have=_REGISTRY.__contains__, what="adapter")


def get_adapter(name: str) -> type[Adapter]:
    """Look up an adapter: a registered name, a plugin entry point, or ``package.module:Class``."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigError(f"cannot import adapter module '{module_name}': {exc}") from None
        cls = getattr(module, attr, None)
        if cls is None:
            raise ConfigError(f"module '{module_name}' has no '{attr}'")
        if not (isinstance(cls, type) and issubclass(cls, Adapter)):
            raise ConfigError(f"'{name}' is not a subclass of komt_data.Adapter")
        return cls
    _load_entry_points()
    if name in _REGISTRY:
        return _REGISTRY[name]
    raise ConfigError(f"unknown adapter '{name}' (have: {', '.join(adapter_names())})")


def adapter_names() -> list[str]:
    """Names of every registered adapter, plugins included."""
    _load_entry_points()
    return sorted(_REGISTRY)
