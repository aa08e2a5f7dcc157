"""Task adapters: the registry and the built-in task families."""

from __future__ import annotations

from . import (  # noqa: F401  (registers the built-ins)
    boolean_qa,
    cause_effect,
    classification,
    continuation,
    ner,
    nli,
    qa,
    sts,
    summarization,
    translation,
    word_sense,
)
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
