"""The dataset card, LLaMA-Factory's dataset_info.json and the licence warnings."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml

import komt_data
from komt_data.write.licenses import hub_license_id, restrictions, warnings_for


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("card") / "out"
    return out, komt_data.build(None, out)


@pytest.mark.parametrize("text, expected", [
    ("CC BY-ND 2.0 KR", ["no-derivatives"]),          # KorQuAD 1.0
    ("CC BY-SA 4.0", []),                              # KLUE
    ("CC BY-NC-SA 4.0", ["non-commercial"]),
    ("cc-by-nc-nd-4.0", ["no-derivatives", "non-commercial"]),
    ("AIHub 이용약관 (재배포 금지)", ["no-redistribution"]),
    ("Apache-2.0", []),
    ("unknown", ["undeclared"]),
    (None, ["undeclared"]),
])
def test_restrictive_terms_are_recognised(text, expected):
    assert restrictions(text) == expected


@pytest.mark.parametrize("text, hub_id", [
    ("CC BY-SA 4.0", "cc-by-sa-4.0"), ("Apache-2.0", "apache-2.0"), ("CC0-1.0", "cc0-1.0"),
    ("CC BY-ND 2.0 KR", "other"),  # a ported licence has no hub id of its own
    ("AIHub", "other"), (None, "unknown"),
])
def test_hub_licence_ids(text, hub_id):
    assert hub_license_id(text) == hub_id


def test_sample_build_warns_on_korquad_no_derivatives(built):
    _, manifest = built
    warnings = manifest["warnings"]
    assert any(w.startswith("task sample_korquad: licence (CC BY-ND 2.0 KR) forbids derivatives") for w in warnings)
    assert not any("sample_klue_nli" in w for w in warnings)
    assert {row["task"]: row["license"] for row in manifest["licenses"]}["sample_klue_nli"] == "CC BY-SA 4.0"


def test_aihub_and_non_commercial_sources_warn():
    tasks = {"aihub_summary": {"license": "AIHub (may not be redistributed)", "written": 5},
             "nc": {"license": "CC BY-NC 4.0", "written": 5}}
    lines = warnings_for(tasks)
    assert lines == [
        "task aihub_summary: licence (AIHub (may not be redistributed)) may not be redistributed: "
        "do not publish this output",
        "task nc: licence (CC BY-NC 4.0) is non-commercial: a model or dataset built from it cannot be used "
        "commercially",
    ]


def test_cli_prints_the_licence_warnings_on_stderr_unless_quiet(cli, tmp_path):
    result = cli("build", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0
    assert "warning" not in result.stdout
    assert "komt-data: warning: task sample_korquad: licence (CC BY-ND 2.0 KR) forbids derivatives" in result.stderr
    assert cli("build", "-o", str(tmp_path / "quiet"), "--quiet").output == ""


def test_card_front_matter_names_each_split_and_the_files_exist(built):
    out, manifest = built
    text = (out / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["language"] == ["ko"]
    assert front["license"] == "other"  # the tasks' licences differ
    data_files = front["configs"][0]["data_files"]
    assert [d["split"] for d in data_files] == list(manifest["splits"])
    for entry in data_files:
        matched = sorted(p.name for p in out.glob(entry["path"]))
        assert matched == [s["path"] for s in manifest["shards"] if s["split"] == entry["split"]]


def test_card_has_a_task_table_and_the_licence_lineage(built):
    out, manifest = built
    text = (out / "README.md").read_text(encoding="utf-8")
    for name, task in manifest["tasks"].items():
        share = manifest["stats"]["tasks"][name]["share"]
        templates = len(manifest["stats"]["tasks"][name]["templates"])
        assert f"| {name} | " in text
        assert f"| {task['read']} | {task['written']} | {share:.1%} | {templates} |" in text
    assert "## Licence lineage" in text
    assert "| sample_korquad | CC BY-ND 2.0 KR | other | no-derivatives |" in text


def test_llama_factory_dataset_info_points_at_real_files(built):
    out, manifest = built
    info = orjson.loads((out / "dataset_info.json").read_bytes())
    named = sorted(entry["file_name"] for entry in info.values())
    assert named == sorted(s["path"] for s in manifest["shards"])
    for entry in info.values():
        assert (out / entry["file_name"]).is_file()
        assert entry["formatting"] == "alpaca"
        assert entry["columns"] == {"prompt": "instruction", "response": "output"}
    assert "komt_sample_validation" in info  # a split in one file gets one entry named for the split


def test_sharegpt_dataset_info_declares_its_tags(built, tmp_path):
    out, _ = built
    komt_data.export(out, "messages", tmp_path / "m")
    info = orjson.loads((tmp_path / "m" / "dataset_info.json").read_bytes())
    entry = info["komt_sample_validation"]
    assert entry["formatting"] == "sharegpt"
    assert entry["columns"] == {"messages": "messages"}
    assert entry["tags"]["role_tag"] == "role" and entry["tags"]["user_tag"] == "user"


def test_a_task_without_a_licence_is_told_to_declare_one():
    assert warnings_for({"t": {"license": None, "written": 1}}) == [
        "task t: declares no licence (license: in its task config): check its source's terms before you share "
        "the output"]


def test_shipped_task_configs_warn_where_their_sources_restrict():
    from komt_data.config import read_yaml
    from komt_data.resources import task_config_paths

    checked = 0
    for path in task_config_paths():
        data = read_yaml(path)
        terms = restrictions(data.get("license"))
        if path.stem.startswith("aihub"):
            assert "no-redistribution" in terms, path.name
            checked += 1
        elif path.stem.startswith("korquad"):
            assert "no-derivatives" in terms, path.name
            checked += 1
        elif path.stem.startswith(("klue", "kornli", "korsts", "nsmc")):
            assert terms == [], (path.name, data.get("license"))
            checked += 1
    assert checked >= 10
