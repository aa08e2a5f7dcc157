"""Abstractive summarization: news articles and documents with a reference summary."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .base import Adapter, text
from .registry import register_adapter


@register_adapter("summarization")
class SummarizationAdapter(Adapter):
    """A document and its summary, with an optional title (naver-news-summarization, AIHub)."""

    family = "summarization"
    fields = ("document", "summary")
    optional_fields = ("title",)
    text_fields = ("document", "summary")
    dedup_fields = ("document", "summary")
    example_fields = ("document", "summary", "title")

    def adapt(self, row: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        title = row.get("title") or ""
        yield {
            "document": text(row, "document"),
            "summary": text(row, "summary"),
            "title": title if isinstance(title, str) else str(title),
        }
