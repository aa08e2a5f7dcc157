"""Few-shot records (FLAN v2): exemplars of the same task and template, from train only.

The recipe is the engine-comparison fixture (duplicates across files and tasks, bad rows,
caps, a validation split, several shards): every way a record can leave the train split is
there, so an exemplar taken from the wrong place shows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

import komt_data
from komt_data import builder
from komt_data.config import load
from komt_data.errors import ConfigError
from komt_data.exports import get_prompt
from komt_data.write import fewshot, shards

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ray"

PROMPTING = """
prompting:
  fewshot:
    share: {share}
    shots: [1, 5]
    max_chars: {max_chars}
"""


def _recipe(tmp_path: Path, share: float = 0.5, max_chars: int = 4000, extra: str = "") -> Path:
    data = tmp_path / "data"
    if not data.exists():
        shutil.copytree(FIXTURES, data)
    recipe = data / f"recipe-{share}-{max_chars}.yaml"
    text = (FIXTURES / "recipe.yaml").read_text(encoding="utf-8")
    if share:
        text += PROMPTING.format(share=share, max_chars=max_chars)
    recipe.write_text(text + extra, encoding="utf-8")
    return recipe


def _records(out: Path) -> list[dict]:
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    records = []
    for shard in manifest["shards"]:
        for line in (out / shard["path"]).read_bytes().splitlines():
            record = orjson.loads(line)
            record["_split"] = shard["split"]
            records.append(record)
    return records


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def _exemplars(record: dict, own: str, candidates: list[tuple[str, str, str]]) -> list[str]:
    """The ids of the exemplars in a few-shot record's instruction, matched against
    ``candidates`` (id, instruction, output); fails when a block matches none of them."""
    instruction = record["instruction"]
    assert instruction.endswith(fewshot.QUESTION + own), "the record's own input must come last"
    rest = instruction[: -len(fewshot.QUESTION + own)]
    found: list[str] = []
    while rest:
        header = fewshot.exemplar_header(len(found) + 1)
        match = [cid for cid, inst, out in candidates
                 if rest.startswith(f"{header}{inst}{fewshot.ANSWER}{out}{fewshot.SEPARATOR}")]
        assert match, f"exemplar {len(found) + 1} of {record['id']} is not a train record of its task and template"
        cid = match[0]
        inst, out = next((i, o) for c, i, o in candidates if c == cid)
        rest = rest[len(f"{header}{inst}{fewshot.ANSWER}{out}{fewshot.SEPARATOR}"):]
        found.append(cid)
    return found


def test_exemplars_come_only_from_train_records_of_the_same_task_and_template(tmp_path: Path) -> None:
    zero = komt_data.build(_recipe(tmp_path, share=0), tmp_path / "zero")
    few = komt_data.build(_recipe(tmp_path, share=0.5), tmp_path / "few")
    plain = {r["id"]: r for r in _records(tmp_path / "zero")}
    records = _records(tmp_path / "few")

    # The same records in the same splits: exemplars change instructions, never decisions.
    assert {r["id"]: r["_split"] for r in records} == {i: r["_split"] for i, r in plain.items()}
    assert zero["splits"] == few["splits"] and zero["splits"]["validation"] > 0
    dropped = {reason for task in few["tasks"].values() for reason in task["dropped"]}
    assert {"duplicate", "over_cap"} <= dropped  # there were records an exemplar must not come from

    train = [(i, r["instruction"], r["output"], r["task"], r["template"]) for i, r in plain.items()
             if r["_split"] == "train"]
    shots_seen = set()
    for record in records:
        assert "shots" in record  # every record has the field when few-shot is on
        original = plain[record["id"]]
        assert record["output"] == original["output"] and record["template"] == original["template"]
        if record["shots"] == 0:
            assert record["instruction"] == original["instruction"]
            continue
        candidates = [(i, inst, out) for i, inst, out, task, template in train
                      if task == record["task"] and template == record["template"] and i != record["id"]]
        used = _exemplars(record, original["instruction"], candidates)
        assert len(used) == record["shots"] and len(set(used)) == len(used)
        assert 1 <= record["shots"] <= 5
        assert len(record["instruction"]) <= 4000
        assert record["text"] == get_prompt("alpaca")(record["instruction"], record["output"])
        shots_seen.add(record["shots"])
    assert len(shots_seen) >= 3  # shots are drawn per record

    for name, task in few["tasks"].items():
        mine = [r for r in records if r["task"] == name]
        with_shots = [r for r in mine if r["shots"]]
        counts = task["fewshot"]
        assert counts["records"] == len(with_shots)
        assert counts["exemplars"] == sum(r["shots"] for r in with_shots)
    # About half of the records are chosen (a seeded draw per record, not an exact count).
    chosen = sum(t["fewshot"]["records"] for t in few["tasks"].values())
    assert 0.3 * len(records) <= chosen <= 0.6 * len(records)


def test_zero_shot_builds_are_unchanged_and_share_zero_is_off(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, share=0)
    komt_data.build(recipe, tmp_path / "a")
    assert all("shots" not in r for r in _records(tmp_path / "a"))
    off = _recipe(tmp_path, share=0.0, extra=PROMPTING.format(share=0, max_chars=100))
    komt_data.build(off, tmp_path / "b")
    assert [r["instruction"] for r in _records(tmp_path / "b")] == [r["instruction"] for r in _records(tmp_path / "a")]
    assert "fewshot" not in orjson.loads((tmp_path / "b" / "manifest.json").read_bytes())["tasks"]["nsmc"]


def test_same_bytes_for_any_number_of_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shards, "_PIECE_RECORDS", 1)  # stage 3 on several processes, even this small
    monkeypatch.setattr(fewshot, "_PER_FILE", 3)  # and the few-shot records in many files, on several too
    recipe = _recipe(tmp_path)
    outputs = []
    for workers in (1, 2, 3):
        komt_data.build(recipe, tmp_path / f"w{workers}", workers=workers)
        outputs.append(_files(tmp_path / f"w{workers}"))
    assert outputs[0] == outputs[1] == outputs[2]
    assert any(r["shots"] for r in _records(tmp_path / "w1"))
    monkeypatch.undo()
    komt_data.build(recipe, tmp_path / "one-file")  # the files' size does not show either
    assert _files(tmp_path / "one-file") == outputs[0]


def test_a_prompt_format_without_literal_parts_gets_its_text_from_the_function(tmp_path: Path) -> None:
    from komt_data.exports import prompts

    def shouting(instruction: str, output: str) -> str:
        return f"Q>> {instruction.upper()}\n<<A {output}"

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setitem(prompts._PROMPTS, "shouting", shouting)
    try:
        recipe = _recipe(tmp_path)
        recipe.write_text(recipe.read_text(encoding="utf-8").replace("prompt: alpaca", "prompt: shouting"),
                          encoding="utf-8")
        komt_data.build(recipe, tmp_path / "out")
    finally:
        monkeypatch.undo()
    records = _records(tmp_path / "out")
    assert any(r["shots"] for r in records)
    assert all(r["text"] == shouting(r["instruction"], r["output"]) for r in records)


def test_exemplars_are_dropped_from_the_end_until_the_instruction_fits(tmp_path: Path) -> None:
    roomy = komt_data.build(_recipe(tmp_path, share=1.0, max_chars=100_000), tmp_path / "roomy")
    tight = komt_data.build(_recipe(tmp_path, share=1.0, max_chars=700), tmp_path / "tight")
    by_id = {r["id"]: r for r in _records(tmp_path / "roomy")}
    fewer = 0
    for record in _records(tmp_path / "tight"):
        roomy_record = by_id[record["id"]]
        if record["shots"]:
            assert len(record["instruction"]) <= 700
            # The same exemplars, in the same order, cut at the end.
            cut = roomy_record["instruction"].split(fewshot.exemplar_header(record["shots"] + 1))[0]
            assert record["instruction"].startswith(cut.rsplit(fewshot.SEPARATOR + fewshot.QUESTION, 1)[0])
        fewer += record["shots"] < roomy_record["shots"]
    assert fewer > 0
    assert sum(t["fewshot"]["fewer"] for t in tight["tasks"].values()) > \
        sum(t["fewshot"]["fewer"] for t in roomy["tasks"].values())


def test_dry_run_plan_counts_the_few_shot_records_a_build_writes(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path)
    plan = builder.plan(recipe)
    manifest = komt_data.build(recipe, tmp_path / "out")
    assert plan.fewshot == {name: task["fewshot"] for name, task in manifest["tasks"].items()}
    assert sum(c["records"] for c in plan.fewshot.values()) > 0


def test_a_task_entry_overrides_the_recipe_settings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data)
    recipe = data / "r.yaml"
    recipe.write_text("""
prompting:
  fewshot: {share: 0.3, shots: 2}
tasks:
  - config: kornli.yaml
    prompting: {fewshot: {share: 0.0}}
  - config: nsmc.yaml
    prompting: {fewshot: {shots: [3, 4], max_chars: 900}}
  - sample/klue_nli
""", encoding="utf-8")
    refs = {ref.config.name: ref.fewshot for ref in load(recipe).tasks}
    assert refs["kornli"] is None
    assert refs["nsmc"].share == 0.3 and refs["nsmc"].shots == (3, 4) and refs["nsmc"].max_chars == 900
    assert refs["sample_klue_nli"].shots == (2, 2) and refs["sample_klue_nli"].max_chars == 4000


@pytest.mark.parametrize(("fewshot_yaml", "key", "problem"), [
    ("{share: 1.5}", "prompting.fewshot.share", "must be a fraction from 0 to 1, got 1.5"),
    ("{shots: [5, 1]}", "prompting.fewshot.shots", "the fewest (5) must not exceed the most (1)"),
    ("{shots: 0}", "prompting.fewshot.shots", "must be at least 1"),
    ("{shots: 1000}", "prompting.fewshot.shots", "at most 32 exemplars a record, got 1000"),
    ("{shots: [1, 2, 3]}", "prompting.fewshot.shots", "must be a number of exemplars or a range"),
    ("{max_chars: 0}", "prompting.fewshot.max_chars", "must be at least 1"),
    ("{shares: 0.5}", "prompting.fewshot.shares", "unknown key"),
])
def test_bad_fewshot_settings_name_the_key(tmp_path: Path, fewshot_yaml: str, key: str, problem: str) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"prompting:\n  fewshot: {fewshot_yaml}\ntasks: [sample/klue_nli]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(recipe)
    assert caught.value.key == key and problem in str(caught.value)


def test_the_report_shows_the_zero_and_few_shot_split(tmp_path: Path) -> None:
    manifest = komt_data.build(_recipe(tmp_path), tmp_path / "out")
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<th>zero-shot</th><th>few-shot (exemplars)</th>" in html.replace("\n", "")
    nsmc = manifest["tasks"]["nsmc"]
    few = nsmc["fewshot"]
    assert f"<td>{nsmc['written'] - few['records']}</td><td>{few['records']} ({few['exemplars']})</td>" in html
