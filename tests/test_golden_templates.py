"""Every bundled template, rendered on fixed examples, is exactly its committed golden file.

The examples are in tests/golden/examples.yaml (per family); each template file
templates/<name>.yaml has its renderings in tests/golden/<name>.txt. When a template, the
josa filter or the renderer changes on purpose, regenerate and read the diff by eye:

    KOMT_DATA_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_templates.py
    git diff tests/golden/
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from komt_data.adapters import adapter_names, get_adapter
from komt_data.resources import template_set_names, template_set_path
from komt_data.templates import TemplateSet, load_template_set
from komt_data.text import clean_text, nfc

GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES: dict[str, list[dict]] = yaml.safe_load((GOLDEN / "examples.yaml").read_text(encoding="utf-8"))
UPDATE = os.environ.get("KOMT_DATA_UPDATE_GOLDEN") == "1"
REGENERATE = "KOMT_DATA_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_templates.py"


def family_examples(family: str, name: str = "") -> list[dict]:
    """The fixed examples of template set ``name`` if it has its own, else of its family (each
    with its ``name``), or a failure saying how to add them."""
    if name in EXAMPLES:
        return EXAMPLES[name]
    if family not in EXAMPLES:
        pytest.fail(f"no golden example for family '{family}': add a list under '{family}:' in "
                    f"tests/golden/examples.yaml (every field its adapter's examples carry), then run "
                    f"{REGENERATE} and read the new golden file")
    return EXAMPLES[family]


def render_set(template_set: TemplateSet, name: str) -> str:
    """Every template of the set on every example of its family, as the golden file holds it."""
    parts = [f"# Golden renderings of templates/{name}.yaml on tests/golden/examples.yaml "
             f"({template_set.family}).\n# Regenerate: {REGENERATE}\n"]
    for template in template_set.templates:
        for example in family_examples(template_set.family, name):
            fields = {k: v for k, v in example.items() if k != "name"}
            header = f"=== {template.id} · {example['name']} ==="
            if not template.applies_to(fields):
                parts.append(f"{header}\n(not used: the template requires {template.requires})\n")
                continue
            instruction, output = template.render(fields)
            parts.append(f"{header}\n--- instruction\n{nfc(instruction)}\n--- output\n{nfc(output)}\n")
    return "\n".join(parts)


@pytest.mark.parametrize("name", template_set_names())
def test_template_set_renders_as_its_golden_file(name: str) -> None:
    rendered = render_set(load_template_set(template_set_path(name)), name)
    path = GOLDEN / f"{name}.txt"
    if UPDATE:
        path.write_text(rendered, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"templates/{name}.yaml has no golden file: run {REGENERATE}, read tests/golden/{name}.txt "
                    "by eye and commit it")
    expected = path.read_text(encoding="utf-8")
    assert rendered == expected, (f"templates/{name}.yaml renders differently from tests/golden/{name}.txt; "
                                  f"if the change is meant, run {REGENERATE} and read the diff")


def test_no_golden_file_without_its_template_set() -> None:
    names = set(template_set_names())
    stale = sorted(p.stem for p in GOLDEN.glob("*.txt") if p.stem not in names)
    assert not stale, f"golden files for template sets that no longer exist: {stale}"


def test_examples_are_what_the_adapters_make() -> None:
    fields_of = {}
    for adapter in adapter_names():
        cls = get_adapter(adapter)
        fields_of.setdefault(cls.family, set(cls.example_fields))
    for key, examples in EXAMPLES.items():
        # A key is a family, or a template set with examples of its own.
        family = load_template_set(template_set_path(key)).family if key in template_set_names() else key
        assert family in fields_of, f"examples.yaml has examples of '{key}', which no adapter makes"
        assert len(examples) >= 2, family
        for example in examples:
            fields = {k: v for k, v in example.items() if k != "name"}
            assert set(fields) == fields_of[family], (family, example["name"], set(fields) ^ fields_of[family])
            for value in fields.values():
                for text in value if isinstance(value, list) else [value]:
                    if isinstance(text, str):
                        assert clean_text(text) == text, (family, example["name"], text)


def test_golden_check_fails_on_a_changed_rendering(tmp_path) -> None:
    # The comparison is not vacuous: one changed word in one template changes the rendering.
    source = template_set_path("nli").read_text(encoding="utf-8")
    source = source.replace("보기에서 골라 주세요", "보기에서 고르세요", 1)
    changed = tmp_path / "nli.yaml"
    changed.write_text(source, encoding="utf-8")
    assert render_set(load_template_set(changed), "nli") != (GOLDEN / "nli.txt").read_text(encoding="utf-8")
