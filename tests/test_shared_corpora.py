"""The real corpora in ../shared/corpora (skipped when absent), laid out under a KOMT_DATA_DIR as
their downloads are (clones of KLUE-benchmark/KLUE, kakaobrain/KorNLUDatasets,
SKT-LSL/KoBEST_datarepo, e9t/nsmc): every shipped config trains on the train split only, every
evaluation split is a decontamination preset read from the local files, exact row counts."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import yaml

import komt_data
from komt_data.dedup.contamination import eval_items
from komt_data.dedup.presets import LOCAL_PRESETS, preset

from .layouts_helpers import build_shipped, hub_config_copy, shipped

# Rows per evaluation file, as the datasets' own READMEs give them.
EVAL_ROWS = {
    "klue_nli_dev": 3000, "klue_ner_dev": 5000, "kornli_xnli_dev": 2490, "kornli_xnli_test": 5010, "korsts_dev": 1500,
    "korsts_test": 1379, "kobest_boolq_dev": 700, "kobest_boolq_test": 1404, "kobest_copa_dev": 500,
    "kobest_copa_test": 1000, "kobest_wic_dev": 610, "kobest_wic_test": 1260, "kobest_hellaswag_dev": 500,
    "kobest_hellaswag_test": 500, "kobest_sentineg_dev": 400, "kobest_sentineg_test": 397,
}
# A few NSMC movies are enough to rebuild raw/<movie_id>.json and the pandas-written split files.
NSMC_MOVIES = 40

TRAIN_NLI = ("sentence1\tsentence2\tgold_label\n"
             "한 남자가 공원에서 개와 함께 뛰고 있다.\t남자가 밖에 있다.\tentailment\n"
             "비가 와서 경기가 취소되었다.\t경기는 예정대로 열렸다.\tcontradiction\n")
TRAIN_KLUE_NLI = [{"guid": "klue-nli-v1_train_00001", "genre": "wikinews", "premise": "비가 와서 경기가 취소되었다.",
                   "hypothesis": "경기는 예정대로 열렸다.", "gold_label": "contradiction"},
                  {"guid": "klue-nli-v1_train_00002", "genre": "wikinews", "premise": "아이들이 놀이터에서 놀고 있다.",
                   "hypothesis": "아이들이 밖에 있다.", "gold_label": "entailment"}]


def _raw_reviews(corpora: Path) -> list[dict]:
    rows: list[dict] = []
    movies: set[str] = set()
    with gzip.open(corpora / "nsmc" / "nsmc_raw_reviews.jsonl.gz", "rb") as f:
        for line in f:
            row = orjson.loads(line)
            if row["movie_id"] not in movies and len(movies) == NSMC_MOVIES:
                break
            movies.add(row["movie_id"])
            rows.append(row)
    return rows


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """KOMT_DATA_DIR as a user has it after downloading: the real files, by symlink, where
    their releases put them; training files the shared corpora lack are written small."""
    corpora = Path(__file__).resolve().parents[2] / "shared" / "corpora"
    if not corpora.is_dir():
        pytest.skip(f"real corpora not present at {corpora}")
    root = tmp_path_factory.mktemp("komt_data_dir")
    (root / "KoBEST_datarepo").symlink_to(corpora / "KoBEST")
    (root / "KorNLUDatasets" / "KorNLI").mkdir(parents=True)
    (root / "KorNLUDatasets" / "KorSTS").symlink_to(corpora / "KorNLUDatasets" / "KorSTS")
    for name in ("xnli.dev.ko.tsv", "xnli.test.ko.tsv"):
        (root / "KorNLUDatasets" / "KorNLI" / name).symlink_to(corpora / "KorNLUDatasets" / "KorNLI" / name)
    for name in ("multinli.train.ko.tsv", "snli_1.0_train.ko.tsv"):
        (root / "KorNLUDatasets" / "KorNLI" / name).write_text(TRAIN_NLI, encoding="utf-8")
    nli = root / "KLUE" / "klue_benchmark" / "klue-nli-v1.1"
    nli.mkdir(parents=True)
    (nli / "klue-nli-v1.1_dev.json").symlink_to(corpora / "KLUE" / "klue_benchmark" / "klue-nli-v1.1"
                                                / "klue-nli-v1.1_dev.json")
    (nli / "klue-nli-v1.1_train.json").write_bytes(orjson.dumps(TRAIN_KLUE_NLI))
    (root / "KLUE" / "klue_benchmark" / "klue-ner-v1.1").symlink_to(corpora / "KLUE" / "klue_benchmark"
                                                                  / "klue-ner-v1.1")
    # NSMC: raw/<movie_id>.json as e9t/nsmc ships them, and ratings_train/test.txt written as
    # upstream code/partition.py writes them (pandas to_csv with its default quoting).
    import pandas as pd

    reviews = _raw_reviews(corpora)
    (root / "nsmc" / "raw").mkdir(parents=True)
    by_movie: dict[str, list] = {}
    for row in reviews:
        by_movie.setdefault(row["movie_id"], []).append(row)
    for movie, rows in by_movie.items():
        (root / "nsmc" / "raw" / f"{movie}.json").write_bytes(orjson.dumps(rows, option=orjson.OPT_INDENT_2))
    rated = [r for r in reviews if r["rating"] not in ("5", "6", "7", "8") and "\t" not in r["review"]
             and "\n" not in r["review"]]
    frame = pd.DataFrame({"id": [r["review_id"] for r in rated], "document": [r["review"] for r in rated],
                          "label": [int(int(r["rating"]) >= 9) for r in rated]})
    cut = len(frame) * 3 // 4
    frame[:cut].to_csv(root / "nsmc" / "ratings_train.txt", sep="\t", index=False)
    frame[cut:].to_csv(root / "nsmc" / "ratings_test.txt", sep="\t", index=False)
    (root / "nsmc" / "ratings.txt").write_text(  # the raw file: quoting off, never read by the configs
        "id\tdocument\tlabel\n" + "".join(f"{r['review_id']}\t{r['review']}\t{int(int(r['rating']) >= 9)}\n"
                                          for r in rated), encoding="utf-8")
    return root


@pytest.mark.parametrize("name", sorted(EVAL_ROWS))
def test_every_evaluation_split_is_a_local_preset_with_all_its_rows(data_dir, monkeypatch, name):
    monkeypatch.setenv("KOMT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # local files: no hub needed
    spec = preset(name)
    assert spec.hub is None and spec.files[0].is_file()
    items = list(eval_items(spec))
    assert len(items) == EVAL_ROWS[name]
    assert all(item.parts for item in items)
    # Read with the quoting the file was written with: no CSV escaping left in the text
    # (KoBEST HellaSwag is CSV-quoted: `"전자레인지를 ""강"" 단계로…"`).
    assert not any('""' in part for item in items for part in item.parts), name


def test_every_shipped_dataset_has_presets_for_its_evaluation_splits():
    for name in ("klue_nli_dev", "klue_ner_dev", "klue_sts_dev", "klue_ynat_dev", "klue_mrc_dev", "korquad_v1_dev",
                 "kornli_xnli_dev", "kornli_xnli_test", "korsts_dev", "korsts_test", "nsmc_test",
                 *(f"kobest_{t}_{s}" for t in ("boolq", "copa", "wic", "hellaswag", "sentineg")
                   for s in ("dev", "test"))):
        assert name in LOCAL_PRESETS


def test_kornli_trains_on_its_training_files_only(data_dir, monkeypatch, tmp_path):
    built = build_shipped("kornli_files", data_dir, tmp_path / "out", monkeypatch)
    task = built["task"]
    # Two training files of two rows (the second repeats the first: exact duplicates); the
    # 7,500 XNLI rows beside them are not read.
    assert task["read"] == 4 and task["dropped"] == {"duplicate": 2}
    assert sorted(s["file"].rsplit("/", 1)[-1] for s in task["sources"]) == ["multinli.train.ko.tsv",
                                                                              "snli_1.0_train.ko.tsv"]


def test_kornli_xnli_mapped_to_validation_and_test_stays_whole(data_dir, monkeypatch, tmp_path):
    config = yaml.safe_load(shipped("kornli_files").read_text(encoding="utf-8"))
    built = build_shipped("kornli_files", data_dir, tmp_path / "out", monkeypatch, overrides={"source": {
        **config["source"], "splits": {"train": "train", "dev": "validation", "test": "test"}}})
    task = built["task"]
    splits = built["manifest"]["splits"]
    assert splits["train"] == 2 and task["read"] == 4 + 2490 + 5010
    # Every XNLI row is written or counted (a few XNLI pairs repeat within the set: duplicates).
    assert splits["validation"] + splits["test"] + task["dropped"].get("duplicate", 0) - 2 == 2490 + 5010
    assert set(task["dropped"]) == {"duplicate"}
    assert splits["validation"] > 2400 and splits["test"] > 4900


def test_korsts_trains_on_sts_train_only(data_dir, monkeypatch, tmp_path):
    built = build_shipped("korsts_files", data_dir, tmp_path / "out", monkeypatch)
    task = built["task"]
    assert task["read"] == 5749
    assert [s["file"].rsplit("/", 1)[-1] for s in task["sources"]] == ["sts-train.tsv"]
    assert set(task["dropped"]) <= {"duplicate"} and built["manifest"]["splits"] == {"train": task["written"]}


def test_klue_nli_trains_on_train_and_its_dev_is_the_validation_split_when_mapped(data_dir, monkeypatch, tmp_path):
    built = build_shipped("klue_nli_files", data_dir, tmp_path / "out", monkeypatch)
    assert (built["task"]["read"], built["task"]["written"]) == (2, 2)
    config = yaml.safe_load(shipped("klue_nli_files").read_text(encoding="utf-8"))
    mapped = build_shipped("klue_nli_files", data_dir, tmp_path / "mapped", monkeypatch, overrides={"source": {
        **config["source"], "splits": {"train": "train", "dev": "validation"}}})
    assert mapped["manifest"]["splits"] == {"train": 2, "validation": 3000}


def test_nsmc_split_files_are_read_with_csv_quoting(data_dir, monkeypatch, tmp_path):
    import pandas as pd

    built = build_shipped("nsmc_files", data_dir, tmp_path / "out", monkeypatch,
                          overrides={"templates_per_example": 100})
    task = built["task"]
    train = pd.read_csv(data_dir / "nsmc" / "ratings_train.txt", sep="\t", dtype=str, keep_default_na=False)
    assert task["read"] == len(train) and [s["file"].rsplit("/", 1)[-1] for s in task["sources"]] == [
        "ratings_train.txt"]
    quoted = [doc for doc in train["document"] if '"' in doc]
    assert quoted, "the sample has reviews with quotes"
    raw = (data_dir / "nsmc" / "ratings_train.txt").read_text(encoding="utf-8")
    assert any(f'"{doc.replace(chr(34), chr(34) * 2)}"' in raw for doc in quoted)  # written escaped
    text = "\n".join(r["instruction"] for r in built["records"])
    for doc in quoted:  # read back as the reviews were, not as their escaping
        if doc.strip():
            assert " ".join(doc.split()) in text, doc
    assert '""' not in text.replace('""', "") or all('""' not in " ".join(d.split()) for d in quoted)
    # ratings.txt is raw: read with quoting off its rows are untouched, quotes included.
    from komt_data.sources.lines import read_delimited

    rows = [row for _, row in read_delimited(data_dir / "nsmc" / "ratings.txt", "utf-8", "\t")]
    assert [row["document"] for row in rows if '"' in row["document"]][:len(quoted)]
    assert all(isinstance(row, dict) for row in rows)
    # The test split is a preset, read with the same quoting.
    monkeypatch.setenv("KOMT_DATA_DIR", str(data_dir))
    test = pd.read_csv(data_dir / "nsmc" / "ratings_test.txt", sep="\t", dtype=str, keep_default_na=False)
    items = list(eval_items(preset("nsmc_test")))
    assert [i.text for i in items] == [d for d in test["document"] if d.strip()]


def test_nsmc_raw_reads_the_raw_movie_files(data_dir, monkeypatch, tmp_path):
    built = build_shipped("nsmc_raw_files", data_dir, tmp_path / "out", monkeypatch)
    task = built["task"]
    rows = [r for path in (data_dir / "nsmc" / "raw").glob("*.json") for r in orjson.loads(path.read_bytes())]
    assert task["read"] == len(rows) and len(task["sources"]) == NSMC_MOVIES
    # ratings_test.txt's reviews (pandas-quoted, as upstream writes it) are never trained on.
    import pandas as pd

    test_ids = set(pd.read_csv(data_dir / "nsmc" / "ratings_test.txt", sep="\t", dtype=str,
                               keep_default_na=False)["id"])
    in_test = [r for r in rows if r["review_id"] in test_ids]
    assert test_ids and task["dropped"]["evaluation_split"] == len(in_test)
    assert {r["input"]["review_id"] for r in built["rejected"] if r["reason"] == "evaluation_split"} == test_ids
    neutral = sum(r["rating"] in ("5", "6", "7", "8") for r in rows)
    assert task["dropped"]["unknown_label"] == neutral  # the test split has no neutral review
    assert set(task["dropped"]) <= {"unknown_label", "duplicate", "empty_text", "evaluation_split"}


def test_kobest_sentineg_hub_copy_with_integer_labels(data_dir, monkeypatch, tmp_path):
    """skt/kobest_v1 today: JSONL with integer labels and no ClassLabel names (SentiNeg 0 = 부정)."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    lines = (data_dir / "KoBEST_datarepo" / "v1.0" / "SentiNeg" / "train.tsv").read_text(encoding="utf-8")
    rows = [line.rstrip("\r").split("\t") for line in lines.splitlines()[1:] if line.strip()]
    local = tmp_path / "kobest_v1_sentineg"  # the hub copy's one config, as a local dataset folder
    local.mkdir()
    (local / "train.jsonl").write_bytes(b"".join(
        orjson.dumps({"sentence": text, "label": int(label)}) + b"\n" for _, text, label in rows))
    config = hub_config_copy("kobest_sentineg_hub", local, tmp_path / "sentineg.yaml")
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["source"].pop("config", None)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    manifest = komt_data.build(config, tmp_path / "out")
    task = manifest["tasks"]["kobest_sentineg"]
    assert task["read"] == len(rows) == 3649
    assert "unknown_label" not in task["dropped"] and task["written"] > 3500
    records = [orjson.loads(line) for line in next((tmp_path / "out").glob("train-*.jsonl")).read_bytes().splitlines()]
    by_text = {text: ("부정" if label == "0" else "긍정") for _, text, label in rows}
    checked = 0
    for record in records:
        if record["output"] in ("부정", "긍정"):
            text = next((t for t in by_text if t and t in record["instruction"]), None)
            if text is not None:
                assert record["output"] == by_text[text]
                checked += 1
    assert checked > 100


def test_decontamination_presets_work_offline_on_downloaded_files(data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({
        "tasks": [str(shipped("korsts_files"))],
        "decontaminate": {"sets": ["korsts_test", "klue_nli_dev", "kobest_boolq_test"]}}), encoding="utf-8")
    monkeypatch.setenv("KOMT_DATA_DIR", str(data_dir))
    manifest = komt_data.build(recipe, tmp_path / "out")
    assert manifest["decontamination"]["sets"] == {"korsts_test": 1379, "klue_nli_dev": 3000,
                                                   "kobest_boolq_test": 1404}
    assert manifest["tasks"]["korsts"]["read"] == 5749


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "komt_data", *args], capture_output=True, text=True,
                          env={**os.environ, "KOMT_DATA_DISABLE_PLUGINS": "1", **env}, cwd=cwd, timeout=120)
    return done, time.monotonic() - start


@pytest.mark.parametrize("offline", [{"HF_HUB_OFFLINE": "1"}, {"HF_ENDPOINT": "http://127.0.0.1:9"}])
def test_hub_sources_and_presets_fail_at_once_offline(data_dir, tmp_path, offline):
    env = {"HF_HOME": str(tmp_path / "hf"), "KOMT_DATA_DIR": str(tmp_path / "empty"), **offline}
    done, seconds = _cli(["build", "kobest_sentineg_hub", "-o", str(tmp_path / "out"), "-q"], env, tmp_path)
    assert done.returncode == 1 and seconds < 20, (done.stderr, seconds)
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "cannot be reached" in done.stderr and "skt/kobest_v1" in done.stderr
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"tasks": [str(shipped("korsts_files"))],
                                      "decontaminate": {"sets": ["klue_nli_dev"]}}), encoding="utf-8")
    env["KOMT_DATA_DIR"] = str(data_dir)
    (tmp_path / "klue_only").mkdir()
    (tmp_path / "klue_only" / "KorNLUDatasets").symlink_to(data_dir / "KorNLUDatasets")
    env["KOMT_DATA_DIR"] = str(tmp_path / "klue_only")  # KorSTS there, KLUE's dev not: the hub is tried
    done, seconds = _cli(["build", str(recipe), "-o", str(tmp_path / "out2"), "-q"], env, tmp_path)
    assert done.returncode == 1 and seconds < 20, (done.stderr, seconds)
    assert len(done.stderr.strip().splitlines()) == 1 and "klue-nli-v1.1_dev.json" in done.stderr, done.stderr


def test_a_task_that_writes_nothing_fails_the_build_with_one_line(data_dir, tmp_path):
    config = yaml.safe_load(shipped("korsts_files").read_text(encoding="utf-8"))
    config["fields"] = {"score": "genre"}  # a wrong field map: every score is text
    path = tmp_path / "korsts_wrong.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    done, _ = _cli(["build", str(path), "-o", str(tmp_path / "out")], {"KOMT_DATA_DIR": str(data_dir)}, tmp_path)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.strip().splitlines() if line.startswith("komt-data: error")]
    assert len(lines) == 1 and "task korsts wrote 0 records" in lines[0] and "5,749" in lines[0], done.stderr
    assert not (tmp_path / "out").exists()
