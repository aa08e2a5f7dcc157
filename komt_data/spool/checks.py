"""report.html's per-record checks that run in stage 1, on each record's JSON line where it
is at hand (:class:`LineChecks`), and what a task's templates put in the response (:class:`Roles`).
The rest of the checks, and the report itself, are :mod:`komt_data.write.audit`'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..text import squeeze

# Responses that name the label, with literal text around it at most: "{{ label }}",
# "이 글은 {{ label }}에 해당합니다.". STS scores and yes/no answers count as labels too, and
# so do the closed answers of the benchmark families: 예 / 아니요 (boolean_qa), 같은 뜻 /
# 다른 뜻 (word_sense), the number of the right choice (continuation, cause_effect: "2번"). They
# are expected to repeat (not an identical_output finding) and have a distribution (dominant_label).
_LABEL_RESPONSE = r"^([^{}]*)\{\{-?\s*(%s)\s*-?\}\}([^{}]*)$"
_LABELS = re.compile(_LABEL_RESPONSE % "label|score|similar")
_FAMILY_LABELS = {family: re.compile(_LABEL_RESPONSE % fields) for family, fields in {
    "boolean_qa": "answer", "word_sense": "answer|sense", "continuation": "answer_number",
    "cause_effect": "answer_number"}.items()}
_ANSWER_RESPONSE = re.compile(r"^\s*\{\{-?\s*answer\s*-?\}\}\s*$")
# Two list items glued to the text before them on one line ("보기:- 부정- 긍정"): a list whose
# line breaks were lost (a Jinja `{%-` too many, or a source flattened).
_COLLAPSED = re.compile(r"[^\s-]- \S[^\n]*?[^\s-]- \S")
_UNANSWERABLE = "주어진 지문에서는 이 질문의 답을 찾을 수 없습니다."  # komt_data.adapters.qa.UNANSWERABLE


@dataclass(frozen=True)
class Roles:
    """What a task's templates put in the response: the label (with the literal text around
    it), an extractive answer, or something else."""

    labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    answers: frozenset[str] = frozenset()
    unanswerable: str = _UNANSWERABLE

    def as_dict(self) -> dict[str, Any]:
        """As manifest.json keeps it per task: ``audit`` reads it back, whatever the folder the
        template set was in (manifest labels are relative to the task config, not findable)."""
        return {"labels": {t: list(around) for t, around in sorted(self.labels.items())},
                "answers": sorted(self.answers), "unanswerable": self.unanswerable}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Roles:
        """The roles :meth:`as_dict` wrote."""
        return cls({t: (a, b) for t, (a, b) in data.get("labels", {}).items()}, frozenset(data.get("answers", [])),
                   str(data.get("unanswerable", _UNANSWERABLE)))

    def label_of(self, template: str, output: str) -> str | None:
        """The label a record of ``template`` answers, or None when the template gives no label."""
        around = self.labels.get(template)
        if around is None:
            return None
        prefix, suffix = around
        if output.startswith(prefix) and output.endswith(suffix) and len(output) >= len(prefix) + len(suffix):
            return output[len(prefix):len(output) - len(suffix)]
        return output


def roles_of(template_set: Any, family: str, options: Mapping[str, Any] | None = None) -> Roles:
    """The :class:`Roles` of a template set (a :class:`komt_data.templates.TemplateSet`)."""
    labels, answers = {}, set()
    for template in template_set.templates:
        source = template.response_source.strip()
        match = _FAMILY_LABELS.get(family, _LABELS).match(source)
        if match:
            labels[template.id] = (match.group(1), match.group(3))
        elif family == "qa" and _ANSWER_RESPONSE.match(source):
            answers.add(template.id)
    unanswerable = str((options or {}).get("unanswerable_text", _UNANSWERABLE))
    return Roles(labels, frozenset(answers), unanswerable)


def _excerpt(value: str, start: int, end: int, width: int = 40) -> str:
    left, right = max(0, start - width), min(len(value), end + width)
    return ("…" if left else "") + value[left:right] + ("…" if right < len(value) else "")


class LineChecks:
    """The per-record checks, on a record's JSON line. Most lines are cleared by two one-byte
    searches from where the instruction starts (no ``{``, no ``-``: memchr, about 0.3 µs a
    record, where searching ``- `` took 1.2 µs and counting bytes 0.6 µs) and a set look-up
    (not an extractive-answer template); the rest are parsed and inspected. Blank fields are
    not looked for here: a rendering is stripped, and an empty one is dropped in stage 1 as
    ``empty_render``."""

    def __init__(self, roles: Roles):
        self.roles = roles
        self._answers = roles.answers
        self._starts: dict[str, int] = {}  # per template: where the instruction starts in its lines

    def __call__(self, line: bytes, template: str) -> list[tuple[str, str]] | None:
        """The problems of one record line as (check, detail) pairs, or None."""
        start = self._starts.get(template)
        if start is None:  # the id, task and template before it have the same length in every line
            start = self._starts[template] = max(1, line.find(b',"instruction":"'))
        if line.find(b"{", start) >= 0 or line.find(b"-", start) >= 0 or template in self._answers:
            return self.inspect(orjson.loads(line)) or None
        return None

    def inspect(self, record: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The problems of one record (a dict with instruction, output and template)."""
        found = []
        for name in ("instruction", "output"):
            value = record[name]
            if not value.strip():
                found.append(("blank_field", f"{name} is {'empty' if not value else 'only whitespace'}"))
                continue
            markup = min((i for i in (value.find("{{"), value.find("{%")) if i >= 0), default=-1)
            if markup >= 0:
                found.append(("template_markup", f"{name}: {_excerpt(value, markup, markup + 2)}"))
            match = _COLLAPSED.search(value)
            if match:
                found.append(("collapsed_list", f"{name}: {_excerpt(value, match.start(), match.end(), 20)}"))
        if record["template"] in self._answers:
            answer = record["output"]
            if answer != self.roles.unanswerable and answer not in record["instruction"] \
                    and squeeze(answer) not in squeeze(record["instruction"]):
                found.append(("answer_not_in_passage", f"answer {answer[:80]!r} is not in the instruction's passage"))
        return found


def stage_one_checks(runner: Any) -> LineChecks:
    """The :class:`LineChecks` of a task runner (its template set, family and options)."""
    return LineChecks(roles_of(runner.template_set, runner.family, runner.task.options))
