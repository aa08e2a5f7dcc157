"""Stage 1 on a Ray cluster, through Ray Data.

Every input unit becomes one row of a Ray Data dataset (``from_items``), one block each,
so units spread over the cluster's CPUs. A ``flat_map`` runs the very code the local
engine runs (:func:`komt_data.builder.spool_unit`) on a worker, into the worker's temp
directory, and streams back the result as rows: first the unit's :class:`Segment` (its
counts and compact per-record arrays), then its spool and its rejections in chunks of at
most :data:`CHUNK` bytes. The driver reads the rows in unit order (``preserve_order``)
while later units are still being read, rebuilds each spool on its own disk, and stage 2
and stage 3 then run exactly as in the local engine: same decisions, same bytes.

A unit's error (``on_error: fail``, a bad file) comes back as a row too and is raised on
the driver as the same :class:`KomtDataError` the local engine raises, for the first
failing unit in recipe order.
"""

from __future__ import annotations

import dataclasses
import logging
import pickle
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..config import Recipe, TaskConfig
from ..errors import DependencyError, KomtDataError
from ..records import TaskRunner
from ..sources import Unit, units_of

INSTALL = "pip install 'komt-data[ray]'"
# Rows stay well under Arrow's 2 GB binary limit and the driver holds one at a time.
CHUNK = 8 << 20

_META, _SPOOL, _REJECTED, _ERROR = 0, 1, 2, 3


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


def _portable(task: TaskConfig, unit: Unit) -> tuple[TaskConfig, Unit]:
    """Absolute paths: a worker's working directory is not the driver's."""
    task = dataclasses.replace(task, path=task.path.resolve(), templates=task.templates.resolve())
    if isinstance(unit.path, Path):
        unit = dataclasses.replace(unit, path=unit.path.resolve())
    return task, unit


def _stage1(row: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Runs on a Ray worker: one unit through stage 1, returned as ordered rows."""
    from ..builder import spool_unit

    index = row["index"]
    task, unit, label, seed, limit, on_error = pickle.loads(row["job"])
    with tempfile.TemporaryDirectory(prefix="komt-data-ray-") as tmp:
        try:
            runner = TaskRunner(task, seed)
            segment = spool_unit(runner, unit, Path(tmp), index, limit=limit, on_error=on_error, label=label)
        except KomtDataError as exc:
            try:
                data = pickle.dumps(exc)
            except Exception:  # an exception with odd arguments still reaches the user as its message
                data = pickle.dumps(KomtDataError(str(exc)))
            yield {"index": index, "kind": _ERROR, "part": 0, "data": data}
            return
        yield {"index": index, "kind": _META, "part": 0, "data": pickle.dumps(segment)}
        for kind, path in ((_SPOOL, segment.spool), (_REJECTED, segment.rejected)):
            with open(path, "rb") as f:
                part = 0
                while chunk := f.read(CHUNK):
                    yield {"index": index, "kind": kind, "part": part, "data": chunk}
                    part += 1


@contextmanager
def _data_context(ray: Any) -> Iterator[Any]:
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


def spool_segments(recipe: Recipe, seed: int, spool_dir: Path, *, limit: int | None, on_error: str,
                   address: str | None = None, progress: Any = None) -> list:
    """Stage 1 of ``recipe`` on Ray: the segments, in recipe order, with their spools in ``spool_dir``."""
    from ..builder import unit_label

    jobs = []
    for ref in recipe.tasks:
        for unit in units_of(ref.config.source):
            task, portable = _portable(ref.config, unit)
            jobs.append({"index": len(jobs),
                         "job": pickle.dumps((task, portable, unit_label(unit), seed, limit, on_error))})
    if not jobs:
        return []
    with connected(address) as ray, _data_context(ray):
        dataset = ray.data.from_items(jobs, override_num_blocks=len(jobs)).flat_map(_stage1)
        return _collect(dataset, spool_dir, progress)


def _collect(dataset: Any, spool_dir: Path, progress: Any) -> list:
    segments: list = []
    out = None
    try:
        for row in dataset.iter_rows():
            kind, data = row["kind"], row["data"]
            if kind == _ERROR:
                raise pickle.loads(data)
            if kind == _META:
                segment = pickle.loads(data)
                segment.spool = spool_dir / segment.spool.name
                segment.rejected = spool_dir / segment.rejected.name
                # Empty spools send no chunk: create both files now so stage 3 finds them.
                segment.spool.touch()
                segment.rejected.touch()
                segments.append(segment)
                if progress is not None:
                    progress.update(segment.read)
                continue
            path = segments[-1].spool if kind == _SPOOL else segments[-1].rejected
            if out is None or out.name != str(path):
                if out is not None:
                    out.close()
                out = open(path, "ab")
            out.write(data)
    finally:
        if out is not None:
            out.close()
    return segments
