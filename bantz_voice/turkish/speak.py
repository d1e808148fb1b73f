"""Spoken Turkish for numbers, clock times and days, with case suffixes chosen by vowel harmony
("saat on dörtte", "akşam yedide", "yarın", "cuma günü", "yirmi sekiz Kasım'da").

Everything returns words, never digits, so the text can go straight to TTS."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bantz_voice.turkish import lexicon as lx
from bantz_voice.turkish.morph import Case, count_words, month_name, number_words, weekday_name, with_case

__all__ = ["Case", "count_words", "date_words", "day_words", "number_words", "time_words", "week_start", "with_case"]

WEEKDAYS = [weekday_name(i) for i in range(7)]  # "pazartesi"…
MONTHS = list(lx.MONTHS)


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
        return with_case("gece yarısı", case, compound=True)
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
    phrase = f"{number_words(day.day)} {month_name(day.month)}"
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
        return f"{weekday_name(day.weekday())} günü"
    return date_words(day, today, case="loc")


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
