"""report.html's figures from stage-1 numbers, so a build does not parse its shards again.

Stage 1 keeps, per record, the lengths in characters of its instruction and output and its
template (a number into its segment's template names): 10 bytes a record. Once stage 2 has
chosen the split of every record, these give exactly what
:meth:`komt_data.report.StatsCollector.observe` would count while reading the written
records (counts, shares and length percentiles do not depend on the order of the records).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import mixing
from .report import StatsCollector


def stats(task_names: list[str], segments: list[Any], task_index: np.ndarray, split: np.ndarray) -> dict[str, Any]:
    """The ``stats`` of manifest.json for records whose task (an index into ``task_names``)
    and split code (:data:`komt_data.mixing.SPLIT_NAMES`) are given, one per record of
    ``segments`` (:class:`komt_data.builder.Segment`) in their order."""
    collector = StatsCollector(task_names)
    if not segments:
        return collector.result()
    instruction = mixing.shared(segments, "instruction_chars", np.uint32)
    output = mixing.shared(segments, "output_chars", np.uint32)
    number: dict[str, int] = {}
    # Filled segment by segment (int32: no per-segment int64 copies next to the result).
    template = np.empty(sum(len(s.templates) for s in segments), np.int32)
    start = 0
    for s in segments:  # one numbering of the template names across segments
        remap = np.array([number.setdefault(name, len(number)) for name in s.template_names], dtype=np.int32)
        if len(s.templates):
            template[start:start + len(s.templates)] = remap[s.templates]
        start += len(s.templates)
    names = list(number)
    for code, name in mixing.SPLIT_NAMES.items():
        members = np.flatnonzero(split == code)
        if len(members) == 0:
            continue
        task = task_index[members]
        pairs, counts = np.unique(task.astype(np.int64) * max(1, len(names)) + template[members], return_counts=True)
        templates: dict[str, dict[str, int]] = {}
        for pair, count in zip(pairs.tolist(), counts.tolist(), strict=True):
            templates.setdefault(task_names[pair // max(1, len(names))], {})[names[pair % max(1, len(names))]] = count
        collector.observe_arrays(name, task, instruction[members], output[members], templates)
    return collector.result()
