"""The mixing sections of a recipe: ``mixing:``, ``dedup:``, ``decontaminate:``, ``split:``
and ``prompting:``.

Frozen dataclasses checked while parsing, like the rest of :mod:`komt_data.config`; every
unknown key is a :class:`ConfigError` naming the file and the key.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..dedup.presets import preset
from ..errors import ConfigError
from .checks import check_keys, mapping, parse_bool, parse_int, parse_number
from .schema import Decontaminate, Dedup, EvalSet, ExactDedup, FewShot, Mixing, NearDedup, SplitSpec

MIXING_KEYS = {"total", "temperature", "cap", "repeat"}


DEDUP_KEYS = {"exact", "near"}


EXACT_KEYS = {"scope", "fields"}


NEAR_KEYS = {"threshold", "shingle", "num_perm", "fields"}


DECONTAM_KEYS = {"sets", "ngram", "threshold", "min_chars"}


EVAL_SET_KEYS = {"preset", "name", "files", "hub", "config", "configs", "split", "fields", "revision"}


SPLIT_KEYS = {"validation", "test", "group_by"}


PROMPTING_KEYS = {"fewshot"}


FEWSHOT_KEYS = {"share", "shots", "max_chars"}


# The most exemplars one record may ask for: FLAN's few-shot mixtures used up to 5 (well
# within this), and a bound keeps stage 3's reads per record bounded whatever a recipe says.
MAX_SHOTS = 32


SCOPES = ("family", "task", "recipe", "none")


#: Weights are relative, so a million to one is as uneven as a mix gets; the bound (and the
#: one on temperature) keeps weight × size ** (1 / temperature) × total a finite float.
MAX_WEIGHT = 1_000_000.0


MIN_TEMPERATURE = 0.05


def parse_weight(value: Any, *, file: Path | str, key: str) -> float:
    """A mixing weight: a finite number above 0 and at most MAX_WEIGHT."""
    weight = parse_number(value, file=file, key=key)
    if weight <= 0:
        raise ConfigError("must be greater than 0", file=str(file), key=key)
    if weight > MAX_WEIGHT:
        raise ConfigError(f"must be at most {MAX_WEIGHT:,.0f} (weights are relative: divide them all)",
                          file=str(file), key=key)
    return weight


def parse_cap(value: Any, *, file: Path | str, key: str) -> int | None:
    """A cap: None or a whole number of at least 1."""
    return None if value is None else parse_int(value, file=file, key=key, minimum=1)


def parse_held_out(value: Any, *, file: Path | str, key: str) -> float | int:
    """A held-out size: a fraction in [0, 1) or a whole count of at least 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"must be a fraction below 1 or a whole count, got {value!r}", file=str(file), key=key)
    if isinstance(value, int):
        if value < 0:
            raise ConfigError("must not be negative", file=str(file), key=key)
        return parse_int(value, file=file, key=key, minimum=0)
    if not 0 <= value < 1:
        raise ConfigError("a fraction must be at least 0 and below 1 (write a count as a whole number)",
                          file=str(file), key=key)
    return float(value)


def parse_mixing(value: Any, file: Path | str) -> Mixing:
    """Validate ``mixing:``."""
    data = mapping(value, file=file, key="mixing")
    check_keys(data, MIXING_KEYS, file=file, prefix="mixing.")
    total = data.get("total")
    if total is not None:
        total = parse_int(total, file=file, key="mixing.total", minimum=1)
    temperature = parse_number(data.get("temperature", 1.0), file=file, key="mixing.temperature")
    if temperature < MIN_TEMPERATURE:
        raise ConfigError(f"must be at least {MIN_TEMPERATURE}", file=str(file), key="mixing.temperature")
    return Mixing(total=total, temperature=temperature,
                  cap=parse_cap(data.get("cap"), file=file, key="mixing.cap"),
                  repeat=parse_bool(data.get("repeat", False), file=file, key="mixing.repeat"))


def _family_fields(value: Any, *, file: Path | str, key: str) -> dict[str, tuple[str, ...]]:
    data = mapping(value, file=file, key=key)
    out: dict[str, tuple[str, ...]] = {}
    for family, names in data.items():
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ConfigError("must be a field name or a list of them", file=str(file), key=f"{key}.{family}")
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
        raise ConfigError(f"must be true, false or a mapping of settings, got {value!r}", file=str(file), key=key)
    return value


def parse_dedup(value: Any, file: Path | str) -> Dedup:
    """Validate ``dedup:``: each of ``exact`` and ``near`` is ``true`` (on, at its defaults),
    ``false`` (off) or a mapping of settings; exact dedup is on unless turned off, near
    dedup off unless turned on. ``exact: false`` is ``exact: {scope: none}``."""
    data = mapping(value, file=file, key="dedup")
    check_keys(data, DEDUP_KEYS, file=file, prefix="dedup.")
    exact_data = _switch(data.get("exact"), default=True, file=file, key="dedup.exact")
    if exact_data is None:
        exact_data = {"scope": "none"}
    check_keys(exact_data, EXACT_KEYS, file=file, prefix="dedup.exact.")
    scope = exact_data.get("scope", "family")
    if scope not in SCOPES:
        raise ConfigError(f"must be one of {', '.join(SCOPES)}, got {scope!r}", file=str(file),
                          key="dedup.exact.scope")
    exact = ExactDedup(scope=scope, fields=_family_fields(exact_data.get("fields"), file=file,
                                                          key="dedup.exact.fields"))
    near_data = _switch(data.get("near"), default=False, file=file, key="dedup.near")
    near = None
    if near_data is not None:
        check_keys(near_data, NEAR_KEYS, file=file, prefix="dedup.near.")
        threshold = parse_number(near_data.get("threshold", 0.8), file=file, key="dedup.near.threshold")
        if not 0 < threshold <= 1:
            raise ConfigError("must be above 0 and at most 1", file=str(file), key="dedup.near.threshold")
        near = NearDedup(
            threshold=threshold,
            shingle=parse_int(near_data.get("shingle", 5), file=file, key="dedup.near.shingle", minimum=1),
            num_perm=parse_int(near_data.get("num_perm", 128), file=file, key="dedup.near.num_perm", minimum=8),
            fields=_family_fields(near_data.get("fields"), file=file, key="dedup.near.fields"),
        )
    return Dedup(exact=exact, near=near)


def _strings(value: Any, *, file: Path | str, key: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ConfigError("must be a string or a list of strings", file=str(file), key=key)
    return tuple(items)


def parse_decontaminate(value: Any, file: Path, base: Path) -> Decontaminate | None:
    """Validate ``decontaminate:``: a list of sets, or a mapping with ``sets`` and the n-gram rule."""
    if value is None or value is False:
        return None
    data = {"sets": value} if isinstance(value, list) else mapping(value, file=file, key="decontaminate")
    check_keys(data, DECONTAM_KEYS, file=file, prefix="decontaminate.")
    raw_sets = data.get("sets") or []
    if not isinstance(raw_sets, list) or not raw_sets:
        raise ConfigError("must be a non-empty list of evaluation sets", file=str(file), key="decontaminate.sets")
    sets: list[EvalSet] = []
    for i, item in enumerate(raw_sets):
        key = f"decontaminate.sets[{i}]"
        if isinstance(item, str):
            item = {"preset": item} if "/" not in item and "." not in item else {"files": item}
        item = mapping(item, file=file, key=key)
        check_keys(item, EVAL_SET_KEYS, file=file, prefix=f"{key}.")
        revision = item.get("revision")
        if revision is not None and (not isinstance(revision, str) or not revision.strip()):
            raise ConfigError(f"must be a commit, branch or tag, got {revision!r}", file=str(file),
                              key=f"{key}.revision")
        if "preset" in item:
            try:
                found = preset(str(item["preset"]))
            except ConfigError as exc:
                raise ConfigError(str(exc), file=str(file), key=f"{key}.preset") from None
            # Pins the hub copy a preset reads; a preset read from a local file under
            # $KOMT_DATA_DIR is that file, whatever the revision says.
            sets.append(replace(found, revision=revision) if found.hub and revision else found)
            continue
        if ("files" in item) == ("hub" in item):
            raise ConfigError("give exactly one of 'preset', 'files' and 'hub'", file=str(file), key=key)
        if revision is not None and "files" in item:
            raise ConfigError("is for hub sets and presets (local files have no revision)", file=str(file),
                              key=f"{key}.revision")
        files: tuple[Path, ...] = ()
        if "files" in item:
            paths = []
            for name in _strings(item["files"], file=file, key=f"{key}.files"):
                path = Path(name).expanduser()
                path = path if path.is_absolute() else base / path
                if not path.is_file():
                    raise ConfigError(f"file not found: {name} (looked at {path})", file=str(file),
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
                            fields=_strings(item.get("fields", []), file=file, key=f"{key}.fields"),
                            revision=revision))
    ngram = parse_int(data.get("ngram", 7), file=file, key="decontaminate.ngram", minimum=3)
    threshold = parse_number(data.get("threshold", 0.5), file=file, key="decontaminate.threshold")
    if not 0 < threshold <= 1:
        raise ConfigError("must be above 0 and at most 1", file=str(file), key="decontaminate.threshold")
    min_chars = parse_int(data.get("min_chars", 20), file=file, key="decontaminate.min_chars", minimum=1)
    return Decontaminate(sets=tuple(sets), ngram=ngram, threshold=threshold, min_chars=min_chars)


def parse_split(value: Any, file: Path | str, prefix: str = "split.") -> SplitSpec:
    """Validate ``split:`` (or the same keys on a task entry, with ``prefix``)."""
    data = mapping(value, file=file, key=prefix.rstrip("."))
    check_keys(data, SPLIT_KEYS, file=file, prefix=prefix)
    group_by = data.get("group_by")
    if group_by is not None and not isinstance(group_by, str):
        raise ConfigError("must be an example field name", file=str(file), key=f"{prefix}group_by")
    return SplitSpec(validation=parse_held_out(data.get("validation", 0.0), file=file, key=f"{prefix}validation"),
                     test=parse_held_out(data.get("test", 0.0), file=file, key=f"{prefix}test"),
                     group_by=group_by, given=frozenset(data))


def parse_prompting(value: Any, file: Path | str, prefix: str = "",
                    base: FewShot | None = None) -> FewShot | None:
    """Validate ``prompting:`` (in a recipe, or in a task entry where it overrides the
    recipe's keys one by one: ``base``). None when it sets nothing."""
    data = mapping(value, file=file, key=f"{prefix}prompting")
    check_keys(data, PROMPTING_KEYS, file=file, prefix=f"{prefix}prompting.")
    if "fewshot" not in data:
        return base
    key = f"{prefix}prompting.fewshot"
    fewshot = mapping(data["fewshot"], file=file, key=key)
    check_keys(fewshot, FEWSHOT_KEYS, file=file, prefix=f"{key}.")
    start = base or FewShot()
    share = start.share
    if "share" in fewshot:
        share = parse_number(fewshot["share"], file=file, key=f"{key}.share")
        if not 0 <= share <= 1:
            raise ConfigError(f"must be a fraction from 0 to 1, got {fewshot['share']!r}", file=str(file),
                              key=f"{key}.share")
    shots = start.shots
    if "shots" in fewshot:
        value = fewshot["shots"]
        if isinstance(value, list) and len(value) == 2:
            low = parse_int(value[0], file=file, key=f"{key}.shots", minimum=1)
            high = parse_int(value[1], file=file, key=f"{key}.shots", minimum=1)
        elif isinstance(value, list):
            raise ConfigError(f"must be a number of exemplars or a range [fewest, most], got {value!r}",
                              file=str(file), key=f"{key}.shots")
        else:
            low = high = parse_int(value, file=file, key=f"{key}.shots", minimum=1)
        if low > high:
            raise ConfigError(f"the fewest ({low}) must not exceed the most ({high})", file=str(file),
                              key=f"{key}.shots")
        if high > MAX_SHOTS:
            raise ConfigError(f"at most {MAX_SHOTS} exemplars a record, got {high}", file=str(file),
                              key=f"{key}.shots")
        shots = (low, high)
    max_chars = start.max_chars
    if "max_chars" in fewshot:
        max_chars = parse_int(fewshot["max_chars"], file=file, key=f"{key}.max_chars", minimum=1)
    return FewShot(share=share, shots=shots, max_chars=max_chars)
