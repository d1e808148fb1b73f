"""The orchestrator stage: intent, slots, tool plan and confirmation from the LLM. Temporal slots
come back as the user's Turkish words and are resolved by the deterministic Turkish parser; the
model never does date arithmetic."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bantz_voice.brain import prompts
from bantz_voice.brain.budget import PromptParts
from bantz_voice.brain.schemas import OrchestratorOutput, PlanSlots
from bantz_voice.brain.structured import structured
from bantz_voice.llm import Backends
from bantz_voice.schemas import ROUTE_OF_INTENT, Intent, Slots

TEMPORAL = ("start", "end", "range_start", "range_end", "target_date", "new_start")
CHANGING = {Intent.calendar_delete, Intent.calendar_update}


@dataclass
class Plan:
    intent: Intent
    slots: Slots
    tools: list[str] = field(default_factory=list)
    requires_confirmation: bool = False
    reasoning: str = ""


def orchestrator_parts(text: str, summary: list[str] | None = None) -> PromptParts:
    return PromptParts(
        system=prompts.ORCHESTRATOR_SYSTEM,
        user=text,
        few_shots=tuple(prompts.shot_pairs(prompts.ORCHESTRATOR_SHOTS)),
        summary=tuple(summary or ()),
    )


def resolve_slots(raw: PlanSlots, now: datetime) -> Slots:
    """Temporal expressions -> slot strings through ``turkish.temporal.resolve_slot``."""
    from bantz_voice.turkish.temporal import resolve_slot

    from bantz_voice.turkish.temporal import resolve_duration, resolve_repeat

    values: dict[str, str | None] = {"title": (raw.title or "").strip() or None}
    for name in TEMPORAL:
        expr = getattr(raw, name)
        values[name] = resolve_slot(name, expr, now) if expr else None
    values["duration"] = resolve_duration(raw.duration) if raw.duration else None
    values["repeat"] = resolve_repeat(raw.repeat) if raw.repeat else None
    values["name"] = (raw.name or "").strip() or None
    return Slots(**values)


async def plan(llm: Backends, text: str, now: datetime, summary: list[str] | None = None) -> tuple[Plan, dict[str, int]]:
    out, stats = await structured(
        llm.for_role("orchestrator"), llm.params("orchestrator"), orchestrator_parts(text, summary), llm.budget("orchestrator"), OrchestratorOutput
    )
    slots = resolve_slots(out.slots, now)
    confirm = out.requires_confirmation or out.intent in CHANGING
    return Plan(out.intent, slots, list(out.tools), confirm, out.reasoning), stats


def route_of(intent: Intent) -> str:
    return ROUTE_OF_INTENT[intent].value
