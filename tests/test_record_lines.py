"""Stage 1 writes a record's JSON line from pieces; it must be what orjson makes of the record."""

from __future__ import annotations

from dataclasses import replace

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from komt_data.config import load
from komt_data.exports import get_prompt, prompt_names
from komt_data.resources import sample_recipe_path
from komt_data.spool.records import TaskRunner
from komt_data.templates import Template

# Korean, quotes, backslashes, every control character JSON escapes, slashes, emoji, NUL.
TEXT = st.text(st.sampled_from(list("가나다 ㅋㅎ\"\\/\n\r\t\x00\x01\x1f\x7f\u2028😀a<>&'") + ["\u00e9"]), max_size=30)


@pytest.mark.parametrize("name", prompt_names())
def test_each_builtin_prompt_is_its_literal_parts_around_instruction_and_output(name: str) -> None:
    fn = get_prompt(name)
    before, between, after = fn.parts
    for instruction, output in (("지시", "답"), ("", ""), ("a {x} \\n", "}{")):
        assert fn(instruction, output) == before + instruction + between + output + after


@settings(max_examples=300, deadline=None)
@given(instruction=TEXT, output=TEXT, template_id=TEXT, task_name=TEXT, id_hash=st.integers(0, 2**64 - 1),
       prompt=st.sampled_from(prompt_names()))
def test_joined_line_is_orjson_of_the_record(instruction, output, template_id, task_name, id_hash, prompt) -> None:
    task = replace(load(sample_recipe_path()).tasks[0].config, name=task_name)
    runner = TaskRunner(task, seed=1)
    runner.prompt = get_prompt(prompt)
    template = Template(template_id, "x", "y")
    expected = orjson.dumps({"id": f"{task_name}-{id_hash:016x}", "task": task_name, "template": template_id,
                             "instruction": instruction, "output": output,
                             "text": runner.prompt(instruction, output)}, option=orjson.OPT_APPEND_NEWLINE)
    assert runner._line(id_hash, template, instruction, output) == expected


def test_records_made_in_c_have_every_field_of_record() -> None:
    """Records are made by tuple.__new__ from a tuple of all their fields (no defaults
    applied): a field added to Record without adding it there would leave records short."""
    from komt_data.sources import resolve_encoding, units_of
    from komt_data.spool.records import Record

    task = load(sample_recipe_path()).tasks[0].config
    runner = TaskRunner(task, seed=1)
    unit = next(iter(units_of(task.source)))
    records = [e for e in runner.run(unit, resolve_encoding(unit), limit=5) if type(e) is Record]
    assert records
    for record in records:
        assert len(record) == len(Record._fields)
        assert record.line.endswith(b"\n") and record.template and record.instruction_chars > 0

