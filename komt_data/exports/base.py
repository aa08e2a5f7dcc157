"""The export-format contract and its registry.

An :class:`ExportFormat` writes the records of one split, in order, into files of the
output directory and says which files it wrote. Records arrive as komt record dicts
(id, task, template, instruction, output, text), so a new format is one small
function of a record plus a file layout.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..plugins import load_entry_points

ShardEntry = dict[str, Any]


def shard_name(split: str, index: int, count: int, ext: str = "jsonl") -> str:
    """Hugging Face hub style shard name: ``train-00000-of-00004.jsonl``."""
    return f"{split}-{index:05d}-of-{count:05d}.{ext}"


def shard_names(split: str, count: int) -> list[str]:
    """The names of a split's ``count`` JSONL shards."""
    return [shard_name(split, i, count) for i in range(count)]


def file_sha256(path: Path) -> str:
    """The sha256 (hex) of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_blocks(path: Path, blocks: Iterable[bytes]) -> str:
    """Write byte blocks to ``path``, flush them to disk, and return the file's sha256 (hex)."""
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for block in blocks:
            digest.update(block)
            f.write(block)
        f.flush()
        os.fsync(f.fileno())
    return digest.hexdigest()


@dataclass(frozen=True)
class ExportFormat:
    """One output format.

    ``write(records, directory, split, total, shard_size)`` writes ``total`` records of
    ``split`` and returns manifest shard entries (path, split, records, sha256).
    ``card_glob`` is the file pattern of a split for the dataset card's ``data_files``;
    ``llama_factory`` is the LLaMA-Factory ``dataset_info.json`` entry minus its
    ``file_name`` (None when LLaMA-Factory cannot read the format directly).
    """

    name: str
    description: str
    consumer: str
    write: Callable[[Iterable[dict[str, Any]], Path, str, int, int], list[ShardEntry]]
    card_glob: Callable[[str], str]
    llama_factory: dict[str, Any] | None = None


_FORMATS: dict[str, ExportFormat] = {}
ENTRY_POINT_GROUP = "komt_data.formats"


def register_format(fmt: ExportFormat) -> ExportFormat:
    """Register ``fmt`` under its name; another format under a taken name is an error."""
    existing = _FORMATS.get(fmt.name)
    if existing is not None and existing is not fmt:
        raise ConfigError(f"export format '{fmt.name}' is already registered ({existing.description})")
    _FORMATS[fmt.name] = fmt
    return fmt


def _add_plugin(name: str, value: Any) -> None:
    # The entry point names an ExportFormat, or a callable returning one (built lazily).
    fmt = value if isinstance(value, ExportFormat) else value() if callable(value) else value
    if not isinstance(fmt, ExportFormat):
        raise ConfigError(f"plugin export format '{name}' must be a komt_data.exports.ExportFormat, got {fmt!r}")
    if fmt.name != name:
        raise ConfigError(f"plugin export format '{name}' is named '{fmt.name}'; the entry point must use its name")
    register_format(fmt)


def _load_plugins() -> None:
    load_entry_points(ENTRY_POINT_GROUP, _add_plugin, have=_FORMATS.__contains__, what="export format")


def get_format(name: str) -> ExportFormat:
    """The export format called ``name``; ConfigError listing the known ones otherwise."""
    if name not in _FORMATS:
        _load_plugins()
    try:
        return _FORMATS[name]
    except KeyError:
        raise ConfigError(f"unknown output format '{name}' (have: {', '.join(format_names())})") from None


def format_names() -> list[str]:
    """Names of every registered export format, plugins included, in registration order (komt first)."""
    _load_plugins()
    return list(_FORMATS)


def chunks(records: Iterable[dict[str, Any]], total: int, shard_size: int) -> Iterator[tuple[int, int, Iterator]]:
    """Split a record stream into ``(index, count, sub-iterator)`` shards of ``shard_size``."""
    count = max(1, -(-total // shard_size))
    iterator = iter(records)
    for index in range(count):
        size = max(0, min(shard_size, total - index * shard_size))
        yield index, count, (next(iterator) for _ in range(size))
