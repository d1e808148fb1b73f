"""Shared data models of the language pipeline: the one source of the NLU decision's shape
(fast path, LLM router/orchestrator JSON schemas, CLI output and evaluation all use these)."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class Route(str, Enum):
    calendar = "calendar"
    smalltalk = "smalltalk"
    system = "system"
    timer = "timer"
    reminder = "reminder"
    unknown = "unknown"


class Intent(str, Enum):
    calendar_create = "calendar.create"
    calendar_query = "calendar.query"
    calendar_update = "calendar.update"
    calendar_delete = "calendar.delete"
    smalltalk_chat = "smalltalk.chat"
    system_time = "system.time"
    system_date = "system.date"
    timer_set = "timer.set"
    timer_query = "timer.query"
    timer_cancel = "timer.cancel"
    reminder_create = "reminder.create"
    reminder_list = "reminder.list"
    reminder_cancel = "reminder.cancel"
    reminder_snooze = "reminder.snooze"
    unknown = "unknown"


ROUTE_OF_INTENT: dict[Intent, Route] = {
    Intent.calendar_create: Route.calendar,
    Intent.calendar_query: Route.calendar,
    Intent.calendar_update: Route.calendar,
    Intent.calendar_delete: Route.calendar,
    Intent.smalltalk_chat: Route.smalltalk,
    Intent.system_time: Route.system,
    Intent.system_date: Route.system,
    Intent.timer_set: Route.timer,
    Intent.timer_query: Route.timer,
    Intent.timer_cancel: Route.timer,
    Intent.reminder_create: Route.reminder,
    Intent.reminder_list: Route.reminder,
    Intent.reminder_cancel: Route.reminder,
    Intent.reminder_snooze: Route.reminder,
    Intent.unknown: Route.unknown,
}


class Slots(BaseModel):
    """Resolved slot values in the formats of shared/eval/README.md.

    ``start``/``end``/``new_start``: ``YYYY-MM-DDTHH:MM`` (or ``YYYY-MM-DD`` for all-day);
    ``range_start``/``range_end``/``target_date``: ``YYYY-MM-DD``; ``duration`` (a timer's length,
    a snooze, a reminder's lead before an event): ISO 8601 ``PT12M``; ``repeat``: an iCalendar
    RRULE value (``FREQ=DAILY``, ``FREQ=WEEKLY;BYDAY=MO``); ``name``: a timer's name ("makarna").
    """

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    start: str | None = None
    end: str | None = None
    range_start: str | None = None
    range_end: str | None = None
    target_date: str | None = None
    new_start: str | None = None
    duration: str | None = None
    repeat: str | None = None
    name: str | None = None

    def compact(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class NluDecision(BaseModel):
    """What the router stage decided about one utterance."""

    route: Route
    intent: Intent
    slots: Slots = Field(default_factory=Slots)
    confidence: float = Field(ge=0.0, le=1.0)
    source: str = "rules"  # "rules" | "llm"

    def to_json_dict(self) -> dict:
        return {
            "route": self.route.value,
            "intent": self.intent.value,
            "slots": self.slots.compact(),
            "confidence": round(self.confidence, 3),
            "source": self.source,
        }
