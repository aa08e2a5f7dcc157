"""Whole-document formats: a JSON file holding a list of rows, nested SQuAD files, parquet."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from ..errors import DataError
from .base import ESCAPED, MAX_DOCUMENT_BYTES, BadRow, Rows, document_too_large, open_binary, open_text
from .lines import JSON_MAX_DEPTH


def load_json_document(path: Path, encoding: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> Any:
    """Parse a whole JSON file; a broken file is a DataError naming it and the line.

    A file over ``max_bytes`` (its size on disk, or what a ``.gz`` or URL decompresses to)
    is refused before it is parsed: parsing holds the whole document, several times its size.
    """
    if isinstance(path, Path) and path.suffix != ".gz" and path.stat().st_size > max_bytes:
        raise document_too_large(path, path.stat().st_size, max_bytes)
    if encoding in ("utf-8", "utf-8-sig"):
        with open_binary(path) as f:
            data: bytes | str = f.read(max_bytes + 1)
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
    else:
        with open_text(path, encoding) as f:
            data = f.read(max_bytes + 1)  # characters, each at least one byte
    if len(data) > max_bytes:
        raise document_too_large(path, None, max_bytes)
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
    found = ESCAPED.search(data)
    return found.start() if found else None


def _error_line(data: bytes | str, exc: orjson.JSONDecodeError) -> int | None:
    offset = _undecodable_at(data)
    if offset is not None:
        return data.count(b"\n" if isinstance(data, bytes) else "\n", 0, offset) + 1
    return getattr(exc, "lineno", None)


_MISSING: Any = object()


def dig(value: Any, dotted: str, default: Any = _MISSING) -> Any:
    """Follow a dotted path (``data.rows`` or ``a.0.b``) into nested mappings and lists: a
    digit part indexes a list. A missing part raises KeyError, or gives ``default`` when one
    is passed (decontamination passes None: an evaluation row may lack a field)."""
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif default is _MISSING:
            raise KeyError(part)
        else:
            return default
    return value


def read_json(path: Path, encoding: str, records: str | None, max_bytes: int = MAX_DOCUMENT_BYTES) -> Rows:
    """A JSON array of objects, or the array found at ``records`` inside an object.

    A file holding one object with no list of objects in it is one row (AIHub ships many
    sets as one JSON document per file); ``records: .`` makes any object one row.
    """
    data = load_json_document(path, encoding, max_bytes)
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


def read_squad(path: Path, encoding: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> Rows:
    """Nested SQuAD / KorQuAD 1.0 / KLUE-MRC: data → paragraphs → qas, one row per question.

    Rows come out in the flat Hugging Face squad layout (``answers: {text, answer_start}``),
    so the qa adapter reads both layouts the same way. ``is_impossible`` and
    ``plausible_answers`` are passed through for the adapter to judge.

    KorQuAD 2.x nests one level less (data → {context, qas}, the context being a whole
    HTML page) and gives each question one ``answer`` object: an article without
    ``paragraphs`` but with ``context`` and ``qas`` is read as its own single paragraph.

    A question whose ``answers`` is neither a list of answer objects nor absent (``"answers": 5``)
    is rejected as ``wrong_type``, with the question as its input.
    """
    data = load_json_document(path, encoding, max_bytes)
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
                answers = qa.get("answers")
                if isinstance(answers, dict):  # already the flat layout: the adapter reads it
                    flat = answers
                else:
                    if answers is None or answers == []:
                        # KorQuAD 2.x: one answer object
                        answers = [qa["answer"]] if isinstance(qa.get("answer"), dict) else []
                    elif not isinstance(answers, list):
                        yield number, BadRow("wrong_type", f"data[{a}].paragraphs[{p}].qas[{q}].answers should be "
                                             f"a list of answer objects, got {type(answers).__name__}", qa)
                        continue
                    flat = {"text": [ans.get("text") for ans in answers if isinstance(ans, dict)],
                            "answer_start": [ans.get("answer_start") for ans in answers if isinstance(ans, dict)]}
                row = {
                    "id": qa.get("id", qa.get("guid")),
                    "title": title,
                    "context": context,
                    "question": qa.get("question"),
                    "answers": flat,
                }
                for extra in ("is_impossible", "plausible_answers", "question_type"):
                    if extra in qa:
                        row[extra] = qa[extra]
                yield number, row


def read_parquet(path: Path) -> Rows:
    """Parquet, streamed in record batches (a file pyarrow cannot read is a DataError naming it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    number = 0
    try:
        with open_binary(path) as raw, pq.ParquetFile(raw) as f:
            for batch in f.iter_batches(batch_size=4096):
                rows = batch.to_pylist()
                for row in rows:
                    number += 1
                    yield number, row
    except (pa.ArrowException, OSError, ValueError) as exc:
        # Not parquet, truncated, or a corrupt page: pyarrow cannot go on past it, so the rest
        # of the file is unreadable and cannot be counted row by row.
        where = f"after row {number:,}: " if number else ""
        problem = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise DataError(f"cannot read as Parquet: {where}{problem}", file=str(path)) from None
