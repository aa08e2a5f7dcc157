"""Text hygiene on Korean realities: NFC not NFKC, invisible characters, line breaks, spaces."""

from __future__ import annotations

import unicodedata

import orjson
import pytest

from komt_data import build
from komt_data.text import clean_text, nfc

from .conftest import write

NFD = unicodedata.normalize("NFD", "맥에서 압축한 한글 파일")


@pytest.mark.parametrize("raw, clean", [
    (NFD, "맥에서 압축한 한글 파일"),                              # macOS archives: NFD -> NFC
    ("ㅋㅋㅋ 진짜 웃기다 ㅎㅎ", "ㅋㅋㅋ 진짜 웃기다 ㅎㅎ"),          # compatibility jamo stay (NFKC would change them)
    ("１００점 만점에 ９０점！", "１００점 만점에 ９０점！"),         # full-width forms stay (no NFKC)
    ("완전\u200b강추\u200d합니다\ufeff", "완전강추합니다"),          # zero-width and BOM removed
    ("소프트\u00ad하이픈", "소프트하이픈"),
    ("\u202e거꾸로\u202c 쓴 글", "거꾸로 쓴 글"),                  # bidi embeddings removed
    ("제목\x00\x07있음", "제목있음"),                               # C0 controls removed
    ("첫 줄\r\n둘째 줄\r셋째 줄", "첫 줄\n둘째 줄\n셋째 줄"),        # CRLF and CR -> LF
    ("문단\u2028나눔\u2029끝\x85", "문단\n나눔\n끝"),               # Unicode line breaks -> LF
    ("  여러   칸\t\t띄움\u3000전각\u00a0공백  ", "여러 칸 띄움 전각 공백"),
    ("\u3164\u3164닉네임\u3164", "닉네임"),                        # Hangul filler used as a blank
    ("줄 끝 공백   \n\n\n\n다음 문단", "줄 끝 공백\n\n다음 문단"),  # line structure kept, blank runs collapsed
    ("\u1100\u200b\u1161", "가"),                                # jamo split by a zero-width space join up
])
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_never_nfkc():
    text = "ㅋㅋ ㈜한국 ①번 ｱ"
    assert clean_text(text) == text
    assert unicodedata.normalize("NFKC", text) != text  # what NFKC would have done


def test_nfc_of_template_words():
    assert nfc(unicodedata.normalize("NFD", "다음 문장")) == "다음 문장"


def test_built_records_are_nfc_even_with_an_nfd_template_file(tmp_path):
    write(tmp_path / "reviews.jsonl", orjson.dumps({"review": NFD + " ㅋㅋ\r\n최고", "rating": "10"}).decode() + "\n")
    templates = unicodedata.normalize("NFD", "family: classification\ntemplates:\n  - id: classification/01\n"
                                             "    instruction: \"다음 영화 리뷰의 감성은?\\n{{ text }}\"\n"
                                             "    response: \"{{ label }}\"\n")
    write(tmp_path / "nfd_templates.yaml", templates)
    config = write(tmp_path / "task.yaml", "name: nsmc\nadapter: classification\nsource: {files: reviews.jsonl}\n"
                   "fields: {text: review, label: rating}\nlabels: {\"10\": 긍정}\ntemplates: nfd_templates.yaml\n")
    build(config, tmp_path / "out")
    (record,) = [orjson.loads(line) for line in (tmp_path / "out" / "train-00000-of-00001.jsonl").read_bytes()
                 .splitlines()]
    assert record["instruction"] == "다음 영화 리뷰의 감성은?\n맥에서 압축한 한글 파일 ㅋㅋ\n최고"
    assert record["output"] == "긍정"
    for key in ("instruction", "output", "text"):
        assert unicodedata.is_normalized("NFC", record[key])
