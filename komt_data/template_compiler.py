"""Plain-Python renderers for the simple templates that make up nearly all template sets.

Jinja spends a few microseconds per render on setting up a context, more than the text
itself costs. Templates built only from literal text, ``{{ name }}``,
``{{ name | join("sep") }}``, ``{{ name | josa("을/를") }}`` (and ``particle``),
``{% if name %}`` (with ``elif``/``else``) and ``{% for x in name %}`` (without ``loop``)
are compiled here, from Jinja's own parse tree
(so whitespace control and trim_blocks are already applied), into a Python function that
gives the same string. Anything else, and any name an example lacks, goes to Jinja,
which stays the reference: the fast function returns None and the caller renders there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import nodes

from .josa import josa, parse_pair, particle


class _Unsupported(Exception):
    pass


def compile_template(template: nodes.Template) -> Callable[[Mapping[str, Any]], str | None] | None:
    """A fast renderer for a parsed template, or None when it uses anything outside the subset."""
    lines: list[str] = []
    try:
        _body(template.body, lines, 1, {})
    except _Unsupported:
        return None
    source = "def render(v):\n try:\n  p = []\n  a = p.append\n" + "\n".join(lines) + (
        "\n  return ''.join(p)\n except Exception:\n  return None\n")
    namespace: dict[str, Any] = {"_josa": josa, "_particle": particle}  # the very functions Jinja calls
    exec(compile(source, "<komt-data template>", "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace["render"]


def _expr(node: nodes.Node, scope: dict[str, str]) -> str:
    if isinstance(node, nodes.Name) and node.ctx == "load":
        if node.name == "loop":
            raise _Unsupported
        return scope.get(node.name) or f"v[{node.name!r}]"
    if (isinstance(node, nodes.Filter) and node.name == "join" and node.node is not None and len(node.args) == 1
            and isinstance(node.args[0], nodes.Const) and isinstance(node.args[0].value, str)
            and not node.kwargs and node.dyn_args is None and node.dyn_kwargs is None):
        # jinja's join without autoescape: str(d).join(map(str, value))
        return f"{node.args[0].value!r}.join(map(str, {_expr(node.node, scope)}))"
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


def _body(body: list[nodes.Node], lines: list[str], depth: int, scope: dict[str, str]) -> None:
    pad = " " * (depth + 1)
    if not body:
        lines.append(pad + "pass")
    for node in body:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    lines.append(pad + f"a({child.data!r})")
                else:
                    lines.append(pad + f"a(str({_expr(child, scope)}))")
        elif isinstance(node, nodes.If):
            lines.append(pad + f"if {_expr(node.test, scope)}:")
            _body(node.body, lines, depth + 1, scope)
            for branch in node.elif_:
                lines.append(pad + f"elif {_expr(branch.test, scope)}:")
                _body(branch.body, lines, depth + 1, scope)
            if node.else_:
                lines.append(pad + "else:")
                _body(node.else_, lines, depth + 1, scope)
        elif isinstance(node, nodes.For):
            if (node.else_ or node.test is not None or node.recursive or not isinstance(node.target, nodes.Name)
                    or not isinstance(node.iter, nodes.Name)):
                raise _Unsupported
            local = f"l{len(scope)}_{depth}"
            lines.append(pad + f"for {local} in {_expr(node.iter, scope)}:")
            _body(node.body, lines, depth + 1, {**scope, node.target.name: local})
        else:
            raise _Unsupported
