"""report.html's figures from stage-1 numbers, so a build does not parse its shards again.

Stage 1 keeps, per record, the lengths in characters of its instruction and output and its
template (a number into its segment's template names), on disk with its other numbers
(:mod:`komt_data.spool.columns`). Once stage 2 has chosen the split of every record, these give
exactly what :meth:`komt_data.write.report.StatsCollector.observe` would count while reading the
written records (counts, shares and length percentiles do not depend on the order of the
records). They are counted block by block as how many records have each length, per task,
so memory does not grow with the records; the percentiles come from those counts exactly
as ``numpy.percentile`` computes them from the lengths themselves.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ..decide import contract

# The length bins of report.html (doubling: lengths span orders of magnitude).
LENGTH_EDGES = (0, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)
_KEYS = ("instruction_chars", "output_chars")


def histogram(values: np.ndarray) -> dict[str, list[int]]:
    """Counts in doubling bins (0–16, 16–32, …, 8192+): lengths span orders of magnitude."""
    edges = list(LENGTH_EDGES)
    counts = np.histogram(values, bins=[*edges, max(edges[-1] + 1, int(values.max()) + 1 if len(values) else 0)])[0]
    return {"edges": edges, "counts": [int(c) for c in counts]}


class _Lengths:
    """How many records have each length (distinct lengths ascending, their counts)."""

    def __init__(self) -> None:
        self.values = np.zeros(0, np.int64)
        self.counts = np.zeros(0, np.int64)

    def add(self, values: np.ndarray, counts: np.ndarray | None = None) -> None:
        """Count ``values`` (each ``counts`` times, once by default)."""
        if counts is None:
            values, counts = np.unique(values, return_counts=True)
        merged, inverse = np.unique(np.r_[self.values, values.astype(np.int64)], return_inverse=True)
        total = np.zeros(len(merged), np.int64)
        np.add.at(total, inverse.reshape(-1), np.r_[self.counts, counts])
        self.values, self.counts = merged, total

    def summary(self) -> dict[str, float | int]:
        """:func:`komt_data.write.report.summarize` of the lengths counted."""
        n = int(self.counts.sum())
        if n == 0:
            return {"min": 0, "p50": 0, "p90": 0, "p99": 0, "max": 0, "mean": 0.0}
        ends = np.cumsum(self.counts)
        total = int((self.values * self.counts).sum())
        p50, p90, p99 = (int(round(float(self._percentile(n, ends, q)))) for q in (50, 90, 99))
        return {"min": int(self.values[0]), "p50": p50, "p90": p90, "p99": p99, "max": int(self.values[-1]),
                "mean": round(float(np.float64(total) / np.float64(n)), 1)}

    def _percentile(self, n: int, ends: np.ndarray, q: int) -> np.float64:
        # numpy's "linear" method: the values at the floor and ceiling of (n - 1) × q/100 in
        # sorted order, interpolated as numpy's _lerp does (from the upper end past the middle).
        virtual = np.float64(n - 1) * np.float64(np.true_divide(q, 100))
        lower = int(np.floor(virtual))
        upper = min(lower + 1, n - 1)
        a, b = (self.values[np.searchsorted(ends, k, side="right")] for k in (lower, upper))
        t = virtual - np.float64(lower)
        diff = b - a
        return np.float64(b - diff * (1 - t)) if t >= 0.5 else np.float64(a + diff * t)

    def histogram(self) -> dict[str, list[int]]:
        """:func:`histogram` of the lengths counted."""
        edges = list(LENGTH_EDGES)
        top = int(self.values[-1]) + 1 if len(self.values) else 0
        bins = np.searchsorted(np.array([*edges, max(edges[-1] + 1, top)]), self.values, side="right") - 1
        counts = np.zeros(len(edges), np.int64)
        np.add.at(counts, np.minimum(bins, len(edges) - 1), self.counts)  # the last bin is closed
        return {"edges": edges, "counts": [int(c) for c in counts]}


def stats(task_names: list[str], table: Any, split: np.ndarray) -> dict[str, Any]:
    """The ``stats`` of manifest.json, as :meth:`komt_data.write.report.StatsCollector.result`
    gives them, for the records of ``table`` (a :class:`komt_data.spool.columns.Table` of the
    recipe's tasks ``task_names``) whose split code (:data:`komt_data.contract.SPLIT_NAMES`)
    ``split`` gives."""
    lengths = {key: [_Lengths() for _ in task_names] for key in _KEYS}
    templates: list[Counter] = [Counter() for _ in task_names]
    per_split = np.zeros(256, np.int64)
    for block in table.blocks(*_KEYS, "templates"):
        codes = split[block.start:block.stop]
        chosen = codes != contract.UNSELECTED
        if not chosen.any():
            continue
        t = table.task[block.segment]
        per_split += np.bincount(codes[chosen], minlength=256)
        for key in _KEYS:
            lengths[key][t].add(block[key][chosen])
        names = table.segments[block.segment].template_names
        for number, count in enumerate(np.bincount(block["templates"][chosen], minlength=len(names)).tolist()):
            if count:
                templates[t][names[number]] += count
    total = int(sum(per_split[code] for code in contract.SPLIT_NAMES))
    tasks = {}
    for t, name in enumerate(task_names):
        n = int(lengths[_KEYS[0]][t].counts.sum())
        tasks[name] = {"records": n, "share": round(n / total, 4) if total else 0.0,
                       "templates": dict(sorted(templates[t].items())),
                       **{key: lengths[key][t].summary() for key in _KEYS}}
    overall = {}
    for key in _KEYS:
        everything = _Lengths()
        for part in lengths[key]:
            if len(part.values):
                everything.add(part.values, part.counts)
        overall[key] = {**everything.summary(), "histogram": everything.histogram()}
    return {"records": total, "splits": {name: int(per_split[code]) for code, name in contract.SPLIT_NAMES.items()
                                         if per_split[code]},
            "tokenizer": None, "tasks": tasks, "lengths": overall}
