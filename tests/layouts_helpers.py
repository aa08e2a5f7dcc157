"""Build a shipped task config against fixture files laid out where its README says to put them."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path
from typing import Any

import orjson

import komt_data
from komt_data.resources import bundled_dir

LAYOUTS = Path(__file__).resolve().parent / "fixtures" / "layouts"


def shipped(name: str) -> Path:
    """Path of a shipped task config under task_configs/."""
    return bundled_dir("task_configs") / f"{name}.yaml"


def lay_out(data_dir: Path, placement: dict[str, str | Path]) -> Path:
    """Copy fixtures into ``data_dir`` (the folder $KOMT_DATA_DIR names): destination → fixture."""
    for dest, fixture in placement.items():
        target = data_dir / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        source = fixture if isinstance(fixture, Path) else LAYOUTS / fixture
        shutil.copyfile(source, target)
    return data_dir


def build_shipped(name: str, data_dir: Path, out: Path, monkeypatch: Any, *,
                  overrides: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """Build shipped config ``name`` with $KOMT_DATA_DIR=data_dir; return manifest, records, rejected.

    ``overrides`` replaces top-level keys in a copy of the config (e.g. ``templates_per_example``
    to render every template). Checks the invariants every build must keep, so each test only
    states its own counts.
    """
    import yaml

    monkeypatch.setenv("KOMT_DATA_DIR", str(data_dir))
    config = shipped(name)
    if overrides:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data.update(overrides)
        config = out.parent / f"{name}.yaml"
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    manifest = komt_data.build(config, out, **kwargs)
    records = [orjson.loads(line) for shard in sorted(out.glob("*.jsonl")) if shard.name != "rejected.jsonl"
               for line in shard.read_bytes().splitlines()]
    rejected = [orjson.loads(line) for line in (out / "rejected.jsonl").read_bytes().splitlines()]
    for task in manifest["tasks"].values():
        assert task["read"] + task["expanded"] == task["written"] + sum(task["dropped"].values())
    assert len(rejected) == sum(sum(t["dropped"].values()) for t in manifest["tasks"].values())
    for record in records:
        for key in ("instruction", "output", "text"):
            assert unicodedata.is_normalized("NFC", record[key]), record[key]
            assert "\ufeff" not in record[key]
    return {"manifest": manifest, "records": records, "rejected": rejected,
            "task": next(iter(manifest["tasks"].values()))}


def hub_dataset(directory: Path, rows: dict[str, list[Any]], features: Any) -> Path:
    """Save ``rows`` with ``features`` as a local dataset folder in the hub's parquet layout.

    ``datasets`` writes the features (ClassLabel names included) into the parquet schema, so
    ``load_dataset(directory)`` gives back the same typed dataset a hub download would.
    """
    from datasets import Dataset

    (directory / "data").mkdir(parents=True, exist_ok=True)
    Dataset.from_dict(rows, features=features).to_parquet(directory / "data" / "train-00000-of-00001.parquet")
    return directory


def hub_config_copy(name: str, dataset_dir: Path, target: Path) -> Path:
    """A copy of shipped hub config ``name`` whose ``hub:`` names a local dataset folder instead.

    Everything else (fields, labels, options, templates) stays as shipped, so the test checks
    the shipped mapping through the real ``datasets.load_dataset`` path.
    """
    import yaml

    data = yaml.safe_load(shipped(name).read_text(encoding="utf-8"))
    data["source"]["hub"] = str(dataset_dir)
    data["source"].pop("config", None)  # a local folder has one configuration
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def inverted_ids(template_set: str) -> set[str]:
    """Ids of the inverted (not original-task) templates of a built-in template set."""
    from komt_data.resources import template_set_path
    from komt_data.templates import load_template_set

    return {t.id for t in load_template_set(template_set_path(template_set)).templates if not t.original_task}


def without_exclude(text: str) -> str:
    """A task config's text without its ``source.exclude`` block (as benchmarks/workloads.py does):
    the shared corpora hold NSMC's raw reviews but no ratings_test.txt."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("  exclude:"))
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    return "".join(lines[:start] + lines[end:])
