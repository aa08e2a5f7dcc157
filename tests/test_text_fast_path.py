"""clean_text's fast path for plain text gives exactly what the general path gives."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from komt_data.text import _clean_general, clean_text, dedup_form, dedup_keyer, squeeze

# Hangul syllables, conjoining and compatibility jamo, Latin with accents (composed and not),
# and every kind of space and invisible character the cleaner treats specially.
alphabet = st.sampled_from(list("가각힣ㅋㅠ ᄀ ᅡ ᆨ a é e\u0301 1 . , ! ?") + [
    " ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2003", "\u200b", "\ufeff", "\u00ad", "\x07",
])
texts = st.lists(alphabet, max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_fast_path_equals_general_path(value: str) -> None:
    assert clean_text(value) == _clean_general(value)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_output_is_nfc_and_idempotent(value: str) -> None:
    cleaned = clean_text(value)
    assert unicodedata.is_normalized("NFC", cleaned)
    assert clean_text(cleaned) == cleaned


@settings(max_examples=400, deadline=None)
@given(texts)
def test_squeeze_matches_the_regex_it_replaces(value: str) -> None:
    cleaned = clean_text(value)
    assert squeeze(cleaned) == re.sub(r"\s+", "", cleaned) == dedup_form(value)


def test_zero_width_space_between_jamo_does_not_leave_them_uncomposed() -> None:
    assert clean_text("\u1100\u200b\u1161 ㅋㅋ") == "가 ㅋㅋ"  # compatibility jamo stay as they are (no NFKC)


def test_cleaned_text_holds_no_whitespace_but_space_and_newline() -> None:
    """dedup_keyer relies on this: every character str.split() splits on, alone or between
    Hangul, comes out of clean_text as a space, a newline or nothing."""
    whitespace = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    assert len(whitespace) >= 25  # \t \n \x0b \x0c \r \x1c-\x1f space \x85 \xa0 \u1680 \u2000-… \u3000
    for char in whitespace:
        for value in (char, f"가{char}나", f"가{char}{char}\u200b나{char}"):
            assert set(clean_text(value)) - {" ", "\n"} <= {"가", "나"}, repr(char)


@settings(max_examples=400, deadline=None)
@given(st.lists(texts, min_size=1, max_size=4))
def test_dedup_key_is_the_squeezed_fields_joined(values: list[str]) -> None:
    example = {f"f{i}": clean_text(v) for i, v in enumerate(values)}
    names = list(example)
    assert dedup_keyer(names)(example) == "\x1f".join(squeeze(example[n]) for n in names).encode()
