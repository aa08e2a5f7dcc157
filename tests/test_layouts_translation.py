"""Translation layouts: AIHub xlsx (원문/번역문 and 한국어/영어 검수), opus-100 rows from the hub,
line-aligned .en / .ko files."""

from __future__ import annotations

import json

import datasets
import orjson
import pytest

import komt_data

from .layouts_helpers import build_shipped, hub_config_copy, hub_dataset, inverted_ids, lay_out

INVERTED = inverted_ids("translation")


def write_xlsx(path, header, rows, sheet="Sheet1"):
    """An Excel workbook the way AIHub ships its parallel corpora: one sheet, a header row."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def test_aihub_xlsx_원문_번역문(tmp_path, monkeypatch):
    data = tmp_path / "data"
    write_xlsx(data / "aihub_ko_en" / "1_구어체(1).xlsx", ["SID", "원문", "번역문"], [
        [1, "'Bible Coloring'은 성경의 아름다운 이야기를 체험 할 수 있는 컬러링 앱입니다.",
         "Bible Coloring' is a coloring application that allows you to experience beautiful stories in the Bible."],
        [2, "씨티은행에서 일하세요?", "Do you work at a City bank?"],
        [None, None, None],                       # a blank row, skipped like a blank line
        [3, "푸리토의 베스트셀러는 해외에서 입소문만으로 4차 완판을 기록하였다.", None],
        [4, 12345, "12345"],                      # a number where text belongs
    ])
    built = build_shipped("aihub_ko_en_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    assert (task["read"], task["written"]) == (4, 2)
    assert task["dropped"] == {"missing_field": 1, "wrong_type": 1}
    assert sorted(r["input"]["SID"] for r in built["rejected"]) == [3, 4]
    for record in built["records"]:
        if record["template"] not in INVERTED:
            assert record["output"] in ("Do you work at a City bank?", "Bible Coloring' is a coloring application "
                                        "that allows you to experience beautiful stories in the Bible.")


def test_aihub_sister_xlsx_한국어_영어검수(tmp_path, monkeypatch):
    data = tmp_path / "data"
    write_xlsx(data / "aihub_ko_en_reviewed" / "tech.xlsx", ["ID", "분야", "한국어", "영어", "영어 검수"], [
        ["T1", "IT", "서버를 재시작하면 설정이 적용됩니다.", "If restart server, setting applied.",
         "Restarting the server applies the settings."],
    ])
    # A sister set spells the column without its space.
    write_xlsx(data / "aihub_ko_en_reviewed" / "law.xlsx", ["ID", "한국어", "영어", "영어검수"], [
        ["L1", "계약은 서면으로 체결한다.", "Contract is signed by writing.", "The contract is concluded in writing."],
    ])
    built = build_shipped("aihub_ko_en_reviewed_files", data, tmp_path / "out", monkeypatch,
                          overrides={"templates_per_example": 100,
                                     "source": {"files": "${KOMT_DATA_DIR}/aihub_ko_en_reviewed/*.xlsx"}})
    outputs = {r["output"] for r in built["records"]}
    assert "The contract is concluded in writing." in outputs
    assert "Contract is signed by writing." not in outputs
    outputs = {r["output"] for r in built["records"]}
    assert "Restarting the server applies the settings." in outputs   # ko → en, reviewed English
    assert "서버를 재시작하면 설정이 적용됩니다." in outputs            # the inverted direction
    assert "If restart server, setting applied." not in outputs


def test_text_pair_files_with_one_line_unaligned(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", {"parallel/talk.en": "parallel/talk.en", "parallel/talk.ko": "parallel/talk.ko"})
    built = build_shipped("parallel_text_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    # Four aligned pairs (a blank pair is skipped) and one English line with no Korean partner.
    assert (task["read"], task["written"], task["dropped"]) == (4, 3, {"unaligned": 1})
    assert built["rejected"][0]["line"] == 5 and built["rejected"][0]["input"] == "Thank you for waiting."


def test_opus100_rows_from_the_hub_both_directions(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    features = datasets.Features({"translation": datasets.Translation(languages=["en", "ko"])})
    rows = {"translation": [{"en": "Where is the nearest subway station?", "ko": "가장 가까운 지하철역이 어디예요?"},
                            {"en": "", "ko": "안녕"}]}
    local = hub_dataset(tmp_path / "opus", rows, features)
    for name, expected in (("opus100_en_ko_hub", "가장 가까운 지하철역이 어디예요?"),
                           ("opus100_ko_en_hub", "Where is the nearest subway station?")):
        config = hub_config_copy(name, local, tmp_path / f"{name}.yaml")
        manifest = komt_data.build(config, tmp_path / name)
        (task,) = manifest["tasks"].values()
        assert (task["read"], task["written"], task["dropped"]) == (2, 1, {"empty_text": 1})
        (record,) = [orjson.loads(line) for line in next((tmp_path / name).glob("train-*.jsonl")).read_bytes()
                     .splitlines()]
        if record["template"] not in INVERTED:
            assert record["output"] == expected


def test_aihub_전문분야_한영_json_trains_on_training_files_only(tmp_path, monkeypatch):
    data = tmp_path / "data" / "aihub_ko_en_reviewed"
    rows = {"training": [{"sn": "1", "한국어": "금리가 오르면 채권 가격은 내려간다.",
                          "영어": "When interest rates rise, bond prices fall."}],
            "validation": [{"sn": "2", "한국어": "물가 상승률이 둔화되었다.", "영어": "Inflation has slowed."}]}
    for split, items in rows.items():
        path = data / "Training" / "02.라벨링데이터" / f"ko2en_economy_1_{split}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"data": items}, ensure_ascii=False), encoding="utf-8")
    built = build_shipped("aihub_ko_en_reviewed_files", tmp_path / "data", tmp_path / "out", monkeypatch,
                          overrides={"templates_per_example": 100})
    assert (built["task"]["read"], built["task"]["sources"][0]["file"].endswith("_training.json")) == (1, True)
    outputs = {r["output"] for r in built["records"]}
    assert "When interest rates rise, bond prices fall." in outputs or "금리가 오르면 채권 가격은 내려간다." in outputs
    assert not any("물가" in r["text"] for r in built["records"])
