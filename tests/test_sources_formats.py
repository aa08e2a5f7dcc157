"""Source formats and encodings: .gz for text formats, auto encoding, xlsx, text-pair, ${VAR} paths,
one-object JSON files, and the HTML-to-text conversion used for KorQuAD 2.x."""

from __future__ import annotations

import gzip
import shutil

import pytest

from komt_data.config import load_task_config
from komt_data.errors import ConfigError, DataError
from komt_data.html import html_to_text
from komt_data.sources import BadRow, read_unit, resolve_encoding, units_of

from .conftest import write
from .layouts_helpers import LAYOUTS


def task(tmp_path, source: str, adapter: str = "nli", extra: str = ""):
    config = write(tmp_path / "task.yaml", f"name: t\nadapter: {adapter}\nsource:\n{source}\n{extra}")
    return load_task_config(config)


def rows_of(config):
    out = []
    for unit in units_of(config.source):
        out += list(read_unit(unit, resolve_encoding(unit)))
    return out


def gz(path, target):
    with gzip.open(target, "wb") as f:
        f.write(path.read_bytes())
    return target


@pytest.mark.parametrize(("fixture", "fmt", "count"), [
    ("kornli_nfd.tsv", None, 5),
    ("naver_news_bom.csv", None, 3),
    ("klue_nli_train.json", None, 3),
    ("klue_mrc.json", "squad", 5),
    ("aihub_document_summary.json", "aihub-summary", 3),
    ("nsmc_cp949.txt", None, 4),
])
def test_gzipped_text_formats_read_like_the_plain_file(tmp_path, fixture, fmt, count):
    plain = shutil.copyfile(LAYOUTS / fixture, tmp_path / fixture)
    (tmp_path / "gz").mkdir()
    gz(plain, tmp_path / "gz" / f"{fixture}.gz")
    fmt_line = f"  format: {fmt}\n" if fmt else ""
    rows_plain = rows_of(task(tmp_path, f"  files: {fixture}\n{fmt_line}"))
    rows_gz = rows_of(task(tmp_path, f"  files: gz/{fixture}.gz\n{fmt_line}"))
    assert len(rows_plain) == count
    assert rows_gz == rows_plain


def test_auto_encoding_reports_bom_utf8_and_cp949(tmp_path):
    shutil.copyfile(LAYOUTS / "naver_news_bom.csv", tmp_path / "news.csv")
    shutil.copyfile(LAYOUTS / "nsmc_cp949.txt", tmp_path / "nsmc.txt")
    shutil.copyfile(LAYOUTS / "kornli_nfd.tsv", tmp_path / "kornli.tsv")
    chosen = {}
    for name in ("news.csv", "nsmc.txt", "kornli.tsv"):
        (unit,) = units_of(task(tmp_path, f"  files: {name}").source)
        chosen[name] = resolve_encoding(unit)
    assert chosen == {"news.csv": "utf-8-sig", "nsmc.txt": "cp949", "kornli.tsv": "utf-8"}
    (_, first), *_ = rows_of(task(tmp_path, "  files: news.csv"))
    assert list(first)[0] == "date"  # the BOM never reaches the first column name


def test_explicit_cp949_reads_syllables_outside_euc_kr(tmp_path):
    shutil.copyfile(LAYOUTS / "nsmc_cp949.txt", tmp_path / "nsmc.txt")
    rows = rows_of(task(tmp_path, "  files: nsmc.txt\n  encoding: cp949"))
    assert [row["document"][:4] for _, row in rows] == ["똠방각하", "뷁...", "햏햏 재", "교도소 "]


def test_xlsx_positions_are_worksheet_rows_and_sheet_selects(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "설명"
    book.active.append(["이 파일은 AIHub 병렬 말뭉치 예시입니다."])
    ws = book.create_sheet("data")
    ws.append(["\ufeff원문", "번역문", None])
    ws.append(["안녕하세요.", "Hello.", None])
    ws.append([None, None, None])
    ws.append(["감사합니다.", "Thank you.", "extra"])
    book.save(tmp_path / "p.xlsx")
    rows = rows_of(task(tmp_path, "  files: p.xlsx\n  sheet: data", "translation"))
    assert rows == [(2, {"원문": "안녕하세요.", "번역문": "Hello.", "column3": None}),
                    (4, {"원문": "감사합니다.", "번역문": "Thank you.", "column3": "extra"})]
    with pytest.raises(DataError, match="no sheet 'Data'.*설명, data"):
        rows_of(task(tmp_path, "  files: p.xlsx\n  sheet: Data", "translation"))


def test_text_pair_needs_languages_and_the_partner_file(tmp_path):
    write(tmp_path / "a.en", "Hello.\n")
    with pytest.raises(ConfigError, match="source.languages.*two languages"):
        task(tmp_path, "  files: a.en\n  format: text-pair", "translation")
    with pytest.raises(DataError, match="the paired file a.ko is missing"):
        rows_of(task(tmp_path, "  files: a.en\n  format: text-pair\n  languages: [en, ko]", "translation"))
    write(tmp_path / "a.ko", "안녕하세요.\n")
    gz(tmp_path / "a.en", tmp_path / "b.en.gz")
    gz(tmp_path / "a.ko", tmp_path / "b.ko.gz")
    rows = rows_of(task(tmp_path, "  files: b.en.gz\n  format: text-pair\n  languages: [en, ko]", "translation"))
    assert rows == [(1, {"en": "Hello.", "ko": "안녕하세요."})]


def test_files_expand_environment_variables(tmp_path, monkeypatch):
    monkeypatch.delenv("KOMT_TEST_DATA", raising=False)
    with pytest.raises(ConfigError, match=r"key 'source.files': environment variable KOMT_TEST_DATA is not set"):
        task(tmp_path, "  files: ${KOMT_TEST_DATA}/x.tsv")
    data = tmp_path / "elsewhere"
    shutil.copyfile(LAYOUTS / "kornli_nfd.tsv", write(data / "x.tsv", ""))
    monkeypatch.setenv("KOMT_TEST_DATA", str(data))
    assert task(tmp_path, "  files: ${KOMT_TEST_DATA}/x.tsv").source.files == (data / "x.tsv",)
    # A relative value means the shell's working directory, not the config's folder.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KOMT_TEST_DATA", "elsewhere")
    (config_dir := tmp_path / "configs").mkdir()
    assert task(config_dir, "  files: ${KOMT_TEST_DATA}/x.tsv").source.files == (tmp_path / "elsewhere" / "x.tsv",)


def test_json_file_holding_one_object_is_one_row(tmp_path):
    shutil.copyfile(LAYOUTS / "aihub_book_summary" / "CLSS1000000001.json", tmp_path / "one.json")
    ((position, row),) = rows_of(task(tmp_path, "  files: one.json", "summarization"))
    assert position == 1 and row["passage_id"] == "CLSS1000000001"
    # An object holding a list of rows still needs `records:`, and says which.
    write(tmp_path / "wrapped.json", '{"version": 1, "rows": [{"a": 1}]}')
    with pytest.raises(DataError, match="set source.records to one of: rows"):
        rows_of(task(tmp_path, "  files: wrapped.json", "summarization"))
    # ... unless `records: .` says the whole object is the row.
    rows = rows_of(task(tmp_path, "  files: wrapped.json\n  records: .", "summarization"))
    assert rows == [(1, {"version": 1, "rows": [{"a": 1}]})]


def test_aihub_summary_rows_flatten_paragraphs(tmp_path):
    shutil.copyfile(LAYOUTS / "aihub_document_summary.json", tmp_path / "a.json")
    rows = [row for _, row in rows_of(task(tmp_path, "  files: a.json\n  format: aihub-summary", "summarization"))]
    assert [r["summary"] is None for r in rows] == [False, True, False]
    assert rows[0]["extractive_summary"].endswith("지원 단가는 1헥타르당 평균 340만 원이다.")
    assert rows[1]["extractive_summary"] is None  # a null index
    assert rows[2]["document"].count("\n") == 0 and "text" not in rows[2]


def test_bad_rows_in_a_squad_file_are_reported_not_fatal(tmp_path):
    write(tmp_path / "s.json", '{"data": [{"title": "x"}, {"paragraphs": [{"context": "c", "qas": [1]}]}]}')
    rows = rows_of(task(tmp_path, "  files: s.json\n  format: squad", "qa"))
    assert [type(r) for _, r in rows] == [BadRow, BadRow]


def test_html_to_text_keeps_tables_and_lists_readable():
    page = ("<html><head><title>제목</title><style>p{}</style></head><body><h2>개요</h2>"
            "<p>서울은 &lt;한국&gt;의\n수도이다.<br/>둘째 줄</p>"
            "<ul><li>하나</li><li><b>둘</b></li><li></li></ul>"
            "<table><tr><th>연도</th><th>인구</th></tr><tr><td>1995년</td><td>1,000만</td></tr></table></body></html>")
    assert html_to_text(page) == "개요\n서울은 <한국>의 수도이다.\n둘째 줄\n- 하나\n- 둘\n연도 | 인구\n1995년 | 1,000만"
    assert html_to_text("<td>871km²</td>") == "871km²"


def test_gzipped_parquet_reads_like_the_plain_file(tmp_path):
    """pyarrow seeks in a Parquet file: a .parquet.gz must stay seekable through gzip."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"premise": ["비가 온다.", "영화가 재미있다."], "hypothesis": ["날씨가 맑다.", "영화를 봤다."],
                      "label": ["contradiction", "entailment"]})
    pq.write_table(table, tmp_path / "nli.parquet")
    gz(tmp_path / "nli.parquet", tmp_path / "nli.parquet.gz")
    rows_plain = rows_of(task(tmp_path, "  files: nli.parquet\n"))
    rows_gz = rows_of(task(tmp_path, "  files: nli.parquet.gz\n"))
    assert [row["premise"] for _, row in rows_gz] == ["비가 온다.", "영화가 재미있다."]
    assert rows_gz == rows_plain
