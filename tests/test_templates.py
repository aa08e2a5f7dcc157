"""Lint of every template file, and the sandbox that renders them."""

from __future__ import annotations

import pytest

from komt_data.adapters import adapter_names, get_adapter
from komt_data.errors import TemplateError
from komt_data.resources import template_set_names, template_set_path
from komt_data.templates import Template, load_template_set

FAMILY_FIELDS = {get_adapter(name).family: get_adapter(name).example_fields for name in adapter_names()}


@pytest.mark.parametrize("name", template_set_names())
def test_template_set_lints(name):
    template_set = load_template_set(template_set_path(name))
    assert template_set.family in FAMILY_FIELDS, f"no adapter makes {template_set.family} examples"
    fields = set(FAMILY_FIELDS[template_set.family])
    ids = [t.id for t in template_set.templates]
    assert len(ids) == len(set(ids))
    assert all(i.startswith(f"{template_set.family}/") for i in ids)
    assert len(template_set) >= 8
    assert sum(1 for t in template_set.templates if not t.original_task) >= 2
    for template in template_set.templates:
        assert template.variables, template.id
        assert template.variables <= fields, (template.id, template.variables - fields)
        assert set(template.requires) <= fields, template.id


def test_each_family_has_a_template_set():
    assert {"qa", "summarization", "nli", "translation"} <= set(template_set_names())


def _template(instruction: str, response: str = "{{ label }}") -> Template:
    return Template(id="nli/99", instruction_source=instruction, response_source=response, file="hostile.yaml")


def test_missing_variable_fails_loudly():
    with pytest.raises(TemplateError, match="template 'nli/99': UndefinedError: 'premise' is undefined"):
        _template("전제: {{ premise }}").render({"label": "함의"})


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ label.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    ],
)
def test_sandbox_refuses_python_internals(source):
    with pytest.raises(TemplateError, match="template 'nli/99'"):
        _template(source).render({"label": "함의"})


def test_inverted_qa_templates_need_an_answerable_question():
    template_set = load_template_set(template_set_path("qa"))
    inverted = [t for t in template_set.templates if not t.original_task]
    assert inverted
    unanswerable = {"context": "지문", "question": "질문", "answer": "답 없음", "title": "", "answerable": False}
    assert not any(t.applies_to(unanswerable) for t in inverted)
    assert all(t.applies_to({**unanswerable, "answerable": True}) for t in inverted)
