"""Malformed and hostile input files (issue 15, points 7, 8 and the TSV part of 12).

A file whose damage is local to a row loses that row, rejected with its reason and
position and counted; a file that cannot be read at all stops the build with exit 2 and
one line naming it. Nothing is exit 70. Hostile inputs (quadratic HTML, an xlsx that
unpacks to hundreds of megabytes, a JSON document over the size limit) run in a
subprocess under a memory and time cap, so a regression fails instead of hanging CI.
"""

from __future__ import annotations

import gzip
import io
import json
import resource
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from komt_data.config import SourceConfig
from komt_data.errors import DataError
from komt_data.html import html_to_text
from komt_data.sources import BadRow, Unit, read_unit, resolve_encoding
from komt_data.sources import chunks as chunks_module
from komt_data.sources.lines import read_delimited, read_jsonl
from komt_data.testing import run_adapter

from .conftest import write

# --- point 7: malformed files ------------------------------------------------------------

SQUAD_TASK = "name: squad\nadapter: qa\nsource: {files: data.json, format: squad}\n"
AIHUB_TASK = "name: aihub\nadapter: summarization\nsource: {files: data.json, format: aihub-summary}\n"
AIHUB_EXTRACTIVE_TASK = AIHUB_TASK + "fields: {summary: extractive_summary}\n"
PARQUET_TASK = "name: pq\nadapter: nli\nsource: {files: data.parquet}\n"
XLSX_TASK = "name: xl\nadapter: translation\nsource: {files: data.xlsx}\nfields: {source: 원문, target: 번역문}\n"
HTML_TASK = "name: kq2\nadapter: qa\nsource: {files: data.json, format: squad}\noptions: {html: true}\n"


def squad(*qas: dict, context: str = "서울은 대한민국의 수도이다.") -> bytes:
    good = {"id": "good", "question": "대한민국의 수도는?", "answers": [{"text": "서울", "answer_start": 0}]}
    doc = {"data": [{"title": "서울", "paragraphs": [{"context": context, "qas": [*qas, good]}]}]}
    return json.dumps(doc, ensure_ascii=False).encode()


def aihub(**fields) -> bytes:
    base = {"id": "bad", "text": [[{"index": 0, "sentence": "첫 문장이다."}, {"index": 1, "sentence": "둘째 문장."}]],
            "abstractive": ["요약이다."], "extractive": [0, 1]}
    good = {**base, "id": "good", "text": [[{"index": 0, "sentence": "다른 문서의 문장이다."}]], "extractive": [0]}
    return json.dumps({"documents": [{**base, **fields}, good]}, ensure_ascii=False).encode()


# (task config, file bytes, reason, position, detail start) for damage local to one row.
ROW_CASES = {
    "squad answers is a number": (SQUAD_TASK, squad({"id": "x", "question": "수도는?", "answers": 5}),
                                  "wrong_type", 1, "data[0].paragraphs[0].qas[0].answers should be a list"),
    "squad answers is text": (SQUAD_TASK, squad({"id": "x", "question": "수도는?", "answers": "서울"}),
                              "wrong_type", 1, "data[0].paragraphs[0].qas[0].answers should be a list"),
    "squad answer text is a number": (SQUAD_TASK, squad({"id": "x", "question": "수도는?", "answers": [{"text": 5}]}),
                                      "missing_answer", 1, "the row has no answer text"),
    "squad question is a list": (SQUAD_TASK, squad({"id": "x", "question": ["수도는?"], "answers": []}),
                                 "wrong_type", 1, "field 'question' should be text"),
    "aihub extractive [[0]]": (AIHUB_EXTRACTIVE_TASK, aihub(extractive=[[0]]), "wrong_type", 1,
                               "documents[0].extractive should be a list of sentence indices, got list [[0]]"),
    "aihub extractive [[0]], abstractive task": (AIHUB_TASK, aihub(extractive=[[0]]), "wrong_type", 1,
                                                 "documents[0].extractive should be a list"),
    "aihub extractive is a number": (AIHUB_EXTRACTIVE_TASK, aihub(extractive=5), "wrong_type", 1,
                                     "documents[0].extractive should be a list"),
    "aihub sentence index is a list": (AIHUB_TASK, aihub(text=[[{"index": [0], "sentence": "문장."}]]),
                                       "wrong_type", 1, "documents[0].text[0]: a sentence index should be a number"),
    "aihub sentence is a number": (AIHUB_TASK, aihub(text=[[{"index": 0, "sentence": 5}]]), "wrong_type", 1,
                                   "documents[0].text[0][0] should be an object with a 'sentence' text"),
    "aihub abstractive is an object": (AIHUB_TASK, aihub(abstractive={"a": 1}), "wrong_type", 1,
                                       "documents[0].abstractive should be a text or a list of texts"),
}


@pytest.mark.parametrize("case", sorted(ROW_CASES))
def test_a_wrong_shape_inside_a_document_rejects_that_row_only(tmp_path, cli, case):
    config, data, reason, position, detail = ROW_CASES[case]
    (tmp_path / "data.json").write_bytes(data)
    write(tmp_path / "task.yaml", config)
    out = tmp_path / "out"
    result = cli("build", str(tmp_path / "task.yaml"), "-o", str(out), "-q")
    assert result.exit_code == 0, result.stderr
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    (task,) = manifest["tasks"].values()
    assert task["dropped"] == {reason: 1} and task["written"] >= 1
    (entry,) = [orjson.loads(line) for line in (out / "rejected.jsonl").read_bytes().splitlines()]
    assert (entry["reason"], entry["row"]) == (reason, position)
    assert entry["detail"].startswith(detail), entry["detail"]
    assert entry["file"].endswith("data.json")
    fail = cli("build", str(tmp_path / "task.yaml"), "-o", str(tmp_path / "out2"), "-q", "--on-error", "fail")
    assert fail.exit_code == 2
    assert fail.stderr.startswith(f"komt-data: error: {tmp_path / 'data.json'}:{position}: {reason}: ")


def parquet_bytes() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    table = pa.table({"premise": ["비가 온다."] * 5000, "hypothesis": ["날씨가 맑다."] * 5000,
                      "label": ["contradiction"] * 5000})
    pq.write_table(table, sink, row_group_size=1000)
    return sink.getvalue()


def xlsx_bytes(rows: int = 3000) -> bytes:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["원문", "번역문"])
    for i in range(rows):
        book.active.append([f"안녕하세요 {i}번째 문장입니다.", f"Hello, sentence number {i}."])
    sink = io.BytesIO()
    book.save(sink)
    return sink.getvalue()


def truncated_sheet(data: bytes) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            part = src.read(item.filename)
            dst.writestr(item, part[: len(part) // 2] if item.filename.endswith("sheet1.xml") else part)
    return sink.getvalue()


# (task config, file name, bytes, expected message after the file name) for unreadable files.
FILE_CASES = {
    "text named .parquet": (PARQUET_TASK, "data.parquet", lambda: b"premise,hypothesis\n" * 10,
                            "cannot read as Parquet: "),
    "truncated parquet": (PARQUET_TASK, "data.parquet", lambda: parquet_bytes()[:-200], "cannot read as Parquet: "),
    "parquet cut in a row group": (PARQUET_TASK, "data.parquet",
                                   lambda: (lambda b: b[:len(b) // 2] + b[-8:])(parquet_bytes()),
                                   "cannot read as Parquet: "),
    "text named .xlsx": (XLSX_TASK, "data.xlsx", lambda: b"not a workbook",
                         "cannot open as an Excel workbook: File is not a zip file"),
    "truncated sheet": (XLSX_TASK, "data.xlsx", lambda: truncated_sheet(xlsx_bytes()),
                        "cannot read the workbook past row "),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
@pytest.mark.parametrize("on_error", ["skip", "fail"])
def test_an_unreadable_file_is_exit_2_naming_it(tmp_path, cli, case, on_error):
    config, name, make, message = FILE_CASES[case]
    (tmp_path / name).write_bytes(make())
    write(tmp_path / "task.yaml", config)
    result = cli("build", str(tmp_path / "task.yaml"), "-o", str(tmp_path / "out"), "-q", "--on-error", on_error)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"komt-data: error: {tmp_path / name}: {message}"), result.stderr
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


MALFORMED_HTML = ["<![axx -", "<![if x]>", "<![]", "<!['", "</", "<a href='", "<!--", "&#" + "9" * 5000 + ";",
                  "<script>", "<a <b <c"]


def test_malformed_html_never_stops_the_build(tmp_path, cli):
    """Python's html.parser raised AssertionError on '<![' sections: the build stopped even with --on-error skip."""
    qas = [{"id": f"q{i}", "question": f"질문 {i}?", "answer": {"text": "제주시", "answer_start": 0}}
           for i in range(len(MALFORMED_HTML))]
    data = [{"title": "제주", "context": f"<p>제주시</p>{html}", "qas": [qa]}
            for html, qa in zip(MALFORMED_HTML, qas, strict=True)]
    (tmp_path / "data.json").write_text(json.dumps({"data": data}), encoding="utf-8")
    write(tmp_path / "task.yaml", HTML_TASK)
    result = cli("build", str(tmp_path / "task.yaml"), "-o", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.stderr
    task = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())["tasks"]["kq2"]
    assert task["read"] == len(MALFORMED_HTML) and task["written"] >= len(MALFORMED_HTML)


@pytest.mark.parametrize("page, expected", [
    ("<p>제주시</p><![if x]>본문", "제주시\n본문"),         # a bogus comment, up to its '>'
    ("<p>서울</p><a href='x>y'>링크</a>", "서울\n링크"),    # '>' inside a quoted value does not end the tag
    ("<p>서울</p><a href='never closed>링크", "서울"),      # an open quote runs to the end, as in browsers
    ("a < b, 서울은 <한국>의 수도", "a < b, 서울은 <한국>의 수도"),  # '<' that opens nothing is text
    ("<p>앞</p><!-- 닫히지 않은 주석 <p>뒤</p>", "앞"),
    ("<script>if (a < b) { x = '</p>' }</script>본문", "본문"),
    ("<SCRIPT>x</SCRIPT >본문<br/>끝", "본문\n끝"),
    ("&#" + "9" * 5000 + ";와 &#x110000; 그리고 &#44032;", "\ufffd와 \ufffd 그리고 가"),
    ("<p/>하나<hr>둘</>셋", "하나\n둘셋"),
])
def test_html_is_read_as_browsers_read_malformed_markup(page, expected):
    assert html_to_text(page) == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["<", ">", "/", "!", "[", "]", "-", "--", "?", "'", '"', "=", "&", "#", ";", "x",
                                 "a", "p", "td", "tr", "li", "script", "style", "CDATA", "if", " ", "\n", "한국",
                                 "&amp;", "&#1234567890123;", "<![", "</", "<!--", "-->"]), max_size=40).map("".join))
def test_html_to_text_is_total(page):
    text = html_to_text(page)
    assert isinstance(text, str) and "\x1f" not in text


# --- point 7, beyond the listed cases: fuzz the whole-document readers and the adapters ----

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.sampled_from(["", "서울", "0"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["text", "index", "sentence", "0"]),
                                                                 inner, max_size=3),
    max_leaves=8)


def _shape(value_or_default: st.SearchStrategy, default) -> st.SearchStrategy:
    return st.one_of(st.just(default), value_or_default)


def _squad_variant(data, article, paragraph, qa, value, key):
    """A SQuAD document with random values put at each level of the layout (None: left as it is)."""
    good_qa = {"id": "q", "question": "수도는?", "answers": [{"text": "서울", "answer_start": 0}]}
    good_paragraph = {"context": "서울은 수도다.", "qas": [good_qa]}
    good_article = {"title": "서울", "paragraphs": [good_paragraph]}
    if value is not None:
        target = good_paragraph if key in ("context", "qas") else good_article if key == "title" else good_qa
        target[key] = value
    for items, extra in ((good_paragraph["qas"], qa), (good_article["paragraphs"], paragraph)):
        if extra is not None and isinstance(items, list):
            items.append(extra)
    articles = [good_article] + ([article] if article is not None else [])
    return {"data": articles if data is None else data}


SQUAD_DOCS = st.builds(_squad_variant, *(_shape(JSON_VALUES, None) for _ in range(5)),
                       st.sampled_from(["answers", "answer", "context", "question", "is_impossible", "title", "qas"]))

AIHUB_DOCS = st.builds(
    lambda text, sentence, index, abstractive, extractive, doc: {"documents": [
        {"id": "d", "text": text if text is not None else [[{"index": index, "sentence": sentence}]],
         "abstractive": abstractive, "extractive": extractive}] + ([doc] if doc is not None else [])},
    _shape(JSON_VALUES, None), _shape(JSON_VALUES, "문장이다."), _shape(JSON_VALUES, 0),
    _shape(JSON_VALUES, ["요약."]), _shape(JSON_VALUES, [0]), _shape(JSON_VALUES, None))

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_document(tmp_path: Path, doc, fmt: str, adapter: str, options: dict | None = None) -> None:
    """Read ``doc`` as ``fmt`` and run every row through ``adapter``: only rows, BadRows,
    Skip rejections and DataErrors naming the file may come out."""
    path = tmp_path / "doc.json"
    path.write_bytes(orjson.dumps(doc))
    unit = Unit(SourceConfig(files=(path,), format=fmt), path)
    try:
        rows = list(read_unit(unit, resolve_encoding(unit)))
    except DataError as exc:
        assert str(exc).startswith(str(path))
        return
    for _, row in rows:
        assert isinstance(row, (dict, BadRow))
        if isinstance(row, BadRow):
            orjson.dumps({"detail": row.detail, "input": row.raw}, default=str)
    good = [row for _, row in rows if isinstance(row, dict)]
    run_adapter(adapter, good, options=options)  # raises AdapterError on anything but Skip


@FUZZ
@given(doc=SQUAD_DOCS, html=st.booleans())
def test_squad_documents_of_any_shape_never_crash(tmp_path_factory, doc, html):
    _read_document(tmp_path_factory.mktemp("squad"), doc, "squad", "qa", {"html": True} if html else None)


@FUZZ
@given(doc=AIHUB_DOCS)
def test_aihub_documents_of_any_shape_never_crash(tmp_path_factory, doc):
    _read_document(tmp_path_factory.mktemp("aihub"), doc, "aihub-summary", "summarization")


@FUZZ
@given(doc=JSON_VALUES)
def test_json_documents_of_any_shape_never_crash(tmp_path_factory, doc):
    _read_document(tmp_path_factory.mktemp("json"), doc, "json", "nli")


ADAPTER_FIELDS = {
    "classification": (("text", "label"), {"labels": {"0": "부정", "1": "긍정"}}),
    "nli": (("premise", "hypothesis", "label"), {}),
    "sts": (("sentence1", "sentence2", "label"), {}),
    "qa": (("context", "question", "answers", "answer", "title", "is_impossible"), {}),
    "summarization": (("document", "summary", "title"), {}),
    "translation": (("source", "target"), {}),
}


@FUZZ
@given(adapter=st.sampled_from(sorted(ADAPTER_FIELDS)), data=st.data())
def test_builtin_adapters_reject_rows_of_any_shape_with_a_reason(adapter, data):
    names, kwargs = ADAPTER_FIELDS[adapter]
    rows = data.draw(st.lists(st.fixed_dictionaries({}, optional={name: JSON_VALUES for name in names}),
                              min_size=1, max_size=4))
    run = run_adapter(adapter, rows, **kwargs)  # an AdapterError (exit 1, "failed on ...") fails the test
    seen = set(run.record_rows) | {r["line"] for r in run.rejections}
    assert seen == set(range(1, len(rows) + 1))


# --- point 8: bounded readers (subprocess, memory and time capped) -------------------------

def run_capped(code: str, *, memory_mb: int = 1024, seconds: int = 30) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with its address space and CPU time capped."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))

    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          preexec_fn=limit, timeout=seconds + 10)


@pytest.mark.parametrize("piece", ["<a ", '<a x="', "</a ", "<!--", "<![if ", "<?", "<script>", "&#", "<a\n"])
def test_html_of_a_megabyte_converts_in_linear_time(piece):
    """'<a ' * 16000 (48 KB) took 25 s with html.parser; a 1 MB page of it would take hours."""
    result = run_capped(f"""
        import time
        from komt_data.html import html_to_text
        page = {piece!r} * (1_000_000 // len({piece!r}))
        start = time.process_time()
        html_to_text("<p>시작</p>" + page)
        print(time.process_time() - start)
    """, memory_mb=1024, seconds=20)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) < 5


def write_bomb_xlsx(path: Path, strings: int) -> None:
    """A workbook whose shared strings table holds ``strings`` one-letter strings (17 bytes each)."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                   '</Types>')
        z.writestr("_rels/.rels", f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   f'relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
                   '</Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook {ns} xmlns:r="{rel}"><sheets><sheet name="S" sheetId="1" '
                   'r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/'
                   f'2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
                   f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{rel}/sharedStrings" '
                   'Target="sharedStrings.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", f'<worksheet {ns}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
                   '<c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s">'
                   '<v>3</v></c></row></sheetData></worksheet>')
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(f"<sst {ns}>".encode())
            block = b"<si><t>a</t></si>" * 10_000
            for _ in range(strings // 10_000):
                f.write(block)
            f.write(b"</sst>")


def test_xlsx_whose_shared_strings_unpack_to_200_mb_is_refused_quickly(tmp_path):
    """It took 1.2 GB and 107 s; now the zip directory refuses it before openpyxl opens it."""
    bomb = tmp_path / "data.xlsx"
    write_bomb_xlsx(bomb, 12_000_000)  # 204 MB of XML in about 0.5 MB
    assert bomb.stat().st_size < 2 << 20
    result = run_capped(f"""
        from pathlib import Path
        from komt_data.errors import DataError
        from komt_data.sources.xlsx import read_xlsx
        try:
            list(read_xlsx(Path({str(bomb)!r}), None))
        except DataError as exc:
            print(exc)
    """, memory_mb=600, seconds=10)
    assert result.returncode == 0, result.stderr
    part = zipfile.ZipFile(bomb).getinfo("xl/sharedStrings.xml")
    assert part.file_size > 200_000_000
    assert result.stdout == (f"{bomb}: xl/sharedStrings.xml unpacks to {part.file_size:,} bytes from "
                             f"{part.compress_size:,} (over 100 times): refused as a zip bomb\n")


def test_xlsx_over_the_document_limit_is_refused(tmp_path, cli):
    (tmp_path / "data.xlsx").write_bytes(xlsx_bytes(200))
    write(tmp_path / "task.yaml", XLSX_TASK)
    unpacked = sum(part.file_size for part in zipfile.ZipFile(tmp_path / "data.xlsx").infolist())
    result = cli("build", str(tmp_path / "task.yaml"), "-o", str(tmp_path / "out"), "-q",
                 "--max-document-bytes", str(unpacked - 1))
    assert result.exit_code == 2
    assert result.stderr == (f"komt-data: error: {tmp_path / 'data.xlsx'}: the workbook unpacked is {unpacked:,} "
                             f"bytes, over the limit of {unpacked - 1:,} bytes for an input read whole (raise it "
                             "with --max-document-bytes)\n")
    ok = cli("build", str(tmp_path / "task.yaml"), "-o", str(tmp_path / "out"), "-q",
             "--max-document-bytes", str(unpacked))
    assert ok.exit_code == 0, ok.stderr
    # The limit is part of what "up to date" compares: a tighter one is not satisfied by this output.
    again = cli("build", str(tmp_path / "task.yaml"), "-o", str(tmp_path / "out"), "--overwrite",
                "--max-document-bytes", str(unpacked - 1))
    assert again.exit_code == 2 and "up to date" not in again.stdout


@pytest.mark.parametrize("name", ["data.json", "data.json.gz"])
def test_json_document_over_the_limit_is_refused_before_it_is_read(tmp_path, cli, name):
    doc = squad(context="서울은 대한민국의 수도이다. " * 200)
    path = tmp_path / name
    path.write_bytes(gzip.compress(doc, mtime=0) if name.endswith(".gz") else doc)
    write(tmp_path / "task.yaml", SQUAD_TASK.replace("data.json", name))
    result = cli("build", str(tmp_path / "task.yaml"), "-o", str(tmp_path / "out"), "-q",
                 "--max-document-bytes", "4096")
    assert result.exit_code == 2
    found = ("decompresses to more than 4,096 bytes, the limit" if name.endswith(".gz")
             else f"is {len(doc):,} bytes, over the limit of 4,096 bytes")
    assert result.stderr == (f"komt-data: error: {path}: the file {found} for an input read whole "
                             "(raise it with --max-document-bytes)\n")
    ok = cli("build", str(tmp_path / "task.yaml"), "-o", str(tmp_path / "out"), "-q",
             "--max-document-bytes", str(len(doc)))
    assert ok.exit_code == 0, ok.stderr


def test_gzipped_json_bomb_is_stopped_at_the_limit_in_bounded_memory(tmp_path):
    """200 MB of JSON in a small .gz: read only up to the limit, never parsed, under a 300 MB cap."""
    path = tmp_path / "bomb.json.gz"
    squeeze = zlib.compressobj(1, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        f.write(squeeze.compress(b'{"data": ["'))
        block = b" " * (8 << 20)
        for _ in range(25):
            f.write(squeeze.compress(block))
        f.write(squeeze.compress(b'"]}') + squeeze.flush())
    result = run_capped(f"""
        from pathlib import Path
        from komt_data.errors import DataError
        from komt_data.sources.documents import load_json_document
        try:
            load_json_document(Path({str(path)!r}), "utf-8", 20 << 20)
        except DataError as exc:
            print(exc)
    """, memory_mb=300, seconds=20)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"{path}: the file decompresses to more than 20,971,520 bytes, the limit for an input "
                             "read whole (raise it with --max-document-bytes)\n")


# --- point 12: a lone \r inside a TSV cell ------------------------------------------------

TSV = "sentence1\tsentence2\tgold_label\n" + (
    "첫 문장\t가설\tneutral\n"
    "셀 안에\r줄바꿈이 있는 문장\t가설 둘\tentailment\r\n"
    "셋째 문장\t가설 셋\tcontradiction\n") * 40


@pytest.mark.parametrize("encoding", ["utf-8", "cp949"])
def test_a_lone_cr_in_a_tsv_cell_is_data_and_line_numbers_stay_exact(tmp_path, monkeypatch, encoding):
    path = tmp_path / "kornli.tsv"
    path.write_bytes(TSV.encode(encoding))
    rows = list(read_delimited(path, encoding, "\t"))
    assert all(isinstance(row, dict) for _, row in rows), rows[:3]
    assert len(rows) == 120
    assert rows[1] == (3, {"sentence1": "셀 안에\r줄바꿈이 있는 문장", "sentence2": "가설 둘",
                           "gold_label": "entailment"})
    assert rows[2][0] == 4 and rows[-1][0] == 1 + 3 * 40
    # Read in chunks (as workers read a large file), the same rows at the same lines.
    source = SourceConfig(files=(path,), format="tsv", encoding=encoding)
    pieces = list(chunks_module.iter_chunks(Unit(source, path), encoding, chunk_bytes=256))
    assert len(pieces) > 5
    chunked = [pair for piece in pieces for pair in read_unit(piece, encoding)]
    assert chunked == rows


def test_a_lone_cr_in_a_legacy_jsonl_line_does_not_split_it(tmp_path):
    path = tmp_path / "reviews.jsonl"
    path.write_bytes('{"review": "좋다",\r"rating": "10"}\n{"review": "별로"}\n'.encode("cp949"))
    rows = list(read_jsonl(path, "cp949"))
    assert rows == [(1, {"review": "좋다", "rating": "10"}), (2, {"review": "별로"})]


def test_a_lone_cr_in_a_tsv_builds_the_same_bytes_with_any_workers(tmp_path, cli, monkeypatch):
    monkeypatch.setattr(chunks_module, "CHUNK_BYTES", 512)
    write(tmp_path / "kornli.tsv", TSV)
    write(tmp_path / "task.yaml", "name: kornli\nadapter: nli\nsource: {files: kornli.tsv, format: tsv}\n"
          "fields: {premise: sentence1, hypothesis: sentence2, label: gold_label}\n")
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        result = cli("build", str(tmp_path / "task.yaml"), "-o", str(out), "-q", "--workers", workers)
        assert result.exit_code == 0, result.stderr
        outputs.append({p.name: p.read_bytes() for p in sorted(out.glob("*.jsonl"))})
        manifest = orjson.loads((out / "manifest.json").read_bytes())
        assert manifest["tasks"]["kornli"]["read"] == 120
    assert outputs[0] == outputs[1]
    records = [orjson.loads(line) for name, data in outputs[0].items() if name.startswith("train")
               for line in data.splitlines()]
    # The cell's \r became a line break inside the premise (text hygiene), not a broken row.
    assert any("셀 안에\n줄바꿈이 있는 문장" in r["instruction"] for r in records)


# --- on real bytes (skipped when ../shared/corpora is absent) ------------------------------

def test_real_korsts_with_lone_crs_in_cells_reads_the_same_rows(tmp_path, corpora):
    """KorSTS dev with a lone \\r put inside every tenth sentence: the same rows at the same lines."""
    original = (corpora / "KorNLUDatasets" / "KorSTS" / "sts-dev.tsv").read_bytes()
    lines = original.split(b"\n")
    changed = [line.replace(b" ", b"\r", 1) if i % 10 == 5 and b" " in line else line
               for i, line in enumerate(lines)]
    (tmp_path / "plain.tsv").write_bytes(original)
    (tmp_path / "cr.tsv").write_bytes(b"\n".join(changed))
    plain = list(read_delimited(tmp_path / "plain.tsv", "utf-8", "\t"))
    with_cr = list(read_delimited(tmp_path / "cr.tsv", "utf-8", "\t"))
    assert len(plain) == len(with_cr) >= 1400
    assert [n for n, _ in plain] == [n for n, _ in with_cr]
    assert sum("\r" in row["sentence1"] for _, row in with_cr if isinstance(row, dict)) >= 100
    # Every row is the original row, with the \r in place of the space it replaced.
    for (_, before), (n, after) in zip(plain, with_cr, strict=True):
        if isinstance(before, dict):
            cr = b"\r" in changed[n - 1]
            assert after == ({**before, "sentence1": before["sentence1"].replace(" ", "\r", 1)} if cr else before)


def test_real_klue_nli_document_limit(tmp_path, cli, corpora):
    path = corpora / "KLUE" / "klue_benchmark" / "klue-nli-v1.1" / "klue-nli-v1.1_dev.json"
    size = path.stat().st_size
    write(tmp_path / "task.yaml", f'name: klue_nli\nadapter: nli\nsource: {{files: "{path}"}}\n'
          "fields: {label: gold_label}\n")
    over = cli("build", str(tmp_path / "task.yaml"), "-o", str(tmp_path / "out"), "-q",
               "--max-document-bytes", str(size - 1))
    assert over.exit_code == 2
    assert over.stderr == (f"komt-data: error: {path}: the file is {size:,} bytes, over the limit of {size - 1:,} "
                           "bytes for an input read whole (raise it with --max-document-bytes)\n")
    ok = cli("build", str(tmp_path / "task.yaml"), "-o", str(tmp_path / "out"), "-q", "--max-document-bytes", str(size))
    assert ok.exit_code == 0, ok.stderr
    assert orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())["tasks"]["klue_nli"]["written"] == 3000
