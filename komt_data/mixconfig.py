"""The mixing sections of a recipe: ``mixing:``, ``dedup:``, ``decontaminate:``, ``split:``
and ``prompting:``.

Frozen dataclasses checked while parsing, like the rest of :mod:`komt_data.config`; every
unknown key is a :class:`ConfigError` naming the file and the key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

MIXING_KEYS = {"total", "temperature", "cap", "repeat"}
DEDUP_KEYS = {"exact", "near"}
EXACT_KEYS = {"scope", "fields"}
NEAR_KEYS = {"threshold", "shingle", "num_perm", "fields"}
DECONTAM_KEYS = {"sets", "ngram", "threshold", "min_chars"}
EVAL_SET_KEYS = {"preset", "name", "files", "hub", "config", "configs", "split", "fields"}
SPLIT_KEYS = {"validation", "test", "group_by"}
PROMPTING_KEYS = {"fewshot"}
FEWSHOT_KEYS = {"share", "shots", "max_chars"}
# The most exemplars one record may ask for: FLAN's few-shot mixtures used up to 5 (well
# within this), and a bound keeps stage 3's reads per record bounded whatever a recipe says.
MAX_SHOTS = 32
SCOPES = ("family", "task", "recipe", "none")
#: The largest count a recipe may give (cap, total, shard_size, ...): counts are numpy int64.
MAX_COUNT = 2**63 - 1
#: Seeds key 64-bit hashes: 0 to 2**64 - 1.
MAX_SEED = 2**64 - 1
#: Weights are relative, so a million to one is as uneven as a mix gets; the bound (and the
#: one on temperature) keeps weight × size ** (1 / temperature) × total a finite float.
MAX_WEIGHT = 1_000_000.0
MIN_TEMPERATURE = 0.05


@dataclass(frozen=True)
class Mixing:
    """How tasks are weighted: FLAN's examples-proportional mixing with caps and temperature.

    ``total`` None: every task gives min(available, cap). With ``total``: rate = weight ×
    min(available, cap) ** (1 / temperature), counts = total × rate / Σ rate (exact sum).
    """

    total: int | None = None
    temperature: float = 1.0
    cap: int | None = None
    repeat: bool = False


@dataclass(frozen=True)
class ExactDedup:
    """Exact dedup: ``scope`` is where a duplicate is looked for; ``fields`` overrides, per
    family, which example fields make the key (default: the adapter's ``dedup_fields``)."""

    scope: str = "family"
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class NearDedup:
    """MinHash + LSH near dedup over character shingles of the normalized example content."""

    threshold: float = 0.8
    shingle: int = 5
    num_perm: int = 128
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Dedup:
    """Both dedup stages; ``near`` is None when near dedup is off (the default)."""

    exact: ExactDedup = field(default_factory=ExactDedup)
    near: NearDedup | None = None


@dataclass(frozen=True)
class EvalSet:
    """One evaluation set to decontaminate against: local files or a hub dataset."""

    name: str
    files: tuple[Path, ...] = ()
    hub: str | None = None
    configs: tuple[str | None, ...] = (None,)
    split: str = "test"
    fields: tuple[str, ...] = ()
    # Local files of a preset are read by komt-data's own readers in this format (json,
    # squad, tsv, ...) and quoting; None: .jsonl / .json rows or one item per text line.
    format: str | None = None
    quoting: str | None = None
    hint: str = ""  # what a failing hub load adds: where the local copy would go


@dataclass(frozen=True)
class Decontaminate:
    """Drop training examples that share most character n-grams with an evaluation item."""

    sets: tuple[EvalSet, ...] = ()
    ngram: int = 7
    threshold: float = 0.5
    min_chars: int = 20


@dataclass(frozen=True)
class SplitSpec:
    """Held-out sizes: a float below 1 is a fraction, an int is a count; ``group_by`` names an
    example field whose equal values never straddle splits."""

    validation: float | int = 0.0
    test: float | int = 0.0
    group_by: str | None = None
    given: frozenset[str] = frozenset()  # the keys that were set (a task's unset keys follow the recipe)

    def sets(self, key: str) -> bool:
        """Whether ``key`` was given (for a task entry: overrides the recipe's)."""
        return key in self.given


@dataclass(frozen=True)
class FewShot:
    """FLAN v2's few-shot records: ``share`` of a task's records get ``shots`` (a range,
    drawn per record) exemplars of the same task and template before their own input;
    exemplars are dropped from the end until the instruction is at most ``max_chars``."""

    share: float = 0.0
    shots: tuple[int, int] = (1, 5)
    max_chars: int = 4000

    @property
    def on(self) -> bool:
        """Whether any record may get exemplars."""
        return self.share > 0


def _where(file: Path | str) -> str:
    return str(file)


def _mapping(value: Any, *, file: Path | str, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"must be a mapping, got {value!r}", file=_where(file), key=key)
    return value


def _check(data: Mapping[str, Any], allowed: set[str], *, file: Path | str, prefix: str) -> None:
    from .config import check_keys

    check_keys(data, allowed, file=file, prefix=prefix)


def _int(value: Any, *, file: Path | str, key: str, minimum: int, maximum: int = MAX_COUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"must be a whole number, got {value!r}", file=_where(file), key=key)
    if value < minimum:
        raise ConfigError(f"must be at least {minimum}", file=_where(file), key=key)
    if value > maximum:
        raise ConfigError(f"must be at most {maximum:,}, got {value:,}", file=_where(file), key=key)
    return value


def parse_int(value: Any, *, file: Path | str, key: str, minimum: int, maximum: int = MAX_COUNT) -> int:
    """A whole number (not a bool) in ``[minimum, maximum]``."""
    return _int(value, file=file, key=key, minimum=minimum, maximum=maximum)


def _number(value: Any, *, file: Path | str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"must be a number, got {value!r}", file=_where(file), key=key)
    try:
        number = float(value)
    except OverflowError:  # a whole number too big for a float
        raise ConfigError(f"must be a finite number, got {value!r}", file=_where(file), key=key) from None
    if not math.isfinite(number):
        raise ConfigError(f"must be a finite number, got {value!r}", file=_where(file), key=key)
    return number


def parse_number(value: Any, *, file: Path | str, key: str) -> float:
    """A finite number (not a bool) as a float: ``.inf`` and ``.nan`` are refused."""
    return _number(value, file=file, key=key)


def parse_weight(value: Any, *, file: Path | str, key: str) -> float:
    """A mixing weight: a finite number above 0 and at most MAX_WEIGHT."""
    weight = _number(value, file=file, key=key)
    if weight <= 0:
        raise ConfigError("must be greater than 0", file=_where(file), key=key)
    if weight > MAX_WEIGHT:
        raise ConfigError(f"must be at most {MAX_WEIGHT:,.0f} (weights are relative: divide them all)",
                          file=_where(file), key=key)
    return weight


def _bool(value: Any, *, file: Path | str, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"must be true or false, got {value!r}", file=_where(file), key=key)
    return value


def parse_cap(value: Any, *, file: Path | str, key: str) -> int | None:
    """A cap: None or a whole number of at least 1."""
    return None if value is None else _int(value, file=file, key=key, minimum=1)


def parse_held_out(value: Any, *, file: Path | str, key: str) -> float | int:
    """A held-out size: a fraction in [0, 1) or a whole count of at least 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"must be a fraction below 1 or a whole count, got {value!r}", file=_where(file), key=key)
    if isinstance(value, int):
        if value < 0:
            raise ConfigError("must not be negative", file=_where(file), key=key)
        return _int(value, file=file, key=key, minimum=0)
    if not 0 <= value < 1:
        raise ConfigError("a fraction must be at least 0 and below 1 (write a count as a whole number)",
                          file=_where(file), key=key)
    return float(value)


def parse_mixing(value: Any, file: Path | str) -> Mixing:
    """Validate ``mixing:``."""
    data = _mapping(value, file=file, key="mixing")
    _check(data, MIXING_KEYS, file=file, prefix="mixing.")
    total = data.get("total")
    if total is not None:
        total = _int(total, file=file, key="mixing.total", minimum=1)
    temperature = _number(data.get("temperature", 1.0), file=file, key="mixing.temperature")
    if temperature < MIN_TEMPERATURE:
        raise ConfigError(f"must be at least {MIN_TEMPERATURE}", file=_where(file), key="mixing.temperature")
    return Mixing(total=total, temperature=temperature,
                  cap=parse_cap(data.get("cap"), file=file, key="mixing.cap"),
                  repeat=_bool(data.get("repeat", False), file=file, key="mixing.repeat"))


def _family_fields(value: Any, *, file: Path | str, key: str) -> dict[str, tuple[str, ...]]:
    data = _mapping(value, file=file, key=key)
    out: dict[str, tuple[str, ...]] = {}
    for family, names in data.items():
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ConfigError("must be a field name or a list of them", file=_where(file), key=f"{key}.{family}")
        out[str(family)] = tuple(names)
    return out


def _switch(value: Any, *, default: bool, file: Path | str, key: str) -> dict[str, Any] | None:
    """A dedup stage given as ``true`` (on, at its defaults), ``false`` (off) or a mapping of
    settings (on); absent or null: ``default``. None means off."""
    if value is None:
        value = default
    if value is True:
        return {}
    if value is False:
        return None
    if not isinstance(value, dict):
        raise ConfigError(f"must be true, false or a mapping of settings, got {value!r}", file=_where(file), key=key)
    return value


def parse_dedup(value: Any, file: Path | str) -> Dedup:
    """Validate ``dedup:``: each of ``exact`` and ``near`` is ``true`` (on, at its defaults),
    ``false`` (off) or a mapping of settings; exact dedup is on unless turned off, near
    dedup off unless turned on. ``exact: false`` is ``exact: {scope: none}``."""
    data = _mapping(value, file=file, key="dedup")
    _check(data, DEDUP_KEYS, file=file, prefix="dedup.")
    exact_data = _switch(data.get("exact"), default=True, file=file, key="dedup.exact")
    if exact_data is None:
        exact_data = {"scope": "none"}
    _check(exact_data, EXACT_KEYS, file=file, prefix="dedup.exact.")
    scope = exact_data.get("scope", "family")
    if scope not in SCOPES:
        raise ConfigError(f"must be one of {', '.join(SCOPES)}, got {scope!r}", file=_where(file),
                          key="dedup.exact.scope")
    exact = ExactDedup(scope=scope, fields=_family_fields(exact_data.get("fields"), file=file,
                                                          key="dedup.exact.fields"))
    near_data = _switch(data.get("near"), default=False, file=file, key="dedup.near")
    near = None
    if near_data is not None:
        _check(near_data, NEAR_KEYS, file=file, prefix="dedup.near.")
        threshold = _number(near_data.get("threshold", 0.8), file=file, key="dedup.near.threshold")
        if not 0 < threshold <= 1:
            raise ConfigError("must be above 0 and at most 1", file=_where(file), key="dedup.near.threshold")
        near = NearDedup(
            threshold=threshold,
            shingle=_int(near_data.get("shingle", 5), file=file, key="dedup.near.shingle", minimum=1),
            num_perm=_int(near_data.get("num_perm", 128), file=file, key="dedup.near.num_perm", minimum=8),
            fields=_family_fields(near_data.get("fields"), file=file, key="dedup.near.fields"),
        )
    return Dedup(exact=exact, near=near)


def _strings(value: Any, *, file: Path | str, key: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ConfigError("must be a string or a list of strings", file=_where(file), key=key)
    return tuple(items)


def parse_decontaminate(value: Any, file: Path, base: Path) -> Decontaminate | None:
    """Validate ``decontaminate:``: a list of sets, or a mapping with ``sets`` and the n-gram rule."""
    from .dedup.contamination import preset

    if value is None or value is False:
        return None
    data = {"sets": value} if isinstance(value, list) else _mapping(value, file=file, key="decontaminate")
    _check(data, DECONTAM_KEYS, file=file, prefix="decontaminate.")
    raw_sets = data.get("sets") or []
    if not isinstance(raw_sets, list) or not raw_sets:
        raise ConfigError("must be a non-empty list of evaluation sets", file=_where(file), key="decontaminate.sets")
    sets: list[EvalSet] = []
    for i, item in enumerate(raw_sets):
        key = f"decontaminate.sets[{i}]"
        if isinstance(item, str):
            item = {"preset": item} if "/" not in item and "." not in item else {"files": item}
        item = _mapping(item, file=file, key=key)
        _check(item, EVAL_SET_KEYS, file=file, prefix=f"{key}.")
        if "preset" in item:
            try:
                found = preset(str(item["preset"]))
            except ConfigError as exc:
                raise ConfigError(str(exc), file=_where(file), key=f"{key}.preset") from None
            sets.append(found)
            continue
        if ("files" in item) == ("hub" in item):
            raise ConfigError("give exactly one of 'preset', 'files' and 'hub'", file=_where(file), key=key)
        files: tuple[Path, ...] = ()
        if "files" in item:
            paths = []
            for name in _strings(item["files"], file=file, key=f"{key}.files"):
                path = Path(name).expanduser()
                path = path if path.is_absolute() else base / path
                if not path.is_file():
                    raise ConfigError(f"file not found: {name} (looked at {path})", file=_where(file),
                                      key=f"{key}.files")
                paths.append(path)
            files = tuple(paths)
        hub = item.get("hub")
        if hub is not None and (base / str(hub)).is_dir():
            hub = str((base / str(hub)).resolve())
        configs: tuple[str | None, ...] = (None,)
        if "configs" in item:
            configs = _strings(item["configs"], file=file, key=f"{key}.configs")
        elif item.get("config") is not None:
            configs = (str(item["config"]),)
        name = item.get("name") or (Path(files[0]).stem if files else str(item.get("hub")).rstrip("/").split("/")[-1])
        sets.append(EvalSet(name=str(name), files=files, hub=hub, configs=configs,
                            split=str(item.get("split", "test")),
                            fields=_strings(item.get("fields", []), file=file, key=f"{key}.fields")))
    ngram = _int(data.get("ngram", 7), file=file, key="decontaminate.ngram", minimum=3)
    threshold = _number(data.get("threshold", 0.5), file=file, key="decontaminate.threshold")
    if not 0 < threshold <= 1:
        raise ConfigError("must be above 0 and at most 1", file=_where(file), key="decontaminate.threshold")
    min_chars = _int(data.get("min_chars", 20), file=file, key="decontaminate.min_chars", minimum=1)
    return Decontaminate(sets=tuple(sets), ngram=ngram, threshold=threshold, min_chars=min_chars)


def parse_split(value: Any, file: Path | str, prefix: str = "split.") -> SplitSpec:
    """Validate ``split:`` (or the same keys on a task entry, with ``prefix``)."""
    data = _mapping(value, file=file, key=prefix.rstrip("."))
    _check(data, SPLIT_KEYS, file=file, prefix=prefix)
    group_by = data.get("group_by")
    if group_by is not None and not isinstance(group_by, str):
        raise ConfigError("must be an example field name", file=_where(file), key=f"{prefix}group_by")
    return SplitSpec(validation=parse_held_out(data.get("validation", 0.0), file=file, key=f"{prefix}validation"),
                     test=parse_held_out(data.get("test", 0.0), file=file, key=f"{prefix}test"),
                     group_by=group_by, given=frozenset(data))


def parse_prompting(value: Any, file: Path | str, prefix: str = "",
                    base: FewShot | None = None) -> FewShot | None:
    """Validate ``prompting:`` (in a recipe, or in a task entry where it overrides the
    recipe's keys one by one: ``base``). None when it sets nothing."""
    data = _mapping(value, file=file, key=f"{prefix}prompting")
    _check(data, PROMPTING_KEYS, file=file, prefix=f"{prefix}prompting.")
    if "fewshot" not in data:
        return base
    key = f"{prefix}prompting.fewshot"
    fewshot = _mapping(data["fewshot"], file=file, key=key)
    _check(fewshot, FEWSHOT_KEYS, file=file, prefix=f"{key}.")
    start = base or FewShot()
    share = start.share
    if "share" in fewshot:
        share = _number(fewshot["share"], file=file, key=f"{key}.share")
        if not 0 <= share <= 1:
            raise ConfigError(f"must be a fraction from 0 to 1, got {fewshot['share']!r}", file=_where(file),
                              key=f"{key}.share")
    shots = start.shots
    if "shots" in fewshot:
        value = fewshot["shots"]
        if isinstance(value, list) and len(value) == 2:
            low = _int(value[0], file=file, key=f"{key}.shots", minimum=1)
            high = _int(value[1], file=file, key=f"{key}.shots", minimum=1)
        elif isinstance(value, list):
            raise ConfigError(f"must be a number of exemplars or a range [fewest, most], got {value!r}",
                              file=_where(file), key=f"{key}.shots")
        else:
            low = high = _int(value, file=file, key=f"{key}.shots", minimum=1)
        if low > high:
            raise ConfigError(f"the fewest ({low}) must not exceed the most ({high})", file=_where(file),
                              key=f"{key}.shots")
        if high > MAX_SHOTS:
            raise ConfigError(f"at most {MAX_SHOTS} exemplars a record, got {high}", file=_where(file),
                              key=f"{key}.shots")
        shots = (low, high)
    max_chars = start.max_chars
    if "max_chars" in fewshot:
        max_chars = _int(fewshot["max_chars"], file=file, key=f"{key}.max_chars", minimum=1)
    return FewShot(share=share, shots=shots, max_chars=max_chars)
