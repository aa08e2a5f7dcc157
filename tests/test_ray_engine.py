"""The Ray engine writes the local engine's bytes; without Ray it says what to install.

One local Ray (2 CPUs) serves the whole module; builds on it take a few seconds each, so
the recipes here pack everything stage 2 decides on (duplicates across files and tasks,
bad rows, caps, weights, a validation split, several shards) into few builds.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path

import pytest

import komt_data
from komt_data.config import RECIPE_KEYS
from komt_data.engines import ray_decide
from komt_data.engines.ray_session import portable
from komt_data.errors import DataError, DependencyError, KomtDataError
from komt_data.storage import URL

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ray"


def files_of(directory: Path) -> dict[str, bytes]:
    """Every file of an output directory, by name, as bytes."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with 2 CPUs for this module (skipped when the ray extra is not installed,
    except in CI, which installs it: there a missing Ray must fail, not pass as skipped)."""
    if os.environ.get("CI"):
        import ray
        import ray.data  # noqa: F401
    else:
        ray = pytest.importorskip("ray")
        pytest.importorskip("ray.data")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield ray
    ray.shutdown()


def url_recipe(tmp_path: Path) -> Path:
    """The fixture recipe with NSMC read through a file:// URL glob, as shared storage would be."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data)
    (data / "nsmc.yaml").write_text(
        (FIXTURES / "nsmc.yaml").read_text(encoding="utf-8").replace(
            "files: nsmc/*.jsonl", f"files: {(data / 'nsmc').as_uri()}/*.jsonl"),
        encoding="utf-8")
    return data / "recipe.yaml"


def test_ray_engine_writes_the_same_bytes_as_the_local_engine(local_ray, tmp_path):
    recipe = url_recipe(tmp_path)
    local = komt_data.build(recipe, tmp_path / "local")
    on_ray = komt_data.build(recipe, tmp_path / "ray", engine="ray")

    assert on_ray == local
    assert files_of(tmp_path / "ray") == files_of(tmp_path / "local")
    # The recipe did exercise what the engines must agree on.
    dropped = {name: task["dropped"] for name, task in local["tasks"].items()}
    assert dropped["kornli"]["duplicate"] > 0 and dropped["nsmc"]["over_cap"] > 0
    assert dropped["sample_korquad"]["over_cap"] > 0 and dropped["nsmc"]["invalid_json"] == 1
    assert local["splits"]["validation"] > 0 and len(local["shards"]) > 2
    assert local["tasks"]["nsmc"]["sources"][0]["file"].startswith("file://")


def test_ray_engine_matches_with_exact_dedup_off(local_ray, tmp_path):
    # decide.steps.run skips the exact step: the Ray executor must then carry no-op pointers.
    recipe = url_recipe(tmp_path)
    recipe.write_text(recipe.read_text(encoding="utf-8") + "dedup: {exact: false}\n", encoding="utf-8")
    local = komt_data.build(recipe, tmp_path / "local")
    on_ray = komt_data.build(recipe, tmp_path / "ray", engine="ray")
    assert files_of(tmp_path / "ray") == files_of(tmp_path / "local")
    assert on_ray == local
    assert all("duplicate" not in task["dropped"] for task in local["tasks"].values())
    assert local["tasks"]["nsmc"]["dropped"]["over_cap"] > 0


def test_ray_engine_matches_on_the_sample_with_another_seed(local_ray, tmp_path, sample_recipe):
    local = komt_data.build(sample_recipe, tmp_path / "local", seed=1234)
    on_ray = komt_data.build(sample_recipe, tmp_path / "ray", seed=1234, engine="ray")
    assert on_ray == local and on_ray["seed"] == 1234
    assert files_of(tmp_path / "ray") == files_of(tmp_path / "local")


@pytest.mark.skipif(not {"dedup", "decontaminate", "mixing"} <= RECIPE_KEYS,
                    reason="near dedup, decontamination and mixing: are not in this version (issue 4)")
def test_ray_engine_matches_with_near_dedup_decontamination_and_temperature(local_ray, tmp_path):
    recipe = url_recipe(tmp_path)
    recipe.write_text(recipe.read_text(encoding="utf-8") + """
dedup:
  near: {threshold: 0.8}
decontaminate:
  - files: eval/testset.txt
mixing:
  total: 60
  temperature: 2.0
""", encoding="utf-8")
    local = komt_data.build(recipe, tmp_path / "local")
    on_ray = komt_data.build(recipe, tmp_path / "ray", engine="ray")

    assert files_of(tmp_path / "ray") == files_of(tmp_path / "local")
    assert on_ray == local
    dropped = local["tasks"]["nsmc"]["dropped"]
    assert dropped["near_duplicate"] == 1 and dropped["contaminated"] == 1


def test_ray_engine_fails_on_the_same_row_as_the_local_engine(local_ray, tmp_path):
    recipe = FIXTURES / "recipe.yaml"
    with pytest.raises(DataError) as local:
        komt_data.build(recipe, tmp_path / "local", on_error="fail")
    with pytest.raises(DataError) as on_ray:
        komt_data.build(recipe, tmp_path / "ray", on_error="fail", engine="ray")
    assert str(on_ray.value) == str(local.value)
    assert "xnli.dev.ko.tsv:10" in str(on_ray.value)
    assert not (tmp_path / "ray").exists()


def test_cli_engine_ray_builds_what_the_library_builds_locally(local_ray, cli, tmp_path):
    recipe = FIXTURES / "recipe.yaml"
    local = komt_data.build(recipe, tmp_path / "local")
    result = cli("build", str(recipe), "-o", str(tmp_path / "ray"), "--engine", "ray", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["tasks"]["nsmc"]["written"] == local["tasks"]["nsmc"]["written"] == 12
    assert files_of(tmp_path / "ray") == files_of(tmp_path / "local")


def test_ray_engine_without_ray_names_the_extra(cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees when it is not installed
    with pytest.raises(DependencyError, match=r"pip install 'komt-data\[ray\]'"):
        komt_data.build(None, tmp_path / "out", engine="ray")
    result = cli("build", "-o", str(tmp_path / "out"), "--engine", "ray", "-q")
    assert result.exit_code == 1
    assert result.stderr == "komt-data: error: the ray engine needs Ray Data: pip install 'komt-data[ray]'\n"
    assert not (tmp_path / "out").exists()


def test_an_address_needs_the_ray_engine(tmp_path):
    with pytest.raises(KomtDataError, match="an address is for the ray engine"):
        komt_data.build(None, tmp_path / "out", address="auto")
    with pytest.raises(KomtDataError, match="engine must be one of local, ray, got 'dask'"):
        komt_data.build(None, tmp_path / "out", engine="dask")


def test_workers_get_a_recipe_with_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(FIXTURES, tmp_path / "ray")
    recipe = komt_data.load(Path("ray/recipe.yaml"))
    assert not recipe.tasks[0].config.path.is_absolute()
    moved = portable(recipe)
    kornli = moved.tasks[0].config
    assert moved.path == tmp_path / "ray" / "recipe.yaml"
    assert kornli.path == tmp_path / "ray" / "kornli.yaml"
    assert kornli.source.files == (tmp_path / "ray/kornli/xnli.dev.ko.tsv", tmp_path / "ray/kornli/xnli.test.ko.tsv")
    assert moved.tasks[1].cap == 12 and moved.tasks[0].weight == 2.0
    assert portable((URL("s3://bucket/a.jsonl"), "text")) == (URL("s3://bucket/a.jsonl"), "text")


def test_stage_two_runs_in_ray_workers_and_matches_with_recipe_scope_repeats_and_a_test_count(
        local_ray, tmp_path, monkeypatch):
    recipe = url_recipe(tmp_path)
    recipe.write_text(recipe.read_text(encoding="utf-8").replace("split:\n", "split:\n  test: 3\n") + """
dedup:
  exact: {scope: recipe}
  near: {threshold: 0.8}
mixing:
  total: 200
  repeat: true
""", encoding="utf-8")
    monkeypatch.setattr(ray_decide, "TRACE", True)
    ray_decide.LAST_RUN.clear()
    local = komt_data.build(recipe, tmp_path / "local")
    assert ray_decide.LAST_RUN == {}  # the local engine never goes through the Ray stage 2
    on_ray = komt_data.build(recipe, tmp_path / "ray", engine="ray")

    assert files_of(tmp_path / "ray") == files_of(tmp_path / "local")
    assert on_ray == local
    # Every stage-2 step ran in a Ray worker process, none in this (the driver's) process.
    assert set(ray_decide.LAST_RUN) == {"exact", "decontaminate", "near", "hold", "counts", "sample", "split"}
    for step, pids in ray_decide.LAST_RUN.items():
        assert pids and os.getpid() not in pids, step
    plan = local["plan"]["tasks"]
    assert plan["kornli"]["planned"] > plan["kornli"]["available"]  # repeats were taken
    assert local["splits"]["test"] > 0 and local["tasks"]["nsmc"]["dropped"]["near_duplicate"] == 1


def test_ray_engine_matches_with_few_shot_records(local_ray, tmp_path):
    recipe = url_recipe(tmp_path)
    recipe.write_text(recipe.read_text(encoding="utf-8") + """
prompting:
  fewshot: {share: 0.5, shots: [1, 5]}
""", encoding="utf-8")
    local = komt_data.build(recipe, tmp_path / "local", workers=2)
    on_ray = komt_data.build(recipe, tmp_path / "ray", engine="ray")
    assert files_of(tmp_path / "ray") == files_of(tmp_path / "local")
    assert on_ray == local
    assert sum(task["fewshot"]["records"] for task in local["tasks"].values()) > 0


@pytest.mark.parametrize("near", [False, True])
def test_ray_engine_matches_with_dev_and_test_read_into_their_splits(local_ray, tmp_path, near):
    import yaml

    for split, count in (("train", 30), ("dev", 8), ("test", 5)):
        rows = "".join(f"{i}\t{split} 리뷰 {i}번: 배우들 연기가 {'좋았다' if i % 2 else '아쉬웠다'}\t{i % 2}\n"
                       for i in range(count))
        (tmp_path / "data" / split).mkdir(parents=True)
        (tmp_path / "data" / split / "reviews.tsv").write_text("id\tdocument\tlabel\n" + rows, encoding="utf-8")
    task = tmp_path / "reviews.yaml"
    task.write_text(yaml.safe_dump({
        "name": "reviews", "adapter": "classification", "license": "CC0 1.0", "fields": {"text": "document"},
        "labels": {0: "부정", 1: "긍정"}, "templates_per_example": 2,
        "source": {"files": {s: f"data/{s}/*.tsv" for s in ("train", "dev", "test")},
                   "splits": {"train": "train", "dev": "validation", "test": "test"}}}, allow_unicode=True),
        encoding="utf-8")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"tasks": [{"config": str(task), "cap": 20}], "split": {"validation": 0.1},
                                      **({"dedup": {"near": True}} if near else {})}), encoding="utf-8")
    local = komt_data.build(recipe, tmp_path / "local")
    on_ray = komt_data.build(recipe, tmp_path / "ray", engine="ray")
    assert files_of(tmp_path / "ray") == files_of(tmp_path / "local")
    assert on_ray == local
    # The cap takes 20 train records (10 % of them held out by the recipe); the dev and test
    # files go whole (8 and 5 reviews, two templates each) to validation and test.
    assert local["splits"] == {"train": 18, "validation": 2 + 2 * 8, "test": 2 * 5}


@pytest.mark.parametrize("near", [False, True], ids=["exact", "near"])
@pytest.mark.parametrize("dev_first", [False, True], ids=["train_task_first", "dev_task_first"])
def test_ray_engine_keeps_a_dev_item_over_its_train_copy(local_ray, tmp_path, near, dev_first):
    # decide.rules: a record bound for an evaluation split wins exact and near dedup (issue 13).
    from .test_evaluation_wins_dedup import check_evaluation_kept, layout

    recipe, dev = layout(tmp_path, near=near, dev_first=dev_first)
    local = komt_data.build(recipe, tmp_path / "local")
    on_ray = komt_data.build(recipe, tmp_path / "ray", engine="ray")
    assert files_of(tmp_path / "ray") == files_of(tmp_path / "local")
    assert on_ray == local
    check_evaluation_kept(tmp_path / "ray", on_ray, dev, "near_duplicate" if near else "duplicate")
