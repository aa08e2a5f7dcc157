"""Makefile and CI use: an unchanged rebuild is a no-op; --force, --quiet and --json."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from komt_data.resources import bundled_dir


@pytest.fixture
def sample_copy(tmp_path) -> Path:
    """A private copy of the sample recipe and its data, so a test may edit an input."""
    target = tmp_path / "sample"
    shutil.copytree(bundled_dir("task_configs") / "sample", target)
    return target / "recipe.yaml"


def _snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def test_unchanged_rebuild_says_up_to_date_and_touches_nothing(cli, sample_copy, tmp_path):
    out = tmp_path / "out"
    assert cli("build", str(sample_copy), "-o", str(out), "--quiet").exit_code == 0
    before = _snapshot(out)
    dir_stat = (out.stat().st_ino, out.stat().st_mtime_ns)
    result = cli("build", str(sample_copy), "-o", str(out))
    assert result.exit_code == 0
    assert result.stdout == f"{out}/ is up to date (use --force to rebuild)\n"
    assert _snapshot(out) == before
    assert (out.stat().st_ino, out.stat().st_mtime_ns) == dir_stat


def test_changed_input_content_rebuilds(cli, sample_copy, tmp_path):
    out = tmp_path / "out"
    assert cli("build", str(sample_copy), "-o", str(out), "--quiet").exit_code == 0
    data = sample_copy.parent / "data" / "ko_en_parallel_sample.jsonl"
    lines = data.read_text(encoding="utf-8").splitlines(keepends=True)
    data.write_text("".join(lines[:-1]), encoding="utf-8")  # one row fewer, same file name
    result = cli("build", str(sample_copy), "-o", str(out), "--overwrite", "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["status"] == "built"
    assert summary["tasks"]["sample_en_ko"]["read"] == len(lines) - 1


def test_changed_input_without_overwrite_is_refused(cli, sample_copy, tmp_path):
    out = tmp_path / "out"
    assert cli("build", str(sample_copy), "-o", str(out), "--quiet").exit_code == 0
    assert cli("build", str(sample_copy), "-o", str(out), "--seed", "7").exit_code == 1


def test_other_seed_or_limit_is_not_up_to_date(cli, sample_copy, tmp_path):
    out = tmp_path / "out"
    assert cli("build", str(sample_copy), "-o", str(out), "--quiet").exit_code == 0
    for extra in (["--seed", "7"], ["--limit", "3"]):
        result = cli("build", str(sample_copy), "-o", str(out), "--overwrite", "--json", *extra)
        assert json.loads(result.stdout)["status"] == "built", extra


def test_force_rebuilds_an_up_to_date_output(cli, sample_copy, tmp_path):
    out = tmp_path / "out"
    assert cli("build", str(sample_copy), "-o", str(out), "--quiet").exit_code == 0
    before = (out / "manifest.json").stat().st_ino
    result = cli("build", str(sample_copy), "-o", str(out), "--force", "--quiet")
    assert result.exit_code == 0
    assert (out / "manifest.json").stat().st_ino != before


def test_quiet_prints_nothing_on_stdout_and_json_is_machine_readable(cli, sample_copy, tmp_path):
    out = tmp_path / "out"
    quiet = cli("build", str(sample_copy), "-o", str(out), "--quiet")
    assert quiet.stdout == ""
    summary = json.loads(cli("build", str(sample_copy), "-o", str(out), "--json").stdout)
    assert summary["status"] == "up_to_date"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert summary["splits"] == manifest["splits"]
    assert summary["files"] == [s["path"] for s in manifest["shards"]]
    for name, task in manifest["tasks"].items():
        assert summary["tasks"][name]["written"] == task["written"]
    assert any("sample_korquad" in w for w in summary["warnings"])


def test_a_missing_shard_is_not_up_to_date(cli, sample_copy, tmp_path):
    out = tmp_path / "out"
    assert cli("build", str(sample_copy), "-o", str(out), "--quiet").exit_code == 0
    os.remove(out / "validation-00000-of-00001.jsonl")
    result = cli("build", str(sample_copy), "-o", str(out), "--overwrite", "--json")
    assert json.loads(result.stdout)["status"] == "built"
    assert (out / "validation-00000-of-00001.jsonl").is_file()


def test_full_summary_table_ends_a_normal_build(cli, sample_copy, tmp_path):
    result = cli("build", str(sample_copy), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["task", "read", "planned", "written", "train", "valid", "test", "dropped"]
    assert lines[-2].split()[:4] == ["total", "150", "150", "150"]
    assert lines[-1].startswith(f"wrote {tmp_path / 'out'}/ (4 komt files, manifest.json, rejected.jsonl, README.md")


def test_an_edited_adapter_module_is_not_up_to_date(cli, tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    package.mkdir()
    module = package / "my_adapters_for_freshness.py"
    module.write_text("from komt_data.adapters.nli import NLIAdapter\n\nclass Mine(NLIAdapter):\n    pass\n",
                      encoding="utf-8")
    monkeypatch.syspath_prepend(str(package))
    sample = bundled_dir("task_configs") / "sample"
    config = tmp_path / "task.yaml"
    config.write_text(f"name: mine\nadapter: my_adapters_for_freshness:Mine\nlicense: CC BY-SA 4.0\n"
                      f"source:\n  files: {sample / 'data' / 'klue_nli_sample.json'}\n"
                      f"fields:\n  label: gold_label\n", encoding="utf-8")
    out = tmp_path / "out"
    assert cli("build", str(config), "-o", str(out), "--quiet").exit_code == 0
    assert json.loads(cli("build", str(config), "-o", str(out), "--json").stdout)["status"] == "up_to_date"
    module.write_text(module.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    assert json.loads(cli("build", str(config), "-o", str(out), "--json", "--overwrite").stdout)["status"] == "built"


def test_a_build_reads_the_recipe_files_for_its_fingerprint_once(sample_copy, tmp_path, monkeypatch):
    """The recipe fingerprint reads every recipe, task config, template set and evaluation
    file: a build computes it once, for the up-to-date check and the manifest alike."""
    import komt_data
    from komt_data import freshness

    calls = []
    original = freshness.recipe_fingerprint

    def counted(recipe, seed):
        calls.append(seed)
        return original(recipe, seed)

    monkeypatch.setattr(freshness, "recipe_fingerprint", counted)
    manifest = komt_data.build(sample_copy, tmp_path / "out", seed=5)
    assert calls == [5]
    assert manifest["recipe_fingerprint"] == original(komt_data.load(sample_copy), 5)


def test_a_pinned_evaluation_set_revision_is_part_of_the_recipe_fingerprint(sample_recipe):
    # A recipe made in code has no file whose bytes would carry the pin: the revision itself must.
    from dataclasses import replace

    import komt_data
    from komt_data.config.schema import Decontaminate, EvalSet
    from komt_data.freshness import recipe_fingerprint

    recipe = komt_data.load(sample_recipe)
    prints = {revision: recipe_fingerprint(replace(recipe, decontaminate=Decontaminate(
        sets=(EvalSet(name="kobest_sentineg", hub="skt/kobest_v1", revision=revision),))), 42)
        for revision in (None, "abc123", "def456")}
    assert len(set(prints.values())) == 3
