"""Line formats: JSON Lines, and CSV / TSV with a header row."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from ..errors import DataError
from .base import (
    MAX_LINE_BYTES,
    BadRow,
    Rows,
    binary_line_blocks,
    bounded_lines,
    has_undecodable,
    line_too_long,
    open_binary_span,
    open_text,
    open_text_span,
    show_undecodable,
)

# Korean corpora have long documents in one cell; the csv module's default cap is 128 KB.
# Lines themselves are capped by ``max_line_bytes`` before the csv module sees them.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

#: orjson refuses JSON nested deeper than this (a C recursion guard); the message says so.
JSON_MAX_DEPTH = 1024


def read_jsonl(path: Path, encoding: str, max_line_bytes: int = MAX_LINE_BYTES,
               span: tuple[int, int, int] | None = None) -> Rows:
    """One JSON object per line; blank lines are skipped, not counted.

    ``span`` (start byte, end byte, first line number) reads one chunk of the file.
    """
    first = span[2] if span else 1
    byte_range = span[:2] if span else None
    if encoding in ("utf-8", "utf-8-sig"):
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        with open_binary_span(path, byte_range) as f:
            for lines in binary_line_blocks(f, max_line_bytes):
                if first == 1 and type(lines[0]) is bytes and lines[0].startswith(b"\xef\xbb\xbf"):
                    lines[0] = lines[0][3:]
                for number, line in enumerate(lines, first):
                    if type(line) is int:
                        yield number, line_too_long(line, max_line_bytes)
                        continue
                    # Parsed first: the rare blank line is told apart only when parsing fails.
                    try:
                        row = loads(line)
                    except decode_error:
                        if line.strip():
                            yield number, _parse_json_line(line, encoding)
                        continue
                    yield number, row if type(row) is dict else _parse_json_line(line, encoding)
                first += len(lines)
    else:
        # Only \n ends a line, as in the UTF-8 path above (a lone \r is JSON whitespace).
        with open_text_span(path, encoding, byte_range, newline="\n") as f:
            for number, (line, length) in enumerate(bounded_lines(f, max_line_bytes), first):
                if line is None:
                    yield number, line_too_long(length, max_line_bytes, "characters")
                    continue
                if not line.strip():
                    continue
                if has_undecodable(line):
                    yield number, _undecodable(show_undecodable(line.rstrip("\r\n")), encoding)
                    continue
                yield number, _parse_json_line(line, encoding)


def _undecodable(raw: str, encoding: str) -> BadRow:
    return BadRow("undecodable", f"bytes that are not valid {encoding} (set source.encoding if the "
                  "file is in another encoding)", raw)


def _parse_json_line(line: bytes | str, encoding: str) -> dict | BadRow:
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        if isinstance(line, bytes):
            try:
                raw = line.decode("utf-8")
            except UnicodeDecodeError:
                return _undecodable(line.decode("utf-8", "backslashreplace").rstrip("\r\n"), "UTF-8")
        else:
            raw = line
        raw = raw.rstrip("\r\n")
        if "depth limit" in str(exc):
            return BadRow("too_deep", f"JSON nested deeper than {JSON_MAX_DEPTH} levels", None)
        return BadRow("invalid_json", f"invalid JSON: {_json_problem(raw)}", raw)
    if not isinstance(row, dict):
        return BadRow("invalid_json", f"expected a JSON object, got {type(row).__name__}", line_text(line))
    return row


def _json_problem(raw: str) -> str:
    # Parsed again without the line ending, so the column points into the line and an
    # unterminated object reads "unexpected end of data" at its end, not at line 2.
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return f"{exc.msg} at column {exc.colno}"
    return "cannot parse"  # pragma: no cover - it failed a moment ago


def line_text(line: bytes | str) -> str:
    """A line as text for rejected.jsonl (it decoded already, or it would not have parsed)."""
    return (line.decode("utf-8") if isinstance(line, bytes) else line).rstrip("\r\n")


class _Lines:
    """The physical lines of a text file for the csv module, with over-long lines held back.

    An over-long line reaches the csv module as an empty line and its number is noted,
    so the reader can reject the row it belonged to instead of parsing a huge cell.
    """

    def __init__(self, f: IO[str], max_length: int):
        self.lines = bounded_lines(f, max_length)
        self.number = 0
        self.too_long: dict[int, int] = {}

    def __iter__(self) -> Iterator[str]:
        for line, length in self.lines:
            self.number += 1
            if line is None:
                self.too_long[self.number] = length
                yield "\n"
            else:
                yield line


def read_delimited(path: Path, encoding: str, delimiter: str, max_line_bytes: int = MAX_LINE_BYTES,
                   span: tuple[int, int, int] | None = None, *, quoting: str | None = None) -> Rows:
    """CSV or TSV with a header row, quoted as ``quoting`` says: ``csv`` (RFC 4180: quoted
    cells, doubled quotes, quoted newlines) or ``none`` (quote characters are text). By
    default CSV is quoted and TSV is not: Korean TSVs (KorNLI, KorSTS, NSMC's ratings.txt)
    carry stray quote characters, while NSMC's ratings_train.txt / ratings_test.txt were
    written by pandas' to_csv with its default quoting and need ``csv``.

    ``span`` (start byte, end byte, first line number) reads one chunk of a TSV file: the
    header comes from the start of the file (the chunk that starts there reads it itself),
    and line numbers count from the chunk's first line.
    """
    if quoting is None:
        quoting = "csv" if delimiter == "," else "none"
    quoting = csv.QUOTE_MINIMAL if quoting == "csv" else csv.QUOTE_NONE
    # Unquoted TSV rows end at \n (or \r\n) only: a lone \r is data in real TSV cells (with quoting,
    # the csv module reads the file as it reads CSV).
    newline = "\n" if delimiter == "\t" and quoting == csv.QUOTE_NONE else ""
    skip = 0
    if span is not None and span[0] > 0:
        with open_text(path, encoding, newline) as f:
            header = next(_reader(_Lines(f, max_line_bytes), delimiter, quoting), None)
        if header is None:
            return
        skip = span[2] - 1
    with open_text_span(path, encoding, span[:2] if span else None, newline) as f:
        lines = _Lines(f, max_line_bytes)
        reader = _reader(lines, delimiter, quoting)
        if skip:
            yield from _delimited_rows(reader, lines, header, skip, delimiter, encoding, max_line_bytes)
            return
        try:
            header = next(reader)
        except StopIteration:
            return
        # Without its header no row of the file can be read: that stops the build.
        if lines.too_long:
            too_long = line_too_long(lines.too_long[1], max_line_bytes, "characters")
            raise DataError(f"{too_long.detail} (the header line)", file=str(path), line=1)
        if any(has_undecodable(name) for name in header):
            raise DataError(_undecodable("", encoding).detail + " in the header line", file=str(path), line=1)
        yield from _delimited_rows(reader, lines, header, 0, delimiter, encoding, max_line_bytes)


def _reader(lines: _Lines, delimiter: str, quoting: int) -> Any:
    """``csv.reader``, or for TSV with quoting off a split at tabs: what ``csv.reader`` gives
    then, except that the csv module ends a row at a lone ``\r`` inside a line (or refuses it)."""
    if delimiter == "\t" and quoting == csv.QUOTE_NONE:
        return _TabReader(lines)
    return csv.reader(lines, delimiter=delimiter, quoting=quoting, strict=False)


class _TabReader:
    """Cells of one line per row, split at tabs, with ``line_num`` as ``csv.reader`` counts it."""

    def __init__(self, lines: _Lines):
        self._lines = iter(lines)
        self.line_num = 0

    def __iter__(self) -> _TabReader:
        return self

    def __next__(self) -> list[str]:
        line = next(self._lines)
        self.line_num += 1
        line = line[:-1] if line[-1:] == "\n" else line
        line = line[:-1] if line[-1:] == "\r" else line
        return line.split("\t") if line else []


def _delimited_rows(reader: Any, lines: _Lines, header: list[str], skip: int, delimiter: str, encoding: str,
                    max_line_bytes: int) -> Rows:
    """The rows after the header; ``skip`` lines of the file came before this stream (a chunk)."""
    header = [name.strip() for name in header]
    width = len(header)
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if lines.too_long:
            # A row is one line with quoting off, several with a quoted newline in a cell.
            over = [n for n in lines.too_long if line <= n < start]
            if over:
                yield over[0] + skip, line_too_long(lines.too_long[over[0]], max_line_bytes, "characters")
                lines.too_long.clear()
                continue
        if not cells or cells == [""]:
            continue
        if any(has_undecodable(cell) for cell in cells):
            yield line + skip, _undecodable(show_undecodable(delimiter.join(cells)), encoding)
            continue
        if len(cells) != width:
            yield line + skip, BadRow(
                "wrong_column_count",
                f"expected {width} columns ({', '.join(header)}), got {len(cells)}",
                delimiter.join(cells),
            )
            continue
        yield line + skip, dict(zip(header, cells, strict=True))
