"""Recipes, task configs and their validation into frozen, typed objects.

Files are read with ``yaml.safe_load`` only. Every key is checked: an unknown or
misspelt key is a :class:`ConfigError` naming the file and the key, with a hint when
a known key is close.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .mixconfig import (
    Decontaminate,
    Dedup,
    FewShot,
    Mixing,
    SplitSpec,
    parse_cap,
    parse_decontaminate,
    parse_dedup,
    parse_mixing,
    parse_prompting,
    parse_split,
)
from .resources import bundled_dir, template_set_path
from .storage import URL, expand, is_url

FORMATS = ("json", "jsonl", "csv", "tsv", "parquet", "squad", "xlsx", "aihub-summary", "text-pair",
           "klue-ner")
ENCODINGS = ("utf-8", "utf-8-sig", "cp949", "auto")
# Kept in step with the registries in komt_data.exports (a test checks they agree).
OUTPUT_FORMATS = ("komt", "komt-json", "alpaca", "sharegpt", "messages", "parquet", "hf")
PROMPT_FORMATS = ("komt", "alpaca", "mistral")

_EXTENSION_FORMATS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "tsv",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
}


def read_yaml(path: Path) -> dict[str, Any]:
    """Load one YAML mapping with ``yaml.safe_load``; errors name the file and position."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"invalid YAML: {problem}", file=where) from None
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


def _expect(value: Any, kind: type | tuple[type, ...], *, file: Path, key: str, what: str) -> Any:
    # bool is an int in Python; a YAML `yes` must not pass for a number.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ConfigError(f"must be {what}, got {value!r}", file=str(file), key=key)
    if not isinstance(value, kind):
        raise ConfigError(f"must be {what}, got {value!r}", file=str(file), key=key)
    return value


@dataclass(frozen=True)
class SourceConfig:
    """Where a task's rows come from: local files or a Hugging Face hub dataset."""

    files: tuple[Path | URL, ...] = ()
    hub: str | None = None
    config: str | None = None
    split: str | None = None
    streaming: bool = False
    format: str | None = None
    encoding: str = "auto"
    records: str | None = None
    sheet: str | None = None
    languages: tuple[str, ...] = ()

    def format_of(self, path: Path) -> str:
        """The format a file is read in: the configured one, else from its extension."""
        if self.format:
            return self.format
        name = path.name[:-3] if path.name.endswith(".gz") else path.name
        ext = Path(name).suffix
        if ext.lower() not in _EXTENSION_FORMATS:
            raise ConfigError(
                f"cannot infer the format of {path.name}; set source.format to one of {', '.join(FORMATS)}"
            )
        return _EXTENSION_FORMATS[ext.lower()]


@dataclass(frozen=True)
class TaskConfig:
    """One dataset turned into one task: source, adapter, field and label maps, templates."""

    name: str
    adapter: str
    source: SourceConfig
    templates: Path
    path: Path
    fields: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    templates_per_example: int = 1
    license: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class TaskRef:
    """A task as a recipe names it, with its mixing weight and cap.

    ``repeat`` (None: the recipe's ``mixing.repeat``) lets the mix ask for more records than
    the task has, rendered with other templates; ``split`` overrides the recipe's held-out
    sizes and ``group_by`` for this task. ``fewshot``: the task's few-shot settings (the
    recipe's ``prompting.fewshot`` with the entry's own ``prompting`` over it; None: off).
    """

    config: TaskConfig
    weight: float = 1.0
    cap: int | None = None
    repeat: bool | None = None
    split: SplitSpec | None = None
    fewshot: FewShot | None = None


@dataclass(frozen=True)
class Part:
    """One entry of a mixture: a task (``parts`` empty) or an included recipe (a submixture,
    which divides its share among its own parts with its own ``mixing``)."""

    name: str
    weight: float = 1.0
    cap: int | None = None
    mixing: Mixing | None = None
    parts: tuple[Part, ...] = ()
    path: Path | None = None  # the included recipe's file


@dataclass(frozen=True)
class Recipe:
    """What to mix and how: tasks, seed, validation split, output layout."""

    name: str
    tasks: tuple[TaskRef, ...]
    path: Path | None = None
    seed: int = 42
    validation: float = 0.0
    shard_size: int = 100_000
    output_format: str = "komt"
    prompt_format: str = "komt"
    tokenizer: str | None = None
    min_tokens: int | None = None
    max_tokens: int | None = None
    mixing: Mixing = field(default_factory=Mixing)
    dedup: Dedup = field(default_factory=Dedup)
    decontaminate: Decontaminate | None = None
    split: SplitSpec = field(default_factory=SplitSpec)
    parts: tuple[Part, ...] = ()


TASK_KEYS = {"name", "adapter", "source", "fields", "labels", "options", "templates",
             "templates_per_example", "license", "description"}
SOURCE_KEYS = {"files", "hub", "config", "split", "streaming", "format", "encoding", "records", "sheet",
               "languages"}
RECIPE_KEYS = {"name", "seed", "tasks", "split", "output", "description", "mixing", "dedup", "decontaminate",
               "prompting"}
TASK_REF_KEYS = {"config", "recipe", "weight", "cap", "repeat", "validation", "test", "group_by", "prompting"}
OUTPUT_KEYS = {"shard_size", "format", "prompt", "tokenizer", "min_tokens", "max_tokens"}


def _resolve_files(value: Any, base: Path, file: Path) -> tuple[Path | URL, ...]:
    patterns = [value] if isinstance(value, str) else value
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
        raise ConfigError("must be a path, a glob or a list of them", file=str(file), key="source.files")
    found: list[Path | URL] = []
    for pattern in patterns:
        url = os.path.expandvars(pattern)
        if is_url(url):
            # Shared storage (s3://, gs://, hf://, ...): left as a URL, never resolved against `base`.
            urls = expand(url)
            if not urls:
                raise ConfigError(f"nothing found at '{pattern}'", file=str(file), key="source.files")
            found.extend(urls)
            continue
        path = _expand(pattern, base, file)
        if any(ch in pattern for ch in "*?["):
            matches = sorted(p for p in path.parent.glob(path.name) if p.is_file())
            if not matches:
                raise ConfigError(f"no file matches '{pattern}'", file=str(file), key="source.files")
            found.extend(matches)
        elif path.is_file():
            found.append(path)
        else:
            raise ConfigError(f"file not found: {pattern} (looked at {path})", file=str(file), key="source.files")
    return tuple(found)


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _expand(pattern: str, base: Path, file: Path) -> Path:
    """A ``files`` entry as a path: ``~`` and ``${VAR}`` expanded, then relative to the config.

    A path that starts with a variable (``${KOMT_DATA_DIR}/nsmc/*.gz``) is where the user's
    shell says the data is, so a relative value of that variable means the working directory,
    not the config's folder. An unset variable is an error, never an empty string.
    """
    missing = [a or b for a, b in _VARIABLE.findall(pattern) if (a or b) not in os.environ]
    if missing:
        raise ConfigError(f"environment variable {missing[0]} is not set (used in '{pattern}'); "
                          f"set it to the folder that holds this dataset", file=str(file), key="source.files")
    path = Path(os.path.expandvars(pattern)).expanduser()
    if path.is_absolute():
        return path
    return (Path.cwd() if pattern.startswith("$") else base) / path


def _parse_source(data: Any, base: Path, file: Path) -> SourceConfig:
    _expect(data, dict, file=file, key="source", what="a mapping with 'files' or 'hub'")
    check_keys(data, SOURCE_KEYS, file=file, prefix="source.")
    if ("files" in data) == ("hub" in data):
        raise ConfigError("give exactly one of 'files' and 'hub'", file=str(file), key="source")
    fmt = data.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise ConfigError(f"must be one of {', '.join(FORMATS)}, got {fmt!r}", file=str(file), key="source.format")
    encoding = data.get("encoding", "auto")
    if encoding not in ENCODINGS:
        raise ConfigError(f"must be one of {', '.join(ENCODINGS)}, got {encoding!r}",
                          file=str(file), key="source.encoding")
    for key in ("hub", "config", "split", "records", "sheet"):
        if data.get(key) is not None:
            _expect(data[key], str, file=file, key=f"source.{key}", what="a string")
    streaming = _expect(data.get("streaming", False), bool, file=file, key="source.streaming", what="true or false")
    languages = data.get("languages", [])
    if not isinstance(languages, list) or not all(isinstance(x, str) and x for x in languages):
        raise ConfigError("must be a list of file suffixes such as [en, ko]", file=str(file), key="source.languages")
    if fmt == "text-pair" and len(languages) != 2:
        raise ConfigError("format text-pair needs two languages, the suffixes of the paired files (e.g. [en, ko])",
                          file=str(file), key="source.languages")
    hub = data.get("hub")
    if hub is not None and (base / hub).is_dir():
        # A local dataset folder goes through the very same datasets.load_dataset call.
        hub = str((base / hub).resolve())
    source = SourceConfig(
        files=_resolve_files(data["files"], base, file) if "files" in data else (),
        hub=hub,
        config=data.get("config"),
        split=data.get("split", "train" if hub else None),
        streaming=streaming,
        format=fmt,
        encoding=encoding,
        records=data.get("records"),
        sheet=data.get("sheet"),
        languages=tuple(languages),
    )
    for path in source.files:
        try:
            source.format_of(path)
        except ConfigError as exc:
            raise ConfigError(str(exc), file=str(file), key="source.format") from None
    return source


def _string_map(value: Any, file: Path, key: str) -> dict[str, str]:
    _expect(value, dict, file=file, key=key, what="a mapping")
    out: dict[str, str] = {}
    for k, v in value.items():
        if isinstance(v, (dict, list)) or v is None:
            raise ConfigError(f"value for {k!r} must be a string", file=str(file), key=f"{key}.{k}")
        # YAML reads `0: 부정` with an int key and `1.0` as a float; labels compare as text.
        out[_label_text(k)] = str(v)
    return out


def _label_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def resolve_templates(value: str, base: Path, file: Path) -> Path:
    """A built-in template set name (``nli``) or a path relative to the config file."""
    if "/" not in value and not value.endswith((".yaml", ".yml")):
        path = template_set_path(value)
        if not path.is_file():
            from .resources import template_set_names

            raise ConfigError(f"no built-in template set '{value}' (have: {', '.join(template_set_names())})",
                              file=str(file), key="templates")
        return path
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise ConfigError(f"template file not found: {value}", file=str(file), key="templates")
    return path


def parse_task_config(data: dict[str, Any], path: Path) -> TaskConfig:
    """Validate a task-config mapping read from ``path``."""
    check_keys(data, TASK_KEYS, file=path)
    for key in ("name", "adapter", "source"):
        if key not in data:
            raise ConfigError("is required", file=str(path), key=key)
    name = _expect(data["name"], str, file=path, key="name", what="a string")
    if not name or not all(ch.isalnum() or ch in "_-." for ch in name):
        raise ConfigError("must be letters, digits, '_', '-' or '.'", file=str(path), key="name")
    adapter = _expect(data["adapter"], str, file=path, key="adapter", what="an adapter name or module:Class")
    base = path.parent
    from .adapters import get_adapter  # late: adapters import config for types

    try:
        adapter_cls = get_adapter(adapter)
    except ConfigError as exc:
        raise ConfigError(str(exc), file=str(path), key="adapter") from None
    templates_value = data.get("templates", adapter_cls.family)
    _expect(templates_value, str, file=path, key="templates", what="a template set name or path")
    per_example = _expect(data.get("templates_per_example", 1), int, file=path,
                          key="templates_per_example", what="a whole number")
    if per_example < 1:
        raise ConfigError("must be at least 1", file=str(path), key="templates_per_example")
    options = _expect(data.get("options", {}) or {}, dict, file=path, key="options", what="a mapping")
    for key in ("license", "description"):
        if data.get(key) is not None:
            _expect(data[key], str, file=path, key=key, what="a string")
    task = TaskConfig(
        name=name,
        adapter=adapter,
        source=_parse_source(data["source"], base, path),
        templates=resolve_templates(templates_value, base, path),
        path=path,
        fields=_string_map(data.get("fields", {}) or {}, path, "fields"),
        labels=_string_map(data.get("labels", {}) or {}, path, "labels"),
        options=options,
        templates_per_example=per_example,
        license=data.get("license"),
        description=data.get("description"),
    )
    adapter_cls.check_config(task)
    return task


def load_task_config(path: str | Path) -> TaskConfig:
    """Read and validate a task config file."""
    path = Path(path)
    return parse_task_config(read_yaml(path), path)


def bundled_config(value: str) -> Path | None:
    """The bundled task config a name refers to (``kornli_files``, ``sample/klue_nli``), if any."""
    stem = value.removesuffix(".yaml")
    root = bundled_dir("task_configs")
    if (root / f"{stem}.yaml").is_file():
        return root / f"{stem}.yaml"
    if "/" not in value:
        bundled = sorted(root.rglob(f"{stem}.yaml"))
        if bundled:
            return bundled[0]
    return None


def _find_task_config(value: str, base: Path, file: Path) -> Path:
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base / path
    if path.is_file():
        return path
    # A name refers to a bundled task config, so recipes can say `tasks: [kornli_hub]`.
    bundled = bundled_config(value)
    if bundled is not None:
        return bundled
    raise ConfigError(f"task config not found: {value} (looked at {path})", file=str(file), key="tasks")


def parse_recipe(data: dict[str, Any], path: Path | None, _including: tuple[Path, ...] = ()) -> Recipe:
    """Validate a recipe mapping (``path`` is where relative task paths start from).

    A ``tasks`` entry with ``recipe:`` instead of ``config:`` includes another recipe as a
    weighted submixture; its tasks join this recipe's, its ``mixing`` divides its share.
    """
    file = path or Path("<recipe>")
    base = path.parent if path else Path.cwd()
    check_keys(data, RECIPE_KEYS, file=file)
    tasks_value = data.get("tasks")
    if not isinstance(tasks_value, list) or not tasks_value:
        raise ConfigError("must be a non-empty list of task configs", file=str(file), key="tasks")
    mixing = parse_mixing(data.get("mixing"), file)
    fewshot = parse_prompting(data.get("prompting"), file)
    refs: list[TaskRef] = []
    parts: list[Part] = []
    for i, item in enumerate(tasks_value):
        key = f"tasks[{i}]"
        if isinstance(item, str):
            item = {"config": item}
        _expect(item, dict, file=file, key=key, what="a task-config path or a mapping with 'config'")
        check_keys(item, TASK_REF_KEYS, file=file, prefix=f"{key}.")
        if ("config" in item) == ("recipe" in item):
            raise ConfigError("give exactly one of 'config' and 'recipe'", file=str(file), key=f"{key}.config")
        weight = _expect(item.get("weight", 1.0), (int, float), file=file, key=f"{key}.weight", what="a number")
        if weight <= 0:
            raise ConfigError("must be greater than 0", file=str(file), key=f"{key}.weight")
        cap = parse_cap(item.get("cap"), file=file, key=f"{key}.cap")
        if "recipe" in item:
            sub_value = _expect(item["recipe"], str, file=file, key=f"{key}.recipe", what="a path")
            sub_path = Path(sub_value).expanduser()
            sub_path = (sub_path if sub_path.is_absolute() else base / sub_path).resolve()
            if sub_path in _including or (path is not None and sub_path == path.resolve()):
                raise ConfigError(f"recipe {sub_value} includes itself", file=str(file), key=f"{key}.recipe")
            for extra in ("repeat", "validation", "test", "group_by", "prompting"):
                if extra in item:
                    raise ConfigError("is a task setting; set it in the included recipe",
                                      file=str(file), key=f"{key}.{extra}")
            sub_data = read_yaml(sub_path)
            if "tasks" not in sub_data:
                raise ConfigError(f"{sub_value} is not a recipe (has no 'tasks')", file=str(file), key=f"{key}.recipe")
            sub = parse_recipe(sub_data, sub_path, _including + ((path.resolve(),) if path else ()))
            # The included recipe's own prompting stands; where it sets none, this one's applies.
            outer = fewshot if fewshot is not None and fewshot.on else None
            refs.extend(r if r.fewshot is not None else replace(r, fewshot=outer) for r in sub.tasks)
            parts.append(Part(name=sub.name, weight=float(weight), cap=cap, mixing=sub.mixing, parts=sub.parts,
                              path=sub_path))
            continue
        config_value = _expect(item["config"], str, file=file, key=f"{key}.config", what="a path")
        repeat = item.get("repeat")
        if repeat is not None:
            _expect(repeat, bool, file=file, key=f"{key}.repeat", what="true or false")
        split_override = None
        if any(k in item for k in ("validation", "test", "group_by")):
            split_override = parse_split({k: item[k] for k in ("validation", "test", "group_by") if k in item},
                                         file, prefix=f"{key}.")
        task = load_task_config(_find_task_config(config_value, base, file))
        task_fewshot = parse_prompting(item.get("prompting"), file, prefix=f"{key}.", base=fewshot)
        refs.append(TaskRef(task, float(weight), cap, repeat, split_override,
                            task_fewshot if task_fewshot is not None and task_fewshot.on else None))
        parts.append(Part(name=task.name, weight=float(weight), cap=cap))
    names = [ref.config.name for ref in refs]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"two tasks are both named '{name}'", file=str(file), key="tasks")
    split = parse_split(data.get("split"), file)
    output = _expect(data.get("output", {}) or {}, dict, file=file, key="output", what="a mapping")
    check_keys(output, OUTPUT_KEYS, file=file, prefix="output.")
    shard_size = _expect(output.get("shard_size", 100_000), int, file=file, key="output.shard_size",
                         what="a whole number")
    if shard_size < 1:
        raise ConfigError("must be at least 1", file=str(file), key="output.shard_size")
    fmt = output.get("format", "komt")
    if fmt not in OUTPUT_FORMATS:
        raise ConfigError(f"must be one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}", file=str(file),
                          key="output.format")
    exports = _parse_export_options(output, file)
    seed = _expect(data.get("seed", 42), int, file=file, key="seed", what="a whole number")
    name = _expect(data.get("name", path.stem if path else "recipe"), str, file=file, key="name", what="a string")
    return Recipe(name=name, tasks=tuple(refs), path=path, seed=seed,
                  validation=float(split.validation) if isinstance(split.validation, float) else 0.0,
                  shard_size=shard_size, output_format=fmt, mixing=mixing,
                  dedup=parse_dedup(data.get("dedup"), file),
                  decontaminate=parse_decontaminate(data.get("decontaminate"), file, base),
                  split=split, parts=tuple(parts), **exports)


def _parse_export_options(output: Mapping[str, Any], file: Path) -> dict[str, Any]:
    """``output.prompt``, ``output.tokenizer`` and the token-length filters."""
    prompt = output.get("prompt", "komt")
    if prompt not in PROMPT_FORMATS:
        raise ConfigError(f"must be one of {', '.join(PROMPT_FORMATS)}, got {prompt!r}", file=str(file),
                          key="output.prompt")
    tokenizer = output.get("tokenizer")
    if tokenizer is not None:
        _expect(tokenizer, str, file=file, key="output.tokenizer", what="a tokenizer name or folder")
        local = Path(tokenizer).expanduser()
        local = local if local.is_absolute() else file.parent / local
        if local.exists():  # a local folder or tokenizer.json, relative to the recipe like every path
            tokenizer = str(local.resolve())
    limits: dict[str, int | None] = {}
    for key in ("min_tokens", "max_tokens"):
        value = output.get(key)
        if value is not None:
            _expect(value, int, file=file, key=f"output.{key}", what="a whole number")
            if value < 1:
                raise ConfigError("must be at least 1", file=str(file), key=f"output.{key}")
            if tokenizer is None:
                raise ConfigError("needs output.tokenizer (the tokenizer that counts the tokens)",
                                  file=str(file), key=f"output.{key}")
        limits[key] = value
    if None not in limits.values() and limits["min_tokens"] > limits["max_tokens"]:
        raise ConfigError("must not exceed output.max_tokens", file=str(file), key="output.min_tokens")
    return {"prompt_format": prompt, "tokenizer": tokenizer, **limits}


def load(path: str | Path) -> Recipe:
    """Load a recipe, or a single task config wrapped as a one-task recipe.

    A name that is not a file but names a bundled task config (``komt-data list tasks``)
    loads that config.
    """
    path = Path(path)
    if not path.exists() and (bundled := bundled_config(str(path))) is not None:
        path = bundled
    data = read_yaml(path)
    if "tasks" in data:
        return parse_recipe(data, path)
    if "adapter" in data:
        task = parse_task_config(data, path)
        return Recipe(name=task.name, tasks=(TaskRef(task),), path=path, parts=(Part(task.name),))
    raise ConfigError("is neither a recipe (has 'tasks') nor a task config (has 'adapter')", file=str(path))
