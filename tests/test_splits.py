"""Held-out splits: fractions and counts, per task or recipe-wide, grouped so passages never straddle."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from komt_data import build
from komt_data.config import Part, Recipe, TaskRef, load
from komt_data.config.schema import SplitSpec
from komt_data.decide.contract import TEST, TRAIN, UNSELECTED, VALIDATION
from komt_data.decide.in_memory import Arrays
from komt_data.decide.rules import split_records

from .mixing_helpers import assert_accounting, recipe, records


def _recipe(n_tasks: int, spec: SplitSpec, overrides=None) -> Recipe:
    sample = load(recipe_path_for_types())
    task = sample.tasks[0].config
    refs = tuple(TaskRef(task, split=(overrides or {}).get(t)) for t in range(n_tasks))
    return Recipe(name="r", tasks=refs, split=spec, parts=tuple(Part(f"t{t}") for t in range(n_tasks)))


def recipe_path_for_types():
    from komt_data.resources import sample_recipe_path

    return sample_recipe_path()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 15), st.booleans()), min_size=1, max_size=300),
    st.one_of(st.floats(0, 0.6), st.integers(0, 50)),
    st.one_of(st.floats(0, 0.3), st.integers(0, 20)),
    st.integers(0, 2**32),
)
def test_no_group_is_in_two_splits(rows, validation, test, seed):
    n = len(rows)
    task = np.array([r[0] for r in rows], np.int64)
    group = np.array([r[1] for r in rows], np.uint64)
    selected = np.array([r[2] for r in rows])
    arrays = Arrays(task=task, family=np.zeros(n, np.int64), example=np.arange(n, dtype=np.int64),
                    key=np.arange(n, dtype=np.uint64), group=group, ids=np.arange(n, dtype=np.uint64) * 7919,
                    rank=np.zeros(n, np.uint16), contaminated=np.full(n, -1, np.int32),
                    overlap=np.zeros(n, np.float32))
    spec = _recipe(3, SplitSpec(validation, test))
    split = split_records(spec, seed, arrays.task, arrays.group, arrays.ids, selected)
    assert np.all((split == UNSELECTED) == ~selected)
    for g in np.unique(group[selected]):
        assert len(set(split[selected & (group == g)].tolist())) == 1, g
    again = split_records(spec, seed, arrays.task, arrays.group, arrays.ids, selected)
    assert np.array_equal(split, again)


def test_counts_are_exact_without_groups():
    n = 100
    arrays = Arrays(task=np.zeros(n, np.int64), family=np.zeros(n, np.int64), example=np.arange(n, dtype=np.int64),
                    key=np.arange(n, dtype=np.uint64), group=np.arange(n, dtype=np.uint64),
                    ids=np.arange(n, dtype=np.uint64), rank=np.zeros(n, np.uint16),
                    contaminated=np.full(n, -1, np.int32), overlap=np.zeros(n, np.float32))
    split = split_records(_recipe(1, SplitSpec(0.1, 7)), 1, arrays.task, arrays.group, arrays.ids, np.ones(n, bool))
    assert [int(np.count_nonzero(split == s)) for s in (TRAIN, VALIDATION, TEST)] == [83, 10, 7]


def test_grouped_split_keeps_each_passage_in_one_split(tmp_path):
    out = tmp_path / "out"
    body = {"tasks": ["passages.yaml"], "split": {"validation": 2, "group_by": "context"}}
    manifest = build(recipe(tmp_path, body), out)
    starts = ("세종은 1443년", "한라산은 제주도", "경복궁은 1395년")
    passage_of: dict[str, set[str]] = {}
    for split in ("train", "validation"):
        for record in records(out, split):
            text = record["instruction"] + record["output"]
            (passage,) = [p for p in starts if p in text]  # inverted templates carry it too
            passage_of.setdefault(passage, set()).add(split)
    assert set(passage_of) == set(starts)
    assert all(len(splits) == 1 for splits in passage_of.values()), passage_of
    assert manifest["tasks"]["passages"]["splits"]["validation"] >= 2
    assert_accounting(manifest)


def test_per_task_split_overrides_the_recipe(tmp_path):
    body = {"tasks": [{"config": "reviews.yaml", "validation": 3, "test": 2}, "passages.yaml"],
            "split": {"validation": 0.0}}
    manifest = build(recipe(tmp_path, body), tmp_path / "out")
    assert manifest["tasks"]["reviews"]["splits"] == {"train": 5, "validation": 3, "test": 2}
    assert manifest["tasks"]["passages"]["splits"] == {"train": 7, "validation": 0, "test": 0}
    assert manifest["splits"] == {"train": 12, "validation": 3, "test": 2}


def test_recipe_wide_count_is_shared_by_size(tmp_path):
    body = {"tasks": ["reviews.yaml", "passages.yaml"], "split": {"validation": 4}}
    manifest = build(recipe(tmp_path, body), tmp_path / "out")
    # 10 reviews and 7 QA records: 4 held out as 2 + 2 (largest remainder: 2.35, 1.65).
    assert manifest["tasks"]["reviews"]["splits"]["validation"] == 2
    assert manifest["tasks"]["passages"]["splits"]["validation"] == 2


def test_a_task_overrides_only_the_split_keys_it_sets(tmp_path):
    body = {"tasks": [{"config": "reviews.yaml", "test": 1}, "passages.yaml"],
            "split": {"validation": 0.3, "test": 0.0}}
    manifest = build(recipe(tmp_path, body), tmp_path / "out")
    # reviews keeps the recipe's 30 % validation (3 of 10) and adds its own test record.
    assert manifest["tasks"]["reviews"]["splits"] == {"train": 6, "validation": 3, "test": 1}
    assert manifest["tasks"]["passages"]["splits"] == {"train": 5, "validation": 2, "test": 0}
