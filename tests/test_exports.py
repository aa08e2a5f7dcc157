"""Every export format loads in its consumer's loader with every record present."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import datasets
import orjson
import pytest
import yaml

import komt_data
from komt_data.errors import ConfigError, OutputError
from komt_data.exports import get_format, get_prompt
from komt_data.resources import bundled_dir


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    """The bundled sample, built once in komt format."""
    out = tmp_path_factory.mktemp("exports") / "out"
    return out, komt_data.build(None, out)


@pytest.fixture(scope="module")
def komt_records(built) -> dict[str, list[dict]]:
    out, manifest = built
    records: dict[str, list[dict]] = {}
    for shard in manifest["shards"]:
        lines = (out / shard["path"]).read_bytes().splitlines()
        records.setdefault(shard["split"], []).extend(orjson.loads(line) for line in lines)
    return records


def _card_data_files(directory: Path) -> dict[str, list[str]]:
    """The card's configs/data_files, expanded against the directory, as datasets would."""
    text = (directory / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---\n")[1])
    files = {}
    for entry in front["configs"][0]["data_files"]:
        files[entry["split"]] = sorted(str(p) for p in directory.glob(entry["path"]))
        assert files[entry["split"]], f"card glob {entry['path']} matches nothing"
    return files


def _recipe_with(tmp_path: Path, **output) -> Path:
    """A copy of the sample recipe (task configs by absolute path) with ``output:`` changed."""
    sample = bundled_dir("task_configs") / "sample"
    data = yaml.safe_load((sample / "recipe.yaml").read_text(encoding="utf-8"))
    data["tasks"] = [{**t, "config": str(sample / t["config"])} if isinstance(t, dict) else str(sample / t)
                     for t in data["tasks"]]
    data["output"].update(output)
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_format_or_prompt_registered_in_process_is_accepted_by_a_recipe(tmp_path, monkeypatch):
    from komt_data.exports import base, prompts

    monkeypatch.setitem(base._FORMATS, "komt-copy", dataclasses.replace(get_format("komt"), name="komt-copy"))
    monkeypatch.setitem(prompts._PROMPTS, "plain", lambda instruction, output: f"{instruction}\n{output}")
    recipe = komt_data.load(_recipe_with(tmp_path, format="komt-copy", prompt="plain"))
    assert (recipe.output_format, recipe.prompt_format) == ("komt-copy", "plain")


def test_a_near_miss_format_gets_a_did_you_mean(tmp_path):
    with pytest.raises(ConfigError, match=r"got 'sharegtp' \(did you mean 'sharegpt'\?\)$"):
        komt_data.load(_recipe_with(tmp_path, format="sharegtp"))


def test_komt_output_loads_with_datasets_json_by_its_card(built, komt_records):
    out, manifest = built
    ds = datasets.load_dataset("json", data_files=_card_data_files(out))
    assert {split: len(ds[split]) for split in ds} == manifest["splits"]
    assert sorted(ds["train"]["id"]) == sorted(r["id"] for r in komt_records["train"])


@pytest.mark.parametrize("fmt", ["alpaca", "sharegpt", "messages"])
def test_jsonl_formats_load_with_all_records_and_roles_in_order(built, komt_records, tmp_path, fmt):
    out, manifest = built
    dest = tmp_path / fmt
    result = komt_data.export(out, fmt, dest)
    assert result["format"] == fmt
    ds = datasets.load_dataset("json", data_files=_card_data_files(dest))
    for split, records in komt_records.items():
        rows = ds[split].to_list()
        assert len(rows) == len(records) == manifest["splits"][split]
        for row, record in zip(rows, records, strict=True):
            if fmt == "alpaca":
                assert row == {"instruction": record["instruction"], "input": "", "output": record["output"]}
            elif fmt == "sharegpt":
                assert row["id"] == record["id"]
                assert [m["from"] for m in row["conversations"]] == ["human", "gpt"]
                assert [m["value"] for m in row["conversations"]] == [record["instruction"], record["output"]]
            else:
                assert row["id"] == record["id"]
                assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
                assert [m["content"] for m in row["messages"]] == [record["instruction"], record["output"]]


def test_komt_json_is_one_array_per_split_that_reproduces_the_komt_prompt(built, komt_records, tmp_path):
    out, _ = built
    komt_data.export(out, "komt-json", tmp_path / "kj")
    for split, records in komt_records.items():
        rows = json.loads((tmp_path / "kj" / f"{split}.json").read_text(encoding="utf-8"))
        assert len(rows) == len(records)
        for row, record in zip(rows, records, strict=True):
            assert set(row) == {"instruction", "output"}
            assert row["instruction"].startswith("### instruction: ")
            # komt's finetune scripts build "{instruction}\n\n### Response:" and append the output.
            assert f"{row['instruction']}\n\n### Response: {row['output']}" == record["text"]


def test_parquet_loads_with_datasets_parquet(built, komt_records, tmp_path):
    out, _ = built
    komt_data.export(out, "parquet", tmp_path / "pq")
    ds = datasets.load_dataset("parquet", data_files=_card_data_files(tmp_path / "pq"))
    for split, records in komt_records.items():
        assert ds[split].to_list() == records


def test_hf_loads_with_load_from_disk(built, komt_records, tmp_path):
    out, manifest = built
    result = komt_data.export(out, "hf", tmp_path / "hf")
    ds = datasets.load_from_disk(str(tmp_path / "hf"))
    for split, records in komt_records.items():
        assert ds[split].to_list() == records
    assert sum(s["records"] for s in result["shards"]) == sum(manifest["splits"].values())
    assert not (tmp_path / "hf" / "dataset_info.json").exists()  # LLaMA-Factory cannot read arrow folders


def test_export_keeps_the_accounting_and_copies_rejected(built, tmp_path):
    out, manifest = built
    result = komt_data.export(out, "alpaca", tmp_path / "a")
    assert result["tasks"] == manifest["tasks"]
    assert (tmp_path / "a" / "rejected.jsonl").read_bytes() == (out / "rejected.jsonl").read_bytes()
    for shard in result["shards"]:
        assert hashlib.sha256((tmp_path / "a" / shard["path"]).read_bytes()).hexdigest() == shard["sha256"]


def test_export_refuses_a_non_komt_source_and_an_unknown_format(built, tmp_path):
    out, _ = built
    komt_data.export(out, "sharegpt", tmp_path / "s")
    with pytest.raises(OutputError, match="was built as sharegpt; export reads komt-format outputs"):
        komt_data.export(tmp_path / "s", "alpaca", tmp_path / "a")
    with pytest.raises(ConfigError, match="unknown output format 'jsonx'"):
        komt_data.export(out, "jsonx", tmp_path / "x")


def test_output_format_in_the_recipe_writes_that_format(tmp_path):
    manifest = komt_data.build(_recipe_with(tmp_path, format="messages"), tmp_path / "out")
    assert manifest["format"] == "messages"
    first = orjson.loads((tmp_path / "out" / manifest["shards"][0]["path"]).read_bytes().splitlines()[0])
    assert set(first) == {"id", "messages"}
    assert sum(s["records"] for s in manifest["shards"]) == sum(t["written"] for t in manifest["tasks"].values())


@pytest.mark.parametrize("fmt", ["parquet", "hf", "komt-json"])
def test_builds_in_every_binary_or_array_format_are_byte_identical(tmp_path, fmt):
    recipe = _recipe_with(tmp_path, format=fmt)
    komt_data.build(recipe, tmp_path / "a")
    komt_data.build(recipe, tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) > 5
    for path in files:
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes(), path


@pytest.mark.parametrize("prompt, start, middle", [
    ("komt", "### instruction: ", "\n\n### Response: "),
    ("alpaca", "### Instruction:\n", "\n\n### Response:\n"),
    ("mistral", "<s>[INST] ", " [/INST] "),
])
def test_prompt_formats_render_the_text_field(tmp_path, prompt, start, middle):
    manifest = komt_data.build(_recipe_with(tmp_path, prompt=prompt), tmp_path / "out")
    assert manifest["prompt"] == prompt
    for line in (tmp_path / "out" / manifest["shards"][0]["path"]).read_bytes().splitlines():
        record = orjson.loads(line)
        assert record["text"] == get_prompt(prompt)(record["instruction"], record["output"])
        assert record["text"].startswith(start) and middle in record["text"]


def test_export_can_rerender_the_prompt(built, tmp_path):
    out, _ = built
    result = komt_data.export(out, "komt", tmp_path / "m", prompt="mistral")
    record = orjson.loads((tmp_path / "m" / result["shards"][0]["path"]).read_bytes().splitlines()[0])
    assert record["text"] == f"<s>[INST] {record['instruction']} [/INST] {record['output']}</s>"


def test_unknown_output_format_and_prompt_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"key 'output.format': must be one of komt, komt-json"):
        komt_data.load(_recipe_with(tmp_path, format="alpaka"))
    with pytest.raises(ConfigError, match=r"key 'output.prompt': must be one of komt, alpaca, mistral"):
        komt_data.load(_recipe_with(tmp_path, prompt="chatml"))
    with pytest.raises(ConfigError, match=r"key 'output.max_tokens': needs output.tokenizer"):
        komt_data.load(_recipe_with(tmp_path, max_tokens=512))


def test_an_export_never_overwrites_a_foreign_directory(built, tmp_path):
    out, _ = built
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputError, match="is not a komt-data output"):
        komt_data.export(out, "alpaca", foreign)
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "keep me"
    shutil.rmtree(foreign)


def test_hf_export_prints_nothing(built, tmp_path, capfd):
    out, _ = built
    komt_data.export(out, "hf", tmp_path / "hf")
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_preview_shows_the_recipes_prompt_format(tmp_path):
    records = komt_data.preview(_recipe_with(tmp_path, prompt="mistral"), 2)
    assert len(records) == 2
    assert all(r["text"] == f"<s>[INST] {r['instruction']} [/INST] {r['output']}</s>" for r in records)


@pytest.mark.parametrize("fmt", ["komt", "komt-json", "sharegpt", "parquet", "hf"])
def test_the_folder_loads_as_a_hub_dataset_through_its_card(built, tmp_path, fmt):
    out, manifest = built
    directory = out if fmt == "komt" else tmp_path / fmt
    if fmt != "komt":
        komt_data.export(out, fmt, directory)
    # load_dataset(<folder>) reads the card's configs/data_files, as the hub does after a push.
    ds = datasets.load_dataset(str(directory))
    assert {split: len(ds[split]) for split in ds} == manifest["splits"]
