"""Classification layouts: NSMC TSV (UTF-8 and cp949), raw NSMC ratings → labels, KLUE-YNAT, KoBEST SentiNeg."""

from __future__ import annotations

import datasets
import orjson

import komt_data

from .layouts_helpers import LAYOUTS, build_shipped, hub_config_copy, hub_dataset, lay_out


def test_nsmc_tsv_with_stray_quotes(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", {"nsmc/ratings_train.txt": "nsmc_ratings.txt"})
    built = build_shipped("nsmc_files", data, tmp_path / "out", monkeypatch, overrides={"templates_per_example": 100})
    task = built["task"]
    # Six rows: the stray quotes of rows 2 and 5 merge nothing; row 6 has an empty review.
    assert (task["read"], task["dropped"]) == (6, {"empty_text": 1})
    assert built["rejected"][0]["line"] == 7
    text = "\n".join(r["text"] for r in built["records"])
    assert '초딩영화줄...."오버연기조차' in text and '살려내지못했다."' in text


def test_nsmc_cp949_file_with_syllables_outside_euc_kr(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", {"nsmc/ratings_train.txt": "nsmc_cp949.txt"})
    built = build_shipped("nsmc_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    assert (task["read"], task["written"], task["dropped"]) == (4, 4, {})
    assert task["sources"][0]["encoding"] == "cp949"  # what `auto` chose, reported in the manifest
    text = "\n".join(r["text"] for r in built["records"])
    for word in ("똠방각하", "뷁", "햏햏", "쌰랄라"):
        assert word in text
    assert "\ufffd" not in text and "\r" not in text


def test_raw_nsmc_ratings_map_to_labels_and_neutral_ratings_leave(tmp_path, monkeypatch):
    # As e9t/nsmc ships them: raw/<movie_id>.json, a JSON array of review objects per movie.
    data = tmp_path / "data"
    (data / "nsmc" / "raw").mkdir(parents=True)
    movies: dict[str, list] = {}
    for line in (LAYOUTS / "nsmc_raw_reviews.jsonl").read_bytes().splitlines():
        row = orjson.loads(line)
        movies.setdefault(row["movie_id"], []).append(row)
    for movie, rows in movies.items():
        (data / "nsmc" / "raw" / f"{movie}.json").write_bytes(orjson.dumps(rows, option=orjson.OPT_INDENT_2))
    (data / "nsmc" / "ratings_test.txt").write_text("id\tdocument\tlabel\n", encoding="utf-8")  # excludes none
    built = build_shipped("nsmc_raw_files", data, tmp_path / "out", monkeypatch,
                          overrides={"templates_per_example": 100})
    task = built["task"]
    assert (task["read"], task["dropped"]) == (6, {"unknown_label": 2})  # ratings 7 and 5
    assert sorted(r["input"]["rating"] for r in built["rejected"]) == ["5", "7"]
    labels = {r["output"] for r in built["records"] if r["template"] == "classification/01"}
    assert labels == {"긍정", "부정"}
    positive = [r for r in built["records"] if r["template"] == "classification/01" and r["output"] == "긍정"]
    assert len(positive) == 2  # ratings 10 and 9
    assert all("배꼽" in r["instruction"] or "전체관람가" in r["instruction"] for r in positive)


def test_klue_ynat_string_labels(tmp_path, monkeypatch):
    data = lay_out(tmp_path / "data", {"KLUE/klue_benchmark/ynat-v1.1/ynat-v1.1_train.json": "ynat.json"})
    built = build_shipped("klue_ynat_files", data, tmp_path / "out", monkeypatch)
    task = built["task"]
    # 연예 is not one of KLUE-YNAT's seven topics: dropped with a reason, not guessed.
    assert (task["read"], task["written"], task["dropped"]) == (5, 4, {"unknown_label": 1})


def test_kobest_sentineg_hub_class_labels(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    features = datasets.Features({"sentence": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["negative", "positive"])})
    rows = {"sentence": ["배송이 빠르지 않아서 별로였어요.", "가격이 싸지 않은데도 만족스러워요.",
                         "다시는 안 살 거예요."],
            "label": [0, 1, 0]}
    local = hub_dataset(tmp_path / "sentineg", rows, features)
    config = hub_config_copy("kobest_sentineg_hub", local, tmp_path / "sentineg.yaml")
    import yaml

    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["templates_per_example"] = 100
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    manifest = komt_data.build(config, tmp_path / "out")
    assert manifest["tasks"]["kobest_sentineg"]["dropped"] == {}
    import orjson

    records = [orjson.loads(line) for line in next((tmp_path / "out").glob("train-*.jsonl")).read_bytes().splitlines()]
    answers = {r["instruction"]: r["output"] for r in records if r["template"] == "classification/01"}
    assert sorted(answers.values()) == ["긍정", "부정", "부정"]
    assert next(v for k, v in answers.items() if "만족스러워요" in k) == "긍정"
