"""Text hygiene for Korean: NFC, invisible characters, line endings, whitespace.

NFKC is never used: it turns compatibility jamo (ㅋㅋ) into conjoining jamo and
rewrites full-width punctuation that Korean text uses on purpose.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter

# Zero-width, BOM, soft hyphen, direction marks and embeddings, invisible operators,
# plus C0/C1 controls other than tab and the line breaks (mapped below).
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u180e\u034f\ufeff\u00ad"
                        "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
# Line breaks other than \n: CR (alone or in CRLF), NEL, LINE/PARAGRAPH SEPARATOR, VT, FF.
_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# Spaces of every width, including the Hangul fillers that Korean web text uses as
# "invisible" blanks (U+3164, U+FFA0). The conjoining fillers U+115F/U+1160 are left
# alone: they are part of how incomplete syllables are spelt.
_SPACES = re.compile("[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u3164\uffa0]+")
_ALL_WHITESPACE = re.compile(r"\s+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
# The characters above that str.isprintable() lets through (combining grapheme joiner, the
# Hangul fillers: \u034f, \u3164, \uffa0): text holding one takes the general path.


def clean_text(value: str) -> str:
    """Return ``value`` as NFC with invisible characters removed and line endings unified.

    Runs of spaces collapse to one, lines lose trailing spaces and more than one blank
    line collapses to one; the line structure itself is kept, because passages and
    articles use it.
    """
    # Three `in` tests, not any(<generator>): this runs for every field of every row.
    # The characters are the printable specials listed above.
    if value.isprintable() and not ("\u034f" in value or "\u3164" in value or "\uffa0" in value):
        # The common case, checked in C: no control, zero-width, direction or BOM character,
        # no line break, tab or non-ASCII space (all "not printable"), so only NFC, runs of
        # ASCII spaces and the ends are left to fix. Same result as the general path below.
        if not value.isascii() and not unicodedata.is_normalized("NFC", value):
            value = unicodedata.normalize("NFC", value)
        if "  " in value:
            value = _SPACES.sub(" ", value)
        return value.strip(" ")
    return _clean_general(value)


def _clean_general(value: str) -> str:
    if not value.isascii() or not value.isprintable():
        value = _BREAKS.sub("\n", value)
        value = _INVISIBLE.sub("", value)
        # After removal: a zero-width space between NFD jamo must not keep them apart.
        if not value.isascii() and not unicodedata.is_normalized("NFC", value):
            value = unicodedata.normalize("NFC", value)
    value = _SPACES.sub(" ", value)
    if "\n" in value:
        value = "\n".join(line.strip(" ") for line in value.split("\n"))
        value = _MANY_NEWLINES.sub("\n\n", value)
    return value.strip()


def dedup_form(value: str) -> str:
    """The form two texts are compared in for exact dedup: cleaned, all whitespace removed."""
    return squeeze(clean_text(value))


def squeeze(value: str) -> str:
    """``value`` with all whitespace removed: :func:`dedup_form` of text already cleaned."""
    if value.isprintable():  # then the only whitespace it can hold is the ASCII space
        return value.replace(" ", "")
    # str.split() splits on exactly the characters regex \s matches in str patterns, and is
    # several times faster than a regex over long passages.
    return "".join(value.split())


def dedup_keyer(names: Sequence[str]) -> Callable[[Mapping[str, str]], bytes]:
    """A function giving the exact-dedup key of a cleaned example: its ``names`` fields
    without whitespace, joined by U+001F, as UTF-8. The same bytes as ``squeeze`` on each
    field, cheaper.

    Cleaning leaves no whitespace but the ASCII space and the newline (tabs and Unicode
    spaces become spaces, other line breaks newlines, and C0 separators are removed:
    tested over every whitespace character), and neither byte occurs inside a multi-byte
    UTF-8 sequence, so deleting both bytes from the encoded join removes all whitespace.
    """
    # A function made once per task: the fields are fetched in C (itemgetter), not by a
    # comprehension per example.
    if not names:
        return lambda example: b""
    if len(names) == 1:
        name = names[0]
        return lambda example: example[name].encode().translate(None, b" \n")
    fields = itemgetter(*names)
    return lambda example: "\x1f".join(fields(example)).encode().translate(None, b" \n")


def nfc(value: str) -> str:
    """``value`` in Unicode NFC (never NFKC), cheaply when it already is."""
    if value.isascii() or unicodedata.is_normalized("NFC", value):
        return value
    return unicodedata.normalize("NFC", value)
