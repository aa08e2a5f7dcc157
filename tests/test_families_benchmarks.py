"""The benchmark-style families (boolean_qa, cause_effect, continuation, word_sense, ner) on
hand-written rows: the klue-ner reader, the adapters' label maps, the shipped hub mappings
(plain integer labels, as skt/kobest_v1 has them today) and how every template renders."""

from __future__ import annotations

import re

import pytest
import yaml

import komt_data
from komt_data.errors import ConfigError
from komt_data.resources import template_set_path
from komt_data.sources.klue_ner import read_klue_ner
from komt_data.templates import load_template_set
from komt_data.testing import check_adapter, render_all_templates

from .conftest import write
from .layouts_helpers import build_shipped, hub_config_copy, hub_dataset, shipped

# klue-ner layout: file header, sentences with `##` headers, an I- that opens an entity, a
# sentence whose next `##` follows without a blank line, a bad tag, a line without a tab, and a
# last sentence without a final blank line.
NER = (
    "## 토큰, 레이블 구분자 : \\t\n"  # 1
    "## 컬럼명 : CHAR\tNE_TAG\n"  # 2
    "## x_00000\t<서울:LC>에 갔다.\n"  # 3
    "서\tB-LC\n울\tI-LC\n에\tO\n \tO\n갔\tO\n다\tO\n.\tO\n"  # 4-10
    "\n"  # 11
    "## x_00001\t<김:PS> 씨와 <박:PS>\n"  # 12
    "김\tI-PS\n \tO\n씨\tO\n와\tO\n \tO\n박\tB-PS\n"  # 13-18
    "## x_00002\t<오늘:DT>\n"  # 19
    "오\tB-DT\n늘\tX-DT\n"  # 20-21
    "\n"  # 22
    "## x_00003\t다\n"  # 23
    "다 O\n"  # 24
    "\n"  # 25
    "## x_00004\t<1시:TI> \n"  # 26
    "1\tB-TI\n시\tI-TI\n \tI-TI\n"  # 27-29
)


def test_klue_ner_reader_sentences_spans_and_rejections(tmp_path):
    path = write(tmp_path / "ner.tsv", NER)
    rows = list(read_klue_ner(path, "utf-8"))
    assert [line for line, _ in rows] == [3, 12, 19, 23, 26]
    first, second, bad_tag, no_tab, last = (row for _, row in rows)
    assert first == {
        "guid": "x_00000",
        "sentence": "서울에 갔다.",
        "marked": "<서울:LC>에 갔다.",
        "entities": [{"text": "서울", "type": "LC", "start": 0, "end": 2}],
    }
    assert second["sentence"] == "김 씨와 박"
    assert [(e["text"], e["type"]) for e in second["entities"]] == [("김", "PS"), ("박", "PS")]
    assert (bad_tag.reason, no_tab.reason) == ("bad_tag", "wrong_column_count")
    assert "line 21" in bad_tag.detail and "line 24" in no_tab.detail
    # A tagged trailing space is not part of the entity.
    assert last["sentence"] == "1시 " and last["entities"] == [{"text": "1시", "type": "TI", "start": 0, "end": 2}]
    # Windows line ends read the same.
    crlf = write(tmp_path / "crlf.tsv", NER.replace("\n", "\r\n"))
    assert [(line, row) for line, row in read_klue_ner(crlf, "utf-8")] == rows


def test_klue_ner_build_names_rejected_sentences_by_line(tmp_path, monkeypatch):
    data = tmp_path / "data"
    write(data / "KLUE/klue_benchmark/klue-ner-v1.1/klue-ner-v1.1_train.tsv", NER)
    built = build_shipped(
        "klue_ner_files", data, tmp_path / "out", monkeypatch, overrides={"templates_per_example": 20}
    )
    task = built["task"]
    assert task["read"] == 5 and task["dropped"] == {"bad_tag": 1, "wrong_column_count": 1}
    assert sorted((r["reason"], r["line"]) for r in built["rejected"]) == [("bad_tag", 19), ("wrong_column_count", 23)]
    outputs = {r["template"]: r["output"] for r in built["records"] if "서울에 갔다." in r["instruction"]}
    assert outputs["ner/01"] == "서울 (장소)"
    assert outputs["ner/03"] == "<서울:장소>에 갔다."
    assert outputs["ner/04"] == "서울"
    inverted = {r["template"]: r for r in built["records"] if r["output"] == "김 씨와 박"}
    assert "- 김 (인물)" in inverted["ner/09"]["instruction"]  # listed once, though twice in the sentence


def test_ner_adapter_maps_types_and_marks_by_offsets():
    run = check_adapter(
        "ner",
        [
            {
                "sentence": "박 씨가 박물관에 갔다.",
                "entities": [
                    {"text": "박", "type": "PS", "start": 0, "end": 1},
                    {"text": "박물관", "type": "LC", "start": 5, "end": 8},
                ],
            },
            {"sentence": "서울", "entities": [{"text": "서울", "type": "XX"}]},
            {"sentence": "서울", "entities": [{"text": "부산", "type": "LC"}]},
        ],
        templates_per_example=20,
    )
    assert run.dropped == {"unknown_label": 1, "entity_not_in_sentence": 1}
    marked = {r["output"] for r in run.records if r["template"] == "ner/03"}
    assert marked == {"<박:인물> 씨가 <박물관:장소>에 갔다."}


def test_cause_effect_needs_a_label_map_onto_1_or_2():
    row = {
        "premise": "비가 왔다.",
        "question": "결과",
        "alternative_1": "땅이 젖었다.",
        "alternative_2": "땅이 말랐다.",
        "label": 0,
    }
    with pytest.raises(ConfigError, match="key 'labels': needs a labels map"):
        check_adapter("cause_effect", [row])
    with pytest.raises(ConfigError, match="key 'labels.0': must be one of 1, 2"):
        check_adapter("cause_effect", [row], labels={"0": "0", "1": "1"})
    run = check_adapter(
        "cause_effect",
        [row, {**row, "question": "이유"}, {**row, "label": 7}],
        labels={"0": "1", "1": "2"},
        templates_per_example=20,
    )
    assert run.dropped == {"unknown_question": 1, "unknown_label": 1}
    assert {r["output"] for r in run.records if r["template"] == "cause_effect/01"} == {"땅이 젖었다."}


def test_boolean_qa_and_word_sense_read_every_spelling_of_true_and_false():
    rows = [{"passage": "지문", "question": "맞나?", "label": value} for value in ("TRUE", "False", True, 0, "1")]
    run = check_adapter("boolean_qa", rows, templates_per_example=20)
    assert not run.dropped
    answers = [r["output"] for r in run.records if r["template"] == "boolean_qa/01"]
    assert answers == ["예", "아니요", "예", "아니요", "예"]
    word = check_adapter(
        "word_sense",
        [{"word": "배", "sentence1": "[배]가 고프다.", "sentence2": "[배]를 타다.", "label": "FALSE"}],
        templates_per_example=20,
    )
    assert not word.dropped
    assert all("[" not in r["instruction"] + r["output"] for r in word.records)
    assert {r["output"] for r in word.records if r["template"] == "word_sense/03"} == {"다른 뜻"}
    assert {r["output"] for r in word.records if r["template"] == "word_sense/10"} == {"배를 타다."}
    with pytest.raises(ConfigError, match="key 'labels.1': must be one of 예, 아니요"):
        check_adapter("word_sense", [], labels={"1": "같음"})


# The hub copy today: JSONL / parquet with plain integer labels, no ClassLabel names.
HUB_ROWS = {
    "kobest_boolq_hub": (
        {
            "paragraph": ["두아 리파는 잉글랜드의 가수이다.", "두아 리파는 잉글랜드의 가수이다."],
            "question": ["두아 리파는 영국인인가?", "두아 리파는 미국인인가?"],
            "label": [1, 0],
        },
        ["예", "아니요"],
    ),
    "kobest_copa_hub": (
        {
            "premise": ["물을 오래 끓였다.", "우산을 폈다."],
            "question": ["결과", "원인"],
            "alternative_1": ["물의 양이 늘어났다.", "비가 왔다."],
            "alternative_2": ["물의 양이 줄어들었다.", "해가 떴다."],
            "label": [1, 0],
        },
        ["물의 양이 줄어들었다.", "비가 왔다."],
    ),
    "kobest_wic_hub": (
        {
            "word": ["양분", "양분"],
            "context_1": ["토양에 [양분]이 풍부하다.", "토양에 [양분]이 풍부하다."],
            "context_2": ["식물이 [양분]을 흡수한다.", "영토를 [양분]하였다."],
            "label": [1, 0],
        },
        ["예", "아니요"],
    ),
    "kobest_hellaswag_hub": (
        {
            "context": ["라면 물을 올렸다.", "신발 끈을 묶는다."],
            "ending_1": ["면을 넣는다.", "끈을 당긴다."],
            "ending_2": ["물이 끓는다.", "신발을 벗는다."],
            "ending_3": ["그릇을 씻는다.", "매듭을 짓는다."],
            "ending_4": ["불을 끈다.", "양말을 신는다."],
            "label": [1, 2],
        },
        ["물이 끓는다.", "매듭을 짓는다."],
    ),
}
ROW_KEY = {
    "kobest_boolq_hub": "question",
    "kobest_copa_hub": "premise",
    "kobest_wic_hub": "context_2",
    "kobest_hellaswag_hub": "context",
}
FIRST_TEMPLATE = {
    "kobest_boolq_hub": "boolean_qa/01",
    "kobest_copa_hub": "cause_effect/01",
    "kobest_wic_hub": "word_sense/01",
    "kobest_hellaswag_hub": "continuation/01",
}


@pytest.mark.parametrize("name", sorted(HUB_ROWS))
def test_shipped_hub_configs_map_the_hubs_integer_labels(name, tmp_path):
    datasets = pytest.importorskip("datasets")
    rows, expected = HUB_ROWS[name]
    features = datasets.Features({key: datasets.Value("int64" if key == "label" else "string") for key in rows})
    local = hub_dataset(tmp_path / "hub", rows, features)
    config = hub_config_copy(name, local, tmp_path / f"{name}.yaml")
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["templates_per_example"] = 100
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    manifest = komt_data.build(config, tmp_path / "out")
    task = next(iter(manifest["tasks"].values()))
    assert task["read"] == 2 and task["dropped"] == {}
    import orjson

    records = [
        orjson.loads(line)
        for shard in sorted((tmp_path / "out").glob("*-0000*.jsonl"))
        for line in shard.read_bytes().splitlines()
    ]
    firsts = [r for r in records if r["template"] == FIRST_TEMPLATE[name]]
    assert len(firsts) == 2
    key = ROW_KEY[name]
    for record in firsts:  # each output is its own row's answer
        (index,) = [
            i for i, value in enumerate(rows[key]) if value.replace("[", "").replace("]", "") in record["instruction"]
        ]
        assert record["output"] == expected[index]


# Rendering ---------------------------------------------------------------------------------

EXAMPLES = {
    "boolean_qa": [
        {
            "passage": "지문 내용이다.",
            "question": q,
            "answer": a,
            "options": ["예", "아니요"],
            "is_question": q.endswith("?"),
        }
        for q, a in (("맞는가?", "예"), ("맞다.", "예"), ("틀리다.", "아니요"))
    ],
    "cause_effect": [
        {
            "premise": "비가 왔다.",
            "relation": r,
            "asks_cause": r == "원인",
            "alternative_1": "땅이 젖었다.",
            "alternative_2": "땅이 말랐다.",
            "answer": "땅이 젖었다.",
            "answer_number": "1",
            "wrong": "땅이 말랐다.",
            "options": ["땅이 젖었다.", "땅이 말랐다."],
        }
        for r in ("원인", "결과")
    ],
    "continuation": [
        {
            "context": "라면 물을 올렸다.",
            "ending_1": "면을 넣는다.",
            "ending_2": "물이 끓는다.",
            "ending_3": "그릇을 씻는다.",
            "ending_4": "불을 끈다.",
            "answer": "물이 끓는다.",
            "answer_number": "2",
            "options": ["면을 넣는다.", "물이 끓는다.", "그릇을 씻는다.", "불을 끈다."],
        }
    ],
    "word_sense": [
        {
            "word": "배",
            "sentence1": "배가 고프다.",
            "sentence2": "배를 타다.",
            "answer": a,
            "sense": s,
            "same": a == "예",
            "options": ["같은 뜻", "다른 뜻"],
        }
        for a, s in (("예", "같은 뜻"), ("아니요", "다른 뜻"))
    ],
    "ner": [
        {
            "sentence": "김 씨가 서울에 갔다.",
            "entities": ["김 (인물)", "서울 (장소)"],
            "marked": "<김:인물> 씨가 <서울:장소>에 갔다.",
            "has_entities": True,
            "target_type": "장소",
            "target_entities": ["서울"],
            "types": ["인물", "장소"],
        },
        {
            "sentence": "비가 온다.",
            "entities": [],
            "marked": "비가 온다.",
            "has_entities": False,
            "target_type": "",
            "target_entities": [],
            "types": [],
        },
    ],
}


@pytest.mark.parametrize("family", sorted(EXAMPLES))
def test_every_template_renders_and_lists_options_one_per_line(family):
    templates = load_template_set(template_set_path(family)).templates
    assert len(templates) >= 10 and sum(not t.original_task for t in templates) >= 3
    rendered = set()
    for example in EXAMPLES[family]:
        for template_id, instruction, output in render_all_templates(family, example):
            rendered.add(template_id)
            assert instruction and output, template_id
            # The trim_blocks trap: "보기:\n- a\n- b" must not collapse into "보기:- a- b".
            assert not re.search(r"\S- ", instruction), (template_id, instruction)
            for option in example.get("options", []):
                if f"- {option}" in instruction:
                    assert f"\n- {option}" in instruction, (template_id, instruction)
    assert rendered == {t.id for t in templates}  # every template applies to some example


def test_ner_extraction_of_a_sentence_without_entities_says_so():
    outputs = {tid: out for tid, _, out in render_all_templates("ner", EXAMPLES["ner"][1])}
    assert outputs["ner/01"] == outputs["ner/02"] == "없음"
    assert "ner/09" not in outputs  # inverted templates need entities to write about


def test_shipped_kobest_and_ner_configs_train_on_train_only():
    for name in ("kobest_boolq", "kobest_copa", "kobest_wic", "kobest_hellaswag", "kobest_sentineg", "klue_ner"):
        data = yaml.safe_load(shipped(f"{name}_files").read_text(encoding="utf-8"))
        assert data["source"]["files"].endswith("train.tsv"), name
    for name in ("kobest_boolq", "kobest_copa", "kobest_wic", "kobest_hellaswag"):
        assert yaml.safe_load(shipped(f"{name}_hub").read_text(encoding="utf-8"))["source"]["split"] == "train"


def test_klue_ner_reader_stray_bytes_in_a_comment_and_over_long_lines(tmp_path):
    path = tmp_path / "odd.tsv"
    path.write_bytes("## x_1\t<서울:LC>".encode() + b"\xff\n" + "서\tB-LC\n울\tI-LC\n\n## x_2\n".encode()
                     + b"a" * 50 + b"\tO\nb\tO\n")
    (first_line, first), (second_line, second) = read_klue_ner(path, "utf-8", max_line_bytes=20)
    # The comment is information only: its stray byte is shown, not kept as a lone surrogate.
    assert first_line == 1 and first["sentence"] == "서울" and first["marked"] == "<서울:LC>\\xff"
    assert second_line == 5 and second.reason == "line_too_long"
