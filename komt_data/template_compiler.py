"""Plain-Python renderers for the simple templates that make up nearly all template sets.

Jinja spends a few microseconds per render on setting up a context, more than the text
itself costs. Templates built only from literal text, ``{{ name }}``,
``{{ name | join("sep") }}``, ``{{ name | josa("을/를") }}`` (and ``particle``),
``{% if name %}`` (with ``elif``/``else``) and ``{% for x in name %}`` (without ``loop``)
are compiled here, from Jinja's own parse tree
(so whitespace control and trim_blocks are already applied), into a Python function that
gives the same string. Anything else, and any name an example lacks, goes to Jinja,
which stays the reference: the fast function returns None and the caller renders there.

The sandbox's rules hold here too (komt_data.template_sandbox): a value that is not text or
a number makes the fast function give up, so Jinja raises the error; loops do not nest
(nested loops are Jinja's) and a loop that goes past MAX_RENDER_STEPS turns or
MAX_RENDER_CHARS characters gives up as soon as it has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import nodes

from .josa import josa, parse_pair, particle
from .template_sandbox import MAX_RENDER_CHARS, MAX_RENDER_STEPS, text_of


class _Unsupported(Exception):
    pass


def compile_template(template: nodes.Template) -> Callable[[Mapping[str, Any]], str | None] | None:
    """A fast renderer for a parsed template, or None when it uses anything outside the subset."""
    lines: list[str] = []
    try:
        _body(template.body, lines, 1, {})
    except _Unsupported:
        return None
    source = "def render(v):\n try:\n  p = []\n  a = p.append\n  n = k = 0\n" + "\n".join(lines) + (
        "\n  return ''.join(p)\n except Exception:\n  return None\n")
    namespace: dict[str, Any] = {"t": text_of, "j": _join, "LIMIT": MAX_RENDER_CHARS, "STEPS": MAX_RENDER_STEPS,
                                 "_josa": josa, "_particle": particle}  # the very functions Jinja calls
    exec(compile(source, "<komt-data template>", "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace["render"]


def _join(separator: str, items: Any) -> str:
    if items.__class__ is list:
        try:
            return separator.join(items)  # items of text (nearly always): no call per item
        except TypeError:  # a number, or something the sandbox refuses to print
            pass
    return separator.join(map(text_of, items))


def _expr(node: nodes.Node, scope: dict[str, str]) -> str:
    if isinstance(node, nodes.Name) and node.ctx == "load":
        if node.name == "loop":
            raise _Unsupported
        return scope.get(node.name) or f"v[{node.name!r}]"
    if (isinstance(node, nodes.Filter) and node.name == "join" and node.node is not None and len(node.args) == 1
            and isinstance(node.args[0], nodes.Const) and isinstance(node.args[0].value, str)
            and not node.kwargs and node.dyn_args is None and node.dyn_kwargs is None):
        # jinja's join without autoescape: str(d).join(map(str, value)), its items printable
        return f"j({node.args[0].value!r}, {_expr(node.node, scope)})"
    if (isinstance(node, nodes.Filter) and node.name in ("josa", "particle") and node.node is not None
            and len(node.args) == 1 and isinstance(node.args[0], nodes.Const) and _is_pair(node.args[0].value)
            and not node.kwargs and node.dyn_args is None and node.dyn_kwargs is None):
        return f"_{node.name}({_expr(node.node, scope)}, {node.args[0].value!r})"
    raise _Unsupported


def _is_pair(value: Any) -> bool:
    # A pair that is not one is left to Jinja, whose error names the template.
    if not isinstance(value, str):
        return False
    try:
        parse_pair(value)
    except ValueError:
        return False
    return True


def _body(body: list[nodes.Node], lines: list[str], depth: int, scope: dict[str, str],
          in_loop: bool = False) -> None:
    pad = " " * (depth + 1)
    if not body:
        lines.append(pad + "pass")
    for node in body:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    piece = repr(child.data)
                else:
                    # text_of(x), without a call for text (nearly every value)
                    piece = f"(e if (e := {_expr(child, scope)}).__class__ is str else t(e))"
                if in_loop:  # a loop's output grows with its data: counted as it goes
                    lines.append(pad + f"s = {piece}")
                    lines.append(pad + "n += len(s)")
                    lines.append(pad + "a(s)")
                else:
                    lines.append(pad + f"a({piece})")
        elif isinstance(node, nodes.If):
            lines.append(pad + f"if {_expr(node.test, scope)}:")
            _body(node.body, lines, depth + 1, scope, in_loop)
            for branch in node.elif_:
                lines.append(pad + f"elif {_expr(branch.test, scope)}:")
                _body(branch.body, lines, depth + 1, scope, in_loop)
            if node.else_:
                lines.append(pad + "else:")
                _body(node.else_, lines, depth + 1, scope, in_loop)
        elif isinstance(node, nodes.For):
            if (in_loop or node.else_ or node.test is not None or node.recursive
                    or not isinstance(node.target, nodes.Name) or not isinstance(node.iter, nodes.Name)):
                raise _Unsupported
            local = f"l{len(scope)}_{depth}"
            lines.append(pad + f"for {local} in {_expr(node.iter, scope)}:")
            _body(node.body, lines, depth + 1, {**scope, node.target.name: local}, True)
            lines.append(pad + " k += 1")  # Jinja's step budget and output bound: Jinja then
            lines.append(pad + " if n > LIMIT or k > STEPS:")  # stops it with the error
            lines.append(pad + "  return None")
        else:
            raise _Unsupported
