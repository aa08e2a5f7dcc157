"""What stage 2 hands to stage 3: a :class:`Decisions` (a reason byte and a split byte per
record, pointers for the few records that need them, the plan).

The codes are stored in manifest.json and rejected.jsonl by name (:data:`REASONS`,
:data:`SPLIT_NAMES`): renaming one changes output bytes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KEEP, DUPLICATE, CONTAMINATED, NEAR_DUPLICATE, NOT_SAMPLED = 0, 1, 2, 3, 4
REASONS = {DUPLICATE: "duplicate", CONTAMINATED: "contaminated", NEAR_DUPLICATE: "near_duplicate",
           NOT_SAMPLED: "over_cap"}
TRAIN, VALIDATION, TEST, UNSELECTED = 0, 1, 2, 255
SPLIT_NAMES = {TRAIN: "train", VALIDATION: "validation", TEST: "test"}
# While the train records are planned, sampled and split: the kept records of units a task
# config reads into validation or test (a dataset's own dev / test split), which are
# neither sampled nor capped and go to their split whole. Never left in the result.
HELD = 5


@dataclass(frozen=True)
class TaskPlan:
    """One task of a plan: records available after dedup and decontamination, planned, share."""

    name: str
    available: int
    planned: int
    share: float
    repeat: bool = False
    capacity: int = 0


@dataclass(frozen=True)
class MixPlan:
    """What a build will take from every task (``build --dry-run`` prints it)."""

    recipe: str
    total: int | None
    temperature: float
    tasks: tuple[TaskPlan, ...]
    # Per task with few-shot records on: records given exemplars, exemplars, fewer than drawn
    # (filled by ``builder.plan``; a build records them per task in the manifest).
    fewshot: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def planned(self) -> int:
        """Records the plan takes in all."""
        return sum(t.planned for t in self.tasks)

    def as_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data (as manifest.json records it)."""
        return {"total": self.total, "temperature": self.temperature, "planned": self.planned,
                "tasks": {t.name: {"available": t.available, "planned": t.planned, "share": round(t.share, 6),
                                   "repeat": t.repeat} for t in self.tasks}}


@dataclass
class Pointers:
    """A value for a few records (duplicates: the record they repeat): ``value[k]`` belongs
    to record ``index[k]``, ``index`` ascending. Index with record positions (a number or
    an array) that have one."""

    index: np.ndarray
    value: np.ndarray

    @classmethod
    def where(cls, mask: np.ndarray, values: np.ndarray) -> Pointers:
        """The ``values`` of the records ``mask`` marks."""
        index = np.flatnonzero(mask)
        return cls(index, values[index])

    @classmethod
    def empty(cls, dtype: Any) -> Pointers:
        """No record has a value."""
        return cls(np.zeros(0, np.int64), np.zeros(0, dtype))

    def __getitem__(self, record: Any) -> Any:
        return self.value[np.searchsorted(self.index, record)]


@dataclass
class Decisions:
    """Stage 2's result: why each record is dropped (or kept) and its split, a byte each;
    for dropped duplicates the record they repeat; the plan."""

    reason: np.ndarray            # uint8 per record: KEEP or a code of REASONS
    split: np.ndarray             # uint8 per record: a code of SPLIT_NAMES or UNSELECTED
    first_of: Pointers            # exact duplicates: the record whose content they repeat
    near_of: Pointers             # near duplicates: their cluster's survivor
    similarity: Pointers          # near duplicates: estimated Jaccard with the survivor
    plan: MixPlan
    cluster_sizes: Counter = field(default_factory=Counter)

    @classmethod
    def from_arrays(cls, reason: np.ndarray, split: np.ndarray, first_of: np.ndarray, near_of: np.ndarray,
                    similarity: np.ndarray, plan: MixPlan, cluster_sizes: Counter) -> Decisions:
        """Decisions from per-record arrays (the in-memory paths), pointers kept where they matter."""
        near = reason == NEAR_DUPLICATE
        return cls(reason, split, Pointers.where(reason == DUPLICATE, first_of), Pointers.where(near, near_of),
                   Pointers.where(near, similarity), plan, cluster_sizes)
