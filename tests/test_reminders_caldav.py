"""Reminders over CalDAV against a real Radicale server: stored as standard VALARMs other clients
read, alarms put in by another client fire, snooze and cancel."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import caldav
import icalendar
import pytest
from fixtures.fakeclock import FakeClock
from fixtures.radicale import RadicaleServer

from bantz_voice.brain.tool import Decision, ToolContext
from bantz_voice.calendar import open_calendar
from bantz_voice.calendar.caldav_backend import CaldavCalendar
from bantz_voice.config import Settings
from bantz_voice.schemas import ROUTE_OF_INTENT, Intent, NluDecision, Slots
from bantz_voice.timers.reminders import CalendarReminders
from bantz_voice.timers.scheduler import AlarmScheduler, Announcer
from bantz_voice.timers.tools import AlarmTools

TZ = ZoneInfo("Europe/Berlin")
ENV = "BANTZ_TEST_CALDAV_PW"


def settings_for(server: RadicaleServer, calendar_url: str, tmp_path: Path) -> Settings:
    s = Settings()
    s.brain.timezone = "Europe/Berlin"
    s.calendar.backend = "caldav"
    s.calendar.caldav_url = server.url
    s.calendar.caldav_username = server.username
    s.calendar.caldav_password_env = ENV
    s.calendar.caldav_calendar = calendar_url
    s.reminders.timers_path = tmp_path / "timers.json"
    s.reminders.state_path = tmp_path / "alarms.json"
    s.reminders.ring_repeats = 1
    return s


@pytest.fixture
def setup(radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv(ENV, radicale.password)
    url = radicale.new_calendar()
    settings = settings_for(radicale, url, tmp_path)
    backend = open_calendar(settings)
    assert isinstance(backend, CaldavCalendar)
    yield settings, backend, url
    backend.close()


def other_client(server: RadicaleServer, url: str):
    client = caldav.DAVClient(url=server.url, username=server.username, password=server.password)
    return client, client.calendar(url=url)


def d(intent: Intent, **slots: str) -> Decision:
    return Decision.of(NluDecision(route=ROUTE_OF_INTENT[intent], intent=intent, slots=Slots(**slots), confidence=0.9))


async def test_reminder_is_a_standard_valarm_that_fires_snoozes_and_cancels(setup, radicale: RadicaleServer) -> None:
    settings, backend, url = setup
    clock = FakeClock(datetime(2026, 11, 26, 8, 0, tzinfo=TZ))
    tools = AlarmTools(settings, backend_of=lambda: backend, clock=clock)
    out = tools.run(d(Intent.reminder_create, title="ilacım", start="2026-11-26T09:00"), ToolContext(clock.now(TZ)))
    assert out.tool_calls[0]["ok"]
    client, cal = other_client(radicale, url)
    with client:
        (obj,) = cal.search(event=True)
        parsed = icalendar.Calendar.from_ical(obj.data)
    (ev,) = [c for c in parsed.walk("VEVENT")]
    (alarm,) = [c for c in ev.walk("VALARM")]
    assert str(ev["SUMMARY"]) == "ilacım" and str(alarm["ACTION"]) == "DISPLAY"
    assert alarm["TRIGGER"].dt == timedelta(0) and ev["DTSTART"].dt == datetime(2026, 11, 26, 9, 0, tzinfo=TZ)

    s = AlarmScheduler(settings, Announcer(), clock=clock, reminders=CalendarReminders(backend))
    await s.check()
    clock.advance(3600)
    (f,) = await s.check()
    assert f.title == "ilacım" and not f.missed
    clock.advance(60)
    assert tools.run(d(Intent.reminder_snooze, duration="PT10M"), ToolContext(clock.now(TZ))).tool_calls[0]["ok"]
    with client:
        (obj,) = cal.search(event=True)
        assert obj.data.count("BEGIN:VALARM") == 2  # the snooze is one more (absolute) alarm on the event
    clock.advance(10 * 60)
    (again,) = await s.check()
    assert again.title == "ilacım"
    # cancelled: the reminder event leaves the server
    tools.run(d(Intent.reminder_create, title="vitamin al", start="2026-11-26T12:00", repeat="FREQ=DAILY"), ToolContext(clock.now(TZ)))
    assert "vitamin al" in tools.run(d(Intent.reminder_list), ToolContext(clock.now(TZ))).reply
    out = tools.run(d(Intent.reminder_cancel, title="vitamin"), ToolContext(clock.now(TZ)))
    assert out.tool_calls[0]["ok"]
    with client:
        assert not [o for o in cal.search(event=True) if "vitamin al" in o.data]


async def test_alarm_of_another_clients_recurring_event_fires_and_a_lead_is_added(setup, radicale: RadicaleServer) -> None:
    settings, backend, url = setup
    client, cal = other_client(radicale, url)
    with client:
        cal.add_event(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//GNOME//Evolution//EN\r\n"
            "BEGIN:VEVENT\r\nUID:evo-standup\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Standup\r\n"
            "DTSTART;TZID=Europe/Berlin:20261123T093000\r\nDTEND;TZID=Europe/Berlin:20261123T094500\r\n"
            "RRULE:FREQ=DAILY\r\n"
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Standup\r\nTRIGGER;RELATED=START:-PT5M\r\nEND:VALARM\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    clock = FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=TZ))
    s = AlarmScheduler(settings, Announcer(), clock=clock, reminders=CalendarReminders(backend))
    await s.check()
    clock.advance(25 * 60)
    (f,) = await s.check()
    assert f.title == "Standup" and f.alarm is not None and f.alarm.lead == timedelta(minutes=5)
    assert datetime.fromtimestamp(f.due_wall, TZ) == datetime(2026, 11, 26, 9, 25, tzinfo=TZ)
    # "standup'tan on dakika önce hatırlat": one more alarm on their event; cancelling removes only it
    tools = AlarmTools(settings, backend_of=lambda: backend, clock=clock)
    out = tools.run(d(Intent.reminder_create, title="standup", duration="PT10M"), ToolContext(clock.now(TZ)))
    assert out.tool_calls[-1]["ok"], out.reply
    with client:
        (obj,) = cal.search(event=True)
        assert obj.data.count("BEGIN:VALARM") == 2 and "X-BANTZ-ALARM" in obj.data
    tools.run(d(Intent.reminder_cancel, title="standup"), ToolContext(clock.now(TZ)))
    with client:
        (obj,) = cal.search(event=True)
        assert obj.data.count("BEGIN:VALARM") == 1 and "X-BANTZ-ALARM" not in obj.data and "RRULE:FREQ=DAILY" in obj.data
