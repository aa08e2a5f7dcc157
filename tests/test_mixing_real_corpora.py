"""The mixer on the real corpora in ../shared/corpora (skipped in a fresh clone)."""

from __future__ import annotations

import gzip
import itertools
import unicodedata

import orjson
import pytest
import yaml

from komt_data import build

from .mixing_helpers import assert_accounting, rejected


def _task(tmp_path, name, body):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, **body}, allow_unicode=True), encoding="utf-8")
    return str(path)


@pytest.fixture
def nli_and_sts(tmp_path, corpora):
    nlu = corpora / "KorNLUDatasets"
    nli = _task(tmp_path, "kornli_xnli_test", {
        "adapter": "nli", "source": {"files": str(nlu / "KorNLI" / "xnli.test.ko.tsv")},
        "fields": {"premise": "sentence1", "hypothesis": "sentence2", "label": "gold_label"}})
    sts = _task(tmp_path, "korsts_train",
                {"adapter": "sts", "source": {"files": str(nlu / "KorSTS" / "sts-train.tsv")}})
    return nli, sts


def _recipe(tmp_path, body):
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return path


def test_two_to_one_mix_with_a_total(tmp_path, nli_and_sts):
    nli, sts = nli_and_sts
    body = {"tasks": [{"config": nli, "weight": 2}, {"config": sts, "weight": 1}],
            "mixing": {"total": 3000, "temperature": 1e9}}  # an infinite temperature: weights alone decide
    out = tmp_path / "out"
    manifest = build(_recipe(tmp_path, body), out)
    tasks = manifest["tasks"]
    assert sum(t["written"] for t in tasks.values()) == 3000
    assert tasks["kornli_xnli_test"]["written"] == tasks["kornli_xnli_test"]["planned"] == 2000
    assert tasks["korsts_train"]["written"] == tasks["korsts_train"]["planned"] == 1000
    lines = sum(1 for shard in out.glob("train-*.jsonl") for _ in shard.open(encoding="utf-8"))
    assert lines == 3000
    assert_accounting(manifest)


def test_examples_proportional_weights_with_a_total(tmp_path, nli_and_sts):
    nli, sts = nli_and_sts
    body = {"tasks": [{"config": nli, "weight": 2}, {"config": sts, "weight": 1}], "mixing": {"total": 3000}}
    manifest = build(_recipe(tmp_path, body), tmp_path / "out")
    tasks = manifest["tasks"]
    a, b = tasks["kornli_xnli_test"], tasks["korsts_train"]
    rate_a, rate_b = 2 * a["available"], b["available"]
    assert a["written"] + b["written"] == 3000
    assert abs(a["written"] - 3000 * rate_a / (rate_a + rate_b)) < 1


def test_cap_caps_both(tmp_path, nli_and_sts):
    nli, sts = nli_and_sts
    body = {"tasks": [{"config": nli, "weight": 2}, {"config": sts, "weight": 1}], "mixing": {"cap": 1000}}
    manifest = build(_recipe(tmp_path, body), tmp_path / "out")
    assert [t["written"] for t in manifest["tasks"].values()] == [1000, 1000]
    assert_accounting(manifest)


def test_planted_duplicates_and_evaluation_items_among_real_reviews(tmp_path, corpora):
    with gzip.open(corpora / "nsmc" / "nsmc_raw_reviews.jsonl.gz") as f:
        rows = [orjson.loads(line) for line in itertools.islice(f, 3000)]
    rows = [r for r in rows if r["review"].strip()]
    seen: set[str] = set()
    rows = [r for r in rows if not (r["review"] in seen or seen.add(r["review"]))][:2000]
    long = next(r for r in rows if len(r["review"]) >= 100)
    evaluation = next(r for r in rows if 40 <= len(r["review"]) < 100 and r is not long)
    short = next(r for r in rows if 10 <= len(r["review"]) < 40)
    text = long["review"]
    edited = dict(long, review=text[:50] + ("가" if text[50] != "가" else "나") + text[51:])
    planted = [
        dict(short),                                                              # exact duplicate
        dict(short, review=unicodedata.normalize("NFD", short["review"])),        # NFD variant
        dict(short, review=short["review"].replace(" ", " \u200b", 1) + "  "),    # zero-width and spaces
        edited,                                                                   # one-character edit
    ]
    data = tmp_path / "nsmc.jsonl"
    data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows + planted))
    testset = tmp_path / "testset.txt"
    testset.write_text(evaluation["review"] + "\n", encoding="utf-8")
    labels = {str(i): ("부정" if i <= 4 else "중립" if i <= 6 else "긍정") for i in range(1, 11)}
    task = _task(tmp_path, "nsmc", {"adapter": "classification", "source": {"files": str(data)},
                                    "fields": {"text": "review", "label": "rating"}, "labels": labels})
    body = {"tasks": [task], "dedup": {"near": True}, "decontaminate": [str(testset)]}
    out = tmp_path / "out"
    manifest = build(_recipe(tmp_path, body), out)
    by_line = {e["line"]: e["reason"] for e in rejected(out)}
    n = len(rows)
    assert [by_line.get(n + i) for i in range(1, 5)] == ["duplicate", "duplicate", "duplicate", "near_duplicate"]
    assert by_line[rows.index(evaluation) + 1] == "contaminated"
    dropped = manifest["tasks"]["nsmc"]["dropped"]
    assert dropped["duplicate"] == 3 and dropped["contaminated"] == 1
    # Real reviews hold some near duplicates of their own; the planted one is among them.
    assert dropped["near_duplicate"] >= 1
    assert_accounting(manifest)
