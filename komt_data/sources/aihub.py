"""AIHub 문서요약 텍스트 JSON: ``documents[]`` whose ``text`` nests sentences in paragraphs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import DataError
from .base import BadRow, Rows
from .documents import load_json_document


def read_aihub_summary(path: Path, encoding: str) -> Rows:
    """One row per document, with the nested text flattened.

    Each row keeps the document's own keys (``id``, ``title``, ``category``, ...) and adds:
    ``document`` (sentences joined by spaces, paragraphs by newlines), ``summary`` (the
    first abstractive summary, or None when the document has none: the adapter drops it
    with a reason) and ``extractive_summary`` (the sentences whose ``index`` the
    ``extractive`` list names, in that order; None when an index is missing or null).
    """
    data = load_json_document(path, encoding)
    documents = data.get("documents") if isinstance(data, dict) else data
    if not isinstance(documents, list):
        raise DataError("not an AIHub summary file: expected an object with a 'documents' list", file=str(path))
    for number, doc in enumerate(documents, 1):
        if not isinstance(doc, dict):
            yield number, BadRow("invalid_row", f"documents[{number - 1}] is not an object", None)
            continue
        paragraphs = doc.get("text")
        if not isinstance(paragraphs, list):
            yield number, BadRow("invalid_row", f"documents[{number - 1}] has no 'text' list of paragraphs",
                                 str(doc.get("id")))
            continue
        sentences: dict[Any, str] = {}
        lines: list[str] = []
        for paragraph in paragraphs:
            # Most files nest [[{index, sentence}, ...], ...]; a few flatten to one level.
            items = paragraph if isinstance(paragraph, list) else [paragraph]
            parts = []
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("sentence"), str):
                    sentences[item.get("index")] = item["sentence"]
                    parts.append(item["sentence"].strip())
            if parts:
                lines.append(" ".join(parts))
        row = {key: value for key, value in doc.items() if key != "text"}
        row["document"] = "\n".join(lines)
        row["summary"] = _first_text(doc.get("abstractive"))
        row["extractive_summary"] = _extractive(doc.get("extractive"), sentences)
        yield number, row


def _first_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str) and item.strip():
                return item
    return None


def _extractive(indices: Any, sentences: dict[Any, str]) -> str | None:
    if not isinstance(indices, list) or not indices:
        return None
    picked = []
    for index in indices:
        if index is None or index not in sentences:
            return None
        picked.append(sentences[index].strip())
    return " ".join(picked)
