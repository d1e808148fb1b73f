"""Temporal resolver: hand-computed expectations against now = Thu 2026-11-26 10:00 Istanbul."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bantz_voice.turkish.temporal import resolve, resolve_slot
from bantz_voice.turkish.text import ascii_fold

TZ = ZoneInfo("Europe/Istanbul")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)

# day expressions and the day they mean (said on Thursday 2026-11-26)
DAYS = [
    ("bugün", "2026-11-26"),
    ("yarın", "2026-11-27"),
    ("öbür gün", "2026-11-28"),
    ("yarından sonra", "2026-11-28"),
    ("cuma", "2026-11-27"),
    ("cumartesi", "2026-11-28"),
    ("pazar günü", "2026-11-29"),
    ("pazartesi", "2026-11-30"),
    ("salı günü", "2026-12-01"),
    ("çarşamba", "2026-12-02"),
    ("perşembe", "2026-12-03"),
    ("haftaya cuma", "2026-12-04"),
    ("haftaya pazartesi", "2026-11-30"),
    ("gelecek hafta perşembe", "2026-12-03"),
    ("önümüzdeki salı", "2026-12-01"),
    ("3 gün sonra", "2026-11-29"),
    ("bir hafta sonra", "2026-12-03"),
    ("15 Aralık'ta", "2026-12-15"),
    ("3 Ocak'ta", "2027-01-03"),
    ("ayın 28'inde", "2026-11-28"),
    ("ayın 5'inde", "2026-12-05"),
    ("27 Kasım'da", "2026-11-27"),
]
# clock expressions (no part of day, or with one) and the wall time they mean
CLOCKS = [
    ("saat dörtte", "16:00"),
    ("saat 9'da", "09:00"),
    ("saat 14:30'da", "14:30"),
    ("18:45'te", "18:45"),
    ("saat 9.30'da", "09:30"),
    ("üçte", "15:00"),
    ("on birde", "11:00"),
    ("saat on ikide", "12:00"),
    ("yedi buçukta", "07:30"),
    ("saat iki buçukta", "14:30"),
    ("dokuzu çeyrek geçe", "09:15"),
    ("ikiye on kala", "13:50"),
    ("beşe çeyrek kala", "16:45"),
    ("biri yirmi geçe", "13:20"),
    ("sabah sekizde", "08:00"),
    ("sabah", "09:00"),
    ("öğlen", "12:00"),
    ("öğleden sonra üçte", "15:00"),
    ("öğleden sonra", "14:00"),
    ("akşamüstü", "17:00"),
    ("akşam yedide", "19:00"),
    ("akşam", "19:00"),
    ("gece on birde", "23:00"),
    ("gece", "22:00"),
    ("saat on beşte", "15:00"),
]


@pytest.mark.parametrize("day_expr,day", DAYS)
@pytest.mark.parametrize("clock_expr,clock", CLOCKS)
def test_day_and_clock(day_expr: str, day: str, clock_expr: str, clock: str) -> None:
    assert resolve_slot("start", f"{day_expr} {clock_expr}", NOW) == f"{day}T{clock}"


@pytest.mark.parametrize("day_expr,day", DAYS)
def test_day_alone_is_all_day(day_expr: str, day: str) -> None:
    assert resolve_slot("start", day_expr, NOW) == day
    assert resolve_slot("target_date", day_expr, NOW) == day
    assert resolve_slot("range_start", day_expr, NOW) == day
    assert resolve_slot("range_end", day_expr, NOW) == day


@pytest.mark.parametrize("day_expr,day", DAYS[:12])
@pytest.mark.parametrize("clock_expr,clock", CLOCKS[:12])
def test_ascii_typed(day_expr: str, day: str, clock_expr: str, clock: str) -> None:
    assert resolve_slot("start", ascii_fold(f"{day_expr} {clock_expr}"), NOW) == f"{day}T{clock}"


@pytest.mark.parametrize(
    "expr,expected",
    [
        ("iki saat sonra", "2026-11-26T12:00"),
        ("yarım saat sonra", "2026-11-26T10:30"),
        ("kırk beş dakika sonra", "2026-11-26T10:45"),
        ("45 dakika sonra", "2026-11-26T10:45"),
        ("bir buçuk saat sonra", "2026-11-26T11:30"),
        ("10 dk sonra", "2026-11-26T10:10"),
        ("3 saat sonra", "2026-11-26T13:00"),
        ("saat dörtte", "2026-11-26T16:00"),
        ("saat 9'da", "2026-11-27T09:00"),  # 09:00 has passed today: tomorrow
        ("saat dokuzda", "2026-11-27T09:00"),  # 7-11 is the morning; passed today: tomorrow
        ("bu akşam dokuzda", "2026-11-26T21:00"),
        ("2 Ocak'ta tüm gün", "2027-01-02"),
        ("cuma günü tüm gün", "2026-11-27"),
        ("26.12.2026", "2026-12-26"),
        ("salı akşamı sekizde", "2026-12-01T20:00"),
        ("cumartesi gecesi on birde", "2026-11-28T23:00"),
        ("yarın öğlen birde", "2026-11-27T13:00"),
        ("aralığın 5'inde", "2026-12-05"),
        ("4 Aralık cuma saat 10'da", "2026-12-04T10:00"),
        ("yarın saat 8'e çeyrek kala", "2026-11-27T07:45"),
        ("10 Aralık'ta saat 14:00'te", "2026-12-10T14:00"),
        ("yarin saat 10da", "2026-11-27T10:00"),
        ("YARIN SAAT ÜÇTE", "2026-11-27T15:00"),
        ("ayın yirmi sekizinde", "2026-11-28"),
        ("bu cumartesi", "2026-11-28"),
        ("yarın saat 03:00'te", "2026-11-27T03:00"),
        ("yarın on dört otuzda", "2026-11-27T14:30"),
        ("cuma dokuz kırk beşte", "2026-11-27T09:45"),
        ("bugün saat on yedi otuzda", "2026-11-26T17:30"),
        ("yarın saat 3 te", "2026-11-27T15:00"),
        ("yarın akşam 9 da", "2026-11-27T21:00"),
        ("pazartesi 9:00 da", "2026-11-30T09:00"),
        ("pazartesi sabahına", "2026-11-30T09:00"),
        ("perşembe gecesi on ikide", "2026-12-04T00:00"),
        ("yarın on ikiye çeyrek kala", "2026-11-27T11:45"),
        ("haftaya salı ona çeyrek kala", "2026-12-01T09:45"),
        ("ayın otuzunda", "2026-11-30"),
    ],
)
def test_start(expr: str, expected: str) -> None:
    assert resolve_slot("start", expr, NOW) == expected


@pytest.mark.parametrize(
    "expr,expected",
    [
        ("yarın öğleden sonra üçte bir saatlik", "2026-11-27T16:00"),
        ("yarın saat üçte yarım saatlik", "2026-11-27T15:30"),
        ("bugün beşte iki saatlik", "2026-11-26T19:00"),
        ("pazartesi 9'da doksan dakikalık", "2026-11-30T10:30"),
        ("yarın akşam yedide bir buçuk saatlik", "2026-11-27T20:30"),
        ("yarın saat üçten beşe kadar", "2026-11-27T17:00"),
        ("cuma saat 3'ten 5'e kadar", "2026-11-27T17:00"),
        ("cuma saat üç ile beş arası", "2026-11-27T17:00"),
        ("yarın sabah dokuzdan on bire kadar", "2026-11-27T11:00"),
        ("yarın saat üçte başlayıp beşte bitecek", "2026-11-27T17:00"),
        ("cumartesi saat 10 ile 12 arası", "2026-11-28T12:00"),
    ],
)
def test_end(expr: str, expected: str) -> None:
    assert resolve_slot("end", expr, NOW) == expected


@pytest.mark.parametrize(
    "expr,first,last",
    [
        ("bu hafta", "2026-11-23", "2026-11-29"),
        ("bu haftaki", "2026-11-23", "2026-11-29"),
        ("haftaya", "2026-11-30", "2026-12-06"),
        ("gelecek hafta", "2026-11-30", "2026-12-06"),
        ("önümüzdeki hafta", "2026-11-30", "2026-12-06"),
        ("hafta sonu", "2026-11-28", "2026-11-29"),
        ("bu hafta sonu", "2026-11-28", "2026-11-29"),
        ("gelecek hafta sonu", "2026-12-05", "2026-12-06"),
        ("bu ay", "2026-11-01", "2026-11-30"),
        ("gelecek ay", "2026-12-01", "2026-12-31"),
        ("aralık ayında", "2026-12-01", "2026-12-31"),
        ("ocakta", "2027-01-01", "2027-01-31"),
        ("şubat ayında", "2027-02-01", "2027-02-28"),
        ("kasım ayında", "2026-11-01", "2026-11-30"),
        ("pazartesiden çarşambaya kadar", "2026-11-30", "2026-12-02"),
        ("bugünden cumaya kadar", "2026-11-26", "2026-11-27"),
        ("yarın", "2026-11-27", "2026-11-27"),
        ("yarın öğleden sonra", "2026-11-27", "2026-11-27"),
        ("aralik ayinda", "2026-12-01", "2026-12-31"),
    ],
)
def test_ranges(expr: str, first: str, last: str) -> None:
    assert resolve_slot("range_start", expr, NOW) == first
    assert resolve_slot("range_end", expr, NOW) == last


@pytest.mark.parametrize(
    "expr",
    [
        "saat 27'de",
        "32 Aralık",
        "31 Şubat",
        "ayın 45'inde",
        "saat 25:00'te",
        "30 Şubat'ta saat üçte",
        "1000 gün sonra",
        "ikiye yetmiş kala",
        "",
        "   ",
        "merhaba",
        "🙂🙂",
        "токио завтра",
    ],
)
def test_unresolvable_gives_none(expr: str) -> None:
    for slot in ("start", "end", "new_start", "range_start", "range_end", "target_date"):
        assert resolve_slot(slot, expr, NOW) is None


def test_unknown_slot_name() -> None:
    assert resolve_slot("title", "yarın", NOW) is None
    assert resolve_slot("nope", "yarın", NOW) is None


def test_resolve_kinds() -> None:
    dt = resolve("yarın saat üçte", NOW)
    assert dt is not None and dt.kind == "datetime" and dt.start == datetime(2026, 11, 27, 15, 0, tzinfo=TZ)
    d = resolve("cuma", NOW)
    assert d is not None and d.kind == "date" and d.start == date(2026, 11, 27)
    r = resolve("gelecek hafta", NOW)
    assert r is not None and r.kind == "range" and (r.start, r.end) == (date(2026, 11, 30), date(2026, 12, 6))
    du = resolve("iki saatlik", NOW)
    assert du is not None and du.kind == "duration" and du.duration == timedelta(hours=2)
    assert resolve("32 Aralık", NOW) is None


def test_naive_now_is_istanbul() -> None:
    naive = datetime(2026, 11, 26, 10, 0)
    assert resolve_slot("start", "iki saat sonra", naive) == "2026-11-26T12:00"


def test_other_timezone_now_keeps_its_wall_clock() -> None:
    utc_now = NOW.astimezone(ZoneInfo("UTC"))  # 07:00 UTC
    assert resolve_slot("start", "iki saat sonra", utc_now) == "2026-11-26T09:00"


def test_year_rollover() -> None:
    late = datetime(2026, 12, 30, 9, 0, tzinfo=TZ)
    assert resolve_slot("start", "yarından sonra", late) == "2027-01-01"
    assert resolve_slot("start", "5 Ocak'ta saat üçte", late) == "2027-01-05T15:00"
    assert resolve_slot("range_end", "gelecek ay", late) == "2027-01-31"
    assert resolve_slot("start", "ayın 2'sinde", late) == "2027-01-02"


def test_sunday_weekend_and_next_week() -> None:
    sunday = datetime(2026, 11, 29, 12, 0, tzinfo=TZ)
    assert resolve_slot("range_start", "haftaya", sunday) == "2026-11-30"
    assert resolve_slot("start", "pazar", sunday) == "2026-12-06"  # next occurrence after today
    assert resolve_slot("start", "haftaya cuma", sunday) == "2026-12-04"


@pytest.mark.parametrize(
    "slot,expr,expected",
    [
        ("new_start", "dörde", "2026-11-26T16:00"),
        ("new_start", "beşi çeyrek geçe", "2026-11-26T17:15"),
        ("new_start", "yarın on", "2026-11-27T10:00"),
        ("end", "saat beşe kadar", "2026-11-26T17:00"),
        ("end", "17:00", "2026-11-26T17:00"),
        ("start", "2026-11-27T16:00", "2026-11-27T16:00"),
        ("start", "2026-11-27", "2026-11-27"),
        ("target_date", "2026-11-27T16:00", "2026-11-27"),
        ("range_end", "2026-12-31", "2026-12-31"),
        ("start", "2026-02-30", None),
        ("start", "2031-01-01", None),
        ("start", "2026-11-27T25:00", None),
        ("start", "iki saat sonra", "2026-11-26T12:00"),
    ],
)
def test_resolve_slot_for_model_text(slot: str, expr: str, expected: str | None) -> None:
    """What the brain passes: Turkish temporal text (or, despite the prompt, an ISO value)."""
    assert resolve_slot(slot, expr, NOW) == expected


@pytest.mark.parametrize(
    "slot,expr,expected",
    [
        ("start", "gece yarısı", "2026-11-27T00:00"),
        ("start", "yarın bu saatte", "2026-11-27T10:00"),
        ("start", "haftaya bugün", "2026-12-03"),
        ("start", "ay sonunda", "2026-11-30"),
        ("start", "ayın sonunda", "2026-11-30"),
        ("range_start", "hafta içi", "2026-11-23"),
        ("range_end", "hafta içi", "2026-11-27"),
        ("range_end", "gelecek hafta içi", "2026-12-04"),
        ("start", "28'inde saat beşte", "2026-11-28T17:00"),
        ("start", "5'inde", "2026-12-05"),
        ("start", "45'inde", None),
    ],
)
def test_more_expressions(slot: str, expr: str, expected: str | None) -> None:
    assert resolve_slot(slot, expr, NOW) == expected
