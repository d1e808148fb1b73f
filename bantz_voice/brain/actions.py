"""Pending actions: a change that waits for a spoken "evet" (or an answer to "hangisi?").

Each kind is a pydantic model; :data:`PendingAction` is their union, told apart by ``kind``. The
confirmation store (brain/confirm.py) persists them in SQLite through :data:`ACTION` (JSON), so a
follow-up ``bantz-voice ask "evet"`` in another process gets the same typed action back.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, TypeAdapter

from bantz_voice.brain.slots import When, parse_when, wire_when


def _when(value: object) -> When:
    if isinstance(value, (datetime, date)):
        return value
    parsed = parse_when(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValueError(f"not a date or time: {value!r}")
    return parsed


def _iso(value: When) -> str:
    """A time as said (naive, whole minutes) in the slot format; an event's time with its zone."""
    if isinstance(value, datetime) and value.tzinfo is None and not (value.second or value.microsecond):
        return wire_when(value)
    return value.isoformat()


def _time(value: object) -> datetime:
    when = _when(value)
    if not isinstance(when, datetime):
        raise ValueError(f"not a time: {value!r}")
    return when


# a time or a day (an all-day event), stored as ISO text; a time alone
WhenField = Annotated[When, PlainValidator(_when), PlainSerializer(_iso, return_type=str)]
TimeField = Annotated[datetime, PlainValidator(_time), PlainSerializer(_iso, return_type=str)]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def call_args(self) -> dict[str, Any]:
        """The action as a tool call's ``args`` in a turn's JSON result."""
        return self.model_dump(mode="json", exclude={"kind"}, exclude_none=True)


class CreateEvent(_Action):
    kind: Literal["create"] = "create"
    title: str
    start: WhenField  # a day: an all-day event
    end: TimeField | None = None


class DeleteEvent(_Action):
    kind: Literal["delete"] = "delete"
    uid: str
    event_start: TimeField
    title: str = ""
    event_end: TimeField | None = None  # a later step of a plan may take its time


class UpdateEvent(_Action):
    kind: Literal["update"] = "update"
    uid: str
    event_start: TimeField
    title: str = ""
    event_end: TimeField | None = None
    new_start: TimeField


Change = Annotated[CreateEvent | DeleteEvent | UpdateEvent, Field(discriminator="kind")]
EventChange = DeleteEvent | UpdateEvent  # a change of an existing event (found by uid and start)


class Candidate(BaseModel):
    """One of the events a "which one?" question offers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uid: str
    event_start: TimeField
    title: str


class ChooseEvent(_Action):
    """"Hangisini kastediyorsunuz?": the answer picks a candidate, then ``then`` is asked for."""

    kind: Literal["choose"] = "choose"
    then: Literal["delete", "update"]
    new_start: WhenField | None = None
    candidates: list[Candidate]


class PlanChanges(_Action):
    """Several changes of one plan: confirmed once, carried out in order, undone as one."""

    kind: Literal["plan"] = "plan"
    steps: list[Change]


PendingAction = Annotated[CreateEvent | DeleteEvent | UpdateEvent | ChooseEvent | PlanChanges, Field(discriminator="kind")]
ACTION: TypeAdapter[CreateEvent | DeleteEvent | UpdateEvent | ChooseEvent | PlanChanges] = TypeAdapter(PendingAction)

__all__ = [
    "ACTION", "Candidate", "Change", "ChooseEvent", "CreateEvent", "DeleteEvent", "EventChange", "PendingAction",
    "PlanChanges", "UpdateEvent",
]
