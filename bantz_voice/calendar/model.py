"""The :class:`Event` model every backend returns (times always in the user's time zone)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, model_validator

DEFAULT_DURATION = timedelta(minutes=60)


class Event(BaseModel):
    """One event or one occurrence of a recurring event.

    ``start``/``end`` are timezone-aware and shown in the user's zone. An all-day event starts at
    local midnight and ``end`` is the (exclusive) midnight after its last day. For an occurrence
    of a recurring series ``recurrence_id`` is the occurrence's original start (the series key
    together with ``uid``) and ``rrule`` holds the series rule as text (``FREQ=WEEKLY;...``).
    """

    model_config = ConfigDict(frozen=True)

    uid: str
    title: str
    start: datetime
    end: datetime
    all_day: bool = False
    recurring: bool = False
    rrule: str | None = None
    recurrence_id: datetime | None = None
    location: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Event:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start/end must be timezone-aware")
        if self.end < self.start:
            raise ValueError("end before start")
        return self

    @property
    def day(self) -> date:
        return self.start.date()

    @property
    def key(self) -> tuple[str, datetime | None]:
        return (self.uid, self.recurrence_id)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        if self.end == self.start:  # zero-length event: inside the range
            return start <= self.start < end
        return self.start < end and self.end > start

    def to_json(self) -> dict[str, object]:
        return {
            "uid": self.uid,
            "title": self.title,
            "start": self.start.date().isoformat() if self.all_day else self.start.isoformat(),
            "end": self.end.date().isoformat() if self.all_day else self.end.isoformat(),
            "all_day": self.all_day,
            "recurring": self.recurring,
            "rrule": self.rrule,
            "recurrence_id": self.recurrence_id.isoformat() if self.recurrence_id else None,
            "location": self.location,
        }
