"""Reminders as standard iCalendar in the configured calendar (the ``.ics`` file or CalDAV), so
Thunderbird, GNOME Calendar or a phone see and edit them:

- "yarın sabah dokuzda ilacımı hatırlat": a ``VEVENT`` at the due time (zero length, category
  "Hatırlatma", ``X-BANTZ-KIND:reminder``) carrying a ``VALARM`` (``ACTION:DISPLAY``,
  ``TRIGGER;RELATED=START:PT0S``); "her gün…" adds an ``RRULE``.
- "toplantıdan on beş dakika önce hatırlat": a ``VALARM`` with ``TRIGGER:-PT15M`` added to the
  existing event (marked ``X-BANTZ-ALARM:1``, so cancelling removes only what Bantz added).
- "beş dakika ertele": an absolute ``VALARM`` (``TRIGGER;VALUE=DATE-TIME``) on the same event.

Reading uses the calendar's own expansion (:meth:`CalendarBackend.list`, recurring events
expanded there, never a second expander) and each event's iCalendar text
(:meth:`CalendarBackend.snapshot`) for its ``VALARM`` s, so alarms that other clients put in
their events fire too. Writes go through :meth:`CalendarBackend.restore` (one UID's components)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from bantz_voice.calendar import ical
from bantz_voice.calendar.base import CalendarBackend
from bantz_voice.calendar.errors import CalendarError
from bantz_voice.calendar.model import Event

log = logging.getLogger(__name__)

KIND = "X-BANTZ-KIND"
OURS = "X-BANTZ-ALARM"
CATEGORY = "Hatırlatma"
LEAD_AHEAD = timedelta(days=2)  # alarms up to this long before their event are found
LAG_BEHIND = timedelta(days=1)  # ... and up to this long after its start
SNAPSHOT_TTL_S = 300.0  # an event's iCalendar text is read again after this (or after our own change)


@dataclass(frozen=True)
class AlarmDue:
    """One alarm firing: ``at`` (aware, user's zone) for an occurrence of event ``uid``."""

    key: str  # unique per firing: uid | occurrence | trigger
    uid: str
    title: str
    at: datetime
    event_start: datetime
    lead: timedelta | None  # how long before the event (None: at its time, or absolute)
    ours: bool  # a Bantz reminder event (not an alarm in someone's event)
    recurring: bool
    recurrence_id: datetime | None = None


def _trigger(alarm: icalendar.cal.Component) -> tuple[timedelta | datetime, str] | None:
    prop = alarm.get("TRIGGER")
    if prop is None:
        return None
    try:
        value = prop.dt
    except AttributeError:
        return None
    related = str(prop.params.get("RELATED", "START")).upper() if hasattr(prop, "params") else "START"
    if isinstance(value, (timedelta, datetime)):
        return value, related
    return None


class CalendarReminders:
    def __init__(self, backend: CalendarBackend, snapshot_ttl_s: float = SNAPSHOT_TTL_S) -> None:
        self.backend = backend
        self.snapshot_ttl_s = snapshot_ttl_s
        # uid -> (monotonic time read, parsed text): a pass every minute does not fetch every
        # event in its window again (one HTTP request each on CalDAV); bounded by the window
        self._texts: dict[str, tuple[float, icalendar.Calendar | None]] = {}

    @property
    def tz(self) -> ZoneInfo:
        return self.backend.tz

    def forget(self) -> None:
        """Read every event's text again on the next pass (someone changed an alarm)."""
        self._texts.clear()

    # --- writing ------------------------------------------------------------------------------
    def create(self, title: str, due: datetime, rrule: str | None = None) -> Event:
        """A reminder event at ``due`` with an alarm at its start (``rrule``: repeating)."""
        due = self.backend.local(due).replace(second=0, microsecond=0)
        comp = ical.build_event(title, due, due, False, uid=f"{uuid.uuid4()}@bantz-voice", rrule=rrule)
        comp.add(KIND, "reminder")
        comp.add("categories", [CATEGORY])
        comp.add("transp", "TRANSPARENT")  # a reminder does not make the user busy
        comp.add_component(self._alarm(title, timedelta(0)))
        self._put(comp)
        ev = ical.occurrence_to_event(comp, self.tz, ical.recurring_masters([comp]))
        assert ev is not None
        return ev

    @staticmethod
    def _alarm(title: str, trigger: timedelta | datetime, *, snooze: bool = False) -> icalendar.Alarm:
        alarm = icalendar.Alarm()
        alarm.add("uid", f"{uuid.uuid4()}@bantz-voice")
        alarm.add("action", "DISPLAY")
        alarm.add("description", title)
        if isinstance(trigger, datetime):
            alarm.add("trigger", trigger.astimezone(UTC))
        else:
            alarm.add("trigger", trigger, parameters={"RELATED": "START"})
        alarm.add(OURS, "snooze" if snooze else "1")
        return alarm

    def _put(self, comp: icalendar.cal.Component) -> None:
        body = ical.new_calendar()
        body.add_component(comp)
        ical.add_timezones(body, compact=True)
        self._texts.pop(ical.uid_of(comp) or "", None)
        self.backend.restore(ical.uid_of(comp) or "", body.to_ical().decode())

    def _edit(self, uid: str, change: Callable[[icalendar.Calendar], None]) -> icalendar.Calendar:
        self._texts.pop(uid, None)
        data = self.backend.snapshot(uid)
        if data is None:
            raise CalendarError("O etkinlik takvimde artık yok.")
        cal = ical.parse(data, "takvim")
        change(cal)
        self.backend.restore(uid, cal.to_ical().decode())
        return cal

    def add_before(self, event: Event, lead: timedelta) -> None:
        """An alarm ``lead`` before ``event`` (every occurrence of a recurring one)."""

        def change(cal: icalendar.Calendar) -> None:
            for comp in ical.components_for(cal, event.uid):
                comp.add_component(self._alarm(event.title, -lead))

        self._edit(event.uid, change)

    def snooze(self, uid: str, title: str, at: datetime) -> None:
        """Fire ``uid``'s reminder again at ``at`` (an absolute alarm on the event)."""

        def change(cal: icalendar.Calendar) -> None:
            comps = ical.components_for(cal, uid)
            master = next((c for c in comps if "RECURRENCE-ID" not in c), comps[0] if comps else None)
            if master is None:
                raise CalendarError("O hatırlatma takvimde artık yok.")
            master.add_component(self._alarm(title, at, snooze=True))

        self._edit(uid, change)

    def cancel(self, due: AlarmDue) -> None:
        """Remove a reminder: Bantz's own reminder event goes; in someone else's event only the
        alarms Bantz added are removed (their event and their own alarms stay)."""
        if due.ours:
            self._texts.pop(due.uid, None)
            data = self.backend.snapshot(due.uid)
            if data is not None:
                self.backend.restore(due.uid, None)
            return

        def change(cal: icalendar.Calendar) -> None:
            for comp in ical.components_for(cal, due.uid):
                comp.subcomponents = [s for s in comp.subcomponents if not (s.name == "VALARM" and OURS in s)]

        self._edit(due.uid, change)

    # --- reading ------------------------------------------------------------------------------
    def alarms(self, start: datetime, end: datetime, *, only_ours: bool = False) -> list[AlarmDue]:
        """Every alarm firing in [start, end), sorted by time. ``only_ours``: Bantz reminders and
        the alarms Bantz added to events."""
        start, end = self.backend.local(start), self.backend.local(end)
        events = self.backend.list(start - LAG_BEHIND, end + LEAD_AHEAD)
        t = time.monotonic()
        uids = {ev.uid for ev in events}
        self._texts = {u: v for u, v in self._texts.items() if u in uids and t - v[0] < self.snapshot_ttl_s}
        out: dict[str, AlarmDue] = {}
        for ev in events:
            if ev.uid not in self._texts:
                self._texts[ev.uid] = (t, self._parsed(ev.uid))
            cal = self._texts[ev.uid][1]
            if cal is None:
                continue
            comp = self._component(cal, ev)
            if comp is None:
                continue
            ours_event = str(comp.get(KIND, "")).lower() == "reminder"
            for alarm in comp.subcomponents:
                if alarm.name != "VALARM" or str(alarm.get("ACTION", "DISPLAY")).upper() not in ("DISPLAY", "AUDIO"):
                    continue
                mine = ours_event or OURS in alarm
                if only_ours and not mine:
                    continue
                got = _trigger(alarm)
                if got is None:
                    continue
                trig, related = got
                if isinstance(trig, datetime):
                    at = ical.to_local(trig, self.tz)
                    key = f"{ev.uid}|abs|{at.astimezone(UTC).isoformat()}"
                    lead = None
                else:
                    base = ev.end if related == "END" else ev.start
                    at = base + trig
                    key = f"{ev.uid}|{ev.start.astimezone(UTC).isoformat()}|{related}{int(trig.total_seconds())}"
                    lead = -trig if trig < timedelta(0) and related == "START" else None
                if start <= at < end and key not in out:
                    out[key] = AlarmDue(key, ev.uid, ev.title, at, ev.start, lead, ours_event, ev.recurring, ev.recurrence_id)
        return sorted(out.values(), key=lambda a: (a.at, a.title))

    def _parsed(self, uid: str) -> icalendar.Calendar | None:
        try:
            data = self.backend.snapshot(uid)
            return ical.parse(data, "takvim") if data else None
        except CalendarError as exc:
            log.warning("alarms of one event unreadable: %s", exc)
            return None

    def _component(self, cal: icalendar.Calendar, ev: Event) -> Any:
        comps = ical.components_for(cal, ev.uid)
        if ev.recurring and ev.recurrence_id is not None:
            for c in comps:
                rid = c.get("RECURRENCE-ID")
                if rid is not None and ical.to_local(rid.dt, self.tz) == ev.recurrence_id:
                    return c
        return next((c for c in comps if "RECURRENCE-ID" not in c), comps[0] if comps else None)

