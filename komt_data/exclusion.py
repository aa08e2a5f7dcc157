"""``source.exclude``: the keys of a dataset's evaluation split, read once per task.

A source that holds a dataset's evaluation rows among its training rows (NSMC's raw/*.json
hold the 50,000 reviews of ratings_test.txt) names the evaluation file; its rows are dropped
as ``evaluation_split`` before the adapter sees them, like any other drop (manifest count,
rejected.jsonl with file:line).

The keys are held in memory as a dict of strings: NSMC's 50,000 ids take about 5 MB. A file
with more than ``MAX_EXCLUDED_KEYS`` distinct keys is refused rather than filling memory.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from .config.schema import Exclude
from .errors import DataError
from .sources import BadRow, read_unit, resolve_encoding, units_of

MAX_EXCLUDED_KEYS = 5_000_000  # ~400 MB of strings at most; an evaluation split is far smaller

# Read once per task and process: keyed by the config and the files' size and mtime, so a
# changed exclusion file is read again (a long-lived process, the tests) and never stale.
_cache: dict[tuple, Mapping[str, str]] = {}


def key_text(value: object) -> str | None:
    """How a key compares: as text, so a JSON number 8544678 matches a TSV cell "8544678"."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def excluded_keys(exclude: Exclude) -> Mapping[str, str]:
    """Every value of ``exclude.column`` in the exclusion files, with the names of the files
    it is in (``dev.tsv``, ``dev.tsv, test.tsv``: what rejected.jsonl says of a row held out)."""
    stamp = tuple((str(p), Path(p).stat().st_mtime_ns, Path(p).stat().st_size) for p in exclude.source.files)
    cached = _cache.get((exclude, stamp))
    if cached is not None:
        return cached
    keys: dict[str, str] = {}
    for unit in units_of(exclude.source):
        label = str(unit.path)
        name = Path(label).name
        for position, row in read_unit(unit, resolve_encoding(unit)):
            # A row of the evaluation split that cannot be read could not be excluded: stop.
            if type(row) is BadRow:
                raise DataError(f"exclusion file row unreadable ({row.reason}: {row.detail})", file=label,
                                line=position)
            value = key_text(row.get(exclude.column)) if isinstance(row, Mapping) else None
            if value is None:
                raise DataError(f"exclusion file row has no column '{exclude.column}' (source.exclude.column)",
                                file=label, line=position)
            found = keys.get(value)
            if found is None:
                keys[value] = name  # one string object per file: a key costs its dict slot only
            elif found != name and not found.endswith(f", {name}"):  # a file's rows come together
                keys[value] = f"{found}, {name}"
            if len(keys) > MAX_EXCLUDED_KEYS:
                raise DataError(f"more than {MAX_EXCLUDED_KEYS:,} keys to exclude: is this an evaluation split?",
                                file=label, line=position)
    result = MappingProxyType(keys)
    _cache.clear()  # one task's set at a time per process is enough; tasks run one after another
    _cache[(exclude, stamp)] = result
    return result
