"""What stage 3 works from: a split's order file (rows saying where each line is in the
spools and where it goes in its shard) and one :class:`ShardJob` per shard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ShardJob:
    """Stage 3 for one shard: rows ``start:stop`` of a split's order file
    (:data:`komt_data.passes.ROW`: where each line is in the spools, where it goes in the
    shard) make ``path``, ``size`` bytes."""

    path: Path
    rows: Path
    start: int
    stop: int
    size: int
