"""Choosing the sentence that continues a text, out of four: KoBEST HellaSwag."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Adapter, text
from .labels import check_label_values, lookup
from .registry import register_adapter

ENDINGS = ("ending_1", "ending_2", "ending_3", "ending_4")


@register_adapter("continuation")
class ContinuationAdapter(Adapter):
    """A context, four candidate endings and the one that follows it naturally.

    The ``labels:`` map is required and maps each source label to the number of the right
    ending, ``1`` to ``4`` (KoBEST's files and hub copy both say 0–3).
    """

    family = "continuation"
    fields = ("context", *ENDINGS, "label")
    text_fields = ("context", *ENDINGS)
    dedup_fields = ("context", *ENDINGS, "answer")
    example_fields = ("context", *ENDINGS, "answer", "answer_number", "options")
    near_dedup_fields = dedup_fields

    @classmethod
    def check_config(cls, task: Any) -> None:
        super().check_config(task)
        check_label_values(task, ("1", "2", "3", "4"), "the number of the right ending, 1 to 4")

    def adapt(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        endings = [text(row, name) for name in ENDINGS]
        number = lookup(self.labels, row.get("label"))
        return [{
            "context": text(row, "context"),
            **dict(zip(ENDINGS, endings, strict=True)),
            "answer": endings[int(number) - 1],
            "answer_number": number,
            "options": endings,
        }]
