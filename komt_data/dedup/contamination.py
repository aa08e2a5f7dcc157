"""Decontamination: drop training examples that copy an evaluation item.

The rule is character based, because Korean attaches particles to words: a copied passage
whose 은 became 이 or whose 를 became 을 keeps almost all its character n-grams but loses
every word n-gram that spans the changed word (with one particle every two or three words,
a 13-word n-gram rule misses a copy that changed one particle in ten). Texts on both sides
are compared in :func:`komt_data.text.dedup_form` (NFC, no invisible characters, no
whitespace: spacing is unreliable in Korean) and lower-cased.

An example is contaminated by an evaluation item when, for one of its text fields, the
``ngram``-character n-grams it shares with the item are at least ``threshold`` of the
item's n-grams (the item was copied, maybe with small edits), or at least ``threshold``
of the field's own n-grams when the field has ``min_chars`` characters or more (the
field was copied out of a longer item, e.g. a question lifted from a benchmark passage).
Fields shorter than ``min_chars`` match only a training field equal to them (after
normalization), so short answers like "예" or "재밌어요" never match everything.

Each field of an evaluation row (passage, question, each choice) is compared on its own,
so a copied passage counts whether or not its question came along. The index is a sorted
array of 64-bit n-gram hashes with the field each came from (16 bytes per n-gram);
lookups are ``numpy.searchsorted``, so a worker holds KMMLU's 35k questions in about 60 MB.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..config.schema import Decontaminate, EvalSet, SourceConfig
from ..errors import ConfigError
from ..sources import BadRow, Unit, read_unit, resolve_encoding
from ..sources.base import open_binary, open_text
from ..sources.documents import dig
from ..sources.hub import load_hub_rows, resolved_revision
from ..sources.registry import extension_of
from ..text import dedup_form, squeeze
from .hashing import rolling_hashes, splitmix64_inplace


@dataclass(frozen=True)
class EvalItem:
    """One evaluation item: where it is, and its text as it will be reported."""

    set: str
    where: str
    text: str
    parts: tuple[str, ...] = ()  # the texts of its fields, each compared on its own


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _texts(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _texts(v)


def item_texts(row: Any, fields: Sequence[str]) -> list[str]:
    """The texts of one evaluation row: its ``fields`` (dotted paths allowed), or all its text."""
    if isinstance(row, str):
        return [row]
    values = [dig(row, f, None) for f in fields] if fields else []
    if all(v is None for v in values):  # no field given, or none of them in this layout
        values = list(row.values())
    return [t for v in values for t in _texts(v) if t.strip()]


def _read_rows(spec: EvalSet, path: Path) -> Iterator[tuple[str, Any]]:
    """A preset's file through komt-data's own readers (SQuAD nesting, TSV quoting as the
    file was written); rows that cannot be read are skipped: they cannot be copied from."""
    unit = Unit(SourceConfig(files=(path,), format=spec.format, quoting=spec.quoting), path)
    for number, row in read_unit(unit, resolve_encoding(unit)):
        if not isinstance(row, BadRow):
            yield f"{path.name}:{number}", row


def _file_rows(path: Path) -> Iterator[tuple[str, Any]]:
    # Without a preset's format, .jsonl / .json rows or one item per line of text (komt's
    # testset.txt): not the readers' extension table, which reads .txt as TSV.
    ext = extension_of(path)
    if ext == ".jsonl":
        with open_binary(path) as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    yield f"{path.name}:{number}", orjson.loads(line)
    elif ext == ".json":
        data = orjson.loads(path.read_bytes())
        rows = data if isinstance(data, list) else data.get("data", [data])
        for number, row in enumerate(rows, 1):
            yield f"{path.name}#{number}", row
    else:  # plain text: one item per line (komt's testset.txt)
        with open_text(path, "utf-8-sig") as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    yield f"{path.name}:{number}", line.rstrip("\r\n")


def _hub_rows(spec: EvalSet) -> Iterator[tuple[str, Any]]:
    for config in spec.configs:
        what = f"evaluation set '{spec.name}' ({spec.hub}{' ' + config if config else ''})"
        label = f"{spec.hub.rstrip('/').split('/')[-1]}{'/' + config if config else ''}:{spec.split}"
        # Label ids stay integers: with no fields named, every text of a row is compared,
        # and a label name is not text anyone copies.
        rows = load_hub_rows(spec.hub or "", config, spec.split, revision=spec.revision, what=what,
                             label_names=False)
        try:
            for number, row in rows:
                yield f"{label}#{number - 1}", row
        except ConfigError as exc:
            raise ConfigError(f"{exc}{'; ' + spec.hint if spec.hint else ''}") from None


def hub_revisions(config: Decontaminate) -> dict[str, str | None]:
    """Lineage of the hub-read evaluation sets: set name -> the commit it was read at (the
    pinned ``revision`` when it is a full commit hash, else asked of the hub; None when
    unknown: offline, or a local dataset folder), as manifest.json records a hub source's."""
    return {spec.name: resolved_revision(spec.hub, spec.revision) for spec in config.sets if spec.hub}


def eval_items(spec: EvalSet) -> Iterator[EvalItem]:
    """The items of one evaluation set, NFC text from the configured fields."""
    if spec.hub:
        rows = _hub_rows(spec)
    elif spec.format:
        rows = (r for path in spec.files for r in _read_rows(spec, path))
    else:
        rows = (r for path in spec.files for r in _file_rows(path))
    for where, row in rows:
        texts = item_texts(row, spec.fields)
        if texts:
            # Each field is compared on its own: a copied passage counts without its question.
            yield EvalItem(spec.name, where, "\n".join(texts), tuple(texts))


def ngram_hashes(text: str, n: int) -> np.ndarray:
    """Distinct 64-bit hashes of the ``n``-character n-grams of an already normalized text."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < n:
        return np.zeros(0, dtype=np.uint64)
    return np.unique(splitmix64_inplace(rolling_hashes(codes, n)))


def _batch_ngrams(texts: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The 64-bit hashes of the ``n``-character n-grams of every text (as :func:`ngram_hashes`
    makes them, repeats included) and, for each, its text's index."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < n:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    starts = np.cumsum(lengths) - lengths
    count = len(codes) - n + 1
    h = rolling_hashes(codes, n, count)
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)[:count]
    # Windows that lie inside one text (the others straddle two texts of the batch).
    inside = np.arange(count, dtype=np.int64) - starts[owner] <= (lengths - n)[owner]
    return splitmix64_inplace(h[inside]), owner[inside]


def normalize(text: str) -> str:
    """How both sides are compared: :func:`dedup_form`, lower-cased."""
    return dedup_form(text).lower()


class Decontaminator:
    """The n-gram index of all evaluation items and the contamination test for examples."""

    def __init__(self, config: Decontaminate, items: Sequence[EvalItem]):
        self.config = config
        self.items = list(items)
        n = config.ngram
        keys: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        sizes: list[int] = []
        part_item: list[int] = []
        self.short: dict[str, int] = {}
        for i, item in enumerate(self.items):
            for part in item.parts or (item.text,):
                norm = normalize(part)
                if len(norm) < config.min_chars:
                    self.short.setdefault(norm, i)
                    continue
                grams = ngram_hashes(norm, n)
                keys.append(grams)
                owners.append(np.full(len(grams), len(sizes), dtype=np.int64))
                sizes.append(len(grams))
                part_item.append(i)
        self.part_sizes = np.array(sizes, dtype=np.int64)
        self.part_item = np.array(part_item, dtype=np.int64)
        all_keys = np.concatenate(keys) if keys else np.zeros(0, np.uint64)
        all_owners = np.concatenate(owners) if owners else np.zeros(0, np.int64)
        order = np.lexsort((all_owners, all_keys))
        self.keys = all_keys[order]
        self.owners = all_owners[order]

    @classmethod
    def from_config(cls, config: Decontaminate) -> Decontaminator:
        """Load every evaluation set of ``config`` and index it."""
        return cls(config, [item for spec in config.sets for item in eval_items(spec)])

    def match_many(self, examples: Sequence[Sequence[str]], *, cleaned: bool = False) -> list[tuple[int, float]]:
        """:meth:`match` of each of many examples (each a sequence of texts), with the same
        results: the n-grams of all of them are looked up in one numpy pass, and only the
        examples sharing an n-gram with some evaluation item are examined one by one."""
        norms: list[str] = []
        example_of: list[int] = []
        for e, texts in enumerate(examples):
            for text in texts:
                norms.append(squeeze(text).lower() if cleaned else normalize(text))
                example_of.append(e)
        flagged = np.zeros(len(examples), dtype=bool)
        if len(self.keys) and norms:
            grams, owner = _batch_ngrams(norms, self.config.ngram)
            if len(grams):
                pos = np.minimum(np.searchsorted(self.keys, grams), len(self.keys) - 1)
                flagged[np.asarray(example_of, dtype=np.int64)[owner[self.keys[pos] == grams]]] = True
        results: list[tuple[int, float]] = [(-1, 0.0)] * len(examples)
        for e in np.flatnonzero(flagged).tolist():
            results[e] = self.match(examples[e], cleaned=cleaned)
        if self.short:  # without a shared n-gram, only a whole short item can be copied
            for e, norm in zip(example_of, norms, strict=True):
                short = self.short.get(norm) if norm and not flagged[e] else None
                if short is not None and (results[e][0] == -1 or short < results[e][0]):
                    results[e] = (short, 1.0)
        return results

    def match(self, texts: Sequence[str], *, cleaned: bool = False) -> tuple[int, float]:
        """(index of the evaluation item an example copies, overlap), or (-1, 0.0).
        ``cleaned``: the texts already went through :func:`komt_data.text.clean_text`."""
        cfg = self.config
        best, best_overlap = -1, 0.0
        for text in texts:
            norm = squeeze(text).lower() if cleaned else normalize(text)
            if not norm:
                continue
            short = self.short.get(norm)
            if short is not None and (best == -1 or short < best):
                best, best_overlap = short, 1.0
            grams = ngram_hashes(norm, cfg.ngram)
            if len(grams) == 0 or len(self.keys) == 0:
                continue
            lo = np.searchsorted(self.keys, grams, side="left")
            hi = np.searchsorted(self.keys, grams, side="right")
            hit = lo < hi
            if not hit.any():
                continue
            # Each shared n-gram counts once for every item holding it.
            owners = np.concatenate([self.owners[a:b] for a, b in zip(lo[hit], hi[hit], strict=True)])
            ids, counts = np.unique(owners, return_counts=True)
            of_item = counts / np.maximum(self.part_sizes[ids], 1)
            of_text = counts / len(grams) if len(norm) >= cfg.min_chars else np.zeros(len(ids))
            overlap = np.maximum(of_item, of_text)
            top = int(np.argmax(overlap))  # argmax: the first (lowest index) of equal overlaps
            if overlap[top] >= cfg.threshold and overlap[top] > best_overlap:
                best, best_overlap = int(self.part_item[ids[top]]), float(overlap[top])
        return best, best_overlap
