"""Assistant behaviour on top of a backend: clash check before creating, ambiguity when a
reference matches several events, and an undo journal ("geri al" undoes the last change of the
session). Results carry a ``say()`` that gives the Turkish sentence to speak."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from bantz_voice.calendar import ical, speech
from bantz_voice.calendar.base import CalendarBackend
from bantz_voice.calendar.errors import CalendarError
from bantz_voice.calendar.model import Event

JOURNAL_SIZE = 50


@dataclass
class CreateResult:
    """``event`` is set when created; otherwise ``clashes`` lists what is already at that time
    and the caller should ask (``say()``) and call ``create(..., force=True)`` on "evet"."""

    event: Event | None
    clashes: list[Event] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.event is not None

    def say(self, now: datetime) -> str:
        return speech.created_text(self.event, now) if self.event else speech.clash_question(self.clashes)


@dataclass
class FindResult:
    words: str
    day: date | None
    events: list[Event]

    @property
    def unique(self) -> Event | None:
        return self.events[0] if len(self.events) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.events) > 1

    def say(self, now: datetime) -> str:
        """Question to ask when there is not exactly one match."""
        if not self.events:
            return speech.not_found_text(self.words, self.day, now)
        return speech.which_one(self.events, now)


@dataclass
class _Change:
    kind: Literal["create", "update", "delete"]
    uid: str
    title: str
    before: str | None  # snapshot to restore
    after: str | None  # snapshot right after the change (to notice later edits)
    group: int | None = None  # changes of one confirmed plan: undone together


class CalendarService:
    def __init__(self, backend: CalendarBackend, clock: Callable[[], datetime] | None = None) -> None:
        self.backend = backend
        self._clock = clock
        self._journal: list[_Change] = []
        self._lock = threading.RLock()
        self._group: int | None = None
        self._groups = 0

    @classmethod
    def from_settings(cls, settings: Any) -> CalendarService:
        from bantz_voice.calendar import open_calendar

        return cls(open_calendar(settings))

    @property
    def tz(self):
        return self.backend.tz

    def now(self) -> datetime:
        return self.backend.local(self._clock()) if self._clock else datetime.now(self.backend.tz)

    # --- queries ----------------------------------------------------------------------------
    def list(self, start: datetime, end: datetime) -> list[Event]:
        return self.backend.list(start, end)

    def summary(self, start: datetime, end: datetime, label: str | None = None) -> str:
        start, end = self.backend.local(start), self.backend.local(end)
        return speech.summarize(self.backend.list(start, end), start, end, self.now(), label)

    def day_summary(self, day: date) -> str:
        start, end = self.backend.day_range(day)
        return self.summary(start, end)

    def next_event(self) -> Event | None:
        return self.backend.next_event(self.now())

    def next_event_text(self) -> str:
        return speech.next_event_text(self.next_event(), self.now())

    def find(self, words: str, day: date | None = None) -> FindResult:
        return FindResult(words, day, self.backend.find(words, day, now=self.now()))

    def clashes(self, start: datetime, end: datetime | None = None, all_day: bool = False) -> builtins.list[Event]:
        """Timed events overlapping the slot (all-day events never clash)."""
        if all_day:
            return []
        s, e = ical.normalize_times(start, end, False, self.backend.tz)
        return [ev for ev in self.backend.list(s, e) if not ev.all_day and ev.overlaps(s, e) and ev.end > s]

    # --- changes (journaled) ----------------------------------------------------------------
    def create(
        self,
        title: str,
        start: datetime | date,
        end: datetime | date | None = None,
        all_day: bool = False,
        *,
        force: bool = False,
        rrule: str | None = None,
    ) -> CreateResult:
        with self._lock:
            if not force and isinstance(start, datetime) and not all_day:
                clashes = self.clashes(start, end if isinstance(end, datetime) else None)
                if clashes:
                    return CreateResult(None, clashes)
            ev = self.backend.create(title, start, end, all_day, rrule=rrule)
            self._record("create", ev, None)
            return CreateResult(ev)

    def update(self, event: Event, *, series: bool = False, **fields: Any) -> Event:
        with self._lock:
            before = self.backend.snapshot(event.uid)
            new = self.backend.update(event, series=series, **fields)
            self._record("update", new, before)
            return new

    def delete(self, event: Event, *, series: bool = False) -> None:
        with self._lock:
            before = self.backend.snapshot(event.uid)
            self.backend.delete(event, series=series)
            self._record("delete", event, before)

    @contextmanager
    def grouped(self) -> Iterator[None]:
        """Changes made inside are one entry for :meth:`undo` (a multi-step plan)."""
        with self._lock:
            outer = self._group
            if outer is None:
                self._groups += 1
                self._group = self._groups
            try:
                yield
            finally:
                self._group = outer

    def _record(self, kind: Literal["create", "update", "delete"], ev: Event, before: str | None) -> None:
        self._journal.append(_Change(kind, ev.uid, ev.title, before, self.backend.snapshot(ev.uid), self._group))
        del self._journal[:-JOURNAL_SIZE]

    @property
    def can_undo(self) -> bool:
        return bool(self._journal)

    def undo(self) -> str:
        """Undo the last change of this session (all changes of the last plan, newest first);
        returns the Turkish sentence to speak."""
        with self._lock:
            if not self._journal:
                return speech.undone_text(None, None)
            group = self._journal[-1].group
            n = 1
            if group is not None:
                while n < len(self._journal) and self._journal[-n - 1].group == group:
                    n += 1
            changes = self._journal[-n:]
            last = {c.uid: c for c in changes}  # an event changed twice in a plan: its last state counts
            for change in last.values():
                if _events_text(self.backend.snapshot(change.uid)) != _events_text(change.after):
                    del self._journal[-n:]
                    raise CalendarError(f"'{change.title}' o arada başka yerden değişmiş; son değişikliği geri alamıyorum.")
            for change in reversed(changes):
                self.backend.restore(change.uid, change.before)
            del self._journal[-n:]
            return " ".join(speech.undone_text(c.kind, c.title) for c in reversed(changes))


def _events_text(snapshot: str | None) -> list[bytes]:
    if snapshot is None:
        return []
    cal = ical.parse(snapshot, "geri alma kaydı")
    return sorted(c.to_ical() for c in ical.events_of(cal))


__all__ = ["CalendarService", "CreateResult", "FindResult"]
