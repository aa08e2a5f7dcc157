"""Line-aligned parallel text: ``corpus.en`` and ``corpus.ko``, line *n* of one translating line *n* of the other."""

from __future__ import annotations

import itertools
from pathlib import Path

from ..errors import DataError
from .base import BadRow, Rows, detect_encoding, open_text


def partner_path(path: Path, languages: tuple[str, ...]) -> Path:
    """The file paired with ``path``: same name with the second language's suffix.

    ``path`` must end in ``.<first language>`` (optionally followed by ``.gz``).
    """
    first, second = languages
    gz = path.suffix == ".gz"
    stem = path.name[:-3] if gz else path.name
    if not stem.endswith(f".{first}"):
        raise DataError(f"a text-pair file must end in .{first} (source.languages: [{first}, {second}])",
                        file=str(path))
    return path.with_name(stem[: -len(first)] + second + (".gz" if gz else ""))


def read_text_pair(path: Path, languages: tuple[str, ...], encoding: str, configured: str) -> Rows:
    """One row ``{first: line, second: line}`` per line number.

    ``encoding`` is what ``path`` resolved to; the partner file resolves its own when the
    task says ``auto``. Lines past the end of the shorter file are rows too: each is
    reported as ``unaligned``, so a truncated file never passes for a shorter corpus.
    """
    first, second = languages
    partner = partner_path(path, languages)
    if not partner.is_file():
        raise DataError(f"the paired file {partner.name} is missing", file=str(path))
    partner_encoding = detect_encoding(partner) if configured == "auto" else configured
    with open_text(path, encoding) as a, open_text(partner, partner_encoding) as b:
        for number, (left, right) in enumerate(itertools.zip_longest(a, b), 1):
            if left is None or right is None:
                have = first if right is None else second
                lacking = second if right is None else first
                raw = (left if right is None else right).rstrip("\r\n")
                yield number, BadRow("unaligned", f"line {number} exists in the .{have} file only "
                                     f"(the .{lacking} file is shorter)", raw)
                continue
            left, right = left.rstrip("\r\n"), right.rstrip("\r\n")
            if not left.strip() and not right.strip():
                continue
            yield number, {first: left, second: right}
