"""Inputs on shared storage: fsspec URLs (s3://, gs://, hf://, file://, memory://) as source files.

A cluster's workers do not see the driver's disk, so a recipe that runs on Ray names its
inputs by URL. A URL stays a URL from the config file to the reader: it is never resolved
against the config's folder and never turned into a :class:`pathlib.Path` (which would
fold ``s3://`` into ``s3:/``). Readers open both kinds through :func:`open_binary`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from .errors import DependencyError

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")

# The package each protocol needs, for the one-line install hint.
_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "hf": "huggingface_hub",
             "az": "adlfs", "abfs": "adlfs", "http": "aiohttp", "https": "aiohttp"}


def is_url(value: str | Path | URL) -> bool:
    """Whether a files entry names an fsspec URL rather than a local path."""
    return isinstance(value, URL) or (isinstance(value, str) and bool(_URL.match(value)))


@dataclass(frozen=True, order=True)
class URL:
    """A source file on shared storage; has the ``name``/``suffix`` that format detection reads."""

    url: str

    @property
    def name(self) -> str:
        """The last path component, as :attr:`pathlib.Path.name`."""
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        """The file extension, as :attr:`pathlib.Path.suffix`."""
        return PurePosixPath(self.name).suffix

    def __str__(self) -> str:
        return self.url


def _filesystem(url: str):
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec comes with datasets
        raise DependencyError("reading URLs needs `pip install fsspec`") from None
    protocol = url.split("://", 1)[0]
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError:
        package = _PACKAGES.get(protocol, f"the fsspec backend for {protocol}://")
        raise DependencyError(f"reading {protocol}:// URLs needs `pip install {package}`") from None
    except ValueError as exc:  # unknown protocol
        raise DependencyError(f"cannot read {url}: {exc}") from None


def expand(pattern: str) -> list[URL]:
    """The files a URL or URL glob names, sorted; empty when nothing is there."""
    fs, path = _filesystem(pattern)
    if any(ch in path for ch in "*?["):
        found = sorted(p for p in fs.glob(path) if fs.isfile(p))
        return [URL(fs.unstrip_protocol(p)) for p in found]
    return [URL(pattern)] if fs.isfile(path) else []


def open_url(path: URL) -> IO[bytes]:
    """Open a URL for reading bytes, transparently un-gzipping ``.gz``."""
    import fsspec

    _filesystem(path.url)  # a missing backend becomes a DependencyError with its install line
    # OpenFile.open() closes the whole stack (gzip over the remote file) on close.
    return fsspec.open(path.url, "rb", compression="gzip" if path.suffix == ".gz" else None).open()
