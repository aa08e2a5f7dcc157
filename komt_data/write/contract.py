"""What stage 3 works from: a split's order file of :data:`ROW` rows (where each line is in
the spools and where it goes in its shard) and one :class:`ShardJob` per shard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

# One row per record of a split, in output order: where its line is and where it goes.
ROW = np.dtype([("segment", np.uint32), ("length", np.uint32), ("offset", np.uint64), ("at", np.uint64)])


@dataclass(frozen=True)
class ShardJob:
    """Stage 3 for one shard: rows ``start:stop`` of a split's order file
    (:data:`ROW`: where each line is in the spools, where it goes in the
    shard) make ``path``, ``size`` bytes."""

    path: Path
    rows: Path
    start: int
    stop: int
    size: int
