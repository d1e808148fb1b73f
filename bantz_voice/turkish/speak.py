"""Spoken Turkish for numbers, clock times and days, with case suffixes chosen by vowel harmony
("saat on dörtte", "akşam yedide", "yarın", "cuma günü", "yirmi sekiz Kasım'da").

Everything returns words, never digits, so the text can go straight to TTS."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal

Case = Literal["nom", "loc", "dat", "abl", "acc", "gen"]

_ONES = ["", "bir", "iki", "üç", "dört", "beş", "altı", "yedi", "sekiz", "dokuz"]
_TENS = ["", "on", "yirmi", "otuz", "kırk", "elli", "altmış", "yetmiş", "seksen", "doksan"]
_SCALES = [(10**9, "milyar"), (10**6, "milyon"), (1000, "bin")]
WEEKDAYS = ["pazartesi", "salı", "çarşamba", "perşembe", "cuma", "cumartesi", "pazar"]
MONTHS = ["Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık"]

_BACK = set("aıou")
_FRONT = set("eiöü")
_VOWELS = _BACK | _FRONT | set("âîû")
_VOICELESS = set("çfhkpsşt")
# final consonant softening before a vowel-initial suffix (only the words we produce)
_SOFTEN = {"dört": "dörd", "buçuk": "buçuğ"}
_MIDNIGHT = {"nom": "gece yarısı", "loc": "gece yarısında", "dat": "gece yarısına", "abl": "gece yarısından",
             "acc": "gece yarısını", "gen": "gece yarısının"}


def number_words(n: int) -> str:
    """0..999 999 999 999 as Turkish words ("bin iki yüz otuz dört")."""
    if n < 0:
        return "eksi " + number_words(-n)
    if n == 0:
        return "sıfır"
    parts: list[str] = []
    for value, name in _SCALES:
        if n >= value:
            count, n = divmod(n, value)
            if not (value == 1000 and count == 1):  # "bin", not "bir bin"
                parts.append(number_words(count))
            parts.append(name)
    if n >= 100:
        h, n = divmod(n, 100)
        if h > 1:
            parts.append(_ONES[h])
        parts.append("yüz")
    if n >= 10:
        parts.append(_TENS[n // 10])
        n %= 10
    if n:
        parts.append(_ONES[n])
    return " ".join(parts)


def _last_vowel(word: str) -> str:
    for ch in reversed(word.lower()):
        if ch in _VOWELS:
            return {"â": "a", "î": "i", "û": "u"}.get(ch, ch)
    return "e"


def _two_way(word: str) -> str:
    return "a" if _last_vowel(word) in _BACK else "e"


def _four_way(word: str) -> str:
    v = _last_vowel(word)
    return {"a": "ı", "ı": "ı", "o": "u", "u": "u", "e": "i", "i": "i", "ö": "ü", "ü": "ü"}[v]


def with_case(phrase: str, case: Case, proper: bool = False) -> str:
    """Add a case suffix to the last word of ``phrase`` (``proper`` adds an apostrophe:
    "Kasım'da")."""
    if case == "nom" or not phrase:
        return phrase
    head, _, word = phrase.rpartition(" ")
    low = word.lower()
    ends_vowel = low[-1] in _VOWELS
    hard = low[-1] in _VOICELESS
    if case == "loc":
        suffix = ("t" if hard else "d") + _two_way(low)
    elif case == "abl":
        suffix = ("t" if hard else "d") + _two_way(low) + "n"
    elif case == "dat":
        suffix = ("y" if ends_vowel else "") + _two_way(low)
    elif case == "acc":
        suffix = ("y" if ends_vowel else "") + _four_way(low)
    elif case == "gen":
        suffix = ("n" if ends_vowel else "") + _four_way(low) + "n"
    else:  # pragma: no cover - Literal guards this
        raise ValueError(case)
    if not ends_vowel and suffix[0] in _VOWELS and not proper:
        word = _SOFTEN.get(low, word)
    sep = "'" if proper else ""
    return f"{head} {word}{sep}{suffix}".strip()


def count_words(n: int, noun: str) -> str:
    """"iki etkinlik" (Turkish nouns stay singular after a number)."""
    return f"{number_words(n)} {noun}"


def _hour_words(hour: int, minute: int) -> str:
    text = number_words(hour)
    if minute == 30:
        return f"{text} buçuk"
    if minute:
        return f"{text} {number_words(minute)}"
    return text


def time_words(value: time | datetime, case: Case = "loc") -> str:
    """A clock time as said aloud: 14:00 "saat on dörtte", 19:00 "akşam yedide",
    09:30 "sabah dokuz buçukta", 12:00 "öğlen on ikide", 00:00 "gece yarısında",
    02:00 "gece ikide"."""
    h, m = value.hour, value.minute
    if h == 0 and m == 0:
        return _MIDNIGHT[case]
    if 5 <= h <= 10:
        phrase = f"sabah {_hour_words(h, m)}"
    elif h == 12 and m < 30:
        phrase = f"öğlen {_hour_words(h, m)}"
    elif 11 <= h <= 17:
        phrase = f"saat {_hour_words(h, m)}"
    elif h >= 18:
        phrase = f"akşam {_hour_words(h - 12, m)}"
    else:  # 0..4: night
        phrase = f"gece {_hour_words(h or 12, m)}"
    return with_case(phrase, case)


def date_words(day: date, today: date | None = None, case: Case = "nom") -> str:
    """"yirmi sekiz Kasım" (the year only when it is not this year's)."""
    phrase = f"{number_words(day.day)} {MONTHS[day.month - 1]}"
    if today is not None and day.year != today.year:
        phrase += f" {number_words(day.year)}"
        return with_case(phrase, case)
    return with_case(phrase, case, proper=True)


def day_words(day: date, today: date) -> str:
    """How to name a day relative to today, ready to put before a time or at a sentence start:
    "bugün", "yarın", "dün", "cuma günü" (within the coming week), else "yirmi sekiz Kasım'da"."""
    delta = (day - today).days
    if delta == 0:
        return "bugün"
    if delta == 1:
        return "yarın"
    if delta == -1:
        return "dün"
    if 2 <= delta <= 6:
        return f"{WEEKDAYS[day.weekday()]} günü"
    return date_words(day, today, case="loc")


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
