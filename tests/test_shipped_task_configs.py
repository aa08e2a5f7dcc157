"""Every shipped task config validates (keys, adapter options, templates against the family's fields),
and every task family has the templates FLAN-style mixing needs."""

from __future__ import annotations

import pytest
import yaml

import komt_data
from komt_data.resources import bundled_dir, template_set_path
from komt_data.templates import load_template_set

from .layouts_helpers import shipped

SHIPPED = sorted(p.stem for p in bundled_dir("task_configs").glob("*.yaml"))
FAMILIES = ("qa", "summarization", "nli", "translation", "classification", "sts", "boolean_qa", "cause_effect",
            "continuation", "word_sense", "ner")


def test_every_family_has_a_builtin_adapter():
    assert set(FAMILIES) <= set(komt_data.adapter_names())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_config_validates(name, tmp_path, monkeypatch):
    # Lay out one empty file where each path-based config looks, so validation can resolve it.
    data = yaml.safe_load(shipped(name).read_text(encoding="utf-8"))
    files = data["source"].get("files")
    if files is not None:
        assert name.endswith("_files")
        # A mapping names the dataset's splits; by default only `train` is read, so only it is laid out.
        train = files["train"] if isinstance(files, dict) else files
        patterns = [train] if isinstance(train, str) else list(train)
        exclude = data["source"].get("exclude")  # an evaluation split's files must be there too
        if exclude is not None:
            patterns += [exclude["files"]] if isinstance(exclude["files"], str) else exclude["files"]
        for pattern in patterns:
            assert pattern.startswith("${KOMT_DATA_DIR}/")
            target = tmp_path / pattern.removeprefix("${KOMT_DATA_DIR}/").replace("**/", "").replace("*", "x")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"")
        monkeypatch.setenv("KOMT_DATA_DIR", str(tmp_path))
    else:
        assert name.endswith("_hub") and "/" in data["source"]["hub"]
    summary = komt_data.validate(shipped(name))
    (task,) = summary["tasks"]
    assert task["templates"] >= 10
    assert data.get("license") and data.get("description")


@pytest.mark.parametrize("family", FAMILIES)
def test_family_template_sets_have_original_inverted_and_options_variants(family):
    templates = load_template_set(template_set_path(family)).templates
    assert len(templates) >= 10
    assert any(not t.original_task for t in templates)
    if family in ("nli", "classification", "sts", "boolean_qa", "cause_effect", "continuation", "word_sense"):
        assert any(t.choices_in_prompt for t in templates) and any(not t.choices_in_prompt for t in templates)
