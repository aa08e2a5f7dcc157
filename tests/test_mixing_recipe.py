"""The `mixing:` recipe section end to end: totals, weights, caps, repeat, submixtures, dry run."""

from __future__ import annotations

import hashlib

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from komt_data import build
from komt_data.builder import plan
from komt_data.config import load
from komt_data.errors import ConfigError

from .mixing_helpers import MIXING, assert_accounting, recipe, records


def test_total_and_weights_are_met_exactly(tmp_path):
    body = {"tasks": [{"config": "reviews.yaml", "weight": 1}, {"config": "passages.yaml", "weight": 1}],
            "mixing": {"total": 12}}
    manifest = build(recipe(tmp_path, body), tmp_path / "out")
    # 10 reviews and 7 QA records survive dedup; rates 10 and 7 → 7.06 and 4.94 of 12.
    assert {n: t["planned"] for n, t in manifest["tasks"].items()} == {"reviews": 7, "passages": 5}
    assert {n: t["written"] for n, t in manifest["tasks"].items()} == {"reviews": 7, "passages": 5}
    assert len(records(tmp_path / "out")) == 12
    assert manifest["tasks"]["reviews"]["dropped"]["over_cap"] == 3
    assert_accounting(manifest)


def test_recipe_wide_and_task_caps(tmp_path):
    body = {"tasks": [{"config": "reviews.yaml", "cap": 4}, "passages.yaml"], "mixing": {"cap": 6}}
    manifest = build(recipe(tmp_path, body), tmp_path / "out")
    assert manifest["tasks"]["reviews"]["written"] == 4
    assert manifest["tasks"]["passages"]["written"] == 6
    assert_accounting(manifest)


def test_total_beyond_what_tasks_have_stops_at_their_size_without_repeat(tmp_path):
    body = {"tasks": ["reviews.yaml", "passages.yaml"], "mixing": {"total": 40}}
    result = plan(recipe(tmp_path, body))
    assert [(t.name, t.available, t.planned) for t in result.tasks] == [("reviews", 10, 10), ("passages", 7, 7)]


def test_repeat_fills_the_total_with_other_templates(tmp_path):
    body = {"tasks": [{"config": "passages.yaml", "repeat": True}], "mixing": {"total": 20}}
    out = tmp_path / "out"
    manifest = build(recipe(tmp_path, body), out)
    task = manifest["tasks"]["passages"]
    assert task["written"] == 20 and task["repeated"] == 13
    written = records(out)
    pairs = [(r["id"], r["template"]) for r in written]
    assert len(set(pairs)) == 20  # never the same record twice
    assert len({r["template"] for r in written}) > 3
    assert_accounting(manifest)


def test_submixture_takes_its_weighted_share(tmp_path):
    sub = recipe(tmp_path, {"name": "sub", "tasks": ["passages.yaml"]}, "sub.yaml")
    body = {"tasks": [{"config": "reviews.yaml"}, {"recipe": str(sub), "weight": 2}], "mixing": {"total": 9}}
    path = recipe(tmp_path, body)
    loaded = load(path)
    assert [p.name for p in loaded.parts] == ["reviews", "sub"] and loaded.parts[1].parts[0].name == "passages"
    manifest = build(path, tmp_path / "out")
    # rates: reviews 10, sub 2 × 7 = 14 → 3.75 and 5.25 of 9.
    assert manifest["tasks"]["reviews"]["planned"] == 4
    assert manifest["tasks"]["passages"]["planned"] == 5


def test_a_recipe_including_itself_is_an_error(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text(yaml.safe_dump({"tasks": [{"recipe": "loop.yaml"}]}), encoding="utf-8")
    with pytest.raises(ConfigError, match="key 'tasks\\[0\\].recipe': recipe loop.yaml includes itself"):
        load(path)


@pytest.mark.parametrize(("body", "message"), [
    ({"mixing": {"totl": 5}}, "key 'mixing.totl': unknown key (did you mean 'mixing.total'?)"),
    ({"mixing": {"temperature": 0}}, "key 'mixing.temperature': must be at least 0.05"),
    ({"dedup": {"near": {"treshold": 0.8}}}, "key 'dedup.near.treshold': unknown key (did you mean "
                                             "'dedup.near.threshold'?)"),
    ({"dedup": {"exact": {"scope": "global"}}}, "key 'dedup.exact.scope': must be one of family, task, recipe, none"),
    ({"split": {"validation": 1.5}}, "key 'split.validation': a fraction must be at least 0 and below 1"),
    ({"split": {"grup_by": "context"}}, "key 'split.grup_by': unknown key (did you mean 'split.group_by'?)"),
    ({"decontaminate": {"sets": [{"files": "nope.txt"}]}}, "key 'decontaminate.sets[0].files': file not found"),
])
def test_new_keys_are_checked(tmp_path, body, message):
    path = recipe(tmp_path, {"tasks": ["reviews.yaml"], **body})
    with pytest.raises(ConfigError) as info:
        load(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_group_by_must_name_an_example_field(tmp_path):
    path = recipe(tmp_path, {"tasks": ["reviews.yaml"], "split": {"validation": 0.2, "group_by": "context"}})
    with pytest.raises(ConfigError, match="has no example field 'context'"):
        build(path, tmp_path / "out")


def _digest(out):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}


def test_same_recipe_same_bytes_with_every_stage_on(tmp_path):
    body = {"tasks": ["reviews.yaml", {"config": "passages.yaml", "repeat": True}],
            "mixing": {"total": 15, "temperature": 2.0}, "dedup": {"near": True},
            "decontaminate": [str(MIXING / "testset.txt")],
            "split": {"validation": 0.2, "test": 2}}
    path = recipe(tmp_path, body)
    build(path, tmp_path / "a")
    build(path, tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    build(path, tmp_path / "c", seed=7)
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, cli):
    body = {"tasks": [{"config": "reviews.yaml", "weight": 2}, "passages.yaml"], "mixing": {"total": 9}}
    path = recipe(tmp_path, body)
    out = tmp_path / "out"
    result = cli("build", str(path), "-o", str(out), "--dry-run", "-q")
    assert result.exit_code == 0, result.output
    assert not out.exists()
    lines = result.output.splitlines()
    assert lines[0].split() == ["task", "available", "planned", "share", "repeat"]
    # rates: reviews 2 × 10 = 20, passages 7 → 6.67 and 2.33 of 9.
    assert lines[2].split() == ["reviews", "10", "7", "77.8%", "-"]
    assert lines[3].split() == ["passages", "7", "2", "22.2%", "-"]
    assert "dry run: nothing written" in lines[-1]


def test_build_summary_shows_planned_against_written(tmp_path, cli):
    path = recipe(tmp_path, {"tasks": ["reviews.yaml"], "mixing": {"total": 6}})
    result = cli("build", str(path), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    # The runner mixes progress bars and warnings (stderr) into the output: find the table.
    lines = [line.split("\r")[-1] for line in result.output.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["task", "read"])
    header, _, row = lines[start:start + 3]
    assert header.split()[:4] == ["task", "read", "planned", "written"]
    assert row.split()[:4] == ["reviews", "14", "6", "6"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    total=st.one_of(st.none(), st.integers(1, 40)),
    cap=st.one_of(st.none(), st.integers(1, 12)),
    weights=st.tuples(st.floats(0.2, 5), st.floats(0.2, 5)),
    temperature=st.floats(0.5, 4),
    repeat=st.booleans(),
    validation=st.one_of(st.floats(0, 0.5), st.integers(0, 6)),
)
def test_every_mix_accounts_for_every_row_and_respects_the_plan(tmp_path, total, cap, weights, temperature, repeat,
                                                                validation):
    body = {"tasks": [{"config": "reviews.yaml", "weight": weights[0], "repeat": repeat},
                      {"config": "passages.yaml", "weight": weights[1]}],
            "mixing": {"total": total, "temperature": temperature, "cap": cap},
            "split": {"validation": validation}}
    out = tmp_path / f"out-{abs(hash((total, cap, weights, temperature, repeat, validation)))}"
    manifest = build(recipe(tmp_path, body), out, overwrite=True)
    assert_accounting(manifest)
    tasks = manifest["tasks"]
    for name, task in tasks.items():
        assert task["written"] == task["planned"]
        assert cap is None or task["written"] <= cap
        if name == "passages" or not repeat:
            assert task["written"] <= task["available"]
    possible = sum(min(t["available"] * (20 if n == "reviews" and repeat else 1), cap or 10**9)
                   for n, t in tasks.items())
    if total is not None:
        assert sum(t["written"] for t in tasks.values()) == min(total, possible)
    assert len(records(out)) == sum(t["written"] for t in tasks.values())


def test_validate_checks_group_by(tmp_path, cli):
    path = recipe(tmp_path, {"tasks": ["reviews.yaml"], "split": {"validation": 0.2, "group_by": "context"}})
    result = cli("validate", str(path))
    assert result.exit_code == 1
    assert "task 'reviews' (classification) has no example field 'context'" in result.output


def test_shards_do_not_depend_on_how_the_input_is_split_into_units(tmp_path):
    # Stage 1 runs per input unit (one per worker later): the same rows in one file or in
    # three must give the same shards, with every mixer stage on.
    lines = (MIXING / "reviews.jsonl").read_bytes().splitlines(keepends=True)
    parts = tmp_path / "parts"
    parts.mkdir()
    for i, chunk in enumerate((lines[:5], lines[5:9], lines[9:])):
        (parts / f"reviews-{i}.jsonl").write_bytes(b"".join(chunk))
    split_config = tmp_path / "reviews_split.yaml"
    split_config.write_text((MIXING / "reviews.yaml").read_text(encoding="utf-8")
                            .replace("files: reviews.jsonl", f"files: {parts}/reviews-*.jsonl"), encoding="utf-8")
    mix = {"mixing": {"total": 8, "temperature": 2.0}, "dedup": {"near": True},
           "decontaminate": [str(MIXING / "testset.txt")], "split": {"validation": 2, "test": 1}}
    one = build(recipe(tmp_path, {"tasks": ["reviews.yaml"], **mix}, "one.yaml"), tmp_path / "one")
    three = build(recipe(tmp_path, {"tasks": [{"config": str(split_config)}], **mix}, "three.yaml"), tmp_path / "three")
    shards = sorted(p.name for p in (tmp_path / "one").glob("*-*.jsonl"))
    assert shards == sorted(p.name for p in (tmp_path / "three").glob("*-*.jsonl"))
    for name in shards:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "three" / name).read_bytes()
    assert one["tasks"]["reviews"]["dropped"] == three["tasks"]["reviews"]["dropped"]
