"""The README documents every command, and its worked adapter example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from komt_data.cli import app
from komt_data.config import OUTPUT_KEYS, RECIPE_KEYS, SOURCE_KEYS, TASK_KEYS
from komt_data.exports import format_names, prompt_names

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _command_names() -> list[str]:
    group = typer.main.get_command(app)
    return sorted(group.commands)


@pytest.mark.parametrize("name", _command_names())
def test_every_command_is_documented(name):
    assert f"`komt-data {name}" in README, f"README has no `komt-data {name} …`"


def test_every_format_prompt_and_config_key_is_documented():
    # The built-ins: the suite switches plugins off (conftest), so the registries hold only them.
    for name in (*format_names(), *prompt_names()):
        assert f"| `{name}`" in README, name
    for key in (*RECIPE_KEYS, *OUTPUT_KEYS, *TASK_KEYS, *SOURCE_KEYS):
        assert re.search(rf"^\s*#?\s*{key}:", README, flags=re.M), f"config key {key} is not in the reference"


def test_the_custom_adapter_example_runs():
    block = README.split("<!-- example: custom-adapter -->", 1)[1]
    code = re.search(r"```python\n(.*?)```", block, flags=re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    from komt_data.testing import check_adapter

    run = check_adapter(namespace["OXQuizAdapter"], [{"문제": "한글은 세종대왕이 창제하였다.", "정답": "O"},
                                                    {"문제": "백두산은 가장 낮은 산이다.", "정답": "?"}])
    assert run.dropped == {"unknown_label": 1}
    assert run.records[0]["task"] == "adapter_test"
