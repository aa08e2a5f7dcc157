"""The ``komt-data`` command: a thin layer that parses options, calls the library, prints.

Every library error becomes one line on stderr and a documented exit code (see
``EXIT_CODES``); no error path prints a traceback unless ``KOMT_DATA_DEBUG=1``.
"""

from __future__ import annotations

import os
import signal
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from ._version import __version__
from .cli_table import table
from .errors import Interrupted, KomtDataError, on_signal, signals_held

EXIT_CODES = """Exit codes:

\b
  0    success (including "up to date": nothing to do)
  1    configuration, usage or output error (bad recipe, template, option or --output)
  2    bad input data: --on-error fail met a bad row, or --max-errors was exceeded
  70   internal error (a bug: please report it; KOMT_DATA_DEBUG=1 shows the traceback)
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM). Temporary files are removed
       and a previous output is left as it was."""

app = typer.Typer(
    name="komt-data",
    help="Build Korean multi-task instruction-tuning data in the komt format "
    "(### instruction: … / ### Response: …).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    epilog=EXIT_CODES,
)


def _fail(exc: KomtDataError) -> NoReturn:
    typer.echo(f"komt-data: error: {exc}", err=True)
    raise typer.Exit(exc.exit_code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"komt-data {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Build Korean multi-task instruction-tuning data in the komt format."""


class OnError(str, Enum):
    skip = "skip"
    fail = "fail"


class Engine(str, Enum):
    local = "local"
    ray = "ray"


ConfigArg = Annotated[
    Path | None,
    typer.Argument(help="A recipe or a single task config (YAML). Default: the bundled sample recipe.",
                   show_default=False),
]


def _tqdm_factory(quiet: bool):
    from tqdm import tqdm

    def make(**kwargs: Any):
        return tqdm(file=sys.stderr, disable=quiet, dynamic_ncols=True, **kwargs)

    return make


def _summary_table(manifest: dict[str, Any]) -> str:
    few = any("fewshot" in t for t in manifest["tasks"].values())
    header = ("task", "read", "planned", "written", "train", "valid", "test") + (("few-shot",) if few else ()) \
        + ("dropped",)
    rows = [header]
    for name, t in manifest["tasks"].items():
        dropped = ", ".join(f"{k} {v}" for k, v in t["dropped"].items()) or "-"
        rows.append((name, str(t["read"]), str(t.get("planned", "-")), str(t["written"]),
                     str(t["splits"]["train"]), str(t["splits"]["validation"]), str(t["splits"].get("test", 0)))
                    + ((_shots(t.get("fewshot"), t["written"]),) if few else ()) + (dropped,))
    total_read = sum(t["read"] for t in manifest["tasks"].values())
    total_planned = sum(t.get("planned", 0) for t in manifest["tasks"].values())
    total_written = sum(t["written"] for t in manifest["tasks"].values())
    few_total = sum(t.get("fewshot", {}).get("records", 0) for t in manifest["tasks"].values())
    rows.append(("total", str(total_read), str(total_planned), str(total_written),
                 str(manifest["splits"].get("train", 0)), str(manifest["splits"].get("validation", 0)),
                 str(manifest["splits"].get("test", 0)))
                + ((_shots({"records": few_total}, total_written),) if few else ())
                + (str(manifest["rejected"]["records"]),))
    return table(rows, left=(0, len(rows[0]) - 1), total_row=True)


def _plan_table(plan: Any) -> str:
    few = plan.fewshot
    rows = [("task", "available", "planned", "share", "repeat") + (("few-shot",) if few else ())]
    for t in plan.tasks:
        rows.append((t.name, str(t.available), str(t.planned), f"{t.share:.1%}", "yes" if t.repeat else "-")
                    + ((_shots(few.get(t.name), t.planned),) if few else ()))
    total = plan.total if plan.total is not None else "-"
    rows.append(("total", str(sum(t.available for t in plan.tasks)), str(plan.planned), "100.0%", f"asked {total}")
                + ((_shots({"records": sum(c["records"] for c in few.values())}, plan.planned),) if few else ()))
    return table(rows, left=(0, len(rows[0]) - 1), total_row=True)


def _shots(counts: dict[str, int] | None, records: int) -> str:
    """A task's few-shot records, as a count and a share of its records ("-": few-shot off)."""
    if counts is None:
        return "-"
    return f"{counts['records']} ({counts['records'] / records:.0%})" if records else "0"


@app.command()
def build(
    config: ConfigArg = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Output directory.")] = Path("out"),
    seed: Annotated[int | None, typer.Option(help="Override the recipe's seed.", show_default=False)] = None,
    limit: Annotated[int | None, typer.Option(help="Read at most N rows of each input file (a quick try).",
                                              show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing komt-data output directory.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Rebuild (and replace the output) even when it is "
                                        "up to date.")] = False,
    on_error: Annotated[OnError, typer.Option(help="skip: bad rows go to rejected.jsonl; fail: stop at the "
                                              "first bad row (exit 2).")] = OnError.skip,
    max_errors: Annotated[str | None, typer.Option(
        help="Stop (exit 2) when more than N rows are rejected in all, or, given a fraction like 0.05 "
             "or 5%, when any one input file loses more than that share.", show_default=False)] = None,
    max_line_bytes: Annotated[int, typer.Option(
        min=1, help="Reject lines longer than this (line formats) as line_too_long.")] = 10_000_000,
    max_document_bytes: Annotated[int, typer.Option(
        min=1, help="Refuse (exit 2) a file read whole (JSON, SQuAD, AIHub JSON, an unpacked .xlsx) larger "
                    "than this.")] = 1 << 30,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, no warnings, no summary.")]
    = False,
    json_: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary (JSON) on stdout.")] = False,
    engine: Annotated[Engine, typer.Option(help="local: this process; ray: read, adapt and render on a Ray "
                                           "cluster (pip install 'komt-data[ray]'). Same bytes either way.")
                      ] = Engine.local,
    address: Annotated[str | None, typer.Option(help="Ray cluster for --engine ray: auto, or ray://host:port "
                                                "(default: start a local Ray).", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the mixing plan (per task: available, "
                                          "planned, share) and write nothing.")] = False,
    workers: Annotated[int, typer.Option("--workers", "-j", min=0, envvar="KOMT_DATA_WORKERS",
                                         help="Processes that read, render and write (0: one per CPU). "
                                         "The output is the same for any number.")] = 0,
) -> None:
    """Build a recipe (or one task config) into shards, manifest.json, rejected.jsonl, README.md and report.html.

    An unchanged rebuild (same recipe, inputs, version and seed) prints "up to date" and
    leaves the output untouched.

    Example: komt-data build task_configs/sample/recipe.yaml -o out --seed 7
    Example: komt-data build recipe.yaml -o out --engine ray --address auto
    """
    with signals_held():
        from . import builder
        from .arguments import check_limit, check_seed

    try:  # before anything is read: a wrong number must not fail after the whole build ran
        check_seed(seed, "--seed")
        check_limit(limit, "--limit")
    except KomtDataError as exc:
        _fail(exc)
    if dry_run:
        try:
            mix_plan = builder.plan(config, seed=seed, limit=limit, progress=_tqdm_factory(quiet))
        except KomtDataError as exc:
            _fail(exc)
        typer.echo(_plan_table(mix_plan))
        typer.echo(f"dry run: nothing written (a build would write {mix_plan.planned} records to {output}/)")
        return
    try:
        manifest = builder.build(config, output, seed=seed, limit=limit, overwrite=overwrite,
                                 on_error=on_error.value, progress=_tqdm_factory(quiet or json_), force=force,
                                 engine=engine.value, address=address, max_errors=max_errors,
                                 max_line_bytes=max_line_bytes, workers=workers,
                                 max_document_bytes=max_document_bytes)
    except KomtDataError as exc:
        _fail(exc)
    _output_in_place()
    if json_:
        typer.echo(_json_summary(manifest, output))
        return
    if quiet:  # nothing at all: the warnings stay in manifest.json, README.md and --json
        return
    for warning in manifest.get("warnings", []):
        typer.echo(f"komt-data: warning: {warning}", err=True)
    if manifest.get("up_to_date"):
        typer.echo(f"{output}/ is up to date (use --force to rebuild)")
        return
    typer.echo(_summary_table(manifest))
    # Legacy encodings are worth a glance: a wrong guess shows up as undecodable rows.
    for task in manifest["tasks"].values():
        for source in task.get("sources", []):
            if source.get("encoding") not in (None, "utf-8", "utf-8-sig"):
                typer.echo(f"note: {source['file']} was read as {source['encoding']}")
    files = ", ".join(name for name in ("manifest.json", "rejected.jsonl", "README.md", "dataset_info.json",
                                        "report.html") if (output / name).exists())
    typer.echo(f"wrote {output}/ ({len(manifest['shards'])} {manifest['format']} files, {files})")


def _json_summary(manifest: dict[str, Any], output: Path) -> str:
    import json

    summary = {
        "status": "up_to_date" if manifest.get("up_to_date") else "built",
        "output": str(output),
        "name": manifest["name"],
        "format": manifest["format"],
        "seed": manifest["seed"],
        "splits": manifest["splits"],
        "files": [s["path"] for s in manifest["shards"]],
        "tasks": {name: {k: t[k] for k in ("read", "written", "dropped", "license", "fewshot") if k in t}
                  for name, t in manifest["tasks"].items()},
        "rejected": manifest["rejected"]["records"],
        "warnings": manifest.get("warnings", []),
    }
    return json.dumps(summary, ensure_ascii=False, sort_keys=True)


def _format_names() -> list[str]:
    with signals_held():
        from .exports import format_names

    return format_names()


def _prompt_names() -> list[str]:
    with signals_held():
        from .exports import prompt_names

    return prompt_names()


@app.command()
def export(
    output: Annotated[Path, typer.Argument(help="A komt-format output directory (from komt-data build).")],
    # Plain strings checked against the registries in the body, so a plugin's format or prompt
    # works here too. The help is static (importing the registries would slow every command's
    # start); a test checks it names every built-in, and a bad value lists plugins as well.
    format: Annotated[str, typer.Option("--format", "-f", help="The format to write: komt, komt-json, alpaca, "
                                        "sharegpt, messages, parquet, hf, or one a plugin registers.",
                                        autocompletion=_format_names, show_default=False)],
    dest: Annotated[Path, typer.Option("-o", "--output", help="Destination directory.")],
    prompt: Annotated[str | None, typer.Option(help="Re-render the text field in this prompt format: "
                                               "komt, alpaca, mistral, or one a plugin registers.",
                                               autocompletion=_prompt_names, show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing komt-data directory at the destination.")]
    = False,
) -> None:
    """Write a built output in another format (komt-json, alpaca, sharegpt, messages, parquet, hf).

    Example: komt-data export out --format sharegpt -o out-sharegpt
    """
    with signals_held():
        from .config import one_of
        from .write.export import export as export_output

    try:
        one_of(format, _format_names(), file="--format")
        if prompt is not None:
            one_of(prompt, _prompt_names(), file="--prompt")
        manifest = export_output(output, format, dest, prompt=prompt, overwrite=overwrite)
    except KomtDataError as exc:
        _fail(exc)
    for warning in manifest.get("warnings", []):
        typer.echo(f"komt-data: warning: {warning}", err=True)
    typer.echo(f"wrote {dest}/ ({format}: {', '.join(s['path'] for s in manifest['shards'])})")


@app.command()
def stats(
    output: Annotated[Path, typer.Argument(help="An output directory written by komt-data.")] = Path("out"),
) -> None:
    """Print the figures of report.html: shares, lengths, template usage, drops by reason.

    Example: komt-data stats out
    """
    with signals_held():
        from .write.output_dir import load_manifest
        from .write.report import stats_tables

    try:
        manifest = load_manifest(output)
    except KomtDataError as exc:
        _fail(exc)
    if "stats" not in manifest:
        typer.echo(f"komt-data: error: {output}/manifest.json has no stats (built by an older komt-data; "
                   "rebuild it)", err=True)
        raise typer.Exit(1)
    typer.echo(stats_tables(manifest))


@app.command()
def audit(
    output: Annotated[Path, typer.Argument(help="An output directory written by komt-data (komt format).")]
    = Path("out"),
    json_output: Annotated[bool, typer.Option("--json", help="Print the checks as one JSON object.")] = False,
    max_tokens: Annotated[int | None, typer.Option(help="Instruction budget in tokens (needs output.tokenizer).",
                                                   show_default=False)] = None,
) -> None:
    """Check every record: answers missing from their passage, one response for many inputs,
    a dominant label, blank fields, template markup, collapsed lists. Exit 1 when a check fails.

    Example: komt-data audit out --json > audit.json
    """
    import orjson

    with signals_held():
        from .write.audit import audit as run_audit

    try:
        result = run_audit(output, max_tokens=max_tokens)
    except KomtDataError as exc:
        _fail(exc)
    if json_output:
        typer.echo(orjson.dumps({"passed": result["passed"], "checks": result["checks"]}).decode())
    else:
        rows = [("check", "result", "what it means")]
        for c in result["checks"]:
            state = "skipped" if c.get("skipped") else (f"FAIL {c['count']}" if c["failed"] else "ok")
            rows.append((c["name"], state, c["title"]))
        typer.echo(table(rows, left=(0, 1, 2)))
        for c in result["checks"]:
            for e in c["examples"] if c["failed"] else ():
                where = " · ".join(str(e[k]) for k in ("task", "template", "id") if k in e)
                what = e.get("detail") or (f"{e['share']:.1%} {e['label']}" if "label" in e
                                           else f"{e.get('instructions')} instructions → {e.get('output', '')[:60]!r}")
                typer.echo(f"{c['name']}: {where}: {what}".replace("\n", " ⏎ "))
    if not result["passed"]:
        raise typer.Exit(1)


@app.command()
def preview(
    config: ConfigArg = None,
    n: Annotated[int, typer.Option("-n", help="How many records.")] = 3,
    task: Annotated[str | None, typer.Option(help="Which task of a recipe (default: the first).",
                                             show_default=False)] = None,
    seed: Annotated[int | None, typer.Option(help="Override the recipe's seed.", show_default=False)] = None,
) -> None:
    """Print the first N records of a task exactly as the training text.

    Example: komt-data preview task_configs/sample/klue_nli.yaml -n 2
    """
    with signals_held():
        from .arguments import check_seed
        from .spool.preview import preview as preview_records

    try:
        check_seed(seed, "--seed")
        if n < 0:
            raise KomtDataError(f"-n must be a whole number of records, got {n}")
        records = preview_records(config, n, task=task, seed=seed)
    except KomtDataError as exc:
        _fail(exc)
    for record in records:
        typer.echo(f"=== {record['id']}  [{record['template']}]")
        typer.echo(record["text"])
        typer.echo("")


@app.command()
def validate(
    configs: Annotated[list[Path], typer.Argument(help="Recipes or task configs to check.")],
) -> None:
    """Check configs and their templates; exit 1 with the file and key of the first problem.

    Example: komt-data validate task_configs/sample/recipe.yaml
    """
    with signals_held():
        from .catalog import validate as validate_config

    for path in configs:
        try:
            summary = validate_config(path)
        except KomtDataError as exc:
            _fail(exc)
        tasks = ", ".join(f"{t['name']} ({t['templates']} templates)" for t in summary["tasks"])
        typer.echo(f"{path}: ok: {tasks}")


class Listing(str, Enum):
    adapters = "adapters"
    templates = "templates"
    tasks = "tasks"


@app.command("list")
def list_(
    what: Annotated[Listing, typer.Argument(help="adapters, templates or tasks.")] = Listing.adapters,
) -> None:
    """List registered adapters, built-in template sets or bundled task configs.

    Example: komt-data list templates
    """
    with signals_held():
        from . import catalog

    try:
        if what is Listing.adapters:
            for row in catalog.list_adapters():
                typer.echo(f"{row['name']:<16} {row['family']:<14} fields: {', '.join(row['fields'])}")
        elif what is Listing.templates:
            for row in catalog.list_templates():
                typer.echo(f"{row['name']:<16} {row['templates']:>3} templates ({row['inverted']} inverted)  "
                           f"{row['description']}")
        else:
            for row in catalog.list_tasks():
                typer.echo(f"{row['ref']:<40} {row['adapter']:<14} {row['source']}")
    except KomtDataError as exc:
        _fail(exc)


def _output_in_place() -> None:
    """The build succeeded: a Ctrl-C now must not report "no output written" and exit 130
    (a Makefile would fail a target that is complete). Only our own handlers are replaced
    (not those of a program that runs the CLI in-process)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is on_signal:
            signal.signal(sig, signal.SIG_IGN)


def main() -> None:
    """Entry point of the ``komt-data`` console script."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    try:
        # Not standalone: the framework would exit 2 on a usage error, which is our code
        # for bad data; here a usage error is reported as usual and exits 1.
        code = app(standalone_mode=False)
    except typer.Abort:
        typer.echo("komt-data: aborted", err=True)
        sys.exit(1)
    except (Interrupted, KeyboardInterrupt) as exc:
        code = exc.exit_code if isinstance(exc, Interrupted) else 130
        typer.echo(f"komt-data: interrupted{' (SIGTERM)' if code == 143 else ''}; "
                   "temporary files removed, no output written", err=True)
        sys.exit(code)
    except OSError as exc:  # disk full, permission denied...: the environment, not a bug
        where = f": {exc.filename}" if exc.filename else ""
        typer.echo(f"komt-data: error: {exc.strerror or exc}{where}", err=True)
        sys.exit(1)
    except Exception as exc:  # a bug: one line for the user, the traceback on request
        if _is_usage_error(exc):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(1)
        if debug():
            raise
        typer.echo(f"komt-data: internal error: {type(exc).__name__}: {exc} "
                   "(set KOMT_DATA_DEBUG=1 for the traceback, and please report it)", err=True)
        sys.exit(70)
    sys.exit(code if isinstance(code, int) else 0)


def debug() -> bool:
    """Whether ``KOMT_DATA_DEBUG`` asks for tracebacks: ``0``, ``false``, ``no``, ``off`` and
    empty mean no, as a user who writes ``KOMT_DATA_DEBUG=0`` expects."""
    return os.environ.get("KOMT_DATA_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")


def _is_usage_error(exc: Exception) -> bool:
    # The framework's own exceptions (bad option, missing argument, bad value) show
    # themselves; recognised by duck type, since typer's bundled Click is private.
    return callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int)
