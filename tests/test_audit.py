"""komt-data audit and report.html's curator sections: checks that fail on planted faults and
pass on clean output, near-duplicate pairs and decontamination matches, komt_data.open()."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

import komt_data
from komt_data.write.audit import audit
from komt_data.write.report import diff_flags, shared_ngram_flags

from .layouts_helpers import without_exclude

REVIEWS = ["연출이 아주 훌륭하고 배우들의 연기도 자연스러웠다", "음악이 좋아서 극장에서 두 번이나 봤다",
           "결말이 조금 아쉽지만 전체적으로 만족스러운 영화", "가족과 함께 보기에 딱 좋은 따뜻한 이야기",
           "시간 가는 줄 모르고 빠져서 본 작품이다", "주인공의 성장 과정이 감동적으로 그려졌다",
           "화면이 아름답고 색감이 뛰어난 영화였다", "대사 하나하나가 마음에 오래 남는다",
           "지루할 틈 없이 긴장감이 끝까지 이어졌다", "기대 이상으로 재미있어서 친구에게 추천했다"]

CLS_TEMPLATES = """family: classification
templates:
  - id: classification/01
    instruction: |-
      글: {{ text }}

      보기:
      {%- for option in options %}
      - {{ option }}
      {%- endfor %}
    response: "{{ label }}"
"""
CLS_TEMPLATES_CLEAN = CLS_TEMPLATES.replace("{%- for", "{% for").replace("{%- endfor", "{% endfor")

QA_TEMPLATES = """family: qa
templates:
  - id: qa/01
    instruction: |-
      지문: {{ context }}

      질문: {{ question }}
    response: "{{ answer }}"
"""
QA_TEMPLATES_PLANTED = QA_TEMPLATES + """  - id: qa/02
    instruction: "질문: {{ question }}"
    response: "{{ answer }}"
"""


def _project(tmp: Path, *, planted: bool, near: bool = False) -> Path:
    """A two-task recipe: reviews (95 % one label when planted, a collapsed option list) and
    QA (a template that leaves the passage out when planted)."""
    rows = []
    for i in range(40):
        positive = i % 20 != 0 if planted else i % 2 == 0
        rows.append({"text": f"{REVIEWS[i % 10]} ({i}번째 관람)", "label": "pos" if positive else "neg"})
    if near:  # one character apart: a near duplicate of the first review
        rows.append({"text": rows[0]["text"] + "!", "label": rows[0]["label"]})
    (tmp / "reviews.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    qa = [{"context": f"{city}은 대한민국의 도시이며 인구는 {n}만 명이다.", "question": f"{city}의 인구는?",
           "answer": f"{n}만 명"} for city, n in (("부산", 330), ("대구", 240), ("인천", 300), ("광주", 140))]
    (tmp / "qa.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in qa), "utf-8")
    (tmp / "cls.yaml").write_text(CLS_TEMPLATES if planted else CLS_TEMPLATES_CLEAN, "utf-8")
    (tmp / "qa_templates.yaml").write_text(QA_TEMPLATES_PLANTED if planted else QA_TEMPLATES, "utf-8")
    (tmp / "reviews.yaml").write_text("""name: reviews
adapter: classification
license: CC0 1.0
source: {files: reviews.jsonl}
labels: {pos: 긍정, neg: 부정}
templates: cls.yaml
""", "utf-8")
    (tmp / "qa.yaml").write_text("""name: cities
adapter: qa
license: CC0 1.0
source: {files: qa.jsonl}
templates: qa_templates.yaml
templates_per_example: 2
""", "utf-8")
    extra = ""
    if near:
        (tmp / "testset.txt").write_text(REVIEWS[3] + " (3번째 관람)\n", "utf-8")
        extra = "dedup: {near: true}\ndecontaminate:\n  sets:\n    - files: testset.txt\n"
    (tmp / "recipe.yaml").write_text("name: planted\nseed: 3\ntasks: [reviews.yaml, qa.yaml]\n" + extra, "utf-8")
    return tmp / "recipe.yaml"


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("planted")
    out = tmp / "out"
    komt_data.build(_project(tmp, planted=True), out)
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("clean")
    out = tmp / "out"
    komt_data.build(_project(tmp, planted=False), out)
    return out


@pytest.fixture(scope="module")
def with_pairs(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("pairs")
    out = tmp / "out"
    komt_data.build(_project(tmp, planted=False, near=True), out)
    return out


def _failed(result: dict) -> dict[str, int]:
    return {c["name"]: c["count"] for c in result["checks"] if c["failed"]}


def test_audit_flags_the_planted_faults(planted):
    result = audit(planted)
    failed = _failed(result)
    assert set(failed) == {"collapsed_list", "answer_not_in_passage", "dominant_label"}, failed
    assert failed["collapsed_list"] == 40  # every review record
    assert failed["answer_not_in_passage"] == 4  # every record of qa/02
    checks = {c["name"]: c for c in result["checks"]}
    assert "보기:- 긍정- 부정" in checks["collapsed_list"]["examples"][0]["text"] or \
        "보기:- 부정- 긍정" in checks["collapsed_list"]["examples"][0]["text"]
    assert all(e["template"] == "qa/02" for e in checks["answer_not_in_passage"]["examples"])
    dominant = checks["dominant_label"]["examples"][0]
    assert (dominant["task"], dominant["label"], dominant["share"]) == ("reviews", "긍정", 0.95)
    assert result["labels"]["reviews"]["labels"] == {"긍정": 38, "부정": 2}


def test_audit_passes_on_clean_output(clean, cli):
    result = audit(clean)
    assert result["passed"], _failed(result)
    assert result["labels"]["reviews"]["labels"] == {"긍정": 20, "부정": 20}
    run = cli("audit", str(clean))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "collapsed_list" in run.stdout


def test_audit_command_exits_1_and_speaks_json(planted, cli):
    run = cli("audit", str(planted), "--json")
    assert run.exit_code == 1
    data = orjson.loads(run.stdout)
    assert data["passed"] is False
    assert {c["name"] for c in data["checks"] if c["failed"]} == {"collapsed_list", "answer_not_in_passage",
                                                                    "dominant_label"}
    run = cli("audit", str(planted.parent))
    assert run.exit_code == 1 and run.stderr.startswith("komt-data: error: ")


def test_build_report_runs_the_same_checks(planted):
    # The build checks on stage 1's record lines and a sample; the output's audit on every record.
    html = (planted / "report.html").read_text(encoding="utf-8")
    for name in ("collapsed_list", "answer_not_in_passage", "dominant_label"):
        assert f'<tr class="fail"><td>{name}</td>' in html
    for name in ("blank_field", "template_markup", "identical_output"):
        assert f'<tr class=""><td>{name}</td>' in html
    # Every template used shows its records.
    assert html.count('<pre class="rec">') >= 3
    assert "<h3>reviews · classification/01</h3>" in html and "<h3>cities · qa/02</h3>" in html
    assert "one label dominates" in html


def test_near_duplicates_and_contamination_are_shown_with_highlights(with_pairs):
    rejected = [orjson.loads(line) for line in (with_pairs / "rejected.jsonl").read_bytes().splitlines()]
    near = [r for r in rejected if r["reason"] == "near_duplicate"]
    assert len(near) == 1
    survivor = near[0]["survivor"]
    assert survivor["line"] == 1 and survivor["record"]["task"] == "reviews"
    assert near[0]["record"]["text"] != survivor["record"]["text"] and 0.8 <= near[0]["jaccard"] < 1
    contaminated = [r for r in rejected if r["reason"] == "contaminated"]
    assert contaminated and contaminated[0]["eval_item"]["text"].startswith(REVIEWS[3])
    html = (with_pairs / "report.html").read_text(encoding="utf-8")
    assert '<mark class="d">!</mark>' in html  # the one difference of the pair, and nothing around it
    assert f'<mark class="n">{REVIEWS[3]} (3번째 관람)</mark>' in html
    assert "Nothing was dropped" not in html and "<b>near_duplicate</b>" in html and "<b>contaminated</b>" in html


def test_highlight_helpers():
    fa, fb = diff_flags("가나다라", "가나X다라")
    assert fa == [False] * 4 and fb == [False, False, True, False, False]
    flags = shared_ngram_flags("abc defg", "xxcdefgyy", 3)
    assert flags == [False, False, True, True, True, True, True, True]  # the space inside the run too


def test_report_size_is_bounded(planted):
    from komt_data.write.audit import CAPS

    html = (planted / "report.html").read_text(encoding="utf-8")
    shown = html.count('<pre class="rec">')
    assert shown <= CAPS["per_template"] * 3 + CAPS["per_check"] * 7 + CAPS["rejected_rows"]
    assert f"per_template {CAPS['per_template']}" in html  # the caps are stated


def test_open_gives_pandas_and_datasets_views(with_pairs):
    out = komt_data.open(with_pairs)
    assert out.manifest["name"] == "planted" and out.stats["records"] == sum(out.manifest["splits"].values())
    frame = out.to_pandas("train")
    assert list(frame.columns) == ["id", "task", "template", "instruction", "output", "text"]
    assert len(frame) == out.manifest["splits"]["train"]
    assert set(frame["task"]) == {"reviews", "cities"}
    ds = out.dataset("train")
    assert ds.num_rows == len(frame) and ds[0]["text"] == frame.iloc[0]["text"]
    rejected = out.rejected()
    lines = [orjson.loads(line) for line in (with_pairs / "rejected.jsonl").read_bytes().splitlines()]
    assert list(rejected["reason"]) == [r["reason"] for r in lines] and {r["reason"] for r in lines} == {
        "contaminated", "near_duplicate"}
    assert rejected.set_index("reason").loc["near_duplicate", "survivor"]["line"] == 1
    as_ds = out.rejected(as_dataset=True)
    assert as_ds.num_rows == len(lines) and json.loads(as_ds[0]["record"])["task"] == "reviews"
    with pytest.raises(komt_data.OutputError, match="no split 'test'"):
        out.to_pandas("test")
    with pytest.raises(komt_data.OutputError):
        komt_data.open(with_pairs.parent)


def test_report_on_real_kornli_and_nsmc(tmp_path, corpora):
    """KorNLI (all of XNLI dev and test) and 20,000 raw NSMC reviews with near dedup and a
    small local test set: the report shows every template used, every drop reason, near
    pairs and contamination matches with their highlights, and no option list is collapsed
    (classification/02 and nli/03 once rendered ``보기:- 함의- 중립- 모순``)."""
    nlu = corpora / "KorNLUDatasets" / "KorNLI"
    lines = (nlu / "xnli.test.ko.tsv").read_text("utf-8").splitlines()[1:40]
    premises = sorted({line.split("\t")[0] for line in lines})
    (tmp_path / "testset.txt").write_text("\n".join(premises[:10]) + "\n", "utf-8")
    root = Path(__file__).resolve().parents[1] / "task_configs"
    # The shipped configs read raw/*.json and KorNLI's train files; the shared corpora hold the
    # same reviews as one JSON Lines file, and XNLI dev/test (read here as if they were train).
    nsmc = without_exclude((root / "nsmc_raw_files.yaml").read_text("utf-8")).replace(
        "${KOMT_DATA_DIR}/nsmc/raw/*.json", str(corpora / "nsmc" / "nsmc_raw_reviews.jsonl.gz"))
    kornli = (root / "kornli_files.yaml").read_text("utf-8").replace("${KOMT_DATA_DIR}", str(corpora)).replace(
        "multinli.train.ko.tsv", "xnli.dev.ko.tsv").replace("snli_1.0_train.ko.tsv", "xnli.test.ko.tsv")
    (tmp_path / "nsmc.yaml").write_text(nsmc, "utf-8")
    (tmp_path / "kornli.yaml").write_text(kornli, "utf-8")
    (tmp_path / "recipe.yaml").write_text("name: real\nseed: 1\ntasks: [nsmc.yaml, kornli.yaml]\n"
                                          "dedup: {near: true}\ndecontaminate:\n  sets:\n    - files: testset.txt\n"
                                          "split: {validation: 0.05}\n", "utf-8")
    out = tmp_path / "out"
    manifest = komt_data.build(tmp_path / "recipe.yaml", out, limit=20000)
    html = (out / "report.html").read_text(encoding="utf-8")
    for task, t in manifest["stats"]["tasks"].items():
        for template in t["templates"]:
            assert f"<h3>{task} · {template}</h3>" in html, (task, template)
    for task, t in manifest["tasks"].items():
        for reason in t["dropped"]:
            assert f"<b>{reason}</b> · {task} · " in html, (task, reason)
    assert {"near_duplicate", "contaminated", "unknown_label", "duplicate"} <= {
        r for t in manifest["tasks"].values() for r in t["dropped"]}
    assert html.count('<div class="pair">') >= 2 and '<mark class="d">' in html and '<mark class="n">' in html
    assert '<td>collapsed_list</td>' in html and '<tr class="fail"><td>collapsed_list</td>' not in html
    assert len(html.encode()) < 1_000_000
    result = audit(out)
    assert "collapsed_list" not in {c["name"] for c in result["checks"] if c["failed"]}


def test_open_reads_an_hf_export(with_pairs, tmp_path):
    komt_data.export(with_pairs, "hf", tmp_path / "hf")
    out = komt_data.open(tmp_path / "hf")
    plain = komt_data.open(with_pairs)
    assert list(out.to_pandas("train")["id"]) == list(plain.to_pandas("train")["id"])
    assert out.dataset("train").num_rows == plain.manifest["splits"]["train"]


@pytest.mark.parametrize("damage", ["appended", "truncated", "outside", "incomplete"])
def test_open_and_audit_trust_no_damaged_output(with_pairs, tmp_path, damage, cli):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(with_pairs, out)
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    shard = out / manifest["shards"][0]["path"]
    if damage == "appended":
        shard.write_bytes(shard.read_bytes() + shard.read_bytes().splitlines(keepends=True)[0])
    elif damage == "truncated":
        shard.write_bytes(shard.read_bytes()[:-10])
    elif damage == "outside":
        (tmp_path / "secret.jsonl").write_bytes(shard.read_bytes())
        manifest["shards"][0]["path"] = "../secret.jsonl"
    else:
        del manifest["shards"]
    (out / "manifest.json").write_bytes(orjson.dumps(manifest))
    with pytest.raises(komt_data.OutputError):
        komt_data.open(out)
    with pytest.raises(komt_data.OutputError):
        audit(out)
    run = cli("audit", str(out))
    assert run.exit_code == 1 and run.stderr.startswith("komt-data: error: ") and run.stderr.count("\n") == 1
