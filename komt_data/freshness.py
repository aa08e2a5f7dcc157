"""Is the output already up to date? Same recipe, same inputs by content, same version and seed.

The build fingerprint is a sha256 over the recipe fingerprint (komt-data version, seed,
recipe, task configs and template files, weights and caps), the content digest (xxh3-128)
of every input file, of each task's adapter module and of a local tokenizer, and the
options that change the result (``limit``, ``on_error``). A remote hub dataset cannot be
hashed by content without downloading it, so a recipe that reads one is never considered
up to date.

An output is up to date only when its files are still the ones the build wrote: every file
``manifest.json`` lists is checked by size and xxh3-128 digest. That reads the whole output
once, at the speed the inputs are hashed (about 1.4 GB/s on one core here, where sha256
runs at 145 MB/s): a truncated, appended or edited shard is noticed, and not "up to date".
"""
from __future__ import annotations

import hashlib
import inspect
from pathlib import Path
from typing import Any

import orjson

from ._version import __version__
from .adapters import get_adapter
from .config import Recipe
from .errors import OutputError
from .sources import units_of
from .storage import URL
from .write.output_dir import MANIFEST, content_digest, is_komt_output, verify_files


def recipe_fingerprint(recipe: Recipe, seed: int) -> str:
    """The sha256 of what shapes the mix: komt-data version, seed, every recipe file (included
    ones too), task config and template set, weights, caps, few-shot settings and evaluation
    sets. It reads all those files, so a build computes it once (manifest.json keeps it as
    ``recipe_fingerprint``; :func:`build_fingerprint` covers it)."""
    digest = hashlib.sha256(f"komt-data {__version__}\nseed {seed}\n".encode())
    files: list[Path] = [recipe.path] if recipe.path else []
    for ref in recipe.tasks:
        files += [ref.config.path, ref.config.templates]
        digest.update(f"{ref.config.name} weight={ref.weight} cap={ref.cap}\n".encode())
        if ref.fewshot is not None:  # (a recipe made in code has no file to digest)
            digest.update(f"{ref.config.name} fewshot={ref.fewshot}\n".encode())
    stack = list(recipe.parts)
    while stack:  # included recipes (submixtures) shape the mix too
        part = stack.pop()
        stack.extend(part.parts)
        if part.path is not None:
            files.append(part.path)
    if recipe.decontaminate is not None:
        for spec in recipe.decontaminate.sets:
            files += list(spec.files)
            pin = f" revision={spec.revision}" if spec.revision is not None else ""  # (a recipe made in code)
            digest.update(f"eval {spec.name} {spec.hub} {spec.configs} {spec.split} {spec.fields}{pin}\n".encode())
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def input_files(recipe: Recipe) -> list[Path] | None:
    """Every local file the recipe reads, or None when a source is a remote hub dataset or URL."""
    files: list[Path] = []
    for ref in recipe.tasks:
        source = ref.config.source
        if source.hub is not None:
            local = Path(source.hub)
            if not local.is_dir():
                return None
            files += sorted(p for p in local.rglob("*") if p.is_file())
            if source.exclude is not None:
                files += list(source.exclude.source.files)
            continue
        paths = [unit.path for unit in units_of(source) if unit.path is not None]
        if source.exclude is not None:  # the evaluation rows dropped decide the output too
            paths += list(source.exclude.source.files)
        if any(isinstance(path, URL) for path in paths):
            return None  # shared storage, like a hub dataset: not hashed here, so always rebuilt
        files += paths
    return files


def build_fingerprint(recipe: Recipe, recipe_fingerprint: str, **options: Any) -> str | None:
    """sha256 over the recipe fingerprint, input contents and ``options``; None when not knowable."""
    files = input_files(recipe)
    if files is None:
        return None
    digest = hashlib.sha256(f"{recipe_fingerprint}\n{sorted(options.items())!r}\n".encode())
    for path in [*files, *_code_and_tokenizer_files(recipe)]:
        digest.update(f"{path.name}\0{content_digest(path)}\n".encode())
    return digest.hexdigest()


def _code_and_tokenizer_files(recipe: Recipe) -> list[Path]:
    """The adapter modules (a plugin or a local adapter can change without a version bump)
    and a local tokenizer's files (they decide the token filters)."""
    paths: list[Path] = []
    for ref in recipe.tasks:
        try:
            module_file = inspect.getsourcefile(get_adapter(ref.config.adapter))
        except (TypeError, OSError):  # a class built at run time has no file: nothing to hash
            module_file = None
        if module_file and Path(module_file).is_file():
            paths.append(Path(module_file))
    if recipe.tokenizer:
        local = Path(recipe.tokenizer)
        if local.is_file():
            paths.append(local)
        elif local.is_dir():
            paths += sorted(p for p in local.rglob("*") if p.is_file())
    return list(dict.fromkeys(paths))


def current_manifest(output: Path, fingerprint: str | None) -> dict[str, Any] | None:
    """The manifest in ``output`` when it was built with ``fingerprint`` and its files are
    all there as they were written (size and digest)."""
    if fingerprint is None or not is_komt_output(output):
        return None
    manifest = orjson.loads((output / MANIFEST).read_bytes())
    if manifest.get("build_fingerprint") != fingerprint:
        return None
    try:
        verify_files(output, manifest)
    except OutputError:
        return None
    return manifest
