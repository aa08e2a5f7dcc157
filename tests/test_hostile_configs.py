"""Hostile or mistaken configs: sandboxed templates, safe YAML, --overwrite and --output guards."""

from __future__ import annotations

from pathlib import Path

import pytest

from komt_data import TemplateError, build, validate

from .conftest import write

REVIEWS = '{"review": "배우들 연기가 정말 좋았다", "rating": "10"}\n{"review": "지루해서 졸았다", "rating": "1"}\n'


def nsmc_task(root: Path, templates: str = "classification", data: str = "reviews.jsonl") -> Path:
    if not (root / data).exists():
        write(root / data, REVIEWS)
    return write(root / "task.yaml", f"""name: nsmc
adapter: classification
source: {{files: {data}}}
fields: {{text: review, label: rating}}
labels: {{"1": 부정, "10": 긍정}}
templates: {templates}
""")


def hostile_set(root: Path, instruction: str) -> Path:
    path = root / "hostile.yaml"
    path.write_text(f"family: classification\ntemplates:\n  - id: classification/01\n"
                    f"    instruction: \"{instruction}\"\n    response: \"{{{{ label }}}}\"\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("instruction, name", [
    ("{{ ''.__class__.__mro__ }}", "__class__"),
    ("{{ text.__class__.__base__.__subclasses__() }}", "__class__"),
    ("{{ cycler.__init__.__globals__.os }}", "__init__"),
    ("{{ text['__class__'] }}", "__class__"),
    ("{{ text|attr('__class__') }}", "__class__"),
    ("{{ lipsum._private }}", "_private"),
])
def test_template_reaching_for_internals_is_refused_before_reading(tmp_path, cli, instruction, name):
    hostile_set(tmp_path, instruction)
    task = nsmc_task(tmp_path, templates="hostile.yaml")
    message = (f"komt-data: error: {tmp_path / 'hostile.yaml'}: template 'classification/01': reaches for "
               f"'{name}': templates may not use names starting with '_' (Python internals are off limits "
               "in the sandbox)\n")
    result = cli("build", str(task), "-o", str(tmp_path / "out"), "-q")
    assert (result.exit_code, result.stderr) == (1, message)
    assert not (tmp_path / "out").exists()
    assert cli("validate", str(task)).stderr == message


def test_sandbox_stops_what_the_static_check_cannot_see(tmp_path, cli):
    # The attribute name is built at run time: only the sandbox itself can refuse it.
    hostile_set(tmp_path, "{% set n = '_' ~ '_class__' %}{{ text|attr(n) }}")
    task = nsmc_task(tmp_path, templates="hostile.yaml")
    result = cli("build", str(task), "-o", str(tmp_path / "out"), "-q")
    assert (result.exit_code, result.stderr) == (1, (
        f"komt-data: error: {tmp_path / 'hostile.yaml'}: template 'classification/01': SecurityError: "
        "access to attribute '__class__' of 'str' object is unsafe.\n"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.yaml", "reviews.jsonl", "task.yaml"]


@pytest.mark.parametrize("instruction, problem", [
    ("{{ 'ㅋ' * 1000000000 }}", "SecurityError: repetition too large"),
    ("{{ 9 ** 999999 }}", "SecurityError: power 999999 is too large"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}ㅋ{% endfor %}{% endfor %}",
     "SecurityError: takes more than 100,000 steps (loop iterations and calls, all loops together)"),
    ("{% for i in range(1000) %}{{ 'ㅋ' * 1000 }}{% endfor %}ㅋ",
     "SecurityError: renders more than 1,000,000 characters"),
    ("{{ range(10000000)|list }}", "OverflowError: Range too big. The sandbox blocks ranges larger than "
                                    "MAX_RANGE (100000)."),
    ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
])
def test_templates_that_would_hang_or_blow_up_memory_fail_fast(tmp_path, instruction, problem):
    hostile_set(tmp_path, instruction)
    with pytest.raises(TemplateError) as caught:
        build(nsmc_task(tmp_path, templates="hostile.yaml"), tmp_path / "out")
    assert str(caught.value) == f"{tmp_path / 'hostile.yaml'}: template 'classification/01': {problem}"


def test_yaml_python_tags_are_not_executed(tmp_path, cli):
    marker = tmp_path / "pwned"
    config = write(tmp_path / "task.yaml", f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    result = cli("validate", str(config))
    assert result.exit_code == 1
    assert result.stderr == (f"komt-data: error: {config}:1: invalid YAML: could not determine a constructor "
                             "for the tag 'tag:yaml.org,2002:python/object/apply:os.system'\n")
    assert not marker.exists()


def test_overwrite_never_deletes_a_foreign_directory(tmp_path, cli):
    task = nsmc_task(tmp_path)
    out = write(tmp_path / "out" / "notes.txt", "내 메모: 지우지 마세요\n").parent
    write(out / "manifest.json", '{"name": "not ours"}\n')
    result = cli("build", str(task), "-o", str(out), "-q", "--overwrite")
    assert (result.exit_code, result.stderr) == (1, (
        f"komt-data: error: {out} is not empty and is not a komt-data output; choose another --output "
        "(komt-data never deletes foreign files)\n"))
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "reviews.jsonl", "task.yaml"]


def test_overwrite_replaces_our_own_output(tmp_path, cli):
    task = nsmc_task(tmp_path)
    out = tmp_path / "out"
    assert cli("build", str(task), "-o", str(out), "-q").exit_code == 0
    again = cli("build", str(task), "-o", str(out), "-q", "--seed", "7")  # a different build
    assert (again.exit_code, again.stderr) == (1, (
        f"komt-data: error: {out} already holds a build; pass --overwrite to replace it\n"))
    assert cli("build", str(task), "-o", str(out), "-q", "--seed", "7", "--overwrite").exit_code == 0


def test_output_inside_an_input_directory_is_refused(tmp_path, cli):
    task = nsmc_task(tmp_path, data="data/reviews.jsonl")
    data = tmp_path / "data"
    inside = cli("build", str(task), "-o", str(data / "out"), "-q")
    assert (inside.exit_code, inside.stderr) == (1, (
        f"komt-data: error: --output {data / 'out'} is inside {data}, which holds the inputs of task 'nsmc'; "
        "write the output outside the input directory\n"))
    same = cli("build", str(task), "-o", str(data), "-q")
    assert (same.exit_code, same.stderr) == (1, (
        f"komt-data: error: --output {data} would hold input file {data / 'reviews.jsonl'} of task 'nsmc'; "
        "write the output somewhere else\n"))
    assert sorted(p.name for p in data.iterdir()) == ["reviews.jsonl"]


def test_output_next_to_a_config_beside_its_data_is_allowed(tmp_path):
    # Data next to its config (the quick case) is not a data directory of its own.
    manifest = build(nsmc_task(tmp_path), tmp_path / "out")
    assert manifest["tasks"]["nsmc"]["written"] == 2


def test_validate_checks_templates_without_building(tmp_path):
    hostile_set(tmp_path, "{{ text.__class__ }}")
    with pytest.raises(TemplateError):
        validate(nsmc_task(tmp_path, templates="hostile.yaml"))


def test_output_inside_a_local_dataset_folder_is_refused(tmp_path, cli):
    # datasets reads a folder recursively: output there would be read back by the next build.
    write(tmp_path / "nsmc_local" / "train.jsonl", REVIEWS)
    task = write(tmp_path / "task.yaml", "name: nsmc\nadapter: classification\nsource: {hub: nsmc_local}\n"
                 "fields: {text: review, label: rating}\nlabels: {\"1\": 부정, \"10\": 긍정}\n")
    folder = tmp_path / "nsmc_local"
    result = cli("build", str(task), "-o", str(folder / "out"), "-q")
    assert (result.exit_code, result.stderr) == (1, (
        f"komt-data: error: --output {folder / 'out'} is inside {folder}, which holds the inputs of task 'nsmc'; "
        "write the output outside the input directory\n"))
