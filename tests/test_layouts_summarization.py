"""Summarization layouts: naver-news CSV with a BOM and quoted newlines, AIHub 문서요약 (abstractive and
extractive), 도서자료 요약 and 요약문 및 레포트 생성 (one JSON object per file, nullable summaries)."""

from __future__ import annotations

from .layouts_helpers import build_shipped, inverted_ids, lay_out


def test_naver_news_csv_with_bom_and_quoted_newlines(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", {"naver_news/train.csv": "naver_news_bom.csv"})
    built = build_shipped("naver_news_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    # Three articles, the third without a summary: an empty CSV cell, not a merged row.
    assert (task["read"], task["written"], task["dropped"]) == (3, 2, {"no_summary": 1})
    assert task["sources"][0]["encoding"] == "utf-8-sig"
    assert built["rejected"][0]["line"] == 8  # the file line where that article starts
    text = "\n".join(r["text"] for r in built["records"])
    assert "추 부총리는 \"물가 안정을 최우선 과제로 삼겠다\"며" in text  # doubled quotes undone, newline kept
    assert "\ufeff" not in text


def test_aihub_document_summary_abstractive(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", {"aihub_document_summary/Training/train_original.json":
                                       "aihub_document_summary.json"})
    built = build_shipped("aihub_document_summary_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    assert (task["read"], task["written"], task["dropped"]) == (3, 2, {"no_summary": 1})
    assert built["rejected"][0]["input"]["id"] == "290741792"  # "abstractive": []
    record = next(r for r in built["records"] if "광양시는 쌀 과잉" in r["text"])
    # Sentences of a paragraph join with spaces, paragraphs with a newline.
    assert ("지원하는 사업을 추진한다. 지원 대상은 2017년 벼를 재배한 논이며, 신청은 2월 말까지 읍면동에서 받는다.\n"
            "지원 단가는") in record["text"]


def test_aihub_document_summary_extractive_variant_quotes_the_indexed_sentences(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", {"aihub_document_summary/Training/train_original.json":
                                       "aihub_document_summary.json"})
    built = build_shipped("aihub_document_summary_extractive_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    # Documents 2 and 3 have a null index in `extractive`: no reliable extract, dropped with a reason.
    assert (task["read"], task["written"], task["dropped"]) == (3, 1, {"no_summary": 2})
    (record,) = built["records"]
    assert record["template"].startswith("summarization/extractive_")
    if record["template"] not in inverted_ids("summarization_extractive"):
        assert record["output"] == (
            "광양시는 쌀 과잉문제를 근본적으로 해결하기 위해 논에 벼 대신 타 작물을 재배하는 "
            "농가에 대해 지원하는 사업을 추진한다. "
            "지원 대상은 2017년 벼를 재배한 논이며, 신청은 2월 말까지 읍면동에서 받는다. "
            "지원 단가는 1헥타르당 평균 340만 원이다.")
    else:
        assert record["output"] == "논 타작물 재배, 2월 말까지 신청하세요"


def test_aihub_book_summary_one_object_per_file(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", {
        "aihub_book_summary/Training/기술과학/CLSS1000000001.json": "aihub_book_summary/CLSS1000000001.json",
        "aihub_book_summary/Training/예술/CLSS1000000002.json": "aihub_book_summary/CLSS1000000002.json",
    })
    built = build_shipped("aihub_book_summary_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    assert (task["read"], task["written"], task["dropped"]) == (2, 1, {"no_summary": 1})
    assert "칠정산" in built["records"][0]["text"]


def _report_files() -> dict[str, str]:
    names = ("REPORT-minute-00001.json", "REPORT-edit-00002.json", "REPORT-speech-00003.json")
    folder = ("aihub_report_summary/022.요약문 및 레포트 생성 데이터/01.데이터/1.Training/라벨링데이터"
              "/TL1/04.paper/20per")
    return {f"{folder}/{n}": f"aihub_report_summary/{n}" for n in names}


def test_aihub_report_summary_generative_summary1(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", _report_files())
    built = build_shipped("aihub_report_summary_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    assert (task["read"], task["written"], task["dropped"]) == (3, 2, {"no_summary": 1})
    assert built["rejected"][0]["file"].endswith("REPORT-edit-00002.json")  # summary1 is null


def test_aihub_report_summary_extractive_takes_the_first_non_null(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", _report_files())
    built = build_shipped("aihub_report_summary_extractive_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    assert (task["read"], task["written"], task["dropped"]) == (3, 2, {"no_summary": 1})
    assert built["rejected"][0]["file"].endswith("REPORT-speech-00003.json")  # summary2 and 3 null
    originals = [r for r in built["records"] if r["template"] not in inverted_ids("summarization_extractive")]
    assert {r["output"] for r in originals} <= {
        "국토교통부는 청년층의 주거 부담을 덜기 위해 월세 지원 사업을 시작한다고 밝혔다.",
        "올해 축제 예산은 작년보다 10% 늘어난 3천만 원입니다. 이의가 없으므로 원안대로 의결합니다.",
    }
