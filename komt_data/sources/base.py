"""What every reader yields, and how text files are opened.

A reader is a generator of ``(position, row)`` pairs for one file: ``position`` is the
1-based line for line formats and the 1-based row for the others; ``row`` is a dict,
or a :class:`BadRow` when that row cannot be read. Readers never stop on a bad row:
the builder decides whether to skip it or fail.
"""

from __future__ import annotations

import codecs
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..storage import URL, open_url

Rows = Iterator[tuple[int, "dict[str, Any] | BadRow"]]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class BadRow:
    """A row that could not be read: why (a manifest reason), what exactly, and its raw text."""

    reason: str
    detail: str
    raw: str | None = None


def open_binary(path: Path | URL) -> IO[bytes]:
    """Open a file (or an fsspec URL) for reading bytes, transparently un-gzipping ``.gz``."""
    if isinstance(path, URL):
        return open_url(path)
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


def detect_encoding(path: Path) -> str:
    """The encoding ``auto`` resolves to: BOM, then UTF-8 if the whole file decodes, else cp949."""
    with open_binary(path) as f:
        head = f.read(3)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk = head
        try:
            while chunk:
                decoder.decode(chunk)
                chunk = f.read(_CHUNK)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp949"
    return "utf-8"


def open_text(path: Path, encoding: str) -> IO[str]:
    """Open a text file in ``encoding`` (already resolved from ``auto``), newline-preserving.

    Undecodable bytes become U+FFFD so that one bad line is reported, not the whole file.
    A UTF-8 BOM is always dropped, so it can never reach a column name.
    """
    if encoding == "utf-8":
        encoding = "utf-8-sig"
    return io.TextIOWrapper(open_binary(path), encoding=encoding, errors="replace", newline="")
