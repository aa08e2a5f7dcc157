"""Few-shot records (FLAN v2): some of a task's records get exemplars before their own input.

Longpre et al. (2023, "The Flan Collection") found that training on a mix of zero-shot and
few-shot prompts improves both settings. Here a record chosen for exemplars keeps its own
template, answer and id; its instruction becomes

    예시 1:
    {an exemplar's instruction}
    답: {its output}

    예시 2:
    …

    문제:
    {the record's own instruction}

Exemplars are records of the same task *and template* (so they read alike) that the build
writes to **train**: never a validation or test record, never one dropped by dedup,
decontamination or sampling, never the record itself. Everything is chosen from the
per-record numbers stage 2 already has, by seeded hashes of the record ids: which records,
how many shots, which exemplars, and how many fit in ``max_chars``. The same recipe, inputs
and seed give the same choice for any number of workers and either engine.

The step runs after stage 2's decisions and before stage 3: it reads the chosen records and
their exemplars back from the spools by position (nothing rendered is held in memory),
writes the rewritten lines to files of their own next to the spools, and tells stage 3
where each rewritten record now is (:class:`Composed`). Memory: about 24 bytes per train
record of a task with few-shot on (the exemplar pools, twice while they are sorted), plus
about 50 bytes per chosen record (where its line and its exemplars' lines are).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..config import Recipe
from ..config.schema import FewShot
from ..decide.contract import TRAIN, UNSELECTED
from ..decide.keys import seeded_keys
from ..spool.columns import Table
from ..spool.files import SpoolFile

# Salts of the seeded keys (independent of stage 2's sample, split and order keys).
PICK, SHOTS, POOL = 0xF5E1, 0xF5E2, 0xF5E3

# The few-shot layout: Korean separators, FLAN's "exemplars, then the input" order.
ANSWER = "\n답: "
SEPARATOR = "\n\n"
QUESTION = "문제:\n"

# Candidates handled at a time: the (records × shots) working arrays stay a few MB.
_CHUNK = 1 << 15
# Rewritten records per output file, a job of its own (a fixed number: the files do not
# depend on the workers; about 16 MB of lines to read per job on short reviews).
_PER_FILE = 1 << 14
_U53 = float(1 << 53)
# A task with few-shot on whose records got none.
NO_COUNTS = {"records": 0, "exemplars": 0, "fewer": 0}


def exemplar_header(number: int) -> str:
    """The line that opens exemplar ``number`` (1-based)."""
    return f"예시 {number}:\n"


def compose(exemplars: Sequence[tuple[str, str]], instruction: str) -> str:
    """The few-shot instruction: each exemplar (instruction, output), then the record's own."""
    parts = [f"{exemplar_header(k)}{inst}{ANSWER}{out}" for k, (inst, out) in enumerate(exemplars, 1)]
    parts.append(QUESTION + instruction)
    return SEPARATOR.join(parts)


def _framing(shots: int) -> np.ndarray:
    """Characters :func:`compose` adds for exemplar ``k`` (0-based), for k < ``shots``."""
    return np.array([len(exemplar_header(k + 1)) + len(ANSWER) + len(SEPARATOR) for k in range(shots)], np.int64)


def settings(recipe: Recipe) -> list[FewShot | None]:
    """Each task's few-shot settings, in recipe order (None: zero-shot only)."""
    return [ref.fewshot if ref.fewshot is not None and ref.fewshot.on else None for ref in recipe.tasks]


def enabled(recipe: Recipe) -> bool:
    """Whether any task of ``recipe`` makes few-shot records (then every record carries ``shots``)."""
    return any(s is not None for s in settings(recipe))


@dataclass
class Selection:
    """Which records get exemplars, and which: ``records`` ascending (record positions in the
    recipe's table), ``exemplars`` a row per record (positions, -1 after its last), ``asked``
    the shots each record drew, ``tasks`` its task's index; ``lines`` (position, segment,
    offset, length) of the records that are read back, ascending."""

    records: np.ndarray
    exemplars: np.ndarray
    asked: np.ndarray
    tasks: np.ndarray
    lines: np.ndarray

    @property
    def shots(self) -> np.ndarray:
        """The exemplars each chosen record got (0: none fit, or its pool was empty)."""
        return np.count_nonzero(self.exemplars >= 0, axis=1)

    def line(self, record: int) -> tuple[int, int, int]:
        """(segment, offset, length) of a record that is read back."""
        k = int(np.searchsorted(self.lines[:, 0], record))
        _, segment, offset, length = self.lines[k].tolist()
        return segment, offset, length

    def counts(self, tasks: int) -> dict[int, dict[str, int]]:
        """Per task index (those with chosen records): records given exemplars, exemplars in
        all, records given fewer than they drew (a small pool, or ``max_chars``)."""
        shots = self.shots
        out: dict[int, dict[str, int]] = {}
        for t in range(tasks):
            mine = self.tasks == t
            if mine.any():
                got = shots[mine]
                out[t] = {"records": int(np.count_nonzero(got)), "exemplars": int(got.sum()),
                          "fewer": int(np.count_nonzero(got < self.asked[mine]))}
        return out


def planned(recipe: Recipe, table: Table, split: np.ndarray, seed: int) -> dict[str, dict[str, int]]:
    """What :func:`select` would give each few-shot task of ``recipe`` (records, exemplars,
    records with fewer than asked), by task name: the plan's ``fewshot`` (``komt-data plan``)."""
    counts = select(table, split, recipe, seed).counts(len(recipe.tasks))
    return {ref.config.name: counts.get(t, NO_COUNTS) for t, ref in enumerate(recipe.tasks) if ref.fewshot is not None}


def _per_task(values: list[Any], tasks: np.ndarray) -> np.ndarray:
    return np.array(values, np.int64)[tasks]


def _concat(parts: list[tuple[np.ndarray, ...]], k: int, dtype: Any) -> np.ndarray:
    return np.concatenate([p[k] for p in parts]).astype(dtype, copy=False) if parts else np.zeros(0, dtype)


def select(table: Table, split: np.ndarray, recipe: Recipe, seed: int) -> Selection:
    """Choose the few-shot records of a build and their exemplars from its numbers alone."""

    per_task = settings(recipe)
    # Templates are numbered per segment; a pool is a (task, template name) pair.
    numbers: dict[tuple[int, str], int] = {}
    segment_templates = [np.array([numbers.setdefault((table.task[i], name), len(numbers))
                                   for name in s.template_names] or [0], np.int64)
                         for i, s in enumerate(table.segments)]
    share = [s.share if s is not None else 0.0 for s in per_task]

    pool: list[tuple[np.ndarray, ...]] = []  # (group, key, position, characters) of train records
    chosen: list[tuple[np.ndarray, ...]] = []  # (position, group, id hash, own characters) of picked ones
    on = [i for i in range(len(table.segments)) if per_task[table.task[i]] is not None]
    for block in table.blocks("ids", "templates", "instruction_chars", "output_chars", segments=on):
        where = split[block.start:block.stop]
        group = segment_templates[block.segment][block["templates"].astype(np.int64)]
        ids = block["ids"]
        train = np.flatnonzero(where == TRAIN)
        if len(train):
            pool.append((group[train], seeded_keys(ids[train], seed, POOL), block.start + train,
                         block["instruction_chars"][train] + block["output_chars"][train]))
        # Which records: a seeded draw against the task's share, in every split.
        written = np.flatnonzero(where != UNSELECTED)
        draw = seeded_keys(ids[written], seed, PICK) >> np.uint64(11)
        picked = written[draw.astype(np.float64) < share[table.task[block.segment]] * _U53]
        if len(picked):
            chosen.append((block.start + picked, group[picked], ids[picked],
                           block["instruction_chars"][picked].astype(np.int64)))

    c_index, c_group, c_ids, c_own = (_concat(chosen, k, d) for k, d in
                                      enumerate((np.int64, np.int64, np.uint64, np.int64)))
    del chosen
    c_task = np.array(table.task, np.int64)[np.searchsorted(table.starts, c_index, side="right") - 1]
    # The pools: each (task, template) group's train records, in a seeded order.
    p_group, p_key, p_index, p_chars = (_concat(pool, k, d) for k, d in
                                        enumerate((np.int32, np.uint64, np.int64, np.uint32)))
    del pool
    order = np.lexsort((p_index, p_key, p_group))
    p_group, p_index, p_chars = p_group[order], p_index[order], p_chars[order]
    del p_key, order
    by_position = np.argsort(p_index)

    high = max((s.shots[1] for s in per_task if s is not None), default=1)
    exemplars = np.full((len(c_index), high), -1, np.int64)
    asked = np.zeros(len(c_index), np.int64)
    framing = _framing(high + 1)
    fewest = [s.shots[0] if s else 0 for s in per_task]
    most = [s.shots[1] if s else 0 for s in per_task]
    max_chars = [s.max_chars if s else 0 for s in per_task]
    for lo in range(0, len(c_index), _CHUNK):
        part = slice(lo, lo + _CHUNK)
        index, group, own, task = c_index[part], c_group[part], c_own[part], c_task[part]
        # How many shots each record asks for: uniform in its task's range.
        draw = seeded_keys(c_ids[part], seed, SHOTS)
        low, span = _per_task(fewest, task), _per_task(most, task) - _per_task(fewest, task) + 1
        asked[part] = low + (draw % span.astype(np.uint64)).astype(np.int64)
        first = np.searchsorted(p_group, group, side="left")
        size = np.searchsorted(p_group, group, side="right") - first
        # A train record is in its own pool: found, so that it is never its own exemplar.
        self_at = np.full(len(index), -1, np.int64)
        if len(p_index):
            at = by_position[np.minimum(np.searchsorted(p_index[by_position], index), len(p_index) - 1)]
            self_at = np.where(p_index[at] == index, at, -1)
        want = np.minimum(asked[part], size - (self_at >= 0))
        # Walk each pool from a seeded start, skipping the record itself ...
        start = (draw >> np.uint64(33)).astype(np.int64)
        positions = first[:, None] + (start[:, None] + np.arange(high + 1)) % np.maximum(size, 1)[:, None]
        valid = (positions != self_at[:, None]) & (size[:, None] > 0)
        rank = np.cumsum(valid, axis=1)
        keep = valid & (rank <= want[:, None])
        # ... then drop exemplars from the end until the instruction fits in max_chars.
        positions = np.minimum(positions, max(len(p_index) - 1, 0))
        chars = p_chars[positions].astype(np.int64) if len(p_chars) else np.zeros_like(positions)
        cost = np.where(keep, chars + framing[np.maximum(rank - 1, 0)], 0)
        keep &= own[:, None] + len(QUESTION) + np.cumsum(cost, axis=1) <= _per_task(max_chars, task)[:, None]
        rows, cols = np.nonzero(keep)
        exemplars[lo + rows, rank[rows, cols] - 1] = p_index[positions[rows, cols]]
    del p_group, p_index, p_chars, by_position

    # Where the lines to read back are: the records that got exemplars, and those exemplars.
    needed = np.union1d(c_index[exemplars[:, 0] >= 0], exemplars[exemplars >= 0])
    lines: list[np.ndarray] = []
    for block in table.blocks("lengths", "offsets", segments=on):
        lo, hi = np.searchsorted(needed, [block.start, block.stop])
        if lo < hi:
            local = needed[lo:hi] - block.start
            rows = np.empty((hi - lo, 4), np.int64)
            rows[:, 0] = needed[lo:hi]
            rows[:, 1] = block.segment
            rows[:, 2] = block["offsets"][local].astype(np.int64)
            rows[:, 3] = block["lengths"][local].astype(np.int64)
            lines.append(rows)
    return Selection(c_index, exemplars, asked, c_task,
                     np.concatenate(lines) if lines else np.zeros((0, 4), np.int64))


@dataclass
class Composed:
    """The rewritten records: stage 3 copies record ``index[k]`` from ``files[file[k]]`` at
    ``offset[k]`` (``length[k]`` bytes) instead of from its spool. ``index`` ascending;
    ``counts`` per task index as :meth:`Selection.counts` gives them."""

    files: list[Path]
    index: np.ndarray
    file: np.ndarray
    offset: np.ndarray
    length: np.ndarray
    counts: dict[int, dict[str, int]]

    @classmethod
    def none(cls) -> Composed:
        """Nothing rewritten (a build without few-shot records)."""
        return cls([], *(np.zeros(0, np.int64),) * 4, {})

    def redirect(self, spools: int, index: np.ndarray, segment: np.ndarray, offset: np.ndarray,
                 length: np.ndarray) -> None:
        """Point the rows of records ``index`` (any order) that were rewritten at their new
        lines, in place; the new files are numbered after the build's ``spools`` spools."""
        if not len(self.index) or not len(index):
            return
        at = np.minimum(np.searchsorted(self.index, index), len(self.index) - 1)
        hit = self.index[at] == index
        at = at[hit]
        segment[hit] = spools + self.file[at]
        offset[hit] = self.offset[at]
        length[hit] = self.length[at]


def _escaped(text: str) -> bytes:
    """``text`` as it stands between the quotes of a JSON string (orjson's escaping)."""
    return orjson.dumps(text)[1:-1]


@dataclass(frozen=True)
class _FileJob:
    """One file of rewritten records: per record, (spool number, offset, length) of its own
    line (``own``, one row each) and of its exemplars' (``theirs``, ``shots`` rows used)."""

    path: Path
    spools: tuple[Path, ...]
    own: np.ndarray     # (records, 3)
    theirs: np.ndarray  # (records, most shots, 3)
    shots: np.ndarray   # (records,)
    prompt: str


# The keys around a record's strings in a spooled line (records.TaskRunner writes them in this
# order). Inside a JSON string a quote is escaped, so these bytes only ever occur as keys.
_INSTRUCTION, _OUTPUT, _TEXT, _SHOTS = b',"instruction":"', b'","output":"', b'","text":"', b'","shots":'


def _parts(line: bytes) -> tuple[bytes, bytes, bytes]:
    """A spooled record line's bytes before its instruction, and its escaped instruction and output."""
    start = line.index(_INSTRUCTION)
    between = line.index(_OUTPUT, start)
    end = line.index(_TEXT, between)
    return line[:start], line[start + len(_INSTRUCTION):between], line[between + len(_OUTPUT):end]


def _write_file(job: _FileJob) -> list[int]:
    """Write one file of rewritten records; returns each line's length in bytes.

    The new instruction is joined from the escaped JSON of the exemplars' and the record's
    own strings (JSON escapes character by character), so no record is decoded or encoded
    again: the lines of few-shot records are long (a QA record with four passages is ~20 KB)."""
    from ..exports import get_prompt

    prompt = get_prompt(job.prompt)
    parts = getattr(prompt, "parts", None)
    framing = [_escaped(p) for p in parts] if parts is not None else None
    answer, separator, question = _escaped(ANSWER), _escaped(SEPARATOR), _escaped(QUESTION)
    spools: dict[int, SpoolFile] = {}
    lengths: list[int] = []
    try:
        with open(job.path, "wb") as out:
            for own, theirs, shots in zip(job.own.tolist(), job.theirs.tolist(), job.shots.tolist(), strict=True):
                lines = []
                for number, offset, length in [own, *theirs[:shots]]:
                    spool = spools.get(number)
                    if spool is None:
                        spool = spools[number] = SpoolFile(job.spools[number])
                    lines.append(spool.read_at(offset, length))
                head, own, output = _parts(lines[0])
                pieces = []
                for number, line in enumerate(lines[1:], 1):
                    _, instruction, answer_text = _parts(line)
                    pieces += [_escaped(exemplar_header(number)), instruction, answer, answer_text, separator]
                pieces += [question, own]
                instruction = b"".join(pieces)
                if framing is not None:
                    text = b"".join((framing[0], instruction, framing[1], output, framing[2]))
                else:  # a prompt format without literal parts: made from the decoded strings
                    text = _escaped(prompt(orjson.loads(b'"' + instruction + b'"'), orjson.loads(b'"' + output + b'"')))
                data = b"".join((head, _INSTRUCTION, instruction, _OUTPUT, output, _TEXT, text, _SHOTS,
                                 b"%d}\n" % (len(lines) - 1)))
                out.write(data)
                lengths.append(len(data))
    finally:
        for spool in spools.values():
            spool.close()
    return lengths


def write(table: Table, selection: Selection, tasks: int, prompt: str, directory: Path,
          workers: int = 1) -> Composed:
    """Rewrite the chosen records with their exemplars into files in ``directory``, on
    ``workers`` processes (the same files for any number). ``tasks``: how many tasks the
    recipe has; ``prompt``: the name of the prompt format that makes ``text``."""
    counts = selection.counts(tasks)
    shots = selection.shots
    records, exemplars, shots = selection.records[shots > 0], selection.exemplars[shots > 0], shots[shots > 0]
    if not len(records):
        return Composed([], *(np.zeros(0, np.int64),) * 4, counts)
    # Every line's (spool, offset, length), looked up at once.
    def located(positions: np.ndarray) -> np.ndarray:
        return selection.lines[np.searchsorted(selection.lines[:, 0], positions), 1:]

    own = located(records)
    taken = exemplars >= 0
    theirs = np.zeros(exemplars.shape + (3,), np.int64)
    theirs[taken] = located(exemplars[taken])
    spools = tuple(s.spool for s in table.segments)
    jobs = [_FileJob(directory / f"fewshot-{k:05d}.jsonl", spools, own[first:first + _PER_FILE],
                     theirs[first:first + _PER_FILE], shots[first:first + _PER_FILE], prompt)
            for k, first in enumerate(range(0, len(records), _PER_FILE))]
    lengths = _run(jobs, workers)
    file_of = np.repeat(np.arange(len(jobs)), [len(job.own) for job in jobs])
    length = np.concatenate([np.array(x, np.int64) for x in lengths])
    offset = np.concatenate([np.cumsum([0] + x[:-1], dtype=np.int64) for x in lengths])
    return Composed([job.path for job in jobs], records, file_of, offset, length, counts)


def _run(jobs: list[_FileJob], workers: int) -> list[list[int]]:
    """Each job's line lengths, the jobs run on up to ``workers`` forked processes."""
    import multiprocessing

    from ..spool.pool import forked_pool

    if workers <= 1 or len(jobs) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [_write_file(job) for job in jobs]
    with forked_pool(min(workers, len(jobs))) as pool:
        return list(pool.map(_write_file, jobs))
