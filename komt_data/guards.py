"""Guards that stop a build before it does harm: a budget of bad rows, and where output may go.

``--max-errors`` turns "skip bad rows" into "skip a few bad rows": a whole number is the
most rows the build may reject at reading (over all inputs), a fraction below 1 the most
any one input file may lose. Past it the build stops with a :class:`DataError` (exit 2)
and leaves no output, because a corpus that is mostly garbage usually means a wrong
format, encoding or field map, not dirty data.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .config import Recipe
from .errors import ConfigError, DataError, OutputError
from .storage import URL


def parse_max_errors(value: str | int | float | None) -> int | float | None:
    """``--max-errors`` as a whole number of rows, or a fraction in (0, 1) (``0.05`` or ``5%``).

    None means no limit.
    """
    if value is None:
        return None
    text = str(value).strip()
    try:
        if text.endswith("%"):
            number: int | float = float(text[:-1]) / 100
        elif isinstance(value, float) or any(ch in text for ch in ".eE"):
            number = float(text)
        else:
            number = int(text)
    except ValueError:
        raise ConfigError(f"--max-errors must be a number of rows or a fraction like 0.05, got {value!r}") from None
    if isinstance(number, float) and not 0 < number < 1:
        raise ConfigError(f"--max-errors as a fraction must be above 0 and below 1, got {value!r}")
    if isinstance(number, int) and number < 0:
        raise ConfigError(f"--max-errors must not be negative, got {value!r}")
    return number


def _top(reasons: Counter) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in reasons.most_common(3))


class ErrorBudget:
    """Counts rows rejected at reading and raises DataError once ``--max-errors`` is exceeded."""

    def __init__(self, max_errors: int | float | None):
        self.max_errors = max_errors
        self.total: Counter = Counter()

    def rejected(self, reason: str, label: str, position: int | None) -> None:
        """Count one rejected row; its file ``label`` and line ``position`` name it if this
        one is one too many."""
        self.total[reason] += 1
        limit = self.max_errors
        if isinstance(limit, int) and sum(self.total.values()) > limit:
            where = f"{label}:{position}"
            raise DataError(f"more than {limit} bad rows, the build stopped at {where} (--max-errors {limit}); "
                            f"most common: {_top(self.total)}. Rerun with --on-error fail to see the first one")

    def unit_done(self, label: str, rows: int, reasons: Counter) -> None:
        """At the end of one input file: stop if it lost more than the allowed fraction."""
        limit = self.max_errors
        bad = sum(reasons.values())
        if isinstance(limit, float) and rows and bad / rows > limit:
            raise DataError(f"{bad:,} of {rows:,} rows rejected ({bad / rows:.1%}), over --max-errors {limit:g}; "
                            f"most common: {_top(reasons)}", file=label)


    def check_segments(self, segments: list) -> None:
        """The same limits, applied once stage 1 ran elsewhere (the ray engine): ``segments``
        are the builder's per-unit results, in recipe order."""
        limit = self.max_errors
        total: Counter = Counter()
        for segment in segments:
            total.update(segment.dropped)
        if isinstance(limit, int) and sum(total.values()) > limit:
            raise DataError(f"{sum(total.values()):,} bad rows, more than --max-errors {limit}; "
                            f"most common: {_top(total)}. Rerun with --on-error fail to see the first one")
        for segment in segments:
            self.unit_done(segment.label, segment.read + segment.expanded, segment.dropped)


def local_path(file: Path | URL) -> Path | None:
    """Where an input is on this machine: a path, or a ``file://`` (``local://``) URL's path;
    None for remote storage."""
    if isinstance(file, Path):
        return file
    if isinstance(file, URL) and file.url.split("://", 1)[0].lower() in ("file", "local"):
        parsed = urlsplit(file.url)
        return Path(unquote(parsed.netloc + parsed.path) if parsed.netloc not in ("", "localhost")
                    else unquote(parsed.path))
    return None


def _recipe_files(recipe: Recipe) -> list[tuple[Path, str]]:
    """The files that describe a build (recipes, task configs, templates, evaluation sets,
    a local tokenizer), each with what it is."""
    found: list[tuple[Path, str]] = []
    stack = [recipe]
    while stack:
        part = stack.pop()
        stack.extend(part.parts)
        if part.path is not None:
            found.append((Path(part.path), "recipe"))
    for ref in recipe.tasks:
        found.append((ref.config.path, f"task config of '{ref.config.name}'"))
        found.append((Path(ref.config.templates), f"template set of '{ref.config.name}'"))
    if recipe.decontaminate is not None:
        for spec in recipe.decontaminate.sets:
            found += [(p, "evaluation set") for p in map(local_path, spec.files) if p is not None]
    if recipe.tokenizer and Path(recipe.tokenizer).exists():
        found.append((Path(recipe.tokenizer), "tokenizer"))
    return found


def check_output_location(output: Path, recipe: Recipe) -> None:
    """Refuse an output directory that holds an input, or lies inside a directory of inputs.

    An input is any file the build reads: a data file (a ``file://`` URL included), the
    recipe, a task config, a template set, an evaluation set, a local tokenizer. A data
    directory is the folder of a task's input files, when that is not the task config's
    own folder (files next to their config are the common quick case and stay allowed), or
    a local dataset folder read with ``hub:``. Output there would be read back as input by
    the next build of a glob or a dataset folder, and ``--overwrite`` there could replace
    inputs.
    """
    out = output.resolve()
    for path, what in _recipe_files(recipe):
        path = path.resolve()
        if out == path or out in path.parents:
            raise OutputError(f"--output {output} would hold {path}, the {what}; "
                              "write the output somewhere else")
    for ref in recipe.tasks:
        task = ref.config
        config_dir = task.path.resolve().parent
        data_dirs: set[Path] = set()
        if task.source.hub and Path(task.source.hub).is_dir():
            data_dirs.add(Path(task.source.hub).resolve())
        for file in map(local_path, task.source.files):
            if file is None:  # a URL on shared storage is nowhere near a local output
                continue
            file = file.resolve()
            if out == file or out in file.parents:
                raise OutputError(f"--output {output} would hold input file {file} of task '{task.name}'; "
                                  "write the output somewhere else")
            if file.parent != config_dir:
                data_dirs.add(file.parent)
        for data_dir in sorted(data_dirs):
            if out == data_dir or data_dir in out.parents:
                raise OutputError(f"--output {output} is inside {data_dir}, which holds the inputs of task "
                                  f"'{task.name}'; write the output outside the input directory")
