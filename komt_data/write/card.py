"""The files that tell the next tool what the output is: a Hugging Face dataset card
(README.md with YAML front matter) and a LLaMA-Factory ``dataset_info.json``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import yaml

from ..exports import get_format
from . import licenses

CARD = "README.md"
LLAMA_FACTORY = "dataset_info.json"


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def front_matter(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The card's YAML header: licence, language, and ``configs`` with ``data_files`` per split."""
    fmt = get_format(manifest["format"])
    data_files = [{"split": split, "path": fmt.card_glob(split)} for split in manifest["splits"]]
    return {
        "language": ["ko"],
        "license": licenses.combined_hub_license(manifest["tasks"]),
        "pretty_name": manifest["name"],
        "task_categories": ["text-generation"],
        "tags": ["komt", "instruction-tuning", "korean", "flan"],
        "size_categories": [_size_category(sum(manifest["splits"].values()))],
        "configs": [{"config_name": "default", "data_files": data_files}],
    }


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < limit:
            return label
    return "n>10M"


def dataset_card(manifest: Mapping[str, Any]) -> str:
    """README.md for the output directory: what is in it, from which sources, under which licences."""
    header = yaml.safe_dump(front_matter(manifest), allow_unicode=True, sort_keys=False)
    fmt = get_format(manifest["format"])
    stats = manifest.get("stats", {}).get("tasks", {})
    lines = [f"---\n{header}---", "", f"# {manifest['name']}", "",
             "Korean multi-task instruction-tuning data in the [komt](https://github.com/davidkim205/komt) "
             f"format, built with komt-data {manifest['komt_data_version']} "
             f"(seed {manifest['seed']}, recipe fingerprint `{manifest['recipe_fingerprint'][:12]}`).",
             "", f"Format **{manifest['format']}** ({fmt.description}), read by {fmt.consumer}. "
             f"The `text` field uses the **{manifest.get('prompt', 'komt')}** prompt format.", "",
             "| split | records |", "|---|---:|"]
    lines += [f"| {split} | {n} |" for split, n in manifest["splits"].items()]
    lines += ["", "## Tasks", "", "| task | source | rows read | records | share | templates | licence |",
              "|---|---|---:|---:|---:|---:|---|"]
    for name, task in manifest["tasks"].items():
        # File names only: the build machine's directories mean nothing to a reader of the card.
        sources = ", ".join(PurePath(s["file"]).name for s in task["sources"]) or "-"
        share = stats.get(name, {}).get("share")
        templates = len(stats.get(name, {}).get("templates", {}))
        lines.append(f"| {_md(name)} | {_md(sources)} | {task['read']} | {task['written']} | "
                     f"{'-' if share is None else f'{share:.1%}'} | {templates} | {_md(task.get('license') or '?')} |")
    lines += ["", "## Licence lineage", "",
              "Each record keeps the licence of the source it was made from; the mix is only as free as "
              "its most restrictive source.", "", "| task | declared licence | hub id | restrictions |",
              "|---|---|---|---|"]
    for row in licenses.lineage(manifest["tasks"]):
        lines.append(f"| {_md(row['task'])} | {_md(row['license'] or 'not declared')} | {row['hub_id']} | "
                     f"{', '.join(row['restrictions']) or 'none'} |")
    warnings = manifest.get("warnings", [])
    if warnings:
        lines += ["", "**Warnings**", ""] + [f"- {_md(w)}" for w in warnings]
    lines += ["", "## Load it", "", "```python", "from datasets import load_dataset, load_from_disk", ""]
    if manifest["format"] == "hf":
        lines.append('ds = load_from_disk("path/to/this/folder")')
    elif manifest["format"] == "parquet":
        lines.append('ds = load_dataset("parquet", data_dir="path/to/this/folder")')
    else:
        files = ", ".join(f'"{d["split"]}": "{d["path"]}"' for d in front_matter(manifest)["configs"][0]["data_files"])
        lines.append(f'ds = load_dataset("json", data_files={{{files}}})')
    lines += ["```", "", "`manifest.json` records what was built from what (counts per task, drops by reason, "
              "shard checksums), `rejected.jsonl` every dropped row with its reason, and `report.html` the "
              "figures of the mix.", ""]
    return "\n".join(lines)


def llama_factory_info(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """LLaMA-Factory ``dataset_info.json``: an entry per split whose data is one file.

    LLaMA-Factory's ``file_name`` names one file or one folder, so a split sharded into
    several files gets one entry per shard (``name_train_00001``); list them
    comma-separated in ``dataset:``. Formats LLaMA-Factory cannot read (``hf``) get none.
    """
    fmt = get_format(manifest["format"])
    if fmt.llama_factory is None:
        return {}
    base = "".join(ch if ch.isalnum() else "_" for ch in manifest["name"]).strip("_") or "komt_data"
    info: dict[str, Any] = {}
    for split in manifest["splits"]:
        files = [s["path"] for s in manifest["shards"] if s["split"] == split]
        for i, path in enumerate(files):
            key = f"{base}_{split}" if len(files) == 1 else f"{base}_{split}_{i:05d}"
            info[key] = {"file_name": path, **fmt.llama_factory}
    return info
