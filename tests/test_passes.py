"""Stage 2 in bounded passes (komt_data.decide.in_passes) decides exactly as the in-memory path does,
however small its blocks, partitions and buckets; figures from length counts match the report's."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import orjson
import pytest
import yaml

import komt_data
from komt_data.config import load
from komt_data.decide import contract, in_passes, steps
from komt_data.decide.in_memory import InMemory
from komt_data.decide.in_passes import InPasses
from komt_data.decide.keys import ORDER, seeded_keys
from komt_data.spool import columns
from komt_data.spool.budget import ErrorBudget
from komt_data.spool.local import runners as _runners
from komt_data.spool.local import spool_local as _read_local
from komt_data.write import figures, order, shards
from komt_data.write.figures import histogram
from komt_data.write.report import summarize

from .mixing_helpers import MIXING


def _tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many partitions, buckets and blocks, and crowded histogram buckets, even for a few thousand records."""
    monkeypatch.setattr(in_passes, "PART", 37)
    monkeypatch.setattr(order, "BUCKET", 50)
    monkeypatch.setattr(columns, "BLOCK", 64)
    monkeypatch.setattr(in_passes, "HISTOGRAM_BITS", 2)  # many records per histogram bucket
    monkeypatch.setattr(shards, "_PIECE_RECORDS", 1)  # shards written by several processes


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two QA tasks whose passages overlap (groups across tasks), with duplicate rows."""
    d = tmp_path_factory.mktemp("passes")
    rng = random.Random(5)
    syllables = [chr(c) for c in range(0xAC00, 0xAC00 + 800)]

    def words(k: int) -> str:
        return " ".join("".join(rng.choices(syllables, k=rng.randint(1, 3))) for _ in range(k))

    contexts = [words(rng.randint(8, 20)) for _ in range(120)]
    for name, n in (("qa", 900), ("qa2", 400)):
        rows: list[dict] = []
        for _ in range(n):
            c = rng.choice(contexts)
            rows.append({"context": c, "question": words(rng.randint(3, 6)) + "?",
                         "answers": {"text": [c.split()[0]], "answer_start": [0]}})
            if rng.random() < 0.1:
                rows.append(dict(rng.choice(rows)))
        (d / f"{name}.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
        (d / f"{name}.yaml").write_text(f"name: {name}\nadapter: qa\nsource:\n  files: {name}.jsonl\ntemplates: qa\n")
    # qa2's rows read again as a dataset's dev file into validation: they win exact dedup
    # over qa2's train copies, across key partitions.
    (d / "qa2_dev.yaml").write_text("name: qa2_dev\nadapter: qa\nsource:\n  files: {dev: qa2.jsonl}\n"
                                    "  splits: {dev: validation}\ntemplates: qa\n")
    return d


RECIPES = {
    "caps_and_counts": {"tasks": [{"config": "qa.yaml", "cap": 300}, "qa2.yaml", str(MIXING / "reviews.yaml")],
                        "mixing": {"cap": 350}, "split": {"validation": 40, "test": 0.05},
                        "decontaminate": [str(MIXING / "testset.txt")]},
    "total_and_groups": {"tasks": ["qa.yaml", "qa2.yaml"], "mixing": {"total": 900, "temperature": 2.0},
                         "split": {"validation": 0.2, "test": 30, "group_by": "context"}},
    "large_held_out_groups": {"tasks": ["qa2.yaml", "qa.yaml"],
                              "split": {"validation": 0.45, "test": 0.3, "group_by": "context"}},
    "repeat": {"tasks": [{"config": "qa2.yaml", "repeat": True}, "qa.yaml"], "mixing": {"total": 3000},
               "split": {"validation": 0.1}, "dedup": {"exact": {"scope": "recipe"}}},
    "evaluation_files": {"tasks": [{"config": "qa2.yaml", "allow_empty": True}, {"config": "qa.yaml", "cap": 500},
                                   "qa2_dev.yaml"],
                         "split": {"validation": 0.1, "group_by": "context"}},
    "no_dedup": {"tasks": [{"config": "qa.yaml", "cap": 500}, "qa2.yaml"], "dedup": {"exact": {"scope": "none"}},
                 "split": {"validation": 0.1, "test": 0.1}},
}


def _recipe(inputs: Path, name: str) -> Path:
    path = inputs / f"{name}.recipe.yaml"
    path.write_text(yaml.safe_dump({"name": name, "seed": 3, "output": {"shard_size": 150}, **RECIPES[name]},
                                   allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_passes_decide_as_the_in_memory_path(inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             name: str) -> None:
    recipe = load(_recipe(inputs, name))
    segments = _read_local(_runners(recipe, 3), tmp_path, limit=None, on_error="skip", max_line_bytes=1 << 20,
                           workers=1, bar=komt_data.spool.contract.NoProgress(), budget=ErrorBudget(None))
    expected = steps.run(recipe, InMemory(recipe, 3, segments))
    _tiny(monkeypatch)
    table = columns.Table(segments, [ref.config.name for ref in recipe.tasks])
    got = steps.run(recipe, InPasses(recipe, 3, table))
    assert got.plan == expected.plan
    np.testing.assert_array_equal(got.reason, expected.reason)
    np.testing.assert_array_equal(got.split, expected.split)
    np.testing.assert_array_equal(got.first_of.index, expected.first_of.index)
    np.testing.assert_array_equal(got.first_of.value, expected.first_of.value)
    assert len(np.unique(got.split)) > 1 and np.any(got.reason != contract.KEEP)  # the recipes decide something

    # The bucket sort of each split gives the stable argsort of its order keys.
    ids = table.column("ids")
    for code in contract.SPLIT_NAMES:
        members = np.flatnonzero(got.split == code)
        stable = members[np.argsort(seeded_keys(ids[members], 3, ORDER), kind="stable")]
        sizes = order.order_split(table, got.split, code, 3, tmp_path / "bucketed", 150)
        assert order.rows_of(table, stable, tmp_path / "direct", 150) == sizes
        assert (tmp_path / "bucketed").read_bytes() == (tmp_path / "direct").read_bytes()


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_builds_with_tiny_passes_and_three_workers_write_the_same_bytes(inputs: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        name: str) -> None:
    recipe = _recipe(inputs, name)
    komt_data.build(recipe, tmp_path / "a")
    _tiny(monkeypatch)
    komt_data.build(recipe, tmp_path / "b", workers=3)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert sum(name.startswith("train-") for name in files) > 1
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


@pytest.mark.parametrize("seed", range(40))
def test_length_counts_summarize_as_the_lengths_do(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 2, 3, 7, 100, 1001, 20000]))
    values = rng.integers(0, int(rng.choice([3, 50, 5000, 20000])), n).astype(np.int64)
    counts = figures._Lengths()
    for part in np.array_split(values, 3):
        counts.add(part)
    assert counts.summary() == summarize(values)
    assert counts.histogram() == histogram(values)


def test_no_lengths_summarize_as_zeros() -> None:
    empty = np.zeros(0, np.int64)
    assert figures._Lengths().summary() == summarize(empty)
    assert figures._Lengths().histogram() == histogram(empty)
