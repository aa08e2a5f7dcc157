"""Natural language inference: KLUE-NLI, KorNLI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Adapter, text
from .registry import register_adapter


@register_adapter("nli")
class NLIAdapter(Adapter):
    """A premise, a hypothesis and their relation as a Korean label word.

    Labels are read from the label string (KLUE and KorNLI: entailment / neutral /
    contradiction); rows whose label is not in the map (SNLI's ``-``) are dropped.
    """

    family = "nli"
    fields = ("premise", "hypothesis", "label")
    text_fields = ("premise", "hypothesis")
    dedup_fields = ("premise", "hypothesis", "label")
    example_fields = ("premise", "hypothesis", "label", "options")
    default_labels = {"entailment": "함의", "neutral": "중립", "contradiction": "모순"}

    def adapt(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{
            "premise": text(row, "premise"),
            "hypothesis": text(row, "hypothesis"),
            "label": self.label_word(row.get("label")),
            "options": self.label_options(),
        }]
