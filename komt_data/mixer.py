"""The mixer: exact dedup, per-task sampling, split and shuffle, all seeded.

The mixer works on compact per-record arrays (a few 64-bit numbers a record), never on
the records themselves, so memory stays small however many records there are. Every
decision comes from hashes of the record and the seed, not from the order records
arrived in, so the same inputs give the same output whatever the number of workers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)

# Salts that make the sampling, split and order keys independent of each other.
SAMPLE, SPLIT, ORDER = 0x5A17, 0x5B11, 0x0DE7


def seeded_keys(id_hashes: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """A uniform 64-bit key per record from its id hash and the seed (splitmix64 finalizer)."""
    with np.errstate(over="ignore"):
        z = id_hashes.astype(np.uint64) ^ np.uint64((seed * 0x9E3779B97F4A7C15 + salt) & 0xFFFFFFFFFFFFFFFF)
        z = (z + np.uint64(0x9E3779B97F4A7C15)) & _MASK
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK
        return z ^ (z >> np.uint64(31))


def first_occurrences(content_hashes: np.ndarray, examples: np.ndarray) -> np.ndarray:
    """Mask of records whose example is the first, in input order, with its content.

    ``examples`` numbers the examples in input order; the several records of one example
    (one per template) share its number and survive or fall together.
    """
    if len(content_hashes) == 0:
        return np.ones(0, dtype=bool)
    _, first, inverse = np.unique(content_hashes, return_index=True, return_inverse=True)
    return examples == examples[first][inverse.reshape(-1)]


@dataclass(frozen=True)
class TaskPlan:
    """How many records a task has after dedup, and how many the mix takes."""

    available: int
    planned: int


def plan_counts(available: Mapping[str, int], caps: Mapping[str, int | None]) -> dict[str, TaskPlan]:
    """Examples-proportional mixing with a cap (FLAN): each task gives min(available, cap)."""
    plans = {}
    for name, n in available.items():
        cap = caps.get(name)
        plans[name] = TaskPlan(available=n, planned=n if cap is None else min(n, cap))
    return plans


def smallest(keys: np.ndarray, k: int) -> np.ndarray:
    """Mask of the ``k`` records with the smallest keys (ties broken by position)."""
    mask = np.zeros(len(keys), dtype=bool)
    if k >= len(keys):
        mask[:] = True
    elif k > 0:
        order = np.argsort(keys, kind="stable")
        mask[order[:k]] = True
    return mask


def split_sizes(n: int, fractions: Sequence[float]) -> list[int]:
    """Sizes of the held-out splits for ``n`` records, rounded, never more than ``n`` in all."""
    sizes = [int(round(n * f)) for f in fractions]
    while sum(sizes) > n:
        sizes[sizes.index(max(sizes))] -= 1
    return sizes
