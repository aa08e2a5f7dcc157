"""Stage 2's rules as pure functions on per-record arrays: every executor (in memory, in
passes, on Ray) applies these, on all records or on any part of them for which the rule
gives the same answer (each docstring says which parts those are).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..config import Recipe
from ..dedup import near as neardup
from ..spool.contract import Segment
from . import keys
from .contract import (
    CONTAMINATED,
    HELD,
    KEEP,
    NEAR_DUPLICATE,
    NOT_SAMPLED,
    SPLIT_NAMES,
    TEST,
    TRAIN,
    UNSELECTED,
    VALIDATION,
)
from .plan import largest_remainder


def held_codes(segments: list[Segment]) -> list[int]:
    """Per segment: the split its unit's records go to as they are (VALIDATION, TEST), or
    TRAIN for records that are sampled and split like any."""
    codes = {name: code for code, name in SPLIT_NAMES.items()}
    return [codes[getattr(s, "output_split", "train")] for s in segments]


def hold(reason: np.ndarray, held: np.ndarray) -> None:
    """Set aside the kept records of held-out units (``held`` marks them) before planning."""
    reason[held & (reason == KEEP)] = HELD


def release(reason: np.ndarray, split: np.ndarray, rank: np.ndarray, codes: np.ndarray) -> None:
    """Give the set-aside records back: kept, each example (rank 0) in its unit's split."""
    mine = reason == HELD
    reason[mine] = KEEP
    first = mine & (rank == 0)
    split[first] = codes[first]


def unique_examples(examples: np.ndarray, segment: np.ndarray | int) -> np.ndarray:
    """Example numbers made unique across the recipe: stage 1 numbers the examples of each
    segment from 0, so the segment's index goes above them (``examples``, int64, is changed
    in place and returned: no second array the size of the recipe)."""
    examples += np.left_shift(np.asarray(segment, np.int64), np.int64(32))
    return examples


def mark_not_sampled(reason: np.ndarray, ok: np.ndarray, selected: np.ndarray, rank: np.ndarray) -> None:
    """Mark (in place) the kept examples the plan did not take: their first rendering (rank 0)
    counts the example once; spare renderings that were not taken are not counted at all."""
    reason[ok & ~selected & (rank == 0)] = NOT_SAMPLED


def first_record_of_example(example: np.ndarray) -> np.ndarray:
    """Mask of each example's first record (an example's records are adjacent)."""
    first = np.ones(len(example), dtype=bool)
    if len(example) > 1:
        first[1:] = example[1:] != example[:-1]
    return first


def exact_dedup(key: np.ndarray, example: np.ndarray,
                evaluation: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact dedup over records in input order: the first example with a key wins (its records,
    one per template, all stay), except that an example bound for an evaluation split
    (``evaluation``: its unit's records go to validation or test) wins over every train
    example, wherever it comes in the recipe: the train copy is the one dropped, so a
    dataset's own dev item is never lost to a training copy of it (nor kept in train).
    Returns the duplicate mask and, per record, the position of the record with its key
    that won. Keys are scope-prefixed, so any partition of the records by key (kept in input
    order) gives the same answer part by part."""
    n = len(key)
    if n == 0:
        return np.zeros(0, bool), np.zeros(0, np.int64)
    # An unstable argsort (several times faster than np.unique's stable one) groups equal
    # keys; the first record of a group is then its smallest position, whatever the sort did.
    order = np.argsort(key)
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    del sorted_key
    if evaluation is not None and evaluation.any():
        # Train positions ranked after every evaluation position: the smallest rank of a
        # group is its first evaluation record if it has one, else its first record.
        ranked = order + np.where(evaluation[order], 0, n)
        first = np.minimum.reduceat(ranked, starts) % n
        del ranked
    else:
        first = np.minimum.reduceat(order, starts)
    first_of = np.empty(n, np.int64)
    first_of[order] = np.repeat(first, np.diff(np.r_[starts, n]))
    return example != example[first_of], first_of


def near_candidates(reason: np.ndarray, first: np.ndarray, evaluation: np.ndarray | None = None) -> np.ndarray:
    """Positions of the records near dedup compares: the first record of each kept example
    (``first``), the examples bound for an evaluation split before the train ones, each in
    input order. A cluster's survivor is its first candidate
    (:func:`komt_data.dedup.near.cluster`), so as in :func:`exact_dedup` an evaluation example
    survives over its train near copies, which are the ones dropped."""
    candidates = np.flatnonzero((reason == KEEP) & first)
    if evaluation is not None:
        bound = evaluation[candidates]
        if bound.any() and not bound.all():
            candidates = np.concatenate([candidates[bound], candidates[~bound]])
    return candidates


def decontaminate(reason: np.ndarray, contaminated: np.ndarray) -> None:
    """Mark (in place) records that copy an evaluation item and are not dropped already."""
    reason[(reason == KEEP) & (contaminated >= 0)] = CONTAMINATED


def near_scope(recipe: Recipe, family: np.ndarray, task: np.ndarray) -> np.ndarray:
    """Per record, the value near duplicates must share (the exact-dedup scope)."""
    return {"family": family, "task": task, "recipe": np.zeros(len(task), np.int64),
            "none": family}[recipe.dedup.exact.scope]


def near_dedup(threshold: float, num_perm: int, example: np.ndarray, reason: np.ndarray, near_of: np.ndarray,
               similarity: np.ndarray, candidates: np.ndarray, bands: np.ndarray, signatures: Any,
               scope: np.ndarray) -> None:
    """Near dedup of ``candidates`` (:func:`near_candidates`, with their band hashes,
    near-dedup rows and scope); every record of a dropped example is marked in place, pointing
    at the survivor's first record. Clusters never cross a scope value, so the records of
    one scope value (every record of its examples included) can be deduplicated alone."""
    clusters = neardup.cluster(bands, signatures, scope, threshold, num_perm)
    dropped = np.flatnonzero(clusters.survivor_of != np.arange(len(candidates)))
    if len(dropped):
        # Each record's example looked up among the dropped ones (sorted): a binary search is
        # cheaper than np.isin over every record; the last of equal values wins, as in a dict.
        order = np.argsort(example[candidates[dropped]], kind="stable")
        values = example[candidates[dropped]][order]
        at = np.searchsorted(values, example, side="right") - 1
        lost = (at >= 0) & (values[np.maximum(at, 0)] == example) & (reason == KEEP)
        at = order[at[lost]]
        near_of[lost] = candidates[clusters.survivor_of[dropped]][at]
        similarity[lost] = clusters.similarity[dropped][at]
        reason[lost] = NEAR_DUPLICATE


def clusters_of(example: np.ndarray, reason: np.ndarray, near_of: np.ndarray) -> Counter:
    """Near-duplicate cluster sizes, the survivor counted too ({2: 10} is ten pairs)."""
    dropped = np.flatnonzero((reason == NEAR_DUPLICATE) & first_record_of_example(example))
    sizes = Counter(Counter(near_of[dropped].tolist()).values())
    return Counter({size + 1: count for size, count in sizes.items()})


def task_counts(recipe: Recipe, task: np.ndarray, rank: np.ndarray,
                ok: np.ndarray) -> tuple[dict[str, int], dict[str, int]]:
    """Records each task has left (``available``) and can give with repeats (``capacity``)."""
    names = [ref.config.name for ref in recipe.tasks]
    available = {name: int(np.count_nonzero(ok & (rank == 0) & (task == t))) for t, name in enumerate(names)}
    capacity = {}
    for t, ref in enumerate(recipe.tasks):
        name = ref.config.name
        capacity[name] = int(np.count_nonzero(ok & (task == t))) if recipe.repeats(ref) else available[name]
    return available, capacity


def sample_task(ok: np.ndarray, rank: np.ndarray, sample_keys: np.ndarray, k: int) -> np.ndarray:
    """Mask of the ``k`` records one task gives, over its records in input order: the
    smallest sample keys among kept examples, or every example and then spare renderings
    (other templates, lower ranks first) when ``k`` asks for repeats."""
    selected = np.zeros(len(ok), dtype=bool)
    primary = np.flatnonzero(ok & (rank == 0))
    if k <= len(primary):
        selected[primary[keys.smallest(sample_keys[primary], k)]] = True
    else:
        selected[primary] = True
        spare = np.flatnonzero(ok & (rank > 0))
        order = spare[np.lexsort((sample_keys[spare], rank[spare]))]
        selected[order[:k - len(primary)]] = True
    return selected


def held_out_counts(spec_value: float | int, selected: int) -> int:
    """A held-out size for ``selected`` records: a fraction rounds, a count is capped."""
    if isinstance(spec_value, float):
        return int(round(selected * spec_value))
    return min(int(spec_value), selected)


def split_targets(recipe: Recipe, per_task: list[int]) -> list[tuple[int, int]]:
    """Per task, with ``per_task`` records selected: how many go to validation and to test."""
    # A recipe-wide count is shared among the tasks that do not set their own, by size.
    shared: dict[str, list[int]] = {}
    for name in ("validation", "test"):
        value = getattr(recipe.split, name)
        users = [t for t, ref in enumerate(recipe.tasks) if ref.split is None or not ref.split.sets(name)]
        if isinstance(value, int) and value > 0:
            counts = largest_remainder(min(value, sum(per_task[t] for t in users)),
                                             [per_task[t] for t in users])
            shared[name] = [0] * len(recipe.tasks)
            for t, c in zip(users, counts, strict=True):
                shared[name][t] = c
    out = []
    for t, ref in enumerate(recipe.tasks):
        targets = []
        for name in ("validation", "test"):
            own = ref.split is not None and ref.split.sets(name)
            if not own and name in shared:
                targets.append(shared[name][t])
            else:
                spec = ref.split if own else recipe.split
                targets.append(held_out_counts(getattr(spec, name), int(per_task[t])))
        out.append((targets[0], targets[1]))
    return out


def held_out_labels(ordered_groups: np.ndarray, need: list[int]) -> tuple[np.ndarray, int]:
    """The split of free records ordered by (split key of their group, id), so that a group's
    records are adjacent: whole groups go to validation while it is short of ``need[0]``
    records, then to test while it is short of ``need[1]``, the rest to train. Returns the
    labels (in that order) and the records put in validation."""
    starts = np.flatnonzero(np.r_[True, ordered_groups[1:] != ordered_groups[:-1]])
    sizes = np.diff(np.r_[starts, len(ordered_groups)])
    del starts
    before = np.cumsum(sizes)
    before -= sizes
    to_val = before < need[0]
    val_total = int(sizes[to_val].sum())
    to_test = ~to_val & ((before - val_total) < need[1])
    del before
    # uint8 labels set by masks: no int64 arrays per group as nested np.where makes.
    labels = np.full(len(sizes), TRAIN, np.uint8)
    labels[to_test] = TEST
    labels[to_val] = VALIDATION
    return np.repeat(labels, sizes), val_total


def split_records(recipe: Recipe, seed: int, task: np.ndarray, group: np.ndarray, ids: np.ndarray,
                  selected: np.ndarray) -> np.ndarray:
    """The split of every record (UNSELECTED for the ones not selected), in input order.

    Whole groups go to validation, then test, task by task in recipe order; a group an
    earlier task placed keeps its split. Only the selected records matter, so passing just
    those (in input order, ``selected`` all true) gives the same splits for them.
    """
    split = np.full(len(ids), UNSELECTED, dtype=np.uint8)
    split[selected] = TRAIN
    targets_of = split_targets(recipe, [np.count_nonzero(selected & (task == t)) for t in range(len(recipe.tasks))])
    assigned_groups = np.zeros(0, np.uint64)
    assigned_split = np.zeros(0, np.uint8)
    for t, _ref in enumerate(recipe.tasks):
        members = np.flatnonzero(selected & (task == t))
        if len(members) == 0:
            continue
        targets = targets_of[t]
        # Groups an earlier task already placed keep their split (a passage shared by two tasks).
        groups = group[members]
        if len(assigned_groups):
            pos = np.searchsorted(assigned_groups, groups)
            pos = np.minimum(pos, len(assigned_groups) - 1)
            known = assigned_groups[pos] == groups
            split[members[known]] = assigned_split[pos[known]]
            del pos
        else:
            known = np.zeros(len(members), dtype=bool)
        free = members[~known]
        del known
        need = [max(0, targets[0] - int(np.count_nonzero(split[members] == VALIDATION))),
                max(0, targets[1] - int(np.count_nonzero(split[members] == TEST)))]
        if len(free) and (need[0] or need[1]):
            # Keys of the free records only (element by element the same as for all records).
            order = free[keys.sort_order(keys.seeded_keys(group[free], seed, keys.SPLIT), ids[free])]
            del free
            split[order] = held_out_labels(group[order], need)[0]
            del order
        if t == len(recipe.tasks) - 1:
            break  # no later task to look groups up for: no sort of every group
        assigned_groups, idx = np.unique(np.concatenate([assigned_groups, groups]), return_index=True)
        del groups
        assigned_split = np.concatenate([assigned_split, split[members]])[idx]
    return split


def trains(task: Mapping[str, Any]) -> bool:
    """Whether a manifest task reads anything into train: a task whose config maps only a
    dataset's dev / test into validation / test (every source file with a ``split``) is an
    evaluation set by design, not a task that lost its train records."""
    sources = task.get("sources") or []
    return not sources or any(source.get("split", "train") == "train" for source in sources)


def empty_train_warnings(tasks: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per task (a manifest's ``tasks``) that has train input but whose records all
    went to validation and test: a held-out count as large as the task, or its train copies
    lost to evaluation records, leaves it nothing to train on, which a build must not do
    silently. A task that reads only evaluation files (:func:`trains`) is not named."""
    out = []
    for name, task in tasks.items():
        splits = task.get("splits") or {}
        held_out = sum(n for split, n in splits.items() if split != "train")
        if held_out and not splits.get("train") and trains(task):
            parts = " and ".join(f"{split} {n}" for split, n in splits.items() if split != "train" and n)
            out.append(f"task {name}: all {held_out} of its records went to held-out splits ({parts}): "
                       "its train split is empty")
    return out
