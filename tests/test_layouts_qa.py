"""QA layouts: KLUE-MRC with unanswerable questions, KorQuAD 2.x HTML, flat squad_kor_v1 rows from the hub."""

from __future__ import annotations

import datasets

import komt_data
from komt_data.adapters.qa import UNANSWERABLE

from .layouts_helpers import build_shipped, hub_config_copy, hub_dataset, inverted_ids, lay_out

INVERTED = inverted_ids("qa")


def test_klue_mrc_unanswerable_questions_say_the_passage_lacks_the_answer(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", {"KLUE/klue_benchmark/klue-mrc-v1.1/klue-mrc-v1.1_train.json": "klue_mrc.json"})
    built = build_shipped("klue_mrc_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    assert task["read"] == 5
    assert task["written"] == 4
    assert task["dropped"] == {"answer_not_in_context": 1}
    answers = {r["output"] for r in built["records"] if r["template"] not in INVERTED}
    # The two is_impossible questions answer "not in the passage", never their plausible answers.
    unanswerable = [r for r in built["records"] if r["output"] == UNANSWERABLE]
    assert len(unanswerable) == 2
    assert all(r["template"] not in INVERTED for r in unanswerable)  # question writing needs an answer
    assert not {"세종", "1418년"} & answers
    for record in built["records"]:
        if record["template"] in INVERTED:  # wrote the question back from passage and answer
            assert record["output"] in ("세종이 훈민정음을 반포한 해는?", "한강의 발원지는 어디인가?")
        else:
            assert record["output"] in (UNANSWERABLE, "1446년", "검룡소")
    assert built["rejected"][0]["input"]["id"] == "m_1-4"
    # squad rows are numbered by question, and the number survives next to the input row
    assert isinstance(built["rejected"][0]["row"], int) and built["rejected"][0]["row"] >= 1


def test_korquad2_html_becomes_readable_text_and_answers_are_still_found(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", {"korquad2/korquad2.1_train_00.json": "korquad2.json"})
    built = build_shipped("korquad2_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    assert (task["read"], task["written"], task["dropped"]) == (5, 4, {"answer_lost": 1})
    assert built["rejected"][0]["input"]["id"] == "q-5"  # its answer was inside a <script>
    text = "\n".join(r["instruction"] for r in built["records"])
    assert "<" not in text.replace("<조선>", "") and "wgTitle" not in text and "color:red" not in text
    assert "서귀포시 | 약 18만 명 | 871km²" in text  # a table row stays one readable line
    assert "- 도목: 녹나무" in text                     # a list item stays a list item
    assert "도청 소재지는 제주시이다." in text           # &nbsp; decoded, spaces tidied
    answers = {"제주시", "871km²", "제주시 | 약 49만 명 | 978km²", "- 도목: 녹나무"}
    questions = {"제주특별자치도의 도청 소재지는?", "서귀포시의 면적은 얼마인가?",
                 "제주시의 인구와 면적을 알려 주는 행은?", "제주도의 도목은 무엇인가?"}
    for record in built["records"]:
        assert record["output"] in (questions if record["template"] in INVERTED else answers)


def test_flat_squad_kor_v1_rows_through_the_hub_config(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    context = ("1839년 바그너는 괴테의 파우스트을 처음 읽고 그 내용에 마음이 끌려 이를 소재로 해서 "
               "하나의 교향곡을 쓰려는 뜻을 갖는다.")
    features = datasets.Features({
        "id": datasets.Value("string"), "title": datasets.Value("string"), "context": datasets.Value("string"),
        "question": datasets.Value("string"),
        "answers": datasets.Sequence({"text": datasets.Value("string"), "answer_start": datasets.Value("int32")}),
    })
    rows = {"id": ["a", "b", "c"], "title": ["파우스트_서곡"] * 3, "context": [context] * 3,
            "question": ["바그너가 쓰려던 것은?", "바그너가 파우스트를 처음 읽은 해는?", "서곡을 완성한 해는?"],
            "answers": [{"text": ["교향곡"], "answer_start": [54]}, {"text": ["1839"], "answer_start": [0]},
                        {"text": ["1840년"], "answer_start": [0]}]}
    local = hub_dataset(tmp_path / "squad_kor_v1", rows, features)
    config = hub_config_copy("korquad_v1_hub", local, tmp_path / "korquad_v1.yaml")
    manifest = komt_data.build(config, tmp_path / "out")
    task = manifest["tasks"]["korquad_v1"]
    assert (task["read"], task["written"], task["dropped"]) == (3, 2, {"answer_not_in_context": 1})
