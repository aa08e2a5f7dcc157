"""The real corpora in ../shared/corpora (skipped when absent): exact row counts, and every corpus
built end to end through its shipped task config with every row accounted for."""

from __future__ import annotations

import gzip

import orjson
import pytest

import komt_data
from komt_data.config import load_task_config
from komt_data.sources import read_unit, resolve_encoding, units_of

from .layouts_helpers import build_shipped, shipped


def _count(name: str, corpora, monkeypatch, file_name: str) -> int:
    monkeypatch.setenv("KOMT_DATA_DIR", str(corpora))
    (unit,) = [u for u in units_of(load_task_config(shipped(name)).source) if u.path.name == file_name]
    rows = list(read_unit(unit, resolve_encoding(unit)))
    assert all(isinstance(row, dict) for _, row in rows)  # no row is unreadable or mis-split
    return len(rows)


def test_kornli_xnli_test_reads_exactly_5010_rows(corpora, monkeypatch):
    assert _count("kornli_files", corpora, monkeypatch, "xnli.test.ko.tsv") == 5010


def test_korsts_train_reads_exactly_5749_rows(corpora, monkeypatch):
    assert _count("korsts_files", corpora, monkeypatch, "sts-train.tsv") == 5749


@pytest.mark.parametrize(("name", "read"), [("kornli_files", 2490 + 5010), ("korsts_files", 5749 + 1500 + 1379)])
def test_kornlu_corpora_build_with_every_row_accounted_for(corpora, monkeypatch, tmp_path, name, read):
    built = build_shipped(name, corpora, tmp_path / "out", monkeypatch)
    task = built["task"]
    assert task["read"] == read
    assert all(source["encoding"] == "utf-8" for source in task["sources"])
    # Nothing is lost to parsing: only duplicates (KorSTS repeats some pairs) may leave.
    assert set(task["dropped"]) <= {"duplicate"}


@pytest.mark.corpus_full
def test_raw_nsmc_builds_all_712404_reviews_with_every_row_accounted_for(corpora, monkeypatch, tmp_path):
    monkeypatch.setenv("KOMT_DATA_DIR", str(corpora))
    out = tmp_path / "out"
    manifest = komt_data.build(shipped("nsmc_raw_files"), out)
    task = manifest["tasks"]["nsmc_raw"]
    assert task["read"] == 712_404
    assert task["read"] + task["expanded"] == task["written"] + sum(task["dropped"].values())
    with open(out / "rejected.jsonl", "rb") as f:
        assert sum(1 for _ in f) == sum(task["dropped"].values())
    # Neutral ratings (5–8), counted here straight from the file, are exactly the unknown_label drops.
    with gzip.open(corpora / "nsmc" / "nsmc_raw_reviews.jsonl.gz", "rb") as f:
        neutral = sum(1 for line in f if orjson.loads(line)["rating"] in ("5", "6", "7", "8"))
    assert task["dropped"]["unknown_label"] == neutral
    assert set(task["dropped"]) <= {"unknown_label", "duplicate", "empty_text"}
