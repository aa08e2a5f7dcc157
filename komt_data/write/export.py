"""``komt-data export`` and :func:`komt_data.export`: a finished komt output written into
another directory in another format (or prompt), with its own card, report and manifest.

Stage 3's last step run again on a finished output (:func:`komt_data.write.finish.rewrite`
and ``describe``): no recipe, no spools, only the verified shards.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ..exports import get_format
from .audit import audit
from .finish import describe, rewrite
from .output_dir import FILES, REJECTED, load_verified, staged_output


def export(output: str | Path, fmt: str, dest: str | Path, *, prompt: str | None = None,
           shard_size: int | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Write a finished komt-format output into ``dest`` as ``fmt``; return ``dest``'s manifest.

    ``prompt`` re-renders ``text`` in another prompt format; ``shard_size`` defaults to the
    build's. ``dest`` gets its own card, dataset_info.json, report.html, manifest.json and a
    copy of rejected.jsonl, so it stands on its own.
    """
    source = Path(output)
    # Nothing of the source is trusted before it is checked.
    manifest = load_verified(source)
    get_format(fmt)
    if manifest.get("format", "komt") != "komt":
        raise OutputError(f"{source} was built as {manifest['format']}; export reads komt-format outputs "
                          "(build with output.format: komt, then export)")
    dest = Path(dest)
    if dest.resolve() == source.resolve():
        raise OutputError(f"export needs a destination other than {source}")
    size = shard_size or manifest.get("shard_size") or max((s["records"] for s in manifest["shards"]), default=1)
    with staged_output(dest, overwrite) as stage:
        tokenizer = manifest.get("stats", {}).get("tokenizer")
        result = rewrite(source, manifest, stage, fmt, max(1, size), prompt, tokenizer)
        result.pop("build_fingerprint", None)  # dest is an export, never "up to date" for a build
        result.pop(FILES, None)  # the source's: dest's own list is made when it is described
        if (source / REJECTED).is_file():
            shutil.copyfile(source / REJECTED, stage / REJECTED)
        describe(stage, result, audit(source) if manifest.get("format", "komt") == "komt" else None)
    return result
