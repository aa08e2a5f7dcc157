"""The render lint (komt_data.lint): what it catches, and that nothing bundled trips it.

Every bundled template is linted in its source (a placeholder straight before a particle,
a line break trim_blocks eats) and in its renderings: on the fixed examples of its family
(tests/golden/examples.yaml, with and without optional fields), on the bundled sample
build (`make demo`) with and without few-shot records, and on real corpora (KorNLI, KorSTS,
NSMC, KLUE-NLI/NER, KoBEST) when ../shared/corpora is present.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import komt_data
from komt_data.lint import check_rendered, check_template_source
from komt_data.resources import template_set_names, template_set_path
from komt_data.templates import Template, load_template_set

from .layouts_helpers import build_shipped
from .test_golden_templates import EXAMPLES

TEMPLATES = [t for name in template_set_names() for t in load_template_set(template_set_path(name)).templates]


def checks(text: str) -> list[str]:
    return [problem.check for problem in check_rendered(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("보기:- 함의- 중립- 모순", ["collapsed_list", "collapsed_list"]),
    ("보기:\n- 함의- 중립", ["collapsed_list"]),
    ("질문: {{ question }}", ["template_markup", "template_markup"]),
    ("{% if title %}제목", ["template_markup", "template_markup"]),
    ("다음 글을  분류하세요.", ["doubled_space"]),
    ("다음 글을 읽으세요. \n본문", ["space_at_line_end"]),
    ("제목: 김치\n 본문: 김치는", ["space_at_line_start"]),
    ("질문에 답하세요.\n\n\n지문: 김치는", ["blank_lines"]),
    ("질문에 답하세요.\n \n\n지문", ["space_at_line_end", "blank_lines"]),
    ("다음은 ''에 관한 글입니다.", ["empty_brackets"]),
    ("참고 자료 ():", ["empty_brackets"]),
    ("[]\n지문", ["empty_brackets"]),
])
def test_each_check_catches_its_problem(text, expected) -> None:
    assert checks(text) == expected


@pytest.mark.parametrize("text", [
    "보기:\n- 함의\n- 중립\n- 모순", "보기: 함의, 중립, 모순", "1990-2000년, 서울-부산 간 고속도로", "- 2-3명",
    "문장 1: 가\n문장 2: 나\n\n두 문장의 관계는?", "다음은 '김치'에 관한 글입니다.", "참고 자료 (목성):",
    "점수: 4.6", "- 함의\n- 중립",
])
def test_well_formed_text_passes(text) -> None:
    assert checks(text) == []


@pytest.mark.parametrize(("source", "flagged"), [
    ("{{ title }}은 어디에 있나요?", True), ("{{ title }}를 읽고", True), ("'{{ title }}'을 다룬 글", True),
    ("{{ label }}이 정답입니다.", True), ("{{ target_lang }}로 번역하세요.", True), ("{{ a }}와 {{ b }}", True),
    ("{{ x }}이에요", True), ("{{ x }}예요", True), ("{{ x }}이나 {{ y }}", True), ("[{{ title }}]은", True),
    ("{{ title | josa('은/는') }} 어디에 있나요?", False), ("'{{ title }}'{{ title | particle('을/를') }} 다룬", False),
    ("{{ label }}에 해당합니다.", False), ("{{ label }}인 글", False), ("{{ label }}입니다.", False),
    ("{{ target_lang }}에서는", False), ("{{ score }}점", False), ("{{ label }}의 뜻", False), ("{{ x }}이다.", False),
    ("{{ label }} 관계", False), ("{{ a }}\n은행", False),
])
def test_a_placeholder_before_a_particle_needs_the_filter(source, flagged) -> None:
    found = [p.check for p in check_template_source(source)]
    assert found == (["bare_particle"] if flagged else []), source


def test_a_line_break_trim_blocks_eats_is_found() -> None:
    # qa/09 as it was: its first line ended in {% endif %}, and the blank line after it vanished.
    old_qa_09 = ("{% if title %}다음은 '{{ title }}'에 관한 글입니다.{% else %}다음 글을 읽어 보세요.{% endif %}\n\n"
                 "{{ context }}")
    assert [p.check for p in check_template_source(old_qa_09)] == ["eaten_newline"]
    assert Template("qa/99", old_qa_09, "{{ answer }}").render({"title": "", "context": "본문", "answer": "답"})[0] \
        == "다음 글을 읽어 보세요.\n본문"
    for alone in ("보기:\n{% for o in options %}\n- {{ o }}\n{% endfor %}", "{% if t %}[{{ t }}]\n{% endif %}본문",
                  "앞{% if t %} 뒤{% endif %}.\n다음 줄", "한 줄{% if t %} 더 {% endif +%}\n다음 줄"):
        assert check_template_source(alone) == [], alone


def test_the_lists_as_they_were_are_caught() -> None:
    # nli/03 and classification/02 before this fix: `{%- for %}` with trim_blocks glued the list.
    old = "보기:\n{%- for option in options %}\n- {{ option }}\n{%- endfor %}"
    example = {"options": ["함의", "중립", "모순"], "label": "함의"}
    instruction, _ = Template("nli/99", old, "{{ label }}").render(example)
    assert instruction == "보기:- 함의- 중립- 모순"
    assert "collapsed_list" in checks(instruction)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
def test_bundled_template_sources_pass(template) -> None:
    for source in (template.instruction_source, template.response_source):
        assert check_template_source(source) == [], (template.id, check_template_source(source))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
def test_bundled_templates_render_clean_on_every_fixed_example(template) -> None:
    rendered = 0
    set_name = Path(template.file).stem
    for example in EXAMPLES.get(set_name) or EXAMPLES[template.id.split("/")[0]]:
        fields = {k: v for k, v in example.items() if k != "name"}
        if not template.applies_to(fields):
            continue
        for half in template.render(fields):
            assert check_rendered(half) == [], (template.id, example["name"], check_rendered(half))
        rendered += 1
    assert rendered >= 1


def _lint_records(records: list[dict]) -> list[tuple[str, str, list]]:
    return [(r["template"], key, check_rendered(r[key])) for r in records for key in ("instruction", "output", "text")
            if check_rendered(r[key])]


def test_the_sample_build_reads_clean(tmp_path) -> None:
    # What `make demo` writes: no collapsed list, no leftover markup, no wiki slug with underscores.
    out = tmp_path / "out"
    komt_data.build(None, out)
    records = [json.loads(line) for shard in sorted(out.glob("*-of-*.jsonl")) for line in shard.open(encoding="utf-8")]
    assert len(records) == 150
    assert _lint_records(records) == []
    korquad = [r for r in records if r["task"] == "sample_korquad"]
    assert not [r["id"] for r in korquad if "_" in r["instruction"]]
    assert any("1988년 하계 올림픽" in r["instruction"] for r in korquad)
    assert any(r["template"] == "nli/03" and "보기:\n- 함의\n- 중립\n- 모순" in r["instruction"] for r in records)


def test_a_few_shot_build_of_the_sample_reads_clean(tmp_path) -> None:
    # Few-shot records join exemplars and the record's own input: the joins add no blank-line
    # piles, doubled spaces or markup either.
    from komt_data.resources import sample_recipe_path

    recipe = yaml.safe_load(sample_recipe_path().read_text(encoding="utf-8"))
    recipe["tasks"] = [t if isinstance(t, dict) else {"config": t} for t in recipe["tasks"]]
    for task in recipe["tasks"]:
        task["config"] = str(sample_recipe_path().parent / task["config"])
    recipe["prompting"] = {"fewshot": {"share": 0.5, "shots": [1, 3]}}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    komt_data.build(path, out)
    records = [json.loads(line) for shard in sorted(out.glob("*-of-*.jsonl")) for line in shard.open(encoding="utf-8")]
    assert sum(1 for r in records if r.get("shots")) >= 30
    assert _lint_records(records) == []


# Shipped config → (template set, links to make under $KOMT_DATA_DIR: path there → corpus path).
# The configs read the train files of a download; the shared corpora hold dev/test files of
# some datasets, linked at the train names (this test renders text, it trains nothing).
REAL = {
    "korsts_files": ("sts", {}),
    "kornli_files": ("nli", {
        f"KorNLUDatasets/KorNLI/{name}": f"KorNLUDatasets/KorNLI/{corpus}"
        for name, corpus in (("multinli.train.ko.tsv", "xnli.dev.ko.tsv"),
                             ("snli_1.0_train.ko.tsv", "xnli.test.ko.tsv"),
                             ("xnli.dev.ko.tsv", "xnli.dev.ko.tsv"), ("xnli.test.ko.tsv", "xnli.test.ko.tsv"))}),
    "nsmc_raw_files": ("classification", {}),
    "klue_nli_files": ("nli", {"KLUE/klue_benchmark/klue-nli-v1.1/klue-nli-v1.1_train.json":
                               "KLUE/klue_benchmark/klue-nli-v1.1/klue-nli-v1.1_dev.json",
                               "KLUE/klue_benchmark/klue-nli-v1.1/klue-nli-v1.1_dev.json":
                               "KLUE/klue_benchmark/klue-nli-v1.1/klue-nli-v1.1_dev.json"}),
    "klue_ner_files": ("ner", {"KLUE/klue_benchmark/klue-ner-v1.1/klue-ner-v1.1_train.tsv":
                               "KLUE/klue_benchmark/klue-ner-v1.1/klue-ner-v1.1_dev.tsv"}),
    **{f"kobest_{task}_files": (family, {"KoBEST_datarepo/v1.0": "KoBEST/v1.0"})
       for task, family in (("boolq", "boolean_qa"), ("copa", "cause_effect"), ("hellaswag", "continuation"),
                            ("wic", "word_sense"), ("sentineg", "classification"))},
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_corpora_render_clean_with_every_template(corpora, monkeypatch, tmp_path, name) -> None:
    # Every template on the first 40 rows of each file: real text, real labels, every phrasing.
    set_name, links = REAL[name]
    data_dir = corpora
    if links or name == "nsmc_raw_files":
        data_dir = tmp_path / "data"
        for there, corpus_path in links.items():
            (data_dir / there).parent.mkdir(parents=True, exist_ok=True)
            (data_dir / there).symlink_to(corpora / corpus_path)
    if name == "nsmc_raw_files":  # raw/<movie>.json as e9t/nsmc ships it, from the shared JSON Lines copy
        import gzip
        import itertools

        with gzip.open(corpora / "nsmc" / "nsmc_raw_reviews.jsonl.gz", "rt", encoding="utf-8") as f:
            rows = [json.loads(line) for line in itertools.islice(f, 400)]
        (data_dir / "nsmc" / "raw").mkdir(parents=True)
        (data_dir / "nsmc" / "raw" / "10001.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        # The shared corpora have no ratings_test.txt: an empty one (header only) excludes nothing.
        (data_dir / "nsmc" / "ratings_test.txt").write_text("id\tdocument\tlabel\n", encoding="utf-8")
    built = build_shipped(name, data_dir, tmp_path / "out", monkeypatch, overrides={"templates_per_example": 20},
                          limit=40)
    records = built["records"]
    assert {r["template"] for r in records} == {t.id for t in load_template_set(template_set_path(set_name)).templates}
    assert _lint_records(records) == []
