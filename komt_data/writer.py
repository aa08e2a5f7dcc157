"""The output directory: written aside, renamed into place, never left half-done.

A build writes into a temporary sibling (``.out.tmp-<pid>``) and renames it over the
target only when everything is written, so a crash leaves the previous output or none.
``--overwrite`` only ever replaces a directory that holds a komt-data manifest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from .errors import OutputError

MANIFEST = "manifest.json"
REJECTED = "rejected.jsonl"
_TMP_MARK = ".tmp-"
_OLD_MARK = ".old-"


def is_komt_output(path: Path) -> bool:
    """Whether ``path`` is a directory written by komt-data (it holds our manifest)."""
    manifest = path / MANIFEST
    if not manifest.is_file():
        return False
    try:
        return "komt_data_version" in orjson.loads(manifest.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False


def check_target(output: Path, overwrite: bool) -> None:
    """Refuse an output path that exists and is not ours to replace."""
    if output.exists() and not output.is_dir():
        raise OutputError(f"{output} exists and is not a directory")
    for parent in output.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"cannot create {output}: {parent} is a file, not a directory")
            break
    if output.is_dir() and any(output.iterdir()):
        if not is_komt_output(output):
            raise OutputError(f"{output} is not empty and is not a komt-data output; "
                              "choose another --output (komt-data never deletes foreign files)")
        if not overwrite:
            raise OutputError(f"{output} already holds a build; pass --overwrite to replace it")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_leftovers(output: Path) -> list[Path]:
    """Remove temporary siblings that a killed build of ``output`` left behind.

    A build killed between its two renames (old output aside, new one into place)
    leaves no ``output`` but the previous one under ``.old-<pid>``: that one is put
    back, so a kill at any moment leaves the previous output or a complete new one.
    """
    removed = []
    parent = output.parent
    if not parent.is_dir():
        return removed
    for mark in (_OLD_MARK, _TMP_MARK):
        for path in sorted(parent.glob(f".{output.name}{mark}*")):
            pid = path.name.rsplit("-", 1)[-1]
            if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                if mark == _OLD_MARK and not output.exists() and is_komt_output(path):
                    os.rename(path, output)
                    continue
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


@contextmanager
def staged_output(output: Path, overwrite: bool) -> Iterator[Path]:
    """Yield a fresh temporary directory; on success it replaces ``output`` atomically.

    On any exception (Ctrl-C included) the temporary directory is removed and the
    previous output is left as it was.
    """
    output = output.resolve()
    clear_leftovers(output)
    check_target(output, overwrite)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.parent / f".{output.name}{_TMP_MARK}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        check_target(output, overwrite)  # the world may have changed during a long build
        old = output.parent / f".{output.name}{_OLD_MARK}{os.getpid()}"
        if output.exists():
            os.rename(output, old)
        os.rename(staging, output)
        _fsync_dir(output.parent)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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


def write_json(path: Path, data: Any) -> None:
    """Write JSON with Korean unescaped, keys in a stable order, a trailing newline (synced to disk)."""
    with open(path, "wb") as f:
        f.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
        f.flush()
        os.fsync(f.fileno())
