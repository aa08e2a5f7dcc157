"""Single-text classification: NSMC sentiment, KLUE-YNAT topics, KoBEST SentiNeg."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Adapter, text
from .registry import register_adapter


@register_adapter("classification")
class ClassificationAdapter(Adapter):
    """A text and its class as a Korean label word. The ``labels:`` map is required: it
    names the classes in Korean (``0: 부정``); rows with a label outside it are dropped,
    which is how, say, neutral movie ratings leave a sentiment task.

    Option ``task_hint``: a short Korean phrase for what is classified ("영화 리뷰의 감성").
    """

    family = "classification"
    fields = ("text", "label")
    text_fields = ("text",)
    dedup_fields = ("text", "label")
    example_fields = ("text", "label", "options", "task_hint")
    option_names = ("task_hint",)

    @classmethod
    def check_config(cls, task: Any) -> None:
        super().check_config(task)
        if not task.labels:
            from ..errors import ConfigError

            raise ConfigError("classification tasks need a labels map (source label: Korean word)",
                              file=str(task.path), key="labels")

    def adapt(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{
            "text": text(row, "text"),
            "label": self.label_word(row.get("label")),
            "options": self.label_options(),
            "task_hint": str(self.options.get("task_hint", "")),
        }]
