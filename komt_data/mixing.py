"""Stage 2: every mixing decision for a whole recipe, on compact per-record numbers.

Order of decisions: exact dedup → decontamination → near dedup → plan (weights, caps,
temperature, total, submixtures) → sampling → split. Each comes from hashes and the seed,
never from which worker produced what, so a build's bytes do not depend on the workers.

Two paths make the same decisions. Without near dedup (the common case) they are made in
bounded passes over stage 1's numbers on disk (:mod:`komt_data.passes`): what grows with
the records is a byte of reason and a byte of split each, plus 16 bytes per exact duplicate
(the record it repeats) and the records held out for validation and test while they are
ordered. With near dedup, :func:`decide_in_memory` holds every record's numbers (about
60 bytes a record, the peak about 165 under tracemalloc) plus 4 bytes per LSH band (84
at the default 0.8 threshold, whatever the fields compared); near-dedup rows (an
output hash and a MinHash signature per compared field: 8 + 512 bytes a field and record at
128 values) are spooled to disk and read back only for records whose band hashes collide.
The Ray engine (:mod:`komt_data.engines.ray_stage2`) also starts from all the numbers in
memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import mixer
from .columns import Table
from .config import Part, Recipe, TaskRef
from .dedup import near as neardup
from .spool.files import SpoolFile

KEEP, DUPLICATE, CONTAMINATED, NEAR_DUPLICATE, NOT_SAMPLED = 0, 1, 2, 3, 4
REASONS = {DUPLICATE: "duplicate", CONTAMINATED: "contaminated", NEAR_DUPLICATE: "near_duplicate",
           NOT_SAMPLED: "over_cap"}
TRAIN, VALIDATION, TEST, UNSELECTED = 0, 1, 2, 255
SPLIT_NAMES = {TRAIN: "train", VALIDATION: "validation", TEST: "test"}
# While the train records are planned, sampled and split: the kept records of units a task
# config reads into validation or test (a dataset's own dev / test split), which are
# neither sampled nor capped and go to their split whole. Never left in the result.
HELD = 5


def held_codes(segments: list[Any]) -> list[int]:
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
class Arrays:
    """The per-record numbers of all segments, concatenated in segment order."""

    task: np.ndarray
    family: np.ndarray
    example: np.ndarray
    key: np.ndarray
    group: np.ndarray
    ids: np.ndarray
    rank: np.ndarray
    contaminated: np.ndarray
    overlap: np.ndarray


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


def gather(recipe: Recipe, segments: list[Any]) -> Arrays:
    """The numbers of every segment (a :class:`komt_data.spool.contract.Segment`) in memory, for the
    stage 2 paths that need them all at once (near dedup, the Ray engine)."""
    names = [ref.config.name for ref in recipe.tasks]
    families = list(dict.fromkeys(s.family for s in segments))
    table = Table(segments, names)
    sizes = [s.records for s in segments]
    # Example numbers restart in every segment; make them unique across the recipe.
    example = table.column("examples", np.int64)
    example += np.repeat(np.arange(len(segments), dtype=np.int64) << 32, sizes)
    return Arrays(
        task=np.repeat(np.array(table.task, np.int64), sizes),
        family=np.repeat(np.array([families.index(s.family) for s in segments], np.int64), sizes),
        example=example,
        key=table.column("keys"),
        group=table.column("groups"),
        ids=table.column("ids"),
        rank=table.column("ranks"),
        contaminated=table.column("contaminated"),
        overlap=table.column("overlaps"),
    )


def _repeat_of(recipe: Recipe, ref: TaskRef) -> bool:
    return recipe.mixing.repeat if ref.repeat is None else ref.repeat


def _nodes(recipe: Recipe, parts: tuple[Part, ...], available: dict[str, int], capacity: dict[str, int],
           cap: int | None) -> tuple[mixer.Node, ...]:
    nodes = []
    for part in parts:
        if part.parts:
            mixing = part.mixing
            nodes.append(mixer.Node(part.name, part.weight, part.cap, total=mixing.total if mixing else None,
                                    temperature=mixing.temperature if mixing else 1.0,
                                    children=_nodes(recipe, part.parts, available, capacity,
                                                    mixing.cap if mixing else None)))
        else:
            task_cap = part.cap if part.cap is not None else cap
            nodes.append(mixer.Node(part.name, part.weight, task_cap, available=available[part.name],
                                    capacity=capacity[part.name]))
    return tuple(nodes)


def make_plan(recipe: Recipe, available: dict[str, int], capacity: dict[str, int]) -> MixPlan:
    """The plan for tasks with ``available`` records (``capacity``: with repeats, more)."""
    parts = recipe.parts or tuple(Part(ref.config.name, ref.weight, ref.cap) for ref in recipe.tasks)
    nodes = _nodes(recipe, parts, available, capacity, recipe.mixing.cap)
    planned = mixer.plan_tree(nodes, recipe.mixing.total, recipe.mixing.temperature)
    whole = sum(planned.values())
    tasks = tuple(TaskPlan(ref.config.name, available[ref.config.name], planned[ref.config.name],
                           planned[ref.config.name] / whole if whole else 0.0, _repeat_of(recipe, ref),
                           capacity[ref.config.name])
                  for ref in recipe.tasks)
    return MixPlan(recipe.name, recipe.mixing.total, recipe.mixing.temperature, tasks)


def decide(recipe: Recipe, seed: int, segments: list[Any]) -> Decisions:
    """Every stage 2 decision for ``segments`` (see the module docstring for the order):
    in bounded passes over their numbers on disk, or with near dedup (whose LSH bands are
    in memory anyway) on all of them in memory. Both give the same decisions."""
    if recipe.dedup.near is not None:
        return decide_in_memory(recipe, seed, segments)
    from .passes import decide_in_passes

    return decide_in_passes(recipe, seed, Table(segments, [ref.config.name for ref in recipe.tasks]))


def decide_in_memory(recipe: Recipe, seed: int, segments: list[Any], arrays: Arrays | None = None) -> Decisions:
    """Every stage 2 decision for ``segments``, on all their numbers in memory.

    Each step is a function of its own (:func:`exact_dedup`, :func:`decontaminate`,
    :func:`near_dedup`, :func:`sample_task`, :func:`split_records`), so the Ray engine
    (:mod:`komt_data.engines.ray_stage2`) runs the very same code on groups of records,
    and :func:`komt_data.passes.decide_in_passes` the same rules on blocks of records.
    """
    a = arrays or gather(recipe, segments)
    n = len(a.ids)
    reason = np.zeros(n, dtype=np.uint8)
    cluster_sizes: Counter = Counter()

    if recipe.dedup.exact.scope != "none" and n:
        duplicate, first_of = exact_dedup(a.key, a.example)
        reason[duplicate] = DUPLICATE
        del duplicate
    else:
        first_of = np.arange(n, dtype=np.int64)
    near_of = np.arange(n, dtype=np.int64)
    similarity = np.ones(n, dtype=np.float32)

    decontaminate(reason, a.contaminated)

    near = recipe.dedup.near
    if near is not None and n:
        candidates = np.flatnonzero((reason == KEEP) & first_record_of_example(a.example))
        bands = _candidate_bands(segments, candidates)
        signatures = Signatures(segments, candidates)
        scope = near_scope(recipe, a.family, a.task)
        try:
            near_dedup(near.threshold, near.num_perm, a.example, reason, near_of, similarity, candidates, bands,
                       signatures, scope[candidates])
        finally:
            signatures.close()
        del bands
        cluster_sizes = clusters_of(a.example, reason, near_of)

    codes = np.repeat(np.array(held_codes(segments), np.uint8), [s.records for s in segments])
    held = codes != TRAIN
    if held.any():
        hold(reason, held)
    ok = reason == KEEP
    plan = make_plan(recipe, *task_counts(recipe, a.task, a.rank, ok))
    selected = np.zeros(n, dtype=bool)
    for t, task_plan in enumerate(plan.tasks):
        in_task = np.flatnonzero(a.task == t)
        # Sample keys of one task at a time (element by element the same as for all records).
        sample_keys = mixer.seeded_keys(a.ids[in_task], seed, mixer.SAMPLE)
        selected[in_task] = sample_task(ok[in_task], a.rank[in_task], sample_keys, task_plan.planned)
        del in_task, sample_keys
    reason[ok & ~selected & (a.rank == 0)] = NOT_SAMPLED

    split = split_records(recipe, seed, a.task, a.group, a.ids, selected)
    if held.any():
        release(reason, split, a.rank, codes)
    return Decisions.from_arrays(reason, split, first_of, near_of, similarity, plan, cluster_sizes)


def _candidate_bands(segments: list[Any], candidates: np.ndarray) -> np.ndarray:
    """The band hashes of ``candidates`` (positions in the concatenation of ``segments``)."""
    starts = np.cumsum([0] + [s.records for s in segments])
    cut = np.searchsorted(candidates, starts)
    width = next((s.bands.shape[1] for s in segments if s.bands is not None), 0)
    bands = np.empty((len(candidates), width), np.uint32)
    # Taken unit by unit into place (np.take buffers one unit's rows): never a second
    # full-size copy of every record's band hashes, as a concatenation of units would make.
    for i, s in enumerate(segments):
        if cut[i + 1] > cut[i]:
            np.take(s.bands, candidates[cut[i]:cut[i + 1]] - starts[i], axis=0, out=bands[cut[i]:cut[i + 1]])
    return bands


def first_record_of_example(example: np.ndarray) -> np.ndarray:
    """Mask of each example's first record (an example's records are adjacent)."""
    first = np.ones(len(example), dtype=bool)
    if len(example) > 1:
        first[1:] = example[1:] != example[:-1]
    return first


def exact_dedup(key: np.ndarray, example: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact dedup over records in input order: the first example with a key wins (its records,
    one per template, all stay). Returns the duplicate mask and, per record, the position of
    the first record with its key. Keys are scope-prefixed, so any partition of the records
    by key (kept in input order) gives the same answer part by part."""
    n = len(key)
    if n == 0:
        return np.zeros(0, bool), np.zeros(0, np.int64)
    # An unstable argsort (several times faster than np.unique's stable one) groups equal
    # keys; the first record of a group is then its smallest position, whatever the sort did.
    order = np.argsort(key)
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    del sorted_key
    first = np.minimum.reduceat(order, starts)
    first_of = np.empty(n, np.int64)
    first_of[order] = np.repeat(first, np.diff(np.r_[starts, n]))
    return example != example[first_of], first_of


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
    """Near dedup of ``candidates`` (positions of kept first records, with their band hashes,
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
        capacity[name] = int(np.count_nonzero(ok & (task == t))) if _repeat_of(recipe, ref) else available[name]
    return available, capacity


def sample_task(ok: np.ndarray, rank: np.ndarray, sample_keys: np.ndarray, k: int) -> np.ndarray:
    """Mask of the ``k`` records one task gives, over its records in input order: the
    smallest sample keys among kept examples, or every example and then spare renderings
    (other templates, lower ranks first) when ``k`` asks for repeats."""
    selected = np.zeros(len(ok), dtype=bool)
    primary = np.flatnonzero(ok & (rank == 0))
    if k <= len(primary):
        selected[primary[mixer.smallest(sample_keys[primary], k)]] = True
    else:
        selected[primary] = True
        spare = np.flatnonzero(ok & (rank > 0))
        order = spare[np.lexsort((sample_keys[spare], rank[spare]))]
        selected[order[:k - len(primary)]] = True
    return selected


class Signatures:
    """Near-dedup rows (:func:`komt_data.dedup.near.near_rows`) of chosen records, read on demand
    from the segments' spooled ``.sig`` files: indexing returns the rows asked for, nothing
    more. A file's row width is its size over its records (tasks compare different numbers
    of fields); narrower rows are zero-padded to the widest.

    Positioned reads, not a memory map: pages of a map that were touched count in the
    resident set, and the candidates of a large build touch all of them (520 bytes a record
    and field).
    """

    def __init__(self, segments: list[Any], records: np.ndarray):
        self._open([s.signatures for s in segments], [s.records for s in segments], records)

    @classmethod
    def from_files(cls, paths: list[Any], sizes: list[int], records: np.ndarray) -> Signatures:
        """Rows from the ``.sig`` files themselves (``sizes``: records per file), as a Ray
        worker opens them: ``records`` are positions in the concatenation of the files. Any
        file of fixed-width uint32 rows serves (the Ray engine's band files too)."""
        self = cls.__new__(cls)
        self._open(paths, sizes, records)
        return self

    def _open(self, paths: list[Any], sizes: list[int], records: np.ndarray) -> None:
        self.records = records
        self.starts = np.cumsum([0] + list(sizes))
        self.files = []
        self.widths = []
        for p, size in zip(paths, sizes, strict=True):
            length = Path(p).stat().st_size if p is not None else 0
            self.files.append(SpoolFile(Path(p)) if length else None)
            self.widths.append(length // 4 // size if length else 0)
        self.width = max(self.widths, default=0)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: Any) -> np.ndarray:
        rows = self.records[np.atleast_1d(index)]
        segment = np.searchsorted(self.starts, rows, side="right") - 1
        out = np.zeros((len(rows), self.width), dtype=np.uint32)
        for s in np.unique(segment).tolist():
            mask = segment == s
            f = self.files[s]
            if f is None:
                continue
            width = self.widths[s]
            size = width * 4
            local = rows[mask] - self.starts[s]
            lo, hi = int(local.min()), int(local.max()) + 1
            if hi - lo <= 4 * len(local):  # dense (a whole batch of rows): one read of the span
                block = np.frombuffer(f.read_at(lo * size, (hi - lo) * size), dtype=np.uint32)
                out[np.flatnonzero(mask), :width] = block.reshape(-1, width)[local - lo]
            else:  # a few scattered rows (a colliding group): one read each
                out[np.flatnonzero(mask), :width] = np.frombuffer(
                    b"".join(f.read_at(r * size, size) for r in local.tolist()), dtype=np.uint32).reshape(-1, width)
        return out[0] if np.ndim(index) == 0 else out

    def close(self) -> None:
        """Close the files (they close when collected, too)."""
        for f in self.files:
            if f is not None:
                f.close()


def empty_train_warnings(tasks: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per task (a manifest's ``tasks``) whose records all went to validation and
    test: a held-out count as large as the task leaves it nothing to train on, which a
    build must not do silently."""
    out = []
    for name, task in tasks.items():
        splits = task.get("splits") or {}
        held_out = sum(n for split, n in splits.items() if split != "train")
        if held_out and not splits.get("train"):
            parts = " and ".join(f"{split} {n}" for split, n in splits.items() if split != "train" and n)
            out.append(f"task {name}: all {held_out} of its records went to held-out splits ({parts}): "
                       "its train split is empty")
    return out


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
            counts = mixer.largest_remainder(min(value, sum(per_task[t] for t in users)),
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
            order = free[mixer.sort_order(mixer.seeded_keys(group[free], seed, mixer.SPLIT), ids[free])]
            del free
            split[order] = held_out_labels(group[order], need)[0]
            del order
        if t == len(recipe.tasks) - 1:
            break  # no later task to look groups up for: no sort of every group
        assigned_groups, idx = np.unique(np.concatenate([assigned_groups, groups]), return_index=True)
        del groups
        assigned_split = np.concatenate([assigned_split, split[members]])[idx]
    return split
