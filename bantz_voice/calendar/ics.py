"""The embedded backend: one standard ``.ics`` file (any calendar app can import it).

Reads parse the file once and keep an index until the file changes (inode, mtime, size); writes
happen under a file lock on a freshly checked copy and replace the file atomically
(:class:`AtomicFile`). A file that does not parse is reported and never written over."""

from __future__ import annotations

import builtins
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import icalendar

from bantz_voice.calendar import ical
from bantz_voice.calendar.base import CalendarBackend, check_range
from bantz_voice.calendar.errors import CalendarError
from bantz_voice.calendar.model import Event
from bantz_voice.calendar.store import AtomicFile, StatKey

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class _Index:
    key: StatKey | None
    cal: icalendar.Calendar
    plain: list[Event]  # non-recurring events, sorted by start
    recurring: icalendar.Calendar  # recurring masters + overrides (+ time zones), expanded per query


def _build_index(cal: icalendar.Calendar, key: StatKey | None, tz: ZoneInfo) -> _Index:
    recurring_uids = {ical.uid_of(c) for c in ical.events_of(cal) if ical.is_recurring_component(c)}
    rec = ical.new_calendar()
    plain: list[Event] = []
    for comp in cal.subcomponents:
        if comp.name == "VTIMEZONE":
            rec.add_component(comp)
        elif comp.name == "VEVENT":
            if ical.uid_of(comp) in recurring_uids:
                rec.add_component(comp)
            else:
                ev = ical.occurrence_to_event(comp, tz, {})
                if ev is not None:
                    plain.append(ev)
    plain.sort(key=lambda e: (e.start, e.end, e.title))
    return _Index(key=key, cal=cal, plain=plain, recurring=rec)


class IcsCalendar(CalendarBackend):
    def __init__(self, path: Path, tz: ZoneInfo, lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.tz = tz
        self.file = AtomicFile(self.path, lock_timeout=lock_timeout)
        self._index: _Index | None = None
        self._mutex = threading.RLock()

    # --- reading ----------------------------------------------------------------------------
    def _load(self) -> _Index:
        with self._mutex:
            key = self.file.stat_key()
            if self._index is not None and self._index.key == key:
                return self._index
            data, key = self.file.read()
            if data is None or not data.strip():
                cal = ical.new_calendar()
            else:
                cal = ical.parse(data, str(self.path))
            self._index = _build_index(cal, key, self.tz)
            return self._index

    def list(self, start: datetime, end: datetime) -> builtins.list[Event]:
        start, end = self.local(start), self.local(end)
        check_range(start, end)
        idx = self._load()
        out = [e for e in idx.plain if e.start <= end and e.overlaps(start, end)]
        if idx.recurring.subcomponents:
            out.extend(ical.expand(idx.recurring, start, end, self.tz))
        out.sort(key=lambda e: (e.start, e.end, e.title))
        return out

    def get(self, uid: str) -> Event | None:
        return ical.master_event(self._load().cal, uid, self.tz)

    def snapshot(self, uid: str) -> str | None:
        sub = ical.uid_calendar(self._load().cal, uid)
        return sub.to_ical().decode() if sub is not None else None

    # --- writing ----------------------------------------------------------------------------
    def _mutate(self, change: Callable[[icalendar.Calendar], T]) -> T:
        with self._mutex, self.file.locked():
            cal = self._load().cal  # re-checked under the lock: another process may have written
            self._index = None  # the parsed calendar is about to change
            result = change(cal)
            data = cal.to_ical()
            key = self.file.write(data)
            self._index = _build_index(cal, key, self.tz)
            log.debug("calendar written: %s (%d bytes)", self.path, len(data))
            return result

    def create(
        self, title: str, start: datetime | date, end: datetime | date | None = None, all_day: bool = False, *, rrule: str | None = None
    ) -> Event:
        s, e = ical.normalize_times(start, end, all_day, self.tz)
        comp = ical.build_event(title, s, e, all_day, rrule=rrule)

        def change(cal: icalendar.Calendar) -> None:
            cal.add_component(comp)
            ical.add_timezones(cal)

        self._mutate(change)
        ev = ical.occurrence_to_event(comp, self.tz, ical.recurring_masters([comp]))
        assert ev is not None
        return ev

    def update(self, event: Event, *, series: bool = False, **fields: Any) -> Event:
        self._mutate(lambda cal: ical.apply_update(cal, event, fields, self.tz, series=series))
        return ical.event_after_change(self._load().cal, event, self.tz, series)

    def delete(self, event: Event, *, series: bool = False) -> None:
        self._mutate(lambda cal: ical.apply_delete(cal, event, self.tz, series=series))

    def restore(self, uid: str, data: str | None) -> None:
        new = ical.parse(data, "geri alma kaydı") if data is not None else None

        def change(cal: icalendar.Calendar) -> None:
            for c in ical.components_for(cal, uid):
                cal.subcomponents.remove(c)
            if new is not None:
                have = {str(c.get("TZID")) for c in cal.subcomponents if c.name == "VTIMEZONE"}
                for c in new.subcomponents:
                    if c.name == "VTIMEZONE" and str(c.get("TZID")) in have:
                        continue
                    cal.add_component(c)

        self._mutate(change)


