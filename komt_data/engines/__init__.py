"""Where stages 1 and 2 of a build run: in this process (``local``) or on a Ray cluster (``ray``).

Both engines produce the same :class:`~komt_data.spool.contract.Segment` list, unit by unit
in recipe order, and the same :class:`~komt_data.decide.contract.Decisions` (the Ray engine
runs the steps of :func:`komt_data.decide.steps.run` as Ray Data stages, on the same rules);
stage 3 is the same code for both. That is why a recipe built on Ray writes the same bytes
as one built locally.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

ENGINES = ("local", "ray")

__all__ = ["ENGINES", "session"]


def session(engine: str, address: str | None) -> AbstractContextManager[Any]:
    """The Ray connection a ray build keeps open across stages 1 and 2 (None for local)."""
    if engine != "ray":
        return nullcontext(None)
    from . import ray_session  # Ray is optional: imported only for a ray build

    return ray_session.connected(address)
