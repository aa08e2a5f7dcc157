"""Config validation: every key checked, errors name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from komt_data import config
from komt_data.errors import ConfigError
from komt_data.sources.registry import format_of

from .conftest import write

NLI_ROWS = (
    '[{"guid": "klue-nli-v1_train_00001", "genre": "NSMC", "premise": "힛걸 진심 최고로 멋지다.", '
    '"hypothesis": "힛걸 진심 최고다.", "gold_label": "entailment"}]'
)


def _task(tmp_path: Path, body: str) -> Path:
    write(tmp_path / "data" / "nli.json", NLI_ROWS)
    return write(tmp_path / "task.yaml", body)


def test_misspelt_task_key_names_file_key_and_fix(tmp_path):
    path = _task(tmp_path, "name: t\nadapter: nli\nsource:\n  files: data/nli.json\nfeilds:\n  label: gold_label\n")
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert str(err.value) == f"{path}: key 'feilds': unknown key (did you mean 'fields'?)"


def test_misspelt_nested_source_key(tmp_path):
    path = _task(tmp_path, "name: t\nadapter: nli\nsource:\n  file: data/nli.json\n")
    with pytest.raises(ConfigError, match=r"key 'source.file': unknown key \(did you mean 'source.files'\?\)"):
        config.load(path)


def test_paths_resolve_relative_to_the_config_file(tmp_path, monkeypatch):
    path = _task(tmp_path, "name: t\nadapter: nli\nsource:\n  files: data/*.json\nfields:\n  label: gold_label\n")
    monkeypatch.chdir(Path("/"))
    recipe = config.load(path)
    task = recipe.tasks[0].config
    assert task.source.files == (tmp_path / "data" / "nli.json",)
    assert format_of(task.source, task.source.files[0]) == "json"
    assert task.fields == {"label": "gold_label"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("name: t\nsource:\n  files: data/nli.json\n", "is neither a recipe"),
        ("name: t\nadapter: nope\nsource:\n  files: data/nli.json\n", "key 'adapter': unknown adapter 'nope'"),
        ("name: t\nadapter: nli\nsource:\n  files: data/missing.json\n", "key 'source.files': file not found"),
        ("name: t\nadapter: nli\nsource:\n  files: data/nli.json\n  format: xml\n", "key 'source.format'"),
        ("name: t\nadapter: nli\nsource:\n  files: data/nli.json\ntemplates: nope\n", "no built-in template set"),
        ("name: t\nadapter: nli\nsource: {files: data/nli.json, hub: klue}\n", "exactly one of 'files' and 'hub'"),
        ("name: [t\n", "invalid YAML"),
        ("name: t\nadapter: translation\nsource:\n  files: data/nli.json\noptions: {source_lang: xx}\n",
         "key 'options.source_lang': unknown language code"),
        ("name: t\nadapter: nli\nsource:\n  files: data/nli.json\noptions: {speed: 3}\n", "key 'options.speed'"),
    ],
)
def test_bad_task_configs(tmp_path, body, message):
    path = _task(tmp_path, body)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config.load(path)


def test_yaml_python_tags_are_refused(tmp_path):
    path = _task(tmp_path, "name: !!python/object/apply:os.system ['echo pwned']\nadapter: nli\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        config.load(path)


def test_recipe_keys_are_checked_and_labels_read_as_text(tmp_path, sample_recipe):
    task = _task(tmp_path, "name: t\nadapter: nli\nsource:\n  files: data/nli.json\nfields: {label: gold_label}\n"
                 "labels: {entailment: 함의, neutral: 중립, contradiction: 모순}\n")
    recipe = write(tmp_path / "recipe.yaml", f"tasks:\n  - config: {task.name}\n    wieght: 2\n")
    with pytest.raises(ConfigError, match=r"key 'tasks\[0\].wieght': unknown key \(did you mean 'tasks\[0\].weight'"):
        config.load(recipe)
    numeric = write(tmp_path / "numeric.yaml", "name: n\nadapter: nli\nsource: {files: data/nli.json}\n"
                    "labels: {0: 함의, 1: 중립, 2: 모순}\n")
    assert config.load(numeric).tasks[0].config.labels == {"0": "함의", "1": "중립", "2": "모순"}


def test_recipe_refers_to_bundled_task_by_name(tmp_path):
    recipe = write(tmp_path / "recipe.yaml", "name: r\nseed: 1\ntasks: [sample/klue_nli]\nsplit: {validation: 0.2}\n")
    loaded = config.load(recipe)
    assert loaded.tasks[0].config.name == "sample_klue_nli"
    assert loaded.split.validation == 0.2 and loaded.seed == 1


def test_a_bundled_task_config_loads_by_name_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recipe = config.load("sample/klue_nli")
    assert recipe.tasks[0].config.name == "sample_klue_nli"
    assert recipe.tasks[0].config.path.parent.name == "sample"
    (tmp_path / "sample").mkdir()
    write(tmp_path / "sample" / "klue_nli", "name: [broken\n")  # a real file wins over the bundled name
    with pytest.raises(ConfigError, match="invalid YAML"):
        config.load("sample/klue_nli")
