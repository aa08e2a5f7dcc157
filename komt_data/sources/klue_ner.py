"""KLUE-NER's character-level BIO layout (``klue-ner-v1.1_{train,dev}.tsv``), one row per sentence.

The release writes one character and its tag a line (``경\\tB-OG``; a space is a line of
its own, `` \\tO``), a blank line between sentences, and comment lines starting with
``##``: six at the top of the file describing the layout, then one before each sentence,
``## <guid>\\t<the sentence with <entity:TAG> marks>``. The tags are the authority (the
marked sentence is kept alongside for checking); spans are rebuilt from them the way
conlleval does: ``I-X`` after ``O`` or after another type starts an entity, as ``B-X`` does.

This is not a TSV a csv reader can take (no header, quotes are text, a row spans many
lines), hence its own reader. Each row is ``{"guid", "sentence", "entities", "marked"}``
with ``entities`` a list of ``{"text", "type", "start", "end"}`` (character offsets into
``sentence``, end exclusive) in sentence order; its position is the line of the
sentence's ``##`` comment (its first character's line when it has none).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .base import (
    MAX_LINE_BYTES,
    BadRow,
    Rows,
    bounded_lines,
    has_undecodable,
    line_too_long,
    open_text,
    show_undecodable,
)


def read_klue_ner(path: Path, encoding: str, max_line_bytes: int = MAX_LINE_BYTES) -> Rows:
    """The sentences of one KLUE-NER file, in file order."""
    with open_text(path, encoding) as f:
        yield from _sentences(bounded_lines(f, max_line_bytes), max_line_bytes)


class _Sentence:
    """What has been read of one sentence so far."""

    def __init__(self, start: int, comment: str | None):
        self.start = start
        self.comment = comment
        self.chars: list[str] = []
        self.tags: list[str] = []
        self.problem: BadRow | None = None


def _sentences(lines: Iterator[tuple[str | None, int]], max_line_bytes: int) -> Rows:
    current: _Sentence | None = None
    comment: tuple[int, str] | None = None  # the last ## line before a sentence: its header
    for number, (line, length) in enumerate(lines, 1):
        if line is None:
            if current is None:
                current, comment = _Sentence(*(comment or (number, None))), None
            current.problem = current.problem or line_too_long(length, max_line_bytes, "characters")
            continue
        line = line.rstrip("\r\n")
        if line.startswith("##"):
            if current is not None:  # a comment right after characters: the sentence ended
                yield current.start, _finish(current)
                current = None
            # Comments are kept as information only; a stray byte there must still make valid JSON.
            comment = (number, show_undecodable(line) if has_undecodable(line) else line)
            continue
        if not line.strip("\t"):  # a blank line ends a sentence (a lone space is a character)
            if current is not None:
                yield current.start, _finish(current)
                current = None
            continue
        if current is None:
            current, comment = _Sentence(*(comment or (number, None))), None
        if current.problem is not None:
            continue
        if has_undecodable(line):
            current.problem = BadRow("undecodable", f"line {number}: bytes that are not valid in the file's "
                                     "encoding (set source.encoding if the file is in another encoding)",
                                     show_undecodable(line))
            continue
        char, tab, tag = line.rpartition("\t")
        if not tab or not char:
            current.problem = BadRow("wrong_column_count", f"line {number}: expected a character, a tab and "
                                     "a tag", line)
            continue
        if tag != "O" and not (tag[:2] in ("B-", "I-") and len(tag) > 2):
            current.problem = BadRow("bad_tag", f"line {number}: tag {tag!r} is not O, B-<type> or I-<type>", line)
            continue
        current.chars.append(char)
        current.tags.append(tag)
    if current is not None:
        yield current.start, _finish(current)


def _finish(sentence: _Sentence) -> dict[str, Any] | BadRow:
    if sentence.problem is not None:
        return sentence.problem
    guid, marked = "", ""
    if sentence.comment is not None:
        guid, _, marked = sentence.comment[2:].partition("\t")  # the marks keep the sentence's own spaces
    text = "".join(sentence.chars)
    entities: list[dict[str, Any]] = []
    offset = 0
    open_entity: dict[str, Any] | None = None
    for char, tag in zip(sentence.chars, sentence.tags, strict=True):
        kind = tag[2:]
        if tag == "O" or tag.startswith("B-") or open_entity is None or open_entity["type"] != kind:
            if open_entity is not None:
                entities.append(open_entity)
                open_entity = None
            if tag != "O":
                open_entity = {"type": kind, "start": offset}
        offset += len(char)
        if open_entity is not None:
            open_entity["end"] = offset
    if open_entity is not None:
        entities.append(open_entity)
    spans = []
    for entity in entities:
        start, end = entity["start"], entity["end"]
        while end > start and text[end - 1].isspace():  # a tagged trailing space is not the entity's
            end -= 1
        while start < end and text[start].isspace():
            start += 1
        if start < end:
            spans.append({"text": text[start:end], "type": entity["type"], "start": start, "end": end})
    return {"guid": guid.strip(), "sentence": text, "entities": spans, "marked": marked}
