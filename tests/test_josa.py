"""The josa filter picks the particle form that agrees with the word before it.

The expected forms come from an oracle that does not share josa's arithmetic: a syllable's
canonical decomposition (NFD) has a third jamo exactly when it ends in a consonant, and
that jamo is U+11AF when the consonant is ㄹ; numbers are spelt out in Korean first.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from komt_data.errors import TemplateError
from komt_data.josa import final_sound, josa, parse_pair, particle
from komt_data.template_compiler import compile_template
from komt_data.templates import environment, load_template_set

# (after a consonant, after a vowel, whether ㄹ takes the vowel form)
PAIRS = {"은/는": ("은", "는", False), "이/가": ("이", "가", False), "을/를": ("을", "를", False),
         "와/과": ("과", "와", False), "으로/로": ("으로", "로", True), "이에요/예요": ("이에요", "예요", False),
         "이나/나": ("이나", "나", False), "이랑/랑": ("이랑", "랑", False), "아/야": ("아", "야", False),
         "로서/으로서": ("으로서", "로서", True), "이라고/라고": ("이라고", "라고", False)}
SYLLABLES = [chr(code) for code in range(0xAC00, 0xD7A4)]


def expected_form(syllable: str, pair: str) -> str:
    """The form by the syllable's decomposition: no final jamo, a final ㄹ, another final."""
    consonant, vowel, rieul_takes_vowel = PAIRS[pair]
    jamo = unicodedata.normalize("NFD", syllable)
    if len(jamo) == 2:
        return vowel
    return vowel if jamo[2] == "\u11af" and rieul_takes_vowel else consonant


def test_every_hangul_syllable_with_every_pair() -> None:
    assert len(SYLLABLES) == 11172
    wrong = [(s, pair, josa(s, pair)) for s in SYLLABLES for pair in PAIRS
             if josa(s, pair) != s + expected_form(s, pair)]
    assert not wrong, wrong[:10]
    # The ㄹ rule is not vacuous: 399 syllables end in ㄹ (19 initials x 21 vowels).
    assert sum(josa(s, "으로/로") == s + "로" and expected_form(s, "을/를") == "을" for s in SYLLABLES) == 399


@settings(max_examples=300, deadline=None)
@given(code=st.integers(0xAC00, 0xD7A3), prefix=st.text(max_size=8),
       pair=st.sampled_from(sorted(PAIRS)), tail=st.sampled_from(["", ".", "'", '"', "!", " ", "”", "…", "?!"]))
def test_the_last_syllable_decides_whatever_comes_before_and_after(code, prefix, pair, tail) -> None:
    # The final-consonant rule itself, (code - 0xAC00) % 28: 0 none, 8 ㄹ.
    final = (code - 0xAC00) % 28
    consonant, vowel, rieul_takes_vowel = PAIRS[pair]
    form = vowel if final == 0 or final == 8 and rieul_takes_vowel else consonant
    word = prefix + chr(code) + tail
    assert josa(word, pair) == word + form
    assert particle(word, pair) == form


@pytest.mark.parametrize(("word", "pair", "expected"), [
    ("서울", "은/는", "서울은"), ("부산", "은/는", "부산은"), ("대구", "은/는", "대구는"),
    ("서울", "으로/로", "서울로"), ("집", "으로/로", "집으로"), ("학교", "으로/로", "학교로"),
    ("사과", "이에요/예요", "사과예요"), ("책", "이에요/예요", "책이에요"), ("연필", "이에요/예요", "연필이에요"),
    ("친구", "와/과", "친구와"), ("선생님", "과/와", "선생님과"), ("길동", "아/야", "길동아"),
    ("철수", "아/야", "철수야"), ("커피", "이나/나", "커피나"), ("빵", "이랑/랑", "빵이랑"),
    ("는/은", "는/은", "는/은은"),  # either order; the word is only text
])
def test_everyday_words(word, pair, expected) -> None:
    assert josa(word, pair) == expected


def korean_reading(n: int) -> str:
    """Sino-Korean reading of a non-negative integer, as in 12,345 → 만이천삼백사십오."""
    digits = "영일이삼사오육칠팔구"
    if n == 0:
        return "영"
    words = []
    for unit in ("극", "재", "정", "간", "구", "양", "자", "해", "경", "조", "억", "만", ""):
        power = 10 ** (4 * (("만", "억", "조", "경", "해", "자", "양", "구", "간", "정", "재", "극").index(unit) + 1)
                       if unit else 0)
        group, n = divmod(n, power)
        if group:
            part = "".join(("" if d == 1 and u else digits[d]) + u
                           for d, u in zip(map(int, f"{group:04d}"), ("천", "백", "십", ""), strict=True) if d)
            words.append(part + unit)
    return "".join(words)


@settings(max_examples=400, deadline=None)
@given(n=st.one_of(st.integers(0, 10 ** 12), st.integers(0, 99).map(lambda d: d * 10 ** 8),
                   st.integers(1, 9).map(lambda d: d * 10 ** 16), st.integers(0, 10 ** 50)),
       pair=st.sampled_from(sorted(PAIRS)), commas=st.booleans())
def test_numbers_read_as_korean(n, pair, commas) -> None:
    reading = korean_reading(n)
    word = f"{n:,}" if commas else str(n)
    assert josa(word, pair) == word + expected_form(reading[-1], pair), reading


@pytest.mark.parametrize(("word", "expected"), [
    ("3", "3을"), ("2", "2를"), ("10", "10을"), ("100", "100을"), ("1000", "1000을"), ("1,000", "1,000을"),
    ("0", "0을"), ("1", "1을"), ("5", "5를"), ("10000", "10000을"), ("1조", "1조를"),
    ("1000000000000", "1000000000000를"),
    ("3.14", "3.14를"), ("2.0", "2.0을"), ("1.5", "1.5를"), ("3.", "3.을"), ("50%", "50%를"), ("１２", "１２를"),
    ("GPT-4", "GPT-4를"), ("2024년", "2024년을"), ("v1.2.3", "v1.2.3을"),
])
def test_digits(word, expected) -> None:
    assert josa(word, "을/를") == expected


def test_digits_with_the_rieul_rule() -> None:
    assert josa("1", "으로/로") == "1로"  # 일
    assert josa("7", "으로/로") == "7로"  # 칠
    assert josa("3", "으로/로") == "3으로"  # 삼
    assert josa("10", "으로/로") == "10으로"  # 십


@pytest.mark.parametrize("letter", list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
def test_single_letters_and_acronyms_read_by_their_last_letter(letter) -> None:
    # 에이 비 씨 디 이 에프 지 에이치 아이 제이 케이 엘 엠 엔 오 피 큐 알 에스 티 유 브이 더블유 엑스 와이 지
    sound = "rieul" if letter in "LR" else "consonant" if letter in "MN" else "vowel"
    for word in (letter, letter.lower(), "KB" + letter, "Chat" + "G" + letter):
        assert final_sound(word) == sound, word
    assert josa("KB" + letter, "으로/로").endswith("으로" if sound == "consonant" else "로")


@pytest.mark.parametrize(("word", "pair", "expected"), [
    ("KBS", "을/를", "KBS를"), ("HTML", "을/를", "HTML을"), ("URL", "으로/로", "URL로"), ("NLI", "은/는", "NLI는"),
    ("ChatGPT", "을/를", "ChatGPT를"), ("KorQuAD", "은/는", "KorQuAD는"),
    ("Apple", "은/는", "Apple은"), ("Apple", "으로/로", "Apple로"), ("Google", "이/가", "Google이"),
    ("Seoul", "으로/로", "Seoul로"), ("Excel", "을/를", "Excel을"), ("Python", "을/를", "Python을"),
    ("iPhone", "이/가", "iPhone이"), ("Samsung", "은/는", "Samsung은"), ("game", "이/가", "game이"),
    ("chat", "이/가", "chat이"), ("Mac", "을/를", "Mac을"), ("app", "이/가", "app이"),
    ("Facebook", "을/를", "Facebook을"),
    ("Java", "를/을", "Java를"), ("test", "가/이", "test가"), ("cloud", "은/는", "cloud는"),
    ("boat", "는/은", "boat는"),
    ("computer", "을/를", "computer를"), ("Linux", "을/를", "Linux를"), ("macOS", "을/를", "macOS를"),
])
def test_latin_words_by_the_documented_spelling_rule(word, pair, expected) -> None:
    assert josa(word, pair) == expected


@pytest.mark.parametrize(("word", "expected"), [
    ("서울(Seoul)", "서울(Seoul)은"), ("국제 연합(UN)", "국제 연합(UN)은"), ("사과 (apple)", "사과 (apple)는"),
    ("[서울]", "[서울]은"), ("「김치」", "「김치」는"), ("'부산'", "'부산'은"), ('"대구"', '"대구"는'),
    ("漢字(한자)", "漢字(한자)는"), ("1988년 하계 올림픽 (서울)", "1988년 하계 올림픽 (서울)은"),
    ("서울.", "서울.은"), ("《토지》", "《토지》는"), ("a(b(c)d)", "a(b(c)d)는"), ("서울)", "서울)은"),
])
def test_brackets_and_quotes(word, expected) -> None:
    assert josa(word, "은/는") == expected


@pytest.mark.parametrize(("word", "pair", "expected"), [
    ("漢字", "을/를", "漢字을(를)"), ("", "은/는", "은(는)"), ("...", "이/가", "...이(가)"),
    ("Привет", "으로/로", "Привет(으)로"), ("café", "이나/나", "café(이)나"), ("((((", "와/과", "((((과(와)"),
    ("ㅋㅋ", "이/가", "ㅋㅋ이"), ("ㄹ", "으로/로", "ㄹ로"), ("ㅏ", "을/를", "ㅏ를"),
    ("ラーメン", "을/를", "ラーメン을"),
    ("すし", "을/를", "すし를"), ("서울", "은/는", "서울은"),
    ("\u1109\u1165\u110b\u116e\u11af", "으로/로", "\u1109\u1165\u110b\u116e\u11af로"),  # 서울 in NFD
])
def test_other_scripts_jamo_and_unknown_readings(word, pair, expected) -> None:
    assert josa(word, pair) == expected


def test_values_that_are_not_text_are_read_as_text() -> None:
    assert josa(3, "을/를") == "3을"
    assert josa(2.5, "이/가") == "2.5가"
    assert particle(10, "을/를") == "을"


@pytest.mark.parametrize("pair", ["을", "을/는", "가/이/는", "", "로/로", "으로/으", "이x/x", 3])
def test_a_pair_that_is_not_one_is_refused(pair) -> None:
    with pytest.raises(ValueError, match="not a particle pair"):
        parse_pair(pair)


def test_a_hostile_text_costs_little() -> None:
    import time

    start = time.perf_counter()
    for text in ("(" * 100_000 + ")" * 100_000, "1," * 100_000, "a" * 1_000_000 + "!" * 10, "[" * 300 + "]"):
        josa(text, "을/를")
    assert time.perf_counter() - start < 1.0


# --- in templates: Jinja and the fast path agree; a wrong pair fails when the set loads ---

SOURCES = ["{{ title | josa('은/는') }} 어디에 있나요?", "'{{ title }}'{{ title | particle('을/를') }} 다룬 글",
           "{% if title %}{{ title | josa('으로/로') }} 가는 길{% endif %}",
           "{% for o in options %}{{ o | josa('와/과') }} {% endfor %}"]


@settings(max_examples=200, deadline=None)
@given(title=st.one_of(st.text(max_size=6), st.integers(-5, 10 ** 6),
                       st.sampled_from(["서울", "Seoul", "1,000", "[부산]"])),
       options=st.lists(st.text(max_size=4), max_size=3))
def test_fast_path_renders_josa_as_jinja_does(title, options) -> None:
    env = environment()
    for source in SOURCES:
        fast = compile_template(env.parse(source))
        assert fast is not None, source
        example = {"title": title, "options": options}
        assert fast(example) == env.from_string(source).render(example), source


def test_rendered_through_the_sandbox() -> None:
    template = environment().from_string("{{ a | josa('을/를') }} 보고 {{ b | josa('으로/로') }} 갔다.")
    assert template.render(a="영화", b="서울") == "영화를 보고 서울로 갔다."


def test_a_wrong_pair_fails_when_the_set_loads(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("family: nli\ntemplates:\n  - id: nli/01\n    instruction: \"{{ premise | josa('을/는') }}\"\n"
                    "    response: \"{{ label }}\"\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"template 'nli/01'.*josa/particle needs one particle pair.*'을/는'"):
        load_template_set(path)
    path.write_text(path.read_text(encoding="utf-8").replace("josa('을/는')", "josa"), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"josa/particle needs one particle pair.*got no pair"):
        load_template_set(path)
    assert compile_template(environment().parse("{{ x | josa('을/는') }}")) is None  # left to Jinja's error


def test_the_readme_table_is_what_josa_gives() -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    lines = [line for line in readme.splitlines() if line.startswith("| `{{ w \\| josa(pair) }}`")]
    assert len(lines) == 1
    header = readme.splitlines().index(lines[0])
    words = [cell.strip() for cell in re.split(r"(?<!\\)\|", lines[0])[2:-1]]
    rows = readme.splitlines()[header + 2:header + 4]
    for row in rows:
        cells = [cell.strip() for cell in row.split("|")[1:-1]]
        pair = cells[0].strip('`"')
        assert cells[1:] == [josa(word, pair) for word in words], row


@pytest.mark.parametrize(("call", "got"), [("josa('을/는')", "'을/는'"), ("josa", "no pair"),
                                           ("particle('을/를', '이/가')", "2 arguments")])
def test_the_cli_names_a_wrong_pair_in_one_line(tmp_path, call, got) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "rows.jsonl").write_text('{"review": "재밌다", "rating": "10"}\n', encoding="utf-8")
    (tmp_path / "set.yaml").write_text(
        "family: classification\ntemplates:\n  - id: classification/01\n"
        f"    instruction: \"{{{{ text | {call} }}}} 분류하세요.\"\n    response: \"{{{{ label }}}}\"\n",
        encoding="utf-8")
    (tmp_path / "task.yaml").write_text(
        "name: nsmc\nadapter: classification\nsource: {files: rows.jsonl}\nfields: {text: review, label: rating}\n"
        "labels: {\"10\": 긍정, \"1\": 부정}\ntemplates: set.yaml\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "komt_data", "build", "task.yaml", "-q"], capture_output=True,
                            text=True, cwd=tmp_path, env={**os.environ, "KOMT_DATA_DEBUG": ""}, timeout=120)
    assert result.returncode == 1
    assert result.stderr == ("komt-data: error: set.yaml: template 'classification/01': josa/particle needs one "
                             f"particle pair such as \"을/를\" or \"으로/로\", got {got}\n")
