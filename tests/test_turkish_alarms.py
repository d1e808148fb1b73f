"""The Turkish layer for timers and reminders: durations, repetitions, fast-path intents and
slots, and a full text turn through the brain (rules only)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bantz_voice.schemas import Intent, Route
from bantz_voice.turkish.nlu import has_tool_cue, parse
from bantz_voice.turkish.temporal import find_repeat, resolve_duration, resolve_repeat
from bantz_voice.turkish.tokens import tokenize

TZ = ZoneInfo("Europe/Istanbul")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)  # a Thursday


@pytest.mark.parametrize(
    "text, iso",
    [
        ("on iki dakika", "PT12M"),
        ("beş dakikalık", "PT5M"),
        ("yarım saat", "PT30M"),
        ("bir buçuk saat", "PT1H30M"),
        ("1 saat 20 dakika", "PT1H20M"),
        ("kırk beş saniye", "PT45S"),
        ("PT10M", "PT10M"),
        ("iki gün", None),  # not a timer length
        ("otuz saat", None),  # longer than a day
        ("makarna", None),
    ],
)
def test_durations(text: str, iso: str | None) -> None:
    assert resolve_duration(text) == iso


@pytest.mark.parametrize(
    "text, rule",
    [
        ("her gün saat sekizde", "FREQ=DAILY"),
        ("her sabah", "FREQ=DAILY"),
        ("her pazartesi", "FREQ=WEEKLY;BYDAY=MO"),
        ("hafta içi her gün", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("her ay", "FREQ=MONTHLY"),
        ("yarın sabah", None),
    ],
)
def test_repetitions(text: str, rule: str | None) -> None:
    assert resolve_repeat(text) == rule
    rep = find_repeat(tokenize(text))
    assert (rep.rrule if rep else None) == rule


@pytest.mark.parametrize(
    "text, intent, slots",
    [
        ("beş dakikalık zamanlayıcı kur", Intent.timer_set, {"duration": "PT5M"}),
        ("makarna için on iki dakika", Intent.timer_set, {"duration": "PT12M", "name": "makarna"}),
        ("Bantz, ne kadar kaldı?", Intent.timer_query, {}),
        ("makarnaya ne kadar kaldı", Intent.timer_query, {"name": "makarna"}),
        ("zamanlayıcıyı durdur", Intent.timer_cancel, {}),
        ("iki saat sonra toplantımı hatırlat", Intent.reminder_create, {"start": "2026-11-26T12:00"}),
        ("yarın sabah dokuzda ilacımı hatırlat", Intent.reminder_create, {"start": "2026-11-27T09:00", "title": "ilacım"}),
        ("her gün saat sekizde ilacımı hatırlat", Intent.reminder_create, {"repeat": "FREQ=DAILY", "start": "2026-11-27T08:00"}),
        ("toplantıdan on beş dakika önce hatırlat", Intent.reminder_create, {"title": "toplantı", "duration": "PT15M"}),
        ("hatırlatmayı iptal et", Intent.reminder_cancel, {}),
        ("beş dakika ertele", Intent.reminder_snooze, {"duration": "PT5M"}),
        ("hatırlatmalarım neler", Intent.reminder_list, {}),
    ],
)
def test_issue_phrasings_are_confident(text: str, intent: Intent, slots: dict[str, str]) -> None:
    d = parse(text, NOW)
    assert d.intent is intent and d.confidence >= 0.8
    got = d.slots.compact()
    assert {k: got.get(k) for k in slots} == slots


@pytest.mark.parametrize(
    "text, intent",
    [
        ("toplantıyı yarına ertele", Intent.calendar_update),  # an event, not a snooze
        ("yarın gece yarısı yılbaşı geri sayımı ekle", Intent.calendar_create),
        ("kronometreyi başlat", Intent.unknown),  # a stopwatch is not a timer
        ("toplantıya ne kadar kaldı", Intent.calendar_query),
        ("bu hafta neler var", Intent.calendar_query),
    ],
)
def test_neighbours_are_not_taken(text: str, intent: Intent) -> None:
    assert parse(text, NOW).intent is intent


def test_routes_and_cues() -> None:
    assert parse("ne kadar kaldı", NOW).route is Route.timer
    assert parse("alarmımı kapat", NOW).route is Route.reminder
    assert has_tool_cue("ne kadar kaldı", NOW)  # the LLM router is not skipped for it


async def test_a_text_turn_sets_and_reads_a_timer(tmp_path: Path) -> None:
    from bantz_voice.brain.cascade import Brain
    from bantz_voice.config import Settings
    from bantz_voice.responder import TurnRequest

    s = Settings()
    s.brain.rules_only = True
    s.calendar.ics_path = tmp_path / "cal.ics"
    b = Brain(s)
    try:
        req = TurnRequest(text="kırk beş saniyelik zamanlayıcı kur", now=datetime.now(TZ))
        reply = "".join([p async for p in b.respond(req)])
        assert reply == "Tamam efendim, 45 saniyelik zamanlayıcı başladı."
        req = TurnRequest(text="makarna için on iki dakika", now=datetime.now(TZ))
        reply = "".join([p async for p in b.respond(req)])
        assert reply == "Tamam efendim, makarna için 12 dakika başladı."
        assert req.result.route == "timer" and req.result.tool_calls[0]["tool"] == "timer.set"
        req = TurnRequest(text="makarnaya ne kadar kaldı", now=datetime.now(TZ))
        reply = "".join([p async for p in b.respond(req)])
        assert reply.startswith("Efendim, makarna zamanlayıcısının bitmesine") and "dakika kaldı" in reply
        now = datetime.now(TZ)
        req = TurnRequest(text="yarın sabah dokuzda ilacımı hatırlat", now=now)
        reply = "".join([p async for p in b.respond(req)])
        assert reply == "Tamam efendim, yarın sabah dokuzda hatırlatacağım: ilacım."
        ics = (tmp_path / "cal.ics").read_text()
        assert "BEGIN:VALARM" in ics and "SUMMARY:ilacım" in ics
        due = (now + timedelta(days=1)).strftime("%Y%m%dT090000")
        assert due in ics
    finally:
        await b.aclose()
