"""What a curator looks at before training: examples, drops, duplicates, and automatic checks.

Two ways in, the same checks:

- during a build (:func:`gather`): the per-record checks run in stage 1 on each record's
  JSON line, where it is at hand (:class:`LineChecks`: a few byte searches a record, a parse
  only for the rare suspect line), and only the findings of records that end up written are
  kept; examples, label distributions and frequent responses come from a deterministic sample
  of the written records, read back from the spools by position. Nothing is read twice, so
  report.html costs little next to the build;
- on a built output (:func:`audit`, ``komt-data audit OUT``): every record of the shards is
  read; label distributions and frequent responses are then exact.

Both return the same :class:`dict` (``checks``, ``examples``, ``rejected``, ``near_pairs``,
``contaminated``, ``labels``, ``lengths``, ``caps``), which :func:`komt_data.report.render_html`
draws and the CLI prints. The library never prints.
"""

from __future__ import annotations

import heapq
import mmap
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import xxhash

from ..spool.checks import LineChecks, Roles, roles_of
from .figures import histogram

#: How many examples each section shows at most (stated in the report).
CAPS = {
    "per_template": 2,      # records shown per task and template
    "per_reason": 2,        # rejected rows shown per task and drop reason
    "rejected_rows": 40,    # rejected rows shown in all
    "near_pairs": 8,        # near-duplicate pairs
    "contaminated": 8,      # decontamination matches
    "per_check": 5,         # flagged records shown per check
    "text_chars": 3000,     # characters of one text shown (the rest is counted, not shown)
}
#: Records per task read back at build time for label distributions and frequent responses.
SAMPLE = 2000
#: A classification-like task whose most common label has this share or more fails ``dominant_label``.
DOMINANT_SHARE = 0.9
#: A response given for this share of a template's records (and at least FREQUENT_MIN of them)
#: with different instructions fails ``identical_output``.
FREQUENT_SHARE = 0.05
FREQUENT_MIN = 5

#: The automatic checks, in report order: name → what a failure means.
CHECKS: dict[str, str] = {
    "answer_not_in_passage": "extractive QA answer not found in its passage",
    "identical_output": "the same response for many different instructions",
    "dominant_label": f"a classification-like task with one label for {DOMINANT_SHARE:.0%} or more of its records",
    "over_token_budget": "instruction longer than the tokenizer's budget (the response cannot fit)",
    "blank_field": "instruction or output empty or only whitespace",
    "template_markup": "text still containing template markup ({{ or {%)",
    "collapsed_list": "a bullet list collapsed onto one line (보기:- a- b)",
}

# --- the figures shared by both ways in ----------------------------------------------------------

def _key(record_id: str, salt: int) -> int:
    return xxhash.xxh3_64_intdigest(record_id.encode(), seed=salt)


class _Figures:
    """Label distributions, frequent responses, per-task lengths and examples, from the
    records fed to it (all of an output's, or a build's sample)."""

    def __init__(self, roles: Mapping[str, Roles], salt: int):
        self.roles = roles
        self.salt = salt
        self.labels: dict[str, Counter] = defaultdict(Counter)
        self.outputs: dict[tuple[str, str], Counter] = defaultdict(Counter)  # output hash → records
        self.pairs: dict[tuple[str, str], set] = defaultdict(set)  # (output hash, instruction hash)
        self.texts: dict[int, str] = {}
        self.per_template: Counter = Counter()
        self.examples: dict[tuple[str, str], list] = defaultdict(list)  # heaps of (-key, id, text)

    def add(self, record: Mapping[str, Any]) -> None:
        task, template, output = record["task"], record["template"], record["output"]
        roles = self.roles.get(task) or Roles()
        group = (task, template)
        self.per_template[group] += 1
        label = roles.label_of(template, output)
        if label is not None:
            self.labels[task][label] += 1
        elif output != roles.unanswerable:
            h = xxhash.xxh3_64_intdigest(output.encode())
            self.outputs[group][h] += 1
            if self.outputs[group][h] >= FREQUENT_MIN:
                self.pairs[group].add((h, xxhash.xxh3_64_intdigest(record["instruction"].encode())))
                self.texts.setdefault(h, output)
        heap = self.examples[group]
        item = (-_key(record["id"], self.salt), record["id"], record["text"])
        if len(heap) < CAPS["per_template"]:
            heapq.heappush(heap, item)
        elif item > heap[0]:
            heapq.heapreplace(heap, item)

    def frequent(self) -> list[dict[str, Any]]:
        """Responses given for many different instructions of one template."""
        found = []
        for group, counts in self.outputs.items():
            n = self.per_template[group]
            for h, count in counts.items():
                if count < max(FREQUENT_MIN, FREQUENT_SHARE * n):
                    continue
                distinct = sum(1 for o, _ in self.pairs[group] if o == h)
                if distinct >= max(FREQUENT_MIN, FREQUENT_SHARE * n):
                    found.append({"task": group[0], "template": group[1], "records": count, "of": n,
                                  "instructions": distinct, "output": self.texts.get(h, "")})
        return sorted(found, key=lambda f: (f["task"], f["template"], -f["records"]))

    def label_table(self, sampled: Mapping[str, bool]) -> dict[str, Any]:
        out = {}
        for task, counts in self.labels.items():
            total = sum(counts.values())
            top = counts.most_common(1)[0] if counts else ("", 0)
            out[task] = {"records": total, "sampled": bool(sampled.get(task)), "labels": dict(counts.most_common()),
                         "top": top[0], "top_share": round(top[1] / total, 4) if total else 0.0}
        return out

    def example_table(self) -> list[dict[str, Any]]:
        return [{"task": task, "template": template,
                 "records": [{"id": rid, "text": text} for _, rid, text in sorted(heap, reverse=True)]}
                for (task, template), heap in sorted(self.examples.items())]


def _checks(findings: Mapping[str, list[dict[str, Any]]], counts: Mapping[str, int], figures: _Figures,
            labels: Mapping[str, Any], budget_checked: bool) -> list[dict[str, Any]]:
    checks = []
    frequent = figures.frequent()
    dominant = [{"task": t, "label": v["top"], "share": v["top_share"], "records": v["records"]}
                for t, v in labels.items() if v["records"] >= 20 and v["top_share"] >= DOMINANT_SHARE]
    for name, title in CHECKS.items():
        if name == "identical_output":
            examples, count = frequent, len(frequent)
        elif name == "dominant_label":
            examples, count = dominant, len(dominant)
        else:
            examples, count = findings.get(name, []), counts.get(name, 0)
        entry = {"name": name, "title": title, "failed": count > 0, "count": count,
                 "examples": examples[:CAPS["per_check"]]}
        if name == "over_token_budget" and not budget_checked:
            entry["skipped"] = "no tokenizer budget (output.tokenizer with max_tokens, or --max-tokens)"
        checks.append(entry)
    return checks


def _rejected(path: Path, manifest: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list, list]:
    """A few rejected rows per task and reason, the first of each in rejected.jsonl (found by
    a byte search for the line's start, not by parsing the file), plus near-duplicate pairs
    and decontamination matches."""
    wanted = [(task, reason) for task, t in manifest["tasks"].items() for reason in t.get("dropped", {})]
    rows: list[dict[str, Any]] = []
    near: list[dict[str, Any]] = []
    contaminated: list[dict[str, Any]] = []
    if not wanted or not path.is_file() or path.stat().st_size == 0:
        return rows, near, contaminated
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for task, reason in wanted:
            per = CAPS["per_reason"]
            if reason == "near_duplicate":
                per = max(per, CAPS["near_pairs"])
            elif reason == "contaminated":
                per = max(per, CAPS["contaminated"])
            pattern = b'{"task":' + orjson.dumps(task) + b',"reason":' + orjson.dumps(reason) + b","
            position, found = 0, 0
            while found < per:
                i = mm.find(pattern, position)
                if i < 0:
                    break
                end = mm.find(b"\n", i)
                end = len(mm) if end < 0 else end
                position = end
                if i and mm[i - 1] != 0x0A:  # inside another line (a nested row): not a line start
                    continue
                row = orjson.loads(mm[i:end])
                found += 1
                if reason == "near_duplicate" and "survivor" in row and len(near) < CAPS["near_pairs"]:
                    near.append(row)
                elif reason == "contaminated" and "eval_item" in row and len(contaminated) < CAPS["contaminated"]:
                    contaminated.append(row)
                if found <= CAPS["per_reason"] and len(rows) < CAPS["rejected_rows"]:
                    rows.append(row)
    return rows, near, contaminated


def _lengths(per_task: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, Any]:
    return {task: {key: histogram(values) for key, values in lengths.items()} for task, lengths in per_task.items()}


def _result(manifest: Mapping[str, Any], figures: _Figures, findings: Mapping[str, list], counts: Mapping[str, int],
            sampled: Mapping[str, bool], lengths: Mapping[str, Any], rejected_path: Path,
            budget_checked: bool, scope: str) -> dict[str, Any]:
    labels = figures.label_table(sampled)
    rows, near, contaminated = _rejected(rejected_path, manifest)
    checks = _checks(findings, counts, figures, labels, budget_checked)
    return {"scope": scope, "passed": not any(c["failed"] for c in checks), "checks": checks,
            "examples": figures.example_table(), "rejected": rows, "near_pairs": near,
            "contaminated": contaminated, "labels": labels, "lengths": lengths,
            "ngram": (manifest.get("decontamination") or {}).get("ngram", 7),
            "caps": {**CAPS, "sample": SAMPLE}}


# --- during a build --------------------------------------------------------------------------------

def gather(manifest: Mapping[str, Any], roles: Mapping[str, Roles], table: Any, split: np.ndarray,
           findings_of: Mapping[int, list[tuple[int, str, str]]], rejected_path: Path, seed: int) -> dict[str, Any]:
    """The report's examples and checks for a build, from stage 1's findings (per segment
    index: (record number, check, detail)), the written records' split codes (``split``,
    :data:`komt_data.decide.contract.UNSELECTED` for the others) and the spools in ``table``."""
    from ..decide import contract
    from ..spool.files import SpoolFile

    names = list(manifest["tasks"])
    salt = seed & 0xFFFFFFFFFFFFFFFF
    written = {name: t["written"] for name, t in manifest["tasks"].items()}
    # Records drawn: those whose salted id hash falls under a per-task bound, so that about
    # 2 × SAMPLE (and every record of a smaller task) are candidates; the SAMPLE smallest win.
    bound = {i: min(1.0, 2.0 * SAMPLE / max(1, written[name])) for i, name in enumerate(names)}
    candidates: dict[int, list[tuple[int, int, int, int, int]]] = defaultdict(list)
    lengths: dict[str, dict[str, list[np.ndarray]]] = {n: {"instruction_chars": [], "output_chars": []} for n in names}
    for block in table.blocks("ids", "lengths", "offsets", "instruction_chars", "output_chars"):
        chosen = split[block.start:block.stop] != contract.UNSELECTED
        if not chosen.any():
            continue
        t = table.task[block.segment]
        for key in ("instruction_chars", "output_chars"):
            lengths[names[t]][key].append(block[key][chosen])
        keys = block["ids"] ^ np.uint64(salt)
        under = chosen & (keys <= np.uint64(int(bound[t] * 2.0**64))) if bound[t] < 1 else chosen
        for i in np.flatnonzero(under).tolist():
            candidates[t].append((int(keys[i]), block.segment, int(block["offsets"][i]), int(block["lengths"][i]),
                                  block.start + i))
    figures = _Figures(roles, salt)
    sampled = {}
    reads: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for t, items in candidates.items():
        items.sort()
        sampled[names[t]] = len(items) > SAMPLE or written[names[t]] > len(items)
        for _, segment, offset, length, _ in items[:SAMPLE]:
            reads[segment].append((offset, length))
    # Flagged records that were written: counted per check, the first few shown.
    findings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    counts: Counter = Counter()
    shown: dict[int, list[tuple[int, int, str, str]]] = defaultdict(list)
    for segment, flagged in sorted(findings_of.items()):
        start = int(table.starts[segment])
        for number, check, detail in flagged:
            if split[start + number] == contract.UNSELECTED:
                continue
            counts[check] += 1
            if counts[check] <= CAPS["per_check"]:
                shown[segment].append((number, len(findings[check]), check, detail))
                findings[check].append({})
    for segment in sorted(set(reads) | set(shown)):
        s = table.segments[segment]
        spool = SpoolFile(s.spool)
        try:
            for offset, length in sorted(reads.get(segment, ())):
                figures.add(orjson.loads(spool.read_at(offset, length)))
            if segment in shown:
                from ..spool.columns import read_column

                sizes = read_column(s.numbers, s.records, "lengths").astype(np.int64)
                starts = np.cumsum(sizes) - sizes
                for number, slot, check, detail in shown[segment]:
                    record = orjson.loads(spool.read_at(int(starts[number]), int(sizes[number])))
                    findings[check][slot] = {"task": record["task"], "template": record["template"],
                                             "id": record["id"], "detail": detail, "text": record["text"]}
        finally:
            spool.close()
    per_task = {n: {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in d.items()}
                for n, d in lengths.items()}
    return _result(manifest, figures, findings, counts, sampled, _lengths(per_task), rejected_path,
                   budget_checked=False, scope="build")


def recipe_roles(recipe: Any) -> dict[str, Roles]:
    """Each task's :class:`Roles`, from its task config."""
    from ..adapters import get_adapter
    from ..templates import load_template_set

    return {ref.config.name: roles_of(load_template_set(ref.config.templates), get_adapter(ref.config.adapter).family,
                                      ref.config.options) for ref in recipe.tasks}


def read_findings(segments: Iterable[Any]) -> dict[int, list[tuple[int, str, str]]]:
    """Stage 1's findings per segment index (see ``Segment.findings``)."""
    out = {}
    for i, s in enumerate(segments):
        path = getattr(s, "findings", None)
        if path is not None and Path(path).is_file():
            with open(path, "rb") as f:
                out[i] = [tuple(orjson.loads(line)) for line in f]
    return out


# --- on a built output -----------------------------------------------------------------------------

def _roles_from_manifest(manifest: Mapping[str, Any]) -> dict[str, Roles]:
    """Each task's roles, from the template set its manifest entry names: that path when it
    still exists, else the bundled set of that file name."""
    from ..adapters import get_adapter
    from ..resources import bundled_dir
    from ..templates import load_template_set

    roles = {}
    for name, task in manifest["tasks"].items():
        if "roles" in task:
            roles[name] = Roles.from_dict(task["roles"])
            continue
        path = Path(task.get("templates") or "")
        candidates = [path, bundled_dir("templates") / path.name]
        for candidate in candidates:
            if candidate.is_file():
                try:
                    family = task.get("family") or get_adapter(task["adapter"]).family
                    roles[name] = roles_of(load_template_set(candidate.resolve()), family)
                except Exception:  # an edited or foreign file: the task is checked without roles
                    pass
                break
    return roles


def _records(directory: Path, manifest: Mapping[str, Any]) -> Iterator[bytes]:
    for shard in manifest["shards"]:
        with open(directory / shard["path"], "rb") as f:
            yield from f


def audit(output: str | Path, *, max_tokens: int | None = None) -> dict[str, Any]:
    """Every check over every record of a built komt-format output (``komt-data audit``).

    Returns the report's dict: ``passed``, ``checks`` (name, title, failed, count, examples),
    examples, rejected rows, near-duplicate pairs, decontamination matches, label
    distributions and per-task lengths. ``max_tokens`` is the instruction budget in tokens
    (default: the build's ``output.max_tokens``; the check needs ``output.tokenizer``)."""
    from ..errors import OutputError
    from .output_dir import REJECTED, load_verified

    directory = Path(output)
    manifest = load_verified(directory)
    if manifest.get("format", "komt") not in ("komt",):
        raise OutputError(f"{directory} was built as {manifest['format']}; audit reads komt-format outputs "
                          "(build with output.format: komt, then export)")
    roles = _roles_from_manifest(manifest)
    checks = {name: LineChecks(r) for name, r in roles.items()}
    plain = LineChecks(Roles())
    figures = _Figures(roles, manifest.get("seed", 0) & 0xFFFFFFFFFFFFFFFF)
    findings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    counts: Counter = Counter()
    per_task: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"instruction_chars": [], "output_chars": []})
    tokenizer = (manifest.get("stats") or {}).get("tokenizer")
    budget = max_tokens
    count_tokens = None
    if tokenizer and budget:
        from ..tokens import token_counter

        count_tokens = token_counter(tokenizer)
    for line in _records(directory, manifest):
        record = orjson.loads(line)
        problems = checks.get(record["task"], plain).inspect(record)
        # A token covers at least one byte (byte-level BPE at worst): shorter instructions fit.
        if count_tokens is not None and len(record["instruction"].encode()) > budget:
            n = count_tokens(record["instruction"])
            if n > budget:
                problems.append(("over_token_budget", f"{n} tokens > {budget} ({tokenizer})"))
        for check, detail in problems:
            counts[check] += 1
            if counts[check] <= CAPS["per_check"]:
                findings[check].append({"task": record["task"], "template": record["template"], "id": record["id"],
                                        "detail": detail, "text": record["text"]})
        figures.add(record)
        lengths = per_task[record["task"]]
        lengths["instruction_chars"].append(len(record["instruction"]))
        lengths["output_chars"].append(len(record["output"]))
    arrays = {task: {k: np.array(v, np.int64) for k, v in d.items()} for task, d in per_task.items()}
    return _result(manifest, figures, findings, counts, {}, _lengths(arrays), directory / REJECTED,
                   budget_checked=count_tokens is not None, scope="output")
