"""Split discipline on hand-written files: a task config trains on its dataset's train split only,
maps dev / test explicitly into the output's validation / test (whole, unsampled, the same on
both stage 2 paths), refuses an evaluation split in training unless told; recursive globs;
quoting per source; a task that writes nothing fails; a task losing most rows warns."""

from __future__ import annotations

import json

import orjson
import pytest
import yaml
from typer.testing import CliRunner

import komt_data
from komt_data.cli import app
from komt_data.config import load_task_config
from komt_data.errors import ConfigError, DataError

from .conftest import write

REVIEWS = {
    "train": [("배우들 연기가 정말 좋았다", "1"), ("시간이 아까운 영화", "0"), ("두 번 봐도 재밌다", "1"),
              ("지루해서 중간에 나왔다", "0")],
    "dev": [("음악이 오래 기억에 남는다", "1"), ("결말이 너무 허무했다", "0")],
    "test": [("연출이 세련됐다", "1")],
}


def _lay_out(root):
    for split, rows in REVIEWS.items():
        write(root / "data" / "nested" / split / f"{split}.tsv",
              "id\tdocument\tlabel\n" + "".join(f"{i}\t{t}\t{label}\n" for i, (t, label) in enumerate(rows)))


def _task(root, **source):
    body = {"name": "reviews", "adapter": "classification", "license": "CC0 1.0",
            "source": {"files": {s: f"data/**/{s}/*.tsv" for s in REVIEWS}, **source},
            "fields": {"text": "document"}, "labels": {0: "부정", 1: "긍정"}}
    path = root / "reviews.yaml"
    path.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return path


def _records(out):
    return {split: [orjson.loads(line) for path in sorted(out.glob(f"{split}-*.jsonl"))
                    for line in path.read_bytes().splitlines()] for split in ("train", "validation", "test")}


def test_only_the_train_split_is_read_by_default(tmp_path):
    _lay_out(tmp_path)
    manifest = komt_data.build(_task(tmp_path), tmp_path / "out")
    task = manifest["tasks"]["reviews"]
    assert task["read"] == len(REVIEWS["train"]) and manifest["splits"] == {"train": 4}
    assert [s["file"].rsplit("/", 1)[-1] for s in task["sources"]] == ["train.tsv"]


@pytest.mark.parametrize("near", [False, True])  # the in-passes and the in-memory stage 2
def test_dev_and_test_go_whole_into_validation_and_test(tmp_path, near):
    _lay_out(tmp_path)
    task = _task(tmp_path, splits={"train": "train", "dev": "validation", "test": "test"})
    recipe = write(tmp_path / "recipe.yaml", yaml.safe_dump({
        "tasks": [{"config": str(task), "cap": 2}],  # the cap samples train only
        "split": {"validation": 0.0}, **({"dedup": {"near": True}} if near else {})}))
    manifest = komt_data.build(recipe, tmp_path / "out")
    records = _records(tmp_path / "out")
    assert manifest["splits"] == {"train": 2, "validation": 2, "test": 1}
    assert manifest["tasks"]["reviews"]["dropped"] == {"over_cap": 2}
    for split, wanted in (("validation", "dev"), ("test", "test")):
        texts = [r["text"] for r in records[split]]  # inverted templates put the review in the output
        assert all(any(t in text for text in texts) for t, _ in REVIEWS[wanted])
    assert not any(t in r["text"] for r in records["train"] for t, _ in REVIEWS["dev"] + REVIEWS["test"])


def test_an_evaluation_split_in_training_needs_the_explicit_key(tmp_path):
    _lay_out(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_task_config(_task(tmp_path, splits={"train": "train", "dev": "train"}))
    assert "key 'source.splits.dev'" in str(caught.value) and "train_on_eval_splits" in str(caught.value)
    task = load_task_config(_task(tmp_path, splits={"train": "train", "dev": "train"}, train_on_eval_splits=True))
    assert sorted(path.parent.name for path in task.source.files) == ["dev", "train"]
    # A hub split that is an evaluation split, too.
    path = write(tmp_path / "hub.yaml", yaml.safe_dump({
        "name": "h", "adapter": "nli", "source": {"hub": "klue/klue", "config": "nli", "split": "validation"}}))
    with pytest.raises(ConfigError, match="'validation' is an evaluation split"):
        load_task_config(path)


def test_files_mapping_without_train_says_how_to_choose(tmp_path):
    _lay_out(tmp_path)
    path = write(tmp_path / "t.yaml", yaml.safe_dump({
        "name": "t", "adapter": "classification", "labels": {0: "부정"},
        "source": {"files": {"dev": "data/**/dev/*.tsv"}}}))
    with pytest.raises(ConfigError, match="has no 'train' entry"):
        load_task_config(path)


def test_wildcards_in_folders_and_any_depth(tmp_path):
    for name in ("TL1/보고서/20per/a.json", "TL1/회의록/40per/b.json", "TL1/c.json", "VL1/보고서/20per/d.json"):
        write(tmp_path / "aihub" / name, "{}")
    body = {"name": "t", "adapter": "summarization", "source": {"files": "aihub/**/TL*/**/*.json"}}
    task = load_task_config(write(tmp_path / "t.yaml", yaml.safe_dump(body)))
    assert [p.name for p in task.source.files] == ["c.json", "a.json", "b.json"]
    body["source"]["files"] = "aihub/TL1/*/20per/*.json"
    task = load_task_config(write(tmp_path / "t.yaml", yaml.safe_dump(body)))
    assert [p.name for p in task.source.files] == ["a.json"]


def test_quoting_csv_reads_pandas_written_rows_and_none_keeps_quotes(tmp_path):
    pd = pytest.importorskip("pandas")
    docs = ['"명량" 최고의 영화', '그냥 "그저 그런" 영화', "따옴표 없는 리뷰"]
    pd.DataFrame({"id": [1, 2, 3], "document": docs, "label": [1, 0, 1]}).to_csv(
        tmp_path / "ratings_train.txt", sep="\t", index=False)
    raw = (tmp_path / "ratings_train.txt").read_text(encoding="utf-8")
    assert '"""명량"" 최고의 영화"' in raw  # pandas doubled the quotes and wrapped the cell
    from komt_data.sources.lines import read_delimited

    as_csv = [row["document"] for _, row in read_delimited(tmp_path / "ratings_train.txt", "utf-8", "\t",
                                                            quoting="csv")]
    assert as_csv == docs
    as_is = [row["document"] for _, row in read_delimited(tmp_path / "ratings_train.txt", "utf-8", "\t")]
    assert as_is[0] == '"""명량"" 최고의 영화"'  # quoting off: the escaping stays in the text
    # A raw ratings.txt row (unbalanced quote) with quoting off is untouched.
    write(tmp_path / "ratings.txt", 'id\tdocument\tlabel\n1\t"명량 최고\t1\n2\t보통\t0\n')
    rows = [row for _, row in read_delimited(tmp_path / "ratings.txt", "utf-8", "\t")]
    assert [r["document"] for r in rows] == ['"명량 최고', "보통"]


def test_quoting_is_checked(tmp_path):
    _lay_out(tmp_path)
    with pytest.raises(ConfigError, match="must be one of none, csv"):
        load_task_config(_task(tmp_path, quoting="pandas"))


def test_a_task_that_writes_nothing_fails_unless_allowed(tmp_path):
    _lay_out(tmp_path)
    task = _task(tmp_path)
    body = yaml.safe_load(task.read_text(encoding="utf-8"))
    body["labels"] = {"negative": "부정", "positive": "긍정"}  # the hub's old names, the files' integers
    task.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        komt_data.build(task, tmp_path / "out")
    message = str(caught.value)
    assert "task reviews wrote 0 records (4 of 4 rows dropped as unknown_label, e.g. label '1'" in message
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(app, ["build", str(task), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    recipe = write(tmp_path / "recipe.yaml", yaml.safe_dump({"tasks": [{"config": str(task), "allow_empty": True},
                                                                       {"config": str(_ok_task(tmp_path))}]}))
    manifest = komt_data.build(recipe, tmp_path / "out")
    assert manifest["tasks"]["reviews"]["written"] == 0


def _ok_task(root):
    path = root / "ok.yaml"
    path.write_text(yaml.safe_dump({"name": "ok", "adapter": "classification", "source": {
        "files": str(root / "data" / "nested" / "train" / "train.tsv")}, "fields": {"text": "document"},
        "labels": {0: "부정", 1: "긍정"}, "license": "CC0 1.0"}, allow_unicode=True), encoding="utf-8")
    return path


def test_a_task_losing_most_rows_to_one_reason_warns_everywhere(tmp_path):
    _lay_out(tmp_path)
    task = _task(tmp_path)
    body = yaml.safe_load(task.read_text(encoding="utf-8"))
    body["labels"] = {1: "긍정"}  # half are 0: not over half. Add a third label-less row below.
    task.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    with open(tmp_path / "data" / "nested" / "train" / "train.tsv", "a", encoding="utf-8") as f:
        f.write("9\t별로였다\t0\n")
    result = CliRunner().invoke(app, ["build", str(task), "-o", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    warning = "task reviews: 3 of its 5 rows (60%) were dropped as unknown_label"
    assert any(w.startswith(warning) for w in summary["warnings"])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert any(w.startswith(warning) for w in manifest["warnings"])
    shown = CliRunner().invoke(app, ["build", str(task), "-o", str(tmp_path / "out2")])
    assert f"komt-data: warning: {warning}" in shown.output


def test_nsmc_hub_is_retired_with_the_files_alternative(tmp_path):
    result = CliRunner().invoke(app, ["build", "nsmc_hub", "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "nsmc_hub is no longer shipped" in result.output and "nsmc_files" in result.output


def test_a_script_only_hub_repository_is_one_line_naming_the_files_config(monkeypatch):
    import datasets

    from komt_data.sources import hub

    def refuse(*args, **kwargs):  # what datasets 4 raises for e9t/nsmc
        raise RuntimeError("Dataset scripts are no longer supported, but found nsmc.py")

    monkeypatch.setattr(hub, "hub_online", lambda: True)
    monkeypatch.setattr(datasets, "load_dataset", refuse)
    with pytest.raises(ConfigError) as caught:
        hub.load_hub("e9t/nsmc", None, "train")
    assert str(caught.value) == ("hub dataset 'e9t/nsmc' holds only a loading script, which datasets 4 and later "
                                 "refuse to run: use the bundled task config nsmc_files on the downloaded files "
                                 "instead")


def test_a_pinned_commit_is_recorded_without_asking_the_hub():
    from komt_data.sources.hub import resolved_revision

    sha = "0123456789abcdef0123456789abcdef01234567"
    assert resolved_revision("skt/kobest_v1", sha) == sha


def test_a_training_example_repeating_an_evaluation_example_is_the_one_dropped(tmp_path):
    _lay_out(tmp_path)
    with open(tmp_path / "data" / "nested" / "train" / "train.tsv", "a", encoding="utf-8") as f:
        f.write(f"9\t{REVIEWS['dev'][0][0]}\t{REVIEWS['dev'][0][1]}\n")  # a dev review copied into train
    task = _task(tmp_path, splits={"train": "train", "dev": "validation"})
    manifest = komt_data.build(task, tmp_path / "out")
    assert manifest["splits"] == {"train": 4, "validation": 2}
    (rejected,) = [orjson.loads(line) for line in (tmp_path / "out" / "rejected.jsonl").read_bytes().splitlines()]
    assert rejected["reason"] == "duplicate" and rejected["file"].endswith("train.tsv") and rejected["line"] == 6
    assert rejected["detail"].startswith("same content as ") and "dev.tsv:2" in rejected["detail"]


def test_each_spooled_unit_knows_its_dataset_split_and_output_split(tmp_path):
    """Stage 1 carries, per unit, the dataset's split (the ``files:`` mapping's name) and the
    output split it goes to, so stage 3 can say where every source file went."""
    from komt_data.sources import MAX_LINE_BYTES
    from komt_data.spool.budget import ErrorBudget
    from komt_data.spool.contract import NoProgress
    from komt_data.spool.local import runners, spool_local

    _lay_out(tmp_path)
    recipe = komt_data.load(_task(tmp_path, splits={"train": "train", "dev": "validation", "test": "test"}))
    spool = tmp_path / "spool"
    spool.mkdir()
    segments = spool_local(runners(recipe, 1), spool, limit=None, on_error="skip", max_line_bytes=MAX_LINE_BYTES,
                           workers=1, bar=NoProgress(), budget=ErrorBudget(None))
    found = {s.label.rsplit("/", 1)[-1]: (s.dataset_split, s.output_split, s.read) for s in segments}
    assert found == {"train.tsv": ("train", "train", 4), "dev.tsv": ("dev", "validation", 2),
                     "test.tsv": ("test", "test", 1)}


@pytest.mark.parametrize("splits, wanted", [
    ({"train": "train", "dev": "validation", "test": "test"},
     {"train.tsv": {}, "dev.tsv": {"split": "validation", "dataset_split": "dev"},
      "test.tsv": {"split": "test", "dataset_split": "test"}}),
    # An evaluation split trained on, when the config says so: the manifest still names it.
    ({"train": "train", "dev": "train"}, {"train.tsv": {}, "dev.tsv": {"dataset_split": "dev"}}),
])
def test_the_manifest_names_each_source_files_dataset_split_and_where_it_went(tmp_path, splits, wanted):
    _lay_out(tmp_path)
    task = _task(tmp_path, splits=splits, **({"train_on_eval_splits": True} if splits["dev"] == "train" else {}))
    komt_data.build(task, tmp_path / "out")
    manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    found = {s["file"].rsplit("/", 1)[-1]: {k: v for k, v in s.items() if k in ("split", "dataset_split")}
             for s in manifest["tasks"]["reviews"]["sources"]}
    assert found == wanted
    reads = {s["file"].rsplit("/", 1)[-1]: s["read"] for s in manifest["tasks"]["reviews"]["sources"]}
    assert reads == {name: len(REVIEWS[name[:-4]]) for name in wanted}
