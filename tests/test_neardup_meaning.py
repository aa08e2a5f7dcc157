"""Near dedup merges only examples that teach the same thing (issue 13): equal outputs and
every compared field near-identical on its own, never a shared premise or passage."""

from __future__ import annotations

import orjson
import pytest
import yaml

from komt_data import build
from komt_data.text import dedup_form

from .mixing_helpers import assert_accounting, rejected

# A real KorNLI XNLI dev premise (xnli.dev.ko.tsv lines 20-21) and its two hypotheses: the
# long shared premise made the entailment look like a near duplicate of the contradiction.
PREMISE = ("그리고 할머니는 그녀의 언니와 언니의 남편이 어떻게 도시로, 오거스타로 이사를 가기로 결정을 "
           "했는지 그리고 백인이 되기로 했는지에 관해 이야기하곤 했습니다.")
NLI_ROWS = [
    (PREMISE, "할머니의 여동생은 백인이었고 텍사스로 이사했다.", "contradiction"),
    (PREMISE, "할머니의 여동생은 백인이 아니었다.", "entailment"),
    (PREMISE, "할머니의 여동생은 백인이 아니었다", "entailment"),      # line 4: the same, no full stop
    (PREMISE, "할머니의 여동생은 백인이 아니었다", "contradiction"),   # line 5: the same, label differs
]


def _task(tmp_path, name, body):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, **body}, allow_unicode=True), encoding="utf-8")
    return str(path)


def _build(tmp_path, tasks, dedup=None, **kwargs):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"tasks": tasks, "dedup": dedup or {"near": True}}, allow_unicode=True),
                      encoding="utf-8")
    out = tmp_path / "out"
    return build(recipe, out, **kwargs), out


def _nli_task(tmp_path, rows):
    tsv = tmp_path / "nli.tsv"
    tsv.write_text("sentence1\tsentence2\tgold_label\n" + "".join("\t".join(r) + "\n" for r in rows),
                   encoding="utf-8")
    return _task(tmp_path, "nli", {"adapter": "nli", "source": {"files": str(tsv), "format": "tsv"},
                                   "fields": {"premise": "sentence1", "hypothesis": "sentence2",
                                              "label": "gold_label"}})


@pytest.mark.parametrize("workers", [1, 2])
def test_a_shared_premise_does_not_merge_hypotheses_with_different_labels(tmp_path, workers):
    manifest, out = _build(tmp_path, [_nli_task(tmp_path, NLI_ROWS)], workers=workers)
    drops = {e["line"]: e for e in rejected(out)}
    # Only line 4 goes: same premise, same label, hypothesis near-identical on its own.
    assert sorted(drops) == [4]
    assert drops[4]["reason"] == "near_duplicate" and drops[4]["detail"].endswith("nli.tsv:3")
    assert manifest["tasks"]["nli"]["written"] == 3
    assert manifest["near_dedup"]["cluster_sizes"] == {"2": 1}
    assert_accounting(manifest)


def test_comparing_the_premise_alone_still_keeps_different_hypotheses(tmp_path):
    # Even a recipe that compares the premise only: the hypothesis and label it does not
    # compare must then be equal, so no two of these rows merge.
    rows = [NLI_ROWS[0], NLI_ROWS[1]]
    manifest, _ = _build(tmp_path, [_nli_task(tmp_path, rows)], {"near": {"fields": {"nli": ["premise"]}}})
    assert manifest["tasks"]["nli"]["dropped"] == {}


def test_one_question_about_two_different_passages_is_kept(tmp_path):
    # QA compares passage and question (each on its own) and needs the same answer.
    rows = [
        {"context": "서울은 대한민국의 수도이며 한강이 도시를 가로지른다. 인구는 약 940만 명이다.",
         "question": "이 도시를 가로지르는 강은 어디인가?", "answers": {"text": ["한강"], "answer_start": [19]}},
        {"context": "김포는 경기도 서부의 도시로 한강 하구에 닿아 있다. 김포평야가 넓게 펼쳐져 있다.",
         "question": "이 도시를 가로지르는 강은 어디인가?", "answers": {"text": ["한강"], "answer_start": [16]}},
        {"context": "서울은 대한민국의 수도이며 한강이 도시를 가로지른다. 인구는 약 940만 명이다.",
         "question": "이 도시를 가로지르는 강은 어디인가요?", "answers": {"text": ["한강"], "answer_start": [19]}},
    ]
    data = tmp_path / "qa.jsonl"
    data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    task = _task(tmp_path, "qa", {"adapter": "qa", "source": {"files": str(data)}})
    manifest, out = _build(tmp_path, [task], {"near": {"threshold": 0.6}})
    # Line 3 asks line 1's question of line 1's passage, ending in 요: merged. Line 2 asks it
    # of another passage: kept.
    assert {e["line"]: e["reason"] for e in rejected(out)} == {3: "near_duplicate"}
    assert manifest["tasks"]["qa"]["written"] == 2


def test_a_long_shared_passage_does_not_hide_a_near_duplicate_behind_another_question(tmp_path):
    # Three questions with one answer about one long passage: the first is another question,
    # the third repeats the second. Bands over one signature of passage and question together
    # let the passage make all three collide, and each group was verified against its first
    # member only: the second and third were never compared. Bands over every field apart do.
    import numpy as np

    rng = np.random.default_rng(3)
    passage = "".join(rng.choice([chr(c) for c in range(0xAC00, 0xAC00 + 2000)], 3000))
    questions = ["이 글에서 가장 자주 나오는 낱말은 무엇인가?", "이 글의 주인공은 누구인가?",
                 "이 글의 주인공은 누구인가요?"]
    data = tmp_path / "qa.jsonl"
    data.write_bytes(b"".join(orjson.dumps({"context": passage, "question": q, "answer": passage[:3]}) + b"\n"
                              for q in questions))
    task = _task(tmp_path, "qa", {"adapter": "qa", "source": {"files": str(data)}})
    manifest, out = _build(tmp_path, [task], {"near": {"threshold": 0.6}})
    assert {e["line"]: (e["reason"], e["detail"].rsplit(":", 1)[1]) for e in rejected(out)} == \
        {3: ("near_duplicate", "2")}


def _tsv_rows(path):
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        return {n: dict(zip(header, line.rstrip("\n").split("\t"), strict=False)) for n, line in enumerate(f, 2)}


def _pairs(out, rows_of):
    """(dropped row, survivor row) of every near duplicate, from rejected.jsonl and the inputs."""
    pairs = []
    for entry in rejected(out):
        if entry["reason"] == "near_duplicate":
            where, line = entry["detail"].rsplit(" ", 1)[1].rsplit(":", 1)
            pairs.append((rows_of[entry["file"]][entry["line"]], rows_of[where][int(line)]))
    return pairs


def _jaccard(a, b, k=5):
    # Exact, over the shingles themselves (not the MinHash estimate the build used).
    sa, sb = ({dedup_form(t).lower()[i:i + k] for i in range(max(1, len(dedup_form(t)) - k + 1))} for t in (a, b))
    return len(sa & sb) / len(sa | sb)


def test_kornli_xnli_near_dedup_merges_no_two_examples_with_different_labels(tmp_path, corpora):
    files = [corpora / "KorNLUDatasets" / "KorNLI" / f"xnli.{s}.ko.tsv" for s in ("dev", "test")]
    task = _task(tmp_path, "xnli", {"adapter": "nli", "source": {"files": [str(f) for f in files], "format": "tsv"},
                                    "fields": {"premise": "sentence1", "hypothesis": "sentence2",
                                               "label": "gold_label"}})
    manifest, out = _build(tmp_path, [task])
    assert manifest["tasks"]["xnli"]["read"] == 7500
    rows_of = {str(f): _tsv_rows(f) for f in files}
    pairs = _pairs(out, rows_of)
    assert len(pairs) == manifest["tasks"]["xnli"]["dropped"].get("near_duplicate", 0)
    assert [(a["gold_label"], b["gold_label"]) for a, b in pairs if a["gold_label"] != b["gold_label"]] == []
    # Each premise comes with one hypothesis per label: the grandmother's three all stay.
    hypotheses = [r["instruction"] for shard in out.glob("train-*.jsonl")
                  for r in map(orjson.loads, shard.read_bytes().splitlines())]
    assert sum("할머니의 여동생은 백인이 아니었다." in h for h in hypotheses) == 1
    assert sum("할머니의 여동생은 백인이었고 텍사스로 이사했다." in h for h in hypotheses) == 1
    assert_accounting(manifest)


def test_korsts_near_duplicates_have_the_same_score_and_near_identical_sentences(tmp_path, corpora):
    files = [corpora / "KorNLUDatasets" / "KorSTS" / f"sts-{s}.tsv" for s in ("train", "dev", "test")]
    task = _task(tmp_path, "sts", {"adapter": "sts", "source": {"files": [str(f) for f in files], "format": "tsv"}})
    manifest, out = _build(tmp_path, [task])
    pairs = _pairs(out, {str(f): _tsv_rows(f) for f in files})
    assert pairs  # the "한 남자가" / "남자가" re-uses across the STS-B splits
    for dropped, kept in pairs:
        assert f"{float(dropped['score']):.1f}" == f"{float(kept['score']):.1f}"
        for field in ("sentence1", "sentence2"):
            assert _jaccard(dropped[field], kept[field]) >= 0.75, (dropped, kept)
    assert_accounting(manifest)


def _files(out):
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


# Six compared fields at 0.7 need 43 bands where one field needs 32: the recipe's band array
# is as wide as the widest task's, the others' band hashes repeated into it.
SIX_FIELDS = {"threshold": 0.7, "fields": {"nli": ["premise", "hypothesis"] * 3}}


@pytest.mark.parametrize("near", [True, SIX_FIELDS], ids=["default", "bands_of_two_widths"])
def test_recipe_scope_mixes_tasks_of_different_field_counts_alike_in_every_engine(tmp_path, near):
    # Scope recipe puts NLI rows (several compared fields) and reviews (one) in one
    # clustering: rows of different widths, never merged across families, same bytes for
    # 1 and 2 workers and the Ray engine.
    from komt_data.dedup.near import lsh_params_for

    from .mixing_helpers import MIXING

    if near is not True:
        assert lsh_params_for(0.7, 128, 6)[0] > lsh_params_for(0.7, 128, 1)[0]
    tasks = [_nli_task(tmp_path, NLI_ROWS), str(MIXING / "reviews.yaml")]
    dedup = {"exact": {"scope": "recipe"}, "near": near}
    runs = {}
    for workers in (1, 2):
        (tmp_path / str(workers)).mkdir()
        manifest, out = _build(tmp_path / str(workers), tasks, dedup, workers=workers)
        runs[workers] = _files(out)
        assert manifest["tasks"]["nli"]["dropped"] == {"near_duplicate": 1}
        assert manifest["tasks"]["reviews"]["dropped"]["near_duplicate"] >= 1
    assert runs[1] == runs[2]
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    import logging

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    try:
        (tmp_path / "ray").mkdir()
        _, out = _build(tmp_path / "ray", tasks, dedup, engine="ray")
    finally:
        ray.shutdown()
    assert _files(out) == runs[1]
