"""Stage 2 on a Ray cluster: :class:`RayData` runs the steps of :func:`komt_data.decide.steps.run`
as Ray Data stages, so the decisions are the local executors', made by workers.

The per-record numbers of stage 1 (a few 64-bit values a record) become a Ray Data
dataset, one block per unit. Each decision then runs on
workers, through the very functions :class:`komt_data.decide.in_memory.InMemory` applies, on groups of
records for which that function gives the same answer as on the whole recipe:

1. exact dedup: ``groupby(key % PARTS).map_groups`` (keys are scope-prefixed, so two
   records with equal keys always land in the same group);
2. decontamination: ``map_batches`` (a per-record mark; the matching itself ran in stage 1);
3. near dedup: ``groupby(scope).map_groups`` (clusters never cross the dedup scope, and all
   records of an example share its scope); LSH band hashes (written to ``.bands`` files
   for it) and MinHash signatures are read by the worker, with positioned reads, from the spool
   files in the build's staging directory, so this step is pinned to the
   driver's node (on a cluster reached through Ray Client, the staging directory must be on
   storage every node mounts at the same path);
4. held-out units set aside (``map_batches``), task counts (``map_batches``, summed),
   from which the driver makes the plan (a few numbers a task), then sampling:
   ``groupby(task).map_groups``;
5. splits: one recipe-wide group over the selected records only (a group placed by an
   earlier task keeps its split in later tasks, so tasks cannot be split independently);
6. the global order: ``sort`` on (split, order key, id hash, position), the order
   :func:`komt_data.write.order.order_split` gives, with its stable tie-break made explicit.

Every group function sorts its rows by their position in the recipe first, so that it sees
them in input order whatever order the shuffle delivered them in. The driver collects the
decision columns into the same :class:`komt_data.contract.Decisions` the local engine makes,
plus the order of every split, and stage 3 writes the shards as before.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Recipe
from ..config.schema import NearDedup
from ..decide import contract, keys, rules, steps
from ..decide.contract import Decisions, MixPlan
from ..decide.in_memory import Arrays, InMemory, Signatures
from ..spool.contract import Segment

# Exact dedup partitions: enough to spread the work over a cluster's CPUs, few enough that
# each group is a sizeable numpy batch.
PARTS = 64

# Test hook: when true, every stage-2 step records the process id it ran in, and
# :data:`LAST_RUN` maps each step to those ids after a build.
TRACE = False
LAST_RUN: dict[str, set[int]] = {}

_STEPS = ("exact", "decontaminate", "near", "hold", "counts", "sample", "split")


def _in_order(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    order = np.argsort(batch["idx"], kind="stable")
    return {name: column[order] for name, column in batch.items()}

def _traced(batch: dict[str, np.ndarray], step: str, trace: bool) -> dict[str, np.ndarray]:
    if trace:
        batch[f"pid_{step}"] = np.full(len(next(iter(batch.values()))), os.getpid(), np.int64)
    return batch


def _exact(batch: dict[str, np.ndarray], *, trace: bool) -> dict[str, np.ndarray]:
    batch = _in_order(batch)
    duplicate, first = rules.exact_dedup(batch["key"], batch["example"], batch["held"] != contract.TRAIN)
    reason = batch["reason"].copy()
    reason[duplicate] = contract.DUPLICATE
    batch["reason"] = reason
    batch["first_of"] = batch["idx"][first]
    return _traced(batch, "exact", trace)


def _decontaminate(batch: dict[str, np.ndarray], *, trace: bool) -> dict[str, np.ndarray]:
    reason = batch["reason"].copy()
    rules.decontaminate(reason, batch["contaminated"])
    batch["reason"] = reason
    return _traced(batch, "decontaminate", trace)

def _near(batch: dict[str, np.ndarray], *, threshold: float, num_perm: int, bands: int,
          sig_paths: list[str | None], band_paths: list[str | None], sizes: list[int],
          trace: bool) -> dict[str, np.ndarray]:
    batch = _in_order(batch)
    n = len(batch["idx"])
    reason = batch["reason"].copy()
    near_of = np.arange(n, dtype=np.int64)
    similarity = np.ones(n, dtype=np.float32)
    candidates = rules.near_candidates(reason, batch["first"], batch["held"] != contract.TRAIN)
    # Band hashes are uint32 rows like signatures, so the same reader of positioned reads serves.
    band_hashes = Signatures.from_files(band_paths, sizes, batch["idx"][candidates])[
        np.arange(len(candidates))] if len(candidates) else np.zeros((0, bands), np.uint32)
    signatures = Signatures.from_files(sig_paths, sizes, batch["idx"][candidates])
    rules.near_dedup(threshold, num_perm, batch["example"], reason, near_of, similarity, candidates,
                      band_hashes, signatures, batch["scope"][candidates])
    batch.update(reason=reason, near_of=batch["idx"][near_of], similarity=similarity)
    return _traced(batch, "near", trace)


def _hold(batch: dict[str, np.ndarray], *, trace: bool) -> dict[str, np.ndarray]:
    reason = batch["reason"].copy()
    rules.hold(reason, batch["held"] != contract.TRAIN)
    batch["reason"] = reason
    return _traced(batch, "hold", trace)


def _counts(batch: dict[str, np.ndarray], *, recipe: Recipe, trace: bool) -> dict[str, np.ndarray]:
    available, capacity = rules.task_counts(recipe, batch["task"], batch["rank"], batch["reason"] == contract.KEEP)
    out = {"t": np.arange(len(available), dtype=np.int64),
           "available": np.array(list(available.values()), np.int64),
           "capacity": np.array(list(capacity.values()), np.int64)}
    if trace:
        out["pid_counts"] = np.full(len(available), os.getpid(), np.int64)
    return out


def _sample(batch: dict[str, np.ndarray], *, planned: list[int], seed: int, trace: bool) -> dict[str, np.ndarray]:
    batch = _in_order(batch)
    reason = batch["reason"].copy()
    ok = reason == contract.KEEP
    sample_keys = keys.seeded_keys(batch["ids"], seed, keys.SAMPLE)
    selected = rules.sample_task(ok, batch["rank"], sample_keys, planned[int(batch["task"][0])])
    rules.mark_not_sampled(reason, ok, selected, batch["rank"])
    batch.update(reason=reason, selected=selected)
    return _traced(batch, "sample", trace)


def _selected_only(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # The selected records and the examples of held-out units, which go to their split whole.
    keep = batch["selected"] | ((batch["reason"] == contract.HELD) & (batch["rank"] == 0))
    return {name: batch[name][keep] for name in ("idx", "task", "group", "ids", "held")} | \
        {"whole": np.zeros(int(np.count_nonzero(keep)), np.int8)}

def _split(batch: dict[str, np.ndarray], *, recipe: Recipe, seed: int, trace: bool) -> dict[str, np.ndarray]:
    batch = _in_order(batch)
    held = batch["held"] != contract.TRAIN
    split = rules.split_records(recipe, seed, batch["task"], batch["group"], batch["ids"], ~held)
    split[held] = batch["held"][held]
    out = {"idx": batch["idx"], "split": split, "ids": batch["ids"],
           "order": keys.seeded_keys(batch["ids"], seed, keys.ORDER)}
    return _traced(out, "split", trace)


def _tables(recipe: Recipe, segments: list[Segment], arrays: Arrays) -> Iterator[Any]:
    """One Arrow table per non-empty unit: the columns the stage-2 steps read."""
    import pyarrow as pa

    scope = rules.near_scope(recipe, arrays.family, arrays.task)
    start = 0
    for s, code in zip(segments, rules.held_codes(segments), strict=True):
        end = start + s.records
        if end > start:
            cut = slice(start, end)
            columns = {
                "idx": np.arange(start, end, dtype=np.int64), "task": arrays.task[cut],
                "example": arrays.example[cut], "key": arrays.key[cut], "part": arrays.key[cut] % np.uint64(PARTS),
                "group": arrays.group[cut], "ids": arrays.ids[cut], "rank": arrays.rank[cut],
                "contaminated": arrays.contaminated[cut], "scope": scope[cut],
                "held": np.full(end - start, code, np.uint8),
                "first": rules.first_record_of_example(arrays.example[cut]),
                "reason": np.zeros(end - start, np.uint8),
            }
            yield pa.table({name: pa.array(column) for name, column in columns.items()})
        start = end


class RayData:
    """The steps of :func:`komt_data.decide.steps.run` as Ray Data stages over the records'
    numbers (``arrays``, put into the object store unit by unit). The stages are lazy until
    :meth:`counts`, which the plan needs; :meth:`sample` brings the decisions to the driver
    and :meth:`split` the order of every split (:attr:`orders`, which stage 3 writes as is).
    ``ray`` is a connected ``ray`` module; the segments' ``.sig`` files must be readable by
    the workers at the same path."""

    def __init__(self, ray: Any, recipe: Recipe, seed: int, segments: list[Segment], arrays: Arrays):
        self.ray, self.recipe, self.seed, self.segments, self.arrays = ray, recipe, seed, segments, arrays
        self.n = n = len(arrays.ids)
        self.trace = TRACE
        self.pids: dict[str, set[int]] = {step: set() for step in _STEPS}
        # Into the object store unit by unit: the driver never holds a second copy of the recipe.
        self.ds = ray.data.from_arrow_refs([ray.put(table) for table in _tables(recipe, segments, arrays)])
        self.sampled: Any = None
        self.reason = np.zeros(n, np.uint8)
        self.first_of = np.arange(n, dtype=np.int64)
        self.near_of = np.arange(n, dtype=np.int64)
        self.similarity = np.ones(n, np.float32)
        self.selected = np.zeros(n, bool)
        self.split_codes = np.full(n, contract.UNSELECTED, np.uint8)
        self.orders: dict[int, np.ndarray] = {code: np.zeros(0, np.int64) for code in contract.SPLIT_NAMES}
        self.near_ran = False

    def exact(self) -> None:
        self.ds = self.ds.groupby("part").map_groups(_exact, fn_kwargs={"trace": self.trace}, batch_format="numpy")

    def decontaminate(self) -> None:
        self.ds = self.ds.map_batches(_decontaminate, fn_kwargs={"trace": self.trace}, batch_format="numpy")

    def near(self, spec: NearDedup) -> None:
        segments = self.segments
        # Workers open the signature files by absolute path, on the driver's node.
        sig_paths = [str(Path(s.signatures).resolve()) if s.signatures is not None else None for s in segments]
        band_paths = _spool_bands(segments)
        width = next((s.bands.shape[1] for s in segments if s.bands is not None), 0)
        self.ds = self.ds.groupby("scope").map_groups(
            _near, batch_format="numpy", **_on_driver_node(self.ray),
            fn_kwargs={"threshold": spec.threshold, "num_perm": spec.num_perm, "bands": width,
                       "sig_paths": sig_paths, "band_paths": band_paths, "sizes": [s.records for s in segments],
                       "trace": self.trace})
        self.near_ran = True

    def hold(self) -> None:
        self.ds = self.ds.map_batches(_hold, fn_kwargs={"trace": self.trace}, batch_format="numpy").materialize()

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        names = [ref.config.name for ref in self.recipe.tasks]
        available = np.zeros(len(names), np.int64)
        capacity = np.zeros(len(names), np.int64)
        # Counts add up over any batches: no shuffle needed.
        for batch in self.ds.map_batches(_counts, fn_kwargs={"recipe": self.recipe, "trace": self.trace},
                                         batch_format="numpy").iter_batches(batch_format="numpy"):
            np.add.at(available, batch["t"], batch["available"])
            np.add.at(capacity, batch["t"], batch["capacity"])
            if self.trace:
                self.pids["counts"].update(batch["pid_counts"].tolist())
        return dict(zip(names, available.tolist(), strict=True)), dict(zip(names, capacity.tolist(), strict=True))

    def sample(self, plan: MixPlan) -> None:
        self.sampled = self.ds.groupby("task").map_groups(
            _sample, fn_kwargs={"planned": [t.planned for t in plan.tasks], "seed": self.seed, "trace": self.trace},
            batch_format="numpy").materialize()
        for batch in self.sampled.iter_batches(batch_format="numpy"):
            idx = batch["idx"]
            self.selected[idx] = batch["selected"]
            self.reason[idx] = batch["reason"]
            # Columns of the steps that ran (the rest keep their no-op values).
            if "first_of" in batch:
                self.first_of[idx] = batch["first_of"]
            if "near_of" in batch:
                self.near_of[idx], self.similarity[idx] = batch["near_of"], batch["similarity"]
            if self.trace:
                for step in ("exact", "decontaminate", "near", "hold", "sample"):
                    if f"pid_{step}" in batch:
                        self.pids[step].update(np.unique(batch[f"pid_{step}"]).tolist())

    def split(self) -> None:
        held = self.reason == contract.HELD
        if np.any(self.selected) or np.any(held):
            _split_and_order(self.sampled, self.recipe, self.seed, self.trace, self.split_codes, self.orders,
                             self.pids)
        self.reason[held] = contract.KEEP
        if self.trace:
            LAST_RUN.clear()
            LAST_RUN.update({step: pids for step, pids in self.pids.items() if pids})

    def result(self, plan: MixPlan) -> Decisions:
        cluster_sizes = rules.clusters_of(self.arrays.example, self.reason, self.near_of) if self.near_ran \
            else Counter()
        return Decisions.from_arrays(self.reason, self.split_codes, self.first_of, self.near_of, self.similarity,
                                     plan, cluster_sizes)


def decide(ray: Any, recipe: Recipe, seed: int, segments: list[Segment],
           arrays: Arrays) -> tuple[Decisions, dict[int, np.ndarray]]:
    """Stage 2 of ``recipe`` on Ray Data: the decisions, and each split's records in order
    (none when there is nothing to distribute: stage 3 then orders the splits itself)."""
    if len(arrays.ids) == 0:
        return steps.run(recipe, InMemory(recipe, seed, segments, arrays)), {}
    with _stage2_context(ray):
        executor = RayData(ray, recipe, seed, segments, arrays)
        return steps.run(recipe, executor), executor.orders


@contextmanager
def _stage2_context(ray: Any) -> Iterator[None]:
    """Stage 1's Ray Data settings (no bars, no logs, order kept) plus a sort-based shuffle.

    Ray's default shuffle starts aggregator actors for 200 partitions per groupby: a Ray
    build of the test recipe took 20 to 30 s with it, 1 to 5 s with the pull-based sort
    shuffle (Ray's classic shuffle, which also serves large datasets).
    """
    from ray.data.context import ShuffleStrategy

    from .ray_session import data_context

    with data_context(ray) as ctx:
        saved = ctx.shuffle_strategy
        ctx.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
        try:
            yield
        finally:
            ctx.shuffle_strategy = saved

def _on_driver_node(ray: Any) -> dict[str, Any]:
    """Ray remote arguments that keep a step on the driver's node, where the staging directory
    (and the MinHash signature files in it) lives; nothing with Ray Client, whose driver is
    not a cluster node (the staging directory must then be on storage every node mounts)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    try:
        if ray.util.client.ray.is_connected():
            return {}
        node = ray.get_runtime_context().get_node_id()
    except Exception:  # an older Ray without these: let Ray place the step
        return {}
    return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=node, soft=False)}

def _spool_bands(segments: list[Segment]) -> list[str | None]:
    """Each unit's LSH band hashes written next to its signatures, for the near-dedup workers:
    carried as columns, 21 of them would ride through every shuffle before near dedup."""
    paths: list[str | None] = []
    for s in segments:
        if s.signatures is None or s.bands is None:
            paths.append(None)
            continue
        path = Path(s.signatures).resolve().with_suffix(".bands")
        path.write_bytes(np.ascontiguousarray(s.bands, dtype=np.uint32).tobytes())
        paths.append(str(path))
    return paths

def _split_and_order(sampled: Any, recipe: Recipe, seed: int, trace: bool, split: np.ndarray,
                     orders: dict[int, np.ndarray], pids: dict[str, set[int]]) -> None:
    ordered = sampled.map_batches(_selected_only, batch_format="numpy").groupby("whole").map_groups(
        _split, fn_kwargs={"recipe": recipe, "seed": seed, "trace": trace}, batch_format="numpy",
    ).sort(["split", "order", "ids", "idx"])
    in_order: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for batch in ordered.iter_batches(batch_format="numpy"):
        split[batch["idx"]] = batch["split"]
        in_order.append(batch["idx"])
        codes.append(batch["split"])
        if trace:
            pids["split"].update(np.unique(batch["pid_split"]).tolist())
    all_idx = np.concatenate(in_order) if in_order else np.zeros(0, np.int64)
    all_codes = np.concatenate(codes) if codes else np.zeros(0, np.uint8)
    orders.update({code: all_idx[all_codes == code] for code in contract.SPLIT_NAMES})
