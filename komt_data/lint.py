"""Checks that a rendered record reads as its template was written.

Example text is cleaned before it is rendered (no runs of spaces, no spaces at the ends of
a line, at most one blank line in a row), so any of these in a rendered record comes from
the template: a list collapsed onto one line by whitespace control (``보기:- 함의- 중립``),
template markup left over (``{{``, ``{%``), two spaces or a space at a line's end where an
optional part was left out, blank lines piling up around an empty optional field, empty
brackets or quotes around an empty field.

:func:`check_rendered` checks one rendered text; :func:`check_template_source` checks a
template's source for a placeholder written straight before a particle whose form depends
on the word (``{{ title }}은``: wrong after 부산), which the ``josa`` filter gets right, and
for a line of text ending in a block tag (``...입니다.{% endif %}``), whose line break
Jinja's ``trim_blocks`` removes.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Problem(NamedTuple):
    """One finding: the check's name (a snake_case word) and the text around it."""

    check: str
    excerpt: str


_RENDERED_CHECKS = (
    # "보기:- 함의": a list item glued to the line that introduces it.
    ("collapsed_list", re.compile(r"[:：]- \S")),
    # "- 함의- 중립": two items on one line (at its start or after a colon).
    ("collapsed_list", re.compile(r"(?m)(?:^|[:：])[ \t]*- [^\n]*?[^\s-]- \S")),
    ("template_markup", re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")),
    ("doubled_space", re.compile(r"\S {2,}\S")),
    ("space_at_line_end", re.compile(r"(?m)[ \t]+$")),
    ("space_at_line_start", re.compile(r"(?m)^[ \t]+\S")),
    ("blank_lines", re.compile(r"\n[ \t]*\n[ \t]*\n")),
    # An empty pair where a field was left out ("참고 자료 ():", "다음은 ''에 관한"): after a
    # space or at a line's start, so that a quote that closes a quote (..."왔어요."") is not one.
    ("empty_brackets", re.compile(r"(?<!\S)(?:\[\]|\(\)|「」|『』|''|\"\"|“”|‘’|《》|〈〉)")),
)

# A particle whose form depends on the word before it, written straight after a placeholder
# (perhaps after a closing quote or bracket: '{{ title }}'을). 이 only as the subject particle
# or the start of 이에요/이나/이랑/이라/이야/이여: {{ x }}이다, {{ x }}인, {{ x }}입니다 read well
# after any word, as do 에, 의, 도, 만, 에서.
_BARE_PARTICLE = re.compile(
    r"\{\{(?P<expression>(?:(?!\}\}).)*)\}\}(?P<closer>['\"’”)\]」』》〉]*)"
    r"(?P<particle>은|는|을|를|가|와|과|으로|로|예요|랑|야|아|나|이(?:에요|나|랑|라|야|여|(?![가-힣])))",
    re.S)


_TAG = re.compile(r"\{%.*?%\}")


def check_rendered(text: str) -> list[Problem]:
    """The problems of one rendered text (an instruction, an output or a whole prompt)."""
    problems = []
    for name, pattern in _RENDERED_CHECKS:
        for match in pattern.finditer(text):
            problems.append(Problem(name, _excerpt(text, match.start(), match.end())))
    return problems


def check_template_source(source: str) -> list[Problem]:
    """Problems of a template's source: a placeholder directly followed by a particle
    without the ``josa`` filter (``bare_particle``), and a line of text ending in a block
    tag whose newline Jinja's trim_blocks removes (``eaten_newline``)."""
    problems = _eaten_newlines(source)
    for match in _BARE_PARTICLE.finditer(source):
        if "josa" in match.group("expression") or "particle" in match.group("expression"):
            continue
        problems.append(Problem("bare_particle", _excerpt(source, match.start(), match.end())))
    return problems


def _eaten_newlines(source: str) -> list[Problem]:
    # trim_blocks drops the newline after a block tag. After a tag alone on its line that is
    # what the author wants (the line disappears); after a line of text ending in a tag it
    # joins that text to the next line, a line break the author wrote and never sees.
    problems = []
    lines = source.split("\n")
    for line in lines[:-1]:
        if line.rstrip().endswith("%}") and not line.rstrip().endswith("+%}") and _TAG.sub("", line).strip():
            problems.append(Problem("eaten_newline", line.strip()[-40:] + "\\n"))
    return problems


def _excerpt(text: str, start: int, end: int, around: int = 15) -> str:
    return text[max(0, start - around):end + around]
