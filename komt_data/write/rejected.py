"""rejected.jsonl: every row stage 1 rejected, then every record stage 2 dropped, each with
its reason, where it came from and (for duplicates and contamination) what it repeats.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..decide import contract
from ..dedup.contamination import Decontaminator
from ..spool.columns import Table, read_column
from ..spool.files import SpoolFile


class Evaluation:
    """The evaluation items, to name the one a dropped record copies."""

    def __init__(self, decontaminator: Decontaminator | None):
        self.items = decontaminator.items if decontaminator is not None else []

    def sizes(self) -> dict[str, int]:
        return dict(Counter(item.set for item in self.items))


class _Lines:
    """Spool lines of any record by its position in the table (a segment's offsets computed once)."""

    def __init__(self, table: Table):
        self.table = table
        self.offsets: dict[int, np.ndarray] = {}

    def line(self, index: int) -> bytes:
        seg = int(np.searchsorted(self.table.starts, index, side="right") - 1)
        s = self.table.segments[seg]
        if seg not in self.offsets:
            sizes = read_column(s.numbers, s.records, "lengths").astype(np.int64)
            self.offsets[seg] = np.cumsum(sizes) - sizes
        local = index - int(self.table.starts[seg])
        with open(s.spool, "rb") as f:
            f.seek(int(self.offsets[seg][local]))
            return f.readline()


def write_rejected(path: Path, table: Table, decisions: contract.Decisions, evaluation: Evaluation) -> int:
    """rejected.jsonl: stage-1 rejections per unit, then stage 2's drops in record order."""
    segments = table.segments
    lines = _Lines(table)
    count = 0
    with open(path, "wb") as out:
        for s in segments:
            with open(s.rejected, "rb") as f:
                for line in f:
                    out.write(line)
                    count += 1
        for block in table.blocks("ranks", "positions", "lengths", "offsets", "contaminated", "overlaps"):
            reason = decisions.reason[block.start:block.stop]
            dropped = np.flatnonzero((reason != contract.KEEP) & (block["ranks"] == 0))
            if not len(dropped):
                continue
            s = segments[block.segment]
            # The records that duplicates repeat (anywhere in the recipe): where they are.
            others: dict[int, tuple[int, int]] = {}
            survivors: dict[int, int] = {}  # near duplicates: the survivor's record position
            for code, pointers in ((contract.DUPLICATE, decisions.first_of),
                                   (contract.NEAR_DUPLICATE, decisions.near_of)):
                mine = block.start + dropped[reason[dropped] == code]
                if len(mine):
                    firsts = pointers[mine]
                    found = zip(mine.tolist(), (np.searchsorted(table.starts, firsts, side="right") - 1).tolist(),
                                table.take("positions", firsts).tolist(), strict=True)
                    others.update((i, (seg, position)) for i, seg, position in found)
                    if code == contract.NEAR_DUPLICATE:
                        survivors.update(zip(mine.tolist(), firsts.tolist(), strict=True))
            spool = SpoolFile(s.spool)
            try:
                for i in dropped.tolist():
                    code = int(reason[i])
                    extra: dict[str, Any] = {}
                    if code == contract.DUPLICATE:
                        seg, position = others[block.start + i]
                        detail = f"same content as {segments[seg].label}:{position}"
                    elif code == contract.CONTAMINATED:
                        item = evaluation.items[int(block["contaminated"][i])]
                        detail = (f"copies evaluation item {item.set} {item.where} "
                                  f"({float(block['overlaps'][i]):.0%} of character n-grams shared)")
                        extra["eval_item"] = {"set": item.set, "where": item.where, "text": item.text}
                    elif code == contract.NEAR_DUPLICATE:
                        seg, position = others[block.start + i]
                        jaccard = float(decisions.similarity[block.start + i])
                        detail = f"near duplicate (estimated Jaccard {jaccard:.2f}) of {segments[seg].label}:{position}"
                        # The survivor itself, so that the pair can be compared side by side.
                        extra["jaccard"] = round(jaccard, 4)
                        extra["survivor"] = {**segments[seg].provenance(position),
                                             "record": orjson.Fragment(lines.line(survivors[block.start + i])[:-1])}
                    else:
                        detail = "not sampled: the task's cap or its share of the mix was reached"
                    entry = {"task": s.task, "reason": contract.REASONS[code], "detail": detail,
                             **s.provenance(int(block["positions"][i])), **extra}
                    line = spool.read_at(int(block["offsets"][i]), int(block["lengths"][i]))
                    out.write(orjson.dumps(entry)[:-1] + b',"record":' + line[:-1] + b"}\n")
                    count += 1
            finally:
                spool.close()
        out.flush()
        os.fsync(out.fileno())  # on disk before the directory is renamed into place
    return count
