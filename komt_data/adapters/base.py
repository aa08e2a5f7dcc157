"""The adapter contract: one raw row in, zero or more examples of a task family out.

An adapter is a class with a ``family`` (which template sets fit it), the canonical
``fields`` it reads, and an ``adapt`` method that yields the examples of a row (or
returns them as a list, as the built-in adapters do: a little faster). To drop a row it raises
:class:`Skip` with a short reason (a manifest key) and a detail for rejected.jsonl.
Field renaming (``fields:``), text cleaning, NFC and empty checks are done around
the adapter, so an adapter only says what the task means.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any, ClassVar

from ..config.checks import check_keys


class Skip(Exception):
    """Raised by an adapter to drop the current row; ``reason`` becomes a manifest count."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail or reason


class Adapter:
    """Base class of every task adapter.

    Subclasses set ``family``, ``fields`` (canonical input fields, all required),
    ``optional_fields``, ``text_fields`` (example fields that must be non-empty text)
    ``dedup_fields`` (the example content that identifies a duplicate) and
    ``example_fields`` (every name an example carries: what templates may use),
    ``near_dedup_fields`` (what near dedup compares, each field near-identical on its own;
    default ``text_fields``; the ``dedup_fields`` it does not compare, such as a label or an
    answer, must be equal: NLI compares premise and hypothesis, its label must agree), then
    implement :meth:`adapt`. ``options`` holds the task config's ``options:``;
    ``labels`` its ``labels:`` map, or ``default_labels`` when the config has none.
    """

    family: ClassVar[str] = ""
    fields: ClassVar[tuple[str, ...]] = ()
    optional_fields: ClassVar[tuple[str, ...]] = ()
    text_fields: ClassVar[tuple[str, ...]] = ()
    dedup_fields: ClassVar[tuple[str, ...]] = ()
    example_fields: ClassVar[tuple[str, ...]] = ()
    near_dedup_fields: ClassVar[tuple[str, ...]] = ()
    option_names: ClassVar[tuple[str, ...]] = ()
    default_labels: ClassVar[Mapping[str, str]] = {}

    def __init__(self, options: Mapping[str, Any] | None = None, labels: Mapping[str, str] | None = None):
        self.options = dict(options or {})
        self.labels = dict(labels or self.default_labels)

    @classmethod
    def check_config(cls, task: Any) -> None:
        """Validate a task config's ``options`` for this adapter; raise ConfigError naming the key."""
        check_keys(task.options, set(cls.option_names), file=task.path, prefix="options.")

    def adapt(self, row: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
        """Yield (or return a list of) the examples of one row (fields already renamed to
        canonical names)."""
        raise NotImplementedError

    # Helpers for subclasses -------------------------------------------------------------

    def label_word(self, value: Any) -> str:
        """Map a source label to its Korean word through ``labels``; unknown labels skip the row."""
        key = str(value).lower() if isinstance(value, bool) else str(value)
        if key not in self.labels:
            raise Skip("unknown_label", f"label {value!r} is not in the labels map ({self._label_list})")
        return self.labels[key]

    @cached_property
    def _label_list(self) -> str:
        # Once: a third of raw NSMC's rows name it (neutral ratings).
        return ", ".join(self.labels)

    @cached_property
    def _label_words(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.labels.values()))

    def label_options(self) -> list[str]:
        """The distinct Korean label words, in map order: the answer options of the task."""
        return list(self._label_words)  # computed once per adapter: the labels map does not change


def text(row: Mapping[str, Any], name: str) -> str:
    """Field ``name`` of ``row`` as text; a number or list where text is expected skips the row."""
    value = row.get(name)
    if isinstance(value, str):
        return value
    if value is None:
        raise Skip("missing_field", f"field '{name}' is missing or null")
    raise Skip("wrong_type", f"field '{name}' should be text, got {type(value).__name__} {value!r:.60}")

