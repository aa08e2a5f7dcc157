"""NLI and STS layouts: KLUE-NLI JSON (genre / source), KorNLI TSV in NFD, hub ClassLabel codes,
KorSTS TSV (score) and KLUE-STS (labels.label)."""

from __future__ import annotations

import unicodedata

import datasets
import orjson
import pytest

import komt_data

from .layouts_helpers import LAYOUTS, build_shipped, hub_config_copy, hub_dataset, inverted_ids, lay_out


def test_klue_nli_train_and_dev_rows(tmp_path, monkeypatch):
    folder = "KLUE/klue_benchmark/klue-nli-v1.1"
    data = lay_out(tmp_path / "data", {f"{folder}/klue-nli-v1.1_train.json": "klue_nli_train.json",
                                       f"{folder}/klue-nli-v1.1_dev.json": "klue_nli_dev.json"})
    built = build_shipped("klue_nli_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    # Train only: the dev file is there but is KLUE's evaluation set, never read into training.
    train = orjson.loads((LAYOUTS / "klue_nli_train.json").read_bytes())
    dev = orjson.loads((LAYOUTS / "klue_nli_dev.json").read_bytes())
    assert (task["read"], task["written"], task["dropped"]) == (len(train), len(train), {})
    assert [s["file"].rsplit("/", 1)[-1] for s in task["sources"]] == ["klue-nli-v1.1_train.json"]
    text = "\n".join(r["text"] for r in built["records"])
    assert not any(row["hypothesis"] in text for row in dev)
    # Mapped explicitly, dev becomes the output's validation split, whole and unsampled.
    mapped = build_shipped("klue_nli_files", data, tmp_path / "mapped", monkeypatch,
                           overrides={"source": {"files": {
                               "train": "${KOMT_DATA_DIR}/KLUE/klue_benchmark/klue-nli-v1.1/klue-nli-v1.1_train.json",
                               "dev": "${KOMT_DATA_DIR}/KLUE/klue_benchmark/klue-nli-v1.1/klue-nli-v1.1_dev.json"},
                               "splits": {"train": "train", "dev": "validation"}}})
    assert mapped["manifest"]["splits"] == {"train": len(train), "validation": len(dev)}
    validation = (tmp_path / "mapped" / "validation-00000-of-00001.jsonl").read_text(encoding="utf-8")
    assert all(row["hypothesis"] in validation for row in dev)
    labels = {r["output"] for r in built["records"] if r["template"] not in inverted_ids("nli")}
    assert labels <= {"함의", "중립", "모순", "두 문장의 관계는 함의입니다.", "두 문장의 관계는 중립입니다.",
                      "두 문장의 관계는 모순입니다."}


def test_kornli_tsv_in_nfd_with_stray_quotes(tmp_path, monkeypatch):
    raw = (LAYOUTS / "kornli_nfd.tsv").read_text(encoding="utf-8")
    assert not unicodedata.is_normalized("NFC", raw)  # the fixture really is NFD
    data = lay_out(tmp_path / "data", {"KorNLUDatasets/KorNLI/multinli.train.ko.tsv": "kornli_nfd.tsv"})
    # The SNLI translation: its header only here (the config reads both training files).
    (data / "KorNLUDatasets/KorNLI/snli_1.0_train.ko.tsv").write_text(raw.splitlines()[0] + "\n", encoding="utf-8")
    built = build_shipped("kornli_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    # Five rows, none merged by the stray quotes; SNLI's '-' label has no Korean word.
    assert (task["read"], task["written"], task["dropped"]) == (5, 4, {"unknown_label": 1})
    text = "\n".join(r["text"] for r in built["records"])
    assert '그는 "정말 몰랐다고 말했다.' in text and "아이들이 '놀이터에서 놀고 있다." in text


@pytest.mark.parametrize("streaming", [False, True])
def test_hub_class_labels_are_read_through_the_datasets_own_names(tmp_path, monkeypatch, streaming):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    # An order unlike KLUE's today (entailment, neutral, contradiction): a hard-coded order would fail.
    features = datasets.Features({"premise": datasets.Value("string"), "hypothesis": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["contradiction", "neutral", "entailment"])})
    rows = {"premise": ["비가 와서 경기가 취소되었다.", "한 남자가 공원에서 개와 함께 뛰고 있다.",
                        "아이들이 놀고 있다."],
            "hypothesis": ["경기는 예정대로 열렸다.", "남자가 밖에 있다.", "아이들이 학교에 있다."],
            "label": [0, 2, 1]}
    local = hub_dataset(tmp_path / "klue_nli", rows, features)
    config = hub_config_copy("klue_nli_hub", local, tmp_path / "klue_nli.yaml")
    if streaming:
        config.write_text(config.read_text(encoding="utf-8").replace("source:\n", "source:\n  streaming: true\n"),
                          encoding="utf-8")
        assert "streaming: true" in config.read_text(encoding="utf-8")
    manifest = komt_data.build(config, tmp_path / "out")
    assert manifest["tasks"]["klue_nli"]["written"] == 3
    records = [r for r in _records(tmp_path / "out") if r["template"] not in inverted_ids("nli")]
    expected = {"경기는 예정대로 열렸다.": "모순", "남자가 밖에 있다.": "함의", "아이들이 학교에 있다.": "중립"}
    for record in records:
        hypothesis = next(h for h in expected if h in record["instruction"])
        assert expected[hypothesis] in record["output"]


def test_korsts_tsv_score_column(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", {"KorNLUDatasets/KorSTS/sts-train.tsv": "korsts.tsv"})
    built = build_shipped("korsts_files", data, tmp_path / "out", monkeypatch,
                          overrides={"templates_per_example": 100})
    task = built["task"]
    # Five rows despite two stray quotes; the last one has an empty score.
    assert (task["read"], task["dropped"]) == (5, {"wrong_type": 1})
    by_template = {}
    for record in built["records"]:
        by_template.setdefault(record["template"], []).append(record["output"])
    assert sorted(by_template["sts/01"]) == ["0.4", "2.2", "3.8", "5.0"]  # 2.25 rounds half to even
    assert sorted(by_template["sts/06"]) == ["아니요", "아니요", "예", "예"]


def test_klue_sts_labels_label(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", {"KLUE/klue_benchmark/klue-sts-v1.1/klue-sts-v1.1_train.json": "klue_sts.json"})
    built = build_shipped("klue_sts_files", data, tmp_path / "out", monkeypatch,
                          overrides={"templates_per_example": 100})
    task = built["task"]
    assert (task["read"], task["dropped"]) == (3, {})
    similar = [r for r in built["records"] if r["template"] == "sts/06"]
    assert len(similar) == 3
    for record in similar:  # 3.7 is a paraphrase at the default threshold of 3.0; 0.0 and 0.3 are not
        assert record["output"] == ("예" if "반지하" in record["instruction"] else "아니요")
    scores = sorted(r["output"] for r in built["records"] if r["template"] == "sts/01")
    assert scores == ["0.0", "0.3", "3.7"]


def _records(out):
    import orjson

    return [orjson.loads(line) for shard in sorted(out.glob("train-*.jsonl"))
            for line in shard.read_bytes().splitlines()]
