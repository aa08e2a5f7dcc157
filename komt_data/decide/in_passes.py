"""Stage 2 in bounded passes over stage 1's numbers on disk (:mod:`komt_data.spool.columns`).

The steps of :func:`komt_data.decide.steps.run`, record for record the same decisions as
:class:`komt_data.decide.in_memory.InMemory`, while holding only a byte of reason and a
byte of split per record, 16 bytes per exact duplicate and 9 per selected group, plus one
block, partition or bucket of records at a time:

- exact dedup by partitions of the key (``key % parts``), spilled to one file each in one
  pass: equal keys share a partition, and :func:`~komt_data.decide.rules.exact_dedup` is
  exact on any such partition kept in input order;
- sampling as a threshold: a histogram of the top 16 bits of the sample keys finds the
  bucket holding the k-th smallest key, and only that bucket's records are sorted;
- splits likewise: only the free records whose group's split key falls in the first
  buckets (enough to fill validation and test) are ordered; groups placed by an earlier
  task are looked up in a sorted array of them, merged task by task (:class:`_Assigned`).

Near dedup is not done here: :func:`komt_data.decide.steps.choose_executor` gives a recipe
with near dedup to the in-memory executor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..config import Recipe
from ..config.schema import NearDedup
from ..spool.columns import Block, Table
from . import rules
from .contract import (
    DUPLICATE,
    KEEP,
    TEST,
    TRAIN,
    UNSELECTED,
    VALIDATION,
    Decisions,
    MixPlan,
    Pointers,
)
from .keys import SAMPLE, SPLIT, seeded_keys, sort_order

# Records per exact-dedup partition (its sort costs about 60 to 100 bytes a record); a test
# sets it small to run many passes on small inputs.
PART = 1 << 18
# Selected records waiting for their split (never left in the result).
PENDING = 254
HISTOGRAM_BITS = 16  # top bits of a key that pick its histogram bucket (a test sets fewer)


def _bucket(keys: np.ndarray) -> np.ndarray:
    """The histogram bucket of each key: its top bits (keys are uniform 64-bit hashes)."""
    return (keys >> np.uint64(64 - HISTOGRAM_BITS)).astype(np.intp)


class InPasses:
    """The steps of :func:`komt_data.decide.steps.run` in passes over the blocks of ``table``."""

    def __init__(self, recipe: Recipe, seed: int, table: Table):
        self.recipe, self.seed, self.table = recipe, seed, table
        self.n = table.n
        self.reason = np.zeros(self.n, np.uint8)
        self.split_codes = np.full(self.n, UNSELECTED, np.uint8)
        self.first_of = Pointers.empty(np.int64)
        # Held-out units (a dataset's dev / test read into validation / test): set aside
        # while the train records are planned, put back whole in their split at the end.
        self.codes = rules.held_codes(table.segments)
        self.held = [i for i, code in enumerate(self.codes) if code != TRAIN]
        # Per task: records left per template rank (the plan's available and capacity).
        self.ranks: list[np.ndarray] = []

    def exact(self) -> None:
        self.first_of = _exact(self.table, self.reason, [code != TRAIN for code in self.codes])

    def decontaminate(self) -> None:
        for block in self.table.blocks("contaminated"):
            rules.decontaminate(self.reason[block.start:block.stop], block["contaminated"])  # a view: in place

    def near(self, spec: NearDedup) -> None:
        raise NotImplementedError("near dedup runs in memory (komt_data.decide.steps.choose_executor)")

    def hold(self) -> None:
        table = self.table
        for i in self.held:
            part = self.reason[table.starts[i]:table.starts[i + 1]]
            rules.hold(part, np.ones(len(part), bool))

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        recipe, table = self.recipe, self.table
        ranks: list[np.ndarray] = [np.zeros(1, np.int64) for _ in recipe.tasks]
        for block in table.blocks("ranks"):
            t = table.task[block.segment]
            counts = np.bincount(block["ranks"][self.reason[block.start:block.stop] == KEEP], minlength=1)
            if len(counts) > len(ranks[t]):
                ranks[t] = np.r_[ranks[t], np.zeros(len(counts) - len(ranks[t]), np.int64)]
            ranks[t][:len(counts)] += counts
        self.ranks = ranks
        names = [ref.config.name for ref in recipe.tasks]
        available = {name: int(ranks[t][0]) for t, name in enumerate(names)}
        capacity = {name: int(ranks[t].sum()) if recipe.repeats(ref) else available[name]
                    for t, (name, ref) in enumerate(zip(names, recipe.tasks, strict=True))}
        return available, capacity

    def sample(self, plan: MixPlan) -> None:
        reason, split = self.reason, self.split_codes
        for t, task_plan in enumerate(plan.tasks):
            # rules.sample_task: the smallest sample keys among kept examples, or all of them
            # and then spare renderings, lower ranks first.
            left = task_plan.planned
            for rank, count in enumerate(self.ranks[t].tolist()):
                if left <= 0:
                    break
                _mark_smallest(self.table, t, min(left, count), count, reason, split, rank, self.seed)
                left -= count
        for block in self.table.blocks("ranks"):
            part = reason[block.start:block.stop]
            rules.mark_not_sampled(part, part == KEEP, split[block.start:block.stop] != UNSELECTED, block["ranks"])

    def split(self) -> None:
        _split(self.recipe, self.seed, self.table, self.split_codes)
        for block in self.table.blocks("ranks", segments=self.held):
            part = self.reason[block.start:block.stop]
            rules.release(part, self.split_codes[block.start:block.stop], block["ranks"],
                          np.full(len(part), self.codes[block.segment], np.uint8))

    def result(self, plan: MixPlan) -> Decisions:
        return Decisions(self.reason, self.split_codes, self.first_of, Pointers.empty(np.int64),
                         Pointers.empty(np.float32), plan, Counter())


def _exact(table: Table, reason: np.ndarray, evaluation: list[bool]) -> Pointers:
    """Exact dedup partition by partition of the keys; marks duplicates, returns the records
    that won. ``evaluation``: per segment, whether its records are bound for an evaluation split."""
    found: list[tuple[np.ndarray, np.ndarray]] = []
    for keyed in _key_partitions(table, min(_MAX_PARTS, max(1, -(-table.n // PART))), evaluation):
        where = keyed["index"]
        duplicate, first = rules.exact_dedup(keyed["key"], keyed["example"], keyed["evaluation"])
        reason[where[duplicate]] = DUPLICATE
        found.append((where[duplicate], where[first[duplicate]]))
    index = np.concatenate([f[0] for f in found])
    order = np.argsort(index, kind="stable")
    return Pointers(index[order], np.concatenate([f[1] for f in found])[order])


# (record index, exact-dedup key, example number made unique across segments, bound for an
# evaluation split)
_KEYED = np.dtype([("index", np.int64), ("key", np.uint64), ("example", np.int64), ("evaluation", np.bool_)])

# Partition files open at once at most (one per partition): far below the usual limit of 1,024.
_MAX_PARTS = 512


def _keyed(block: Block, evaluation: list[bool]) -> np.ndarray:
    keyed = np.empty(len(block), _KEYED)
    keyed["index"] = np.arange(block.start, block.stop)
    keyed["key"] = block["keys"]
    keyed["example"] = block["examples"]
    rules.unique_examples(keyed["example"], block.segment)
    keyed["evaluation"] = evaluation[block.segment]
    return keyed


def _key_partitions(table: Table, parts: int, evaluation: list[bool]) -> Iterator[np.ndarray]:
    """Every record's :data:`_KEYED` row, partition by partition of the key (``key % parts``),
    each partition in record order. With more than one partition, one pass over the table
    spills them to files in the spool directory, read back one at a time."""
    if parts == 1:
        yield np.concatenate([_keyed(block, evaluation) for block in table.blocks("keys", "examples")])
        return
    directory = Path(table.segments[0].spool).parent
    paths = [directory / f"exact.{p}" for p in range(parts)]
    try:
        files = [open(path, "wb") for path in paths]  # noqa: SIM115 - closed below
        try:
            for block in table.blocks("keys", "examples"):
                keyed = _keyed(block, evaluation)
                part = (keyed["key"] % np.uint64(parts)).astype(np.uint16)  # parts <= _MAX_PARTS
                # Record order within each partition: a stable sort (a radix sort on 16 bits).
                order = np.argsort(part, kind="stable")
                keyed, part = np.take(keyed, order), part[order]  # take: faster than [] on records
                cuts = np.searchsorted(part, np.arange(parts + 1))
                for p in np.flatnonzero(np.diff(cuts)).tolist():
                    files[p].write(keyed[cuts[p]:cuts[p + 1]].tobytes())
        finally:
            for f in files:
                f.close()
        for path in paths:
            keyed = np.fromfile(path, _KEYED)
            path.unlink()
            yield keyed
    finally:
        for path in paths:
            path.unlink(missing_ok=True)

def _mark_smallest(table: Table, t: int, k: int, count: int, reason: np.ndarray, split: np.ndarray, rank: int,
                   seed: int) -> None:
    """Mark PENDING the ``k`` kept records (of ``count``) of task ``t`` and template rank
    ``rank`` with the smallest sample keys, ties by position (:func:`komt_data.decide.keys.smallest`)."""
    segments = table.of_task(t)
    if k <= 0:
        return
    if k >= count:
        for block in table.blocks("ranks", segments=segments):
            part = split[block.start:block.stop]
            part[(reason[block.start:block.stop] == KEEP) & (block["ranks"] == rank)] = PENDING
        return

    def eligible(block: Block) -> tuple[np.ndarray, np.ndarray]:
        local = np.flatnonzero((reason[block.start:block.stop] == KEEP) & (block["ranks"] == rank))
        return local, seeded_keys(block["ids"][local], seed, SAMPLE)

    histogram = np.zeros(1 << HISTOGRAM_BITS, np.int64)
    for block in table.blocks("ids", "ranks", segments=segments):
        _, keys = eligible(block)
        histogram += np.bincount(_bucket(keys), minlength=1 << HISTOGRAM_BITS)
    cumulative = np.cumsum(histogram)
    last = int(np.searchsorted(cumulative, k))  # the bucket holding the k-th smallest key
    below = int(cumulative[last - 1]) if last else 0
    chosen, keys_of = [], []
    for block in table.blocks("ids", "ranks", segments=segments):
        local, keys = eligible(block)
        top = _bucket(keys)
        split[block.start + local[top < last]] = PENDING
        edge = top == last
        chosen.append(block.start + local[edge])
        keys_of.append(keys[edge])
    edge_keys = np.concatenate(keys_of)
    split[np.concatenate(chosen)[sort_order(edge_keys)[:k - below]]] = PENDING

def _split(recipe: Recipe, seed: int, table: Table, split: np.ndarray) -> None:
    """rules.split_records on the PENDING records of ``split``, task by task, in place."""
    per_task = [sum(int(np.count_nonzero(split[table.starts[i]:table.starts[i + 1]] == PENDING))
                    for i in table.of_task(t)) for t in range(len(recipe.tasks))]
    targets = rules.split_targets(recipe, per_task)
    known = _Assigned()
    for t in range(len(recipe.tasks)):
        if per_task[t] == 0:
            continue
        segments = table.of_task(t)
        known.label(table, split, segments)
        mine = [split[table.starts[i]:table.starts[i + 1]] for i in segments]
        need = [max(0, targets[t][0] - sum(int(np.count_nonzero(m == VALIDATION)) for m in mine)),
                max(0, targets[t][1] - sum(int(np.count_nonzero(m == TEST)) for m in mine))]
        if need[0] or need[1]:
            _held_out(table, split, segments, need, seed)
        for m in mine:
            m[m == PENDING] = TRAIN
        if t < len(recipe.tasks) - 1:  # no later task looks groups up
            known.add(table, split, segments)

class _Assigned:
    """The split of every group that selected records of the tasks so far belong to: sorted
    unique group hashes and their split (9 bytes a group), merged task by task in linear time,
    so that a later task's records of such a group take its split."""

    def __init__(self) -> None:
        self.groups = np.zeros(0, np.uint64)
        self.splits = np.zeros(0, np.uint8)

    def label(self, table: Table, split: np.ndarray, segments: list[int]) -> None:
        """PENDING records of ``segments`` in an assigned group take its split."""
        if not len(self.groups):
            return
        for block in table.blocks("groups", segments=segments):
            mine = split[block.start:block.stop]
            local = np.flatnonzero(mine == PENDING)
            group = block["groups"][local]
            pos = np.minimum(np.searchsorted(self.groups, group), len(self.groups) - 1)
            found = self.groups[pos] == group
            mine[local[found]] = self.splits[pos[found]]

    def add(self, table: Table, split: np.ndarray, segments: list[int]) -> None:
        """The groups of the selected records of ``segments`` not assigned yet, each with the
        split of its first record (all of a group's records share one)."""
        groups, splits = [], []
        for block in table.blocks("groups", segments=segments):
            mine = split[block.start:block.stop]
            local = np.flatnonzero(mine != UNSELECTED)
            groups.append(block["groups"][local])
            splits.append(mine[local])
        if not groups:
            return
        group, first = np.unique(np.concatenate(groups), return_index=True)
        label = np.concatenate(splits)[first]
        del groups, splits, first
        if len(self.groups):
            pos = np.minimum(np.searchsorted(self.groups, group), len(self.groups) - 1)
            new = self.groups[pos] != group
            group, label = group[new], label[new]
        at = np.searchsorted(self.groups, group)
        self.groups = np.insert(self.groups, at, group)
        self.splits = np.insert(self.splits, at, label)

def _held_out(table: Table, split: np.ndarray, segments: list[int], need: list[int], seed: int) -> None:
    """Validation and test for the PENDING records of ``segments``: the free records ordered
    by (split key of their group, id) as rules.split_records orders them, but only those
    in the first buckets of split keys, enough to hold every group that is held out."""
    def free(block: Block) -> tuple[np.ndarray, np.ndarray]:
        local = np.flatnonzero(split[block.start:block.stop] == PENDING)
        return local, seeded_keys(block["groups"][local], seed, SPLIT)

    histogram = np.zeros(1 << HISTOGRAM_BITS, np.int64)
    for block in table.blocks("groups", segments=segments):
        histogram += np.bincount(_bucket(free(block)[1]), minlength=1 << HISTOGRAM_BITS)
    cumulative = np.cumsum(histogram)
    wanted = need[0] + need[1]
    while True:
        # Groups past bucket `last` have at least cumulative[last] free records before them.
        last = min(int(np.searchsorted(cumulative, wanted)), len(cumulative) - 1)
        idx, keys, groups, ids = [], [], [], []
        for block in table.blocks("groups", "ids", segments=segments):
            local, key = free(block)
            inside = np.flatnonzero(_bucket(key) <= last)
            idx.append(block.start + local[inside])
            keys.append(key[inside])
            groups.append(block["groups"][local[inside]])
            ids.append(block["ids"][local[inside]])
        order = sort_order(np.concatenate(keys), np.concatenate(ids))
        del ids, keys
        ordered_groups = np.concatenate(groups)[order]
        labels, val_total = rules.held_out_labels(ordered_groups, need)
        covered = int(cumulative[last])
        if last == len(cumulative) - 1 or (covered >= need[0] and covered - val_total >= need[1]):
            split[np.concatenate(idx)[order]] = labels
            return
        wanted = max(need[0], val_total + need[1], covered + 1)
