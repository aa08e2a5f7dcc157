"""Yes/no questions over a passage: KoBEST BoolQ."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Adapter, text
from .labels import check_label_values, lookup
from .registry import register_adapter

YES, NO = "예", "아니요"


@register_adapter("boolean_qa")
class BooleanQAAdapter(Adapter):
    """A passage, a question about it and its yes/no answer (예 / 아니요).

    KoBEST BoolQ's "questions" are often statements to check against the passage
    ("비글은 넓은 공간에서 키워야 한다."), so ``is_question`` tells the templates that
    speak of a question mark apart. Labels: ``TRUE`` / ``False`` / 1 / 0 out of the box
    (case does not matter); a ``labels:`` map must map onto 예 / 아니요.
    """

    family = "boolean_qa"
    fields = ("passage", "question", "label")
    text_fields = ("passage", "question")
    dedup_fields = ("passage", "question", "answer")
    example_fields = ("passage", "question", "answer", "options", "is_question")
    # Like QA: passage and question each near-identical on its own, the answer equal
    # (komt_data.dedup.near), so the questions sharing a passage stay apart.
    near_dedup_fields = ("passage", "question")
    default_labels = {"true": YES, "false": NO, "1": YES, "0": NO}

    @classmethod
    def check_config(cls, task: Any) -> None:
        super().check_config(task)
        if task.labels:
            check_label_values(task, (YES, NO), "예 or 아니요")

    def adapt(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        question = text(row, "question").strip()
        return [{
            "passage": text(row, "passage"),
            "question": question,
            "answer": lookup(self.labels, row.get("label")),
            "options": [YES, NO],
            "is_question": question.endswith("?"),
        }]
