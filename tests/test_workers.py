"""--workers: the same bytes for any number of processes, and exact lines from chunked files."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

import komt_data
from komt_data.errors import DataError
from komt_data.sources import chunks, units_of
from komt_data.sources.chunks import iter_chunks
from komt_data.write import shards

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "workers"


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """A copy of the fixture, so that file labels in the output do not depend on the cwd."""
    copy = tmp_path / "in"
    shutil.copytree(FIXTURE, copy)
    return copy


def _build(recipe: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *, chunk: int, workers: int) -> dict[str, bytes]:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(shards, "_PIECE_RECORDS", 1)  # the shards of a tiny build on several processes too
    komt_data.build(recipe, out, workers=workers)
    return _files(out)


def test_fixture_files_are_really_split_into_chunks(inputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recipe = komt_data.load(inputs / "recipe.yaml")
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 150)
    pieces = {unit.path.name: len(list(iter_chunks(unit, "utf-8"))) for ref in recipe.tasks
              for unit in units_of(ref.config.source)}
    assert pieces["qa.jsonl"] >= 10
    assert pieces["reviews.tsv"] >= 8
    assert pieces["reviews_crlf.tsv"] == 2


def test_output_is_byte_identical_for_1_2_and_3_workers(inputs: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    recipe = inputs / "recipe.yaml"
    whole = _build(recipe, tmp_path / "whole", monkeypatch, chunk=1 << 30, workers=1)
    runs = {n: _build(recipe, tmp_path / f"w{n}", monkeypatch, chunk=150, workers=n) for n in (1, 2, 3)}
    assert {"manifest.json", "rejected.jsonl"} <= set(whole)
    assert sum(name.startswith("train-") for name in whole) > 2  # several shards, written in parallel
    for n, files in runs.items():
        assert files == whole, f"{n} workers over chunked files differ from one unchunked process"


def test_chunked_files_report_exact_lines_in_rejected(inputs: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _build(inputs / "recipe.yaml", tmp_path / "out", monkeypatch, chunk=150, workers=2)
    rejected = [orjson.loads(line) for line in (tmp_path / "out" / "rejected.jsonl").read_bytes().splitlines()]
    seen = {(Path(r["file"]).name, r["line"], r["reason"]) for r in rejected}
    # The fixture's bad rows, by line: a blank line (6) is skipped but still counted.
    assert {
        ("qa.jsonl", 4, "answer_not_in_context"),
        ("qa.jsonl", 7, "invalid_json"),
        ("qa.jsonl", 10, "empty_text"),
        ("qa.jsonl", 8, "duplicate"),
        ("qa.jsonl", 13, "duplicate"),
        ("qa_more.jsonl", 2, "duplicate"),
        ("reviews.tsv", 20, "duplicate"),
        ("reviews.tsv", 21, "unknown_label"),
        ("reviews.tsv", 23, "duplicate"),
        ("reviews.tsv", 26, "wrong_column_count"),
    } == seen
    details = {(Path(r["file"]).name, r["line"]): r["detail"] for r in rejected if r["reason"] == "duplicate"}
    assert details[("qa_more.jsonl", 2)].endswith("qa.jsonl:9")
    assert details[("reviews.tsv", 23)].endswith("reviews.tsv:10")
    manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    sources = manifest["tasks"]["workers_reviews"]["sources"]
    assert [(Path(s["file"]).name, s["read"]) for s in sources] == [("reviews.tsv", 26), ("reviews_crlf.tsv", 5)]


def test_a_bad_row_in_a_worker_fails_the_build_with_its_file_and_line(inputs: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 150)
    with pytest.raises(DataError, match=r"qa\.jsonl:4: answer_not_in_context"):
        komt_data.build(inputs / "qa.yaml", tmp_path / "out", workers=2, on_error="fail")
    assert not (tmp_path / "out").exists()


def test_cli_build_takes_workers(cli, inputs: Path, tmp_path: Path) -> None:
    result = cli("build", str(inputs / "recipe.yaml"), "-o", str(tmp_path / "out"), "--workers", "2", "-q")
    assert result.exit_code == 0, result.output
    manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    assert manifest["tasks"]["workers_qa"]["written"] == 9


def test_workers_must_be_a_count(tmp_path: Path) -> None:
    with pytest.raises(komt_data.KomtDataError, match="workers must be"):
        komt_data.build(FIXTURE / "qa.yaml", tmp_path / "out", workers=-1)


def test_the_command_uses_every_cpu_by_default_and_writes_the_same_bytes(inputs: Path, tmp_path: Path) -> None:
    """A real ``komt-data build`` without --workers (one process per CPU; conftest pins the
    in-process CLI to one) and with KOMT_DATA_WORKERS=3 writes what one process writes."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "KOMT_DATA_WORKERS"}
    komt_data.build(inputs / "recipe.yaml", tmp_path / "one", workers=1)
    for name, extra in (("default", {}), ("three", {"KOMT_DATA_WORKERS": "3"})):
        done = subprocess.run([sys.executable, "-m", "komt_data", "build", str(inputs / "recipe.yaml"), "-o",
                               str(tmp_path / name), "-q"], env={**env, **extra}, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert _files(tmp_path / name) == _files(tmp_path / "one"), name


@pytest.fixture
def gzipped(inputs: Path) -> Path:
    """The fixture with every data file gzipped (and the configs reading the .gz files)."""
    import gzip

    for path in [*inputs.glob("*.jsonl"), *inputs.glob("*.tsv")]:
        with gzip.open(path.with_name(path.name + ".gz"), "wb") as f:
            f.write(path.read_bytes())
        path.unlink()
    for config, pattern in (("qa.yaml", "qa*.jsonl"), ("reviews.yaml", "reviews*.tsv")):
        text = (inputs / config).read_text(encoding="utf-8")
        (inputs / config).write_text(text.replace(f'"{pattern}"', f'"{pattern}.gz"'), encoding="utf-8")
    return inputs


def test_large_gzipped_files_are_decompressed_split_and_removed(gzipped: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from komt_data.spool import local

    copies: list[Path] = []
    chunk_counts: list[int] = []

    def spy_chunks(*args, **kwargs):
        for unit in decompressed_chunks(*args, **kwargs):
            copies.append(unit.path)
            assert unit.path.exists()  # on disk before a worker gets its chunk
            yield unit

    def spy_run(runners, jobs, *args, **kwargs):
        jobs = list(jobs)
        chunk_counts.append(len(jobs))
        assert all(path.exists() for path in copies)
        return run_jobs(runners, jobs, *args, **kwargs)

    decompressed_chunks, run_jobs = local.decompressed_chunks, local.run_jobs
    monkeypatch.setattr(local, "decompressed_chunks", spy_chunks)
    monkeypatch.setattr(local, "run_jobs", spy_run)
    _build(gzipped / "recipe.yaml", tmp_path / "out", monkeypatch, chunk=150, workers=2)
    copies = list(dict.fromkeys(copies))
    assert sorted(p.name for p in copies) == ["00000.gunzip.qa.jsonl", "00001.gunzip.qa_more.jsonl",
                                              "00002.gunzip.reviews.tsv", "00003.gunzip.reviews_crlf.tsv"]
    assert chunk_counts[0] >= 20  # split like the plain files
    assert not any(path.exists() for path in copies)  # removed once stage 1 is done


def test_gzipped_files_give_the_same_bytes_and_lines_for_any_workers(gzipped: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    recipe = gzipped / "recipe.yaml"
    whole = _build(recipe, tmp_path / "whole", monkeypatch, chunk=1 << 30, workers=1)  # read through gzip
    for n in (1, 2, 3):
        assert _build(recipe, tmp_path / f"w{n}", monkeypatch, chunk=150, workers=n) == whole
    rejected = [orjson.loads(line) for line in whole["rejected.jsonl"].splitlines()]
    seen = {(Path(r["file"]).name, r["line"], r["reason"]) for r in rejected}
    assert {("qa.jsonl.gz", 7, "invalid_json"), ("qa_more.jsonl.gz", 2, "duplicate"),
            ("reviews.tsv.gz", 23, "duplicate"), ("reviews.tsv.gz", 26, "wrong_column_count")} <= seen
    assert all(Path(r["file"]).name.endswith(".gz") for r in rejected)
    details = {(Path(r["file"]).name, r["line"]): r["detail"] for r in rejected if r["reason"] == "duplicate"}
    assert details[("reviews.tsv.gz", 23)].endswith("reviews.tsv.gz:10")
    sources = orjson.loads(whole["manifest.json"])["tasks"]["workers_reviews"]["sources"]
    assert [(Path(s["file"]).name, s["read"]) for s in sources] == [("reviews.tsv.gz", 26), ("reviews_crlf.tsv.gz", 5)]


def test_a_bad_row_in_a_decompressed_copy_names_the_gz_file(gzipped: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 150)
    with pytest.raises(DataError, match=r"qa\.jsonl\.gz:4: answer_not_in_context"):
        komt_data.build(gzipped / "qa.yaml", tmp_path / "out", workers=2, on_error="fail")


@pytest.mark.parametrize("workers", [1, 2])  # read through gzip, or decompressed into chunks
def test_a_truncated_gz_file_is_a_data_error_naming_it(gzipped: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    path = gzipped / "qa.jsonl.gz"
    path.write_bytes(path.read_bytes()[:-30])
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 150)
    with pytest.raises(DataError, match=r"qa\.jsonl\.gz: not a valid gzip file"):
        komt_data.build(gzipped / "qa.yaml", tmp_path / "out", workers=workers)
    assert not (tmp_path / "out").exists()


def test_only_large_gz_files_of_splittable_formats_are_worth_decompressing(tmp_path: Path) -> None:
    import gzip

    from komt_data.config import SourceConfig
    from komt_data.sources import Unit

    data = b'{"a": 1}\n' * 1000
    for name in ("x.jsonl.gz", "x.tsv.gz", "x.csv.gz"):
        with gzip.open(tmp_path / name, "wb") as f:
            f.write(data)
    (tmp_path / "x.jsonl").write_bytes(data)
    source = SourceConfig()
    worth = {name: chunks.worth_decompressing(Unit(source, tmp_path / name), 4096)
             for name in ("x.jsonl.gz", "x.tsv.gz", "x.csv.gz", "x.jsonl")}
    assert worth == {"x.jsonl.gz": True, "x.tsv.gz": True, "x.csv.gz": False, "x.jsonl": False}
    assert not chunks.worth_decompressing(Unit(source, tmp_path / "x.jsonl.gz"), len(data))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp949"])
def test_a_decompressed_copy_keeps_the_files_encoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      encoding: str) -> None:
    # A BOM (only in the first chunk) and a legacy encoding (chunks read in text mode), with an
    # undecodable line near the end: detected alike on the copy, rejected at its line.
    import gzip

    rows = "".join(f"{i}\t영화 리뷰 {i}번 정말 재미있다\t{i % 2}\n" for i in range(300))
    data = ("id\tdocument\tlabel\n" + rows).encode(encoding) + b"7\t\xff\xfe\t1\n"
    with gzip.open(tmp_path / "reviews.tsv.gz", "wb") as f:
        f.write(data)
    config = (FIXTURE / "reviews.yaml").read_text(encoding="utf-8").replace('"reviews*.tsv"', "reviews.tsv.gz")
    (tmp_path / "reviews.yaml").write_text(config, encoding="utf-8")
    whole = _build(tmp_path / "reviews.yaml", tmp_path / "whole", monkeypatch, chunk=1 << 30, workers=1)
    assert _build(tmp_path / "reviews.yaml", tmp_path / "split", monkeypatch, chunk=2000, workers=2) == whole
    task = orjson.loads(whole["manifest.json"])["tasks"]["workers_reviews"]
    assert [(Path(s["file"]).name, s["encoding"], s["read"]) for s in task["sources"]] == \
        [("reviews.tsv.gz", encoding, 301)]
    rejected = [orjson.loads(line) for line in whole["rejected.jsonl"].splitlines()]
    assert [(r["reason"], r["line"]) for r in rejected if r["reason"] == "undecodable"] == [("undecodable", 302)]
