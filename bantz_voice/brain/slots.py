"""The brain's typed slots: what a turn's tools work with.

The Turkish parser (``turkish/nlu.py``, ``turkish/temporal.py``) and the evaluation speak the wire
format of :class:`bantz_voice.schemas.Slots` (ISO strings, shared/eval/README.md). The brain
parses it once, at the router (:meth:`TurnSlots.of`), into ``datetime | date | DateRange`` and
``timedelta`` values; nothing downstream parses a date string again. :meth:`TurnSlots.wire` is the
way back, for the CLI, the evaluation and the turn's JSON result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bantz_voice.schemas import Slots
from bantz_voice.turkish.temporal import iso_duration, parse_iso_duration

When = datetime | date  # a time, or a whole day (an all-day event)


def parse_when(value: str | None) -> When | None:
    """``YYYY-MM-DDTHH:MM`` -> datetime, ``YYYY-MM-DD`` -> date; None when empty or malformed."""
    if not value:
        return None
    try:
        if "T" in value:
            return datetime.fromisoformat(value)
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def day_of(value: When | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def wire_when(value: When) -> str:
    """The slot format of a time (minutes) or a day."""
    return value.isoformat(timespec="minutes") if isinstance(value, datetime) else value.isoformat()


@dataclass(frozen=True)
class DateRange:
    """Whole days ``first`` … ``last`` (both included)."""

    first: date
    last: date

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """[first 00:00, the day after last 00:00) in ``tz``."""
        return datetime.combine(self.first, time(0), tzinfo=tz), datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=tz)


@dataclass(frozen=True)
class TurnSlots:
    """Resolved slot values, typed (the fields of :class:`~bantz_voice.schemas.Slots`)."""

    title: str | None = None
    start: When | None = None
    end: When | None = None
    range_start: date | None = None
    range_end: date | None = None
    target_date: date | None = None
    new_start: When | None = None
    duration: timedelta | None = None
    repeat: str | None = None  # an iCalendar RRULE value (FREQ=DAILY, FREQ=WEEKLY;BYDAY=MO)
    name: str | None = None  # a timer's name

    @classmethod
    def of(cls, s: Slots) -> TurnSlots:
        """Parse the wire slots (a malformed value is left out, as no value)."""
        return cls(
            title=s.title,
            start=parse_when(s.start),
            end=parse_when(s.end),
            range_start=day_of(parse_when(s.range_start)),
            range_end=day_of(parse_when(s.range_end)),
            target_date=day_of(parse_when(s.target_date)),
            new_start=parse_when(s.new_start),
            duration=parse_iso_duration(s.duration),
            repeat=s.repeat,
            name=s.name,
        )

    def wire(self) -> Slots:
        def w(v: When | None) -> str | None:
            return None if v is None else wire_when(v)

        return Slots(
            title=self.title,
            start=w(self.start),
            end=w(self.end),
            range_start=w(self.range_start),
            range_end=w(self.range_end),
            target_date=w(self.target_date),
            new_start=w(self.new_start),
            duration=None if self.duration is None else iso_duration(self.duration),
            repeat=self.repeat,
            name=self.name,
        )

    def period(self) -> DateRange | None:
        """The days a calendar question asks about (``range_start`` or ``target_date`` …
        ``range_end``), in order; None = no day was said (the next event)."""
        first = self.range_start or self.target_date
        if first is None:
            return None
        last = self.range_end or first
        return DateRange(first, last) if first <= last else DateRange(last, first)


__all__ = ["DateRange", "TurnSlots", "When", "day_of", "parse_when", "wire_when"]
