"""Line formats: JSON Lines, and CSV / TSV with a header row."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import orjson

from .base import BadRow, Rows, open_binary, open_text

# Korean corpora have long documents in one cell; the csv module's default cap is 128 KB.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def read_jsonl(path: Path, encoding: str) -> Rows:
    """One JSON object per line; blank lines are skipped, not counted."""
    if encoding in ("utf-8", "utf-8-sig"):
        with open_binary(path) as f:
            for number, line in enumerate(f, 1):
                if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
                if not line.strip():
                    continue
                yield number, _parse_json_line(line)
    else:
        with open_text(path, encoding) as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                yield number, _parse_json_line(line)


def _parse_json_line(line: bytes | str) -> dict | BadRow:
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raw = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
        if isinstance(line, bytes) and "utf-8" in str(exc).lower():
            return BadRow("undecodable", "bytes that are not UTF-8", raw.rstrip("\r\n"))
        return BadRow("invalid_json", f"invalid JSON: {exc}", raw.rstrip("\r\n"))
    if not isinstance(row, dict):
        return BadRow("invalid_json", f"expected a JSON object, got {type(row).__name__}", None)
    return row


def read_delimited(path: Path, encoding: str, delimiter: str) -> Rows:
    """CSV (RFC 4180 quoting) or TSV (quoting off: Korean TSVs carry stray quote characters)."""
    quoting = csv.QUOTE_MINIMAL if delimiter == "," else csv.QUOTE_NONE
    with open_text(path, encoding) as f:
        reader = csv.reader(f, delimiter=delimiter, quoting=quoting, strict=False)
        try:
            header = next(reader)
        except StopIteration:
            return
        header = [name.strip() for name in header]
        width = len(header)
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not cells or cells == [""]:
                continue
            if len(cells) != width:
                yield line, BadRow(
                    "wrong_column_count",
                    f"expected {width} columns ({', '.join(header)}), got {len(cells)}",
                    delimiter.join(cells),
                )
                continue
            yield line, dict(zip(header, cells, strict=True))
