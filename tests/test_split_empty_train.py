"""A held-out count as large as a task leaves its train split empty: never silently (issue 15)."""

from __future__ import annotations

import json

from komt_data import build

from .mixing_helpers import assert_accounting, recipe

WARNING = "task reviews: all 10 of its records went to held-out splits (validation 10): its train split is empty"


def test_a_validation_count_larger_than_the_task_is_a_warning(tmp_path, cli):
    # The fixture has 10 distinct reviews after exact dedup; 500 asked for takes them all.
    path = recipe(tmp_path, {"tasks": ["reviews.yaml"], "split": {"validation": 500}})
    manifest = build(path, tmp_path / "out")
    assert manifest["tasks"]["reviews"]["splits"] == {"train": 0, "validation": 10}
    assert WARNING in manifest["warnings"]
    assert WARNING in (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert_accounting(manifest)
    shown = cli("build", str(path), "-o", str(tmp_path / "cli"))
    assert f"komt-data: warning: {WARNING}\n" in shown.stderr
    summary = json.loads(cli("build", str(path), "-o", str(tmp_path / "json"), "--json").stdout)
    assert WARNING in summary["warnings"]
    assert cli("build", str(path), "-o", str(tmp_path / "quiet"), "--quiet").output == ""


def test_validation_and_test_together_taking_everything_is_named(tmp_path):
    # A task's own counts (6 + 4 of its 10 records); the recipe-wide fraction for the other.
    body = {"tasks": [{"config": "reviews.yaml", "validation": 6, "test": 4}, "passages.yaml"],
            "split": {"validation": 0.3}}
    manifest = build(recipe(tmp_path, body), tmp_path / "out")
    assert manifest["tasks"]["reviews"]["splits"] == {"train": 0, "validation": 6, "test": 4}
    assert [w for w in manifest["warnings"] if "held-out" in w] == [
        "task reviews: all 10 of its records went to held-out splits (validation 6 and test 4): its train "
        "split is empty"]
    # The other task keeps its train records and is not named.
    assert manifest["tasks"]["passages"]["splits"]["train"] > 0


def test_a_split_that_leaves_train_records_warns_nothing(tmp_path):
    manifest = build(recipe(tmp_path, {"tasks": ["reviews.yaml"], "split": {"validation": 9}}), tmp_path / "out")
    assert manifest["tasks"]["reviews"]["splits"] == {"train": 1, "validation": 9}
    assert not [w for w in manifest["warnings"] if "held-out" in w]


def test_a_task_that_reads_only_dev_into_validation_is_not_named(tmp_path):
    # Its config maps no split to train: an evaluation set by design (issue 13), not a task
    # that lost its train records. The train task beside it keeps its records.
    from .test_evaluation_wins_dedup import REVIEWS, layout

    recipe, dev = layout(tmp_path, near=False, dev_first=False)
    manifest = build(recipe, tmp_path / "out")
    assert manifest["tasks"]["reviews_dev"]["splits"] == {"train": 0, "validation": len(dev)}
    assert [s["split"] for s in manifest["tasks"]["reviews_dev"]["sources"]] == ["validation"]
    assert "split" not in manifest["tasks"]["reviews"]["sources"][0]
    assert manifest["tasks"]["reviews"]["splits"]["train"] == len(REVIEWS) - len(dev)
    assert not [w for w in manifest["warnings"] if "held-out" in w]
    assert_accounting(manifest)


def test_a_task_with_train_files_left_with_no_train_record_is_named(tmp_path):
    # Its train file only repeats its own dev file (read into validation): every train copy
    # loses to its evaluation record, so the task trains on nothing, and says so.
    from .test_evaluation_wins_dedup import COPIED, REVIEWS, _task, _tsv

    rows = [(REVIEWS[i], i % 2) for i in COPIED]
    _tsv(tmp_path / "train.tsv", rows)
    _tsv(tmp_path / "dev.tsv", rows)
    _task(tmp_path / "reviews.yaml", "reviews", {"train": "train.tsv", "dev": "dev.tsv"},
          {"train": "train", "dev": "validation"})
    path = tmp_path / "recipe.yaml"
    path.write_text(json.dumps({"tasks": [str(tmp_path / "reviews.yaml")]}), encoding="utf-8")
    manifest = build(path, tmp_path / "out")
    task = manifest["tasks"]["reviews"]
    assert task["splits"] == {"train": 0, "validation": len(COPIED)}
    assert task["dropped"] == {"duplicate": len(COPIED)}
    assert [w for w in manifest["warnings"] if "held-out" in w] == [
        f"task reviews: all {len(COPIED)} of its records went to held-out splits (validation {len(COPIED)}): "
        "its train split is empty"]
    assert_accounting(manifest)
