"""Summarization: news articles and documents with a reference summary (naver-news, AIHub)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from .base import Adapter, Skip, text
from .registry import register_adapter


@register_adapter("summarization")
class SummarizationAdapter(Adapter):
    """A document and its summary, with an optional title.

    ``summary`` may be text or a list of texts (AIHub's ``abstractive`` list); a document
    without any summary is dropped as ``no_summary`` (AIHub 문서요약 has such documents).

    Options: ``summary_fields`` (a list of dotted field paths tried in order instead of
    ``summary``, e.g. ``[Annotation.summary1, Annotation.summary2]`` where some are null),
    ``all_summaries`` (default false: one example from the first summary found; true: one
    example per distinct summary).
    """

    family = "summarization"
    fields = ("document",)
    optional_fields = ("summary", "title")
    text_fields = ("document", "summary")
    dedup_fields = ("document", "summary")
    # has_title lets headline-writing templates apply only where there is a headline.
    example_fields = ("document", "summary", "title", "has_title")
    option_names = ("summary_fields", "all_summaries")

    @classmethod
    def check_config(cls, task: Any) -> None:
        super().check_config(task)
        paths = task.options.get("summary_fields")
        if paths is not None and (not isinstance(paths, list) or not paths
                                  or not all(isinstance(p, str) and p for p in paths)):
            raise ConfigError("must be a list of field paths", file=str(task.path), key="options.summary_fields")
        if not isinstance(task.options.get("all_summaries", False), bool):
            raise ConfigError("must be true or false", file=str(task.path), key="options.all_summaries")

    def adapt(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        from ..sources import dig  # late: sources import config, which imports adapters

        document = text(row, "document")
        title = row.get("title") or ""
        title = title if isinstance(title, str) else str(title)
        paths = self.options.get("summary_fields") or ["summary"]
        summaries: list[str] = []
        for path in paths:
            try:
                value = row[path] if path in row else dig(row, path)
            except KeyError:
                value = None
            for candidate in value if isinstance(value, list) else [value]:
                if isinstance(candidate, str) and candidate.strip() and candidate not in summaries:
                    summaries.append(candidate)
                elif candidate is not None and not isinstance(candidate, str):
                    raise Skip("wrong_type", f"summary in '{path}' should be text, got {type(candidate).__name__}")
        if not summaries:
            raise Skip("no_summary", f"the document has no summary (looked at {', '.join(paths)})")
        has_title = bool(title.strip())
        return [{"document": document, "summary": summary, "title": title, "has_title": has_title}
                for summary in (summaries if self.options.get("all_summaries", False) else summaries[:1])]
