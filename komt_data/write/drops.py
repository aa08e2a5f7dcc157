"""Loud failure instead of silent emptiness: a task that writes nothing stops the build, and
a task that loses most of its rows to one reason is warned about.

A wrong field or label map, a changed hub layout (integer labels where names were) or a
wrong quoting drops every row for one reason: the build would otherwise succeed and the
mix would silently lack the task. Caps and the mix's share (``over_cap``) are the recipe's
own choice and never warned about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from ..errors import DataError

#: Reasons that are the recipe's choice, not a sign that the input was misread.
CHOSEN = frozenset({"over_cap"})


def _rows(task: Mapping[str, Any]) -> int:
    return int(task.get("read", 0)) + int(task.get("expanded", 0))


def top_reason(task: Mapping[str, Any]) -> tuple[str, int] | None:
    """The reason that dropped most of a task's rows (ties: by name), and how many."""
    dropped = task.get("dropped") or {}
    if not dropped:
        return None
    reason = min(dropped, key=lambda r: (-dropped[r], r))
    return reason, int(dropped[reason])


def drop_warnings(tasks: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per task and reason that dropped more than half of the task's rows."""
    out = []
    for name, task in tasks.items():
        rows = _rows(task)
        for reason, count in sorted((task.get("dropped") or {}).items()):
            if reason not in CHOSEN and rows and 2 * count > rows:
                out.append(f"task {name}: {count:,} of its {rows:,} rows ({count / rows:.0%}) were dropped as "
                           f"{reason} (see rejected.jsonl): check its field map, labels map, quoting or format")
    return out


def first_detail(rejected_files: Iterable[Path], reason: str) -> str | None:
    """The detail of the first rejection for ``reason`` in stage 1's rejection files."""
    needle = f'"reason":"{reason}"'.encode()
    for path in rejected_files:
        with open(path, "rb") as f:
            for line in f:
                if needle in line:
                    return str(orjson.loads(line).get("detail") or "") or None
    return None


def check_not_empty(name: str, task: Mapping[str, Any], config_path: Path, *, allowed: bool,
                    rejected_files: Iterable[Path] = ()) -> None:
    """Raise a DataError (exit 2) when task ``name`` wrote no record and its recipe entry does
    not say ``allow_empty: true``; the message names its top drop reason and an example."""
    if allowed or task.get("written", 0):
        return
    if task.get("available", 0) and not task.get("planned", 0):
        return  # records were there: the mix (total, weights, caps) gave the task no share
    rows = _rows(task)
    top = top_reason(task)
    if top is None:
        why = "its source gave no rows" if rows == 0 else "no record was kept"
    else:
        reason, count = top
        why = f"{count:,} of {rows:,} rows dropped as {reason}"
        detail = first_detail(rejected_files, reason)
        if detail:
            why += f", e.g. {detail}"
    raise DataError(f"task {name} wrote 0 records ({why}); fix its config, or set allow_empty: true on "
                    "its recipe entry to build without it", file=str(config_path))
