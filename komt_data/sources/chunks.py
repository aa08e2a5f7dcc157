"""Splitting one large line-format file into chunks that workers read independently.

A chunk is a byte range that starts at the beginning of a line, plus the number of that
line, so that positions in rejected.jsonl stay exact. Chunks are cut at a fixed size,
never from the number of workers, and are processed and merged in file order, so the
output is the same bytes whatever ``--workers`` is.

Only formats where a line is always a row boundary are split: JSON Lines and TSV
(quoting off). CSV can hold quoted newlines. A ``.gz`` file cannot be read from the
middle: a large one is first decompressed into the build's spool directory
(:func:`decompressed_chunks`) and that copy is split, its rows still named after the
``.gz`` file, with the same line numbers.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from ..errors import DataError
from . import Unit, registry
from .base import READ_BLOCK
from .registry import READERS

# Large enough that per-chunk costs vanish, small enough that two workers share a file of
# a few hundred megabytes evenly. Tests lower it to split tiny files.
CHUNK_BYTES = 32 << 20


def splittable(unit: Unit, path: Path) -> bool:
    """Whether ``path`` can be cut at line starts: a quoted cell (``quoting: csv``) may hold a newline."""
    return registry.splittable(unit.source, path)


def universal_newlines(fmt: str, encoding: str) -> bool:
    """Whether the reader of ``fmt`` counts a lone ``\\r`` as a line end (text mode) or only ``\\n``.

    Only CSV does, and it is never split: in JSON Lines and TSV (any encoding) a lone ``\\r``
    is data, so a row holding one stays one row, with the line numbers after it unchanged.
    """
    return not READERS[fmt].splittable


def iter_chunks(unit: Unit, encoding: str, chunk_bytes: int | None = None) -> Iterator[Unit]:
    """``unit`` as chunk units in file order (itself alone when it is not split), each given
    as soon as it is known, so that workers start on the first while the rest is counted."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    path = unit.path
    if not isinstance(path, Path) or unit.span is not None or path.name.endswith(".gz"):  # URLs stay whole
        yield unit
        return
    if not splittable(unit, path) or path.stat().st_size <= chunk_bytes:
        yield unit
        return
    spans = iter_line_spans(path, chunk_bytes, universal_newlines(registry.format_of(unit.source, path), encoding))
    first = next(spans)
    following = next(spans, None)
    if following is None:
        yield unit
        return
    yield replace(unit, span=first)
    yield replace(unit, span=following)
    for span in spans:
        yield replace(unit, span=span)


def worth_decompressing(unit: Unit, chunk_bytes: int | None = None) -> bool:
    """Whether ``unit`` is a local ``.gz`` file of a splittable format that decompresses to
    more than one chunk (by its compressed size, or the size its gzip trailer records)."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    path = unit.path
    if not isinstance(path, Path) or unit.span is not None or not path.name.endswith(".gz"):
        return False
    if not splittable(unit, path):
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


def decompressed_chunks(unit: Unit, directory: Path, prefix: str, label: str, encoding: str,
                        chunk_bytes: int | None = None) -> Iterator[Unit]:
    """``unit`` (a local ``.gz`` file) decompressed into ``directory`` (as ``prefix`` + its
    name without ``.gz``), given as chunk units of that copy (as :func:`iter_chunks` cuts
    them, for ``encoding``) as soon as each is written: workers start on the first chunks
    while the rest is still being decompressed. The copy keeps the source and format of the
    ``.gz`` file, so the same rows come at the same line numbers.

    Streamed in blocks, so memory stays flat; the copy takes the file's uncompressed size
    on disk until the caller removes it. A file that is not valid gzip raises a
    :class:`~komt_data.errors.DataError` naming it as ``label``.
    """
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    path = unit.path
    assert isinstance(path, Path)
    target = directory / f"{prefix}{path.name[:-3]}"
    copy = replace(unit, path=target)
    cutter = _SpanCutter(chunk_bytes, universal_newlines(registry.format_of(unit.source, path), encoding))
    try:
        with gzip.open(path, "rb") as src, open(target, "wb") as out:
            while block := src.read(READ_BLOCK):
                out.write(block)
                spans = cutter.feed(block)
                if spans:
                    out.flush()  # on the file before a worker reads it
                    yield from (replace(copy, span=span) for span in spans)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        target.unlink(missing_ok=True)
        raise DataError(f"not a valid gzip file: {exc}", file=label) from None
    yield from (replace(copy, span=span) for span in cutter.finish())


def iter_line_spans(path, chunk_bytes: int, universal: bool) -> Iterator[tuple[int, int, int]]:
    """``(start, end, first_line)`` of chunks of about ``chunk_bytes``, each starting a line,
    each given as soon as the file has been read past its end.

    Lines are counted as the readers count them: at ``\\n``, and in text mode also at a
    lone ``\\r``. Cuts are made only just after a ``\\n``, where both agree a line starts.
    """
    cutter = _SpanCutter(chunk_bytes, universal)
    with open(path, "rb") as f:
        while block := f.read(READ_BLOCK):
            yield from cutter.feed(block)
    yield from cutter.finish()


class _SpanCutter:
    """Cuts a stream of bytes, fed in blocks, into line-aligned spans with their first line."""

    def __init__(self, chunk_bytes: int, universal: bool):
        self.chunk_bytes = chunk_bytes
        self.universal = universal
        self.target = chunk_bytes
        self.offset = 0  # bytes fed so far
        self.lines = 1   # number of the line the next byte belongs to
        self.prev_cr = False
        self.start, self.first = 0, 1  # the span being cut

    def feed(self, block: bytes) -> list[tuple[int, int, int]]:
        """The spans this block completes."""
        done = []
        begin = 0
        while self.offset + len(block) > self.target:
            cut = block.find(b"\n", max(self.target - self.offset, begin))
            if cut < 0:
                break
            self.lines += _line_ends(block[begin:cut + 1], self.prev_cr, self.universal)
            self.prev_cr = False
            begin = cut + 1
            end = self.offset + begin
            done.append((self.start, end, self.first))
            self.start, self.first = end, self.lines
            self.target = end + self.chunk_bytes
        rest = block[begin:]
        self.lines += _line_ends(rest, self.prev_cr, self.universal)
        self.prev_cr = rest.endswith(b"\r")
        self.offset += len(block)
        return done

    def finish(self) -> list[tuple[int, int, int]]:
        """The last span (the whole stream when it was never cut, even when empty)."""
        if self.start < self.offset or self.start == 0:
            return [(self.start, self.offset, self.first)]
        return []


def _line_ends(data: bytes, prev_cr: bool, universal: bool) -> int:
    n = data.count(b"\n")
    if universal:
        n += data.count(b"\r") - data.count(b"\r\n")
        if prev_cr and data.startswith(b"\n"):
            n -= 1  # that \r was counted as a lone line end, but it was half of a \r\n
    return n
