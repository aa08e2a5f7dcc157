"""End-to-end builds of the bundled sample recipe: output layout, accounting, determinism."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

import komt_data
from komt_data.errors import OutputError


def _shard_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*-of-*.jsonl"))}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("build") / "out"
    return out, komt_data.build(None, out)


def test_layout_matches_design(built):
    out, manifest = built
    names = sorted(p.name for p in out.iterdir())
    assert "manifest.json" in names and "rejected.jsonl" in names
    train = [n for n in names if n.startswith("train-")]
    validation = [n for n in names if n.startswith("validation-")]
    assert train and validation
    assert train[0] == f"train-00000-of-{len(train):05d}.jsonl"
    assert not any(n.startswith(".") or n == "_spool" for n in names)
    on_disk = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == manifest


def test_every_record_has_the_komt_fields_and_text(built):
    out, _ = built
    for shard in out.glob("*-of-*.jsonl"):
        for line in shard.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            assert list(record) == ["id", "task", "template", "instruction", "output", "text"]
            assert record["text"] == f"### instruction: {record['instruction']}\n\n### Response: {record['output']}"
            assert record["id"].startswith(record["task"] + "-")
            for key in ("instruction", "output"):
                assert unicodedata.is_normalized("NFC", record[key])
                assert record[key] == record[key].strip()
    raw = next(out.glob("train-*.jsonl")).read_bytes()
    assert "한".encode() in raw and b"\\u" not in raw  # Korean unescaped


def test_accounting_holds_for_every_task(built):
    out, manifest = built
    rejected = [json.loads(line) for line in (out / "rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(manifest["tasks"]) == 4
    for name, task in manifest["tasks"].items():
        assert task["read"] >= 25, name
        assert task["read"] + task["expanded"] == task["written"] + sum(task["dropped"].values()), name
        assert task["written"] == task["splits"]["train"] + task["splits"]["validation"]
        assert sum(1 for r in rejected if r["task"] == name) == sum(task["dropped"].values())
    shard_total = {}
    for shard in manifest["shards"]:
        lines = (out / shard["path"]).read_bytes().count(b"\n")
        assert lines == shard["records"]
        shard_total[shard["split"]] = shard_total.get(shard["split"], 0) + lines
    assert shard_total == manifest["splits"]
    assert sum(manifest["splits"].values()) == sum(t["written"] for t in manifest["tasks"].values())


def test_shard_checksums_match_manifest(built):
    import hashlib

    out, manifest = built
    for shard in manifest["shards"]:
        assert hashlib.sha256((out / shard["path"]).read_bytes()).hexdigest() == shard["sha256"]


def test_datasets_loads_every_split(built):
    datasets = pytest.importorskip("datasets")
    out, manifest = built
    loaded = datasets.load_dataset("json", data_dir=str(out))
    assert set(loaded) == set(manifest["splits"])
    for split, count in manifest["splits"].items():
        assert loaded[split].num_rows == count
        assert loaded[split].column_names == ["id", "task", "template", "instruction", "output", "text"]


def test_same_seed_same_bytes_other_seed_other_order(built, tmp_path):
    out, manifest = built
    again = tmp_path / "again"
    komt_data.build(None, again)
    assert _shard_bytes(again) == _shard_bytes(out)
    assert (again / "manifest.json").read_bytes() == (out / "manifest.json").read_bytes()
    other = tmp_path / "other"
    komt_data.build(None, other, seed=7)
    ids = [json.loads(line)["id"] for p in sorted(out.glob("train-*")) for line in p.read_text().splitlines()]
    other_ids = [json.loads(line)["id"] for p in sorted(other.glob("train-*")) for line in p.read_text().splitlines()]
    assert ids != other_ids


def test_templates_vary_within_a_task(built):
    out, _ = built
    used: dict[str, set[str]] = {}
    for shard in out.glob("*-of-*.jsonl"):
        for line in shard.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            used.setdefault(record["task"], set()).add(record["template"])
    for task, templates in used.items():
        assert len(templates) >= 5, (task, templates)


def test_refuses_non_empty_foreign_directory(tmp_path):
    target = tmp_path / "notes"
    target.mkdir()
    (target / "important.txt").write_text("내 메모", encoding="utf-8")
    with pytest.raises(OutputError, match="not a komt-data output"):
        komt_data.build(None, target, overwrite=True)
    assert (target / "important.txt").read_text(encoding="utf-8") == "내 메모"


def test_overwrite_replaces_only_our_own_output(tmp_path):
    out = tmp_path / "out"
    komt_data.build(None, out)
    assert komt_data.build(None, out)["up_to_date"] is True  # unchanged: nothing to replace
    with pytest.raises(OutputError, match="--overwrite"):
        komt_data.build(None, out, seed=5)
    manifest = komt_data.build(None, out, overwrite=True, seed=3)
    assert manifest["seed"] == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_a_single_task_config_builds(tmp_path, sample_recipe):
    manifest = komt_data.build(sample_recipe.parent / "klue_nli.yaml", tmp_path / "nli")
    assert list(manifest["tasks"]) == ["sample_klue_nli"]
    assert manifest["splits"] == {"train": manifest["tasks"]["sample_klue_nli"]["written"]}


def test_limit_reads_at_most_n_rows_per_file(tmp_path):
    manifest = komt_data.build(None, tmp_path / "out", limit=5)
    assert {t["read"] for t in manifest["tasks"].values()} == {5}
