"""Named entities: KLUE-NER (rows from the ``klue-ner`` reader)."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from .base import Adapter, Skip, text
from .registry import register_adapter

#: KLUE's six entity types as Korean words.
KLUE_TYPES = {"PS": "인물", "LC": "장소", "OG": "기관", "DT": "날짜", "TI": "시간", "QT": "수량"}


@register_adapter("ner")
class NERAdapter(Adapter):
    """A sentence and its named entities, each as ``text (type)`` with a Korean type name.

    ``entities`` (a list of ``{"text", "type"}``, as the ``klue-ner`` reader gives) is mapped
    through ``labels:`` (default: KLUE's PS 인물, LC 장소, OG 기관, DT 날짜, TI 시간, QT 수량);
    a type outside the map skips the row as ``unknown_label``. Examples carry
    ``entities`` (``경찰 (기관)``, each distinct one once, in sentence order), ``marked``
    (the sentence with ``<경찰:기관>`` marks), and for the one-type templates a
    ``target_type`` present in the sentence with its ``target_entities``, picked from the
    sentence's content (the same sentence always asks for the same type).
    """

    family = "ner"
    fields = ("sentence", "entities")
    text_fields = ("sentence",)
    dedup_fields = ("sentence", "marked")
    example_fields = ("sentence", "entities", "marked", "has_entities", "target_type", "target_entities",
                      "types")
    near_dedup_fields = ("sentence", "marked")
    default_labels = KLUE_TYPES

    def adapt(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        sentence = text(row, "sentence")
        raw = row.get("entities")
        if not isinstance(raw, list):
            raise Skip("missing_field" if raw is None else "wrong_type", "field 'entities' should be a list")
        spans = []
        for entity in raw:
            if not isinstance(entity, Mapping) or not isinstance(entity.get("text"), str):
                raise Skip("wrong_type", f"entity {entity!r:.60} should be {{text, type}}")
            kind = str(entity.get("type"))
            if kind not in self.labels:
                raise Skip("unknown_label", f"entity type {kind!r} is not in the labels map ({self._label_list})")
            spans.append((entity["text"].strip(), self.labels[kind], entity.get("start"), entity.get("end")))
        spans = [span for span in spans if span[0]]
        entities = list(dict.fromkeys(f"{name} ({kind})" for name, kind, _, _ in spans))
        types = list(dict.fromkeys(kind for _, kind, _, _ in spans))
        target = types[zlib.crc32(sentence.encode()) % len(types)] if types else ""
        return [{
            "sentence": sentence,
            "entities": entities,
            "marked": _marked(sentence, spans),
            "has_entities": bool(entities),
            "target_type": target,
            "target_entities": list(dict.fromkeys(name for name, kind, _, _ in spans if kind == target)),
            "types": types,
        }]


def _marked(sentence: str, spans: list[tuple[str, str, Any, Any]]) -> str:
    """The sentence with each entity written ``<text:type>``: at its character offsets when
    they hold its text, else at its next occurrence (rows that carry no offsets)."""
    out, cursor = [], 0
    for name, kind, start, end in spans:
        if not (isinstance(start, int) and isinstance(end, int) and cursor <= start < end <= len(sentence)
                and sentence[start:end].strip() == name):
            start = sentence.find(name, cursor)
            if not name or start < 0:
                raise Skip("entity_not_in_sentence", f"entity {name!r:.40} is not found in the sentence")
            end = start + len(name)
        out += [sentence[cursor:start], f"<{sentence[start:end]}:{kind}>"]
        cursor = end
    return "".join(out) + sentence[cursor:]
