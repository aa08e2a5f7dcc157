"""Where stage 1 of a build runs: in this process (``local``) or on a Ray cluster (``ray``).

Both engines hand the same :class:`~komt_data.spool.contract.Segment` list, unit by unit in
recipe order, to the same stage 2 and stage 3 code, which is why a recipe built on Ray
writes the same bytes as one built locally.
"""

from __future__ import annotations

ENGINES = ("local", "ray")

__all__ = ["ENGINES"]
