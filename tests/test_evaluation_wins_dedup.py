"""A record bound for an evaluation split wins exact and near dedup over train records, in
whatever order the tasks come (issue 13): a dataset's dev item that a training file repeats
stays in validation, and the training copy is the one dropped. Real builds (the CLI in a
process of its own, workers 1 and 2); the Ray engine's builds are in test_ray_engine.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from .mixing_helpers import records, rejected

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
SHIPPED = Path(__file__).resolve().parents[1] / "task_configs"

# Long, varied reviews: near dedup on character shingles must see them as different from
# each other, and each as near-identical to its copy with one character changed.
REVIEWS = [
    ("처음에는 줄거리가 평범해 보였는데 중반부터 인물들의 사연이 하나씩 "
     "드러나면서 완전히 빠져들었습니다 마지막 장면에서는 눈물이 날 뻔했어요"),
    ("배우들 연기는 나쁘지 않았지만 편집이 너무 산만해서 무슨 "
     "이야기를 하려는 건지 끝까지 잘 모르겠더라고요 시간이 아까웠습니다"),
    ("아이와 함께 봤는데 어른이 봐도 충분히 재미있었어요 음악도 귀에 "
     "쏙쏙 들어오고 색감이 정말 예뻐서 극장에서 보길 잘했다 싶었습니다"),
    ("원작 소설을 좋아해서 기대했는데 중요한 장면들이 다 빠져 "
     "있어서 실망스러웠습니다 원작을 모르는 사람은 이해하기도 어려울 것 같아요"),
    ("액션 장면의 합이 시원시원하고 촬영이 훌륭해서 두 시간이 순식간에 "
     "지나갔어요 속편이 나온다면 무조건 개봉 첫날 보러 갈 생각입니다"),
    ("주인공의 선택이 도무지 납득이 되지 않아서 감정 이입이 전혀 안 "
     "됐어요 억지 감동을 주려는 장면이 너무 많아서 오히려 몰입이 깨졌습니다"),
    ("잔잔한 영화라 지루할 줄 알았는데 대사 하나하나가 마음에 남네요 "
     "비 오는 날 혼자 조용히 다시 보고 싶은 그런 작품이었습니다"),
    ("광고만 요란했지 정작 내용은 텅 비어 있었습니다 웃기려고 "
     "넣은 장면들도 하나도 안 웃기고 결말은 황당해서 헛웃음만 나왔어요"),
    ("오래된 흑백 영화를 복원한 판본인데 화질이 생각보다 좋아서 놀랐어요 "
     "당시 서울 거리 풍경을 보는 재미가 쏠쏠했고 연출도 세련됐습니다"),
    ("공포 영화라고 해서 봤는데 무섭기보다는 그냥 시끄럽기만 했어요 "
     "깜짝 놀라게 하는 장면만 반복되니까 나중에는 지쳐 버렸습니다"),
    ("실화를 바탕으로 한 이야기라 더 먹먹했습니다 과장하지 않고 담담하게 "
     "풀어낸 연출 덕분에 오히려 그 시절의 아픔이 크게 와닿았어요"),
    ("두 배우의 호흡이 정말 좋았어요 티격태격하다가 서로를 이해해 "
     "가는 과정이 자연스러워서 보는 내내 입가에 미소가 떠나지 않았습니다"),
]
LABELS = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1]
COPIED = [1, 4, 7, 10]  # train reviews that the dev file repeats


def _near_copy(text: str) -> str:
    """The review with its last syllable changed: not an exact copy, a near one."""
    return text[:-1] + ("다" if text[-1] != "다" else "요")


def _tsv(path: Path, rows: list[tuple[str, int]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("id\tdocument\tlabel\n" + "".join(f"{i}\t{text}\t{label}\n" for i, (text, label) in
                                                       enumerate(rows)), encoding="utf-8")


def _task(path: Path, name: str, files: dict[str, str], splits: dict[str, str] | None = None) -> None:
    source: dict[str, Any] = {"files": files, "format": "tsv"}
    if splits:
        source["splits"] = splits
    path.write_text(yaml.safe_dump({
        "name": name, "adapter": "classification", "license": "CC0 1.0", "fields": {"text": "document"},
        "labels": {0: "부정", 1: "긍정"}, "templates_per_example": 1, "source": source}, allow_unicode=True),
        encoding="utf-8")


def layout(tmp_path: Path, *, near: bool, dev_first: bool) -> tuple[Path, list[str]]:
    """Task ``reviews`` trains on REVIEWS; task ``reviews_dev`` reads only a dev file of copies
    of four of them (near copies with ``near``) into validation. Returns the recipe and the
    dev texts."""
    _tsv(tmp_path / "data" / "train.tsv", list(zip(REVIEWS, LABELS, strict=True)))
    dev = [_near_copy(REVIEWS[i]) if near else REVIEWS[i] for i in COPIED]
    _tsv(tmp_path / "data" / "dev.tsv", [(text, LABELS[i]) for text, i in zip(dev, COPIED, strict=True)])
    _task(tmp_path / "reviews.yaml", "reviews", {"train": "data/train.tsv"})
    _task(tmp_path / "reviews_dev.yaml", "reviews_dev", {"dev": "data/dev.tsv"}, {"dev": "validation"})
    tasks = [str(tmp_path / "reviews.yaml"), str(tmp_path / "reviews_dev.yaml")]
    body: dict[str, Any] = {"tasks": tasks[::-1] if dev_first else tasks}
    if near:
        body["dedup"] = {"near": True}
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(body), encoding="utf-8")
    return recipe, dev


def build_cli(recipe: Path, out: Path, workers: int) -> dict[str, Any]:
    """A build by the CLI in a process of its own (``--workers 2`` forks its pool there)."""
    done = subprocess.run([sys.executable, "-m", "komt_data", "build", str(recipe), "-o", str(out),
                           "--workers", str(workers), "--quiet"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "KOMT_DATA_DISABLE_PLUGINS": "1"})
    assert done.returncode == 0, done.stderr
    return orjson.loads((out / "manifest.json").read_bytes())


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def check_evaluation_kept(out: Path, manifest: dict[str, Any], dev: list[str], reason: str) -> None:
    """Every dev review is in validation once; none of their train copies is in train; each
    dropped train copy is named in rejected.jsonl under ``reason``."""
    validation = [orjson.dumps(r).decode() for r in records(out, "validation")]
    train = [orjson.dumps(r).decode() for r in records(out, "train")]
    assert manifest["tasks"]["reviews_dev"]["splits"]["validation"] == len(dev) == len(validation)
    for text in dev:
        assert sum(text in line for line in validation) == 1, text
    for i in COPIED:
        assert not any(REVIEWS[i] in line for line in train), REVIEWS[i]
    assert manifest["tasks"]["reviews"]["splits"] == {"train": len(REVIEWS) - len(COPIED), "validation": 0}
    assert manifest["tasks"]["reviews"]["dropped"] == {reason: len(COPIED)}
    lost = [e for e in rejected(out) if e["reason"] == reason]
    assert len(lost) == len(COPIED) and {e["task"] for e in lost} == {"reviews"}


@pytest.mark.parametrize("near", [False, True], ids=["exact", "near"])
@pytest.mark.parametrize("dev_first", [False, True], ids=["train_task_first", "dev_task_first"])
def test_a_dev_item_repeated_by_a_train_file_stays_in_validation(tmp_path, near, dev_first):
    recipe, dev = layout(tmp_path, near=near, dev_first=dev_first)
    one = build_cli(recipe, tmp_path / "w1", 1)
    two = build_cli(recipe, tmp_path / "w2", 2)
    assert files_of(tmp_path / "w1") == files_of(tmp_path / "w2")
    assert one == two
    check_evaluation_kept(tmp_path / "w1", one, dev, "near_duplicate" if near else "duplicate")


def test_the_same_item_twice_in_train_keeps_the_first(tmp_path):
    # Between train records the rule is unchanged: the first in task order wins.
    _tsv(tmp_path / "a.tsv", [(REVIEWS[0], 1), (REVIEWS[1], 0)])
    _tsv(tmp_path / "b.tsv", [(REVIEWS[1], 0), (REVIEWS[2], 1)])
    _task(tmp_path / "a.yaml", "first", {"train": "a.tsv"})
    _task(tmp_path / "b.yaml", "second", {"train": "b.tsv"})
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"tasks": [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]}),
                      encoding="utf-8")
    manifest = build_cli(recipe, tmp_path / "out", 1)
    assert manifest["tasks"]["first"]["splits"]["train"] == 2
    assert manifest["tasks"]["second"]["dropped"] == {"duplicate": 1}


@pytest.mark.skipif(not (CORPORA / "KoBEST" / "v1.0" / "SentiNeg").is_dir(), reason="real corpora not present")
@pytest.mark.parametrize("dev_first", [False, True], ids=["train_task_first", "dev_task_first"])
def test_kobest_sentineg_train_rows_read_as_dev_stay_in_validation(tmp_path, dev_first, monkeypatch):
    # The review's case: the shipped SentiNeg config (train.tsv) and a task whose dev file is
    # 49 of those train rows, mapped to validation. Before the rule: 49 -> 0 validation records.
    from komt_data import build

    home = tmp_path / "home"
    (home / "KoBEST_datarepo").mkdir(parents=True)
    (home / "KoBEST_datarepo" / "v1.0").symlink_to(CORPORA / "KoBEST" / "v1.0", target_is_directory=True)
    monkeypatch.setenv("KOMT_DATA_DIR", str(home))
    lines = (CORPORA / "KoBEST" / "v1.0" / "SentiNeg" / "train.tsv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    texts = [row.split("\t")[1] for row in rows]
    unique = [row for row, text in zip(rows, texts, strict=True) if texts.count(text) == 1]
    picked = unique[100:149]
    (tmp_path / "dev.tsv").write_text("\n".join([header, *picked]) + "\n", encoding="utf-8")
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump({
        "name": "sentineg_dev", "adapter": "classification", "license": "CC BY-SA 4.0",
        "fields": {"text": "Text", "label": "Label"}, "labels": {0: "부정", 1: "긍정"},
        "templates_per_example": 1,
        "source": {"files": {"dev": "dev.tsv"}, "format": "tsv", "splits": {"dev": "validation"}}},
        allow_unicode=True), encoding="utf-8")
    tasks = [str(SHIPPED / "kobest_sentineg_files.yaml"), str(tmp_path / "dev.yaml")]
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"tasks": tasks[::-1] if dev_first else tasks}), encoding="utf-8")
    manifest = build(recipe, tmp_path / "out")
    assert manifest["tasks"]["sentineg_dev"]["splits"]["validation"] == 49
    validation = "".join(orjson.dumps(r).decode() for r in records(tmp_path / "out", "validation"))
    train = "".join(orjson.dumps(r).decode() for r in records(tmp_path / "out", "train"))
    for row in picked:
        text = orjson.dumps(row.split("\t")[1]).decode()[1:-1]
        assert text in validation and text not in train, text
    # Every template rendering of the 49 train examples is dropped as a duplicate of them.
    lost = [e for e in rejected(tmp_path / "out") if e["reason"] == "duplicate" and e["task"] == "kobest_sentineg"]
    assert len(lost) >= 49
