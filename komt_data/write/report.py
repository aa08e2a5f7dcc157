"""Figures of a build: task shares, lengths, template usage, drops; as a table and as report.html.

:class:`StatsCollector` sees every written record once (while the output files are
written) and keeps a few integers per record, not the records. :func:`render_html`
draws the figures as inline SVG: one self-contained file, no scripts, no network.
"""

from __future__ import annotations

import html
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import orjson

from ..cli_table import table
from ..cli_table import width as width_of
from .audit import DOMINANT_SHARE
from .figures import histogram


def summarize(values: np.ndarray) -> dict[str, float | int]:
    """min / p50 / p90 / p99 / max / mean of a length array (zeros when empty)."""
    if len(values) == 0:
        return {"min": 0, "p50": 0, "p90": 0, "p99": 0, "max": 0, "mean": 0.0}
    p50, p90, p99 = (int(round(float(np.percentile(values, q)))) for q in (50, 90, 99))
    return {"min": int(values.min()), "p50": p50, "p90": p90, "p99": p99, "max": int(values.max()),
            "mean": round(float(values.mean()), 1)}


class StatsCollector:
    """Counts what is written: per task records and templates, lengths in characters (and tokens)."""

    def __init__(self, task_names: Iterable[str], count_tokens: Callable[[str], int] | None = None):
        self.task_names = list(task_names)
        self._task_index = {name: i for i, name in enumerate(self.task_names)}
        self.count_tokens = count_tokens
        self.templates: dict[str, Counter] = {name: Counter() for name in self.task_names}
        self.splits: Counter = Counter()
        # Compact typed arrays (4 bytes a value), not lists: a build may write tens of millions of records.
        self._task = array("I")
        self._instruction = array("I")
        self._output = array("I")
        self._tokens = array("I")

    def observe(self, records: Iterable[dict[str, Any]], split: str) -> Iterator[dict[str, Any]]:
        """Pass ``records`` through unchanged, counting each."""
        for record in records:
            task = record["task"]
            self._task.append(self._task_index.setdefault(task, len(self._task_index)))
            if task not in self.templates:
                self.task_names.append(task)
                self.templates[task] = Counter()
            self.templates[task][record["template"]] += 1
            self._instruction.append(len(record["instruction"]))
            self._output.append(len(record["output"]))
            if self.count_tokens is not None:
                self._tokens.append(self.count_tokens(record["text"]))
            self.splits[split] += 1
            yield record

    def result(self, tokenizer: str | None = None) -> dict[str, Any]:
        """The figures as a JSON-ready dict (stored in manifest.json under ``stats``)."""
        task = np.frombuffer(self._task, dtype=np.uint32)
        lengths = {"instruction_chars": np.frombuffer(self._instruction, dtype=np.uint32).astype(np.int64),
                   "output_chars": np.frombuffer(self._output, dtype=np.uint32).astype(np.int64)}
        if self.count_tokens is not None:
            lengths["text_tokens"] = np.frombuffer(self._tokens, dtype=np.uint32).astype(np.int64)
        total = len(task)
        tasks = {}
        for i, name in enumerate(self.task_names):
            mask = task == i
            n = int(mask.sum())
            tasks[name] = {"records": n, "share": round(n / total, 4) if total else 0.0,
                           "templates": dict(sorted(self.templates[name].items())),
                           **{key: summarize(values[mask]) for key, values in lengths.items()}}
        return {"records": total, "splits": dict(self.splits), "tokenizer": tokenizer, "tasks": tasks,
                "lengths": {key: {**summarize(values), "histogram": histogram(values)}
                            for key, values in lengths.items()}}


# --- text tables (komt-data stats) ------------------------------------------------------------------

def stats_tables(manifest: Mapping[str, Any]) -> str:
    """The figures of report.html as plain-text tables."""
    stats = manifest["stats"]
    parts = []
    rows = [("task", "records", "share", "templates", "instr p50", "instr p90", "output p50", "output p90")]
    for name, t in stats["tasks"].items():
        rows.append((name, str(t["records"]), f"{t['share']:.1%}", str(len(t["templates"])),
                     str(t["instruction_chars"]["p50"]), str(t["instruction_chars"]["p90"]),
                     str(t["output_chars"]["p50"]), str(t["output_chars"]["p90"])))
    parts.append("Mix (lengths in characters)\n" + table(rows, left=(0,)))
    rows = [("length", "min", "p50", "p90", "p99", "max", "mean")]
    for key, s in stats["lengths"].items():
        rows.append((key, *(str(s[k]) for k in ("min", "p50", "p90", "p99", "max", "mean"))))
    title = "Lengths" + (f" (tokens: {stats['tokenizer']})" if stats.get("tokenizer") else "")
    parts.append(title + "\n" + table(rows, left=(0,)))
    rows = [("task", "template", "records")]
    for name, t in stats["tasks"].items():
        for template, count in t["templates"].items():
            rows.append((name, template, str(count)))
    parts.append("Template usage\n" + table(rows, left=(0, 1)))
    rows = [("task", "reason", "count")]
    for name, t in manifest["tasks"].items():
        for reason, count in t["dropped"].items():
            rows.append((name, reason, str(count)))
    parts.append("Drops by reason\n" + (table(rows, left=(0, 1)) if len(rows) > 1 else "(none)"))
    return "\n\n".join(parts)


# --- SVG ------------------------------------------------------------------------------------------

_PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
            "#9c755f", "#bab0ac")
_FONT = "font-family:'Noto Sans CJK KR','Apple SD Gothic Neo','Malgun Gothic',sans-serif;font-size:12px"


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def svg_hbars(items: list[tuple[str, float]], *, title: str, value_label: Callable[[float], str] = str,
              width: int = 720, colors: list[str] | None = None) -> str:
    """Horizontal bar chart, one bar per (label, value); ``colors`` per bar, else a palette cycle."""
    # Label column wide enough for the longest label (a wide character takes two columns).
    label_w = min(320, 20 + 7 * max((width_of(label) for label, _ in items), default=10))
    bar_h, gap, top = 18, 6, 28
    height = top + len(items) * (bar_h + gap) + 10
    biggest = max((v for _, v in items), default=0) or 1
    plot_w = width - label_w - 70
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
           f'aria-label="{_esc(title)}" style="{_FONT}">',
           f'<text x="0" y="16" font-weight="bold" font-size="14">{_esc(title)}</text>']
    for i, (label, value) in enumerate(items):
        y = top + i * (bar_h + gap)
        w = max(1.0, plot_w * value / biggest) if value else 0
        out.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{_esc(label)}</text>')
        fill = colors[i] if colors else _PALETTE[i % len(_PALETTE)]
        out.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{fill}">'
                   f'<title>{_esc(label)}: {_esc(value_label(value))}</title></rect>')
        out.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 13}">{_esc(value_label(value))}</text>')
    out.append("</svg>")
    return "\n".join(out)


def svg_histogram(hist: Mapping[str, list[int]], *, title: str, unit: str, width: int = 640) -> str:
    """Vertical bars over doubling length bins."""
    edges, counts = hist["edges"], hist["counts"]
    labels = [f"{edges[i]}–{edges[i + 1]}" if i + 1 < len(edges) else f"{edges[i]}+" for i in range(len(counts))]
    height, top, bottom, left = 260, 30, 70, 50
    plot_h = height - top - bottom
    step = (width - left - 10) / max(1, len(counts))
    biggest = max(counts, default=0) or 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
           f'aria-label="{_esc(title)}" style="{_FONT}">',
           f'<text x="0" y="16" font-weight="bold" font-size="14">{_esc(title)}</text>',
           f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#333"/>',
           f'<text x="{left - 6}" y="{top + 10}" text-anchor="end">{biggest}</text>',
           f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>']
    for i, (label, count) in enumerate(zip(labels, counts, strict=True)):
        h = plot_h * count / biggest
        x = left + i * step
        out.append(f'<rect x="{x + 2:.1f}" y="{top + plot_h - h:.1f}" width="{step - 4:.1f}" height="{h:.1f}" '
                   f'fill="#4e79a7"><title>{_esc(label)} {unit}: {count}</title></rect>')
        out.append(f'<text x="{x + step / 2:.1f}" y="{top + plot_h + 14}" text-anchor="end" font-size="10" '
                   f'transform="rotate(-35 {x + step / 2:.1f} {top + plot_h + 14})">{_esc(label)}</text>')
    out.append(f'<text x="{(left + width) / 2:.0f}" y="{height - 4}" text-anchor="middle">{_esc(unit)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _html_table(rows: list[tuple[Any, ...]]) -> str:
    head, *body = rows
    out = ["<table><thead><tr>", *(f"<th>{_esc(c)}</th>" for c in head), "</tr></thead><tbody>"]
    for row in body:
        out.append("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render_html(manifest: Mapping[str, Any], examples: Mapping[str, Any] | None = None) -> str:
    """report.html: self-contained HTML with inline SVG plots of the build's figures and, when
    ``examples`` is given (:func:`komt_data.audit.gather` or :func:`komt_data.audit.audit`),
    the automatic checks, label distributions, records as the model sees them, rejected rows,
    near-duplicate pairs and decontamination matches."""
    stats = manifest["stats"]
    tasks = stats["tasks"]
    sections = []
    sections.append(svg_hbars([(n, t["share"]) for n, t in tasks.items()], title="Share of the mix per task",
                              value_label=lambda v: f"{v:.1%}"))
    names = {"instruction_chars": ("Instruction length", "characters"),
             "output_chars": ("Output length", "characters"),
             "text_tokens": ("Training text length", f"tokens ({stats.get('tokenizer')})")}
    for key, summary in stats["lengths"].items():
        title, unit = names.get(key, (key, ""))
        sections.append(svg_histogram(summary["histogram"], title=f"{title} (p50 {summary['p50']}, "
                                      f"p90 {summary['p90']}, max {summary['max']})", unit=unit))
    usage, colors = [], []
    for i, (name, t) in enumerate(tasks.items()):
        for template, count in t["templates"].items():
            usage.append((f"{name} · {template}", count))
            colors.append(_PALETTE[i % len(_PALETTE)])
    sections.append(svg_hbars(usage, title="Template usage (records per template, coloured by task)",
                              value_label=lambda v: str(int(v)), colors=colors))
    drops: Counter = Counter()
    for t in manifest["tasks"].values():
        drops.update(t["dropped"])
    if drops:
        sections.append(svg_hbars(sorted(drops.items(), key=lambda kv: (-kv[1], kv[0])),
                                  title="Dropped rows and records by reason", value_label=lambda v: str(int(v))))
    few = any("fewshot" in t for t in manifest["tasks"].values())
    rows = [("task", "read", "written", "train", "validation") + (("zero-shot", "few-shot (exemplars)") if few else ())
            + ("dropped", "licence")]
    for name, t in manifest["tasks"].items():
        shots = t.get("fewshot")
        rows.append((name, t["read"], t["written"], t["splits"].get("train", 0), t["splits"].get("validation", 0))
                    + (((t["written"] - shots["records"], f"{shots['records']} ({shots['exemplars']})") if shots
                        else (t["written"], "-")) if few else ())
                    + (", ".join(f"{k} {v}" for k, v in t["dropped"].items()) or "-", t.get("license") or "?"))
    warnings = "".join(f"<li>{_esc(w)}</li>" for w in manifest.get("warnings", []))
    title = f"komt-data report: {manifest['name']}"
    splits = ", ".join(f"{k} {v}" for k, v in manifest["splits"].items())
    curated = _curator_sections(manifest, examples) if examples else ("", "")
    return f"""<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8"><title>{_esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ {_FONT}; font-size: 14px; max-width: 1100px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }} td, th {{ border: 1px solid #ccc; padding: 2px 8px; }}
td {{ text-align: right; }} td:first-child, td:last-child {{ text-align: left; }}
figure {{ margin: 1.5em 0; }} .warn {{ color: #a33; }}
nav a {{ margin-right: 1em; }}
pre.rec {{ white-space: pre-wrap; word-break: break-word; background: #eef2f7; border-left: 4px solid #4e79a7;
  padding: 6px 10px; margin: 4px 0 12px; font-family: inherit; font-size: 13px; }}
.meta {{ color: #555; font-size: 12px; }}
.pair {{ display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }}
mark.d {{ background: #ffc84a; color: inherit; }}
mark.n {{ background: #8fe3a1; color: inherit; }}
.fail {{ color: #b00020; font-weight: bold; }} .pass {{ color: #2e7d32; }}
tr.fail td {{ background: #fde7ea; }}
.clip {{ color: #777; font-style: italic; }} table.checks td {{ text-align: left; }}
</style></head><body>
<h1>{_esc(title)}</h1>
<p>{stats['records']} records ({splits}), seed {manifest['seed']}, format {_esc(manifest['format'])},
prompt {_esc(manifest.get('prompt', 'komt'))}, komt-data {_esc(manifest['komt_data_version'])}.</p>
{curated[0]}
{f'<h2>Licence warnings</h2><ul class="warn">{warnings}</ul>' if warnings else ''}
<h2 id="figures">Figures</h2>
{"".join(f"<figure>{s}</figure>" for s in sections)}
<h2>Tasks</h2>
{_html_table(rows)}
{curated[1]}
</body></html>
"""


# --- the curator's sections (komt_data.audit) ------------------------------------------------------

_NAV = (("checks", "Look at this"), ("labels", "Labels and lengths"), ("examples", "Records"),
        ("rejected", "Rejected rows"), ("near", "Near duplicates"), ("contamination", "Decontamination"))


def _clip(text: str, cap: int) -> tuple[str, str]:
    """``text`` cut to ``cap`` characters, and a note of what was left out."""
    if len(text) <= cap:
        return text, ""
    return text[:cap], f'<span class="clip"> … {len(text) - cap:,} more characters not shown</span>'


def _pre(text: str, cap: int) -> str:
    shown, note = _clip(text, cap)
    return f'<pre class="rec">{_esc(shown)}{note}</pre>'


def _marked(text: str, flags: list[bool], css: str) -> str:
    """``text`` with the runs of characters whose flag is set wrapped in <mark class=css>."""
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and flags[j] == flags[i]:
            j += 1
        piece = _esc(text[i:j])
        out.append(f'<mark class="{css}">{piece}</mark>' if flags[i] else piece)
        i = j
    return "".join(out)


def diff_flags(a: str, b: str) -> tuple[list[bool], list[bool]]:
    """Per character of ``a`` and of ``b``: whether it differs from the other text (not in a
    matching block of difflib's alignment)."""
    import difflib

    fa, fb = [True] * len(a), [True] * len(b)
    for block in difflib.SequenceMatcher(None, a, b).get_matching_blocks():
        fa[block.a:block.a + block.size] = [False] * block.size
        fb[block.b:block.b + block.size] = [False] * block.size
    return fa, fb


def shared_ngram_flags(text: str, other: str, n: int) -> list[bool]:
    """Per character of ``text``: whether it lies in a character ``n``-gram that ``other``
    also has, both read without whitespace (as decontamination compares them)."""
    where = [i for i, c in enumerate(text) if not c.isspace()]
    squeezed = "".join(text[i] for i in where)
    plain = "".join(c for c in other if not c.isspace())
    grams = {plain[i:i + n] for i in range(len(plain) - n + 1)}
    flags = [False] * len(text)
    for j in range(len(squeezed) - n + 1):
        if squeezed[j:j + n] in grams:
            for k in range(j, j + n):
                flags[where[k]] = True
    # Whitespace inside a shared run is marked too, so the run reads as one.
    for k in range(len(where) - 1):
        if flags[where[k]] and flags[where[k + 1]]:
            for i in range(where[k] + 1, where[k + 1]):
                flags[i] = True
    return flags


def _where(row: Mapping[str, Any]) -> str:
    position = row.get("line", row.get("row"))
    return f"{row.get('file', '?')}:{position}" if position is not None else str(row.get("file", "?"))


def _curator_sections(manifest: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[str, str]:
    """(the checks, shown first; the rest, after the figures)."""
    caps = data["caps"]
    cap = caps["text_chars"]
    nav = "<nav>" + "".join(f'<a href="#{key}">{_esc(label)}</a>' for key, label in _NAV) + "</nav>"
    scope = ("every written record (stage 1, on each record's line)" if data.get("scope") == "build"
             else "every record of the output")
    head = [nav, '<h2 id="checks">Look at this</h2>',
            f"<p>Automatic checks over {scope}; label distributions and repeated responses over "
            + ("a sample of up to {:,} written records per task".format(caps["sample"]) if data.get("scope") == "build"
               else "every record")
            + ". The same checks as <code>komt-data audit OUT</code>.</p>"]
    rows = ['<table class="checks"><thead><tr><th>check</th><th>result</th><th>what it means</th></tr></thead><tbody>']
    for c in data["checks"]:
        if c.get("skipped"):
            result = f"not run: {_esc(c['skipped'])}"
        elif c["failed"]:
            result = f'<span class="fail">✘ {c["count"]:,}</span>'
        else:
            result = '<span class="pass">✔ none</span>'
        rows.append(f'<tr class="{"fail" if c["failed"] else ""}"><td>{_esc(c["name"])}</td><td>{result}</td>'
                    f"<td>{_esc(c['title'])}</td></tr>")
    rows.append("</tbody></table>")
    head += rows
    for c in data["checks"]:
        if not c["failed"]:
            continue
        head.append(f'<h3 class="fail">{_esc(c["name"])}: {_esc(c["title"])}</h3>')
        for e in c["examples"]:
            if "text" in e:
                head.append(f'<p class="meta">{_esc(e["task"])} · {_esc(e["template"])} · {_esc(e["id"])}: '
                            f"{_esc(e['detail'])}</p>{_pre(e['text'], cap)}")
            elif "label" in e:
                head.append(f'<p class="meta">{_esc(e["task"])}: {e["share"]:.1%} of {e["records"]:,} labelled '
                            f"records are {_esc(e['label'])!s}</p>")
            else:
                head.append(f'<p class="meta">{_esc(e["task"])} · {_esc(e["template"])}: the same response for '
                            f"{e['instructions']:,} different instructions ({e['records']:,} of {e['of']:,})</p>"
                            f"{_pre(e['output'], cap)}")
    tail = []
    # Labels and lengths per task.
    tail.append('<h2 id="labels">Labels and lengths per task</h2>')
    for task, t in manifest["stats"]["tasks"].items():
        tail.append(f"<h3>{_esc(task)}</h3>")
        labels = data["labels"].get(task)
        if labels and labels["records"]:
            top = list(labels["labels"].items())[:12]
            rest = sum(labels["labels"].values()) - sum(v for _, v in top)
            if rest:
                top.append(("(others)", rest))
            total = labels["records"]
            dominant = labels["top_share"] >= DOMINANT_SHARE
            colours = ["#e15759" if dominant and i == 0 else "#59a14f" for i in range(len(top))]
            note = f"a sample of {total:,} records" if labels["sampled"] else f"all {total:,} labelled records"
            tail.append(svg_hbars([(k, v / total) for k, v in top], colors=colours,
                                  title=f"{task}: labels ({note})" + (" — one label dominates" if dominant else ""),
                                  value_label=lambda v: f"{v:.1%}"))
        keys = [k for k in ("instruction_chars", "output_chars", "text_tokens") if k in t]
        rows = [("length", "min", "p50", "p90", "p99", "max")]
        for k in keys:
            rows.append((k, *(t[k][q] for q in ("min", "p50", "p90", "p99", "max"))))
        tail.append(_html_table(rows))
        hists = data["lengths"].get(task, {})
        for k, hist in hists.items():
            if sum(hist["counts"]):
                tail.append(svg_histogram(hist, title=f"{task}: {k.replace('_', ' ')}", unit="characters", width=520))
    # Records per task and template.
    tail.append('<h2 id="examples">Records as the model sees them</h2>')
    tail.append(f"<p>Per task and template, up to {caps['per_template']} written records (the <code>text</code> "
                f"field, line breaks kept), drawn by a seeded hash of their ids; texts over {cap:,} characters "
                "are cut and say so.</p>")
    for group in data["examples"]:
        tail.append(f'<h3>{_esc(group["task"])} · {_esc(group["template"])}</h3>')
        for record in group["records"]:
            tail.append(f'<p class="meta">{_esc(record["id"])}</p>{_pre(record["text"], cap)}')
    # Rejected rows.
    tail.append('<h2 id="rejected">Rejected rows</h2>')
    tail.append(f"<p>Per task and drop reason, the first {caps['per_reason']} rows of rejected.jsonl "
                f"(at most {caps['rejected_rows']} in all).</p>")
    if not data["rejected"]:
        tail.append("<p>Nothing was dropped.</p>")
    for row in data["rejected"]:
        body = row.get("record", {}).get("text") if isinstance(row.get("record"), dict) else None
        if body is None:
            body = orjson.dumps(row.get("input", row.get("row")), option=orjson.OPT_INDENT_2).decode() \
                if row.get("input", row.get("row")) is not None else ""
        tail.append(f'<p class="meta"><b>{_esc(row.get("reason"))}</b> · {_esc(row.get("task"))} · '
                    f'{_esc(_where(row))}: {_esc(row.get("detail", ""))}</p>{_pre(body, cap)}')
    # Near-duplicate pairs.
    tail.append('<h2 id="near">Near duplicates</h2>')
    tail.append(f"<p>Up to {caps['near_pairs']} pairs: the survivor (kept) beside the record dropped as its near "
                'duplicate; <mark class="d">highlighted</mark> characters differ.</p>')
    if not data["near_pairs"]:
        tail.append("<p>No near duplicates were dropped" + ("" if manifest.get("near_dedup") else
                                                             " (near dedup is off: <code>dedup: {near: true}</code>)")
                    + ".</p>")
    for row in data["near_pairs"]:
        kept, dropped = row["survivor"]["record"]["text"], row["record"]["text"]
        a, _ = _clip(kept, cap)
        b, _ = _clip(dropped, cap)
        fa, fb = diff_flags(a, b)
        tail.append(f'<p class="meta">{_esc(row["task"])} · estimated Jaccard {row.get("jaccard", 0):.2f}</p>'
                    f'<div class="pair"><div><p class="meta">kept: {_esc(_where(row["survivor"]))}</p>'
                    f'<pre class="rec">{_marked(a, fa, "d")}</pre></div>'
                    f'<div><p class="meta">dropped: {_esc(_where(row))}</p>'
                    f'<pre class="rec">{_marked(b, fb, "d")}</pre></div></div>')
    # Decontamination matches.
    tail.append('<h2 id="contamination">Decontamination matches</h2>')
    n = data.get("ngram", 7)
    tail.append(f"<p>Up to {caps['contaminated']} training records dropped as copies of an evaluation item, beside "
                f'the item; <mark class="n">highlighted</mark> characters lie in a shared character {n}-gram.</p>')
    if not data["contaminated"]:
        tail.append("<p>No record was dropped as contaminated" + ("" if manifest.get("decontamination") else
                                                                  " (no <code>decontaminate:</code> in the recipe)")
                    + ".</p>")
    for row in data["contaminated"]:
        item = row["eval_item"]
        a, _ = _clip(row["record"]["text"], cap)
        b, _ = _clip(item["text"], cap)
        tail.append(f'<p class="meta">{_esc(row["task"])} · {_esc(row.get("detail", ""))}</p>'
                    f'<div class="pair"><div><p class="meta">training: {_esc(_where(row))}</p>'
                    f'<pre class="rec">{_marked(a, shared_ngram_flags(a, b, n), "n")}</pre></div>'
                    f'<div><p class="meta">evaluation: {_esc(item["set"])} {_esc(item["where"])}</p>'
                    f'<pre class="rec">{_marked(b, shared_ngram_flags(b, a, n), "n")}</pre></div></div>')
    tail.append(f"<p class=\"meta\">Caps: {', '.join(f'{k} {v:,}' for k, v in caps.items())}.</p>")
    return "\n".join(head), "\n".join(tail)


