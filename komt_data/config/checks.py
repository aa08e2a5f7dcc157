"""The one vocabulary of config checks: YAML reading, keys, kinds, numbers, names.

Every check raises a :class:`ConfigError` that names the file and the key, so a user
mistake is one line. Nothing here imports another part of komt_data but ``errors``:
the registries (adapters, sources, templates) check their own options with it.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

#: The most values a YAML file may hold once its aliases are expanded. PyYAML shares an
#: aliased node instead of copying it, but everything downstream (the fingerprint, the
#: checks, the adapters) walks the expanded tree: 500 bytes of nested anchors would make
#: it billions of values (a "billion laughs" bomb). Real configs hold a few hundred.
MAX_YAML_VALUES = 100_000


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, line: int, first: int):
        super().__init__(key)
        self.key, self.line, self.first = key, line, first


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses what would be silently wrong in a config: a key given
    twice in one mapping (YAML keeps the last), and ``!!binary`` and ``!!set`` values (bytes
    would become label words like ``b'...'``; a set's order changes from run to run)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base` then overrides: meant
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: SafeLoader's own error says so
                    continue
                line = key_node.start_mark.line + 1
                if first is not None:
                    raise _DuplicateKey(str(getattr(key_node, "value", key)), line, first)
                seen[key] = line
        return super().construct_mapping(node, deep)

    def _refuse(self, node: yaml.Node) -> Any:
        kind = node.tag.rsplit(":", 1)[-1]
        raise yaml.constructor.ConstructorError(
            None, None, f"'!!{kind}' values are not allowed (write text, numbers or lists)", node.start_mark)


_Loader.add_constructor("tag:yaml.org,2002:binary", _Loader._refuse)
_Loader.add_constructor("tag:yaml.org,2002:set", _Loader._refuse)


def _expanded_size(root: yaml.Node, path: Path) -> int:
    """How many values ``root`` holds with every alias expanded, refusing past MAX_YAML_VALUES
    (and a node that contains itself). Shared nodes are sized once, so this is linear."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(node: yaml.Node) -> int:
        if not isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            return 1
        known = sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in busy:
            raise ConfigError(f"line {node.start_mark.line + 1}: an alias refers to a value that contains it",
                              file=str(path))
        busy.add(id(node))
        children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_YAML_VALUES:
                raise ConfigError(f"holds more than {MAX_YAML_VALUES:,} values once its aliases (*name) are "
                                  "expanded; write the values out or use fewer nested aliases", file=str(path))
        busy.discard(id(node))
        sizes[id(node)] = total
        return total

    return size(root)


def read_yaml(path: Path) -> dict[str, Any]:
    """Load one YAML mapping (the safe subset of YAML); errors name the file and position.

    Besides ``yaml.safe_load``'s checks: a key given twice, ``!!binary``/``!!set`` values and
    aliases that expand past :data:`MAX_YAML_VALUES` are refused.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(path)) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _expanded_size(node, path)
        data = None if node is None else loader.construct_document(node)
    except _DuplicateKey as exc:
        lines = f"line {exc.line}" if exc.first == exc.line else f"lines {exc.first} and {exc.line}"
        raise ConfigError(f"is given twice in one mapping ({lines}); YAML would silently keep only the last, "
                          "so remove one", file=f"{path}:{exc.line}", key=exc.key) from None
    except RecursionError:
        raise ConfigError("is nested too deeply", file=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"invalid YAML: {problem}", file=where) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of keys at the top level", file=str(path))
    return data


def check_keys(data: Mapping[str, Any], allowed: set[str], *, file: Path | str, prefix: str = "") -> None:
    """Raise a ConfigError for the first key of ``data`` that is not in ``allowed``."""
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            hint = f" (did you mean '{prefix}{close[0]}'?)" if close else f" (allowed: {', '.join(sorted(allowed))})"
            raise ConfigError(f"unknown key{hint}", file=str(file), key=f"{prefix}{key}")


def expect(value: Any, kind: type | tuple[type, ...], *, file: Path | str, key: str, what: str) -> Any:
    """``value`` if it is a ``kind`` (a bool never passes for a number); ``what`` names the kind."""
    # bool is an int in Python; a YAML `yes` must not pass for a number.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ConfigError(f"must be {what}, got {value!r}", file=str(file), key=key)
    if not isinstance(value, kind):
        raise ConfigError(f"must be {what}, got {value!r}", file=str(file), key=key)
    return value


def one_of(value: Any, names: Sequence[str], *, file: Path | str, key: str | None = None) -> Any:
    """``value`` if it is one of ``names`` (a registry's, so plugins count); else the one-line error.

    ``file`` is where the value came from: the recipe, or a CLI option such as ``--format``.
    """
    if isinstance(value, str) and value in names:
        return value
    close = difflib.get_close_matches(str(value), names, n=1) if isinstance(value, str) else []
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ConfigError(f"must be one of {', '.join(names)}, got {value!r}{hint}", file=str(file), key=key)


#: The largest count a recipe may give (cap, total, shard_size, ...): counts are numpy int64.
MAX_COUNT = 2**63 - 1


#: Seeds key 64-bit hashes: 0 to 2**64 - 1.
MAX_SEED = 2**64 - 1


def mapping(value: Any, *, file: Path | str, key: str) -> dict[str, Any]:
    """``value`` if it is a mapping; an absent value (None) is an empty one."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"must be a mapping, got {value!r}", file=str(file), key=key)
    return value


def parse_int(value: Any, *, file: Path | str, key: str, minimum: int, maximum: int = MAX_COUNT) -> int:
    """A whole number (not a bool) in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"must be a whole number, got {value!r}", file=str(file), key=key)
    if value < minimum:
        raise ConfigError(f"must be at least {minimum}", file=str(file), key=key)
    if value > maximum:
        raise ConfigError(f"must be at most {maximum:,}, got {value:,}", file=str(file), key=key)
    return value


def parse_number(value: Any, *, file: Path | str, key: str) -> float:
    """A finite number (not a bool) as a float: ``.inf`` and ``.nan`` are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"must be a number, got {value!r}", file=str(file), key=key)
    try:
        number = float(value)
    except OverflowError:  # a whole number too big for a float
        raise ConfigError(f"must be a finite number, got {value!r}", file=str(file), key=key) from None
    if not math.isfinite(number):
        raise ConfigError(f"must be a finite number, got {value!r}", file=str(file), key=key)
    return number


def parse_bool(value: Any, *, file: Path | str, key: str) -> bool:
    """``true`` or ``false`` as YAML writes them, nothing that merely converts to one."""
    if not isinstance(value, bool):
        raise ConfigError(f"must be true or false, got {value!r}", file=str(file), key=key)
    return value
