"""KorQuAD titles are wiki slugs; the model sees them as the page's title, with spaces."""

from __future__ import annotations

import pytest

from komt_data.adapters.qa import page_title
from komt_data.testing import check_adapter


@pytest.mark.parametrize(("title", "expected"), [
    ("1988년_하계_올림픽", "1988년 하계 올림픽"), ("대한민국_제6공화국", "대한민국 제6공화국"), ("김치", "김치"),
    ("snake_case 명명법", "snake_case 명명법"),  # a space: not a slug, kept as written
    ("", ""),
])
def test_page_title(title, expected) -> None:
    assert page_title(title) == expected


@pytest.mark.parametrize("html", [False, True])
def test_korquad_titles_reach_the_model_with_spaces(html) -> None:
    context = "<p>1988년 하계 올림픽은 서울에서 열렸다.</p>" if html else "1988년 하계 올림픽은 서울에서 열렸다."
    row = {"title": "1988년_하계_올림픽", "context": context, "question": "1988년 하계 올림픽은 어디에서 열렸나?",
           "answers": {"text": ["서울"], "answer_start": [16]}}
    run = check_adapter("qa", [row], options={"html": html}, templates_per_example=14)
    with_title = [r for r in run.records if r["template"] in ("qa/01", "qa/03", "qa/05", "qa/09", "qa/11", "qa/14")]
    assert len(with_title) == 6
    for record in with_title:
        assert "1988년 하계 올림픽" in record["instruction"] and "_" not in record["instruction"], record["template"]
