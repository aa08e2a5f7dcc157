"""The last step of a build, shared with ``komt-data export``: write the records in the
chosen format, then the dataset card, LLaMA-Factory's dataset_info.json and report.html.

The core writes komt JSONL shards. :func:`finish` streams them once more, through the
chosen :class:`~komt_data.exports.ExportFormat` (a komt build rewrites the very same
bytes) while :class:`~komt_data.write.report.StatsCollector` counts them, and then adds the
files that describe the output (:func:`describe`). :func:`komt_data.write.export.export`
does the same from a finished komt output into another directory.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from ..config import Recipe
from ..decide.rules import empty_train_warnings
from ..exports import get_format, get_prompt
from . import card, licenses, report
from .drops import drop_warnings
from .output_dir import (
    FILES,
    MANIFEST,
    list_files,
    member,
    write_json,
)

REPORT = "report.html"


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


def rewrite(source: Path, manifest: dict[str, Any], target: Path | None, fmt_name: str, shard_size: int,
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
        from ..tokens import token_counter

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


def describe(directory: Path, manifest: dict[str, Any], examples: dict[str, Any] | None = None) -> None:
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
        result = rewrite(stage, manifest, None, "komt", recipe.shard_size, None, recipe.tokenizer, progress, known)
        describe(stage, result, examples)
        return result
    export_dir = stage / "_export"
    export_dir.mkdir()
    result = rewrite(stage, manifest, export_dir, recipe.output_format, recipe.shard_size, None, recipe.tokenizer,
                      progress)
    for shard in manifest["shards"]:
        (stage / shard["path"]).unlink()
    for path in sorted(export_dir.iterdir()):
        path.rename(stage / path.name)
    export_dir.rmdir()
    describe(stage, result, examples)
    return result
