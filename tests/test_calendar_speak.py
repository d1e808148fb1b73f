"""Spoken Turkish numbers, times and days (bantz_voice.turkish.speak)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bantz_voice.turkish.speak import date_words, day_words, number_words, time_words, with_case


@pytest.mark.parametrize(
    ("n", "words"),
    [(0, "sıfır"), (7, "yedi"), (14, "on dört"), (40, "kırk"), (100, "yüz"), (101, "yüz bir"), (250, "iki yüz elli"),
     (1000, "bin"), (1984, "bin dokuz yüz seksen dört"), (2026, "iki bin yirmi altı"), (1_000_000, "bir milyon")],
)
def test_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


@settings(deadline=None)  # a loaded CI machine must not make this flaky
@given(st.integers(min_value=0, max_value=10**9))
def test_number_words_never_has_digits(n: int) -> None:
    out = number_words(n)
    assert out and not any(ch.isdigit() for ch in out) and "  " not in out


@pytest.mark.parametrize(
    ("word", "loc", "dat", "abl", "acc"),
    [
        ("dört", "dörtte", "dörde", "dörtten", "dördü"),
        ("yedi", "yedide", "yediye", "yediden", "yediyi"),
        ("üç", "üçte", "üçe", "üçten", "üçü"),
        ("altı", "altıda", "altıya", "altıdan", "altıyı"),
        ("on", "onda", "ona", "ondan", "onu"),
        ("kırk", "kırkta", "kırka", "kırktan", "kırkı"),
        ("buçuk", "buçukta", "buçuğa", "buçuktan", "buçuğu"),
    ],
)
def test_case_suffixes_follow_vowel_harmony(word: str, loc: str, dat: str, abl: str, acc: str) -> None:
    assert [with_case(word, c) for c in ("loc", "dat", "abl", "acc")] == [loc, dat, abl, acc]


def test_proper_nouns_take_an_apostrophe() -> None:
    assert with_case("Kasım", "loc", proper=True) == "Kasım'da"
    assert with_case("yirmi sekiz Mart", "loc", proper=True) == "yirmi sekiz Mart'ta"


@pytest.mark.parametrize(
    ("hh", "mm", "spoken"),
    [
        (14, 0, "saat on dörtte"),
        (19, 0, "akşam yedide"),
        (9, 30, "sabah dokuz buçukta"),
        (8, 45, "sabah sekiz kırk beşte"),
        (12, 0, "öğlen on ikide"),
        (16, 15, "saat on altı on beşte"),
        (23, 0, "akşam on birde"),
        (0, 0, "gece yarısında"),
        (2, 0, "gece ikide"),
    ],
)
def test_time_words(hh: int, mm: int, spoken: str) -> None:
    assert time_words(time(hh, mm)) == spoken


def test_time_words_in_other_cases() -> None:
    assert time_words(time(14, 0), "dat") == "saat on dörde"
    assert time_words(time(9, 30), "dat") == "sabah dokuz buçuğa"
    assert time_words(time(19, 0), "nom") == "akşam yedi"


def test_day_words() -> None:
    today = date(2026, 11, 26)  # Thursday
    assert [day_words(today + timedelta(days=d), today) for d in (-1, 0, 1, 2, 4, 6)] == [
        "dün", "bugün", "yarın", "cumartesi günü", "pazartesi günü", "çarşamba günü",
    ]
    assert day_words(date(2026, 12, 3), today) == "üç Aralık'ta"
    assert day_words(date(2027, 1, 5), today) == "beş Ocak iki bin yirmi yedide"
    assert date_words(date(2026, 11, 28)) == "yirmi sekiz Kasım"
