"""The Python API: build the sample, register an adapter, test it with komt_data.testing,
and find a plugin adapter installed as a package through its entry point."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import orjson
import pytest

import komt_data
from komt_data import Adapter, Skip, register_adapter
from komt_data.testing import check_adapter, render_all_templates, run_adapter

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plugin"


def test_build_without_a_recipe_builds_the_sample_and_returns_the_manifest(tmp_path):
    manifest = komt_data.build(output=tmp_path / "out")
    assert manifest == orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    assert manifest["name"] == "komt-sample"
    for name, task in manifest["tasks"].items():
        assert task["read"] + task["expanded"] == task["written"] + sum(task["dropped"].values()), name
    assert komt_data.build(output=tmp_path / "out")["up_to_date"] is True


@register_adapter("test_api_yesno")
class YesNoAdapter(Adapter):
    """A made-up adapter for these tests: question + 예/아니요."""

    family = "classification"
    fields = ("text", "label")
    text_fields = ("text",)
    dedup_fields = ("text",)
    example_fields = ("text", "label", "options", "task_hint")
    default_labels = {"yes": "예", "no": "아니요"}

    def adapt(self, row):
        if row.get("label") not in self.labels:
            raise Skip("unknown_label", f"label {row.get('label')!r}")
        yield {"text": row["text"], "label": self.labels[row["label"]], "options": self.label_options(),
               "task_hint": ""}


ROWS = [
    {"q": "하늘은 파란가요?", "a": "yes"},
    {"q": "물고기는 하늘을 나나요?", "a": "no"},
    {"q": "고양이는 \u1100\u1161 짖나요?", "a": "no"},  # NFD 가: must leave as NFC
    {"q": "모르는 질문", "a": "maybe"},
]


def test_check_adapter_runs_the_real_pipeline_and_checks_the_contract():
    run = check_adapter("test_api_yesno", ROWS, fields={"text": "q", "label": "a"})
    assert run.rows == 4
    assert len(run.records) == 3 and run.dropped == {"unknown_label": 1}
    assert run.rejections[0]["line"] == 4
    assert "고양이는 가 짖나요?" in run.records[2]["instruction"]
    assert {r["output"] for r in run.records} <= {"예", "아니요", *(row["q"] for row in ROWS)}


def test_a_row_the_adapter_makes_nothing_of_is_still_counted():
    class Lossy(YesNoAdapter):
        def adapt(self, row):
            if row["label"] == "no":
                return  # drops the row without a Skip: it would vanish from the accounting
            yield from super().adapt(row)

    # The runner counts a row with no example as "no_examples", so the accounting holds.
    run = check_adapter(Lossy, ROWS[:2], fields={"text": "q", "label": "a"})
    assert run.dropped == {"no_examples": 1}


def test_check_adapter_catches_undeclared_example_fields():
    class Undeclared(YesNoAdapter):
        def adapt(self, row):
            for example in super().adapt(row):
                yield {**example, "secret": "x"}

    with pytest.raises(AssertionError, match=r"row 1: the adapter yields \['secret'\], which are not in"):
        check_adapter(Undeclared, ROWS[:1], fields={"text": "q", "label": "a"})


def test_check_adapter_catches_a_bad_skip_reason():
    class Shouting(YesNoAdapter):
        def adapt(self, row):
            raise Skip("Bad Row!", "no")

    with pytest.raises(AssertionError, match="should be a snake_case word"):
        check_adapter(Shouting, ROWS[:1], fields={"text": "q", "label": "a"})


def test_run_adapter_and_render_all_templates():
    run = run_adapter("nli", [{"premise": "비가 온다.", "hypothesis": "땅이 젖는다.", "label": "entailment"}],
                      templates_per_example=3)
    assert len(run.records) == 3 and run.expanded == 2
    phrasings = render_all_templates("nli", {"premise": "비가 온다.", "hypothesis": "땅이 젖는다.", "label": "함의",
                                             "options": ["함의", "중립", "모순"]})
    assert len(phrasings) > 5
    assert all("비가 온다." in instruction or "비가 온다." in output for _, instruction, output in phrasings)


def _wheel(directory: Path) -> Path:
    """A wheel of the plugin package, written by hand: no build backend, no network."""
    name, version = "komt_plugin_ox", "0.1.0"
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": (FIXTURES / f"{name}.py").read_bytes(),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: komt-plugin-ox\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: komt-data-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist}/entry_points.txt": (f"[komt_data.adapters]\nox_quiz = {name}:OXQuizAdapter\n\n"
                                     f"[komt_data.formats]\ntsv_pairs = {name}:TSV_PAIRS\n\n"
                                     f"[komt_data.prompts]\nox = {name}:ox_prompt\n").encode(),
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{dist}/RECORD"] = ("\n".join([*record, f"{dist}/RECORD,,"]) + "\n").encode()
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel


def test_a_plugin_package_is_found_through_its_entry_point(tmp_path):
    pip = [sys.executable, "-m", "pip"]
    env = {k: v for k, v in os.environ.items() if k != "KOMT_DATA_DISABLE_PLUGINS"}
    wheel = _wheel(tmp_path)
    subprocess.run([*pip, "install", "--quiet", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True, timeout=120)
    try:
        config = tmp_path / "ox_quiz.yaml"
        config.write_text(
            "name: ox_quiz\nadapter: ox_quiz\nlicense: CC0-1.0\n"
            f"source:\n  files: {FIXTURES / 'ox_quiz.jsonl'}\ntemplates: classification\n", encoding="utf-8")
        # A fresh interpreter: the registry reads entry points once per process. The suite
        # switches plugins off (conftest); this test opts back in for its own processes.
        switched_off = subprocess.run([sys.executable, "-m", "komt_data", "list", "adapters"], check=True,
                                      capture_output=True, text=True, timeout=120).stdout
        assert "ox_quiz" not in switched_off
        listing = subprocess.run([sys.executable, "-m", "komt_data", "list", "adapters"], check=True,
                                 capture_output=True, text=True, timeout=120, env=env).stdout
        assert any(line.split()[:2] == ["ox_quiz", "classification"] for line in listing.splitlines())
        result = subprocess.run([sys.executable, "-m", "komt_data", "build", str(config), "-o", str(tmp_path / "out"),
                                 "--json"], capture_output=True, text=True, timeout=120, env=env)
        assert result.returncode == 0, result.stderr
        summary = orjson.loads(result.stdout)
        assert summary["tasks"]["ox_quiz"]["read"] == 5
        assert summary["tasks"]["ox_quiz"]["written"] == 4
        assert summary["tasks"]["ox_quiz"]["dropped"] == {"unknown_label": 1}

        # The plugin's export format and prompt format, named in a recipe.
        recipe = tmp_path / "recipe.yaml"
        recipe.write_text(f"name: ox\ntasks:\n  - config: {config}\noutput:\n  format: tsv_pairs\n  prompt: ox\n",
                          encoding="utf-8")
        result = subprocess.run([sys.executable, "-m", "komt_data", "build", str(recipe), "-o",
                                 str(tmp_path / "tsv"), "--json"], capture_output=True, text=True, timeout=120,
                                env=env)
        assert result.returncode == 0, result.stderr
        assert orjson.loads(result.stdout)["files"] == ["train.pairs.tsv"]
        rows = (tmp_path / "tsv" / "train.pairs.tsv").read_text(encoding="utf-8").splitlines()
        assert rows[0] == "id\ttext" and len(rows) == 1 + 4
        assert all(row.split("\t")[1].startswith("문제: ") and "\\n답: " in row for row in rows[1:])

        # `export --format/--prompt` with the plugin's names, from a komt-format build.
        result = subprocess.run([sys.executable, "-m", "komt_data", "export", str(tmp_path / "out"), "--format",
                                 "tsv_pairs", "--prompt", "ox", "-o", str(tmp_path / "out2")], capture_output=True,
                                text=True, timeout=120, env=env)
        assert result.returncode == 0, result.stderr
        exported = (tmp_path / "out2" / "train.pairs.tsv").read_text(encoding="utf-8").splitlines()
        komt = [orjson.loads(line) for shard in sorted((tmp_path / "out").glob("train-*.jsonl"))
                for line in shard.read_bytes().splitlines()]
        assert len(exported) == 1 + len(komt) == 1 + 4

        def escaped(value: str) -> str:
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

        prompted = [(r["id"], "문제: " + r["instruction"] + "\n답: " + r["output"]) for r in komt]
        assert exported[1:] == [f"{escaped(id_)}\t{escaped(text)}" for id_, text in prompted]

        # Plugins switched off (the suite's default env): the same output section fails with the
        # one-line error, no traceback. A bundled task, so the plugin's adapter is not what fails.
        recipe.write_text("name: ox\ntasks:\n  - sample/klue_nli\noutput:\n  format: tsv_pairs\n  prompt: ox\n",
                          encoding="utf-8")
        off = subprocess.run([sys.executable, "-m", "komt_data", "build", str(recipe), "-o", str(tmp_path / "off")],
                             capture_output=True, text=True, timeout=120)
        assert off.returncode == 1
        assert off.stderr.strip().splitlines() == [
            f"komt-data: error: {recipe}: key 'output.format': must be one of komt, komt-json, alpaca, sharegpt, "
            "messages, parquet, hf, got 'tsv_pairs'"]
    finally:
        subprocess.run([*pip, "uninstall", "--quiet", "--yes", "komt-plugin-ox"], check=True, capture_output=True,
                       timeout=120)
    gone = subprocess.run([sys.executable, "-m", "komt_data", "list", "adapters"], capture_output=True, text=True,
                          timeout=120, env=env).stdout
    assert "ox_quiz" not in gone


def test_every_public_name_stays_what_it_is_after_every_module_is_imported():
    # A submodule named like an API function (komt_data/preview.py and komt_data.preview) made
    # the package attribute the module once anything had imported it.
    import importlib
    import pkgutil
    import types

    for module in pkgutil.walk_packages(komt_data.__path__, "komt_data."):
        if not module.name.startswith("komt_data.engines.ray"):  # (the ray extra, tested elsewhere)
            importlib.import_module(module.name)
    modules = [name for name in komt_data.__all__ if isinstance(getattr(komt_data, name), types.ModuleType)]
    assert modules == []
