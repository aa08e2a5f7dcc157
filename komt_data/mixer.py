"""The mixer: exact dedup, per-task sampling, split and shuffle, all seeded.

The mixer works on compact per-record arrays (a few 64-bit numbers a record), never on
the records themselves, so memory stays small however many records there are. Every
decision comes from hashes of the record and the seed, not from the order records
arrived in, so the same inputs give the same output whatever the number of workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .dedup.hashing import GOLDEN, splitmix64_inplace

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)

# Salts that make the sampling, split and order keys independent of each other.
SAMPLE, SPLIT, ORDER = 0x5A17, 0x5B11, 0x0DE7


def seeded_keys(id_hashes: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """A uniform 64-bit key per record from its id hash and the seed (splitmix64 finalizer)."""
    # In place, with one scratch array (splitmix64_inplace): stage 2's peak memory is here,
    # and each temporary costs 8 bytes a record. uint64 wraps silently.
    z = np.bitwise_xor(id_hashes.astype(np.uint64, copy=False),
                       np.uint64((seed * GOLDEN + salt) & 0xFFFFFFFFFFFFFFFF))
    z += np.uint64(GOLDEN)
    return splitmix64_inplace(z)


def sort_order(primary: np.ndarray, secondary: np.ndarray | None = None) -> np.ndarray:
    """Positions ordered by ``primary``, ties by ``secondary`` (if given), then by position:
    ``np.lexsort((secondary, primary))``, or ``np.argsort(primary, kind="stable")``.

    Faster than either when few ``primary`` values repeat (hashes): an unstable argsort of
    ``primary`` alone is several times faster than a stable sort, and only the runs of equal
    values are then put in order, by a lexsort of just their positions."""
    order = np.argsort(primary)
    sorted_primary = primary[order]
    same = sorted_primary[1:] == sorted_primary[:-1]
    del sorted_primary
    if same.any():
        tied = np.r_[False, same] | np.r_[same, False]
        runs = order[tied]  # equal values are adjacent: the runs in value order, as in the result
        keys = (runs, primary[runs]) if secondary is None else (runs, secondary[runs], primary[runs])
        order[tied] = runs[np.lexsort(keys)]
    return order


def smallest(keys: np.ndarray, k: int) -> np.ndarray:
    """Mask of the ``k`` records with the smallest keys (ties broken by position)."""
    mask = np.zeros(len(keys), dtype=bool)
    if k >= len(keys):
        mask[:] = True
    elif k > 0:
        mask[sort_order(keys)[:k]] = True
    return mask


# Mixing plans ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A task or a submixture in the planner's tree.

    For a task, ``available`` is what it has after dedup and decontamination and ``capacity``
    how many it can give at most (more than ``available`` only with ``repeat``). For a
    submixture, ``children`` hold its parts and ``total``/``temperature`` its own mixing.
    """

    name: str
    weight: float = 1.0
    cap: int | None = None
    available: int = 0
    capacity: int = 0
    total: int | None = None
    temperature: float = 1.0
    children: tuple[Node, ...] = ()


def natural_size(node: Node) -> int:
    """What a node gives without a total: min(available, cap) for a task; for a submixture,
    its own total (or the sum of its parts), within its capacity and cap."""
    if not node.children:
        size = node.available
    else:
        size = sum(allocate(node.children, node.total, node.temperature).values()) if node.total is None \
            else min(node.total, node_capacity(node))
    return size if node.cap is None else min(size, node.cap)


def node_capacity(node: Node) -> int:
    """The most records a node can give (its cap included)."""
    cap = node.capacity if not node.children else sum(node_capacity(c) for c in node.children)
    return cap if node.cap is None else min(cap, node.cap)


def largest_remainder(total: int, rates: Sequence[float]) -> list[int]:
    """Integers proportional to ``rates`` summing exactly to ``total`` (ties: earlier first)."""
    weight = sum(rates)
    if total <= 0 or weight <= 0:
        return [0] * len(rates)
    exact = [total * r / weight for r in rates]
    counts = [int(x) for x in exact]
    short = total - sum(counts)
    order = sorted(range(len(rates)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[:short]:
        counts[i] += 1
    return counts


def allocate(nodes: Sequence[Node], total: int | None, temperature: float) -> dict[str, int]:
    """How many records each of ``nodes`` gives.

    Without ``total``: each gives its natural size (FLAN's examples-proportional mixing with
    a cap). With ``total``: rate = weight × natural_size ** (1 / temperature); counts follow
    the rates and sum to ``total`` exactly, except that no node gets more than its capacity:
    what a full node cannot take goes to the others by their rates (water-filling), and the
    plan falls short of ``total`` only when every node is full.
    """
    if total is None:
        return {n.name: natural_size(n) for n in nodes}
    rates = [n.weight * natural_size(n) ** (1.0 / temperature) for n in nodes]
    capacity = [node_capacity(n) for n in nodes]
    counts = [0] * len(nodes)
    open_ = [i for i in range(len(nodes)) if capacity[i] > 0 and rates[i] > 0]
    remaining = total
    while remaining > 0 and open_:
        share = largest_remainder(remaining, [rates[i] for i in open_])
        full = []
        for i, extra in zip(open_, share, strict=True):
            give = min(extra, capacity[i] - counts[i])
            counts[i] += give
            remaining -= give
            if counts[i] >= capacity[i]:
                full.append(i)
        if not full:
            break
        open_ = [i for i in open_ if i not in full]
    return {n.name: c for n, c in zip(nodes, counts, strict=True)}


def plan_tree(nodes: Sequence[Node], total: int | None, temperature: float) -> dict[str, int]:
    """Planned records per task, submixtures resolved: a submixture's count is divided
    among its parts by its own mixing rates (its own ``total`` replaced by the share)."""
    planned: dict[str, int] = {}
    for node, count in zip(nodes, allocate(nodes, total, temperature).values(), strict=True):
        if node.children:
            # Without any total in force, the parts give their natural sizes (no rate rounding).
            natural = node.total is None and count == sum(allocate(node.children, None, node.temperature).values())
            planned.update(plan_tree(node.children, None if natural else count, node.temperature))
        else:
            planned[node.name] = count
    return planned
