"""KoBEST train rows that repeat an evaluation item, measured on the real v1.0 TSVs in
../shared/corpora (skipped when absent), and COPA's exclusion of them by premise.

COPA's train.tsv shares the premise (column `sentence`) of 70 rows with dev.tsv or test.tsv.
Counted against every evaluation row with that premise, the closest match is: the same item
(premise, relation, the same two alternatives) for 2 rows; the same relation and right answer
with another wrong alternative for 2; the same relation with other alternatives for 49; the
other relation (원인 / 결과) for 17. `source.exclude` compares one column, the premise, so the
exclusion drops all 70: a COPA premise is the whole of the evaluation prompt, and 53 of the
70 ask the very relation the evaluation item asks about it.
"""

from __future__ import annotations

import csv
from collections import Counter
from functools import partial

import komt_data

from .conftest import kobest_rows
from .layouts_helpers import build_shipped

# The block kobest_copa_files ships with to keep KoBEST's evaluation premises out of training.
EXCLUDE = {"files": ["${KOMT_DATA_DIR}/KoBEST_datarepo/v1.0/COPA/dev.tsv",
                     "${KOMT_DATA_DIR}/KoBEST_datarepo/v1.0/COPA/test.tsv"],
           "key": "sentence", "column": "sentence"}


_tsv = partial(kobest_rows, strip=True)  # cells stripped: items compared across splits


def _closest(row: dict[str, str], items: list[dict[str, str]]) -> str:
    """How close the nearest evaluation item with ``row``'s premise is to it."""
    def kind(item: dict[str, str]) -> int:
        if item["question"] != row["question"]:
            return 3
        if {item["1"], item["2"]} == {row["1"], row["2"]}:
            return 0
        return 1 if item[item["Answer"]] == row[row["Answer"]] else 2
    return ("same item", "same relation and answer", "same relation", "other relation")[min(map(kind, items))]


def test_copa_train_premises_shared_with_dev_and_test(corpora):
    train = _tsv(corpora, "COPA", "train")
    by_split = {split: _tsv(corpora, "COPA", split) for split in ("dev", "test")}
    counts = {}
    for name, items in (("dev", list(by_split["dev"].values())), ("test", list(by_split["test"].values())),
                        ("dev+test", [r for rows in by_split.values() for r in rows.values()])):
        premises: dict[str, list[dict[str, str]]] = {}
        for item in items:
            premises.setdefault(item["sentence"], []).append(item)
        counts[name] = Counter(_closest(row, premises[row["sentence"]]) for row in train.values()
                               if row["sentence"] in premises)
    assert counts["test"] == {"same item": 2, "same relation and answer": 1, "same relation": 31, "other relation": 16}
    assert counts["dev"] == {"same relation and answer": 1, "same relation": 18, "other relation": 5}
    assert counts["dev+test"] == {"same item": 2, "same relation and answer": 2, "same relation": 49,
                                  "other relation": 17}
    # The two same-item rows: one train item written twice, test's item 564 with its alternatives swapped.
    same = [row for row in train.values() if row["sentence"] == "감을 말렸다."]
    assert [(r["ID"], r["1"], r["2"], r["Answer"]) for r in same] == [
        ("1267", "홍시가 되었다.", "곶감이 되었다.", "2"), ("1802", "홍시가 되었다.", "곶감이 되었다.", "2")]
    (item,) = [r for r in by_split["test"].values() if r["sentence"] == "감을 말렸다."]
    assert (item["ID"], item["1"], item["2"], item["Answer"]) == ("564", "곶감이 되었다.", "홍시가 되었다.", "1")


def test_copa_exclusion_by_premise_drops_exactly_those_rows(corpora, kobest_dir, tmp_path, monkeypatch):
    import yaml

    from .layouts_helpers import shipped

    source = yaml.safe_load(shipped("kobest_copa_files").read_text(encoding="utf-8"))["source"]
    assert source["exclude"] == EXCLUDE  # the shipped config holds them out
    built = build_shipped("kobest_copa_files", kobest_dir, tmp_path / "out", monkeypatch)
    task = built["task"]
    # Read counts stay KoBEST's: every row is read and counted under its reason. The one train
    # row that repeats another (감을 말렸다, lines 1268 and 1803) is itself excluded.
    assert (task["read"], task["written"], task["dropped"]) == (3076, 3006, {"evaluation_split": 70})
    assert task["exclude"]["keys"] == 1487  # distinct premises of dev (500 rows) and test (1000)
    train = _tsv(corpora, "COPA", "train")
    premises = {r["sentence"] for split in ("dev", "test") for r in _tsv(corpora, "COPA", split).values()}
    expected = {line for line, row in train.items() if row["sentence"] in premises}
    assert {r["line"] for r in built["rejected"]} == expected
    assert all(r["reason"] == "evaluation_split" and r["file"].endswith("COPA/train.tsv") for r in built["rejected"])
    assert built["rejected"][0]["detail"] == "sentence 모기향을 피웠다. is in test.tsv"  # not in dev.tsv
    # each held-out row names the evaluation files its premise is in (4 premises are in both)
    by_split = {split: {r["sentence"] for r in _tsv(corpora, "COPA", split).values()} for split in ("dev", "test")}
    named = {r["line"]: r["detail"].rsplit(" is in ", 1)[1] for r in built["rejected"]}
    def files_of(line: int) -> str:
        return ", ".join(f"{split}.tsv" for split in ("dev", "test") if train[line]["sentence"] in by_split[split])

    assert named == {line: files_of(line) for line in expected}
    assert sum(", " in files for files in named.values()) == 4
    text = "\n".join(r["text"] for r in built["records"])
    assert "감을 말렸다." not in text and "곶감이 되었다." not in text
    assert "이퀄라이저로 저음 음역대 소리 크기를 키웠다." in text  # line 2, an unshared premise, kept


def test_hellaswag_exclusion_by_context_drops_exactly_the_dev_items(corpora, kobest_dir, tmp_path, monkeypatch):
    built = build_shipped("kobest_hellaswag_files", kobest_dir, tmp_path / "out", monkeypatch)
    task = built["task"]
    # The 137 train rows that repeat another train row stay duplicates; the 9 dev items go first.
    assert (task["read"], task["written"], task["dropped"]) == (2029, 1883, {"duplicate": 137, "evaluation_split": 9})
    held_out = [r for r in built["rejected"] if r["reason"] == "evaluation_split"]
    assert [r["line"] for r in held_out] == [537, 538, 630, 787, 929, 1161, 1498, 1880, 1949]
    # rejected.jsonl names the evaluation file the context is in, not every file excluded against
    assert all(r["detail"].startswith("context ") and r["detail"].endswith(" is in dev.tsv") for r in held_out)
    dev = {r["context"] for r in _tsv(corpora, "HellaSwag", "dev", csv.QUOTE_MINIMAL).values()}
    train = _tsv(corpora, "HellaSwag", "train", csv.QUOTE_MINIMAL)
    text = "\n".join(r["text"] for r in built["records"])
    assert all(train[r["line"]]["context"] in dev for r in held_out)
    assert not any(train[line]["context"] in text for line in (537, 1949))
    assert train[2]["context"] in text  # line 2, a context of no evaluation item, kept


def test_other_kobest_train_splits_against_dev_and_test(corpora):
    """What the other tasks' train splits share with their evaluation splits (README numbers)."""
    def shared(task, key, quoting=csv.QUOTE_NONE):
        train = _tsv(corpora, task, "train", quoting)
        out = {}
        for split in ("dev", "test"):
            keys = {key(r) for r in _tsv(corpora, task, split, quoting).values()}
            out[split] = sorted(line for line, row in train.items() if key(row) in keys)
        return out

    # HellaSwag: 9 dev items are also train rows, context, all four endings and label alike.
    hella = shared("HellaSwag", lambda r: (r["context"], r["choice1"], r["choice2"], r["choice3"], r["choice4"],
                                           r["label"]), csv.QUOTE_MINIMAL)
    assert hella == {"dev": [537, 538, 630, 787, 929, 1161, 1498, 1880, 1949], "test": []}
    # BoolQ: no passage + question pair repeats; 2 / 4 passages come back with another question.
    assert shared("BoolQ", lambda r: (r["Text"], r["Question"])) == {"dev": [], "test": []}
    assert {k: len(v) for k, v in shared("BoolQ", lambda r: r["Text"]).items()} == {"dev": 2, "test": 4}
    # WiC: no sentence of a train pair is in dev or test.
    assert shared("WiC", lambda r: r["SENTENCE1"]) == {"dev": [], "test": []}
    assert shared("WiC", lambda r: r["SENTENCE2"]) == {"dev": [], "test": []}
    # SentiNeg: no review verbatim; one differs from a test review only by a space (기대 이하네요).
    assert shared("SentiNeg", lambda r: r["Text"]) == {"dev": [], "test": []}
    assert {k: len(v) for k, v in shared("SentiNeg", lambda r: r["Text"].replace(" ", "")).items()} == \
        {"dev": 0, "test": 1}


def test_closed_answers_of_the_benchmark_families_are_labels_not_identical_outputs(kobest_dir, tmp_path, monkeypatch):
    """예 / 아니요, 같은 뜻 / 다른 뜻 and "2번" repeat by design: audit counts them as labels (with
    a distribution, checked for dominance) instead of flagging them as identical_output."""
    from komt_data.write.audit import audit

    from .layouts_helpers import shipped

    monkeypatch.setenv("KOMT_DATA_DIR", str(kobest_dir))
    tasks = "".join(f"  - {shipped(f'kobest_{t}_files')}\n" for t in ("boolq", "copa", "wic", "hellaswag"))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"name: kobest\ntasks:\n{tasks}", encoding="utf-8")
    komt_data.build(recipe, tmp_path / "out")
    result = audit(tmp_path / "out")
    checks = {c["name"]: c for c in result["checks"]}
    assert checks["identical_output"]["count"] == 0, checks["identical_output"]["examples"]
    assert set(result["labels"]["kobest_boolq"]["labels"]) == {"예", "아니요"}
    assert set(result["labels"]["kobest_wic"]["labels"]) == {"예", "아니요", "같은 뜻", "다른 뜻"}
    assert set(result["labels"]["kobest_copa"]["labels"]) == {"1", "2"}
    assert set(result["labels"]["kobest_hellaswag"]["labels"]) == {"1", "2", "3", "4"}
