"""The shipped AIHub configs against the folder names real downloads have once unzipped.

Each layout below is one that public code loading the dataset reads (cited per layout: the
repository and file when the search index names them, otherwise the path the code opens).
For every layout the fixture files are put at those paths, next to the same dataset's
validation files (and, where AIHub ships them, its 원천데이터 sources), and the test checks
which files the build read: the training files, all of them, and nothing else.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from komt_data.errors import ConfigError

from .layouts_helpers import LAYOUTS, build_shipped

BOOK = ("CLSS1000000001.json", "CLSS1000000002.json")  # 2 rows, 1 with a summary
REPORT = ("REPORT-minute-00001.json", "REPORT-edit-00002.json", "REPORT-speech-00003.json")  # summary1: 2 of 3


def _place(data: Path, rel: str, fixture: Path, names: tuple[str, ...] = ()) -> list[Path]:
    """Copy ``fixture`` to ``data/rel``; with ``names``, those files of folder ``fixture`` into
    folder ``data/rel``. Returns the paths written."""
    pairs = [(fixture / name, data / rel / name) for name in names] if names else [(fixture, data / rel)]
    for source, target in pairs:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return [target for _, target in pairs]


def _read_files(built: dict) -> set[str]:
    """The files the build read, from the dataset's folder down (labels may be cwd-relative)."""
    labels = [Path(source["file"]).as_posix() for source in built["task"]["sources"]]
    return {label[label.index("/aihub_") + 1:] for label in labels}


def _as_set(paths: list[Path]) -> set[str]:
    return {path.as_posix()[path.as_posix().index("/aihub_") + 1:] for path in paths}


# --- 문서요약 텍스트 -------------------------------------------------------------------------
# D1: cawandmilk/gas README.md ("초기 데이터는 아래와 같이 압축 해제"): Training/ holds
#     법률_train_original.json, 사설잡지_…, 신문기사_… next to the .zip they came from;
#     Validation/ the *_valid_original.json. The same tree is in another KoBART README (dataset.py).
# D2: a public Colab script opens '문서요약 텍스트/Training/train_original.json' and
#     '문서요약 텍스트/Validation/valid_original.json'.
# D3: galaxyhm/Shortzip README.md: "training 폴더에 신문기사_train_original 을 압축풀어": an
#     archive unzipped into a folder named after it.
DOCUMENT_LAYOUTS = {
    "D1 Training/<분야>_train_original.json beside its zip": (
        ["Training/법률_train_original.json", "Training/신문기사_train_original.json"],
        ["Validation/법률_valid_original.json", "Validation/신문기사_valid_original.json"],
        ["Training/법률_train_original.zip", "Validation/법률_valid_original.zip"]),
    "D2 문서요약 텍스트/Training/train_original.json": (
        ["문서요약 텍스트/Training/train_original.json"],
        ["문서요약 텍스트/Validation/valid_original.json"], []),
    "D3 archive unzipped into its own folder": (
        ["Training/신문기사_train_original/train_original.json"],
        ["Validation/신문기사_valid_original/valid_original.json"], []),
}


@pytest.mark.parametrize("config", ["aihub_document_summary_files", "aihub_document_summary_extractive_files"])
@pytest.mark.parametrize("layout", sorted(DOCUMENT_LAYOUTS))
def test_document_summary_reads_every_training_file_and_no_validation_file(layout, config, tmp_path,
                                                                           monkeypatch):
    train, validation, archives = DOCUMENT_LAYOUTS[layout]
    data = tmp_path / "data"
    fixture = LAYOUTS / "aihub_document_summary.json"  # 3 documents, 2 with an abstractive summary
    expected = [p for rel in train for p in _place(data, f"aihub_document_summary/{rel}", fixture)]
    for rel in validation:
        _place(data, f"aihub_document_summary/{rel}", fixture)
    for rel in archives:  # the zip AIHub ships: not JSON, never read
        path = data / "aihub_document_summary" / rel
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("train_original.json", fixture.read_bytes())
    built = build_shipped(config, data, tmp_path / "out", monkeypatch)
    assert _read_files(built) == _as_set(expected)
    assert built["task"]["read"] == 3 * len(train)
    assert not any("Validation" in r["file"] for r in built["rejected"])


# --- 도서자료 요약 --------------------------------------------------------------------------
# B1: a public script tags its rows '/nas/AH_Summ_book_kr/도서자료 요약/Training/' + category + file
#     (categories 기술과학, 기타, 사회과학, 예술).
# B2: two public scripts read 'C:\\...\\도서자료 요약\\Training\\[원천]도서요약_train\\<category>' (and
#     '…\\Validation\\[원천]도서요약_valid'): the archive's folder, brackets and all, kept; its
#     JSON files hold passage, summary and metadata.
BOOK_LAYOUTS = {
    "B1 도서자료 요약/Training/<분류>": ("도서자료 요약/Training/{category}", "도서자료 요약/Validation/{category}"),
    "B2 Training/[원천]도서요약_train/<분류>": ("도서자료 요약/Training/[원천]도서요약_train/{category}",
                                         "도서자료 요약/Validation/[원천]도서요약_valid/{category}"),
}


@pytest.mark.parametrize("layout", sorted(BOOK_LAYOUTS))
def test_book_summary_reads_every_training_file_and_no_validation_file(layout, tmp_path, monkeypatch):
    train, validation = BOOK_LAYOUTS[layout]
    data = tmp_path / "data"
    expected = []
    for category, name in zip(("기술과학", "예술"), BOOK, strict=True):
        expected += _place(data, f"aihub_book_summary/{train.format(category=category)}/{name}",
                           LAYOUTS / "aihub_book_summary" / name)
        _place(data, f"aihub_book_summary/{validation.format(category=category)}/{name}",
               LAYOUTS / "aihub_book_summary" / name)
    built = build_shipped("aihub_book_summary_files", data, tmp_path / "out", monkeypatch)
    assert _read_files(built) == _as_set(expected)
    task = built["task"]
    assert (task["read"], task["written"], task["dropped"]) == (2, 1, {"no_summary": 1})
    assert "칠정산" in built["records"][0]["text"]


# --- 요약문 및 레포트 생성 ------------------------------------------------------------------
# AIHub ships 022.요약문 및 레포트 생성 데이터/01.데이터/1.Training/라벨링데이터/TL1.zip and
# 2.Validation/라벨링데이터/VL1.zip (a public `datasets` loading script names exactly these two
# paths and reads the zips' <category>/<20per|2~3sent>/*.json members). Unzipped:
# R1: into TL1/: a public script opens '…/01.데이터/1.Training/라벨링데이터/TL1/03.his_cul/2~3sent',
#     another TRAIN_LABEL_DIR = RAW_BASE / "1.Training" / "라벨링데이터" / "TL1".
# R2: in place: a public script opens '…/01.데이터/1.Training/라벨링데이터/01.news_r/20per' and
#     '…/2.Validation/라벨링데이터/01.news_r/20per' (no TL1 folder: `**/TL*/**` found nothing).
# R3: a public project log reads "1. Training > 라벨링데이터 > TS1 > 01.news_r > 2~3sent".
BASE = "022.요약문 및 레포트 생성 데이터/01.데이터"
REPORT_LAYOUTS = {
    "R1 라벨링데이터/TL1/<분류>/20per": (f"{BASE}/1.Training/라벨링데이터/TL1/01.news_r/20per",
                                    f"{BASE}/2.Validation/라벨링데이터/VL1/01.news_r/20per"),
    "R2 라벨링데이터/<분류>/20per (unzipped in place)": (f"{BASE}/1.Training/라벨링데이터/01.news_r/20per",
                                                  f"{BASE}/2.Validation/라벨링데이터/01.news_r/20per"),
    "R3 라벨링데이터/TS1/<분류>/2~3sent": (f"{BASE}/1.Training/라벨링데이터/TS1/01.news_r/2~3sent",
                                      f"{BASE}/2.Validation/라벨링데이터/VS1/01.news_r/2~3sent"),
}


@pytest.mark.parametrize("layout", sorted(REPORT_LAYOUTS))
def test_report_summary_reads_the_training_labels_only(layout, tmp_path, monkeypatch):
    train, validation = REPORT_LAYOUTS[layout]
    data = tmp_path / "data"
    fixtures = LAYOUTS / "aihub_report_summary"
    expected = _place(data, f"aihub_report_summary/{train}", fixtures, REPORT)
    _place(data, f"aihub_report_summary/{validation}", fixtures, REPORT)
    # Should the source archive be unzipped too, its JSON is no label file: never read.
    _place(data, f"aihub_report_summary/{BASE}/1.Training/원천데이터/TS1/01.news_r/20per", fixtures, REPORT[:1])
    built = build_shipped("aihub_report_summary_files", data, tmp_path / "out", monkeypatch)
    assert _read_files(built) == _as_set(expected)
    task = built["task"]
    assert (task["read"], task["written"], task["dropped"]) == (3, 2, {"no_summary": 1})
    assert built["rejected"][0]["file"].endswith("REPORT-edit-00002.json")


def test_report_summary_without_the_aihub_folders_is_one_clear_error(tmp_path, monkeypatch):
    """A bare TL1/ (the layout this config used to expect) is not how AIHub ships the set: the
    build stops naming the pattern instead of reading nothing."""
    data = tmp_path / "data"
    _place(data, "aihub_report_summary/TL1/01.news_r/20per", LAYOUTS / "aihub_report_summary", REPORT)
    with pytest.raises(ConfigError, match="1.Training|Training/라벨링데이터"):
        build_shipped("aihub_report_summary_files", data, tmp_path / "out", monkeypatch)


# --- 한국어-영어 번역(병렬) 말뭉치 ----------------------------------------------------------
# K1: a public README's "RAW Data" tree: 1_구어체(1).xlsx, 1_구어체(2).xlsx, 2_대화체.xlsx,
#     3_문어체_뉴스(1)_200226.xlsx, …; Changyoon-Lee/preprocess_undreamt_ko file_path.py opens
#     'data/AIhubdataset/3_문어체_뉴스(1)_200226.xlsx' (the date suffix kept). No validation split:
#     a public table of AIHub sets lists 병렬 번역 말뭉치 with 1,602,418 train rows and "-" validation.
def test_ko_en_reads_every_workbook_whatever_its_name(tmp_path, monkeypatch):
    openpyxl = pytest.importorskip("openpyxl")
    data = tmp_path / "data"
    rows = {"한국어-영어 번역(병렬) 말뭉치/1_구어체(1).xlsx": ("씨티은행에서 일하세요?", "Do you work at a City bank?"),
            "한국어-영어 번역(병렬) 말뭉치/3_문어체_뉴스(1)_200226.xlsx": (
                "정부는 내년 예산안을 국회에 제출했다.",
                "The government submitted next year's budget to the National Assembly.")}
    for rel, (ko, en) in rows.items():
        book = openpyxl.Workbook()
        book.active.append(["SID", "원문", "번역문"])
        book.active.append([1, ko, en])
        path = data / "aihub_ko_en" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        book.save(path)
    # Excel's owner file next to a workbook open in Excel (165 bytes, not a workbook): not read.
    lock = data / "aihub_ko_en" / "한국어-영어 번역(병렬) 말뭉치" / "~$1_구어체(1).xlsx"
    lock.write_bytes(b"\x0bkomt-user" + b"\x00" * 155)
    built = build_shipped("aihub_ko_en_files", data, tmp_path / "out", monkeypatch,
                          overrides={"templates_per_example": 100})
    assert _read_files(built) == _as_set([data / "aihub_ko_en" / rel for rel in rows])
    assert (built["task"]["read"], built["task"]["dropped"]) == (2, {})
    outputs = {r["output"] for r in built["records"]}
    assert {en for _, en in rows.values()} <= outputs


# --- 전문분야 한영 말뭉치 -------------------------------------------------------------------
# SimpleJerry/The-fine-tuing-of-NLLB-200 data/README.md lists the sister set 027.한국어-중국어 번역
# 말뭉치 as AIHub packs these corpora: 01.데이터/1.Training/라벨링데이터/ko2zh_<분야>_1_training.json,
# 원천데이터/ the same names as .csv, 2.Validation/라벨링데이터/ko2zh_<분야>_2_validation.json.
# 전문분야 한영 말뭉치 names its files ko2en_<분야>_<n>_<training|validation>.json the same way.
def test_ko_en_reviewed_reads_the_training_json_only(tmp_path, monkeypatch):
    data = tmp_path / "data"
    base = data / "aihub_ko_en_reviewed" / "전문분야 한영 말뭉치" / "01.데이터"
    train = {"ko2en_it_tech_1_training.json": ("서버를 재시작하면 설정이 적용됩니다.",
                                              "Restarting the server applies the settings."),
             "ko2en_medical_1_training.json": ("환자는 수술 후 사흘 만에 퇴원했다.",
                                              "The patient was discharged three days after surgery.")}
    expected = []
    for name, (ko, en) in train.items():
        path = base / "1.Training" / "라벨링데이터" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"data": [{"sn": "1", "한국어": ko, "영어": en}]}, ensure_ascii=False),
                        encoding="utf-8")
        expected.append(path)
        source = base / "1.Training" / "원천데이터" / name.replace(".json", ".csv")
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(f"sn,한국어\n1,{ko}\n", encoding="utf-8")
    held_out = base / "2.Validation" / "라벨링데이터" / "ko2en_it_tech_2_validation.json"
    held_out.parent.mkdir(parents=True, exist_ok=True)
    held_out.write_text(json.dumps({"data": [{"sn": "9", "한국어": "방화벽 규칙을 점검하세요.",
                                              "영어": "Check the firewall rules."}]}, ensure_ascii=False),
                        encoding="utf-8")
    built = build_shipped("aihub_ko_en_reviewed_files", data, tmp_path / "out", monkeypatch,
                          overrides={"templates_per_example": 100})
    assert _read_files(built) == _as_set(expected)
    assert (built["task"]["read"], built["task"]["dropped"]) == (2, {})
    assert not any("방화벽" in r["text"] or "firewall" in r["text"] for r in built["records"])
