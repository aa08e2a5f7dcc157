"""The bad-input corpus (tests/fixtures/bad_inputs): every bad row is rejected with its
file, line and reason and counted; good rows are written; ``--on-error fail`` stops at
the bad row with one line, exit 2, and no output directory."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml

from komt_data import DataError, build

from .conftest import FIXTURES, write

CORPUS = FIXTURES / "bad_inputs"
EXPECTED = yaml.safe_load((CORPUS / "expectations.yaml").read_text(encoding="utf-8"))

# The three layouts the corpus is in: NSMC raw reviews (JSONL), KorNLI (TSV), KLUE-NLI (JSON).
TASKS = {
    "nsmc": """name: nsmc
adapter: classification
source: {{files: "{file}"}}
fields: {{text: review, label: rating}}
labels: {{"1": 부정, "2": 부정, "9": 긍정, "10": 긍정}}
options: {{task_hint: 영화 리뷰의 감성}}
""",
    "kornli": """name: kornli
adapter: nli
source: {{files: "{file}", format: tsv}}
fields: {{premise: sentence1, hypothesis: sentence2, label: gold_label}}
""",
    "klue_nli": """name: klue_nli
adapter: nli
source: {{files: "{file}"}}
fields: {{label: gold_label}}
""",
}


def task_config(tmp_path: Path, name: str) -> Path:
    case = EXPECTED[name]
    return write(tmp_path / "task.yaml", TASKS[case["task"]].format(file=CORPUS / name))


ROW_CASES = sorted(name for name, case in EXPECTED.items() if "reason" in case)


def test_every_failure_class_has_a_file_and_an_expectation():
    files = {p.name for p in CORPUS.iterdir() if p.name != "expectations.yaml"}
    assert files == set(EXPECTED)
    reasons = {case["reason"] for case in EXPECTED.values() if "reason" in case}
    assert {"invalid_json", "missing_field", "wrong_type", "undecodable", "empty_text", "unknown_label",
            "wrong_column_count", "too_deep", "line_too_long"} <= reasons


@pytest.mark.parametrize("name", ROW_CASES)
def test_bad_row_is_rejected_with_its_line_and_counted(tmp_path, monkeypatch, name):
    case = EXPECTED[name]
    monkeypatch.chdir(CORPUS)  # provenance names files relative to the working directory
    manifest = build(task_config(tmp_path, name), tmp_path / "out",
                     max_line_bytes=case.get("max_line_bytes", 10_000_000))
    task = manifest["tasks"][case["task"]]
    assert task["dropped"] == {case["reason"]: 1}
    assert task["written"] == case["written"]
    assert task["read"] + task["expanded"] == task["written"] + sum(task["dropped"].values())
    rejected = [orjson.loads(line) for line in (tmp_path / "out" / "rejected.jsonl").read_bytes().splitlines()]
    assert len(rejected) == 1
    (entry,) = rejected
    assert (entry["file"], entry["line"], entry["reason"], entry["detail"]) == (
        str(CORPUS / name), case["line"], case["reason"], case["detail"])
    shards = [orjson.loads(line) for p in sorted((tmp_path / "out").glob("train-*.jsonl"))
              for line in p.read_bytes().splitlines()]
    assert len(shards) == case["written"]


@pytest.mark.parametrize("name", ROW_CASES)
def test_on_error_fail_stops_at_the_bad_row_with_one_line(tmp_path, monkeypatch, cli, name):
    case = EXPECTED[name]
    monkeypatch.chdir(CORPUS)
    out = tmp_path / "out"
    args = ["build", str(task_config(tmp_path, name)), "-o", str(out), "--on-error", "fail", "-q"]
    if "max_line_bytes" in case:
        args += ["--max-line-bytes", str(case["max_line_bytes"])]
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr == f"komt-data: error: {name}:{case['line']}: {case['reason']}: {case['detail']}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["task.yaml"]  # no output, no temp dir


@pytest.mark.parametrize("on_error", ["skip", "fail"])
def test_unreadable_document_stops_the_build_naming_the_line(tmp_path, monkeypatch, cli, on_error):
    name = "invalid_json_document.json"
    monkeypatch.chdir(CORPUS)
    result = cli("build", str(task_config(tmp_path, name)), "-o", str(tmp_path / "out"), "-q",
                 "--on-error", on_error)
    assert result.exit_code == 2
    assert result.stderr == f"komt-data: error: {EXPECTED[name]['error']}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["task.yaml"]


def test_max_errors_counts_bad_rows_across_files(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(CORPUS)
    config = write(tmp_path / "task.yaml", TASKS["nsmc"].format(file=CORPUS / "*.jsonl"))
    out = tmp_path / "out"
    result = cli("build", str(config), "-o", str(out), "-q", "--max-errors", "3",
                 "--max-line-bytes", "2048")
    assert result.exit_code == 2
    # Files are read in name order: empty_text (line 2), invalid_json (3), line_too_long (2), missing_field (2).
    assert result.stderr == (
        "komt-data: error: more than 3 bad rows, the build stopped at missing_field.jsonl:2 (--max-errors 3); "
        "most common: empty_text 1, invalid_json 1, line_too_long 1. Rerun with --on-error fail to see the first one\n")
    assert not out.exists()
    ok = cli("build", str(config), "-o", str(out), "-q", "--max-errors", "20", "--max-line-bytes", "2048")
    assert ok.exit_code == 0, ok.stderr
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    dropped = manifest["tasks"]["nsmc"]["dropped"]
    # too_deep.jsonl's 4 KB line is over 2048 bytes too, so it counts as line_too_long here.
    assert {k: v for k, v in dropped.items() if k != "duplicate"} == {
        "empty_text": 1, "invalid_json": 2, "line_too_long": 2, "missing_field": 1, "undecodable": 1,
        "unknown_label": 1, "wrong_type": 1}


def test_max_errors_fraction_stops_a_mostly_garbage_file(tmp_path, cli):
    good = '{"review": "배우들 연기가 좋았다", "rating": "10"}'
    lines = [good.replace("좋았다", f"좋았다 {i}") for i in range(3)] + ['{"review": 깨진 줄'] * 7
    data = write(tmp_path / "data" / "reviews.jsonl", "\n".join(lines) + "\n")
    config = write(tmp_path / "task.yaml", TASKS["nsmc"].format(file=data))
    out = tmp_path / "out"
    result = cli("build", str(config), "-o", str(out), "-q", "--max-errors", "50%")
    assert result.exit_code == 2
    assert result.stderr == (f"komt-data: error: {data}: 7 of 10 rows rejected (70.0%), over --max-errors 0.5; "
                             "most common: invalid_json 7\n")
    assert not out.exists()
    assert cli("build", str(config), "-o", str(out), "-q", "--max-errors", "0.8").exit_code == 0


@pytest.mark.parametrize("value, message", [
    ("abc", "--max-errors must be a number of rows or a fraction like 0.05, got 'abc'"),
    ("1.5", "--max-errors as a fraction must be above 0 and below 1, got '1.5'"),
    ("-1", "--max-errors must not be negative, got '-1'"),
])
def test_max_errors_rejects_nonsense(tmp_path, cli, value, message):
    result = cli("build", "-o", str(tmp_path / "out"), "-q", "--max-errors", value)
    assert (result.exit_code, result.stderr) == (1, f"komt-data: error: {message}\n")


def test_auto_detected_legacy_encoding_is_reported(tmp_path, monkeypatch, cli):
    name = "undecodable_cp949.tsv"
    monkeypatch.chdir(CORPUS)
    result = cli("build", str(task_config(tmp_path, name)), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    # Named by its absolute path: it is outside the folder of the config that reads it.
    assert f"note: {CORPUS / name} was read as cp949" in result.stdout.splitlines()
    manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    assert manifest["tasks"]["kornli"]["sources"][0]["encoding"] == "cp949"
    # A UTF-8 file with one cp949 line stays UTF-8: only that line is lost, not the file to mojibake.
    utf8 = build(task_config(tmp_path, "undecodable.jsonl"), tmp_path / "out2")
    assert utf8["tasks"]["nsmc"]["sources"][0]["encoding"] == "utf-8"


def test_over_long_lines_in_delimited_and_legacy_files(tmp_path):
    from komt_data.sources.lines import read_delimited, read_jsonl

    long_cell = "아주 긴 문장 " * 40
    tsv = write(tmp_path / "kornli.tsv", "sentence1\tsentence2\tgold_label\n"
                f"짧은 문장\t짧은 가설\tneutral\n{long_cell}\t가설\tentailment\n마지막 문장\t가설\tcontradiction\n")
    rows = list(read_delimited(tsv, "utf-8", "\t", max_line_bytes=200))
    assert [(n, type(r).__name__) for n, r in rows] == [(2, "dict"), (3, "BadRow"), (4, "dict")]
    assert rows[1][1].detail == "line of 335 characters is over the limit of 200 (raise it with --max-line-bytes)"
    # A quoted CSV cell over several lines: the row that holds the long line is the one rejected.
    csv_file = write(tmp_path / "news.csv", f'title,document\n"제목","첫 줄\n{long_cell}\n끝"\n"다음","본문"\n')
    rows = list(read_delimited(csv_file, "utf-8", ",", max_line_bytes=200))
    assert [(n, type(r).__name__) for n, r in rows] == [(3, "BadRow"), (5, "dict")]
    with pytest.raises(DataError, match=r"news\.csv:1: line of 321 characters .* \(the header line\)"):
        list(read_delimited(write(csv_file, f"{long_cell}\n1\n"), "utf-8", ",", max_line_bytes=200))
    legacy = tmp_path / "reviews.jsonl"
    legacy.write_bytes(('{"review": "좋아요"}\n{"review": "' + long_cell + '"}\n').encode("cp949"))
    rows = list(read_jsonl(legacy, "cp949", max_line_bytes=200))
    assert [(n, type(r).__name__) for n, r in rows] == [(1, "dict"), (2, "BadRow")]
    assert rows[1][1].reason == "line_too_long"


def test_a_file_without_any_newline_is_not_held_in_memory(tmp_path):
    from komt_data.sources.base import bounded_lines, open_binary

    blob = tmp_path / "blob.jsonl"
    blob.write_bytes(b"x" * (3 << 20))  # 3 MB, no newline at all
    with open_binary(blob) as f:
        assert list(bounded_lines(f, 1024)) == [(None, 3 << 20)]


KORNLI_ROWS = ("그리고 그가 말했다, 엄마 저 왔어요.\t"
               "그는 학교 버스가 그를 내려주자마자 엄마에게 전화를 걸었다.\tneutral\n") * 5


@pytest.mark.parametrize("data, expected", [
    (KORNLI_ROWS.encode("cp949"), "cp949"),
    (KORNLI_ROWS.encode("cp949") + b"\xff\n" + KORNLI_ROWS.encode("cp949"), "cp949"),  # one corrupt byte
    (KORNLI_ROWS.encode(), "utf-8"),
    (KORNLI_ROWS.encode() + "최고의 영화입니다\n".encode("cp949"), "utf-8"),  # one cp949 line in UTF-8
    (b"The movie was great.\n" * 20 + b"caf\xb0a\n", "utf-8"),  # cp949 would read \xb0a as a syllable
    ("좋아\n".encode("cp949"), "utf-8"),  # too little evidence: rejected loudly, never guessed
    (b"\xef\xbb\xbf" + KORNLI_ROWS.encode(), "utf-8-sig"),
], ids=["cp949", "cp949-corrupt-byte", "utf-8", "utf-8-one-cp949-line", "english-stray-byte", "tiny-cp949",
        "bom"])
def test_auto_encoding_never_guesses_into_mojibake(tmp_path, data, expected):
    from komt_data.sources.base import detect_encoding

    path = tmp_path / "input.tsv"
    path.write_bytes(data)
    assert detect_encoding(path) == expected


def test_max_errors_after_a_remote_stage_one():
    # The ray engine hands back finished segments: the same limits apply to their counts.
    from collections import Counter
    from types import SimpleNamespace

    from komt_data.spool.budget import ErrorBudget

    segments = [SimpleNamespace(label="a.jsonl", read=100, expanded=0, dropped=Counter(invalid_json=2)),
                SimpleNamespace(label="b.jsonl", read=10, expanded=0, dropped=Counter(undecodable=6))]
    ErrorBudget(None).check_segments(segments)
    ErrorBudget(8).check_segments(segments)
    with pytest.raises(DataError) as count:
        ErrorBudget(7).check_segments(segments)
    assert str(count.value) == ("8 bad rows, more than --max-errors 7; most common: undecodable 6, invalid_json 2. "
                                "Rerun with --on-error fail to see the first one")
    with pytest.raises(DataError) as share:
        ErrorBudget(0.5).check_segments(segments)
    assert str(share.value) == ("b.jsonl: 6 of 10 rows rejected (60.0%), over --max-errors 0.5; "
                                "most common: undecodable 6")


def test_auto_encoding_of_a_large_file_samples_windows_spread_over_it(tmp_path, monkeypatch):
    """Past its head and 24 windows a file is checked in windows, not whole (1 KB windows
    and an 8 KB head here, as if 256 KB and 8 MB): windows starting inside a Hangul
    character still read as UTF-8, a cp949 file is still found, and a cp949 line a window
    meets in a UTF-8 file leaves it UTF-8."""
    from komt_data.sources import base

    monkeypatch.setattr(base, "_WINDOW", 1024)
    monkeypatch.setattr(base, "_HEAD", 8 * 1024)
    rows = "".join(f"{i}\t영화가 정말 재미있었어요 최고의 작품 {i}\t1\n" for i in range(3000))
    assert len(rows.encode()) > 2 * (base._HEAD + base._WINDOWS * base._WINDOW)  # well past head and windows
    path = tmp_path / "large.tsv"
    path.write_bytes(rows.encode())
    assert base._file_size(path) > base._HEAD + base._WINDOWS * base._WINDOW
    assert base.detect_encoding(path) == "utf-8"
    path.write_bytes(rows.encode("cp949"))
    assert base.detect_encoding(path) == "cp949"
    middle = len(rows) // 2
    path.write_bytes(rows[:middle].encode() + "최고의 영화입니다\n".encode("cp949") * 400 + rows[middle:].encode())
    assert base.detect_encoding(path) == "utf-8"


def test_auto_encoding_windows_are_what_decides_a_large_file(tmp_path, monkeypatch):
    # A cp949 byte between the windows goes unseen (its line is rejected as undecodable when
    # read); the same byte inside a window sends the file to weighing. Either way: UTF-8.
    from komt_data.sources import base

    monkeypatch.setattr(base, "_WINDOW", 1024)
    monkeypatch.setattr(base, "_HEAD", 8 * 1024)
    path = tmp_path / "large.jsonl"
    path.write_bytes(b"a" * (100 * 1024))
    seen = []
    monkeypatch.setattr(base, "_weigh_encodings", lambda p: seen.append(p) or "utf-8")
    assert base.detect_encoding(path) == "utf-8" and not seen
    data = bytearray(b"a" * (100 * 1024))
    data[30 * 1024] = 0xB0  # in no window: the head ends at 8 KB, the windows are 1 KB every ~3.8 KB
    path.write_bytes(bytes(data))
    assert not any(s <= 30 * 1024 < s + 1024 for s in
                   (8 * 1024 + k * (100 * 1024 - 9 * 1024) // 24 for k in range(1, 25)))
    assert base.detect_encoding(path) == "utf-8" and not seen
    data[8 * 1024 + (100 * 1024 - 9 * 1024) // 24 + 10] = 0xB0  # inside the first spread window
    path.write_bytes(bytes(data))
    assert base.detect_encoding(path) == "utf-8" and seen == [path]
