"""Korean particles (조사) that agree with the word before them: the ``josa`` template filter.

Which form of a particle follows a word depends on how the word's last syllable ends:
``서울은``/``부산은`` but ``대구는``; ``집으로`` but ``학교로`` and, since ㄹ counts as a vowel
here, ``서울로``. ``{{ title | josa("은/는") }}`` renders the word followed by the form that
agrees; ``{{ title | particle("은/는") }}`` renders only the particle, for a word in quotes
(``'{{ title }}'{{ title | particle("을/를") }}``).

How the end of a text is read (the documented rule, in this order):

1. Trailing spaces, punctuation, quotes and symbols are skipped: ``'서울'`` and ``서울.``
   read as ``서울``.
2. A closing bracket: what comes before the bracketed part decides, as Korean writing does
   with a gloss (``서울(Seoul)은``, ``국제 연합(UN)은``); when nothing readable comes before
   it (``[서울]``, ``「김치」``, ``漢字(한자)``) the text inside the brackets decides.
3. A Hangul syllable: by its final consonant, ``(code - 0xAC00) % 28`` (0: none, 8: ㄹ).
   A lone jamo reads as its name: ``ㅋ`` (키읔) ends in a consonant, ``ㄹ`` (리을) in ㄹ,
   ``ㅏ`` in a vowel.
4. A number, by its Korean reading: the last digit (``3을`` 삼, ``2를`` 이, ``1로`` 일),
   or the unit that ends it (``10을`` 십, ``100을`` 백, ``1,000을`` 천, ``10000을`` 만,
   ``1억을``; ``1조를``); ``0`` is 영. A decimal is read digit by digit after the point,
   so its last digit decides (``3.14를`` 사, ``2.0을`` 영). ``%`` reads 퍼센트 (``50%를``).
5. Latin letters: an acronym (all capitals, a single letter, or capitals ending a mixed
   word such as ``ChatGPT``) is read letter by letter, so its last letter decides: only
   L and R (엘, 알: ㄹ) and M and N (엠, 엔) end in a consonant (``KBS를``, ``HTML을``,
   ``URL로``). A word with small letters goes by its spelling: ``-l``/``-le`` ends in ㄹ
   (``Seoul``, ``Google``, ``Apple`` 애플); ``-m``, ``-n``, ``-ng``, ``-me``, ``-ne`` end in a
   consonant (``Python`` 파이썬, ``iPhone`` 아이폰); ``-p``, ``-t``, ``-k``, ``-c``, ``-ck``
   after a single vowel letter, and ``-ook``, end in a consonant (``chat`` 챗, ``Mac`` 맥,
   ``Facebook`` 페이스북); everything else ends in a vowel (``Java``, ``test`` 테스트,
   ``cloud`` 클라우드, ``boat`` 보트). Spelling is not pronunciation: the rule misreads some
   words (``web`` 웹, ``check`` 체크), which a template can only avoid by not putting a
   particle right after them.
6. Kana: ``ん``/``ン`` ends in a consonant, any other kana in a vowel.
7. Anything else (Chinese characters, other scripts, an empty text): the reading is
   unknown and both forms are written the way Korean text does then: ``은(는)``,
   ``을(를)``, ``(으)로``, ``(이)나``.

Particle pairs are written consonant form and vowel form in either order: the pairs
은/는, 이/가, 을/를, 과/와, 아/야, 이에요/예요, and any pair whose consonant form is the
vowel form after 이 or 으 (이나/나, 이랑/랑, 이라고/라고, 으로/로, 으로서/로서 ...). A pair
with 으 follows the ㄹ rule: after ㄹ the vowel form (서울로, 서울로서).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, NamedTuple

VOWEL = "vowel"
CONSONANT = "consonant"
RIEUL = "rieul"  # ends in ㄹ: a consonant, except before 으로/로 and the like

# Pairs whose forms are not one another plus 이/으: (after a consonant, after a vowel).
_FIXED = {frozenset(p): p for p in (("은", "는"), ("이", "가"), ("을", "를"), ("과", "와"), ("아", "야"),
                                    ("이에요", "예요"))}
_CLOSING = {")": "(", "]": "[", "}": "{", "）": "（", "］": "［", "｝": "｛", "」": "「", "』": "『",
            "〉": "〈", "》": "《", "】": "【", "〕": "〔", "〗": "〖", "〙": "〘", "〛": "〚", ">": "<"}
# How far back a text is read: the last word of a title or label is never further away,
# and a hostile text (a million brackets) costs no more than this.
_TAIL = 256

_DIGIT_SOUND = {"0": CONSONANT, "1": RIEUL, "2": VOWEL, "3": CONSONANT, "4": VOWEL,  # 영 일 이 삼 사
                "5": VOWEL, "6": CONSONANT, "7": RIEUL, "8": RIEUL, "9": VOWEL}      # 오 육 칠 팔 구
_TENS_SOUND = (CONSONANT, CONSONANT, CONSONANT)  # 십 백 천
# 만 억 조 경 해 자 양 구 간 정 재 극: the unit that ends a number with 4k trailing zeros or more.
_MYRIAD_SOUND = (CONSONANT, CONSONANT, VOWEL, CONSONANT, VOWEL, VOWEL, CONSONANT, VOWEL, CONSONANT,
                 CONSONANT, VOWEL, CONSONANT)
_NUMBER = re.compile(r"([0-9][0-9,]*)(?:\.([0-9]+))?$")
# Full-width digits and letters read as their ASCII twins (only here: text is never NFKC'd).
_FULLWIDTH = {code: code - 0xFEE0 for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                                *range(0xFF41, 0xFF5B))}
_LETTERS = re.compile(r"[A-Za-z]+$")
_SHORT_STOP = re.compile(r"(?:^|[^aeiou])[aeiou](?:ck|pp|tt|[ckpt])$|ook$")


class Particle(NamedTuple):
    """A particle pair: the form after a consonant, after a vowel, and whether ㄹ takes the
    vowel form (the pairs with 으: 으로/로)."""

    consonant: str
    vowel: str
    rieul_takes_vowel: bool

    def after(self, sound: str | None) -> str:
        """The form that follows a word ending in ``sound`` (None: unknown, both forms)."""
        if sound == VOWEL or sound == RIEUL and self.rieul_takes_vowel:
            return self.vowel
        if sound is not None:
            return self.consonant
        if self.consonant.endswith(self.vowel):  # (이)나, (으)로
            return f"({self.consonant[:-len(self.vowel)]}){self.vowel}"
        return f"{self.consonant}({self.vowel})"


@lru_cache(maxsize=256)
def parse_pair(pair: str) -> Particle:
    """The particle named by ``"을/를"`` (either order); ValueError for anything else."""
    forms = tuple(unicodedata.normalize("NFC", form.strip()) for form in str(pair).split("/"))
    if len(forms) == 2 and all(forms) and forms[0] != forms[1]:
        fixed = _FIXED.get(frozenset(forms))
        if fixed is not None:
            return Particle(fixed[0], fixed[1], False)
        for long, short in (forms, forms[::-1]):
            if long[:1] in ("이", "으") and long[1:] == short and all(_is_syllable(c) for c in long):
                return Particle(long, short, long[0] == "으")
    raise ValueError(f"josa: {pair!r} is not a particle pair such as \"을/를\", \"은/는\", \"이/가\", "
                     "\"과/와\", \"으로/로\", \"이에요/예요\" or \"이나/나\"")


def final_sound(text: str) -> str | None:
    """How ``text`` ends when read aloud: :data:`VOWEL`, :data:`CONSONANT`, :data:`RIEUL`,
    or None when its reading is unknown (see the module docstring for the rules)."""
    return _sound(text[-_TAIL:])


def josa(value: Any, pair: str) -> str:
    """``value`` followed by the form of ``pair`` that agrees with it: ``josa("서울", "으로/로")``
    is ``서울로``. The template filter ``{{ word | josa("을/를") }}``."""
    word = value if isinstance(value, str) else str(value)
    return word + parse_pair(pair).after(final_sound(word))


def particle(value: Any, pair: str) -> str:
    """Only the form of ``pair`` that agrees with ``value``: the filter
    ``'{{ title }}'{{ title | particle("을/를") }}`` for a word in quotes or brackets."""
    return parse_pair(pair).after(final_sound(value if isinstance(value, str) else str(value)))


def unknown_pairs(parsed: Any) -> list[str]:
    """What the ``josa``/``particle`` filters of a parsed Jinja template are given that is
    not a particle pair, each as it reads in an error (``'을/는'``, ``no pair``): checked when
    a template set is loaded, not per record."""
    from jinja2 import nodes

    bad = []
    for node in parsed.find_all(nodes.Filter):
        if node.name in ("josa", "particle"):
            if len(node.args) != 1 or node.kwargs:
                bad.append("no pair" if not node.args else f"{len(node.args)} arguments")
            for arg in node.args:
                if isinstance(arg, nodes.Const):
                    try:
                        parse_pair(arg.value)
                    except ValueError:
                        bad.append(repr(arg.value))
    return bad


def _is_syllable(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


def _sound(text: str) -> str | None:
    i = len(text)
    while i:
        i -= 1
        char = text[i]
        code = ord(char)
        if 0xAC00 <= code <= 0xD7A3:
            final = (code - 0xAC00) % 28
            return VOWEL if final == 0 else RIEUL if final == 8 else CONSONANT
        code = _FULLWIDTH.get(code, code)
        if 0x30 <= code <= 0x39:
            return _number_sound(text[:i + 1].translate(_FULLWIDTH))
        if 0x41 <= code <= 0x5A or 0x61 <= code <= 0x7A:
            return _latin_sound(text[:i + 1].translate(_FULLWIDTH))
        if 0x3131 <= code <= 0x314E:  # a consonant jamo, read as its name: 기역 ... 리을 ... 히읗
            return RIEUL if code == 0x3139 else CONSONANT
        if 0x314F <= code <= 0x3163 or 0x1161 <= code <= 0x11A7:  # a vowel jamo (or a conjoining one)
            return VOWEL
        if 0x11A8 <= code <= 0x11FF:  # a conjoining final consonant (text that is not NFC)
            return RIEUL if code == 0x11AF else CONSONANT
        if 0x3041 <= code <= 0x30FA:
            return CONSONANT if char in "んン" else VOWEL
        if char in "%％":
            return VOWEL  # 퍼센트
        opening = _CLOSING.get(char)
        if opening is not None:
            start = _opening(text, i, opening, char)
            if start >= 0:
                # A gloss in brackets is not read: the word before it decides (서울(Seoul)은);
                # when nothing readable precedes it, the bracketed text is the word ([서울]).
                before = _sound(text[:start])
                return before if before is not None else _sound(text[start + 1:i])
            continue
        if unicodedata.category(char)[0] in "PSZCM" or char == "ー":
            continue  # punctuation, quotes, symbols, spaces, marks, the kana long-vowel sign
        return None  # a letter of a script whose reading is not known here (Chinese characters...)
    return None


def _opening(text: str, close_at: int, opening: str, closing: str) -> int:
    depth = 0
    for j in range(close_at, -1, -1):
        if text[j] == closing:
            depth += 1
        elif text[j] == opening:
            depth -= 1
            if depth == 0:
                return j
    return -1


def _number_sound(text: str) -> str:
    match = _NUMBER.search(text)
    assert match is not None  # text ends in a digit
    whole, fraction = match.group(1), match.group(2)
    if fraction:  # read digit by digit after the point: 삼 점 일사
        return _DIGIT_SOUND[fraction[-1]]
    digits = whole.replace(",", "")
    significant = digits.rstrip("0")
    if not significant:
        return CONSONANT  # 영
    zeros = len(digits) - len(significant)
    if zeros == 0:
        return _DIGIT_SOUND[significant[-1]]
    if zeros < 4:
        return _TENS_SOUND[zeros - 1]
    return _MYRIAD_SOUND[min(zeros // 4, len(_MYRIAD_SOUND)) - 1]


def _latin_sound(text: str) -> str:
    letters = _LETTERS.search(text)
    assert letters is not None  # text ends in a letter
    run = letters.group()
    capitals = len(run) - len(run.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    if len(run) == 1 or capitals == len(run) or capitals >= 2:  # spelt out: 케이비에스, 챗지피티
        last = run[-1].upper()
        return RIEUL if last in "LR" else CONSONANT if last in "MN" else VOWEL
    word = run.lower()
    if word.endswith(("l", "le")):
        return RIEUL
    if word.endswith(("m", "n", "ng", "me", "ne")) or _SHORT_STOP.search(word):
        return CONSONANT
    return VOWEL
