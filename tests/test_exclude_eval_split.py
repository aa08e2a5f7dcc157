"""source.exclude: the shipped raw-NSMC config drops the reviews of NSMC's ratings_test.txt."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

import komt_data

from .layouts_helpers import LAYOUTS, build_shipped, shipped

# ratings_test.txt as upstream code/partition.py writes it (pandas to_csv, default quoting):
# a review holding '"' or a line break is quoted, its quotes doubled (read with quoting: csv, the
# quoted line break stays in its cell). Four of the fixture's reviews and one id that is in no
# raw file (the raw folder may be a partial download).
RATINGS_TEST = ('id\tdocument\tlabel\n'
                '10275184\t시간 아깝다 진짜 ㅡㅡ\t0\n'
                '10275186\t"ㅋㅋㅋㅋ ""배꼽"" 빠지는 줄"\t1\n'
                '10275187\t중간에 나왔습니다\t0\n'
                '10275185\t"그냥\n그랬어요"\t0\n'
                '99999999\t없는 리뷰\t1\n')
EXCLUDED = {"10275184", "10275185", "10275186", "10275187"}


def _raw_nsmc(data: Path) -> list[dict]:
    """raw/<movie_id>.json as e9t/nsmc ships them, from the layouts fixture; ratings_test.txt beside."""
    (data / "nsmc" / "raw").mkdir(parents=True)
    rows = [orjson.loads(line) for line in (LAYOUTS / "nsmc_raw_reviews.jsonl").read_bytes().splitlines()]
    movies: dict[str, list] = {}
    for row in rows:
        movies.setdefault(row["movie_id"], []).append(row)
    for movie, reviews in movies.items():
        (data / "nsmc" / "raw" / f"{movie}.json").write_bytes(orjson.dumps(reviews, option=orjson.OPT_INDENT_2))
    (data / "nsmc" / "ratings_test.txt").write_text(RATINGS_TEST, encoding="utf-8")
    return rows


def test_reviews_of_the_test_split_are_dropped_as_evaluation_split(tmp_path, monkeypatch):
    rows = _raw_nsmc(tmp_path / "data")
    built = build_shipped("nsmc_raw_files", tmp_path / "data", tmp_path / "out", monkeypatch,
                          overrides={"templates_per_example": 100})
    task = built["task"]
    assert task["read"] == len(rows)
    # Ratings 1, 5, 9, 3 are excluded; of the rest, 7 is neutral; 10 is the one trained on.
    assert task["dropped"] == {"evaluation_split": 4, "unknown_label": 1}
    assert task["exclude"]["keys"] == 5 and task["exclude"]["key"] == "review_id"  # 99999999 too
    assert [Path(f).name for f in task["exclude"]["files"]] == ["ratings_test.txt"]
    dropped = [r for r in built["rejected"] if r["reason"] == "evaluation_split"]
    assert {r["input"]["review_id"] for r in dropped} == EXCLUDED
    for r in dropped:  # file:line like every drop: the raw file of the movie
        assert Path(r["file"]).name == f"{r['input']['movie_id']}.json" and r["row"] >= 1
        assert "ratings_test.txt" in r["detail"]
    # Every record (all templates rendered) comes from the one review left: rating 10.
    assert built["records"] and all("전체관람가" in r["instruction"] + r["output"] for r in built["records"])
    assert not any(row["review"] in r["text"] for r in built["records"] for row in rows
                   if row["review_id"] in EXCLUDED)


def test_exclusion_gives_the_same_bytes_for_one_and_two_workers(tmp_path, monkeypatch):
    _raw_nsmc(tmp_path / "data")
    monkeypatch.setenv("KOMT_DATA_DIR", str(tmp_path / "data"))
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        komt_data.build(shipped("nsmc_raw_files"), out, workers=workers)
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.suffix == ".jsonl"})
    assert outputs[0] == outputs[1] and b"evaluation_split" in outputs[0]["rejected.jsonl"]


def test_missing_exclusion_file_is_one_line_naming_file_and_key(tmp_path):
    _raw_nsmc(tmp_path / "data")
    (tmp_path / "data" / "nsmc" / "ratings_test.txt").unlink()
    env = {"KOMT_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "komt_data", "build", str(shipped("nsmc_raw_files")),
                           "-o", str(tmp_path / "out")], capture_output=True, text=True, env=env)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"komt-data: error: {shipped('nsmc_raw_files')}: key 'source.exclude.files': file not found: "
        f"${{KOMT_DATA_DIR}}/nsmc/ratings_test.txt (looked at {tmp_path / 'data' / 'nsmc' / 'ratings_test.txt'})"]


def test_changing_the_exclusion_file_makes_the_build_not_up_to_date(tmp_path, monkeypatch):
    _raw_nsmc(tmp_path / "data")
    monkeypatch.setenv("KOMT_DATA_DIR", str(tmp_path / "data"))
    config, out = shipped("nsmc_raw_files"), tmp_path / "out"
    first = komt_data.build(config, out)
    assert komt_data.build(config, out).get("up_to_date") is True
    test_file = tmp_path / "data" / "nsmc" / "ratings_test.txt"
    test_file.write_text(RATINGS_TEST.replace("10275184\t", "10275182\t"), encoding="utf-8")
    second = komt_data.build(config, out, overwrite=True)
    assert not second.get("up_to_date") and second["build_fingerprint"] != first["build_fingerprint"]
    # The new set is read, not a cached one: review 10275182 (rating 10) is now the one excluded.
    rejected = [orjson.loads(line) for line in (out / "rejected.jsonl").read_bytes().splitlines()]
    assert {r["input"]["review_id"] for r in rejected if r["reason"] == "evaluation_split"} == {
        "10275182", "10275185", "10275186", "10275187"}
