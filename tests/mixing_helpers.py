"""Helpers for the mixer tests: recipes over the fixtures in tests/fixtures/mixing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import yaml

MIXING = Path(__file__).resolve().parent / "fixtures" / "mixing"


def recipe(tmp_path: Path, body: dict[str, Any], name: str = "recipe.yaml") -> Path:
    """Write a recipe whose relative task paths resolve against tests/fixtures/mixing."""
    data = dict(body)
    data["tasks"] = [
        {**t, "config": str(MIXING / t["config"])} if isinstance(t, dict) and "config" in t
        else (str(MIXING / t) if isinstance(t, str) else t)
        for t in data["tasks"]
    ]
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def rejected(out: Path) -> list[dict[str, Any]]:
    """The entries of out/rejected.jsonl."""
    return [orjson.loads(line) for line in (out / "rejected.jsonl").read_bytes().splitlines()]


def records(out: Path, split: str | None = None) -> list[dict[str, Any]]:
    """Every record of the output shards (of one split when given)."""
    rows = []
    for shard in sorted(out.glob(f"{split or '*'}-*.jsonl")):
        rows += [orjson.loads(line) for line in shard.read_bytes().splitlines()]
    return rows


def assert_accounting(manifest: dict[str, Any]) -> None:
    """read + expanded == written + sum(dropped) for every task."""
    for name, task in manifest["tasks"].items():
        assert task["read"] + task["expanded"] == task["written"] + sum(task["dropped"].values()), name
