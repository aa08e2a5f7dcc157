"""The output directory: written aside, renamed into place, never left half-done.

A build writes into a temporary sibling (``.out.tmp-<pid>``) and renames it over the
target only when everything is written, so a crash leaves the previous output or none.

An output holds only what its build wrote: ``manifest.json`` lists every other file with
its size and xxh3-128 digest (``files``). ``--overwrite`` replaces a directory only when
every entry in it is such a file and each one still has its listed size and digest, and
then deletes exactly those files; a note, a ``checkpoints/`` folder or a recipe in the
output makes it refuse. A manifest is only believed as far as the files match it, so a
forged ``manifest.json`` cannot get anything else deleted.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import xxhash

from ..errors import Interrupted, OutputError

MANIFEST = "manifest.json"
REJECTED = "rejected.jsonl"
FILES = "files"  # the manifest key listing every file of the output but itself
_TMP_MARK = ".tmp-"
_OLD_MARK = ".old-"
# How many foreign entries a refusal names before "…".
_NAMED = 3


def is_komt_output(path: Path) -> bool:
    """Whether ``path`` is a directory written by komt-data (it holds our manifest)."""
    manifest = path / MANIFEST
    if not manifest.is_file():
        return False
    try:
        return "komt_data_version" in orjson.loads(manifest.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False


def content_digest(path: Path) -> str:
    """xxh3-128 of a file's bytes: it tells a changed file from an unchanged one (nothing
    here needs a cryptographic hash) at memory speed, about ten times sha256's on one core."""
    digest = xxhash.xxh3_128()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def list_files(directory: Path) -> dict[str, dict[str, Any]]:
    """What a finished output holds besides its manifest: relative POSIX path -> size and digest."""
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path != directory / MANIFEST:
            files[path.relative_to(directory).as_posix()] = {"bytes": path.stat().st_size,
                                                            "xxh3_128": content_digest(path)}
    return files


def member(output: Path, name: Any) -> Path:
    """The file ``name`` of a manifest inside ``output``; OutputError unless it is a plain
    relative path that stays inside (no ``..``, no absolute path, no symlink out)."""
    parts = name.split("/") if isinstance(name, str) else None
    if (not parts or "\\" in name or ":" in name or name.startswith("/")
            or any(part in ("", ".", "..") for part in parts)):
        raise OutputError(f"{output}/{MANIFEST} names {name!r}, which is not a file inside the output; "
                          "this manifest was not written by komt-data")
    path = output.joinpath(*parts)
    try:
        inside = path.resolve().is_relative_to(output.resolve())
    except OSError:
        inside = False
    if not inside:
        raise OutputError(f"{output}/{name} leads outside the output; this manifest was not written by komt-data")
    return path


def listed_files(output: Path, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``files`` of a manifest, each name checked by :func:`member`; OutputError when
    the manifest has no such list (an older komt-data, or not komt-data at all)."""
    files = manifest.get(FILES)
    if not isinstance(files, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("bytes"), int) and isinstance(v.get("xxh3_128"), str)
            for v in files.values()):
        raise OutputError(f"{output}/{MANIFEST} lists no files with their sizes and digests (written by an "
                          "older komt-data, or not by komt-data); komt-data only trusts or deletes files it can "
                          "verify: rebuild into a new --output, or remove this one yourself")
    for name in files:
        member(output, name)
    return files


def check_file(output: Path, name: str, entry: dict[str, Any], *, digest: bool = True) -> str | None:
    """Why ``output/name`` is not the file the manifest lists (None when it is): missing, not
    a regular file, another size, or (``digest``) other bytes."""
    path = output.joinpath(*name.split("/"))
    try:
        info = path.lstat()
    except FileNotFoundError:
        return "it is missing"
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file"
    if info.st_size != entry["bytes"]:
        return f"it has {info.st_size:,} bytes, the manifest says {entry['bytes']:,}"
    if digest and content_digest(path) != entry["xxh3_128"]:
        return "its content differs from the digest in the manifest"
    return None


def verify_files(output: Path, manifest: dict[str, Any], names: Iterable[str] | None = None) -> None:
    """Check that the files of ``manifest`` (or only ``names`` of them) are in ``output`` as
    they were written: size and xxh3-128. OutputError naming the first that is not."""
    files = listed_files(output, manifest)
    for name in files if names is None else names:
        entry = files.get(name)
        if entry is None:
            member(output, name)
            raise OutputError(f"{output}/{MANIFEST} names {name} but does not list its size and digest")
        problem = check_file(output, name, entry)
        if problem is not None:
            raise OutputError(f"{output}/{name} is not the file komt-data wrote: {problem}; "
                              "rebuild the output")


def _entries(directory: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry under ``directory`` (symlinks not followed): relative POSIX path, lstat."""
    for root, dirs, names in os.walk(directory):
        for name in sorted(dirs) + sorted(names):
            path = Path(root, name)
            yield path.relative_to(directory).as_posix(), path.lstat()


# (size, modification time, inode) of each verified file: seen unchanged, not hashed again.
Verified = dict[str, tuple[int, int, int]]


def verify_replaceable(output: Path, known: Verified | None = None) -> Verified:
    """Check that ``output`` holds nothing but the files its manifest lists, each as it was
    written; return what was verified. OutputError (one line) on anything else.

    ``known``: files verified earlier; one whose size, time and inode are unchanged is not
    hashed again (a build checks before it starts and once more before it replaces).
    """
    if not is_komt_output(output):
        raise OutputError(f"{output} is not empty and is not a komt-data output; "
                          "choose another --output (komt-data never deletes foreign files)")
    manifest = orjson.loads((output / MANIFEST).read_bytes())
    files = listed_files(output, manifest)
    parents = {"/".join(name.split("/")[:k]) for name in files for k in range(1, name.count("/") + 1)}
    foreign: list[str] = []
    verified: Verified = {}
    for name, info in _entries(output):
        if name == MANIFEST:
            continue
        if name in parents and stat.S_ISDIR(info.st_mode):
            continue
        if name not in files:
            foreign.append(name + ("/" if stat.S_ISDIR(info.st_mode) else ""))
            continue
        seen = (info.st_size, info.st_mtime_ns, info.st_ino)
        problem = check_file(output, name, files[name], digest=(known or {}).get(name) != seen)
        if problem is not None:
            raise OutputError(f"{output}/{name} is not the file komt-data wrote ({problem}); --overwrite only "
                              "deletes files it can verify: move it out of the output, or choose another --output")
        verified[name] = seen
    # Only the topmost foreign entry of a foreign folder is worth naming.
    foreign = [n for n in foreign if not any(n.startswith(f) for f in foreign if f.endswith("/") and f != n)]
    if foreign:
        named = ", ".join(foreign[:_NAMED]) + (f" and {len(foreign) - _NAMED} more" if len(foreign) > _NAMED else "")
        raise OutputError(f"{output} holds files komt-data did not write ({named}); --overwrite only deletes "
                          "the files its manifest.json lists: move them out, or choose another --output")
    return verified


def check_target(output: Path, overwrite: bool, known: Verified | None = None) -> Verified:
    """Refuse an output path that exists and is not ours to replace; return what was
    verified of a previous output (see :func:`verify_replaceable`)."""
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
        return verify_replaceable(output, known)
    return {}


def remove_output(output: Path) -> bool:
    """Delete the files the manifest of ``output`` lists, then the manifest, then the folders
    left empty; nothing else. True when ``output`` is gone (nothing foreign was in it)."""
    try:
        manifest = orjson.loads((output / MANIFEST).read_bytes())
        files = listed_files(output, manifest)
    except (OSError, orjson.JSONDecodeError, OutputError):
        return False
    for name in files:
        path = output.joinpath(*name.split("/"))
        if path.is_file() and not path.is_symlink():
            path.unlink()
    (output / MANIFEST).unlink(missing_ok=True)
    for root, _dirs, _names in sorted(os.walk(output), key=lambda entry: -len(entry[0])):
        try:
            os.rmdir(root)  # only when empty: a foreign file keeps its folder
        except OSError:
            pass
    return not output.exists()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(output: Path, mark: str) -> list[tuple[Path, int]]:
    """Siblings ``.<name><mark><pid>`` of ``output``: matched by exact prefix and a number,
    never by a glob of the output's name (``out[1]`` or ``o*`` would match other builds')."""
    prefix = f".{output.name}{mark}"
    found = []
    try:
        names = sorted(os.listdir(output.parent))
    except OSError:
        return found
    for name in names:
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            found.append((output.parent / name, int(name[len(prefix):])))
    return found


def clear_leftovers(output: Path) -> list[Path]:
    """Remove temporary siblings that a killed build of ``output`` left behind.

    A build killed between its two renames (old output aside, new one into place)
    leaves no ``output`` but the previous one under ``.old-<pid>``: that one is put
    back, so a kill at any moment leaves the previous output or a complete new one.
    Of a previous output only the files its manifest lists are deleted.
    """
    removed = []
    if not output.parent.is_dir():
        return removed
    for mark in (_OLD_MARK, _TMP_MARK):
        for path, pid in _leftovers(output, mark):
            if pid == os.getpid() or _pid_alive(pid):
                continue
            if mark == _OLD_MARK:
                if not output.exists() and is_komt_output(path):
                    os.rename(path, output)
                elif remove_output(path):
                    removed.append(path)
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


@contextmanager
def staged_output(output: Path, overwrite: bool) -> Iterator[Path]:
    """Yield a fresh temporary directory; on success it replaces ``output`` atomically.

    On any exception (Ctrl-C included) before the new output is in place the temporary
    directory is removed and the previous output is left as it was. Once it is in place
    the build has succeeded: an interrupt while the previous output's files are deleted
    stops that deletion (the next build finishes it) and is not raised.
    """
    output = output.resolve()
    clear_leftovers(output)
    verified = check_target(output, overwrite)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.parent / f".{output.name}{_TMP_MARK}{os.getpid()}"
    old = output.parent / f".{output.name}{_OLD_MARK}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        check_target(output, overwrite, verified)  # the world may have changed during a long build
        if output.exists():
            os.rename(output, old)
        os.rename(staging, output)
    except BaseException as exc:
        # Whether the new output is in place is read from the disk, not from a flag: a
        # signal may arrive between the rename and the next statement.
        if staging.exists() or not output.exists():
            if old.exists() and not output.exists():
                os.rename(old, output)
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if not isinstance(exc, (KeyboardInterrupt, Interrupted)):
            raise
    try:
        _fsync_dir(output.parent)
        if old.exists():
            remove_output(old)
    except (KeyboardInterrupt, Interrupted, OSError):
        pass  # the new output is complete; the next build clears what is left of the old one


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


def write_json(path: Path, data: Any) -> None:
    """Write JSON with Korean unescaped, keys in a stable order, a trailing newline (synced to disk)."""
    with open(path, "wb") as f:
        f.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
        f.flush()
        os.fsync(f.fileno())


def load_manifest(output: str | Path) -> dict[str, Any]:
    """The manifest of a komt-data output directory; OutputError when it is not one."""
    output = Path(output)
    if not is_komt_output(output):
        raise OutputError(f"{output} is not a komt-data output (no manifest.json written by komt-data)")
    return orjson.loads((output / MANIFEST).read_bytes())


def load_verified(output: str | Path) -> dict[str, Any]:
    """The manifest of an output whose shards and rejected.jsonl are checked against it
    (inside the output, listed size and digest) before anything reads them: ``export``,
    ``audit`` and :func:`komt_data.open` trust nothing else. OutputError otherwise."""
    output = Path(output)
    manifest = load_manifest(output)
    shards = manifest.get("shards")
    if not isinstance(manifest.get("tasks"), dict) or not isinstance(manifest.get("splits"), dict) \
            or not isinstance(shards, list) or not all(isinstance(s, dict) and isinstance(s.get("path"), str)
                                                       for s in shards):
        raise OutputError(f"{output}/{MANIFEST} is incomplete (it needs tasks, splits and shards with their "
                          "paths): rebuild the output")
    verify_files(output, manifest, [s["path"] for s in shards] + ([REJECTED] if (output / REJECTED).is_file() else []))
    return manifest
