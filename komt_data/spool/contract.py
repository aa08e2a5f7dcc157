"""What stage 1 hands to stage 2: one :class:`Segment` per input unit.

Both engines produce the same list of segments, unit by unit in input order; stage 2 reads
only their numbers, stage 3 copies lines out of their spool files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class ProgressBar(Protocol):
    """What the builder needs of a progress bar (tqdm fits)."""

    def update(self, n: int = 1) -> Any: ...
    def close(self) -> Any: ...


ProgressFactory = Callable[..., ProgressBar]


class NoProgress:
    """The progress bar when none is asked for."""

    def __init__(self, *args: Any, **kwargs: Any):
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class Segment:
    """What stage 1 produced for one unit: a spool of JSON lines and per-record numbers."""

    task: str
    family: str
    label: str
    position_kind: str
    encoding: str
    spool: Path
    rejected: Path
    read: int = 0
    expanded: int = 0
    dropped: Counter = field(default_factory=Counter)
    # The per-record numbers (komt_data.spool.columns.COLUMNS: spool line lengths, hashes, positions,
    # stage 2's facts, figures) are on disk in ``numbers``: ``records`` of each. LSH band hashes
    # (near dedup only) stay in memory; near-dedup rows (output hash and MinHash signatures,
    # komt_data.dedup.near.near_rows) are on disk.
    records: int = 0
    numbers: Path | None = None
    bands: np.ndarray | None = None
    signatures: Path | None = None
    # Names of the template numbers in the ``templates`` column.
    template_names: list[str] = field(default_factory=list)
    # Where the unit's records go: train (sampled and split), or validation / test whole.
    output_split: str = "train"
    # The dataset's own split the unit belongs to (train, dev, test: as the task config's
    # ``files:`` mapping or hub split names it).
    dataset_split: str = "train"
    # report.html's per-record checks (komt_data.spool.checks.LineChecks): JSON lines of
    # [record number, check, detail] for the records that failed one, or None.
    findings: Path | None = None

    def provenance(self, position: int | None) -> dict[str, Any]:
        """How rejected.jsonl names where a row came from."""
        entry: dict[str, Any] = {"file": self.label}
        if position is not None:
            entry[self.position_kind] = int(position)
        return entry
