"""The adapter registry and the four core families on hand-written Korean rows."""

from __future__ import annotations

import json

import pytest

import komt_data
from komt_data.adapters import Adapter, Skip, get_adapter, register_adapter
from komt_data.adapters.registry import _REGISTRY
from komt_data.errors import ConfigError
from komt_data.resources import template_set_path
from komt_data.templates import load_template_set

from .conftest import write


class PoemAdapter(Adapter):
    """A custom family used through `module:Class` in YAML."""

    family = "summarization"
    fields = ("document", "summary")
    text_fields = ("document", "summary")
    dedup_fields = ("document",)
    example_fields = ("document", "summary", "title")

    def adapt(self, row):
        if row["summary"] == "건너뛰기":
            raise Skip("poem_skipped", "요약이 없습니다")
        yield {"document": row["document"], "summary": row["summary"], "title": ""}


def test_builtin_families_are_registered():
    for name in ("qa", "summarization", "nli", "translation"):
        assert get_adapter(name).family == name


def test_decorator_registers_and_duplicate_names_are_refused():
    try:
        @register_adapter("test_poem")
        class Poem(PoemAdapter):
            pass

        assert get_adapter("test_poem") is Poem
        with pytest.raises(ConfigError, match="adapter name 'test_poem' is taken by"):
            register_adapter("test_poem")(PoemAdapter)
        with pytest.raises(ConfigError, match="adapter name 'nli' is taken"):
            register_adapter("nli")(PoemAdapter)
    finally:
        _REGISTRY.pop("test_poem", None)


def test_module_class_path_in_yaml_builds(tmp_path):
    write(tmp_path / "poems.jsonl",
          '{"document": "동해 물과 백두산이 마르고 닳도록", "summary": "애국가의 첫 구절"}\n'
          '{"document": "산 너머 남촌에는 누가 살길래", "summary": "건너뛰기"}\n')
    config = write(tmp_path / "poems.yaml",
                   "name: poems\nadapter: tests.test_adapters:PoemAdapter\nsource: {files: poems.jsonl}\n"
                   "templates: summarization\n")
    manifest = komt_data.build(config, tmp_path / "out")
    task = manifest["tasks"]["poems"]
    assert (task["read"], task["written"], task["dropped"]) == (2, 1, {"poem_skipped": 1})


def test_qa_reads_nested_and_flat_layouts_and_checks_the_answer(tmp_path):
    context = "세종대왕은 1443년에 훈민정음을 창제하였다."
    rows = [
        {"id": "1", "title": "훈민정음", "context": context, "question": "훈민정음을 창제한 해는?",
         "answers": {"text": ["1443년"], "answer_start": [6]}},
        {"id": "2", "title": "훈민정음", "context": context, "question": "창제한 왕은?",
         "answers": {"text": ["태종"], "answer_start": [0]}},
    ]
    flat = write(tmp_path / "flat.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    config = write(tmp_path / "qa.yaml", f"name: flat_qa\nadapter: qa\nsource: {{files: {flat.name}}}\n")
    manifest = komt_data.build(config, tmp_path / "out")
    assert manifest["tasks"]["flat_qa"]["dropped"] == {"answer_not_in_context": 1}
    assert manifest["tasks"]["flat_qa"]["written"] == 1


def test_nli_unknown_label_is_dropped_with_reason(tmp_path):
    rows = write(tmp_path / "nli.jsonl",
                 '{"premise": "아이가 공원에서 뛰어논다.", "hypothesis": "아이가 밖에 있다.", "label": "entailment"}\n'
                 '{"premise": "아이가 공원에서 뛰어논다.", "hypothesis": "아이가 잠을 잔다.", "label": "-"}\n')
    config = write(tmp_path / "nli.yaml", f"name: nli\nadapter: nli\nsource: {{files: {rows.name}}}\n")
    out = tmp_path / "out"
    manifest = komt_data.build(config, out)
    assert manifest["tasks"]["nli"]["dropped"] == {"unknown_label": 1}
    rejected = (out / "rejected.jsonl").read_text(encoding="utf-8")
    assert '"line":2' in rejected and '"reason":"unknown_label"' in rejected


def test_translation_uses_korean_language_names(tmp_path):
    rows = write(tmp_path / "pairs.jsonl", '{"translation": {"en": "Good morning.", "ko": "좋은 아침입니다."}}\n')
    config = write(tmp_path / "mt.yaml",
                   f"name: mt\nadapter: translation\nsource: {{files: {rows.name}}}\n"
                   "fields: {source: translation.en, target: translation.ko}\n"
                   "options: {source_lang: en, target_lang: ko}\ntemplates_per_example: 100\n")
    records = komt_data.preview(config, n=200)
    assert len(records) == len(load_template_set(template_set_path("translation")))  # every template once
    forward = [r for r in records if r["output"] == "좋은 아침입니다."]
    backward = [r for r in records if r["output"] == "Good morning."]
    assert forward and backward
    assert all("영어" in r["instruction"] or "한국어" in r["instruction"] for r in records)


class ReusedOptionsAdapter(Adapter):
    """Hands out one options list, changed in place for every row (and numbers for text)."""

    family = "classification"
    fields = ("text", "label")
    text_fields = ("text",)
    dedup_fields = ("text",)
    example_fields = ("text", "label", "options", "task_hint")

    def __init__(self, options=None, labels=None):
        super().__init__(options, labels)
        self.shared: list = []

    def adapt(self, row):
        import numpy as np

        self.shared[:] = [np.array(o) if isinstance(o, list) else o for o in row["options"]]
        return [{"text": row["text"], "label": row["label"], "options": self.shared, "task_hint": ""}]


def test_each_example_renders_its_own_options_when_the_adapter_reuses_a_list(tmp_path):
    """The runner remembers the last options list it cleaned (label options repeat row after
    row); a list changed in place, or numbers equal to the last ones, must not reuse it."""
    from komt_data.testing import run_adapter

    templates = write(tmp_path / "options.yaml", """
family: classification
templates:
  - id: options/01
    instruction: "{{ text }} 선택지: {{ options | join(', ') }}"
    response: "{{ label }}"
""")
    rows = [{"text": "가", "label": "예", "options": ["예", "아니오"]},
            {"text": "나", "label": "예", "options": ["예", "아니오", "모름"]},
            {"text": "다", "label": "1", "options": [1, 0]},
            {"text": "라", "label": "True", "options": [True, False]},
            {"text": "마", "label": "예", "options": ["예", "아니오"]}]
    run = run_adapter(ReusedOptionsAdapter, rows, templates=templates)
    rendered = [r["instruction"] for r in run.records]
    assert len(rendered) == 5
    for row, instruction in zip(rows, rendered, strict=True):
        for option in row["options"]:
            assert str(option) in instruction, (row, instruction)
    assert "모름" not in rendered[0] and "모름" in rendered[1] and "모름" not in rendered[4]
    assert "True" not in rendered[2] and "True" in rendered[3]
    # Elements that cannot say whether they equal text (numpy arrays): printed item by item,
    # since a template prints text and numbers only, never an array's repr.
    arrays = write(tmp_path / "arrays.yaml", """
family: classification
templates:
  - id: options/01
    instruction: "{{ text }} 선택지: {% for o in options %}{{ o|first }}{{ o|last }} {% endfor %}"
    response: "{{ label }}"
""")
    rows = [{"text": "가", "label": "예", "options": ["예", "아니오"]},
            {"text": "바", "label": "예", "options": [[1, 2], [3, 4]]},
            {"text": "마", "label": "예", "options": ["예", "아니오"]}]
    rendered = [r["instruction"] for r in run_adapter(ReusedOptionsAdapter, rows, templates=arrays).records]
    assert rendered == ["가 선택지: 예예 아오", "바 선택지: 12 34", "마 선택지: 예예 아오"]


class OneDictAdapter(ReusedOptionsAdapter):
    def adapt(self, row):
        return {"text": row["text"], "label": row["label"], "options": [], "task_hint": ""}


def test_an_adapter_returning_one_example_instead_of_a_list_is_named():
    from komt_data.errors import AdapterError
    from komt_data.testing import run_adapter

    with pytest.raises(AdapterError, match="OneDictAdapter.*returned one example"):
        run_adapter(OneDictAdapter, [{"text": "가", "label": "예", "options": []}], templates="classification")

