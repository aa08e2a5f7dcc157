"""The Ray session a build uses, shared by stage 1 (:mod:`.ray_spool`) and stage 2
(:mod:`.ray_decide`): Ray imported with the exact install line when missing, one connection,
Ray Data settings for the build, and config objects made independent of the working directory.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import DependencyError, KomtDataError

INSTALL = "pip install 'komt-data[ray]'"


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or a DependencyError with the exact install line."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise DependencyError(f"the ray engine needs Ray Data: {INSTALL}") from None
    return ray


@contextmanager
def connected(address: str | None) -> Iterator[Any]:
    """A Ray connection: the one already open in this process, else ``ray.init(address)``.

    ``address`` is None (start a local Ray, or join the cluster named by ``RAY_ADDRESS``),
    ``auto`` (the cluster this machine is part of) or ``ray://host:port`` (Ray Client).
    A connection this function opened is closed again; one the caller opened is left open.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = address or "a local Ray"
        raise KomtDataError(f"cannot connect to {where}: {str(exc).splitlines()[0]}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def portable(value: Any) -> Any:
    """``value`` with every relative :class:`Path` inside it made absolute.

    A worker's working directory is not the driver's, so the recipe a worker receives must
    not depend on it. Walks frozen dataclasses, tuples, lists and mappings, so fields that
    later versions add to the config objects are covered too. URLs are left alone.
    """
    if isinstance(value, Path):
        return value.resolve()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: portable(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    if isinstance(value, (tuple, list)):
        return type(value)(portable(v) for v in value)
    if isinstance(value, Mapping):
        return {k: portable(v) for k, v in value.items()}
    return value


@contextmanager
def data_context(ray: Any) -> Iterator[Any]:
    """Ray Data settings for one build, restored afterwards: unit order kept, no bars, no logs below errors."""
    ctx = ray.data.DataContext.get_current()
    saved = (ctx.execution_options.preserve_order, ctx.enable_progress_bars)
    ctx.execution_options.preserve_order = True  # the driver must see units in recipe order
    ctx.enable_progress_bars = False  # the library never prints; the CLI draws its own bar
    data_logger = logging.getLogger("ray.data")
    level = data_logger.level
    data_logger.setLevel(logging.ERROR)
    try:
        yield ctx
    finally:
        ctx.execution_options.preserve_order, ctx.enable_progress_bars = saved
        data_logger.setLevel(level)
