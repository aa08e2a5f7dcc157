"""Translation between Korean and another language: AIHub parallel corpora, opus-100 en-ko."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from .base import Adapter, text
from .registry import register_adapter

LANGUAGE_NAMES = {
    "ko": "한국어",
    "en": "영어",
    "ja": "일본어",
    "zh": "중국어",
    "fr": "프랑스어",
    "de": "독일어",
    "es": "스페인어",
    "ru": "러시아어",
    "vi": "베트남어",
    "th": "태국어",
    "id": "인도네시아어",
}


@register_adapter("translation")
class TranslationAdapter(Adapter):
    """A sentence pair. Options ``source_lang`` and ``target_lang`` are language codes
    (default ``en`` → ``ko``); templates see them as Korean language names. Inverted
    templates translate the other way.
    """

    family = "translation"
    fields = ("source", "target")
    text_fields = ("source", "target")
    dedup_fields = ("source", "target")
    example_fields = ("source", "target", "source_lang", "target_lang")
    option_names = ("source_lang", "target_lang")

    @classmethod
    def check_config(cls, task: Any) -> None:
        super().check_config(task)
        for key in cls.option_names:
            code = task.options.get(key)
            if code is not None and code not in LANGUAGE_NAMES:
                raise ConfigError(f"unknown language code {code!r} (known: {', '.join(LANGUAGE_NAMES)})",
                                  file=str(task.path), key=f"options.{key}")

    def adapt(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{
            "source": text(row, "source"),
            "target": text(row, "target"),
            "source_lang": LANGUAGE_NAMES[self.options.get("source_lang", "en")],
            "target_lang": LANGUAGE_NAMES[self.options.get("target_lang", "ko")],
        }]
