"""Splitting one large line-format file into chunks that workers read independently.

A chunk is a byte range that starts at the beginning of a line, plus the number of that
line, so that positions in rejected.jsonl stay exact. Chunks are cut at a fixed size,
never from the number of workers, and are processed and merged in file order, so the
output is the same bytes whatever ``--workers`` is.

Only formats where a line is always a row boundary are split: JSON Lines and TSV
(quoting off). CSV can hold quoted newlines. A ``.gz`` file cannot be read from the
middle: a large one is first decompressed into the build's spool directory
(:func:`decompressed_copy`) and that copy is split, its rows still named after the
``.gz`` file, with the same line numbers.
"""

from __future__ import annotations

import gzip
import shutil
import zlib
from dataclasses import replace
from pathlib import Path

from ..errors import DataError
from . import Unit
from .base import _CHUNK

# Large enough that per-chunk costs vanish, small enough that two workers share a file of
# a few hundred megabytes evenly. Tests lower it to split tiny files.
CHUNK_BYTES = 32 << 20

SPLITTABLE = ("jsonl", "tsv")


def universal_newlines(fmt: str, encoding: str) -> bool:
    """Whether the reader of ``fmt`` counts a lone ``\\r`` as a line end (text mode) or only ``\\n``."""
    return fmt != "jsonl" or encoding not in ("utf-8", "utf-8-sig")


def split_unit(unit: Unit, encoding: str, chunk_bytes: int | None = None) -> list[Unit]:
    """``unit`` as a list of chunk units in file order (itself alone when it is not split)."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    path = unit.path
    if not isinstance(path, Path) or unit.span is not None or path.name.endswith(".gz"):  # URLs stay whole
        return [unit]
    fmt = unit.source.format_of(path)
    if fmt not in SPLITTABLE or path.stat().st_size <= chunk_bytes:
        return [unit]
    spans = line_spans(path, chunk_bytes, universal_newlines(fmt, encoding))
    if len(spans) == 1:
        return [unit]
    return [replace(unit, span=span) for span in spans]


def worth_decompressing(unit: Unit, chunk_bytes: int | None = None) -> bool:
    """Whether ``unit`` is a local ``.gz`` file of a splittable format that decompresses to
    more than one chunk (by its compressed size, or the size its gzip trailer records)."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    path = unit.path
    if not isinstance(path, Path) or unit.span is not None or not path.name.endswith(".gz"):
        return False
    if unit.source.format_of(path) not in SPLITTABLE:
        return False
    size = path.stat().st_size
    if size > chunk_bytes:
        return True
    if size < 18:  # not even an empty gzip member: left to the reader to reject
        return False
    with open(path, "rb") as f:
        f.seek(-4, 2)
        # ISIZE: the last member's uncompressed size modulo 2**32 (exact for one member
        # under 4 GB, the common case; a larger file is caught by its compressed size).
        return int.from_bytes(f.read(4), "little") > chunk_bytes


def decompressed_copy(unit: Unit, directory: Path, prefix: str, label: str) -> Unit:
    """``unit`` (a local ``.gz`` file) decompressed into ``directory`` (as ``prefix`` + its name
    without ``.gz``), as a unit of that copy: the same source, and the same format (from
    the config or the name's extension), so the same rows at the same line numbers.

    Streamed in blocks, so memory stays flat; the copy takes the file's uncompressed size
    on disk until the caller removes it. A file that is not valid gzip raises a
    :class:`~komt_data.errors.DataError` naming it as ``label``.
    """
    path = unit.path
    assert isinstance(path, Path)
    target = directory / f"{prefix}{path.name[:-3]}"
    try:
        with gzip.open(path, "rb") as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        target.unlink(missing_ok=True)
        raise DataError(f"not a valid gzip file: {exc}", file=label) from None
    return replace(unit, path=target)


def line_spans(path, chunk_bytes: int, universal: bool) -> list[tuple[int, int, int]]:
    """``(start, end, first_line)`` of chunks of about ``chunk_bytes``, each starting a line.

    Lines are counted as the readers count them: at ``\\n``, and in text mode also at a
    lone ``\\r``. Cuts are made only just after a ``\\n``, where both agree a line starts.
    """
    cuts: list[tuple[int, int]] = [(0, 1)]   # (byte offset, number of the line starting there)
    target = chunk_bytes
    offset = 0
    lines = 1
    prev_cr = False
    with open(path, "rb") as f:
        while True:
            block = f.read(_CHUNK)
            if not block:
                break
            begin = 0
            while offset + len(block) > target:
                cut = block.find(b"\n", max(target - offset, begin))
                if cut < 0:
                    break
                piece = block[begin:cut + 1]
                lines += _line_ends(piece, prev_cr, universal)
                prev_cr = False
                begin = cut + 1
                cuts.append((offset + begin, lines))
                target = offset + begin + chunk_bytes
            rest = block[begin:]
            lines += _line_ends(rest, prev_cr, universal)
            prev_cr = rest.endswith(b"\r")
            offset += len(block)
    size = offset
    cuts = [(o, n) for o, n in cuts if o < size] or [(0, 1)]
    ends = [o for o, _ in cuts[1:]] + [size]
    return [(start, end, first) for (start, first), end in zip(cuts, ends, strict=True)]


def _line_ends(data: bytes, prev_cr: bool, universal: bool) -> int:
    n = data.count(b"\n")
    if universal:
        n += data.count(b"\r") - data.count(b"\r\n")
        if prev_cr and data.startswith(b"\n"):
            n -= 1  # that \r was counted as a lone line end, but it was half of a \r\n
    return n
