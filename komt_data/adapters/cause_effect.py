"""Choice of plausible alternatives (cause or effect): KoBEST COPA."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Adapter, Skip, text
from .labels import check_label_values, lookup
from .registry import register_adapter

# The question as KoBEST writes it (원인 / 결과), or as English COPA does.
_RELATIONS = {"원인": "원인", "결과": "결과", "cause": "원인", "effect": "결과"}


@register_adapter("cause_effect")
class CauseEffectAdapter(Adapter):
    """A premise, whether its cause or its effect is asked (``question``: 원인 / 결과),
    two alternatives and the right one.

    The ``labels:`` map is required and maps each source label to the number of the right
    alternative, ``1`` or ``2``: the files say 1 / 2, the hub copy 0 / 1, and a wrong
    guess would silently teach the other alternative.
    """

    family = "cause_effect"
    fields = ("premise", "question", "alternative_1", "alternative_2", "label")
    text_fields = ("premise", "alternative_1", "alternative_2")
    # The same premise and answer against another alternative is another question (KoBEST
    # has 7 such pairs in train): the alternatives are part of what makes an example.
    dedup_fields = ("premise", "relation", "alternative_1", "alternative_2", "answer")
    example_fields = ("premise", "relation", "asks_cause", "alternative_1", "alternative_2", "answer",
                      "answer_number", "wrong", "options")
    near_dedup_fields = dedup_fields

    @classmethod
    def check_config(cls, task: Any) -> None:
        super().check_config(task)
        check_label_values(task, ("1", "2"), "the number of the right alternative, 1 or 2")

    def adapt(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        asked = text(row, "question").strip()
        relation = _RELATIONS.get(asked.lower())
        if relation is None:
            raise Skip("unknown_question", f"question {asked!r} is neither 원인 nor 결과 (cause / effect)")
        alternatives = [text(row, "alternative_1"), text(row, "alternative_2")]
        number = lookup(self.labels, row.get("label"))
        right = int(number) - 1
        return [{
            "premise": text(row, "premise"),
            "relation": relation,
            "asks_cause": relation == "원인",
            "alternative_1": alternatives[0],
            "alternative_2": alternatives[1],
            "answer": alternatives[right],
            "answer_number": number,
            "wrong": alternatives[1 - right],
            "options": alternatives,
        }]
