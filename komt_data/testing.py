"""Helpers for people who write their own adapters (like ``seqio.test_utils``).

Run an adapter over a handful of hand-written rows through the real pipeline (reader,
``fields:`` renaming, adapter, cleaning, template rendering) and check what every
adapter must guarantee::

    from komt_data.testing import check_adapter

    def test_my_adapter():
        run = check_adapter("my_nli", [{"s1": "비가 온다.", "s2": "날씨가 맑다.", "y": "contradiction"}],
                            fields={"premise": "s1", "hypothesis": "s2", "label": "y"})
        assert run.records[0]["output"] in ("함의", "중립", "모순")

The checks raise ``AssertionError`` with a message saying which row broke which rule,
so they read well under pytest.
"""

from __future__ import annotations

import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .adapters import Adapter, Skip, adapter_names, add_adapter, get_adapter
from .config import parse_task_config
from .sources import resolve_encoding, units_of
from .spool.records import Record, TaskRunner
from .templates import load_template_set

__all__ = ["AdapterRun", "check_adapter", "render_all_templates", "run_adapter"]


@dataclass
class AdapterRun:
    """What one run produced: rendered records and rejections, with the input row of each."""

    rows: int
    records: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    record_rows: list[int] = field(default_factory=list)

    @property
    def dropped(self) -> Counter:
        """Rejections counted by reason, as manifest.json counts them."""
        return Counter(r["reason"] for r in self.rejections)

    @property
    def expanded(self) -> int:
        """Events beyond one per row: extra examples or templates of a row."""
        return len(self.records) + len(self.rejections) - self.rows


def _adapter_name(adapter: str | type[Adapter]) -> str:
    if isinstance(adapter, str):
        get_adapter(adapter)  # fail early, with the registry's message
        return adapter
    for name in adapter_names():
        if get_adapter(name) is adapter:
            return name
    # An unregistered class (say, defined inside a test) gets a name of its own.
    name = f"{adapter.__module__}.{adapter.__qualname__}"
    add_adapter(name, adapter)
    return name


def run_adapter(adapter: str | type[Adapter], rows: Iterable[Mapping[str, Any]], *,
                fields: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
                options: Mapping[str, Any] | None = None, templates: str | Path | None = None,
                templates_per_example: int = 1, seed: int = 42) -> AdapterRun:
    """Run ``adapter`` (a registered name or an Adapter class) over ``rows`` as a task would.

    The rows are written to a JSONL file and read back by the real reader, so positions
    are line numbers and everything the build does to a row happens here too.
    ``templates`` is a template-set name or path (default: the adapter's family set).
    """
    name = _adapter_name(adapter)
    rows = list(rows)
    with tempfile.TemporaryDirectory(prefix="komt-data-testing-") as tmp:
        data = Path(tmp) / "rows.jsonl"
        data.write_bytes(b"".join(orjson.dumps(row, default=str) + b"\n" for row in rows))
        config: dict[str, Any] = {"name": "adapter_test", "adapter": name, "source": {"files": data.name},
                                  "templates_per_example": templates_per_example}
        for key, value in (("fields", fields), ("labels", labels), ("options", options)):
            if value:
                config[key] = dict(value)
        if templates is not None:
            config["templates"] = str(templates)
        task = parse_task_config(config, Path(tmp) / "adapter_test.yaml")
        runner = TaskRunner(task, seed)
        run = AdapterRun(rows=len(rows))
        for unit in units_of(task.source):
            for event in runner.run(unit, resolve_encoding(unit)):
                if isinstance(event, Record):
                    run.records.append(orjson.loads(event.line))
                    run.record_rows.append(event.position)
                else:
                    run.rejections.append({"reason": event.reason, "detail": event.detail, "line": event.position})
    return run


def check_adapter(adapter: str | type[Adapter], rows: Iterable[Mapping[str, Any]], **kwargs: Any) -> AdapterRun:
    """:func:`run_adapter`, then assert the adapter contract; return the run for more checks.

    - accounting: every input row became at least one record or one counted rejection;
    - every string in every record is NFC, and no record has an empty instruction or output;
    - rejection reasons are short snake_case words (they become manifest.json keys);
    - every example field the adapter yields is declared in ``example_fields`` (the task
      runner already refuses, with a TemplateError, a template set that reads other names).
    """
    rows = list(rows)
    run = run_adapter(adapter, rows, **kwargs)
    lines_seen = set(run.record_rows) | {r["line"] for r in run.rejections}
    missing = [i for i in range(1, len(rows) + 1) if i not in lines_seen]
    assert not missing, f"rows {missing} produced neither a record nor a rejection: they would vanish uncounted"
    assert run.expanded >= 0, f"{run.rows} rows but only {len(run.records) + len(run.rejections)} events"
    for record in run.records:
        for key, value in record.items():
            assert isinstance(value, str), f"record {record['id']}: {key} is {type(value).__name__}, not text"
            assert unicodedata.is_normalized("NFC", value), f"record {record['id']}: {key} is not NFC"
        assert record["instruction"] and record["output"], f"record {record['id']} has an empty side"
    for rejection in run.rejections:
        reason = rejection["reason"]
        assert reason.replace("_", "").isalnum() and reason.islower() and " " not in reason, (
            f"rejection reason {reason!r} (line {rejection['line']}) should be a snake_case word")
    adapter_cls = get_adapter(_adapter_name(adapter))
    declared = set(adapter_cls.example_fields)
    if declared:
        instance = adapter_cls(kwargs.get("options"), kwargs.get("labels"))
        renames = kwargs.get("fields") or {}
        for i, row in enumerate(rows, 1):
            mapped = dict(row)
            for canonical, source in renames.items():
                if source in row:
                    mapped[canonical] = row[source]
            try:
                examples = list(instance.adapt(mapped))
            except Skip:
                continue
            for example in examples:
                extra = sorted(set(example) - declared)
                assert not extra, (f"row {i}: the adapter yields {extra}, which are not in "
                                   f"{adapter_cls.__qualname__}.example_fields")
    return run


def render_all_templates(template_set: str | Path, example: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(id, instruction, output)`` for every template of a set that applies to ``example``:
    read all phrasings of one example at once when writing templates."""
    from .config import resolve_templates

    path = resolve_templates(str(template_set), Path.cwd(), Path("<testing>"))
    out = []
    for template in load_template_set(path).templates:
        if template.applies_to(example):
            instruction, output = template.render(example)
            out.append((template.id, instruction, output))
    return out
