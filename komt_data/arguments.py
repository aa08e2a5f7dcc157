"""Checks of the arguments a build is called with (the Python API and the CLI's options).

Checked before anything is read, so a wrong value is one clear ConfigError (exit 1), not a
TypeError from deep inside, or a crash after the whole build ran (``--seed 2**64``), or a
silently empty dataset (``--limit -1``). ``name`` is how the caller spells the argument:
``seed`` for the API, ``--seed`` for the CLI.
"""

from __future__ import annotations

from typing import Any

from .config.checks import MAX_COUNT, MAX_SEED
from .errors import ConfigError


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_seed(value: Any, name: str = "seed") -> int | None:
    """None (the recipe's seed) or a whole number from 0 to 2**64 - 1."""
    if value is None:
        return None
    if not _whole(value) or not 0 <= value <= MAX_SEED:
        raise ConfigError(f"{name} must be a whole number from 0 to {MAX_SEED} (2**64 - 1), got {value!r}")
    return value


def check_limit(value: Any, name: str = "limit") -> int | None:
    """None (every row) or a whole number of rows of at least 1."""
    if value is None:
        return None
    if not _whole(value) or not 1 <= value <= MAX_COUNT:
        raise ConfigError(f"{name} must be a whole number of rows from 1 to {MAX_COUNT} (or none for every row), "
                          f"got {value!r}")
    return value


def check_flag(value: Any, name: str) -> bool:
    """True or False, nothing that merely looks like one (``"no"`` is truthy)."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, got {value!r}")
    return value
