"""Stage 2's order of decisions, written once: exact dedup → decontamination → near dedup →
counts → plan (weights, caps, temperature, total, submixtures) → sampling → split.

Each decision comes from hashes and the seed, never from which worker produced what, so a
build's bytes do not depend on the workers. Three executors run these steps, each on its
own representation of the records and each applying the rules of
:mod:`komt_data.decide.rules`:

- :class:`komt_data.decide.in_passes.InPasses`: bounded passes over stage 1's numbers on
  disk (what grows with the records is a byte of reason and a byte of split each, plus 16
  bytes per exact duplicate and the records held out while they are ordered);
- :class:`komt_data.decide.in_memory.InMemory`: every record's numbers in memory (near
  dedup, whose LSH bands are in memory anyway);
- :class:`komt_data.engines.ray_decide.RayData`: the same steps as Ray Data stages.

They make the same decisions, record for record (tests/test_passes.py, tests/test_ray_engine.py).
"""

from __future__ import annotations

from typing import Protocol

from ..config import Recipe
from ..config.schema import NearDedup
from ..spool.columns import Table
from ..spool.contract import Segment
from .contract import Decisions, MixPlan
from .in_memory import InMemory
from .in_passes import InPasses
from .plan import make_plan


class Executor(Protocol):
    """One way to run the steps of :func:`run` over ``n`` records. Each method marks, in the
    executor's own representation, what its rule decides."""

    n: int

    def exact(self) -> None:
        """Mark exact duplicates and remember the record each repeats (rules.exact_dedup)."""

    def decontaminate(self) -> None:
        """Mark kept records that copy an evaluation item (rules.decontaminate)."""

    def near(self, spec: NearDedup) -> None:
        """Mark near duplicates, their survivor and similarity (rules.near_dedup)."""

    def hold(self) -> None:
        """Set aside the kept records of held-out units (rules.hold): not planned, not sampled."""

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Per task name: records available and records it can give with repeats (rules.task_counts)."""

    def sample(self, plan: MixPlan) -> None:
        """Select each task's planned records (rules.sample_task); mark the rest (rules.mark_not_sampled)."""

    def split(self) -> None:
        """Split the selected records (rules.split_records); held-out records back whole (rules.release)."""

    def result(self, plan: MixPlan) -> Decisions:
        """The decisions made."""


def run(recipe: Recipe, executor: Executor) -> Decisions:
    """Every stage 2 decision of ``recipe``, by ``executor``. The only place the order is written."""
    if recipe.dedup.exact.scope != "none" and executor.n:
        executor.exact()
    executor.decontaminate()
    if recipe.dedup.near is not None and executor.n:
        executor.near(recipe.dedup.near)
    executor.hold()
    plan = make_plan(recipe, *executor.counts())
    executor.sample(plan)
    executor.split()
    return executor.result(plan)


def choose_executor(recipe: Recipe, seed: int, segments: list[Segment]) -> Executor:
    """The local executor for ``recipe``: in bounded passes over the numbers on disk, unless
    the recipe asks for near dedup. Near dedup needs every candidate's LSH band hashes at
    once (stage 1 keeps them in memory: 4 bytes a band and record), so with it the whole of
    stage 2 runs in memory (about 60 bytes a record more; see :mod:`komt_data.decide.in_memory`).
    Both executors make the same decisions; only the memory a build needs differs."""
    if recipe.dedup.near is not None:
        return InMemory(recipe, seed, segments)
    return InPasses(recipe, seed, Table(segments, [ref.config.name for ref in recipe.tasks]))


def decide(recipe: Recipe, seed: int, segments: list[Segment]) -> Decisions:
    """Every stage 2 decision for ``segments`` (stage 1's output), on this machine."""
    return run(recipe, choose_executor(recipe, seed, segments))
