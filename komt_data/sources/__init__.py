"""Readers: from a task's source to ``(position, row)`` pairs, one input unit at a time.

A unit is one local file or one hub split; units are what parallel workers share out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config.schema import SourceConfig
from .base import MAX_DOCUMENT_BYTES, MAX_LINE_BYTES, BadRow, Rows, detect_encoding
from .documents import dig
from .hub import read_hub
from .registry import reader_of

__all__ = ["MAX_DOCUMENT_BYTES", "MAX_LINE_BYTES", "BadRow", "Rows", "Unit", "dig", "read_unit", "units_of"]


@dataclass(frozen=True)
class Unit:
    """One file (or hub split) of one source, the grain of reading and of parallel work."""

    source: SourceConfig
    path: Path | None = None
    # A chunk of a large line-format file: (start byte, end byte, number of its first line).
    span: tuple[int, int, int] | None = None
    # The dataset's own split this unit belongs to (a hub unit loads it), and the output
    # split its records go to: train, or validation / test as they are (not sampled).
    split: str = "train"
    output_split: str = "train"

    @property
    def label(self) -> str:
        """How provenance names this unit: the file path, or ``hub:name/config:split``."""
        if self.path is not None:
            return str(self.path)
        src = self.source
        return f"hub:{src.hub}" + (f"/{src.config}" if src.config else "") + f":{self.split}"


def units_of(source: SourceConfig) -> list[Unit]:
    """The units of a source, in a fixed order (held-out splits first, then train; files
    were sorted when the config was read)."""
    if source.hub:
        return [Unit(source, split=split, output_split=target) for split, target in source.hub_reads()]
    units = []
    for index, path in enumerate(source.files):
        split, target = source.split_of(index)
        units.append(Unit(source, path, split=split, output_split=target))
    return units


def resolve_encoding(unit: Unit) -> str:
    """The encoding a unit is read in, with ``auto`` resolved by looking at the file."""
    if unit.path is None or reader_of(unit.source, unit.path).binary:
        # Binary containers carry their own encoding (UTF-8 inside parquet and xlsx XML).
        return "utf-8"
    if unit.source.encoding == "auto":
        return detect_encoding(unit.path)
    return unit.source.encoding


def read_unit(unit: Unit, encoding: str, max_line_bytes: int = MAX_LINE_BYTES,
              max_document_bytes: int = MAX_DOCUMENT_BYTES) -> Rows:
    """All rows of one unit, in file order; line formats reject lines over ``max_line_bytes``,
    formats read whole refuse a file over ``max_document_bytes``."""
    if unit.path is None:
        return read_hub(unit.source, unit.split)
    reader = reader_of(unit.source, unit.path)
    return reader.read(unit.path, unit.source, encoding, unit.span, max_line_bytes, max_document_bytes)
