"""Stage 1 for one input unit: its rows read, adapted, rendered and spooled to disk, with
the numbers stage 2 decides on (:func:`spool_unit`), and how files are named in the output
(:func:`unit_label`, :func:`display_path`) and in messages (:func:`shown_path`).
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from ..errors import DataError
from ..resources import bundled_dir
from ..sources import MAX_DOCUMENT_BYTES, MAX_LINE_BYTES, Unit, resolve_encoding
from ..sources.registry import reader_of
from ..storage import URL
from . import columns
from .contract import ProgressBar, Segment
from .records import Record, TaskRunner

if TYPE_CHECKING:
    from .budget import ErrorBudget

_SPOOL_BUFFER = 1 << 20


def display_path(path: Path | URL, base: Path | None = None) -> str:
    """How manifest.json and rejected.jsonl name a file, the same from any working directory:
    a bundled file as ``<bundled>/templates/nli.yaml`` (not the install path), a file under
    ``base`` (the folder of the config that names it) relative to it, any other by its
    absolute path; a URL as given."""
    if isinstance(path, URL):
        return str(path)
    resolved = Path(path).resolve()
    for kind in ("templates", "task_configs"):
        try:
            root = bundled_dir(kind)
        except FileNotFoundError:
            continue
        if resolved.is_relative_to(root):
            return f"<bundled>/{kind}/{resolved.relative_to(root).as_posix()}"
    if base is not None and resolved.is_relative_to(base.resolve()):
        return resolved.relative_to(base.resolve()).as_posix()
    return str(resolved)


def shown_path(path: Path | URL) -> str:
    """How an error message names a file for the person at the terminal: relative to the
    working directory when under it ("../../tmp/x" helps nobody find a file)."""
    if isinstance(path, URL):
        return str(path)
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def unit_label(unit: Unit, base: Path | None = None) -> str:
    """How manifest.json and rejected.jsonl name a unit: its path relative to ``base``, the
    folder of its task config (see :func:`display_path`), or its hub name."""
    return display_path(unit.path, base) if unit.path is not None else unit.label


def spool_unit(runner: TaskRunner, unit: Unit, spool_dir: Path, index: int, *, limit: int | None = None,
               on_error: str = "skip", progress: ProgressBar | None = None, label: str | None = None,
               budget: ErrorBudget | None = None, max_line_bytes: int = MAX_LINE_BYTES,
               encoding: str | None = None, max_document_bytes: int = MAX_DOCUMENT_BYTES,
               shown: str | None = None) -> Segment:
    """Stage 1 for one unit: write its records to a spool and its rejections to a side file.

    ``label`` names the unit in provenance; by default its path relative to the working
    directory (a remote worker gets the driver's label, since its working directory differs).
    ``budget`` counts the rejections against ``--max-errors``; ``max_line_bytes`` caps one line,
    ``max_document_bytes`` a file read whole.
    ``encoding`` is the unit's resolved encoding (looked up when not given).
    """
    # Errors name the file for the terminal (``shown``); rejected.jsonl and the manifest by
    # ``label``. A chunk of a decompressed copy is given both, for the .gz file it came from.
    if shown is None:
        shown = label or (shown_path(unit.path) if unit.path is not None else unit.label)
    label = label or unit_label(unit)
    line_based = unit.path is not None and reader_of(unit.source, unit.path).line_based
    encoding = encoding or resolve_encoding(unit)
    segment = Segment(
        task=runner.task.name, family=runner.family, label=label,
        position_kind="line" if line_based else "row", encoding=encoding,
        spool=spool_dir / f"{index:05d}.jsonl", rejected=spool_dir / f"{index:05d}.rejected.jsonl",
        output_split=unit.output_split, dataset_split=unit.split,
    )
    lengths, ids = array("I"), array("Q")
    positions, examples = array("I"), array("I")
    keys, groups, ranks, contaminated, overlaps = array("Q"), array("Q"), array("H"), array("i"), array("f")
    bands = array("I")  # flat: a list of small arrays would cost ~100 bytes of overhead each
    instruction_chars, output_chars, templates = array("I"), array("I"), array("H")
    template_number: dict[str, int] = {}
    sig_file = None
    near_texts: list[tuple] = []  # MinHash is computed per batch of examples (numpy, not per row)
    # A batch ends at 2,048 examples or 256k characters of text, whichever comes first: its
    # numpy temporaries cost about 40 bytes a character (long documents must not add up).
    batched = [0, 0]  # characters in near_texts, in pending

    def flush_near() -> None:
        rows, band_rows = runner.analyzer.near_batch(near_texts)
        bands.frombytes(band_rows.tobytes())
        sig_file.write(rows.tobytes())
        near_texts.clear()
        batched[0] = 0

    pending: list[Any] = []  # (record number, facts) whose contamination is still to come

    def flush_contamination() -> None:
        unique = list({id(f): f for _, f in pending}.values())  # the records of an example share facts
        found = dict(zip(map(id, unique), runner.analyzer.contamination(unique), strict=True))
        for i, facts in pending:
            contaminated[i], overlaps[i] = found[id(facts)]
        pending.clear()
        batched[1] = 0

    if runner.analyzer is not None and runner.analyzer.near is not None:
        segment.signatures = spool_dir / f"{index:05d}.sig"
        sig_file = open(segment.signatures, "wb")  # noqa: SIM115 - closed below
    events = 0
    last_reported = 0
    # A 1 MB buffer: records are about a kilobyte, and the default 8 KB buffer made a write
    # system call every few records (a tenth of stage 1's time on QA passages).
    line_checks = getattr(runner, "line_checks", None)
    findings: list[bytes] = []
    with open(segment.spool, "wb", buffering=_SPOOL_BUFFER) as spool, open(segment.rejected, "wb") as rejected, \
            _named(unit, shown):
        write = spool.write
        for event in runner.run(unit, encoding, limit, max_line_bytes, max_document_bytes):
            if type(event) is Record:
                line, content_hash, id_hash, position, example, rank, facts, template, ichars, ochars = event
                if rank == 0:  # spare renderings for repeats are not events of a row
                    events += 1
                write(line)
                if line_checks is not None:
                    problems = line_checks(line, template)
                    if problems:
                        findings += (orjson.dumps([len(lengths), *p], option=orjson.OPT_APPEND_NEWLINE)
                                     for p in problems)
                lengths.append(len(line))
                ids.append(id_hash)
                positions.append(position)
                examples.append(example)
                ranks.append(rank)
                instruction_chars.append(ichars)
                output_chars.append(ochars)
                templates.append(template_number.setdefault(template, len(template_number)))
                if facts is not None:
                    key_hash, group_hash, near, copied, overlap, eval_texts = facts
                    keys.append(key_hash)
                    groups.append(group_hash)
                    contaminated.append(copied)
                    overlaps.append(overlap)
                    if eval_texts is not None:
                        pending.append((len(contaminated) - 1, facts))
                        batched[1] += sum(map(len, eval_texts))
                        if len(pending) >= 2048 or batched[1] >= 262144:
                            flush_contamination()
                    if near is not None:
                        near_texts.append(near)
                        batched[0] += sum(map(len, near[1]))
                        if len(near_texts) >= 2048 or batched[0] >= 262144:
                            flush_near()
                else:  # no analyzer (a runner makes facts for all records or none): the exact
                    # key and split group are the content hash, and nothing is contaminated
                    keys.append(content_hash)
                    groups.append(content_hash)
                    contaminated.append(-1)
                    overlaps.append(0.0)
            else:
                events += 1
                if on_error == "fail":
                    raise DataError(f"{event.reason}: {event.detail}", file=shown, line=event.position)
                segment.dropped[event.reason] += 1
                if budget is not None:
                    budget.rejected(event.reason, shown, event.position)
                reason, detail, position, row = event
                if position is None:
                    entry = {"task": segment.task, "reason": reason, "detail": detail, "file": label, "input": row}
                else:  # what segment.provenance gives, without a dict to merge
                    entry = {"task": segment.task, "reason": reason, "detail": detail, "file": label,
                             segment.position_kind: int(position), "input": row}
                rejected.write(orjson.dumps(entry, default=str, option=orjson.OPT_APPEND_NEWLINE))
            if progress is not None and runner.rows_read - last_reported >= 2048:
                progress.update(runner.rows_read - last_reported)
                last_reported = runner.rows_read
    if pending:
        flush_contamination()
    if sig_file is not None:
        if near_texts:
            flush_near()
        sig_file.close()
    if progress is not None:
        progress.update(runner.rows_read - last_reported)
    if runner.analyzer is not None and runner.analyzer.near is not None:
        segment.bands = np.frombuffer(bands, dtype=np.uint32).reshape(-1, runner.analyzer.width)
    segment.read = runner.rows_read
    segment.expanded = events - runner.rows_read
    if budget is not None:
        budget.unit_done(shown, events, segment.dropped)
    # The numbers go to disk, not back to the caller: stage 2 reads them in bounded passes.
    segment.numbers = spool_dir / f"{index:05d}.numbers"
    segment.records = columns.write_numbers(segment.numbers, {
        "lengths": lengths, "ids": ids, "positions": positions, "examples": examples,
        "keys": keys, "groups": groups, "ranks": ranks, "contaminated": contaminated, "overlaps": overlaps,
        "instruction_chars": instruction_chars, "output_chars": output_chars, "templates": templates})
    segment.template_names = list(template_number)
    if findings:
        segment.findings = spool_dir / f"{index:05d}.findings.jsonl"
        segment.findings.write_bytes(b"".join(findings))
    return segment


@contextmanager
def _named(unit: Unit, label: str) -> Iterator[None]:
    """Readers name their file as they were given it; messages name it as the user sees it."""
    try:
        yield
    except DataError as exc:
        if unit.path is not None and exc.file == str(unit.path) and exc.file != label:
            raise DataError(exc.problem, file=label, line=exc.line) from None
        raise
