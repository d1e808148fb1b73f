"""Shared data models of the language pipeline: the one source of the NLU decision's shape
(fast path, LLM router/orchestrator JSON schemas, CLI output and evaluation all use these)."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class Route(str, Enum):
    calendar = "calendar"
    smalltalk = "smalltalk"
    system = "system"
    unknown = "unknown"


class Intent(str, Enum):
    calendar_create = "calendar.create"
    calendar_query = "calendar.query"
    calendar_update = "calendar.update"
    calendar_delete = "calendar.delete"
    smalltalk_chat = "smalltalk.chat"
    system_time = "system.time"
    system_date = "system.date"
    unknown = "unknown"


ROUTE_OF_INTENT: dict[Intent, Route] = {
    Intent.calendar_create: Route.calendar,
    Intent.calendar_query: Route.calendar,
    Intent.calendar_update: Route.calendar,
    Intent.calendar_delete: Route.calendar,
    Intent.smalltalk_chat: Route.smalltalk,
    Intent.system_time: Route.system,
    Intent.system_date: Route.system,
    Intent.unknown: Route.unknown,
}


class Slots(BaseModel):
    """Resolved slot values in the formats of shared/eval/README.md.

    ``start``/``end``/``new_start``: ``YYYY-MM-DDTHH:MM`` (or ``YYYY-MM-DD`` for all-day);
    ``range_start``/``range_end``/``target_date``: ``YYYY-MM-DD``.
    """

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    start: str | None = None
    end: str | None = None
    range_start: str | None = None
    range_end: str | None = None
    target_date: str | None = None
    new_start: str | None = None

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
