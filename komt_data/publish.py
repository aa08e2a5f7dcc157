"""The last step of a build, and ``komt-data export``: write the records in the chosen
format, then the dataset card, LLaMA-Factory's dataset_info.json and report.html.

The core writes komt JSONL shards. :func:`finish` streams them once more, through the
chosen :class:`~komt_data.exports.ExportFormat` (a komt build rewrites the very same
bytes) while :class:`~komt_data.report.StatsCollector` counts them, and then adds the
files that describe the output. :func:`export` does the same from a finished komt
output into another directory.
"""

from __future__ import annotations

import copy
import shutil
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from . import audit, card, fewshot, licenses, report
from .config import Recipe
from .decide.rules import empty_train_warnings
from .drops import drop_warnings
from .errors import OutputError
from .exports import get_format, get_prompt
from .records import TaskRunner
from .writer import (
    FILES,
    MANIFEST,
    REJECTED,
    is_komt_output,
    list_files,
    member,
    staged_output,
    verify_files,
    write_json,
)

REPORT = "report.html"


def configure_runner(runner: TaskRunner, recipe: Recipe) -> None:
    """Stage-1 settings from ``output:``: the prompt format of ``text`` and the token filters;
    from ``prompting:``, whether records carry a ``shots`` field."""
    runner.prompt = get_prompt(recipe.prompt_format)
    runner.line_checks = audit.stage_one_checks(runner)  # report.html's per-record checks
    runner.shots_field = fewshot.enabled(recipe)
    if recipe.tokenizer and (recipe.min_tokens or recipe.max_tokens):
        from .tokens import length_filter

        runner.record_check = length_filter(recipe.tokenizer, recipe.min_tokens, recipe.max_tokens)


def read_records(directory: Path, manifest: Mapping[str, Any], split: str) -> Iterator[dict[str, Any]]:
    """The komt records of ``split``, shard by shard, in their written order."""
    for shard in manifest["shards"]:
        if shard["split"] == split:
            with open(member(directory, shard["path"]), "rb") as f:
                for line in f:
                    yield orjson.loads(line)


def _with_prompt(records: Iterator[dict[str, Any]], prompt: str | None) -> Iterator[dict[str, Any]]:
    if prompt is None:
        yield from records
        return
    render = get_prompt(prompt)
    for record in records:
        record["text"] = render(record["instruction"], record["output"])
        yield record


def _counted(records: Iterator[dict[str, Any]], bar: Any) -> Iterator[dict[str, Any]]:
    # Sharded writers stop pulling after the last record without exhausting the generator,
    # so the remainder is reported by the caller, not after this loop.
    for n, record in enumerate(records, 1):
        if n % 4096 == 0:
            bar.update(4096)
        yield record


def _rewrite(source: Path, manifest: dict[str, Any], target: Path | None, fmt_name: str, shard_size: int,
             prompt: str | None, tokenizer: str | None, progress: Any = None,
             known: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``manifest``'s splits from ``source`` into ``target`` as ``fmt_name``; return the new manifest.

    With ``target`` None the shards are already what ``fmt_name`` would write (a komt build):
    they are only read, for the figures, and kept as they are; not even read when the
    figures are ``known`` (from stage 1) and no tokenizer has to count tokens.
    """
    if target is None and prompt is None and known is not None and not tokenizer:
        result = copy.deepcopy(manifest)
        result.update(format=fmt_name, shards=list(manifest["shards"]), shard_size=shard_size, stats=known)
        result["licenses"] = licenses.lineage(result["tasks"])
        result["warnings"] = _warnings(result["tasks"])
        return result
    fmt = get_format(fmt_name)
    count_tokens = None
    if tokenizer:
        from .tokens import token_counter

        count_tokens = token_counter(tokenizer)
    collector = report.StatsCollector(manifest["tasks"], count_tokens)
    shards = []
    bar = progress(desc=fmt_name, unit=" records", total=sum(manifest["splits"].values())) if progress else None
    try:
        for split, total in manifest["splits"].items():
            records = collector.observe(_with_prompt(read_records(source, manifest, split), prompt), split)
            if bar is not None:
                records = _counted(records, bar)
            if target is None:
                deque(records, maxlen=0)
                shards += [shard for shard in manifest["shards"] if shard["split"] == split]
            else:
                shards += fmt.write(records, target, split, total, shard_size)
            if bar is not None:
                bar.update(total % 4096)
    finally:
        if bar is not None:
            bar.close()
    result = copy.deepcopy(manifest)
    result.update(format=fmt_name, shards=shards, shard_size=shard_size,
                  stats=collector.result(tokenizer))
    if prompt is not None:
        result["prompt"] = prompt
    result["licenses"] = licenses.lineage(result["tasks"])
    result["warnings"] = _warnings(result["tasks"])
    return result


def _warnings(tasks: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The manifest's ``warnings`` (printed by the CLI, in ``--json``, the card and the report)."""
    return licenses.warnings_for(tasks) + drop_warnings(tasks) + empty_train_warnings(tasks)


def _describe(directory: Path, manifest: dict[str, Any], examples: dict[str, Any] | None = None) -> None:
    (directory / card.CARD).write_text(card.dataset_card(manifest), encoding="utf-8")
    info = card.llama_factory_info(manifest)
    if info:
        write_json(directory / card.LLAMA_FACTORY, info)
    (directory / REPORT).write_text(report.render_html(manifest, examples), encoding="utf-8")
    # Last: every other file, with the size and digest that later checks hold it to.
    manifest[FILES] = list_files(directory)
    write_json(directory / MANIFEST, manifest)


def finish(stage: Path, recipe: Recipe, manifest: dict[str, Any], *, build_fingerprint: str | None = None,
           progress: Any = None) -> dict[str, Any]:
    """Turn the core's komt shards in ``stage`` into the recipe's format and describe the output.

    ``progress`` is the build's tqdm-like factory (one bar for this pass), or None.
    """
    manifest = {**manifest, "prompt": recipe.prompt_format, "build_fingerprint": build_fingerprint}
    known = manifest.pop("stats", None)  # the figures from stage 1 (komt_data.figures)
    examples = manifest.pop("_report", None)  # report.html's examples and checks (komt_data.audit.gather)
    if recipe.output_format == "komt":
        # The core's shards are komt JSONL already, byte for byte what the komt format writes:
        # do not write them a second time (nor read them, unless tokens are to be counted).
        result = _rewrite(stage, manifest, None, "komt", recipe.shard_size, None, recipe.tokenizer, progress, known)
        _describe(stage, result, examples)
        return result
    export_dir = stage / "_export"
    export_dir.mkdir()
    result = _rewrite(stage, manifest, export_dir, recipe.output_format, recipe.shard_size, None, recipe.tokenizer,
                      progress)
    for shard in manifest["shards"]:
        (stage / shard["path"]).unlink()
    for path in sorted(export_dir.iterdir()):
        path.rename(stage / path.name)
    export_dir.rmdir()
    _describe(stage, result, examples)
    return result


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


def export(output: str | Path, fmt: str, dest: str | Path, *, prompt: str | None = None,
           shard_size: int | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Write a finished komt-format output into ``dest`` as ``fmt``; return ``dest``'s manifest.

    ``prompt`` re-renders ``text`` in another prompt format; ``shard_size`` defaults to the
    build's. ``dest`` gets its own card, dataset_info.json, report.html, manifest.json and a
    copy of rejected.jsonl, so it stands on its own.
    """
    source = Path(output)
    # Nothing of the source is trusted before it is checked.
    manifest = load_verified(source)
    get_format(fmt)
    if manifest.get("format", "komt") != "komt":
        raise OutputError(f"{source} was built as {manifest['format']}; export reads komt-format outputs "
                          "(build with output.format: komt, then export)")
    dest = Path(dest)
    if dest.resolve() == source.resolve():
        raise OutputError(f"export needs a destination other than {source}")
    size = shard_size or manifest.get("shard_size") or max((s["records"] for s in manifest["shards"]), default=1)
    with staged_output(dest, overwrite) as stage:
        tokenizer = manifest.get("stats", {}).get("tokenizer")
        result = _rewrite(source, manifest, stage, fmt, max(1, size), prompt, tokenizer)
        result.pop("build_fingerprint", None)  # dest is an export, never "up to date" for a build
        result.pop(FILES, None)  # the source's: dest's own list is made when it is described
        if (source / REJECTED).is_file():
            shutil.copyfile(source / REJECTED, stage / REJECTED)
        _describe(stage, result, audit.audit(source) if manifest.get("format", "komt") == "komt" else None)
    return result
