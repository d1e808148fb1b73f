"""Timers and the alarm scheduler: the state file, firing once (also across restarts), missed
alarms, suspend/resume, wall-clock jumps and DST (Europe/Berlin), with a fake clock and real
``.ics`` calendars."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
from fixtures.fakeclock import FakeClock

from bantz_voice.brain.tool import Decision, ToolContext
from bantz_voice.calendar.ics import IcsCalendar
from bantz_voice.config import Settings
from bantz_voice.schemas import Intent, NluDecision, Slots
from bantz_voice.timers.reminders import CalendarReminders
from bantz_voice.timers.scheduler import AlarmLog, AlarmScheduler, Announcer, Firing, firing_text
from bantz_voice.timers.store import TimerStore
from bantz_voice.timers.tools import AlarmTools

BERLIN = ZoneInfo("Europe/Berlin")


class Recorder(Announcer):
    def __init__(self) -> None:
        self.said: list[str] = []
        self.notes: list[tuple[str, str]] = []
        self.earcons = 0
        self.is_busy = False
        self.spoke = asyncio.Event()

    def busy(self) -> bool:
        return self.is_busy

    async def earcon(self) -> None:
        self.earcons += 1

    async def speak(self, text: str) -> None:
        self.said.append(text)
        self.spoke.set()

    def notify(self, title: str, body: str) -> None:
        self.notes.append((title, body))


def make_settings(tmp_path: Path, tz: str = "Europe/Berlin", **rem) -> Settings:
    s = Settings()
    s.brain.timezone = tz
    s.calendar.ics_path = tmp_path / "cal.ics"
    s.reminders.timers_path = tmp_path / "timers.json"
    s.reminders.state_path = tmp_path / "alarms.json"
    s.reminders.ring_repeats = 1
    for k, v in rem.items():
        setattr(s.reminders, k, v)
    return s


def scheduler(settings: Settings, clock: FakeClock, rec: Announcer | None = None) -> AlarmScheduler:
    backend = IcsCalendar(Path(settings.calendar.ics_path), ZoneInfo(settings.brain.timezone))
    return AlarmScheduler(settings, rec or Recorder(), clock=clock, reminders=CalendarReminders(backend))


def tools(settings: Settings, clock: FakeClock) -> AlarmTools:
    backend = IcsCalendar(Path(settings.calendar.ics_path), ZoneInfo(settings.brain.timezone))
    return AlarmTools(settings, backend_of=lambda: backend, clock=clock)


def decision(intent: Intent, **slots: str) -> Decision:
    """A decision as the router hands it to the tool (slots given in the wire format)."""
    from bantz_voice.schemas import ROUTE_OF_INTENT

    return Decision.of(NluDecision(route=ROUTE_OF_INTENT[intent], intent=intent, slots=Slots(**slots), confidence=0.9))


# --- the timer store ------------------------------------------------------------------------------
def test_timers_are_named_several_and_survive_a_restart(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN))
    store = TimerStore(tmp_path / "timers.json", clock)
    store.add(12 * 60, "makarna")
    store.add(5 * 60)
    clock.advance(60)
    again = TimerStore(tmp_path / "timers.json", clock)  # a new process reads the same file
    running = again.running()
    assert [t.name for t in running] == [None, "makarna"]  # sooner first
    assert [round(t.remaining(clock)) for t in running] == [240, 660]
    data = json.loads((tmp_path / "timers.json").read_text())
    assert len(data["timers"]) == 2
    assert not list(tmp_path.glob(".timers.json.*.tmp"))  # the atomic write left no temporary file


def test_timer_ignores_a_wall_clock_change_and_uses_the_wall_clock_after_a_reboot(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN))
    store = TimerStore(tmp_path / "timers.json", clock)
    t = store.add(600, "çay")
    clock.set_wall(3600)  # someone sets the clock an hour forward: the timer still has 10 minutes
    assert round(t.remaining(clock)) == 600
    clock.set_wall(-3600)
    clock.reboot(120)  # down two minutes: after the reboot only the wall clock means anything
    assert round(store.running()[0].remaining(clock)) == 480


def test_a_damaged_state_file_is_kept_aside_and_the_store_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "timers.json"
    path.write_text("{yarım")
    clock = FakeClock(datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN))
    store = TimerStore(path, clock)
    assert store.all() == []
    assert (tmp_path / "timers.json.broken").read_text() == "{yarım"
    store.add(60)
    assert len(store.running()) == 1


# --- firing ---------------------------------------------------------------------------------------
async def test_timer_fires_at_its_time_once_and_not_again_after_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    clock = FakeClock(datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN))
    tl = tools(settings, clock)
    out = tl.run(decision(Intent.timer_set, duration="PT12M", name="makarna"), ToolContext(clock.now(BERLIN)))
    assert out.reply == "Tamam efendim, makarna için 12 dakika başladı."
    s = scheduler(settings, clock)
    clock.advance(11 * 60 + 59)
    assert await s.check() == []
    clock.advance(1)
    (f,) = await s.check()
    assert f.kind == "timer" and f.title == "makarna" and not f.missed
    assert await s.check() == []
    s2 = scheduler(settings, clock)  # the daemon restarts
    clock.advance(30)
    assert await s2.check() == []
    q = tl.run(decision(Intent.timer_query), ToolContext(clock.now(BERLIN)))
    assert "makarna zamanlayıcısı doldu" in q.reply


async def test_missed_timer_is_announced_once_when_the_daemon_comes_back(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    clock = FakeClock(datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN))
    TimerStore(tmp_path / "timers.json", clock).add(300, "yumurta")
    clock.advance(20 * 60)  # the daemon was down when it was due
    rec = Recorder()
    s = scheduler(settings, clock, rec)
    (f,) = await s.check()
    assert f.missed
    await s._announce([f])
    assert rec.said == ["Efendim, yumurta zamanlayıcısı ben kapalıyken sabah on beşte doldu."]
    assert rec.notes and rec.notes[0][0] == "Zamanlayıcı"


async def test_a_missed_alarm_older_than_the_limit_is_not_announced(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, missed_limit_s=3600)
    clock = FakeClock(datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN))
    TimerStore(tmp_path / "timers.json", clock).add(300, "eski")
    clock.advance(3 * 3600)
    s = scheduler(settings, clock)
    assert await s.check() == []
    assert TimerStore(tmp_path / "timers.json", clock).all()[0].fired  # recorded, never said


def _daily(settings: Settings, clock: FakeClock, hour: int) -> None:
    tl = tools(settings, clock)
    start = datetime.fromtimestamp(clock.wall(), BERLIN).replace(hour=hour, minute=0) + timedelta(days=1)
    out = tl.run(
        decision(Intent.reminder_create, title="ilacım", start=start.strftime("%Y-%m-%dT%H:%M"), repeat="FREQ=DAILY"),
        ToolContext(clock.now(BERLIN)),
    )
    assert out.reply.startswith("Tamam efendim, her gün") and out.tool_calls[0]["ok"]


async def _run_until(s: AlarmScheduler, clock: FakeClock, until: datetime, step: float) -> list[tuple[Firing, datetime]]:
    got: list[tuple[Firing, datetime]] = []
    while clock.wall() < until.timestamp():
        clock.advance(step)
        for f in await s.check():
            got.append((f, datetime.fromtimestamp(clock.wall(), BERLIN)))
    return got


async def test_daily_reminder_fires_at_local_eight_on_both_sides_of_the_dst_change(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, refresh_s=600, late_s=1500)
    clock = FakeClock(datetime(2026, 10, 23, 12, 0, tzinfo=BERLIN))  # CEST; DST ends Sun 25 Oct 03:00
    _daily(settings, clock, 8)
    s = scheduler(settings, clock)
    got = await _run_until(s, clock, datetime(2026, 10, 26, 12, 0, tzinfo=BERLIN), 1200)  # a pass every 20 minutes
    due = [datetime.fromtimestamp(f.due_wall, BERLIN) for f, _ in got]
    assert [(d.day, d.hour, d.minute) for d in due] == [(24, 8, 0), (25, 8, 0), (26, 8, 0)]
    assert all(timedelta(0) <= w - d < timedelta(minutes=20) for d, (_, w) in zip(due, got))
    assert [f.alarm.at.utcoffset() for f, _ in got] == [timedelta(hours=2), timedelta(hours=1), timedelta(hours=1)]
    assert not any(f.missed for f, _ in got)


async def test_reminder_during_a_suspend_is_announced_on_resume_as_missed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    clock = FakeClock(datetime(2026, 11, 26, 7, 0, tzinfo=BERLIN))
    _daily(settings, clock, 8)
    s = scheduler(settings, clock)
    await s.check()
    clock.advance(86400 - 1800)  # 06:30 next day, awake
    assert await s.check() == []
    clock.advance(3 * 3600)  # suspended 06:30 -> 09:30: both clocks moved, 08:00 passed asleep
    (f,) = await s.check()
    assert f.missed and datetime.fromtimestamp(f.due_wall, BERLIN).hour == 8
    assert firing_text(f, BERLIN) == "Efendim, kaçırılan hatırlatma: sabah sekizde, ilacım."
    assert await s.check() == []


async def test_wall_clock_set_forward_past_a_reminder_fires_it_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    clock = FakeClock(datetime(2026, 11, 26, 7, 0, tzinfo=BERLIN))
    _daily(settings, clock, 8)
    s = scheduler(settings, clock)
    clock.advance(86400)
    await s.check()  # 07:00 next day
    clock.set_wall(2 * 3600)  # the clock is corrected to 09:00: 08:00 is in the past now
    (f,) = await s.check()
    assert f.missed
    clock.set_wall(-2 * 3600)  # and back: it does not fire again
    clock.advance(3 * 3600)
    assert await s.check() == []


async def test_alarm_in_an_event_made_by_another_client_fires(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    cal = icalendar.Calendar.from_ical(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\n"
        "BEGIN:VEVENT\r\nUID:tb-1@thunderbird\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Diş hekimi\r\n"
        "DTSTART;TZID=Europe/Berlin:20261126T150000\r\nDTEND;TZID=Europe/Berlin:20261126T160000\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Default Mozilla Description\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n"
        "BEGIN:VALARM\r\nACTION:EMAIL\r\nDESCRIPTION:x\r\nSUMMARY:x\r\nATTENDEE:mailto:a@b.c\r\nTRIGGER:-PT1H\r\nEND:VALARM\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    Path(settings.calendar.ics_path).write_bytes(cal.to_ical())
    clock = FakeClock(datetime(2026, 11, 26, 14, 0, tzinfo=BERLIN))
    rec = Recorder()
    s = scheduler(settings, clock, rec)
    got = await _run_until(s, clock, datetime(2026, 11, 26, 16, 0, tzinfo=BERLIN), 60)
    assert [(w.hour, w.minute) for _, w in got] == [(14, 45)]  # the e-mail alarm is not ours to say
    await s._announce([got[0][0]])
    assert rec.said == ["Efendim, 15 dakika sonra: Diş hekimi."] and rec.earcons == 1


async def test_announcement_waits_for_the_reply_playing_and_tamam_stops_the_ringing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, ring_repeats=5, ring_interval_s=2)
    clock = FakeClock(datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN))
    TimerStore(tmp_path / "timers.json", clock).add(60, "çay")
    rec = Recorder()
    rec.is_busy = True  # a reply is playing
    s = scheduler(settings, clock, rec)
    runner = asyncio.create_task(s.run())
    try:
        clock.advance(61)
        for _ in range(200):
            if s.ringing is not None:
                break
            await asyncio.sleep(0.01)
        assert s.ringing is not None and rec.said == []  # queued, not said over the reply
        assert rec.notes == [("Zamanlayıcı", "çay zamanlayıcısı doldu.")]  # the notification is not held back
        rec.is_busy = False
        await asyncio.wait_for(rec.spoke.wait(), 5)
        assert rec.said == ["Efendim, çay zamanlayıcısı doldu."]
        assert s.stop_ringing()
        for _ in range(300):
            if s.ringing is None:
                break
            await asyncio.sleep(0.01)
        assert s.ringing is None and len(rec.said) == 1
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_snooze_within_the_window_and_cancel(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    clock = FakeClock(datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN))
    tl = tools(settings, clock)
    now = clock.now(BERLIN)
    out = tl.run(decision(Intent.reminder_create, title="fırın", start="2026-11-26T10:30"), ToolContext(now))
    assert out.reply == "Tamam efendim, bugün sabah on buçukta hatırlatacağım: fırın."
    assert "fırın" in tl.run(decision(Intent.reminder_list), ToolContext(now)).reply
    no = tl.run(decision(Intent.reminder_snooze, duration="PT5M"), ToolContext(now))
    assert no.reply.startswith("Az önce çalan")
    s = scheduler(settings, clock)
    clock.advance(30 * 60)
    (f,) = await s.check()
    assert f.title == "fırın"
    clock.advance(60)
    out = tl.run(decision(Intent.reminder_snooze, duration="PT5M"), ToolContext(clock.now(BERLIN)))
    assert out.reply == "Tamam efendim, 5 dakika sonra tekrar hatırlatacağım."
    s.poke()
    clock.advance(4 * 60)
    assert await s.check() == []
    clock.advance(60)
    (again,) = await s.check()
    assert again.title == "fırın" and not again.missed
    clock.advance(16 * 60)  # past the snooze window
    assert tl.run(decision(Intent.reminder_snooze), ToolContext(clock.now(BERLIN))).reply.startswith("Az önce çalan")
    # a daily one: cancelled by name, the event leaves the calendar
    _daily(settings, clock, 8)
    out = tl.run(decision(Intent.reminder_cancel, title="ilaç"), ToolContext(clock.now(BERLIN)))
    assert out.reply == "Tamam efendim, 'ilacım' hatırlatması iptal edildi (tekrarlarıyla birlikte)."
    assert "ilacım" not in Path(settings.calendar.ics_path).read_text()


async def test_reminder_before_an_existing_event_and_cancel_keeps_the_event(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    clock = FakeClock(datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN))
    backend = IcsCalendar(Path(settings.calendar.ics_path), BERLIN)
    backend.create("Proje toplantısı", datetime(2026, 11, 26, 14, 0, tzinfo=BERLIN))
    tl = AlarmTools(settings, backend_of=lambda: backend, clock=clock)
    out = tl.run(decision(Intent.reminder_create, title="toplantı", duration="PT15M"), ToolContext(clock.now(BERLIN)))
    assert "'Proje toplantısı' etkinliğinden 15 dakika önce hatırlatacağım" in out.reply
    text = Path(settings.calendar.ics_path).read_text()
    assert "BEGIN:VALARM" in text and ":-PT15M" in text
    s = AlarmScheduler(settings, Recorder(), clock=clock, reminders=CalendarReminders(backend))
    got = await _run_until(s, clock, datetime(2026, 11, 26, 14, 0, tzinfo=BERLIN), 30)
    assert [(w.hour, w.minute) for _, w in got] == [(13, 45)]
    tl.run(decision(Intent.reminder_cancel, title="toplantı"), ToolContext(clock.now(BERLIN)))  # nothing upcoming any more
    clock2 = FakeClock(datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN))
    tl2 = AlarmTools(settings, backend_of=lambda: backend, clock=clock2)
    tl2.run(decision(Intent.reminder_create, title="toplantı", duration="PT30M"), ToolContext(clock2.now(BERLIN)))
    out = tl2.run(decision(Intent.reminder_cancel, title="toplantı"), ToolContext(clock2.now(BERLIN)))
    assert out.tool_calls[0]["ok"]
    text = Path(settings.calendar.ics_path).read_text()
    assert "Proje toplantısı" in text and "VALARM" not in text  # the event stays, Bantz's alarms go


def test_alarm_log_is_bounded(tmp_path: Path) -> None:
    log = AlarmLog(tmp_path / "alarms.json")
    log.record([f"k{i}" for i in range(50)], 0.0, None)
    log.record(["new"], 10 * 86400.0, None)
    assert log.fired_keys() == {"new"}
