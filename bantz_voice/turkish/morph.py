"""The Turkish language core: vowel harmony, buffer letters, consonant alternation, case suffixes,
number words, ordinals and the names of months and weekdays — one implementation, used by the
speech normalizer (``normalize``), the reply phrases (``speak``), the calendar's speech templates
and ``temporal``'s rendering. Tables live in ``lexicon``.

Everything here works on spoken words (lower case except proper names) and never raises on
ordinary input."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from bantz_voice.turkish import lexicon as lx

Case = Literal["nom", "loc", "dat", "abl", "acc", "gen"]

BACK = frozenset("aıou")
FRONT = frozenset("eiöü")
VOWELS = BACK | FRONT | frozenset("âîû")
VOICELESS = frozenset("çfhkpsşt")
_CIRCUMFLEX = {"â": "a", "î": "i", "û": "u"}
_FOUR_WAY = {"a": "ı", "ı": "ı", "o": "u", "u": "u", "e": "i", "i": "i", "ö": "ü", "ü": "ü"}
# the written form of each case suffix, before harmony and buffer letters
_CASE_SUFFIX = {"loc": "de", "dat": "e", "abl": "den", "acc": "i", "gen": "in"}
_LOWER = str.maketrans({"I": "ı", "İ": "i"})


def lower(text: str) -> str:
    """Turkish lower case (I→ı, İ→i)."""
    return text.translate(_LOWER).lower()


def last_vowel(word: str) -> str:
    """The vowel that decides the harmony of a suffix ("e" when the word has none: "KDV" is read
    with letter names, which end in e-like vowels). Loanwords such as "saat" and "gol" take front
    suffixes (``lexicon.HARMONY_EXCEPTIONS``)."""
    w = lower(word)
    tail = w.rsplit(" ", 1)[-1]
    if tail in lx.HARMONY_EXCEPTIONS:
        return lx.HARMONY_EXCEPTIONS[tail]
    for ch in reversed(w):
        if ch in VOWELS:
            return _CIRCUMFLEX.get(ch, ch)
    return "e"


def four_way(word: str) -> str:
    """ı/i/u/ü harmony."""
    return _FOUR_WAY[last_vowel(word)]


def ends_in_vowel(word: str) -> bool:
    return bool(word) and word[-1].lower() in VOWELS


def soften(word: str) -> str:
    """Final consonant before a vowel-initial suffix: "dört"→"dörd", "çeyrek"→"çeyreğ",
    "buçuk"→"buçuğ" (a k after a vowel in a word of more than one syllable)."""
    low = word.lower()
    if low.endswith("dört"):
        return word[:-1] + "d"
    if len(low) > 2 and low[-1] == "k" and low[-2] in VOWELS and sum(ch in VOWELS for ch in low.rsplit(" ", 1)[-1]) > 1:
        return word[:-1] + "ğ"
    return word


def _privative(s: str) -> bool:
    """"-sız" (without) starts with an s that is no buffer letter."""
    return len(s) >= 3 and s[0] == "s" and s[2] in "zs"


def _harmonize(word: str, suffix: str) -> str:
    prev = last_vowel(word)
    out = []
    keep_tail = ""
    if suffix.endswith("ki") and suffix[:-2][-2:] in ("da", "de", "ta", "te"):
        suffix, keep_tail = suffix[:-2], "ki"  # the relative "-ki" does not harmonize ("saattaki" is wrong)
    for ch in suffix:
        if ch in "ae":
            ch = "a" if prev in BACK else "e"
            prev = ch
        elif ch in "ıiuü":
            ch = _FOUR_WAY[prev]
            prev = ch
        elif ch in "oö":
            prev = ch  # "-yor" keeps its o
        out.append(ch)
    return "".join(out) + keep_tail


def attach(word: str, suffix: str, *, compound: bool = False, alternate: bool = True) -> str:
    """``word`` + a suffix as written after digits or an abbreviation ("3'te", "TL'ye", "4'de"),
    re-spelled for the spoken word: vowel harmony vowel by vowel, d/t and c/ç after voiceless
    consonants, buffer letters (y, n, s) only after a vowel, consonant alternation before a vowel
    ("üç"+"te" → "üçte", "dört"+"e" → "dörde", "lira"+"ye" → "liraya", "beş"+"si" → "beşi").
    ``compound``: the word ends in the third-person possessive ("katma değer vergisi"), so a case
    suffix takes the n buffer ("vergisine", "vergisinde"). ``alternate=False`` keeps the word's
    final consonant (proper names: "Kasım'a")."""
    if not suffix or not word:
        return word
    s = lower(suffix)
    vowel_end = ends_in_vowel(word)
    if compound and s[:2] in ("sı", "si", "su", "sü"):
        s = s[2:]  # "KDV'si": "vergisi" already has its possessive
        if not s:
            return word
    if s[0] in "yns" and len(s) > 1 and s[1] in VOWELS and not _privative(s):
        if not vowel_end:
            s = s[1:]  # "5'si" -> "beşi", "100 TL'ye" after a consonant-final word
        elif compound and s[0] == "y":
            s = "n" + s[1:]
    elif s[0] in VOWELS:
        if vowel_end:
            genitive = s in ("ın", "in", "un", "ün")
            s = ("n" if compound or genitive else "y") + s
    elif s[0] in "dt":
        if compound:
            s = "n" + "d" + s[1:]
        else:
            s = ("t" if word[-1].lower() in VOICELESS else "d") + s[1:]
    elif s[0] in "cç":
        s = ("ç" if word[-1].lower() in VOICELESS else "c") + s[1:]
    if alternate and not vowel_end and s[0] in VOWELS:
        word = soften(word)
    return word + _harmonize(word, s)


def with_case(phrase: str, case: Case, proper: bool = False, *, compound: bool = False) -> str:
    """``phrase`` with a case suffix on its last word; ``proper`` writes it after an apostrophe
    and keeps the name's final consonant ("Kasım'da", "Ekim'e"); ``compound``: the phrase ends in
    a possessive compound ("gece yarısı" → "gece yarısında")."""
    if case == "nom" or not phrase:
        return phrase
    if case not in _CASE_SUFFIX:
        raise ValueError(case)
    suffix = _CASE_SUFFIX[case]
    if not proper:
        return attach(phrase, suffix, compound=compound)
    spoken = attach(phrase, suffix, alternate=False)
    return f"{phrase}'{spoken[len(phrase):]}"


@lru_cache(maxsize=4096)
def number_words(n: int) -> str:
    """An integer as Turkish words with Turkish spacing ("bin iki yüz otuz dört", "eksi beş")."""
    if n < 0:
        return "eksi " + number_words(-n)
    if n == 0:
        return "sıfır"
    parts: list[str] = []
    for value, name in lx.SCALES:
        if n >= value:
            count, n = divmod(n, value)
            if not (value == 1000 and count == 1):  # "bin", not "bir bin"
                parts.append(number_words(count))
            parts.append(name)
    if n >= 100:
        h, n = divmod(n, 100)
        if h > 1:
            parts.append(lx.ONES[h])
        parts.append("yüz")
    if n >= 10:
        parts.append(lx.TENS[n // 10])
        n %= 10
    if n:
        parts.append(lx.ONES[n])
    return " ".join(parts)


def ordinal_of(words: str) -> str:
    """The ordinal of spoken number words ("üç" → "üçüncü", "dört" → "dördüncü")."""
    v = four_way(words)
    if ends_in_vowel(words):
        return f"{words}nc{v}"
    return f"{soften(words)}{v}nc{v}"


@lru_cache(maxsize=1024)
def ordinal_words(n: int) -> str:
    """"birinci", "dördüncü", "yirmi birinci", "yüzüncü"."""
    return ordinal_of(number_words(n))


def digit_words(digits: str) -> str:
    """Digit by digit ("007" → "sıfır sıfır yedi")."""
    return " ".join(lx.DIGITS[int(ch)] for ch in digits if ch.isdigit())


def count_words(n: int, noun: str) -> str:
    """"iki etkinlik" (Turkish nouns stay singular after a number)."""
    return f"{number_words(n)} {noun}"


def month_name(month: int, *, lower_case: bool = False) -> str:
    """1 → "Ocak" (a specific date's month is capitalized in Turkish)."""
    name = lx.MONTHS[month - 1]
    return lower(name) if lower_case else name


def weekday_name(weekday: int, *, lower_case: bool = True) -> str:
    """0 (Monday) → "pazartesi"."""
    name = lx.WEEKDAYS[weekday]
    return lower(name) if lower_case else name
