"""Recurrence bombs: FREQ=SECONDLY/MINUTELY rules without an end, in the .ics file and on a real
Radicale server. The expansion is bounded per series, per query and in time; a refused query says
in Turkish that the calendar is too large; nothing hangs; the calendar stays usable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import caldav
import icalendar
import pytest
import recurring_ical_events
from fixtures.radicale import RadicaleServer

from bantz_voice.calendar import ical
from bantz_voice.calendar.caldav_backend import CaldavCalendar
from bantz_voice.calendar.ical import CalendarTooLarge
from bantz_voice.calendar.ics import IcsCalendar
from bantz_voice.calendar.service import CalendarService

TZ = ZoneInfo("Europe/Istanbul")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=TZ)
FIND_WINDOW = (NOW - timedelta(days=7), NOW + timedelta(days=366))  # what a spoken delete searches
HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//bomb//TR\r\n"
TAIL = "END:VCALENDAR\r\n"

pytestmark = pytest.mark.timeout(120)  # a hang fails the test instead of the whole run


def vevent(uid: str, title: str, start: str, rule: str | None = None, extra: str = "", duration: str = "PT30M") -> str:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART;TZID=Europe/Istanbul:{start}",
        f"DURATION:{duration}",
        f"SUMMARY:{title}",
    ]
    if rule:
        lines.append(f"RRULE:{rule}")
    lines += [ln for ln in extra.split("\r\n") if ln]
    lines.append("END:VEVENT")
    return "\r\n".join(lines) + "\r\n"


NORMAL = vevent("normal-1", "Diş hekimi", "20261127T150000")
WEEKLY = vevent("weekly-1", "Haftalık toplantı", "20150105T090000", "FREQ=WEEKLY;BYDAY=MO,FR")


def ics(tmp_path: Path, *events: str) -> IcsCalendar:
    path = tmp_path / "calendar.ics"
    path.write_text(HEAD + "".join(events) + TAIL, encoding="utf-8", newline="")
    return IcsCalendar(path, TZ)


@pytest.mark.parametrize(
    "rule,start",
    [
        ("FREQ=SECONDLY", "20200101T090000"),
        ("FREQ=MINUTELY", "20200101T090000"),
        ("FREQ=SECONDLY;COUNT=900000000", "20261120T000000"),
        ("FREQ=DAILY;BYHOUR=" + ",".join(map(str, range(24))) + ";BYMINUTE=" + ",".join(map(str, range(60))), "20100101T000000"),
        ("FREQ=MONTHLY;BYMONTHDAY=" + ",".join(map(str, range(1, 29))) + ";BYHOUR=" + ",".join(map(str, range(24))), "19700101T000000"),
    ],
    ids=["secondly", "minutely", "secondly-huge-count", "daily-every-minute", "monthly-every-hour"],
)
def test_bomb_in_ics_is_refused_in_turkish_and_the_rest_still_works(tmp_path: Path, rule: str, start: str) -> None:
    cal = ics(tmp_path, NORMAL, vevent("bomb", "Bomba", start, rule), WEEKLY)
    with pytest.raises(CalendarTooLarge) as info:
        cal.list(*FIND_WINDOW)
    msg = str(info.value)
    assert msg.startswith("Takvim çok büyük") and "'Bomba'" in msg and "\n" not in msg
    # the same calendar answers a short window (lazily: only that window is expanded)
    got = cal.list(NOW, NOW + timedelta(minutes=1))
    assert all(NOW - timedelta(hours=1) <= e.start < NOW + timedelta(minutes=1) for e in got)
    # nothing is locked or damaged: a write goes through, the file is unchanged otherwise
    CalendarService(cal).create("Yeni etkinlik", NOW + timedelta(days=2), force=True)
    after = cal.path.read_bytes()
    for block in (NORMAL, vevent("bomb", "Bomba", start, rule), WEEKLY):
        assert block.encode() in after  # untouched events are written back byte for byte
    assert b"SUMMARY:Yeni etkinlik" in after


def test_minutely_without_end_in_a_short_window_gives_exactly_its_minutes(tmp_path: Path) -> None:
    cal = ics(tmp_path, vevent("m", "Dakikalık", "20200101T000000", "FREQ=MINUTELY", duration="PT0S"))
    got = cal.list(NOW, NOW + timedelta(minutes=10))
    assert [e.start for e in got] == [NOW + timedelta(minutes=i) for i in range(10)]
    assert all(e.recurring and e.uid == "m" for e in got)


def test_many_small_series_hit_the_per_query_limit(tmp_path: Path) -> None:
    # each series alone is under the per-series limit (COUNT: no fast-forward, it is walked from
    # its start), together they are over the per-query limit
    per = int(ical.MAX_STEPS_PER_EVENT * 0.8)
    n = ical.MAX_STEPS_PER_QUERY // per + 1
    events = [vevent(f"s{i}", f"Seri {i}", "20200101T000000", f"FREQ=HOURLY;COUNT={per}") for i in range(n)]
    cal = ics(tmp_path, *events)
    with pytest.raises(CalendarTooLarge, match="^Takvim çok büyük"):
        cal.list(*FIND_WINDOW)


@pytest.mark.parametrize(
    "rule,start,duration,days",
    [
        ("FREQ=HOURLY", "20150101T093000", "PT45M", 2),
        ("FREQ=MINUTELY;INTERVAL=7", "20261001T000000", "PT2M", 1),
        ("FREQ=DAILY", "20100315T230000", "PT3H", 5),  # crosses midnight, DST changes since 2010
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "20120103T180000", "PT1H", 30),
        ("FREQ=DAILY;BYHOUR=8,20", "20160101T000000", "PT1H", 3),
        ("FREQ=MONTHLY;BYDAY=2WE,-1FR", "19990113T100000", "PT1H", 100),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15,27", "20000101T080000", "PT1H", 40),
        ("FREQ=YEARLY", "19801127T090000", "PT2H", 800),
        ("FREQ=HOURLY;COUNT=100000", "20200101T000000", "PT0S", 2),  # COUNT: moved forward, COUNT lowered
    ],
)
def test_fast_forward_keeps_every_occurrence(tmp_path: Path, rule: str, start: str, duration: str, days: float) -> None:
    """The bounded expansion (series moved forward to the window) equals the plain library
    expansion, with an EXDATE and a moved occurrence inside the window."""
    first = NOW.replace(hour=int(start[9:11]), minute=int(start[11:13]))
    raw = vevent("r", "Tekrar", start, rule, duration=duration)
    probe = icalendar.Calendar.from_ical((HEAD + raw + TAIL).encode())
    window = (first - timedelta(hours=1), first + timedelta(days=days))
    occ = [o["DTSTART"].dt for o in recurring_ical_events.of(probe).between(*window)]
    assert len(occ) >= 3
    gone, moved = occ[1], occ[2]
    exdate = f"EXDATE;TZID=Europe/Istanbul:{gone.astimezone(TZ):%Y%m%dT%H%M%S}"
    override = vevent(
        "r", "Tekrar (taşındı)", f"{(moved + timedelta(minutes=1)).astimezone(TZ):%Y%m%dT%H%M%S}",
        extra=f"RECURRENCE-ID;TZID=Europe/Istanbul:{moved.astimezone(TZ):%Y%m%dT%H%M%S}", duration=duration,
    )
    text = HEAD + vevent("r", "Tekrar", start, rule, extra=exdate, duration=duration) + override + TAIL
    reference = sorted(
        (o["DTSTART"].dt.astimezone(TZ), str(o["SUMMARY"]))
        for o in recurring_ical_events.of(icalendar.Calendar.from_ical(text.encode())).between(*window)
    )
    got = ical.expand(icalendar.Calendar.from_ical(text.encode()), *window, TZ)
    assert sorted((e.start, e.title) for e in got) == reference
    assert gone.astimezone(TZ) not in [e.start for e in got]
    assert (moved.astimezone(TZ) + timedelta(minutes=1), "Tekrar (taşındı)") in [(e.start, e.title) for e in got]


def _bomb_on_server(radicale: RadicaleServer, rule: str) -> str:
    url = radicale.new_calendar()
    with caldav.DAVClient(url=radicale.url, username=radicale.username, password=radicale.password, timeout=10) as client:
        cal = client.calendar(url=url)
        cal.add_event(HEAD + vevent("bomb", "Bomba", "20200101T090000", rule) + TAIL)
        cal.add_event(HEAD + NORMAL + TAIL)
    return url


@pytest.mark.parametrize("rule", ["FREQ=SECONDLY", "FREQ=MINUTELY"])
def test_bomb_over_caldav_is_refused_and_the_server_is_not_asked_to_expand_it(radicale: RadicaleServer, rule: str) -> None:
    url = _bomb_on_server(radicale, rule)
    dav = CaldavCalendar(radicale.url, radicale.username, radicale.password, TZ, url, timeout=30)
    try:
        with pytest.raises(CalendarTooLarge, match="^Takvim çok büyük.*'Bomba'"):
            dav.list(*FIND_WINDOW)
        # a short window is answered (a time-range REPORT would make Radicale expand the rule
        # from 2020 on and never answer within the timeout)
        got = dav.list(NOW + timedelta(hours=3), NOW + timedelta(hours=3, seconds=30))
        assert {e.title for e in got} == {"Bomba", "Diş hekimi"}
        ev = dav.create("Sonradan eklenen", NOW + timedelta(days=3))
        assert ev.title in {e.title for e in dav.list(NOW + timedelta(days=3), NOW + timedelta(days=3, seconds=30))}
    finally:
        dav.close()


def test_spoken_delete_of_a_bomb_says_the_calendar_is_too_large(tmp_path: Path) -> None:
    """Through the real CLI (`ask`, the brain's turn code): a Turkish sentence, exit 0, no traceback."""
    data = Path(os.environ["BANTZ_DATA_DIR"])
    data.mkdir(parents=True, exist_ok=True)
    (data / "calendar.ics").write_text(HEAD + NORMAL + vevent("bomb", "Bomba", "20200101T090000", "FREQ=SECONDLY") + TAIL, newline="")
    res = subprocess.run(
        [sys.executable, "-m", "bantz_voice", "ask", "bomba etkinliğini sil", "--rules-only", "--json", "--now", "2026-11-27T12:00"],
        capture_output=True, text=True, timeout=100,
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert "Takvim çok büyük" in out["reply"] and "Traceback" not in res.stderr
    assert not out["requires_confirmation"]


def test_expansion_stops_at_its_deadline(tmp_path: Path) -> None:
    import time

    cal = ics(tmp_path, WEEKLY, vevent("d", "Günlük", "20260101T080000", "FREQ=DAILY"))
    idx = cal._load()
    with pytest.raises(CalendarTooLarge, match="^Takvim çok büyük"):
        ical.expand(idx.recurring, *FIND_WINDOW, TZ, deadline=time.monotonic() - 1)
    assert len(ical.expand(idx.recurring, NOW, NOW + timedelta(days=7), TZ)) == 7 + 2  # daily + Mon/Fri
