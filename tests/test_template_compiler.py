"""The plain-Python renderers give exactly what Jinja gives, for every bundled template."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from komt_data.template_compiler import compile_template
from komt_data.templates import _compiled, environment, load_template_set

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = [t for path in sorted((ROOT / "templates").glob("*.yaml")) for t in load_template_set(path).templates]

words = st.sampled_from(["", " ", "가", "서울은 한국의 수도이다.", "ㅋㅋ 재밌다", "A\nB", "{{ x }}", "0", "None"])
values = st.one_of(words, st.lists(words, max_size=3), st.booleans(), st.integers(-2, 5),
                   st.floats(0, 5, allow_nan=False), st.none())


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
def test_bundled_templates_take_the_fast_path(template) -> None:
    assert template._fast is not None


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_fast_rendering_equals_jinja(data) -> None:
    for template in TEMPLATES:
        names = sorted(template.variables)
        example = {name: data.draw(values, label=name) for name in names}
        if names and data.draw(st.booleans(), label="drop one"):
            del example[data.draw(st.sampled_from(names), label="dropped")]
        jinja_halves = _compiled(template.instruction_source, template.response_source)
        for fast, jinja_template in zip(template._fast, jinja_halves, strict=True):
            try:
                expected = jinja_template.render(example)
            except Exception:  # Jinja refuses the example (a missing name, a number where a list goes)
                assert fast(example) is None
                continue
            got = fast(example)
            if set(example) == set(names):
                assert got == expected, template.id  # every name present: the fast path must render it
            else:
                assert got is None or got == expected, template.id


def test_unsupported_constructs_are_left_to_jinja() -> None:
    env = environment()
    for source in ("{{ x.y }}", "{{ x | upper }}", "{% for a in b %}{{ loop.index }}{% endfor %}",
                   "{% set y = 1 %}{{ y }}", "{{ x ~ y }}", "{% if x == 1 %}a{% endif %}"):
        assert compile_template(env.parse(source)) is None, source
    fast = compile_template(env.parse("{% if t %}[{{ t }}]\n{% endif %}{{ o | join(' / ') }}"))
    assert fast({"t": "감성", "o": ["긍정", "부정"]}) == "[감성]\n긍정 / 부정"


def test_a_template_that_has_rendered_still_pickles() -> None:
    import pickle

    template = TEMPLATES[0]
    example = {name: "가" for name in template.variables}
    rendered = template.render(example)
    copy = pickle.loads(pickle.dumps(template))
    assert copy == template and copy.render(example) == rendered
