"""What the LLM router and orchestrator must answer: Pydantic models, the single source of the
JSON schemas (llama.cpp grammar and OpenAI ``response_format`` are both built from these).

Every answer is bounded by construction (llm/grammar.py :func:`max_output_tokens`): the slots are
the user's words, at most a few of them, written with the characters Turkish words and times need
(a pattern, so the grammar cannot wander into escapes, control characters or other scripts); a
slot that was not said is left out (no ``null`` to write); the plan has at most three steps and a
step's own slots are the few a calendar step uses. The orchestrator's ``reasoning`` line exists only
in :class:`OrchestratorDebugOutput` (``brain.debug_reasoning``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from bantz_voice.schemas import Intent, Route

Confidence = Literal["low", "medium", "high"]
CONFIDENCE_VALUE: dict[str, float] = {"low": 0.4, "medium": 0.7, "high": 0.9}

ToolName = Literal[
    "calendar.list", "calendar.next", "calendar.find", "calendar.create", "calendar.update", "calendar.delete",
    "timer.set", "timer.list", "timer.cancel",
    "reminder.create", "reminder.list", "reminder.cancel", "reminder.snooze",
]

# the characters of a slot as said: Turkish and ASCII letters, digits, space and the punctuation
# of times and suffixes ("14:30'a", "5.", "1/2") — at most 2 UTF-8 bytes each
SAID_CHARS = "0-9A-Za-zÇĞİÖŞÜçğıöşüÂÎÛâîû '.:,/-"
TITLE_LEN = 32  # "doktor randevusu", "planlama toplantısı": a few words
EXPR_LEN = 24  # "önümüzdeki salı sabah", "yarın saat on dörtte"
SHORT_LEN = 16  # a duration, a repetition, a timer's name

_EXPR = "the time expression exactly as the user said it in Turkish (e.g. 'yarın saat üçte'), never a computed date"


def said_pattern(max_len: int) -> str:
    """1 to ``max_len`` characters of :data:`SAID_CHARS`: a pattern the grammar turns into a bounded
    repetition of one character class (llm/grammar.py)."""
    return f"^[{SAID_CHARS}]{{1,{max_len}}}$"


# the user's words (maxLength and the pattern both in the JSON schema)
Title = Annotated[str, StringConstraints(min_length=1, max_length=TITLE_LEN, pattern=said_pattern(TITLE_LEN))]
Expr = Annotated[str, StringConstraints(min_length=1, max_length=EXPR_LEN, pattern=said_pattern(EXPR_LEN))]
Short = Annotated[str, StringConstraints(min_length=1, max_length=SHORT_LEN, pattern=said_pattern(SHORT_LEN))]
Line = Annotated[str, StringConstraints(min_length=1, max_length=48, pattern=said_pattern(48))]


def said(description: str | None = None) -> Any:
    """An optional slot, left out of the JSON when not said (the schema has no ``null`` for it)."""
    return Field(None, description=description)


class RouterOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    route: Route
    confidence: Confidence


class PlanSlots(BaseModel):
    """Slots as the user said them; temporal ones are resolved by the deterministic Turkish parser."""

    model_config = ConfigDict(extra="forbid")

    title: Title | SkipJsonSchema[None] = said("event title in Turkish")
    start: Expr | SkipJsonSchema[None] = said(_EXPR)
    end: Expr | SkipJsonSchema[None] = said(_EXPR)
    range_start: Expr | SkipJsonSchema[None] = said(_EXPR)
    range_end: Expr | SkipJsonSchema[None] = said(_EXPR)
    target_date: Expr | SkipJsonSchema[None] = said(_EXPR)
    new_start: Expr | SkipJsonSchema[None] = said(_EXPR)
    duration: Short | SkipJsonSchema[None] = said("a length of time exactly as said in Turkish (e.g. 'on iki dakika'): a timer, a snooze, a lead before an event"
    )
    repeat: Short | SkipJsonSchema[None] = said("a repetition exactly as said in Turkish (e.g. 'her gün', 'her pazartesi')")
    name: Short | SkipJsonSchema[None] = said("a timer's name in Turkish (e.g. 'makarna')")


class StepSlots(BaseModel):
    """A step's own slots: only those it says, and only those a calendar step uses (timers and
    reminders take the plan's slots)."""

    model_config = ConfigDict(extra="forbid")

    title: Title | SkipJsonSchema[None] = said()
    start: Expr | SkipJsonSchema[None] = said(_EXPR)
    end: Expr | SkipJsonSchema[None] = said(_EXPR)
    target_date: Expr | SkipJsonSchema[None] = said(_EXPR)
    new_start: Expr | SkipJsonSchema[None] = said(_EXPR)


class PlanStep(BaseModel):
    """One step of the ordered plan: a tool and, when they differ from the plan's, its own slots."""

    model_config = ConfigDict(extra="forbid")

    tool: ToolName
    slots: StepSlots | SkipJsonSchema[None] = Field(None, description="this step's own slots; left out = the plan's slots")


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

    reasoning: Line = Field(description="one short line")
