"""Task adapters: the registry and the built-in task families."""

from __future__ import annotations

from . import classification, nli, qa, sts, summarization, translation  # noqa: F401  (registers the built-ins)
from .base import Adapter, Skip, text
from .registry import ENTRY_POINT_GROUP, adapter_names, add_adapter, get_adapter, register_adapter

__all__ = [
    "ENTRY_POINT_GROUP",
    "Adapter",
    "Skip",
    "adapter_names",
    "add_adapter",
    "get_adapter",
    "register_adapter",
    "text",
]
