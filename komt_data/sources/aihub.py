"""AIHub 문서요약 텍스트 JSON: ``documents[]`` whose ``text`` nests sentences in paragraphs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import DataError
from .base import MAX_DOCUMENT_BYTES, BadRow, Rows
from .documents import load_json_document


def read_aihub_summary(path: Path, encoding: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> Rows:
    """One row per document, with the nested text flattened.

    Each row keeps the document's own keys (``id``, ``title``, ``category``, ...) and adds:
    ``document`` (sentences joined by spaces, paragraphs by newlines), ``summary`` (the
    first abstractive summary, or None when the document has none: the adapter drops it
    with a reason) and ``extractive_summary`` (the sentences whose ``index`` the
    ``extractive`` list names, in that order; None when an index is missing or null).

    A document in another shape than that (a sentence that is not an object with text, an
    ``extractive`` that is not a list of indices, an ``abstractive`` that is not text or a
    list of texts) is rejected as ``wrong_type`` naming where, never read in part.
    """
    data = load_json_document(path, encoding, max_bytes)
    documents = data.get("documents") if isinstance(data, dict) else data
    if not isinstance(documents, list):
        raise DataError("not an AIHub summary file: expected an object with a 'documents' list", file=str(path))
    for number, doc in enumerate(documents, 1):
        where = f"documents[{number - 1}]"
        if not isinstance(doc, dict):
            yield number, BadRow("invalid_row", f"{where} is not an object", None)
            continue
        paragraphs = doc.get("text")
        if not isinstance(paragraphs, list):
            yield number, BadRow("invalid_row", f"{where} has no 'text' list of paragraphs", _ident(doc))
            continue
        try:
            yield number, _flatten(doc, paragraphs, where)
        except _Shape as shape:
            yield number, BadRow("wrong_type", str(shape), _ident(doc))


class _Shape(Exception):
    """A part of a document that is not in the AIHub layout (its message says where)."""


def _flatten(doc: dict[str, Any], paragraphs: list[Any], where: str) -> dict[str, Any]:
    sentences: dict[Any, str] = {}
    lines: list[str] = []
    for p, paragraph in enumerate(paragraphs):
        # Most files nest [[{index, sentence}, ...], ...]; a few flatten to one level.
        items = paragraph if isinstance(paragraph, list) else [paragraph]
        parts = []
        for s, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("sentence"), str):
                at = f"{where}.text[{p}]" + (f"[{s}]" if isinstance(paragraph, list) else "")
                raise _Shape(f"{at} should be an object with a 'sentence' text, got {_show(item)}")
            index = item.get("index")
            if index is not None and not isinstance(index, (int, str)):
                raise _Shape(f"{where}.text[{p}]: a sentence index should be a number, got {_show(index)}")
            sentences[index] = item["sentence"]
            parts.append(item["sentence"].strip())
        if parts:
            lines.append(" ".join(parts))
    row = {key: value for key, value in doc.items() if key != "text"}
    row["document"] = "\n".join(lines)
    row["summary"] = _first_text(doc.get("abstractive"), where)
    row["extractive_summary"] = _extractive(doc.get("extractive"), sentences, where)
    return row


def _first_text(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value if value and value.strip() else None
    if isinstance(value, list) and all(item is None or isinstance(item, str) for item in value):
        for item in value:
            if item and item.strip():
                return item
        return None
    raise _Shape(f"{where}.abstractive should be a text or a list of texts, got {_show(value)}")


def _extractive(indices: Any, sentences: dict[Any, str], where: str) -> str | None:
    if indices is None:
        return None
    if not isinstance(indices, list) or not all(i is None or isinstance(i, (int, str)) for i in indices):
        raise _Shape(f"{where}.extractive should be a list of sentence indices, got {_show(indices)}")
    if not indices:
        return None
    picked = []
    for index in indices:
        if index is None or index not in sentences:
            return None
        picked.append(sentences[index].strip())
    return " ".join(picked)


def _ident(doc: dict[str, Any]) -> str | None:
    ident = doc.get("id")
    return None if ident is None else str(ident)


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r:.40}"
