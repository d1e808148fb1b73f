"""What the LLM router and orchestrator must answer: Pydantic models, the single source of the
JSON schemas (llama.cpp grammar and OpenAI ``response_format`` are both built from these)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bantz_voice.schemas import Intent, Route

Confidence = Literal["low", "medium", "high"]
CONFIDENCE_VALUE: dict[str, float] = {"low": 0.4, "medium": 0.7, "high": 0.9}

ToolName = Literal[
    "calendar.list", "calendar.next", "calendar.find", "calendar.create", "calendar.update", "calendar.delete",
    "timer.set", "timer.list", "timer.cancel",
    "reminder.create", "reminder.list", "reminder.cancel", "reminder.snooze",
]

_EXPR = "the time expression exactly as the user said it in Turkish (e.g. 'yarın saat üçte'), never a computed date"


class RouterOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    route: Route
    confidence: Confidence


class PlanSlots(BaseModel):
    """Slots as the user said them; temporal ones are resolved by the deterministic Turkish parser."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(max_length=40, description="event title in Turkish")
    start: str | None = Field(max_length=24, description=_EXPR)
    end: str | None = Field(max_length=24, description=_EXPR)
    range_start: str | None = Field(max_length=24, description=_EXPR)
    range_end: str | None = Field(max_length=24, description=_EXPR)
    target_date: str | None = Field(max_length=24, description=_EXPR)
    new_start: str | None = Field(max_length=24, description=_EXPR)
    duration: str | None = Field(
        max_length=24, description="a length of time exactly as said in Turkish (e.g. 'on iki dakika'): a timer, a snooze, a lead before an event"
    )
    repeat: str | None = Field(max_length=24, description="a repetition exactly as said in Turkish (e.g. 'her gün', 'her pazartesi')")
    name: str | None = Field(max_length=24, description="a timer's name in Turkish (e.g. 'makarna')")


class StepSlots(BaseModel):
    """A step's own slots: only those it says (every key optional, so a step costs few tokens)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=40)
    start: str | None = Field(None, max_length=24, description=_EXPR)
    end: str | None = Field(None, max_length=24, description=_EXPR)
    target_date: str | None = Field(None, max_length=24, description=_EXPR)
    new_start: str | None = Field(None, max_length=24, description=_EXPR)
    duration: str | None = Field(None, max_length=24)
    repeat: str | None = Field(None, max_length=24)
    name: str | None = Field(None, max_length=24)


class PlanStep(BaseModel):
    """One step of the ordered plan: a tool and, when they differ from the plan's, its own slots."""

    model_config = ConfigDict(extra="forbid")

    tool: ToolName
    slots: StepSlots | None = Field(None, description="this step's own slots; left out = the plan's slots")


class OrchestratorOutput(BaseModel):
    """The plan: ``tools`` is run step by step in order (brain/plan.py); ``requires_confirmation``
    can add a spoken confirmation, never remove one the code requires (delete, update, clashes)."""

    model_config = ConfigDict(extra="forbid")

    intent: Intent
    slots: PlanSlots
    tools: list[PlanStep] = Field(max_length=3, description="the ordered plan")
    requires_confirmation: bool


class OrchestratorDebugOutput(OrchestratorOutput):
    """``brain.debug_reasoning``: the same plan plus one line of the model's reasoning (off the
    critical path by default: every token of it is generated before the turn can act)."""

    reasoning: str = Field(max_length=48, description="one short line")
