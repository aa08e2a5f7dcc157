"""From raw rows to training records: rename fields, adapt, clean, choose templates, render.

:class:`TaskRunner` holds everything one task needs (adapter, templates, seed) and turns
one input unit into a stream of :class:`Record` and :class:`Rejection` events. The builder
spools them; ``preview`` shows the first few. Nothing here keeps state across rows, so
units can be processed by different workers and merged afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from orjson import OPT_APPEND_NEWLINE, dumps
from xxhash import xxh3_64_intdigest

from ..adapters import Adapter, Skip, get_adapter
from ..config import Recipe, TaskConfig
from ..errors import AdapterError, ConfigError
from ..exclusion import excluded_keys, key_text
from ..exports import get_prompt
from ..exports.prompts import komt as komt_text
from ..sources import MAX_DOCUMENT_BYTES, MAX_LINE_BYTES, BadRow, Unit, dig, read_unit
from ..templates import Template, TemplateSet, check_variables, load_template_set
from ..text import clean_text, dedup_keyer, nfc
from . import checks

if TYPE_CHECKING:
    from .facts import Facts


class Record(NamedTuple):
    """One rendered training record, serialized, with what stage 2 needs to know of it."""

    # A NamedTuple, not a frozen dataclass: one is made per record, and a tuple is built
    # several times faster than a frozen dataclass sets its fields.

    line: bytes          # the JSON line as it will be written (ends with a newline)
    content_hash: int    # identity of the example's content, for exact dedup
    id_hash: int         # identity of the record (example + template), for seeded order
    position: int        # line or row in the input unit
    example: int         # ordinal of the example within the unit (records of one example share it)
    rank: int = 0        # 0: a chosen template; 1, 2, …: other templates, used only to repeat a task
    facts: Facts | None = None  # what stage 1's analyzer found in the example (None: no analyzer)
    template: str = ""   # for the report's figures, counted without parsing the written line
    instruction_chars: int = 0
    output_chars: int = 0


# Record(...) goes through a NamedTuple's generated __new__ (a Python frame); with every
# field given, tuple.__new__ makes the same tuple in C, in half the time.
_new_record = tuple.__new__


class Rejection(NamedTuple):
    """A row or example that did not become a record, and why."""

    # A NamedTuple like Record: a third of the raw NSMC reviews are rejected (neutral ratings).

    reason: str
    detail: str
    position: int | None
    row: Any = None


class TaskRunner:
    """Turns the units of one task into records, deterministically from the seed."""

    def __init__(self, task: TaskConfig, seed: int, *, analyzer: Any = None, repeat: bool = False):
        """``analyzer`` (a callable on each cleaned example) adds stage 2's facts to its records;
        ``repeat`` also renders the other eligible templates, as records of rank 1, 2, …"""
        self.task = task
        self.seed = seed
        self.analyzer = analyzer
        # Without facts beyond the content hash, records carry none (the spool takes the hash).
        self._analyze = analyzer is not None and not getattr(analyzer, "trivial", False)
        self.repeat = repeat
        adapter_cls = get_adapter(task.adapter)
        self.adapter: Adapter = adapter_cls(task.options, task.labels or None)
        self.family = adapter_cls.family
        self.template_set: TemplateSet = load_template_set(task.templates)
        if self.template_set.family != self.family:
            raise ConfigError(
                f"template set '{self.template_set.path.name}' is for {self.template_set.family}, "
                f"but adapter '{task.adapter}' makes {self.family} examples",
                file=str(task.path), key="templates",
            )
        if adapter_cls.example_fields:
            check_variables(self.template_set, adapter_cls.example_fields)
        self._family_prefix = f"{self.family}\x1e".encode()
        self._text_fields = tuple(self.adapter.text_fields)
        self._last_raw: str | None = None  # the last long text cleaned, and its clean form
        self._last_clean = ""
        self._last_lists: dict[str, tuple[list, list]] = {}  # per field: the last list of text cleaned, clean
        self._dedup_key = dedup_keyer(tuple(self.adapter.dedup_fields))
        self._task_prefix = f"{task.name}-"
        # Which templates apply depends only on the fields their ``requires`` name, so the
        # eligible list is looked up by those fields' values instead of tested per template.
        self._requires = tuple(sorted({k for t in self.template_set.templates for k in t.requires}))
        self._eligible: dict[tuple, list[Template]] = {}
        self._all_templates = list(self.template_set.templates)
        self.rows_read = 0
        # Set by the builder from the recipe's ``output:`` (:func:`configure_runner`).
        self.prompt = komt_text
        self.record_check: Callable[[str], tuple[str, str] | None] | None = None
        # A build with few-shot records gives every record a ``shots`` field (0 here: the
        # few-shot step rewrites the records it gives exemplars), so all shards share keys.
        self._end = b"}\n"
        # The JSON of a record up to its id's hash, and between the hash and the template.
        self._head = b'{"id":' + dumps(self._task_prefix)[:-1]
        self._after_id = b'","task":' + dumps(task.name) + b',"template":'

    @property
    def prompt(self) -> Callable[[str, str], str]:
        """The prompt format that makes a record's ``text`` from its instruction and output."""
        return self._prompt

    @prompt.setter
    def prompt(self, fn: Callable[[str, str], str]) -> None:
        self._prompt = fn
        # A format that only puts literal text around the two (komt's, alpaca, mistral: its
        # ``parts``) lets ``text`` be joined from their JSON, instead of encoding them twice.
        parts = getattr(fn, "parts", None)
        self._text_json = None if parts is None else (
            b'"' + dumps(parts[0])[1:-1], dumps(parts[1])[1:-1], dumps(parts[2])[1:-1] + b'"')

    @property
    def shots_field(self) -> bool:
        """Whether records carry ``"shots": 0`` (set for builds with few-shot records)."""
        return self._end != b"}\n"

    @shots_field.setter
    def shots_field(self, on: bool) -> None:
        self._end = b',"shots":0}\n' if on else b"}\n"

    def run(self, unit: Unit, encoding: str, limit: int | None = None,
            max_line_bytes: int = MAX_LINE_BYTES,
            max_document_bytes: int = MAX_DOCUMENT_BYTES) -> Iterator[Record | Rejection]:
        """Yield a Record or Rejection for every row of ``unit`` (``limit`` rows at most).

        Every row yields at least one event; ``rows_read`` counts the rows, so the events
        beyond it are the rows' expansion into several examples or templates.
        """
        fields = self.task.fields
        adapt = self.adapter.adapt
        records = self._records
        example_no = 0
        self.rows_read = 0
        exclude = self.task.source.exclude
        if exclude is not None:
            excluded = excluded_keys(exclude)
            exclude_key = exclude.key
            exclude_names = ", ".join(path.name for path in exclude.source.files)
        for position, row in read_unit(unit, encoding, max_line_bytes, max_document_bytes):
            if limit is not None and self.rows_read >= limit:
                return
            self.rows_read += 1
            if type(row) is BadRow:
                yield Rejection(row.reason, row.detail, position, row.raw)
                continue
            if exclude is not None:
                # Before the adapter: the raw field, as the source names it (not after fields:).
                value = key_text(row.get(exclude_key)) if isinstance(row, Mapping) else None
                if value is None:
                    yield Rejection("no_exclusion_key", f"field '{exclude_key}' is missing, so the row cannot be "
                                    f"checked against {exclude_names} (source.exclude)", position, row)
                    continue
                found_in = excluded.get(value)
                if found_in is not None:
                    yield Rejection("evaluation_split", f"{exclude_key} {value} is in {found_in}", position, row)
                    continue
            try:
                examples = adapt(_rename(row, fields) if fields else row)
                if type(examples) is not list:  # a generator, say
                    if isinstance(examples, Mapping):
                        raise TypeError("adapt() returned one example: it must yield examples or return a list")
                    examples = list(examples)
            except Skip as skip:
                yield Rejection(skip.reason, skip.detail, position, row)
                continue
            except Exception as exc:  # a bug in an adapter (often a custom one): say whose and where
                raise AdapterError(f"adapter '{self.task.adapter}' failed on {unit.label}:{position}: "
                                   f"{type(exc).__name__}: {exc} (adapters drop a row by raising Skip)",
                                   file=str(self.task.path)) from exc
            if not examples:
                yield Rejection("no_examples", "the adapter made no example of this row", position, row)
                continue
            for example in examples:
                example_no += 1
                yield from records(example, position, example_no, row)

    def _records(self, example: dict[str, Any], position: int, example_no: int,
                 row: Any) -> list[Record | Rejection]:
        # The hot path of a build (once per example): locals, no generator, one list.
        for name, value in example.items():
            kind = type(value)
            if kind is str:
                if value is self._last_raw:  # the passage of the previous question (SQuAD layouts)
                    example[name] = self._last_clean
                elif len(value) > 256:
                    example[name] = self._last_clean = clean_text(value)
                    self._last_raw = value
                else:
                    example[name] = clean_text(value)
            elif kind is list or isinstance(value, list):
                last = self._last_lists.get(name)
                if last is not None and _same_text(value, last[0]):  # label options, row after row
                    example[name] = last[1].copy()  # (a copy: templates may change a list)
                else:
                    example[name] = cleaned = [clean_text(v) if isinstance(v, str) else v for v in value]
                    # Only lists of text are remembered (equal to them then means the same
                    # text: 1 == True == 1.0 would not); a copy, as an adapter may reuse its list.
                    if all(type(v) is str for v in value):
                        self._last_lists[name] = (list(value), cleaned.copy())
            elif kind is bool or value is None:  # nothing to clean (QA's answerable flag)
                pass
            elif isinstance(value, str):  # a str subclass
                example[name] = clean_text(value)
        for name in self._text_fields:
            if not example.get(name):
                return [Rejection("empty_text", f"field '{name}' is empty after cleaning", position, row)]
        key = self._dedup_key(example)
        content_hash = xxh3_64_intdigest(self._family_prefix + key)
        templates = self.choose_templates(example, content_hash, every=self.repeat)
        if not templates:
            return [Rejection("no_template", f"no template of {self.template_set.path.name} applies to this "
                              "example", position, row)]
        facts = self.analyzer(example, content_hash) if self._analyze else None
        chosen = min(self.task.templates_per_example, len(templates))
        events: list[Record | Rejection] = []
        for rank_index, template in enumerate(templates):
            rank = rank_index - chosen + 1 if rank_index >= chosen else 0
            instruction, output = template.render(example)
            # Example fields are NFC already; the template's own words may not be (a file
            # saved on macOS), and joining NFC pieces is not always NFC.
            instruction, output = nfc(instruction), nfc(output)
            if not instruction or not output:
                if not rank:  # a spare rendering for repeats only: nothing was asked of it
                    events.append(Rejection("empty_render", f"template {template.id} rendered an empty "
                                            f"{'instruction' if not instruction else 'output'}", position, row))
                continue
            id_hash = xxh3_64_intdigest(key + b"\x1e" + template.id_bytes)
            if self._text_json is not None and self.record_check is None:
                line = self._line(id_hash, template, instruction, output)
            else:
                text = self._prompt(instruction, output)
                if self.record_check is not None:
                    problem = self.record_check(text)
                    if problem is not None:
                        if not rank:  # a spare rendering for repeats that fails is simply not offered
                            events.append(Rejection(*problem, position, row))
                        continue
                record = {"id": f"{self._task_prefix}{id_hash:016x}", "task": self.task.name,
                          "template": template.id, "instruction": instruction, "output": output, "text": text}
                if self.shots_field:
                    record["shots"] = 0
                line = dumps(record, option=OPT_APPEND_NEWLINE)
            events.append(_new_record(Record, (line, content_hash, id_hash, position, example_no, rank, facts,
                                               template.id, len(instruction), len(output))))
        return events

    def _line(self, id_hash: int, template: Template, instruction: str, output: str) -> bytes:
        """The record's JSON line, byte for byte what ``orjson.dumps`` of the record dict gives.

        JSON escapes a string character by character, so the escaped ``text`` is the escaped
        prompt parts joined with the escaped instruction and output, which are encoded once.
        """
        before, between, after = self._text_json
        instruction_json, output_json = dumps(instruction), dumps(output)
        return b"".join((self._head, b"%016x" % id_hash, self._after_id, template.id_json,
                         b',"instruction":', instruction_json, b',"output":', output_json,
                         b',"text":', before, instruction_json[1:-1], between, output_json[1:-1], after, self._end))

    def choose_templates(self, example: Mapping[str, Any], content_hash: int, *, every: bool = False) -> list[Template]:
        """The templates an example is rendered with: ``templates_per_example`` distinct ones,
        chosen from the seed and the example's content, so identical examples render alike.
        With ``every``, the other eligible templates follow, in the same rotation."""
        eligible = self._eligible_for(example)
        if not eligible:
            return []
        n = len(eligible)
        start = xxh3_64_intdigest(content_hash.to_bytes(8, "little"), seed=self.seed) % n
        k = n if every else min(self.task.templates_per_example, n)
        if k == 1:
            return [eligible[start]]
        return [eligible[(start + j) % n] for j in range(k)]


    def _eligible_for(self, example: Mapping[str, Any]) -> list[Template]:
        if not self._requires:
            return self._all_templates
        try:
            requires = self._requires
            values = example.get(requires[0]) if len(requires) == 1 else tuple(map(example.get, requires))
            cached = self._eligible.get(values)
        except TypeError:  # an unhashable value: no caching for this example
            return [t for t in self.template_set.templates if t.applies_to(example)]
        if cached is None:
            cached = [t for t in self.template_set.templates if t.applies_to(example)]
            if len(self._eligible) < 1024:
                self._eligible[values] = cached
        return cached


def _same_text(value: list, texts: list[str]) -> bool:
    """Whether ``value`` holds exactly ``texts`` (whatever else it holds: numpy arrays, say)."""
    try:
        return value == texts
    except Exception:  # an element that cannot say whether it equals a str
        return False


def _rename(row: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    mapped = dict(row)
    for canonical, source in fields.items():
        if type(source) is tuple:  # alternative spellings of one column (영어 검수 / 영어검수)
            source = next((name for name in source if name in row), source[0])
        try:
            mapped[canonical] = dig(row, source) if "." in source and source not in row else row[source]
        except KeyError:
            raise Skip("missing_field", f"column '{source}' (for {canonical}) is not in the row") from None
    return mapped


def configure_runner(runner: TaskRunner, recipe: Recipe) -> None:
    """Stage-1 settings from ``output:``: the prompt format of ``text`` and the token filters;
    from ``prompting:``, whether records carry a ``shots`` field."""
    runner.prompt = get_prompt(recipe.prompt_format)
    runner.line_checks = checks.stage_one_checks(runner)  # report.html's per-record checks
    # komt_data.write.fewshot.enabled, asked of the config: stage 1 sits below the few-shot step.
    runner.shots_field = any(ref.fewshot is not None and ref.fewshot.on for ref in recipe.tasks)
    if recipe.tokenizer and (recipe.min_tokens or recipe.max_tokens):
        from ..tokens import length_filter

        runner.record_check = length_filter(recipe.tokenizer, recipe.min_tokens, recipe.max_tokens)
