"""Stage 2 on every record's numbers in memory: the executor near dedup needs (its LSH
bands are in memory anyway), and the one the Ray engine's driver starts from.

:class:`InMemory` holds every record's numbers (about 60 bytes a record, the peak about
165 under tracemalloc) plus 4 bytes per LSH band (84 at the default 0.8 threshold, whatever
the fields compared); near-dedup rows (an output hash and a MinHash signature per compared
field: 8 + 512 bytes a field and record at 128 values) are spooled to disk by stage 1 and
read back (:class:`Signatures`) only for records whose band hashes collide.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Recipe
from ..config.schema import NearDedup
from ..spool.columns import Table
from ..spool.contract import Segment
from ..spool.files import SpoolFile
from . import rules
from .contract import DUPLICATE, KEEP, TRAIN, Decisions, MixPlan
from .keys import SAMPLE, seeded_keys


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
    example = rules.unique_examples(table.column("examples", np.int64),
                                    np.repeat(np.arange(len(segments), dtype=np.int64), sizes))
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


class InMemory:
    """The steps of :func:`komt_data.decide.steps.run` on every record's numbers at once
    (:class:`Arrays`), each a rule of :mod:`komt_data.decide.rules` applied to all records."""

    def __init__(self, recipe: Recipe, seed: int, segments: list[Segment], arrays: Arrays | None = None):
        self.recipe, self.seed, self.segments = recipe, seed, segments
        self.a = arrays if arrays is not None else gather(recipe, segments)
        self.n = n = len(self.a.ids)
        self.reason = np.zeros(n, dtype=np.uint8)
        self.first_of = np.arange(n, dtype=np.int64)
        self.near_of = np.arange(n, dtype=np.int64)
        self.similarity = np.ones(n, dtype=np.float32)
        self.cluster_sizes: Counter = Counter()
        # The split each record's unit sends it to as it is (validation / test), or TRAIN.
        self.codes = np.repeat(np.array(rules.held_codes(segments), np.uint8), [s.records for s in segments])
        self.held = self.codes != TRAIN
        self.selected = np.zeros(0, bool)
        self.split_codes = np.zeros(0, np.uint8)

    def exact(self) -> None:
        duplicate, self.first_of = rules.exact_dedup(self.a.key, self.a.example, self.held)
        self.reason[duplicate] = DUPLICATE

    def decontaminate(self) -> None:
        rules.decontaminate(self.reason, self.a.contaminated)

    def near(self, spec: NearDedup) -> None:
        a = self.a
        candidates = rules.near_candidates(self.reason, rules.first_record_of_example(a.example), self.held)
        bands = _candidate_bands(self.segments, candidates)
        signatures = Signatures(self.segments, candidates)
        scope = rules.near_scope(self.recipe, a.family, a.task)
        try:
            rules.near_dedup(spec.threshold, spec.num_perm, a.example, self.reason, self.near_of, self.similarity,
                             candidates, bands, signatures, scope[candidates])
        finally:
            signatures.close()
        del bands
        self.cluster_sizes = rules.clusters_of(a.example, self.reason, self.near_of)

    def hold(self) -> None:
        if self.held.any():
            rules.hold(self.reason, self.held)

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        return rules.task_counts(self.recipe, self.a.task, self.a.rank, self.reason == KEEP)

    def sample(self, plan: MixPlan) -> None:
        a = self.a
        ok = self.reason == KEEP
        self.selected = selected = np.zeros(self.n, dtype=bool)
        for t, task_plan in enumerate(plan.tasks):
            in_task = np.flatnonzero(a.task == t)
            # Sample keys of one task at a time (element by element the same as for all records).
            sample_keys = seeded_keys(a.ids[in_task], self.seed, SAMPLE)
            selected[in_task] = rules.sample_task(ok[in_task], a.rank[in_task], sample_keys, task_plan.planned)
            del in_task, sample_keys
        rules.mark_not_sampled(self.reason, ok, selected, a.rank)

    def split(self) -> None:
        a = self.a
        self.split_codes = rules.split_records(self.recipe, self.seed, a.task, a.group, a.ids, self.selected)
        if self.held.any():
            rules.release(self.reason, self.split_codes, a.rank, self.codes)

    def result(self, plan: MixPlan) -> Decisions:
        return Decisions.from_arrays(self.reason, self.split_codes, self.first_of, self.near_of, self.similarity,
                                     plan, self.cluster_sizes)


def _candidate_bands(segments: list[Segment], candidates: np.ndarray) -> np.ndarray:
    """The band hashes of ``candidates`` (positions in the concatenation of ``segments``)."""
    if len(candidates) > 1 and np.any(candidates[1:] < candidates[:-1]):  # evaluation examples first
        order = np.argsort(candidates, kind="stable")
        ordered = _candidate_bands(segments, candidates[order])
        bands = np.empty_like(ordered)
        bands[order] = ordered
        return bands
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
    """Near-dedup rows (:func:`komt_data.dedup.near.near_rows`) of chosen records, read on demand
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
    def from_files(cls, paths: list[str | Path | None], sizes: list[int], records: np.ndarray) -> Signatures:
        """Rows from the ``.sig`` files themselves (``sizes``: records per file), as a Ray
        worker opens them: ``records`` are positions in the concatenation of the files. Any
        file of fixed-width uint32 rows serves (the Ray engine's band files too)."""
        self = cls.__new__(cls)
        self._open(paths, sizes, records)
        return self

    def _open(self, paths: list[str | Path | None], sizes: list[int], records: np.ndarray) -> None:
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
