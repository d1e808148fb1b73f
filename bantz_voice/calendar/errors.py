"""Calendar errors: one-line Turkish messages the assistant can speak."""

from __future__ import annotations

from bantz_voice.errors import BantzError


class CalendarError(BantzError):
    """Any calendar failure (server down, wrong password, timeout, corrupt file, bad input)."""


class EventNotFoundError(CalendarError):
    pass
