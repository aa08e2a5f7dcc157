"""Hugging Face datasets, through ``datasets.load_dataset``.

Integer ClassLabel columns are turned into their label names with the dataset's own
features, never a hard-coded order: KLUE's loader changed its NLI label order once. A
dataset without ClassLabel names (skt/kobest_v1 since its loading script was dropped)
keeps its integers, which a ``labels:`` map names (``0: 부정``).

Without a network, ``datasets`` and ``huggingface_hub`` retry each request for about 25
seconds and log every retry. Air-gapped training clusters are common, so before loading a
hub id the hub's host is probed once (a TCP connection, 3 seconds at most): when it cannot
be reached, the load runs in offline mode, which reads the local cache or fails at once.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..config.schema import SourceConfig
from ..errors import ConfigError, DependencyError
from .base import Rows

#: Hub repositories that hold only a loading script (datasets 4 and later refuse to run
#: them), with the bundled task config that reads the files they download instead.
SCRIPT_ONLY = {"e9t/nsmc": "nsmc_files"}

_SHA = re.compile(r"^[0-9a-f]{40}$")
PROBE_SECONDS = 3.0


def _hub_address() -> tuple[str, int]:
    """Where a hub request goes first: the HTTPS proxy when one is set, else the hub endpoint."""
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        if os.environ.get(name):
            url = urlparse(os.environ[name] if "://" in os.environ[name] else f"http://{os.environ[name]}")
            return url.hostname or "", url.port or 8080
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    return url.hostname or "", url.port or (443 if url.scheme == "https" else 80)


@functools.cache
def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=PROBE_SECONDS):
            return True
    except OSError:
        return False


def hub_online() -> bool:
    """Whether the Hugging Face hub can be reached (probed once per process), and offline
    mode is not asked for (``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE``)."""
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on"):
            return False
    return _reachable(*_hub_address())


@contextmanager
def _hub_session(offline: bool) -> Iterator[None]:
    """Load quietly (the library never prints: no retry warnings, no progress bars) and,
    when ``offline``, without a single network request."""
    import datasets
    import huggingface_hub.constants as hub_constants

    loggers = [logging.getLogger(name) for name in ("datasets", "huggingface_hub", "fsspec", "filelock")]
    levels = [logger.level for logger in loggers]
    saved = (datasets.config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE)
    bars = datasets.utils.logging.is_progress_bar_enabled()
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    datasets.utils.logging.disable_progress_bar()
    if offline:
        datasets.config.HF_HUB_OFFLINE = hub_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE = saved
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        if bars:
            datasets.utils.logging.enable_progress_bar()


def load_hub(hub: str, config: str | None, split: str, *, revision: str | None = None,
             streaming: bool = False, what: str | None = None) -> Any:
    """``datasets.load_dataset`` of one split, failing with one line (a ConfigError) when the
    hub cannot be reached and the dataset is not cached, or the repository holds only a
    loading script. ``what`` names the dataset in messages (default: the hub id)."""
    try:
        import datasets
    except ImportError:  # pragma: no cover - datasets is a runtime dependency
        raise DependencyError("reading hub datasets needs `pip install datasets`") from None
    what = what or f"hub dataset '{hub}'"
    local = Path(hub).is_dir()
    offline = not local and not hub_online()
    try:
        with _hub_session(offline):
            return datasets.load_dataset(hub, config, split=split, streaming=streaming, revision=revision)
    except Exception as exc:  # datasets raises many kinds; the user needs one line
        message = str(exc)
        if "scripts are no longer supported" in message or "loading script" in message.lower():
            alternative = SCRIPT_ONLY.get(hub.strip("/"))
            instead = (f"use the bundled task config {alternative} on the downloaded files instead"
                       if alternative else "download its files and read them with a task config's source.files")
            raise ConfigError(f"{what} holds only a loading script, which datasets 4 and later refuse to "
                              f"run: {instead}") from None
        if offline or any(sign in message for sign in _NO_CONNECTION):
            raise ConfigError(f"{what}: the Hugging Face hub cannot be reached ({_where_probed(offline)}) and it is "
                              "not in the local cache; download it once with network access (HF_HOME names "
                              "the cache), or read local files instead") from None
        raise ConfigError(f"cannot load {what}: {message}".splitlines()[0]) from None


# What datasets / huggingface_hub say when a request found no network after the probe passed
# (a proxy that accepts connections and nothing more, a network that went away).
_NO_CONNECTION = ("LocalEntryNotFoundError", "Couldn't reach", "ConnectionError", "Max retries exceeded",
                  "check your connection")


def _where_probed(offline: bool) -> str:
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on"):
            return f"{name} is set"
    host, port = _hub_address()
    return f"no connection to {host}:{port}" if offline else f"the requests to {host}:{port} failed"


@functools.cache
def resolved_revision(hub: str, revision: str | None) -> str | None:
    """The commit a hub dataset was read at, for lineage in manifest.json: the pinned
    ``revision`` when it is a full commit hash, else asked of the hub (None when unknown:
    offline, or a local dataset folder)."""
    if revision and _SHA.match(revision):
        return revision
    if Path(hub).is_dir() or not hub_online():
        return None
    try:
        from huggingface_hub import HfApi

        return HfApi().dataset_info(hub, revision=revision, timeout=10).sha
    except Exception:  # lineage is best effort: the build itself already succeeded
        return None


def load_hub_rows(hub: str, config: str | None, split: str, *, revision: str | None = None,
                  streaming: bool = False, what: str | None = None, label_names: bool = True) -> Rows:
    """``(number from 1, row)`` of one split of a hub dataset (or a local dataset folder),
    through :func:`load_hub`. With ``label_names``, integer ClassLabel values become their
    names, from the dataset's own features."""
    import datasets

    dataset = load_hub(hub, config, split, revision=revision, streaming=streaming, what=what)
    features = (dataset.features or {}) if label_names else {}
    class_labels = {
        name: feature for name, feature in features.items() if isinstance(feature, datasets.ClassLabel)
    }
    for number, row in enumerate(dataset, 1):
        for name, feature in class_labels.items():
            value = row.get(name)
            if isinstance(value, int) and 0 <= value < feature.num_classes:
                row[name] = feature.int2str(value)
        yield number, row


def read_hub(source: SourceConfig, split: str | None = None) -> Rows:
    """Rows of one split of a task's hub dataset (or a local dataset folder), optionally streamed."""
    return load_hub_rows(source.hub or "", source.config, split or source.split or "train",
                         revision=source.revision, streaming=source.streaming)
