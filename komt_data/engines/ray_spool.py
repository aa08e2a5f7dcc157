"""Stage 1 on a Ray cluster, through Ray Data.

Every input unit becomes one row of a Ray Data dataset (``from_items``), one block each,
so units spread over the cluster's CPUs. A ``flat_map`` runs the very code the local
engine runs (:func:`komt_data.spool.unit.spool_unit`, with the runners of
:func:`komt_data.spool.local.runners`) on a worker, into the worker's temp directory, and streams back the
result as rows: first the unit's :class:`Segment` (its counts), then every file it names
(spool, rejections, per-record numbers, ...) in chunks of at most
:data:`CHUNK` bytes. The recipe, with its paths made absolute, travels once per build.
The driver reads the rows in unit order (``preserve_order``) while later units are still
being read, rebuilds each spool on its own disk, and stage 2 and stage 3 then run exactly
as in the local engine: same decisions, same bytes.

A unit's error (``on_error: fail``, a bad file) comes back as a row too and is raised on
the driver as the same :class:`KomtDataError` the local engine raises, for the first
failing unit in recipe order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..config import Recipe
from ..errors import KomtDataError
from ..sources import units_of
from ..spool.contract import Segment
from ..spool.local import runners
from ..spool.unit import shown_path, spool_unit, unit_label
from .ray_session import connected, data_context, portable

# Rows stay well under Arrow's 2 GB binary limit and the driver holds one at a time.
CHUNK = 8 << 20

_META, _FILE, _ERROR = 0, 1, 2


# Per worker process: the runners of the recipe it last worked on, since Ray reuses processes
# across units and building runners (templates, evaluation sets) is not free.
_RUNNERS: dict[bytes, list] = {}


def _runners_for(recipe_blob: bytes, seed: int) -> list:
    key = hashlib.sha256(recipe_blob + str(seed).encode()).digest()
    if key not in _RUNNERS:
        _RUNNERS.clear()
        _RUNNERS[key] = runners(pickle.loads(recipe_blob), seed)
    return _RUNNERS[key]


def _side_files(segment: Segment) -> list[str]:
    """The Segment's fields that name files of its spool (spool, rejections, and any other)."""
    return [f.name for f in dataclasses.fields(segment) if isinstance(getattr(segment, f.name), Path)]


def _stage1(row: dict[str, Any], *, recipe_blob: bytes, seed: int, limit: int | None,
            on_error: str) -> Iterator[dict[str, Any]]:
    """Runs on a Ray worker: one unit through stage 1, returned as ordered rows."""
    index, task_index = row["index"], row["task"]
    unit, label, shown = pickle.loads(row["unit"])
    with tempfile.TemporaryDirectory(prefix="komt-data-ray-") as tmp:
        try:
            runner = _runners_for(recipe_blob, seed)[task_index]
            segment = spool_unit(runner, unit, Path(tmp), index, limit=limit, on_error=on_error, label=label,
                                 shown=shown)
        except KomtDataError as exc:
            try:
                data = pickle.dumps(exc)
            except Exception:  # an exception with odd arguments still reaches the user as its message
                data = pickle.dumps(KomtDataError(str(exc)))
            yield {"index": index, "kind": _ERROR, "field": "", "data": data}
            return
        yield {"index": index, "kind": _META, "field": "", "data": pickle.dumps(segment)}
        for name in _side_files(segment):
            with open(getattr(segment, name), "rb") as f:
                while chunk := f.read(CHUNK):
                    yield {"index": index, "kind": _FILE, "field": name, "data": chunk}


def spool_segments(recipe: Recipe, seed: int, spool_dir: Path, *, limit: int | None, on_error: str,
                   address: str | None = None, progress: Any = None) -> list:
    """Stage 1 of ``recipe`` on Ray: the segments, in recipe order, with their spools in ``spool_dir``."""
    recipe = portable(recipe)
    jobs = []
    for t, ref in enumerate(recipe.tasks):
        for unit in units_of(ref.config.source):
            label = unit_label(unit, ref.config.path.parent)
            # Messages name the file as the driver's terminal sees it; provenance by the stable label.
            shown = shown_path(unit.path) if unit.path is not None else label
            jobs.append({"index": len(jobs), "task": t, "unit": pickle.dumps((unit, label, shown))})
    if not jobs:
        return []
    with connected(address) as ray, data_context(ray):
        # One block per unit, so that units spread over every CPU of the cluster.
        dataset = ray.data.from_items(jobs, override_num_blocks=len(jobs)).flat_map(
            _stage1, fn_kwargs={"recipe_blob": pickle.dumps(recipe), "seed": seed, "limit": limit,
                                "on_error": on_error})
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
                for name in _side_files(segment):
                    local = spool_dir / getattr(segment, name).name
                    local.touch()  # an empty file sends no chunk, and stage 3 opens it all the same
                    setattr(segment, name, local)
                segments.append(segment)
                if progress is not None:
                    progress.update(segment.read)
                continue
            path = getattr(segments[-1], row["field"])
            if out is None or out.name != str(path):
                if out is not None:
                    out.close()
                out = open(path, "ab")
            out.write(data)
    finally:
        if out is not None:
            out.close()
    return segments
