"""Every input format komt-data reads, in one table: its reader and what the rest of the
build needs to know about it.

A :class:`Reader` says which file extensions it is inferred from, whether a row's position
is a line number (``line_based``: rejected.jsonl then says ``line``), whether a large file
can be cut at line starts for parallel workers (``splittable``: a line is always a row
boundary), whether the file carries its own encoding (``binary``), and the cell delimiter
of delimited text (csv / tsv: the formats ``quoting`` applies to). The order of
:data:`READERS` is the order messages list the formats in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..config.schema import SourceConfig
from ..errors import ConfigError
from .aihub import read_aihub_summary
from .base import Rows
from .documents import read_json, read_parquet, read_squad
from .klue_ner import read_klue_ner
from .lines import read_delimited, read_jsonl
from .text_pair import read_text_pair
from .xlsx import read_xlsx

#: (path, source, encoding, span of a chunk or None, max line bytes, max document bytes) -> rows
ReadFunction = Callable[[Path, SourceConfig, str, "tuple[int, int, int] | None", int, int], Rows]


@dataclass(frozen=True)
class Reader:
    """One input format (``source.format``)."""

    name: str
    read: ReadFunction
    extensions: tuple[str, ...] = ()  # lower-case suffixes it is inferred from (".gz" stripped first)
    line_based: bool = False          # one line, one position: positions are line numbers
    splittable: bool = False          # a line is always a row boundary (see sources.chunks)
    binary: bool = False              # a container with its own encoding (UTF-8 inside)
    delimiter: str | None = None      # csv / tsv: the cell delimiter, and ``quoting`` applies


READERS: dict[str, Reader] = {reader.name: reader for reader in (
    Reader("json", lambda path, source, encoding, span, line, document:
           read_json(path, encoding, source.records, document), extensions=(".json",)),
    Reader("jsonl", lambda path, source, encoding, span, line, document:
           read_jsonl(path, encoding, line, span), extensions=(".jsonl",), line_based=True, splittable=True),
    # A CSV cell may hold a quoted newline, so a CSV file is never cut at line starts.
    Reader("csv", lambda path, source, encoding, span, line, document:
           read_delimited(path, encoding, ",", line, quoting=source.quoting_of("csv")),
           extensions=(".csv",), line_based=True, delimiter=","),
    Reader("tsv", lambda path, source, encoding, span, line, document:
           read_delimited(path, encoding, "\t", line, span, quoting=source.quoting_of("tsv")),
           extensions=(".tsv", ".txt"), line_based=True, splittable=True, delimiter="\t"),
    Reader("parquet", lambda path, source, encoding, span, line, document: read_parquet(path),
           extensions=(".parquet",), binary=True),
    Reader("squad", lambda path, source, encoding, span, line, document: read_squad(path, encoding, document)),
    Reader("xlsx", lambda path, source, encoding, span, line, document: read_xlsx(path, source.sheet, document),
           extensions=(".xlsx",), binary=True),
    Reader("aihub-summary", lambda path, source, encoding, span, line, document:
           read_aihub_summary(path, encoding, document)),
    Reader("text-pair", lambda path, source, encoding, span, line, document:
           read_text_pair(path, source.languages, encoding, source.encoding, line), line_based=True),
    Reader("klue-ner", lambda path, source, encoding, span, line, document: read_klue_ner(path, encoding, line),
           line_based=True),
)}


def format_names() -> list[str]:
    """Every ``source.format`` name, in the order messages list them."""
    return list(READERS)


def extension_of(path: Path) -> str:
    """A file's lower-case suffix, ``.gz`` stripped first (``a.jsonl.gz`` -> ``.jsonl``)."""
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    return Path(name).suffix.lower()


def format_of(source: SourceConfig, path: Path) -> str:
    """The format a file of ``source`` is read in: the configured one, else from its extension."""
    if source.format:
        return source.format
    ext = extension_of(path)
    for reader in READERS.values():
        if ext in reader.extensions:
            return reader.name
    raise ConfigError(f"cannot infer the format of {path.name}; set source.format to one of {', '.join(READERS)}")


def reader_of(source: SourceConfig, path: Path) -> Reader:
    """The :class:`Reader` of a file of ``source``."""
    return READERS[format_of(source, path)]


def splittable(source: SourceConfig, path: Path) -> bool:
    """Whether ``path`` can be cut at line starts: its format's lines are row boundaries, and
    no cell is quoted (``quoting: csv`` lets a cell hold a newline)."""
    reader = reader_of(source, path)
    return reader.splittable and not (reader.delimiter is not None and source.quoting_of(reader.name) == "csv")
