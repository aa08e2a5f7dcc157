"""Word in context: is a word used in the same sense in two sentences? KoBEST WiC."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .base import Adapter, text
from .labels import check_label_values, lookup
from .registry import register_adapter

YES, NO = "예", "아니요"
# KoBEST marks the target occurrence as [단어]; the templates name the word instead, and an
# inverted template's answer (a sentence to write) must not teach the brackets.
_MARK = re.compile(r"\[([^\[\]\n]+)\]")


@register_adapter("word_sense")
class WordSenseAdapter(Adapter):
    """A word, two sentences using it, and whether it means the same in both.

    ``answer`` is 예 / 아니요 and ``sense`` 같은 뜻 / 다른 뜻. Labels: ``True`` / ``FALSE``
    / 1 / 0 out of the box (case does not matter); a ``labels:`` map must map onto
    예 (same sense) / 아니요.
    """

    family = "word_sense"
    fields = ("word", "sentence1", "sentence2", "label")
    text_fields = ("word", "sentence1", "sentence2")
    dedup_fields = ("word", "sentence1", "sentence2", "answer")
    example_fields = ("word", "sentence1", "sentence2", "answer", "sense", "same", "options")
    near_dedup_fields = ("sentence1", "sentence2", "answer")
    default_labels = {"true": YES, "false": NO, "1": YES, "0": NO}

    @classmethod
    def check_config(cls, task: Any) -> None:
        super().check_config(task)
        if task.labels:
            check_label_values(task, (YES, NO), "예 for the same sense, 아니요 for another")

    def adapt(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        answer = lookup(self.labels, row.get("label"))
        same = answer == YES
        return [{
            "word": text(row, "word").strip(),
            "sentence1": _MARK.sub(r"\1", text(row, "sentence1")),
            "sentence2": _MARK.sub(r"\1", text(row, "sentence2")),
            "answer": answer,
            "sense": "같은 뜻" if same else "다른 뜻",
            "same": same,
            "options": ["같은 뜻", "다른 뜻"],
        }]
