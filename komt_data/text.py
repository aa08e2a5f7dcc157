"""Text hygiene for Korean: NFC, invisible characters, line endings, whitespace.

NFKC is never used: it turns compatibility jamo (ㅋㅋ) into conjoining jamo and
rewrites full-width punctuation that Korean text uses on purpose.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and BOM characters, plus C0/C1 controls other than tab and newline.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_ALL_WHITESPACE = re.compile(r"\s+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def clean_text(value: str) -> str:
    """Return ``value`` as NFC with invisible characters removed and line endings unified.

    Runs of spaces collapse to one, lines lose trailing spaces and more than one blank
    line collapses to one; the line structure itself is kept, because passages and
    articles use it.
    """
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)
    value = _INVISIBLE.sub("", value)
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _SPACES.sub(" ", value)
    if "\n" in value:
        value = "\n".join(line.strip(" ") for line in value.split("\n"))
        value = _MANY_NEWLINES.sub("\n\n", value)
    return value.strip()


def dedup_form(value: str) -> str:
    """The form two texts are compared in for exact dedup: cleaned, all whitespace removed."""
    return _ALL_WHITESPACE.sub("", clean_text(value))
