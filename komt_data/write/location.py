"""Where a build's output may go: never over or inside its inputs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..config import Recipe
from ..errors import OutputError
from ..storage import URL


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
