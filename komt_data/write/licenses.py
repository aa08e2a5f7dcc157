"""Licence lineage: what each task's source allows, and warnings on restrictive terms.

Every task config declares its source's licence in ``license:``. A build lists them
in the manifest and the dataset card, and warns when a term forbids derivatives
(``ND``: KorQuAD 1.0 is CC BY-ND 2.0 KR), commercial use (``NC``) or redistribution
(AIHub data may only be used by its applicants and not passed on), or when no licence
is declared at all. Warnings are data: the CLI prints them, the library returns them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Licence-id words, matched as whole tokens so that "BY-NC-SA" and "CC-BY-ND-4.0" both count.
_ND = re.compile(r"(?i)(?:^|[\s\-_/(])ND(?:$|[\s\-_/).,])|no[\s-]?deriv")
_NC = re.compile(r"(?i)(?:^|[\s\-_/(])NC(?:$|[\s\-_/).,])|non[\s-]?commercial|비영리")
_NO_REDISTRIBUTION = re.compile(r"(?i)aihub|ai[\s-]?hub|no[\s-]?redistribut|not be redistribut|재배포\s*(금지|불가)")
_UNKNOWN = re.compile(r"(?i)^\s*(unknown|unspecified|none|n/?a|\?)\b")
_CC = re.compile(r"(?i)\bCC[\s-]?(BY(?:[\s-](?:NC|ND|SA))*)[\s-]?(\d\.\d)\b")
_HUB_IDS = {"apache-2.0", "mit", "cc0-1.0", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nd-4.0",
            "cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0", "cc-by-3.0", "cc-by-sa-3.0", "cc-by-2.0", "cc-by-nd-2.0",
            "cc-by-sa-2.0", "cc-by-nc-2.0"}

RESTRICTIONS = {
    "no-derivatives": "forbids derivatives: sharing instruction data made from it may breach the licence",
    "non-commercial": "is non-commercial: a model or dataset built from it cannot be used commercially",
    "no-redistribution": "may not be redistributed: do not publish this output",
    "undeclared": "names no licence: check the source's terms before you share the output",
}


def restrictions(license_text: str | None) -> list[str]:
    """The restrictive terms a licence string carries (keys of :data:`RESTRICTIONS`)."""
    if not license_text or _UNKNOWN.match(license_text):
        return ["undeclared"]
    found = []
    if _ND.search(license_text):
        found.append("no-derivatives")
    if _NC.search(license_text):
        found.append("non-commercial")
    if _NO_REDISTRIBUTION.search(license_text):
        found.append("no-redistribution")
    return found


def hub_license_id(license_text: str | None) -> str:
    """The Hugging Face hub licence id for a licence string, or ``other``."""
    if not license_text:
        return "unknown"
    lowered = license_text.strip().lower()
    for hub_id in sorted(_HUB_IDS, key=len, reverse=True):
        if lowered.startswith(hub_id) or lowered.startswith(hub_id.replace("-", " ")):
            return hub_id
    match = _CC.search(license_text)
    if match and not re.search(r"(?i)\d\.\d\s*(KR|kr)\b", license_text):  # ported licences have no hub id
        terms = re.sub(r"[\s-]+", "-", match.group(1).lower())
        candidate = f"cc-{terms}-{match.group(2)}"
        if candidate in _HUB_IDS:
            return candidate
    if _UNKNOWN.match(license_text):
        return "unknown"
    return "other"


def lineage(tasks: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per task: its licence as declared, the hub id, and its restrictive terms."""
    rows = []
    for name, task in tasks.items():
        text = task.get("license")
        rows.append({"task": name, "license": text, "hub_id": hub_license_id(text),
                     "restrictions": restrictions(text), "written": task.get("written", 0)})
    return rows


def warnings_for(tasks: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per restrictive term of a task that contributes records to the output."""
    out = []
    for row in lineage(tasks):
        for term in row["restrictions"]:
            if row["license"]:
                out.append(f"task {row['task']}: licence ({row['license']}) {RESTRICTIONS[term]}")
            else:
                out.append(f"task {row['task']}: declares no licence (license: in its task config): "
                           "check its source's terms before you share the output")
    return out


def combined_hub_license(tasks: Mapping[str, Mapping[str, Any]]) -> str:
    """The card's ``license:``: the one hub id all tasks share, else ``other``."""
    ids = {row["hub_id"] for row in lineage(tasks)}
    return ids.pop() if len(ids) == 1 else "other"
