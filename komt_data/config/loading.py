"""Recipes and task configs read from their files: the part of config that asks the registries
(adapters, readers, export and prompt formats) what a name may be.

Files are read with ``yaml.safe_load`` only. Every key is checked: an unknown or
misspelt key is a :class:`ConfigError` naming the file and the key, with a hint when
a known key is close.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..adapters import get_adapter
from ..errors import ConfigError
from ..exports import format_names, prompt_names
from ..resources import bundled_dir, sample_recipe_path, template_set_names, template_set_path
from ..sources.registry import READERS, format_of
from ..storage import URL, expand, is_url
from .checks import MAX_SEED, check_keys, expect, one_of, parse_int, read_yaml
from .schema import (
    ENCODINGS,
    OUTPUT_SPLITS,
    QUOTINGS,
    Exclude,
    Part,
    Recipe,
    SourceConfig,
    TaskConfig,
    TaskRef,
)
from .sections import (
    parse_cap,
    parse_decontaminate,
    parse_dedup,
    parse_mixing,
    parse_prompting,
    parse_split,
    parse_weight,
)

TASK_KEYS = {"name", "adapter", "source", "fields", "labels", "options", "templates",
             "templates_per_example", "license", "description"}


SOURCE_KEYS = {"files", "hub", "config", "split", "streaming", "format", "encoding", "records", "sheet",
               "languages", "splits", "train_on_eval_splits", "quoting", "revision", "exclude"}


EXCLUDE_KEYS = {"files", "key", "column", "format", "encoding", "quoting"}


RECIPE_KEYS = {"name", "seed", "tasks", "split", "output", "description", "mixing", "dedup", "decontaminate",
               "prompting"}


TASK_REF_KEYS = {"config", "recipe", "weight", "cap", "repeat", "validation", "test", "group_by", "prompting",
                 "allow_empty"}


OUTPUT_KEYS = {"shard_size", "format", "prompt", "tokenizer", "min_tokens", "max_tokens"}


def _resolve_files(value: Any, base: Path, file: Path, key: str = "source.files") -> tuple[Path | URL, ...]:
    patterns = [value] if isinstance(value, str) else value
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
        raise ConfigError("must be a path, a glob or a list of them", file=str(file), key=key)
    found: list[Path | URL] = []
    for pattern in patterns:
        url = os.path.expandvars(pattern)
        if is_url(url):
            # Shared storage (s3://, gs://, hf://, ...): left as a URL, never resolved against `base`.
            urls = expand(url)
            if not urls:
                raise ConfigError(f"nothing found at '{pattern}'", file=str(file), key=key)
            found.extend(urls)
            continue
        path = _expand(pattern, base, file, key)
        if any(ch in pattern for ch in "*?["):
            found.extend(glob_files(path, pattern, file, key))
        elif path.is_file():
            found.append(path)
        else:
            raise ConfigError(f"file not found: {pattern} (looked at {path})", file=str(file), key=key)
    return tuple(found)


def glob_files(path: Path, pattern: str, file: Path | str, key: str) -> list[Path]:
    """The files a glob names, sorted: a wildcard may stand in any folder of the path (AIHub
    archives unzip into nested category folders: ``TL1/*/20per/*.json``), and ``**`` is any
    depth of folders, symlinked ones included. Office's owner files are never data: Excel
    writes ``~$<name>.xlsx`` (165 bytes, not a workbook) next to a workbook it has open, and
    ``**/*.xlsx`` over an AIHub folder would otherwise stop the build on it."""
    matches = sorted(Path(p) for p in glob.glob(str(path), recursive=True)
                     if os.path.isfile(p) and not os.path.basename(p).startswith("~$"))
    if not matches:
        raise ConfigError(f"no file matches '{pattern}' (looked for {path})", file=str(file), key=key)
    return matches


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _expand(pattern: str, base: Path, file: Path, key: str = "source.files") -> Path:
    """A ``files`` entry as a path: ``~`` and ``${VAR}`` expanded, then relative to the config.

    A path that starts with a variable (``${KOMT_DATA_DIR}/nsmc/*.gz``) is where the user's
    shell says the data is, so a relative value of that variable means the working directory,
    not the config's folder. An unset or empty variable is an error, never an empty string.
    """
    missing = [a or b for a, b in _VARIABLE.findall(pattern) if (a or b) not in os.environ]
    if missing:
        raise ConfigError(f"environment variable {missing[0]} is not set (used in '{pattern}'); "
                          f"set it to the folder that holds this dataset", file=str(file), key=key)
    empty = [a or b for a, b in _VARIABLE.findall(pattern) if not os.environ[a or b].strip()]
    if empty:  # `KOMT_DATA_DIR=` would otherwise make '${KOMT_DATA_DIR}/nsmc' the filesystem root's /nsmc
        raise ConfigError(f"environment variable {empty[0]} is set but empty (used in '{pattern}'); "
                          f"set it to the folder that holds this dataset", file=str(file), key=key)
    path = Path(os.path.expandvars(pattern)).expanduser()
    if path.is_absolute():
        return path
    return (Path.cwd() if pattern.startswith("$") else base) / path


def trains_on_evaluation(split: str) -> bool:
    """Whether a dataset split is one of its evaluation splits (dev, validation, test, ...):
    every part of it (``train+validation``, ``train[:10%]``) must be a train split not to be."""
    parts = [part.split("[", 1)[0].strip().lower() for part in split.split("+")]
    return not all(part.startswith("train") for part in parts)


def _parse_splits(data: Mapping[str, Any], available: list[str] | None, file: Path) -> tuple[tuple[str, str], ...]:
    """``source.splits``: which of the dataset's own splits are read, and into which output split.

    By default the dataset's ``train`` split only. An evaluation split (dev, validation,
    test) read into the output's train split is contamination by construction, so it needs
    ``train_on_eval_splits: true``; into ``validation`` or ``test`` it is what they are for.
    """
    allow = expect(data.get("train_on_eval_splits", False), bool, file=file, key="source.train_on_eval_splits",
                    what="true or false")
    value = data.get("splits")
    if value is None:
        if available is not None and "train" not in available:
            raise ConfigError(f"has no 'train' entry (has: {', '.join(available)}); say which split to read "
                              "with source.splits, e.g. splits: {" + available[0] + ": train}",
                              file=str(file), key="source.files")
        return (("train", "train"),)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = {name: "train" for name in value}  # a list: these splits, all into train
    expect(value, dict, file=file, key="source.splits",
            what="a mapping of the dataset's splits to output splits, e.g. {train: train, dev: validation}")
    if not value:
        raise ConfigError("must name at least one split", file=str(file), key="source.splits")
    pairs = []
    for name, target in value.items():
        key = f"source.splits.{name}"
        if not isinstance(name, str) or not name:
            raise ConfigError("split names must be text", file=str(file), key=key)
        if available is not None and name not in available:
            raise ConfigError(f"source.files has no '{name}' entry (has: {', '.join(available)})",
                              file=str(file), key=key)
        if target not in OUTPUT_SPLITS:
            raise ConfigError(f"must be one of {', '.join(OUTPUT_SPLITS)}, got {target!r}", file=str(file), key=key)
        if target == "train" and trains_on_evaluation(name) and not allow:
            raise ConfigError(f"'{name}' is an evaluation split: training on it contaminates every score "
                              "reported on it; map it to validation or test, or set "
                              "source.train_on_eval_splits: true if that is really meant",
                              file=str(file), key=key)
        pairs.append((name, target))
    # Held-out splits first: a training example that repeats an evaluation example is then
    # the one exact dedup drops (the first in input order wins), and the held-out split stays whole.
    pairs.sort(key=lambda pair: pair[1] == "train")
    return tuple(pairs)


def _parse_source(data: Any, base: Path, file: Path) -> SourceConfig:
    expect(data, dict, file=file, key="source", what="a mapping with 'files' or 'hub'")
    check_keys(data, SOURCE_KEYS, file=file, prefix="source.")
    if ("files" in data) == ("hub" in data):
        raise ConfigError("give exactly one of 'files' and 'hub'", file=str(file), key="source")
    fmt = data.get("format")
    if fmt is not None and fmt not in READERS:
        raise ConfigError(f"must be one of {', '.join(READERS)}, got {fmt!r}", file=str(file), key="source.format")
    encoding = data.get("encoding", "auto")
    if encoding not in ENCODINGS:
        raise ConfigError(f"must be one of {', '.join(ENCODINGS)}, got {encoding!r}",
                          file=str(file), key="source.encoding")
    for key in ("hub", "config", "split", "records", "sheet", "revision"):
        if data.get(key) is not None:
            expect(data[key], str, file=file, key=f"source.{key}", what="a string")
    quoting = data.get("quoting")
    if quoting is not None and quoting not in QUOTINGS:
        raise ConfigError(f"must be one of {', '.join(QUOTINGS)}, got {quoting!r} (none: quote characters are "
                          "text; csv: RFC 4180, quoted cells with doubled quotes)", file=str(file),
                          key="source.quoting")
    streaming = expect(data.get("streaming", False), bool, file=file, key="source.streaming", what="true or false")
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
    if data.get("revision") is not None and hub is None:
        raise ConfigError("pins a hub dataset's commit; files are pinned by their content", file=str(file),
                          key="source.revision")
    files: tuple[Path | URL, ...] = ()
    file_splits: tuple[tuple[str, str], ...] = ()
    hub_splits: tuple[tuple[str, str], ...] = ()
    if "files" in data:
        if "split" in data:
            raise ConfigError("is for hub datasets; for files, give files per split "
                              "(files: {train: ..., dev: ...}) and choose with source.splits",
                              file=str(file), key="source.split")
        value = data["files"]
        if isinstance(value, dict):
            reads = _parse_splits(data, [str(k) for k in value], file)
            found: list[Path | URL] = []
            marks: list[tuple[str, str]] = []
            for name, target in reads:  # only the splits read must be there
                paths = _resolve_files(value[name], base, file, key=f"source.files.{name}")
                found.extend(paths)
                marks.extend([(name, target)] * len(paths))
            files, file_splits = tuple(found), tuple(marks)
        else:
            _parse_splits(data, ["train"], file)  # a list of files is the train split: only it can be read
            files = _resolve_files(value, base, file)
        if len(set(files)) != len(files):
            raise ConfigError("a file is named twice (by two splits or two patterns)", file=str(file),
                              key="source.files")
    else:
        if "split" in data and "splits" in data:
            raise ConfigError("give one of 'split' (the split to train on) and 'splits'", file=str(file),
                              key="source.split")
        if "splits" in data:
            hub_splits = _parse_splits(data, None, file)
        else:
            # `split:` names the split to train on; an evaluation split needs the explicit key.
            name = data.get("split", "train")
            _parse_splits({**data, "splits": {name: "train"}}, None, file)
    source = SourceConfig(
        files=files,
        hub=hub,
        config=data.get("config"),
        split=next((n for n, t in hub_splits if t == "train"), hub_splits[0][0]) if hub_splits
        else data.get("split", "train" if hub else None),
        streaming=streaming,
        format=fmt,
        encoding=encoding,
        records=data.get("records"),
        sheet=data.get("sheet"),
        languages=tuple(languages),
        file_splits=file_splits,
        hub_splits=hub_splits,
        quoting=quoting,
        revision=data.get("revision"),
        exclude=_parse_exclude(data["exclude"], base, file) if data.get("exclude") is not None else None,
    )
    for path in source.files:
        try:
            path_format = format_of(source, path)
        except ConfigError as exc:
            raise ConfigError(str(exc), file=str(file), key="source.format") from None
        if quoting is not None and READERS[path_format].delimiter is None:
            raise ConfigError(f"is for csv and tsv files; {path.name} is read as {path_format}", file=str(file),
                              key="source.quoting")
    return source


def _parse_exclude(data: Any, base: Path, file: Path) -> Exclude:
    """``source.exclude``: local evaluation files, the source's field and the files' column to match."""
    expect(data, dict, file=file, key="source.exclude", what="a mapping with 'files', 'key' and 'column'")
    check_keys(data, EXCLUDE_KEYS, file=file, prefix="source.exclude.")
    for key in ("files", "key", "column"):
        if key not in data:
            raise ConfigError("is required (the evaluation files, this source's field, the files' column)",
                              file=str(file), key=f"source.exclude.{key}")
    for key in ("key", "column"):
        if not isinstance(data[key], str) or not data[key]:
            raise ConfigError("must be a field name", file=str(file), key=f"source.exclude.{key}")
    files = _resolve_files(data["files"], base, file, key="source.exclude.files")
    if any(isinstance(path, URL) for path in files):
        raise ConfigError("must be local files (they are read whole and hashed for the up-to-date check)",
                          file=str(file), key="source.exclude.files")
    fmt = data.get("format")
    if fmt is not None and fmt not in ("tsv", "csv", "jsonl", "json"):
        raise ConfigError(f"must be one of tsv, csv, jsonl, json, got {fmt!r}", file=str(file),
                          key="source.exclude.format")
    encoding = data.get("encoding", "auto")
    if encoding not in ENCODINGS:
        raise ConfigError(f"must be one of {', '.join(ENCODINGS)}, got {encoding!r}", file=str(file),
                          key="source.exclude.encoding")
    quoting = data.get("quoting")
    if quoting is not None and quoting not in QUOTINGS:
        raise ConfigError(f"must be one of {', '.join(QUOTINGS)}, got {quoting!r}", file=str(file),
                          key="source.exclude.quoting")
    source = SourceConfig(files=files, format=fmt, encoding=encoding, quoting=quoting)
    for path in files:
        try:
            path_format = format_of(source, path)
        except ConfigError as exc:
            raise ConfigError(str(exc), file=str(file), key="source.exclude.format") from None
        if path_format not in ("tsv", "csv", "jsonl", "json"):
            raise ConfigError(f"{path.name} is read as {path_format}; give format: tsv, csv, jsonl or json",
                              file=str(file), key="source.exclude.format")
    return Exclude(source=source, key=data["key"], column=data["column"])


def _string_map(value: Any, file: Path, key: str) -> dict[str, str]:
    expect(value, dict, file=file, key=key, what="a mapping")
    out: dict[str, str] = {}
    given: dict[str, Any] = {}
    for k, v in value.items():
        if not isinstance(k, (str, int, float)):
            raise ConfigError(f"{k!r} must be text or a number", file=str(file), key=f"{key}.{k}")
        # Text, or a whole number (a column's number, COPA's alternative 1 or 2); never true/false,
        # a list, none or bytes, which would print as Python's repr of them.
        if not isinstance(v, str) and (isinstance(v, bool) or not isinstance(v, int)):
            raise ConfigError(f"value for {k!r} must be text, got {v!r}", file=str(file), key=f"{key}.{k}")
        # YAML reads `0: 부정` with an int key and `1.0` as a float; labels compare as text.
        text = _label_text(k)
        if text in given:
            raise ConfigError(f"{given[text]!r} and {k!r} are the same {key[:-1]} once read as text; keep one",
                              file=str(file), key=f"{key}.{text}")
        given[text] = k
        out[text] = str(v)
    return out


def _field_map(value: Any, file: Path) -> dict[str, Any]:
    """``fields:``: canonical field → source column, or a list of alternative spellings of one
    column (AIHub's sister sets spell 영어 검수 both with and without its space): the first
    the row has is read."""
    expect(value, dict, file=file, key="fields", what="a mapping")
    out: dict[str, Any] = {}
    for k, v in value.items():
        if isinstance(v, list) and v and all(isinstance(x, str) and x for x in v):
            out[str(k)] = tuple(v)
        else:
            out.update(_string_map({k: v}, file, "fields"))
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
    name = expect(data["name"], str, file=path, key="name", what="a string")
    if not name or not all(ch.isalnum() or ch in "_-." for ch in name):
        raise ConfigError("must be letters, digits, '_', '-' or '.'", file=str(path), key="name")
    adapter = expect(data["adapter"], str, file=path, key="adapter", what="an adapter name or module:Class")
    base = path.parent

    try:
        adapter_cls = get_adapter(adapter)
    except ConfigError as exc:
        raise ConfigError(str(exc), file=str(path), key="adapter") from None
    templates_value = data.get("templates", adapter_cls.family)
    expect(templates_value, str, file=path, key="templates", what="a template set name or path")
    per_example = parse_int(data.get("templates_per_example", 1), file=path, key="templates_per_example",
                            minimum=1)
    options = expect(data.get("options", {}) or {}, dict, file=path, key="options", what="a mapping")
    for key in ("license", "description"):
        if data.get(key) is not None:
            expect(data[key], str, file=path, key=key, what="a string")
    task = TaskConfig(
        name=name,
        adapter=adapter,
        source=_parse_source(data["source"], base, path),
        templates=resolve_templates(templates_value, base, path),
        path=path,
        fields=_field_map(data.get("fields", {}) or {}, path),
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


#: Bundled task configs that were shipped once and cannot work any more, with what to use.
RETIRED = {"nsmc_hub": "the hub repository e9t/nsmc holds only a loading script, which datasets 4 and later "
                       "refuse to run; use nsmc_files on a clone of e9t/nsmc"}


def _retired(value: str) -> str | None:
    stem = value.removesuffix(".yaml")
    return RETIRED.get(stem) if "/" not in stem else None


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
    if (why := _retired(value)) is not None:
        raise ConfigError(f"{value} is no longer shipped: {why}", file=str(file), key="tasks")
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
        expect(item, dict, file=file, key=key, what="a task-config path or a mapping with 'config'")
        check_keys(item, TASK_REF_KEYS, file=file, prefix=f"{key}.")
        if ("config" in item) == ("recipe" in item):
            raise ConfigError("give exactly one of 'config' and 'recipe'", file=str(file), key=f"{key}.config")
        weight = parse_weight(item.get("weight", 1.0), file=file, key=f"{key}.weight")
        cap = parse_cap(item.get("cap"), file=file, key=f"{key}.cap")
        if "recipe" in item:
            sub_value = expect(item["recipe"], str, file=file, key=f"{key}.recipe", what="a path")
            sub_path = Path(sub_value).expanduser()
            sub_path = (sub_path if sub_path.is_absolute() else base / sub_path).resolve()
            if sub_path in _including or (path is not None and sub_path == path.resolve()):
                raise ConfigError(f"recipe {sub_value} includes itself", file=str(file), key=f"{key}.recipe")
            for extra in ("repeat", "validation", "test", "group_by", "prompting", "allow_empty"):
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
        config_value = expect(item["config"], str, file=file, key=f"{key}.config", what="a path")
        repeat = item.get("repeat")
        if repeat is not None:
            expect(repeat, bool, file=file, key=f"{key}.repeat", what="true or false")
        split_override = None
        if any(k in item for k in ("validation", "test", "group_by")):
            split_override = parse_split({k: item[k] for k in ("validation", "test", "group_by") if k in item},
                                         file, prefix=f"{key}.")
        allow_empty = expect(item.get("allow_empty", False), bool, file=file, key=f"{key}.allow_empty",
                              what="true or false")
        task = load_task_config(_find_task_config(config_value, base, file))
        task_fewshot = parse_prompting(item.get("prompting"), file, prefix=f"{key}.", base=fewshot)
        refs.append(TaskRef(task, float(weight), cap, repeat, split_override,
                            task_fewshot if task_fewshot is not None and task_fewshot.on else None,
                            allow_empty))
        parts.append(Part(name=task.name, weight=float(weight), cap=cap))
    names = [ref.config.name for ref in refs]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"two tasks are both named '{name}'", file=str(file), key="tasks")
    split = parse_split(data.get("split"), file)
    output = expect(data.get("output", {}) or {}, dict, file=file, key="output", what="a mapping")
    check_keys(output, OUTPUT_KEYS, file=file, prefix="output.")
    shard_size = parse_int(output.get("shard_size", 100_000), file=file, key="output.shard_size", minimum=1)
    fmt = one_of(output.get("format", "komt"), format_names(), file=file, key="output.format")
    exports = _parse_export_options(output, file)
    seed = parse_int(data.get("seed", 42), file=file, key="seed", minimum=0, maximum=MAX_SEED)
    name = expect(data.get("name", path.stem if path else "recipe"), str, file=file, key="name", what="a string")
    return Recipe(name=name, tasks=tuple(refs), path=path, seed=seed,
                  shard_size=shard_size, output_format=fmt, mixing=mixing,
                  dedup=parse_dedup(data.get("dedup"), file),
                  decontaminate=parse_decontaminate(data.get("decontaminate"), file, base),
                  split=split, parts=tuple(parts), **exports)


def _parse_export_options(output: Mapping[str, Any], file: Path) -> dict[str, Any]:
    """``output.prompt``, ``output.tokenizer`` and the token-length filters."""
    prompt = one_of(output.get("prompt", "komt"), prompt_names(), file=file, key="output.prompt")
    tokenizer = output.get("tokenizer")
    if tokenizer is not None:
        expect(tokenizer, str, file=file, key="output.tokenizer", what="a tokenizer name or folder")
        local = Path(tokenizer).expanduser()
        local = local if local.is_absolute() else file.parent / local
        if local.exists():  # a local folder or tokenizer.json, relative to the recipe like every path
            tokenizer = str(local.resolve())
    limits: dict[str, int | None] = {}
    for key in ("min_tokens", "max_tokens"):
        value = output.get(key)
        if value is not None:
            parse_int(value, file=file, key=f"output.{key}", minimum=1)
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
    if not path.exists() and (why := _retired(str(path))) is not None:
        raise ConfigError(f"{path} is no longer shipped: {why}")
    if not path.exists() and (bundled := bundled_config(str(path))) is not None:
        path = bundled
    data = read_yaml(path)
    if "tasks" in data:
        return parse_recipe(data, path)
    if "adapter" in data:
        task = parse_task_config(data, path)
        return Recipe(name=task.name, tasks=(TaskRef(task),), path=path, parts=(Part(task.name),))
    raise ConfigError("is neither a recipe (has 'tasks') nor a task config (has 'adapter')", file=str(path))


def resolve_recipe(recipe: str | Path | Recipe | None) -> Recipe:
    """A Recipe object from a path (recipe or single task config), or the bundled sample."""
    if isinstance(recipe, Recipe):
        return recipe
    return load(sample_recipe_path() if recipe is None else recipe)
