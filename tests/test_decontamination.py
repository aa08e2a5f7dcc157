"""Decontamination: character n-grams that survive particle changes, line files, hub sets, presets."""

from __future__ import annotations

import pytest

from komt_data import build
from komt_data.config import load
from komt_data.config.schema import Decontaminate
from komt_data.dedup.contamination import Decontaminator, EvalItem, ngram_hashes, normalize
from komt_data.dedup.presets import PRESETS
from komt_data.errors import ConfigError

from .mixing_helpers import MIXING, assert_accounting, recipe, rejected

PASSAGE = "주인공이 어린 시절 살던 바닷가 마을로 돌아가 잊고 지냈던 가족의 비밀을 하나씩 알게 되는 이야기"


def _index(*texts: str, **options) -> Decontaminator:
    return Decontaminator(Decontaminate(**options), [EvalItem("eval", f"#{i}", t) for i, t in enumerate(texts)])


def test_a_particle_change_does_not_hide_a_copied_passage():
    index = _index(PASSAGE, "전혀 관계없는 다른 평가 문항의 본문입니다 여기에는 겹치는 내용이 없어요")
    changed = PASSAGE.replace("마을로", "마을에").replace("비밀을", "비밀이")
    item, overlap = index.match([changed])
    assert item == 0 and overlap >= 0.5


def test_word_ngrams_would_miss_what_character_ngrams_catch():
    # The reason for the rule: with two particles changed, few 5-word n-grams survive.
    changed = PASSAGE.replace("마을로", "마을에").replace("비밀을", "비밀이")
    words, copy = PASSAGE.split(), changed.split()
    word_grams = {tuple(words[i:i + 5]) for i in range(len(words) - 4)}
    copy_grams = {tuple(copy[i:i + 5]) for i in range(len(copy) - 4)}
    assert len(word_grams & copy_grams) / len(word_grams) < 0.5
    chars = ngram_hashes(normalize(PASSAGE), 7)
    shared = set(chars.tolist()) & set(ngram_hashes(normalize(changed), 7).tolist())
    assert len(shared) / len(chars) >= 0.5


def test_unrelated_text_and_short_items_do_not_match():
    index = _index(PASSAGE, "예")
    assert index.match(["오늘 본 영화는 배우들의 연기가 좋았고 음악도 훌륭했다"]) == (-1, 0.0)


def test_a_question_lifted_from_a_longer_item_matches():
    item = ("경복궁은 1395년에 창건된 조선 왕조의 법궁으로, 임진왜란 때 불에 탔다. "
            "이후 고종 때 흥선대원군이 다시 지었다.")
    index = _index(item)
    found, overlap = index.match(["경복궁은 1395년에 창건된 조선 왕조의 법궁으로 임진왜란 때 불에 탔다"])
    assert found == 0 and overlap >= 0.5


def test_line_file_drops_go_to_rejected_with_the_evaluation_item(tmp_path):
    body = {"tasks": ["reviews.yaml"], "decontaminate": [{"files": str(MIXING / "testset.txt")}]}
    out = tmp_path / "out"
    manifest = build(recipe(tmp_path, body), out)
    drops = [e for e in rejected(out) if e["reason"] == "contaminated"]
    assert [d["line"] for d in drops] == [11]
    assert drops[0]["eval_item"] == {"set": "testset", "where": "testset.txt:2", "text": PASSAGE}
    assert manifest["decontamination"]["sets"] == {"testset": 3}
    assert manifest["tasks"]["reviews"]["dropped"]["contaminated"] == 1
    assert_accounting(manifest)


def test_hub_style_set_through_datasets_with_fields(tmp_path):
    # A local dataset folder goes through the same datasets.load_dataset call as a hub id.
    body = {"tasks": ["reviews.yaml", "passages.yaml"],
            "decontaminate": {"sets": [{"hub": str(MIXING / "eval_hub"), "split": "test",
                                        "fields": ["paragraph", "question"], "name": "kobest_like"}]}}
    out = tmp_path / "out"
    manifest = build(recipe(tmp_path, body), out)
    drops = {(d["task"], d["line"]): d for d in rejected(out) if d["reason"] == "contaminated"}
    # The review of line 13 is copied in the first item's paragraph; the passage of lines 6
    # and 7 (two questions) is, with a changed ending, the second item's paragraph.
    assert {line for task, line in drops if task == "reviews"} == {13}
    assert drops[("reviews", 13)]["eval_item"]["where"] == "eval_hub:test#0"
    assert {line for task, line in drops if task == "passages"} == {6, 7}
    assert_accounting(manifest)


def test_presets_name_the_korean_benchmarks():
    assert {"kobest_boolq", "kobest_copa", "kobest_wic", "kobest_hellaswag", "kobest_sentineg", "haerae_bench",
            "kmmlu", "ko_arc", "ko_hellaswag", "ko_truthful_qa", "ko_common_gen"} <= set(PRESETS)
    assert PRESETS["kobest_copa"].hub == "skt/kobest_v1" and PRESETS["kobest_copa"].configs == ("copa",)
    assert len(PRESETS["kmmlu"].configs) == 45


def test_preset_in_a_recipe_and_unknown_preset(tmp_path):
    path = recipe(tmp_path, {"tasks": ["reviews.yaml"], "decontaminate": ["kobest_boolq", "kmmlu"]})
    loaded = load(path)
    assert [s.name for s in loaded.decontaminate.sets] == ["kobest_boolq", "kmmlu"]
    bad = recipe(tmp_path, {"tasks": ["reviews.yaml"], "decontaminate": ["kobest_bool"]}, "bad.yaml")
    with pytest.raises(ConfigError, match=r"decontaminate.sets\[0\].preset.*no decontamination preset 'kobest_bool'"):
        load(bad)


def test_many_examples_at_once_match_as_one_at_a_time():
    # The build looks examples up in batches: each result must be what match() finds alone.
    index = _index(PASSAGE, "예", "경복궁은 1395년에 창건된 조선 왕조의 법궁이다", "아니오")
    examples = [[PASSAGE.replace("마을로", "마을에")], ["예"],
                ["오늘 본 영화는 배우들의 연기가 좋았고 음악도 훌륭했다"], ["아니오", "예"],
                ["질문: 경복궁은 1395년에 창건된 조선 왕조의 법궁이다", "예"], [], [""],
                ["짧다"], ["오늘 본 영화", PASSAGE[:40]]]
    for cleaned in (False, True):
        results = index.match_many(examples, cleaned=cleaned)
        assert results == [index.match(texts, cleaned=cleaned) for texts in examples]
    assert results[0][0] == 0 and results[1] == (1, 1.0) and results[2] == (-1, 0.0) and results[3] == (1, 1.0)
    assert results[4][0] in (1, 2) and results[8][0] == 0


SHA = "0123456789abcdef0123456789abcdef01234567"


def test_a_hub_set_pinned_to_a_commit_is_read_at_it_and_recorded(tmp_path, monkeypatch):
    # Offline: a local dataset folder goes through load_dataset with the revision, and a
    # full commit hash is lineage without asking the hub (as for a task's hub source).
    from komt_data.sources import hub

    asked = []
    real = hub.load_hub
    monkeypatch.setattr(hub, "load_hub", lambda *a, **k: asked.append(k["revision"]) or real(*a, **k))
    body = {"tasks": ["reviews.yaml"],
            "decontaminate": {"sets": [{"hub": str(MIXING / "eval_hub"), "split": "test", "revision": SHA,
                                        "fields": ["paragraph", "question"], "name": "kobest_like"}]}}
    manifest = build(recipe(tmp_path, body), tmp_path / "out")
    assert asked == [SHA]
    assert manifest["decontamination"]["revisions"] == {"kobest_like": SHA}
    drops = [d for d in rejected(tmp_path / "out") if d["reason"] == "contaminated"]
    assert [(d["line"], d["eval_item"]["where"]) for d in drops] == [(13, "eval_hub:test#0")]


def test_a_file_set_has_no_revisions_entry(tmp_path):
    body = {"tasks": ["reviews.yaml"], "decontaminate": {"sets": [{"files": str(MIXING / "testset.txt")}]}}
    manifest = build(recipe(tmp_path, body), tmp_path / "out")
    assert "revisions" not in manifest["decontamination"]


def test_a_preset_takes_a_revision_for_its_hub_copy(tmp_path, monkeypatch):
    monkeypatch.delenv("KOMT_DATA_DIR", raising=False)  # the preset then reads its hub copy
    body = {"tasks": ["reviews.yaml"], "decontaminate": {"sets": [
        {"preset": "kobest_copa_test", "revision": SHA}, "kobest_boolq"]}}
    sets = load(recipe(tmp_path, body)).decontaminate.sets
    assert [(s.hub, s.configs, s.revision) for s in sets] == [("skt/kobest_v1", ("copa",), SHA),
                                                               ("skt/kobest_v1", ("boolq",), None)]


@pytest.mark.parametrize(("entry", "problem"), [
    ({"files": "testset.txt", "revision": SHA}, "is for hub sets and presets"),
    ({"hub": "skt/kobest_v1", "revision": 3}, "must be a commit, branch or tag, got 3"),
])
def test_a_revision_that_cannot_apply_is_one_line(tmp_path, entry, problem):
    if "files" in entry:
        entry = {**entry, "files": str(MIXING / entry["files"])}
    body = {"tasks": ["reviews.yaml"], "decontaminate": {"sets": [entry]}}
    with pytest.raises(ConfigError, match=r"decontaminate\.sets\[0\]\.revision.*" + problem):
        load(recipe(tmp_path, body))
