"""Splitting one large line-format file into chunks that workers read independently.

A chunk is a byte range that starts at the beginning of a line, plus the number of that
line, so that positions in rejected.jsonl stay exact. Chunks are cut at a fixed size,
never from the number of workers, and are processed and merged in file order, so the
output is the same bytes whatever ``--workers`` is.

Only formats where a line is always a row boundary are split: JSON Lines and TSV
(quoting off). CSV can hold quoted newlines, and ``.gz`` files cannot be read from the
middle: they stay whole.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

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
