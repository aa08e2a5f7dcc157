"""Whole-document formats: a JSON file holding a list of rows, nested SQuAD files, parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ..errors import DataError
from .base import _ESCAPED, BadRow, Rows, open_binary, open_text
from .lines import JSON_MAX_DEPTH


def load_json_document(path: Path, encoding: str) -> Any:
    """Parse a whole JSON file; a broken file is a DataError naming it and the line."""
    if encoding in ("utf-8", "utf-8-sig"):
        with open_binary(path) as f:
            data: bytes | str = f.read()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
    else:
        with open_text(path, encoding) as f:
            data = f.read()
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DataError(_document_problem(data, exc, encoding), file=str(path),
                        line=_error_line(data, exc)) from None


def _document_problem(data: bytes | str, exc: orjson.JSONDecodeError, encoding: str) -> str:
    if "depth limit" in str(exc):
        return f"JSON nested deeper than {JSON_MAX_DEPTH} levels"
    if _undecodable_at(data) is not None:
        return (f"undecodable: bytes that are not valid {encoding} "
                "(set source.encoding if the file is in another encoding)")
    return f"invalid JSON at column {exc.colno}: {exc.msg}"


def _undecodable_at(data: bytes | str) -> int | None:
    """Offset of the first byte the encoding could not decode, or None."""
    if isinstance(data, bytes):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return exc.start
        return None
    found = _ESCAPED.search(data)
    return found.start() if found else None


def _error_line(data: bytes | str, exc: orjson.JSONDecodeError) -> int | None:
    offset = _undecodable_at(data)
    if offset is not None:
        return data.count(b"\n" if isinstance(data, bytes) else "\n", 0, offset) + 1
    return getattr(exc, "lineno", None)


def dig(value: Any, dotted: str) -> Any:
    """Follow a dotted path (``data.rows`` or ``a.0.b``) into nested dicts and lists."""
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(part)
    return value


def read_json(path: Path, encoding: str, records: str | None) -> Rows:
    """A JSON array of objects, or the array found at ``records`` inside an object.

    A file holding one object with no list of objects in it is one row (AIHub ships many
    sets as one JSON document per file); ``records: .`` makes any object one row.
    """
    data = load_json_document(path, encoding)
    if records == ".":
        # The whole object is one row, even when it holds lists of objects.
        data = [data] if isinstance(data, dict) else data
    elif records:
        try:
            data = dig(data, records)
        except KeyError:
            raise DataError(f"no '{records}' in this file (source.records)", file=str(path)) from None
    elif isinstance(data, dict):
        lists = [k for k, v in data.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if not lists:
            # AIHub ships many corpora as one JSON object per file (도서자료 요약,
            # 요약문 및 레포트 생성): such an object is one row.
            yield 1, data
            return
        raise DataError(f"the file holds an object, not a list of rows; set source.records to one of: "
                        f"{', '.join(lists)} (or '.' to read the whole object as one row)", file=str(path))
    if not isinstance(data, list):
        raise DataError("expected a list of rows", file=str(path))
    for number, row in enumerate(data, 1):
        if isinstance(row, dict):
            yield number, row
        else:
            yield number, BadRow("invalid_json", f"expected a JSON object, got {type(row).__name__}", None)


def read_squad(path: Path, encoding: str) -> Rows:
    """Nested SQuAD / KorQuAD 1.0 / KLUE-MRC: data → paragraphs → qas, one row per question.

    Rows come out in the flat Hugging Face squad layout (``answers: {text, answer_start}``),
    so the qa adapter reads both layouts the same way. ``is_impossible`` and
    ``plausible_answers`` are passed through for the adapter to judge.

    KorQuAD 2.x nests one level less (data → {context, qas}, the context being a whole
    HTML page) and gives each question one ``answer`` object: an article without
    ``paragraphs`` but with ``context`` and ``qas`` is read as its own single paragraph.
    """
    data = load_json_document(path, encoding)
    articles = data.get("data") if isinstance(data, dict) else None
    if not isinstance(articles, list):
        raise DataError("not a SQuAD file: expected an object with a 'data' list", file=str(path))
    number = 0
    for a, article in enumerate(articles):
        title = article.get("title", "") if isinstance(article, dict) else ""
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if paragraphs is None and isinstance(article, dict) and "qas" in article:
            paragraphs = [article]
        if not isinstance(paragraphs, list):
            number += 1
            yield number, BadRow("invalid_row", f"data[{a}] has no 'paragraphs' list", None)
            continue
        for p, paragraph in enumerate(paragraphs):
            qas = paragraph.get("qas") if isinstance(paragraph, dict) else None
            if not isinstance(qas, list):
                number += 1
                yield number, BadRow("invalid_row", f"data[{a}].paragraphs[{p}] has no 'qas' list", None)
                continue
            context = paragraph.get("context")
            for q, qa in enumerate(qas):
                number += 1
                if not isinstance(qa, dict):
                    yield number, BadRow("invalid_row", f"data[{a}].paragraphs[{p}].qas[{q}] is not an object", None)
                    continue
                answers = qa.get("answers") or []
                if not answers and isinstance(qa.get("answer"), dict):
                    answers = [qa["answer"]]
                row = {
                    "id": qa.get("id", qa.get("guid")),
                    "title": title,
                    "context": context,
                    "question": qa.get("question"),
                    "answers": {
                        "text": [ans.get("text") for ans in answers if isinstance(ans, dict)],
                        "answer_start": [ans.get("answer_start") for ans in answers if isinstance(ans, dict)],
                    },
                }
                for extra in ("is_impossible", "plausible_answers", "question_type"):
                    if extra in qa:
                        row[extra] = qa[extra]
                yield number, row


def read_parquet(path: Path) -> Rows:
    """Parquet, streamed in record batches."""
    import pyarrow.parquet as pq

    number = 0
    with open_binary(path) as raw, pq.ParquetFile(raw) as f:
        for batch in f.iter_batches(batch_size=4096):
            for row in batch.to_pylist():
                number += 1
                yield number, row
