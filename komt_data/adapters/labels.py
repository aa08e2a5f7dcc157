"""Label look-ups shared by the benchmark-style adapters (KoBEST, WiC, COPA, HellaSwag).

KoBEST spells one label several ways in one file (``TRUE``, ``True``, ``False``, ``FALSE``:
BoolQ's test split and WiC's train split mix them), and its hub copy uses 0/1: a label is
looked up as written first, then case-folded, so a map keyed ``true: 예`` fits all of them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ..errors import ConfigError
from .base import Skip


def lookup(labels: Mapping[str, str], value: Any) -> str:
    """The mapped word of a source label; a label outside the map skips the row as ``unknown_label``."""
    if value is None:
        raise Skip("missing_field", "field 'label' is missing or null")
    key = str(value).lower() if isinstance(value, bool) else str(value).strip()
    if key in labels:
        return labels[key]
    folded = key.lower()
    if folded in labels:
        return labels[folded]
    raise Skip("unknown_label", f"label {value!r} is not in the labels map ({', '.join(labels)})")


def check_label_values(task: Any, allowed: Collection[str], meaning: str) -> None:
    """A task config's ``labels:`` must exist and map every source label into ``allowed``."""
    if not task.labels:
        raise ConfigError(f"needs a labels map (source label: {meaning})", file=str(task.path), key="labels")
    for source, word in task.labels.items():
        if word not in allowed:
            raise ConfigError(f"must be one of {', '.join(allowed)} ({meaning}), got {word!r}",
                              file=str(task.path), key=f"labels.{source}")
