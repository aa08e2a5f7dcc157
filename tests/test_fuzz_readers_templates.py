"""Property tests: readers and template rendering never let an undocumented exception out.

Readers may raise only :class:`DataError` (a whole file that cannot be read); otherwise
they yield ``(position, dict | BadRow)`` with increasing positions, and whatever they
yield can be written to rejected.jsonl. Templates may fail only with ConfigError /
TemplateError, whatever their source and whatever the example holds.
"""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from komt_data.config import SourceConfig
from komt_data.errors import ConfigError, DataError
from komt_data.sources import BadRow, Unit, read_unit, resolve_encoding
from komt_data.templates import Template, _parse_template
from komt_data.text import clean_text

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KOREAN = "가나다라마바사아자차카타파하ㅋㅎ한국어영화리뷰"
# Pieces of real-looking and broken rows: Korean text, JSON and TSV syntax, stray quotes,
# invalid UTF-8, cp949 bytes, NUL, BOMs, CR, very deep nesting.
BYTE_PIECES = st.sampled_from([
    "리뷰".encode(), "영화가 정말 좋았다".encode(), "ㅋㅋㅋ".encode(), b'{"review": ', b'"', b"}", b"{", b"[",
    b"]", b",", b":", b"\t", b"\n", b"\r\n", b"\r", b"\\", b"\\u", b"\\ud800", b"null", b"10", b"1e999",
    b"\xff", b"\xfe", b"\xc3", b"\xed\xa0\x80", "한국".encode("cp949"), b"\x00", b"\xef\xbb\xbf",
    b'"rating": "10"', b"[" * 1100, b"x" * 300,
])
CONTENT = st.lists(st.one_of(BYTE_PIECES, st.binary(max_size=8)), max_size=40).map(b"".join)


def read_all(data: bytes, suffix: str, fmt: str | None, encoding: str, max_line: int) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        unit = Unit(SourceConfig(files=(path,), format=fmt, encoding=encoding), path)
        try:
            resolved = resolve_encoding(unit)
            return list(read_unit(unit, resolved, max_line))
        except DataError as exc:
            assert str(exc)  # a message, naming the file
            assert str(path) in str(exc)
            return []


def check_rows(rows: list) -> None:
    positions = [position for position, _ in rows]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    for position, row in rows:
        assert isinstance(position, int) and position >= 1
        assert isinstance(row, (dict, BadRow))
        if isinstance(row, BadRow):
            assert row.reason and row.detail
            orjson.dumps({"row": row.raw, "detail": row.detail})  # storable in rejected.jsonl
        else:
            orjson.dumps(row, default=str)


@FUZZ
@given(data=CONTENT, suffix=st.sampled_from([".jsonl", ".tsv", ".csv", ".json", ".jsonl.gz"]),
       encoding=st.sampled_from(["auto", "utf-8", "cp949"]), max_line=st.sampled_from([16, 10_000_000]))
def test_readers_yield_rows_or_bad_rows_and_raise_only_data_errors(data, suffix, encoding, max_line):
    if suffix.endswith(".gz"):
        import gzip

        data = gzip.compress(data, mtime=0)
    check_rows(read_all(data, suffix, None, encoding, max_line))


@FUZZ
@given(data=CONTENT)
def test_squad_reader_is_total(data):
    check_rows(read_all(data, ".json", "squad", "auto", 10_000_000))


@FUZZ
@given(lines=st.lists(st.binary(max_size=60), min_size=1, max_size=20))
def test_jsonl_accounts_for_every_non_blank_line(lines):
    data = b"\n".join(line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines) + b"\n"
    rows = read_all(data, ".jsonl", None, "utf-8", 10_000_000)
    non_blank = [n for n, line in enumerate(data.split(b"\n")[:-1], 1)
                 if line.removeprefix(b"\xef\xbb\xbf" if n == 1 else b"").strip()]
    assert [position for position, _ in rows] == non_blank


JINJA_PIECES = st.sampled_from([
    "{{ text }}", "{{ label }}", "{{ options|join(', ') }}", "{% if label %}", "{% endif %}", "{% for o in options %}",
    "{% endfor %}", "{{", "}}", "{%", "%}", "{#", "#}", "{{ text.__class__ }}", "{{ text|attr('_x') }}",
    "{{ nope }}", "{{ text * 1000000000 }}", "{{ 2 ** 99999 }}", "{{ range(10**7)|list }}", "{{ 1/0 }}",
    "{{ text[0] }}", "{{ text|upper }}", "{{ options[5] }}", "{{ label + 1 }}", "{{ text.split() }}",
    "{{ lipsum() }}", "{{ cycler.__init__ }}", "{% set x = text %}{{ x }}", "{{ text|format(1) }}",
    "다음 리뷰의 감성은?", "ㅋㅋ", " ", "\n", "'", '"',
])
SOURCE = st.lists(st.one_of(JINJA_PIECES, st.text(alphabet=string.printable + KOREAN, max_size=6)),
                  max_size=8).map("".join)
VALUES = st.one_of(st.text(max_size=30), st.integers(), st.none(), st.lists(st.text(max_size=5), max_size=3),
                   st.floats(allow_nan=True))


@FUZZ
@given(instruction=SOURCE, response=SOURCE,
       example=st.fixed_dictionaries({"text": VALUES, "label": VALUES, "options": VALUES}))
def test_template_loading_and_rendering_raise_only_template_errors(instruction, response, example):
    entry = {"id": "classification/01", "instruction": instruction or "x", "response": response or "x"}
    try:
        template = _parse_template(entry, 0, Path("fuzz.yaml"))
    except ConfigError as exc:  # TemplateError is a ConfigError
        assert "templates[0]" in str(exc) or "classification/01" in str(exc)
        return
    try:
        rendered = template.render(example)
    except ConfigError as exc:
        assert "classification/01" in str(exc)
        return
    assert all(isinstance(part, str) for part in rendered)


@FUZZ
@given(example=st.dictionaries(st.sampled_from(["text", "label", "options"]), VALUES))
def test_builtin_template_rendering_fails_only_with_template_error(example):
    template = Template("classification/01", "{{ text }}에 대해: {{ options|join(', ') }}", "{{ label }}")
    try:
        instruction, response = template.render(example)
    except ConfigError:
        return
    assert isinstance(instruction, str) and isinstance(response, str)


@FUZZ
@given(value=st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_clean_text_is_idempotent_nfc_and_free_of_invisibles(value):
    import unicodedata

    cleaned = clean_text(value)
    assert clean_text(cleaned) == cleaned
    assert unicodedata.is_normalized("NFC", cleaned)
    assert not any(ch in cleaned for ch in "\r\u200b\ufeff\x00\u2028")
    assert cleaned == cleaned.strip()


@FUZZ
@given(data=CONTENT, draw=st.data(), block=st.integers(1, 64))
def test_block_line_splitter_gives_the_lines_readline_gives(data: bytes, draw: st.DataObject, block: int) -> None:
    """binary_line_blocks (blocks split in C) gives the lines, lengths and over-long verdicts
    of bounded_lines (one readline per line), whatever the block size cuts through; the
    limit is often a line's exact length, or one off it, where the verdict flips."""
    import io

    from komt_data.sources import base

    edges = [len(line) + d for line in data.split(b"\n") for d in (-1, 0, 1) if len(line) + d >= 1]
    max_length = draw.draw(st.sampled_from(edges) if edges else st.integers(1, 400))

    expected = list(base.bounded_lines(io.BytesIO(data), max_length))
    original = base.READ_BLOCK
    base.READ_BLOCK = block
    try:
        got = [line for lines in base.binary_line_blocks(io.BufferedReader(io.BytesIO(data), buffer_size=block),
                                                         max_length) for line in lines]
    finally:
        base.READ_BLOCK = original
    # As readline gives them: every line but a last one without it ends in "\n".
    as_readline = [(None, line) if isinstance(line, int) else (line + b"\n", len(line) + 1) for line in got]
    if got and not data.endswith(b"\n") and not isinstance(got[-1], int):
        as_readline[-1] = (got[-1], len(got[-1]))
    assert as_readline == expected
