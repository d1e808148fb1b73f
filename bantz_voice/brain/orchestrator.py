"""The orchestrator stage: intent, slots, an ordered plan of tool steps and confirmation from the
LLM. Temporal slots come back as the user's Turkish words and are resolved by the deterministic
Turkish parser; the model never does date arithmetic. The plan is carried out by brain/plan.py
with typed slots (brain/slots.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bantz_voice.brain import prompts
from bantz_voice.brain.budget import PromptParts
from bantz_voice.brain.schemas import OrchestratorDebugOutput, OrchestratorOutput, PlanSlots, StepSlots
from bantz_voice.brain.slots import TurnSlots
from bantz_voice.brain.structured import structured
from bantz_voice.llm import Backends
from bantz_voice.schemas import Intent, Slots

TEMPORAL = ("start", "end", "range_start", "range_end", "target_date", "new_start")
CHANGING = {Intent.calendar_delete, Intent.calendar_update}


@dataclass
class Step:
    """One step of a plan: a tool name (a key of brain/plan.py's tool table) and its slots."""

    tool: str
    slots: TurnSlots
    said: dict[str, str] = field(default_factory=dict)  # the slots' words as said (e.g. 'cuma aynı saatte')


@dataclass
class Plan:
    intent: Intent
    slots: TurnSlots
    tools: list[str] = field(default_factory=list)
    requires_confirmation: bool = False
    reasoning: str = ""  # why the code decided (rules), or the model's line with brain.debug_reasoning
    steps: list[Step] = field(default_factory=list)  # the ordered plan; empty = the intent's default steps


def default_tools(intent: Intent, slots: TurnSlots) -> list[str]:
    """The steps a single-intent command takes: what the fast path plans and what an LLM plan
    without steps falls back to."""
    if intent == Intent.calendar_query:
        return ["calendar.list"] if (slots.range_start or slots.range_end or slots.target_date) else ["calendar.next"]
    if intent == Intent.calendar_create:
        return ["calendar.create"]
    if intent == Intent.calendar_delete:
        return ["calendar.find", "calendar.delete"]
    if intent == Intent.calendar_update:
        return ["calendar.find", "calendar.update"]
    return []


def default_plan(intent: Intent, slots: TurnSlots, why: str = "", confirm: bool = False) -> Plan:
    tools = default_tools(intent, slots)
    return Plan(intent, slots, tools, confirm or intent in CHANGING, why, [Step(t, slots) for t in tools])


def orchestrator_parts(text: str, summary: list[str] | None = None, reasoning: bool = False) -> PromptParts:
    return PromptParts(
        system=prompts.ORCHESTRATOR_SYSTEM + (prompts.ORCHESTRATOR_REASONING if reasoning else ""),
        user=text,
        few_shots=tuple(prompts.orchestrator_shots(reasoning)),
        summary=tuple(summary or ()),
    )


def resolve_slots(raw: PlanSlots | StepSlots, now: datetime) -> Slots:
    """Temporal expressions -> the wire slots through ``turkish.temporal.resolve_slot``."""
    from bantz_voice.turkish.temporal import resolve_duration, resolve_repeat, resolve_slot

    said: dict[str, str | None] = raw.model_dump()  # a step's slots have fewer keys than the plan's
    values: dict[str, str | None] = {"title": (said["title"] or "").strip() or None}
    for name in TEMPORAL:
        expr = said.get(name)
        values[name] = resolve_slot(name, expr, now) if expr else None
    duration, repeat = said.get("duration"), said.get("repeat")
    values["duration"] = resolve_duration(duration) if duration else None
    values["repeat"] = resolve_repeat(repeat) if repeat else None
    values["name"] = (said.get("name") or "").strip() or None
    return Slots(**values)


def _said(raw: PlanSlots | StepSlots) -> dict[str, str]:
    return {k: v for k, v in raw.model_dump().items() if v}


def to_plan(out: OrchestratorOutput, now: datetime) -> Plan:
    """The model's answer as a plan: each step's slots resolved (null = the plan's slots)."""
    slots = TurnSlots.of(resolve_slots(out.slots, now))
    steps = [Step(s.tool, TurnSlots.of(resolve_slots(s.slots, now)) if s.slots else slots, _said(s.slots or out.slots))
             for s in out.tools]
    if not steps:
        steps = [Step(t, slots, _said(out.slots)) for t in default_tools(out.intent, slots)]
    reasoning = out.reasoning if isinstance(out, OrchestratorDebugOutput) else ""
    return Plan(out.intent, slots, [s.tool for s in steps], out.requires_confirmation or out.intent in CHANGING,
                reasoning, steps)


async def plan(llm: Backends, text: str, now: datetime, summary: list[str] | None = None,
               reasoning: bool = False) -> tuple[Plan, dict[str, int]]:
    schema = OrchestratorDebugOutput if reasoning else OrchestratorOutput
    out, stats = await structured(
        llm.for_role("orchestrator"), llm.params("orchestrator"), orchestrator_parts(text, summary, reasoning),
        llm.budget("orchestrator"), schema
    )
    return to_plan(out, now), stats
