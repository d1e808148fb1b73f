"""The backend interface the brain, the service and the CLI use."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bantz_voice.calendar.errors import CalendarError
from bantz_voice.calendar.matching import matches
from bantz_voice.calendar.model import Event

_NEXT_WINDOWS = (timedelta(days=1), timedelta(days=7), timedelta(days=62), timedelta(days=400))
FIND_PAST = timedelta(days=7)
FIND_FUTURE = timedelta(days=366)


class CalendarBackend(ABC):
    """Times going in may be naive (= the user's zone) or aware; times coming out are in ``tz``."""

    tz: ZoneInfo

    # --- the tool interface -----------------------------------------------------------------
    @abstractmethod
    def list(self, start: datetime, end: datetime) -> builtins.list[Event]:
        """Occurrences overlapping [start, end), recurring events expanded, sorted by start."""

    @abstractmethod
    def create(
        self, title: str, start: datetime | date, end: datetime | date | None = None, all_day: bool = False, *, rrule: str | None = None
    ) -> Event:
        """New event; ``end`` defaults to 60 minutes after ``start`` (one day when all-day);
        ``rrule`` (e.g. ``FREQ=WEEKLY;BYDAY=MO``) makes it recurring."""

    @abstractmethod
    def update(self, event: Event, *, series: bool = False, **fields: Any) -> Event:
        """Change title/start/end/all_day/location/description. For an occurrence of a recurring
        event only that occurrence changes unless ``series=True``."""

    @abstractmethod
    def delete(self, event: Event, *, series: bool = False) -> None:
        """Remove the event (for a recurring occurrence: only that one unless ``series=True``)."""

    @abstractmethod
    def get(self, uid: str) -> Event | None:
        """The event (the series' first instance for a recurring one) with this UID."""

    # --- raw state, for undo ----------------------------------------------------------------
    @abstractmethod
    def snapshot(self, uid: str) -> str | None:
        """iCalendar text of every component with this UID (None when there is none)."""

    @abstractmethod
    def restore(self, uid: str, data: str | None) -> None:
        """Put back what :meth:`snapshot` returned (None removes the UID)."""

    def close(self) -> None:  # noqa: B027 - optional
        pass

    def problems(self) -> builtins.list[str]:
        """Damaged components the last read skipped (kept as they are), named for the user."""
        return []

    # --- shared helpers ---------------------------------------------------------------------
    def local(self, value: datetime) -> datetime:
        return value.replace(tzinfo=self.tz) if value.tzinfo is None else value.astimezone(self.tz)

    def next_event(self, now: datetime | None = None) -> Event | None:
        now = self.local(now) if now is not None else datetime.now(self.tz)
        for window in _NEXT_WINDOWS:
            upcoming = [e for e in self.list(now, now + window) if e.start >= now]
            if upcoming:
                return min(upcoming, key=lambda e: (e.start, e.title))
        return None

    def day_range(self, day: date) -> tuple[datetime, datetime]:
        start = datetime.combine(day, time(0), tzinfo=self.tz)
        return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)

    def find(self, words: str, day: date | None = None, *, now: datetime | None = None) -> builtins.list[Event]:
        """Events whose title matches ``words`` (Turkish-aware) on ``day``, or — without a day —
        from a week ago to a year ahead, upcoming ones first."""
        if day is not None:
            if isinstance(day, datetime):
                day = self.local(day).date()
            start, end = self.day_range(day)
            return [e for e in self.list(start, end) if matches(words, e.title)]
        now = self.local(now) if now is not None else datetime.now(self.tz)
        found = [e for e in self.list(now - FIND_PAST, now + FIND_FUTURE) if matches(words, e.title)]
        return sorted(found, key=lambda e: (0, e.start.timestamp()) if e.end >= now else (1, -e.start.timestamp()))

    def require(self, uid: str) -> Event:
        event = self.get(uid)
        if event is None:
            from bantz_voice.calendar.errors import EventNotFoundError

            raise EventNotFoundError(f"'{uid}' kimlikli etkinlik bulunamadı.")
        return event


def check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise CalendarError("Tarih aralığının sonu başından sonra olmalı.")
