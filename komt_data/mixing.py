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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .columns import Table
from .config import Recipe
from .decide.contract import (
    DUPLICATE,
    KEEP,
    NOT_SAMPLED,
    TRAIN,
    Decisions,
)
from .decide.keys import SAMPLE, seeded_keys
from .decide.plan import make_plan
from .decide.rules import (
    clusters_of,
    decontaminate,
    exact_dedup,
    first_record_of_example,
    held_codes,
    hold,
    near_dedup,
    near_scope,
    release,
    sample_task,
    split_records,
    task_counts,
)
from .spool.contract import Segment
from .spool.files import SpoolFile


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


def gather(recipe: Recipe, segments: list[Segment]) -> Arrays:
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


def decide(recipe: Recipe, seed: int, segments: list[Segment]) -> Decisions:
    """Every stage 2 decision for ``segments`` (see the module docstring for the order):
    in bounded passes over their numbers on disk, or with near dedup (whose LSH bands are
    in memory anyway) on all of them in memory. Both give the same decisions."""
    if recipe.dedup.near is not None:
        return decide_in_memory(recipe, seed, segments)
    from .passes import decide_in_passes

    return decide_in_passes(recipe, seed, Table(segments, [ref.config.name for ref in recipe.tasks]))


def decide_in_memory(recipe: Recipe, seed: int, segments: list[Segment], arrays: Arrays | None = None) -> Decisions:
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
        sample_keys = seeded_keys(a.ids[in_task], seed, SAMPLE)
        selected[in_task] = sample_task(ok[in_task], a.rank[in_task], sample_keys, task_plan.planned)
        del in_task, sample_keys
    reason[ok & ~selected & (a.rank == 0)] = NOT_SAMPLED

    split = split_records(recipe, seed, a.task, a.group, a.ids, selected)
    if held.any():
        release(reason, split, a.rank, codes)
    return Decisions.from_arrays(reason, split, first_of, near_of, similarity, plan, cluster_sizes)


def _candidate_bands(segments: list[Segment], candidates: np.ndarray) -> np.ndarray:
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


class Signatures:
    """Near-dedup rows (:func:`komt_data.neardup.near_rows`) of chosen records, read on demand
    from the segments' spooled ``.sig`` files: indexing returns the rows asked for, nothing
    more. A file's row width is its size over its records (tasks compare different numbers
    of fields); narrower rows are zero-padded to the widest.

    Positioned reads, not a memory map: pages of a map that were touched count in the
    resident set, and the candidates of a large build touch all of them (520 bytes a record
    and field).
    """

    def __init__(self, segments: list[Segment], records: np.ndarray):
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


