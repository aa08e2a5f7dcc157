"""The typed, frozen objects a recipe and its task configs are read into."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..storage import URL

ENCODINGS = ("utf-8", "utf-8-sig", "cp949", "auto")


QUOTINGS = ("none", "csv")


#: The output splits a dataset's own split can be read into.
OUTPUT_SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Mixing:
    """How tasks are weighted: FLAN's examples-proportional mixing with caps and temperature.

    ``total`` None: every task gives min(available, cap). With ``total``: rate = weight ×
    min(available, cap) ** (1 / temperature), counts = total × rate / Σ rate (exact sum).
    """

    total: int | None = None
    temperature: float = 1.0
    cap: int | None = None
    repeat: bool = False


@dataclass(frozen=True)
class ExactDedup:
    """Exact dedup: ``scope`` is where a duplicate is looked for; ``fields`` overrides, per
    family, which example fields make the key (default: the adapter's ``dedup_fields``)."""

    scope: str = "family"
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class NearDedup:
    """MinHash + LSH near dedup over character shingles of the normalized example content."""

    threshold: float = 0.8
    shingle: int = 5
    num_perm: int = 128
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Dedup:
    """Both dedup stages; ``near`` is None when near dedup is off (the default)."""

    exact: ExactDedup = field(default_factory=ExactDedup)
    near: NearDedup | None = None


@dataclass(frozen=True)
class EvalSet:
    """One evaluation set to decontaminate against: local files or a hub dataset."""

    name: str
    files: tuple[Path, ...] = ()
    hub: str | None = None
    configs: tuple[str | None, ...] = (None,)
    split: str = "test"
    fields: tuple[str, ...] = ()
    # Local files of a preset are read by komt-data's own readers in this format (json,
    # squad, tsv, ...) and quoting; None: .jsonl / .json rows or one item per text line.
    format: str | None = None
    quoting: str | None = None
    hint: str = ""  # what a failing hub load adds: where the local copy would go
    revision: str | None = None  # a hub set's commit, branch or tag (None: the default branch)


@dataclass(frozen=True)
class Decontaminate:
    """Drop training examples that share most character n-grams with an evaluation item."""

    sets: tuple[EvalSet, ...] = ()
    ngram: int = 7
    threshold: float = 0.5
    min_chars: int = 20


@dataclass(frozen=True)
class SplitSpec:
    """Held-out sizes: a float below 1 is a fraction, an int is a count; ``group_by`` names an
    example field whose equal values never straddle splits."""

    validation: float | int = 0.0
    test: float | int = 0.0
    group_by: str | None = None
    given: frozenset[str] = frozenset()  # the keys that were set (a task's unset keys follow the recipe)

    def sets(self, key: str) -> bool:
        """Whether ``key`` was given (for a task entry: overrides the recipe's)."""
        return key in self.given


@dataclass(frozen=True)
class FewShot:
    """FLAN v2's few-shot records: ``share`` of a task's records get ``shots`` (a range,
    drawn per record) exemplars of the same task and template before their own input;
    exemplars are dropped from the end until the instruction is at most ``max_chars``."""

    share: float = 0.0
    shots: tuple[int, int] = (1, 5)
    max_chars: int = 4000

    @property
    def on(self) -> bool:
        """Whether any record may get exemplars."""
        return self.share > 0


@dataclass(frozen=True)
class SourceConfig:
    """Where a task's rows come from: local files or a Hugging Face hub dataset."""

    files: tuple[Path | URL, ...] = ()
    hub: str | None = None
    config: str | None = None
    split: str | None = None
    streaming: bool = False
    format: str | None = None
    encoding: str = "auto"
    records: str | None = None
    sheet: str | None = None
    languages: tuple[str, ...] = ()
    # Per file (parallel to ``files``): the dataset's own split it belongs to and the output
    # split its records go to. Empty: every file is the dataset's train split, read into train.
    file_splits: tuple[tuple[str, str], ...] = ()
    # A hub source: (the hub split to load, the output split it goes to), train first.
    hub_splits: tuple[tuple[str, str], ...] = ()
    quoting: str | None = None  # csv / tsv: None is the format's default (csv: csv, tsv: none)
    revision: str | None = None  # a hub dataset's commit, branch or tag
    # Rows whose key is in an evaluation file are dropped (counted as evaluation_split).
    exclude: Exclude | None = None

    def split_of(self, index: int) -> tuple[str, str]:
        """(the dataset's split, the output split) of ``files[index]``."""
        return self.file_splits[index] if self.file_splits else ("train", "train")

    def hub_reads(self) -> tuple[tuple[str, str], ...]:
        """The hub splits this source loads, each with the output split it goes to."""
        return self.hub_splits or ((self.split or "train", "train"),)

    def quoting_of(self, fmt: str) -> str:
        """How a csv / tsv file's cells are quoted: ``csv`` (RFC 4180) or ``none`` (quotes are text)."""
        return self.quoting or ("csv" if fmt == "csv" else "none")


@dataclass(frozen=True)
class TaskConfig:
    """One dataset turned into one task: source, adapter, field and label maps, templates."""

    name: str
    adapter: str
    source: SourceConfig
    templates: Path
    path: Path
    fields: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    templates_per_example: int = 1
    license: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class TaskRef:
    """A task as a recipe names it, with its mixing weight and cap.

    ``repeat`` (None: the recipe's ``mixing.repeat``) lets the mix ask for more records than
    the task has, rendered with other templates; ``split`` overrides the recipe's held-out
    sizes and ``group_by`` for this task. ``fewshot``: the task's few-shot settings (the
    recipe's ``prompting.fewshot`` with the entry's own ``prompting`` over it; None: off).
    """

    config: TaskConfig
    weight: float = 1.0
    cap: int | None = None
    repeat: bool | None = None
    split: SplitSpec | None = None
    fewshot: FewShot | None = None
    allow_empty: bool = False  # a task that writes no record is an error unless this is set


@dataclass(frozen=True)
class Part:
    """One entry of a mixture: a task (``parts`` empty) or an included recipe (a submixture,
    which divides its share among its own parts with its own ``mixing``)."""

    name: str
    weight: float = 1.0
    cap: int | None = None
    mixing: Mixing | None = None
    parts: tuple[Part, ...] = ()
    path: Path | None = None  # the included recipe's file


@dataclass(frozen=True)
class Recipe:
    """What to mix and how: tasks, seed, held-out splits (``split``), output layout."""

    name: str
    tasks: tuple[TaskRef, ...]
    path: Path | None = None
    seed: int = 42
    shard_size: int = 100_000
    output_format: str = "komt"
    prompt_format: str = "komt"
    tokenizer: str | None = None
    min_tokens: int | None = None
    max_tokens: int | None = None
    mixing: Mixing = field(default_factory=Mixing)
    dedup: Dedup = field(default_factory=Dedup)
    decontaminate: Decontaminate | None = None
    split: SplitSpec = field(default_factory=SplitSpec)
    parts: tuple[Part, ...] = ()

    def repeats(self, ref: TaskRef) -> bool:
        """Whether task ``ref`` may give more records than it has (spare renderings): its own
        ``repeat:``, else the recipe's ``mixing.repeat``."""
        return self.mixing.repeat if ref.repeat is None else ref.repeat


@dataclass(frozen=True)
class Exclude:
    """``source.exclude``: the rows of a dataset's evaluation split, never trained on.

    A row whose field ``key`` equals a value of the column ``column`` of ``source``'s files
    (read with the project's readers: tsv / csv / jsonl / json, quoting as configured) is
    dropped before the adapter sees it. Values compare as text (``8544678`` == ``"8544678"``).
    """

    source: SourceConfig
    key: str
    column: str
