"""Template sets: many Korean phrasings per task family, as Jinja in a sandbox.

A template set is a YAML file with a ``family`` and a ``templates:`` list; each entry
has an ``id``, an ``instruction`` and a ``response`` (Jinja) and metadata. Rendering
uses Jinja's :class:`~jinja2.sandbox.SandboxedEnvironment` with ``StrictUndefined``:
a missing variable or an attempt to reach Python internals fails the build with a
:class:`TemplateError` naming the template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import jinja2.nodes
import jinja2.sandbox
import orjson

from .config.checks import check_keys, read_yaml
from .errors import ConfigError, TemplateError
from .josa import josa, particle, unknown_pairs
from .template_compiler import compile_template
from .template_sandbox import MAX_RENDER_CHARS, Sandbox, load_problem

__all__ = ["MAX_RENDER_CHARS", "Template", "TemplateSet", "check_variables", "environment", "load_template_set"]

TEMPLATE_KEYS = {"id", "instruction", "response", "original_task", "choices_in_prompt", "requires",
                 "response_style"}
SET_KEYS = {"family", "description", "templates"}
_ID = re.compile(r"^[a-z0-9_]+/[0-9a-z_]+$")


@cache
def environment() -> jinja2.sandbox.SandboxedEnvironment:
    """The one Jinja environment: sandboxed and bounded (komt_data.template_sandbox), strict
    about undefined names, no autoescape."""
    env = Sandbox(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(josa=josa, particle=particle)  # Korean particles: {{ title | josa("은/는") }}
    return env


@dataclass(frozen=True)
class Template:
    """One phrasing of a task: instruction and response templates plus metadata."""

    id: str
    instruction_source: str
    response_source: str
    original_task: bool = True
    choices_in_prompt: bool = False
    requires: Mapping[str, Any] = field(default_factory=dict)
    response_style: str = "answer"
    file: str = ""

    # Computed once per template, not per record (cached_property writes the instance's
    # __dict__ directly, which a frozen dataclass allows).
    @cached_property
    def id_json(self) -> bytes:
        """The id as a JSON string, as it is written in each record."""
        return orjson.dumps(self.id)

    @cached_property
    def id_bytes(self) -> bytes:
        """The id as UTF-8, as it goes into a record's id hash."""
        return self.id.encode()

    @property
    def variables(self) -> set[str]:
        """The names the template reads from an example."""
        env = environment()
        names: set[str] = set()
        for source in (self.instruction_source, self.response_source):
            names |= jinja2.meta.find_undeclared_variables(env.parse(source))
        return names

    def applies_to(self, example: Mapping[str, Any]) -> bool:
        """Whether the template fits this example (e.g. inverted QA needs an answerable question)."""
        return all(example.get(key) == value for key, value in self.requires.items())

    def __getstate__(self) -> dict[str, Any]:
        # The fast renderers are generated code (not picklable): a copy makes its own.
        return {k: v for k, v in self.__dict__.items() if k != "_fast"}

    @cached_property
    def _fast(self) -> tuple[Callable[[Mapping[str, Any]], str | None], ...] | None:
        # Plain-Python renderers of the two halves, when both are simple enough (nearly all).
        instruction, response = _fast_renderer(self.instruction_source), _fast_renderer(self.response_source)
        return None if instruction is None or response is None else (instruction, response)

    def render(self, example: Mapping[str, Any]) -> tuple[str, str]:
        """Render ``(instruction, response)`` for one example.

        Any failure (undefined name, sandbox violation, ``1/0``, output over
        :data:`MAX_RENDER_CHARS`) is a :class:`TemplateError` naming the template.
        """
        try:
            fast = self._fast
            if fast is not None:
                instruction, response = fast[0](example), fast[1](example)
                if instruction is not None and response is not None:
                    if len(instruction) > MAX_RENDER_CHARS or len(response) > MAX_RENDER_CHARS:
                        raise jinja2.sandbox.SecurityError(f"renders more than {MAX_RENDER_CHARS:,} characters")
                    return instruction.strip(), response.strip()
            # Jinja, the reference: for templates outside the fast subset, and for the exact
            # error when a fast renderer gave up on an example (a name it lacks, say).
            rendered = None
            both = _compiled_pair(self.instruction_source, self.response_source)
            if both is not None:
                rendered = _bounded(both, example, 2 * MAX_RENDER_CHARS + len(_SEPARATOR))
            if rendered is not None:
                parts = rendered.split(_SEPARATOR)
                if len(parts) == 2:
                    if max(len(parts[0]), len(parts[1])) > MAX_RENDER_CHARS:  # the limit of each half alone
                        raise jinja2.sandbox.SecurityError(f"renders more than {MAX_RENDER_CHARS:,} characters")
                    return parts[0].strip(), parts[1].strip()
            instruction, response = _compiled(self.instruction_source, self.response_source)
            return _bounded(instruction, example).strip(), _bounded(response, example).strip()
        except TemplateError:
            raise
        except Exception as exc:  # whatever a template expression raises is the template's fault
            message = str(exc).splitlines()[0] if str(exc) else ""
            raise TemplateError(f"{type(exc).__name__}: {message}", template=self.id, file=self.file) from None


def _bounded(template: jinja2.Template, example: Mapping[str, Any], limit: int = MAX_RENDER_CHARS) -> str:
    # What Template.render does, less its traceback rewriting, counting as it goes.
    parts: list[str] = []
    size = 0
    for part in template.root_render_func(template.new_context(dict(example))):
        size += len(part)
        if size > limit:
            raise jinja2.sandbox.SecurityError(f"renders more than {MAX_RENDER_CHARS:,} characters")
        parts.append(part)
    return "".join(parts)


def _private_names(source: str) -> list[str]:
    """Attribute or key names starting with ``_`` that a template reaches for (``x.__class__``,
    ``x['__class__']``, ``x|attr('_y')``): no template needs Python internals."""
    found = []
    for node in environment().parse(source).find_all((jinja2.nodes.Getattr, jinja2.nodes.Getitem,
                                                      jinja2.nodes.Filter)):
        if isinstance(node, jinja2.nodes.Getattr):
            names = [node.attr]
        elif isinstance(node, jinja2.nodes.Getitem):
            names = [node.arg.value] if isinstance(node.arg, jinja2.nodes.Const) else []
        else:
            names = [a.value for a in node.args if node.name == "attr" and isinstance(a, jinja2.nodes.Const)]
        found += [n for n in names if isinstance(n, str) and n.startswith("_")]
    return sorted(found, key=source.find)  # in reading order: x.__class__ before its .__mro__


def _from_string(source: str) -> jinja2.Template:
    template = environment().from_string(source)
    # Jinja keeps a template's globals as a ChainMap over the environment's, and copies
    # them into a new context on every render by iterating in Python; a plain dict copies
    # in C. The environment's globals never change after it is made, so this is the same.
    template.globals = dict(template.globals)
    return template


@cache
def _compiled(instruction: str, response: str) -> tuple[jinja2.Template, jinja2.Template]:
    return _from_string(instruction), _from_string(response)


# Rendering instruction and response as one template halves Jinja's per-render cost (a
# new context each time). The separator cannot come out of cleaned example text (no
# control characters survive cleaning) and ends in a newline so that the response starts
# a line, as it does on its own (lstrip_blocks); both halves are stripped afterwards.
_SEPARATOR = "\x00\x1e\x00\n"
# Statements that bind names in the instruction would reach the response when rendered
# as one template; such templates render their halves separately.
_BINDING = (jinja2.nodes.Assign, jinja2.nodes.AssignBlock, jinja2.nodes.Macro, jinja2.nodes.Import,
            jinja2.nodes.FromImport, jinja2.nodes.Extends, jinja2.nodes.Block)


@cache
def _compiled_pair(instruction: str, response: str) -> jinja2.Template | None:
    env = environment()
    if _SEPARATOR in instruction or _SEPARATOR in response:
        return None
    if any(True for _ in env.parse(instruction).find_all(_BINDING)):
        return None
    return _from_string(instruction + _SEPARATOR + response)


@cache
def _fast_renderer(source: str) -> Callable[[Mapping[str, Any]], str | None] | None:
    """Plain-Python rendering of one half of a template, when it is simple enough."""
    return compile_template(environment().parse(source))


@dataclass(frozen=True)
class TemplateSet:
    """The templates of one family, in file order."""

    family: str
    templates: tuple[Template, ...]
    path: Path
    description: str = ""

    def __len__(self) -> int:
        return len(self.templates)


def _parse_template(entry: Any, index: int, path: Path) -> Template:
    key = f"templates[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError("must be a mapping with id, instruction and response", file=str(path), key=key)
    check_keys(entry, TEMPLATE_KEYS, file=path, prefix=f"{key}.")
    for required in ("id", "instruction", "response"):
        if not isinstance(entry.get(required), str) or not entry[required].strip():
            raise ConfigError("is required and must be text", file=str(path), key=f"{key}.{required}")
    template_id = entry["id"]
    if not _ID.match(template_id):
        raise ConfigError(f"'{template_id}' must look like 'family/01'", file=str(path), key=f"{key}.id")
    requires = entry.get("requires") or {}
    if not isinstance(requires, dict):
        raise ConfigError("must be a mapping of field: value", file=str(path), key=f"{key}.requires")
    for flag in ("original_task", "choices_in_prompt"):
        if flag in entry and not isinstance(entry[flag], bool):
            raise ConfigError("must be true or false", file=str(path), key=f"{key}.{flag}")
    template = Template(
        id=template_id,
        instruction_source=entry["instruction"],
        response_source=entry["response"],
        original_task=entry.get("original_task", True),
        choices_in_prompt=entry.get("choices_in_prompt", False),
        requires=requires,
        response_style=str(entry.get("response_style", "answer")),
        file=str(path),
    )
    try:
        # Checked before compiling: a removed filter (random) would otherwise only be "no filter named".
        private = _private_names(template.instruction_source) + _private_names(template.response_source)
        if private:
            raise TemplateError(f"reaches for '{private[0]}': templates may not use names starting with '_' "
                                "(Python internals are off limits in the sandbox)", template=template_id,
                                file=str(path))
        for source in (template.instruction_source, template.response_source):
            problem = load_problem(environment().parse(source))
            if problem is not None:
                raise TemplateError(problem, template=template_id, file=str(path))
        _compiled(template.instruction_source, template.response_source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"syntax error on line {exc.lineno}: {exc.message}", template=template_id,
                            file=str(path)) from None
    pairs = unknown_pairs(environment().parse(template.instruction_source)) + \
        unknown_pairs(environment().parse(template.response_source))
    if pairs:
        raise TemplateError(f"josa/particle needs one particle pair such as \"을/를\" or \"으로/로\", got "
                            f"{pairs[0]}", template=template_id, file=str(path))
    return template


def load_template_set(path: Path) -> TemplateSet:
    """Read, validate and compile a template set file (cached per path while the file is unchanged)."""
    try:
        stat = path.stat()
    except OSError:
        return _load_template_set(path, None)  # read_yaml says what is wrong
    # Keyed by the file's time and size too: a set edited between two builds in one process
    # must not render with the old templates while the fingerprint hashes the new file.
    return _load_template_set(path, (stat.st_mtime_ns, stat.st_size))


@cache
def _load_template_set(path: Path, version: tuple[int, int] | None) -> TemplateSet:
    data = read_yaml(path)
    check_keys(data, SET_KEYS, file=path)
    family = data.get("family")
    if not isinstance(family, str) or not family:
        raise ConfigError("is required", file=str(path), key="family")
    entries = data.get("templates")
    if not isinstance(entries, list) or not entries:
        raise ConfigError("must be a non-empty list", file=str(path), key="templates")
    templates = tuple(_parse_template(entry, i, path) for i, entry in enumerate(entries))
    seen: dict[str, int] = {}
    for i, template in enumerate(templates):
        if template.id in seen:
            raise ConfigError(f"id '{template.id}' is used twice (templates[{seen[template.id]}] and [{i}])",
                              file=str(path), key=f"templates[{i}].id")
        seen[template.id] = i
    return TemplateSet(family=family, templates=templates, path=path, description=str(data.get("description", "")))


def check_variables(template_set: TemplateSet, available: Sequence[str]) -> None:
    """Raise a TemplateError for the first template that reads a name the family lacks."""
    allowed = set(available)
    for template in template_set.templates:
        unknown = sorted(template.variables - allowed)
        if unknown:
            raise TemplateError(
                f"uses {', '.join(unknown)}, which {template_set.family} examples do not have "
                f"(they have: {', '.join(sorted(allowed))})",
                template=template.id,
                file=str(template_set.path),
            )
