"""Semantic textual similarity: KLUE-STS, KorSTS (scores 0–5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Adapter, Skip, text
from .registry import register_adapter


@register_adapter("sts")
class STSAdapter(Adapter):
    """Two sentences and their similarity score on a 0–5 scale. Templates may ask for the
    score or for a yes/no paraphrase judgement (``similar``: 예 when score ≥ threshold).

    Option ``paraphrase_threshold`` (default 3.0).
    """

    family = "sts"
    fields = ("sentence1", "sentence2", "score")
    text_fields = ("sentence1", "sentence2")
    dedup_fields = ("sentence1", "sentence2", "score")
    example_fields = ("sentence1", "sentence2", "score", "similar")
    option_names = ("paraphrase_threshold",)

    def adapt(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        raw = row.get("score")
        if isinstance(raw, bool) or raw is None:
            raise Skip("missing_field" if raw is None else "wrong_type", f"score {raw!r} is not a number")
        try:
            score = float(raw)
        except (TypeError, ValueError):
            raise Skip("wrong_type", f"score {raw!r} is not a number") from None
        if not 0.0 <= score <= 5.0:
            raise Skip("out_of_range", f"score {score} is outside 0–5")
        threshold = float(self.options.get("paraphrase_threshold", 3.0))
        return [{
            "sentence1": text(row, "sentence1"),
            "sentence2": text(row, "sentence2"),
            "score": f"{score:.1f}",
            "similar": "예" if score >= threshold else "아니요",
        }]
