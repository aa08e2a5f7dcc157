"""Mixing plans: how many records each task gives (weights, caps, temperature, total,
submixtures), from the records it has left after dedup and decontamination.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..config import Part, Recipe
from .contract import MixPlan, TaskPlan


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


def _nodes(recipe: Recipe, parts: tuple[Part, ...], available: dict[str, int], capacity: dict[str, int],
           cap: int | None) -> tuple[Node, ...]:
    nodes = []
    for part in parts:
        if part.parts:
            mixing = part.mixing
            nodes.append(Node(part.name, part.weight, part.cap, total=mixing.total if mixing else None,
                                    temperature=mixing.temperature if mixing else 1.0,
                                    children=_nodes(recipe, part.parts, available, capacity,
                                                    mixing.cap if mixing else None)))
        else:
            task_cap = part.cap if part.cap is not None else cap
            nodes.append(Node(part.name, part.weight, task_cap, available=available[part.name],
                                    capacity=capacity[part.name]))
    return tuple(nodes)


def make_plan(recipe: Recipe, available: dict[str, int], capacity: dict[str, int]) -> MixPlan:
    """The plan for tasks with ``available`` records (``capacity``: with repeats, more)."""
    parts = recipe.parts or tuple(Part(ref.config.name, ref.weight, ref.cap) for ref in recipe.tasks)
    nodes = _nodes(recipe, parts, available, capacity, recipe.mixing.cap)
    planned = plan_tree(nodes, recipe.mixing.total, recipe.mixing.temperature)
    whole = sum(planned.values())
    tasks = tuple(TaskPlan(ref.config.name, available[ref.config.name], planned[ref.config.name],
                           planned[ref.config.name] / whole if whole else 0.0, recipe.repeats(ref),
                           capacity[ref.config.name])
                  for ref in recipe.tasks)
    return MixPlan(recipe.name, recipe.mixing.total, recipe.mixing.temperature, tasks)
