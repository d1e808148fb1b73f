"""Calendar tools (issue 5): an embedded ``.ics`` store by default, CalDAV for real calendars.

``open_calendar(settings)`` returns a :class:`CalendarBackend`; :class:`CalendarService` adds the
assistant behaviour (clash check, ambiguity, undo) and ``speech`` turns results into Turkish."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bantz_voice import paths
from bantz_voice.calendar.base import CalendarBackend
from bantz_voice.calendar.errors import CalendarError, EventNotFoundError
from bantz_voice.calendar.model import Event
from bantz_voice.config import Settings

__all__ = [
    "CalendarBackend",
    "CalendarError",
    "CalendarService",
    "Event",
    "EventNotFoundError",
    "default_ics_path",
    "open_calendar",
    "user_timezone",
]


def user_timezone(settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.brain.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"Bilinmeyen saat dilimi: {settings.brain.timezone}.") from exc


def default_ics_path(settings: Settings) -> Path:
    if settings.calendar.ics_path is not None:
        return Path(settings.calendar.ics_path).expanduser()
    return paths.data_dir() / "calendar.ics"


def open_calendar(settings: Settings) -> CalendarBackend:
    tz = user_timezone(settings)
    if settings.calendar.backend == "caldav":
        from bantz_voice.calendar.caldav_backend import CaldavCalendar

        return CaldavCalendar.from_settings(settings.calendar, tz)
    from bantz_voice.calendar.ics import IcsCalendar

    return IcsCalendar(default_ics_path(settings), tz, lock_timeout=settings.calendar.timeout_s)


def __getattr__(name: str):  # lazy: the service imports speech, which imports the Turkish layer
    if name == "CalendarService":
        from bantz_voice.calendar.service import CalendarService

        return CalendarService
    raise AttributeError(name)
