"""Extractive question answering: KorQuAD 1.0, squad_kor_v1, KLUE-MRC, KorQuAD 2.x (HTML)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..html import html_to_text
from .base import Adapter, Skip, text
from .registry import register_adapter

UNANSWERABLE = "주어진 지문에서는 이 질문의 답을 찾을 수 없습니다."


@register_adapter("qa")
class QAAdapter(Adapter):
    """One question over a passage. Reads the flat Hugging Face squad layout
    (``answers: {text: [...], answer_start: [...]}``), a list of answer objects, or a plain
    ``answer`` string. Unanswerable questions (``is_impossible``) answer that the passage
    does not hold the answer; ``plausible_answers`` are never used as an answer.

    Options: ``unanswerable_text`` (the response for unanswerable questions),
    ``keep_unanswerable`` (default true), ``html`` (default false: KorQuAD 2.x, whose
    contexts are HTML pages; context and answer are both turned into plain text, tables
    and lists kept readable, and a question whose answer cannot be found in the converted
    context is dropped as ``answer_lost``). A wiki slug title (``1988년_하계_올림픽``) is
    written with spaces (:func:`page_title`).
    """

    family = "qa"
    fields = ("context", "question")
    optional_fields = ("answers", "answer", "title", "is_impossible")
    text_fields = ("context", "question", "answer")
    dedup_fields = ("context", "question", "answer")
    example_fields = ("context", "question", "answer", "title", "answerable")
    # Each compared on its own and the answer equal (komt_data.dedup.near): questions that share a
    # passage stay apart, and so does one question asked of two different passages.
    near_dedup_fields = ("context", "question")
    option_names = ("unanswerable_text", "keep_unanswerable", "html")

    @classmethod
    def check_config(cls, task: Any) -> None:
        super().check_config(task)
        from ..errors import ConfigError

        for key in ("keep_unanswerable", "html"):
            if key in task.options and not isinstance(task.options[key], bool):
                raise ConfigError("must be true or false", file=str(task.path), key=f"options.{key}")

    def adapt(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        context = text(row, "context")
        html = bool(self.options.get("html", False))
        if html:
            context = html_to_text(context)
        question = text(row, "question")
        title = row.get("title") or ""
        if not isinstance(title, str):
            title = str(title)
        title = page_title(title)
        if row.get("is_impossible") is True:
            if not self.options.get("keep_unanswerable", True):
                raise Skip("unanswerable", "the question has no answer in the passage")
            answer = self.options.get("unanswerable_text", UNANSWERABLE)
            return [{"context": context, "question": question, "answer": answer, "title": title, "answerable": False}]
        answer = first_answer(row)
        if html:
            answer = html_to_text(answer)
            if not answer or answer not in context:
                raise Skip("answer_lost", f"answer {answer!r:.40} is not in the passage once its HTML is "
                           "turned into text")
        elif answer not in context:
            raise Skip("answer_not_in_context", f"answer {answer!r:.40} is not found in the passage")
        return [{"context": context, "question": question, "answer": answer, "title": title, "answerable": True}]


def page_title(title: str) -> str:
    """A wiki slug as the page's title, the way a reader writes it: KorQuAD 1 and 2 titles
    are slugs (``1988년_하계_올림픽``), where MediaWiki writes each space as an underscore
    (a MediaWiki title never holds one). A title with a space in it is not a slug, kept."""
    return title.replace("_", " ") if "_" in title and " " not in title else title


def first_answer(row: Mapping[str, Any]) -> str:
    """The first non-empty answer text of a row, whatever answer layout it uses."""
    if "answer" in row and row["answer"] is not None:
        return text(row, "answer")
    answers = row.get("answers")
    if isinstance(answers, dict):
        candidates = answers.get("text")
    elif isinstance(answers, list):
        candidates = [a.get("text") if isinstance(a, dict) else a for a in answers]
    elif answers is None:
        raise Skip("missing_field", "field 'answers' is missing or null")
    else:
        raise Skip("wrong_type", f"field 'answers' has an unknown layout: {type(answers).__name__}")
    if not isinstance(candidates, list):
        raise Skip("wrong_type", "field 'answers.text' should be a list of strings")
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return candidate
    raise Skip("missing_answer", "the row has no answer text")
