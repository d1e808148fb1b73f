"""The router stage: the Turkish fast path first; when it is not confident, the LLM router
(schema-constrained route + confidence) and then the orchestrator for intent and slots.

The decision comes back twice: as the wire :class:`~bantz_voice.schemas.NluDecision` (ISO slot
strings: the CLI, the evaluation, the turn's JSON result) and as a typed plan (brain/slots.py)
the tools run: :meth:`Routed.action`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bantz_voice.brain import prompts
from bantz_voice.brain.budget import BudgetExceeded, PromptParts
from bantz_voice.brain.marks import Marks
from bantz_voice.brain.orchestrator import Plan, default_plan, plan
from bantz_voice.brain.schemas import CONFIDENCE_VALUE, RouterOutput
from bantz_voice.brain.slots import TurnSlots
from bantz_voice.brain.structured import InvalidOutput, structured
from bantz_voice.brain.tool import Decision
from bantz_voice.config import Settings
from bantz_voice.llm import Backends, LLMError
from bantz_voice.schemas import ROUTE_OF_INTENT, Intent, NluDecision, Route
from bantz_voice.turkish.nlu import has_system_cue, has_tool_cue, system_intent

log = logging.getLogger(__name__)

INTENT_OF_ROUTE = {Route.smalltalk: Intent.smalltalk_chat, Route.unknown: Intent.unknown}
PLANNED_ROUTES = (Route.calendar, Route.timer, Route.reminder)  # the orchestrator fills their intent and slots


@dataclass
class Routed:
    decision: NluDecision
    plan: Plan
    source: str  # "rules" | "llm"
    llm_calls: list[str] = field(default_factory=list)
    error: str | None = None  # "llm_unavailable" | "llm_timeout" | "invalid_output" | "budget"
    error_text: str | None = None
    fallback: bool = False  # an LLM stage failed and the fast path's plan for the router's route stands in
    router_route: Route | None = None  # the LLM router's route when the orchestrator after it failed

    @property
    def failed_role(self) -> str:
        """The role whose LLM stage failed: the last one called (the router when none was)."""
        return self.llm_calls[-1] if self.llm_calls else "router"

    def action(self) -> Decision:
        """The typed decision the tools run (the plan's slots: parsed once, here)."""
        return Decision(self.decision.intent, self.plan.slots, self.plan)


def fast_path(text: str, now: datetime) -> NluDecision:
    from bantz_voice.turkish.nlu import parse

    return parse(text, now)


def router_parts(text: str) -> PromptParts:
    return PromptParts(system=prompts.ROUTER_SYSTEM, user=text, few_shots=tuple(prompts.shot_pairs(prompts.ROUTER_SHOTS)))


def rules_decide(rules: NluDecision, text: str, now: datetime, settings: Settings) -> str | None:
    """Why the fast path's ``rules`` decision stands without the LLM router, or None when the
    router runs: the fast path is confident (or ``brain.rules_only``), or an unsure chat guess in a
    sentence with no word a calendar, time or out-of-scope request is made of
    (``brain.chat_without_cue``): the router could only say chat, and on a CPU it costs ~0.3 s."""
    b = settings.brain
    if b.rules_only or rules.confidence >= b.fast_path_min_confidence:
        return "fast path"
    if b.chat_without_cue and rules.route == Route.smalltalk and not has_tool_cue(text, now):
        return "no calendar or time word: chat"
    return None


def from_rules(rules: NluDecision, why: str = "fast path") -> Routed:
    """The fast path's decision as the same plan structure the orchestrator gives (its steps)."""
    return Routed(rules, default_plan(rules.intent, TurnSlots.of(rules.slots), why), "rules")


def fail(rules: NluDecision, exc: BaseException, calls: list[str]) -> Routed:
    kind = {
        "LLMTimeout": "llm_timeout",
        "LLMUnavailable": "llm_unavailable",
        "InvalidOutput": "invalid_output",
        "BudgetExceeded": "budget",
    }.get(type(exc).__name__, "llm_error")
    log.warning("router stage failed (%s): %s", kind, exc)
    out = from_rules(rules)
    out.error, out.error_text, out.llm_calls = kind, str(exc), calls
    return out


async def route(
    text: str,
    now: datetime,
    settings: Settings,
    llm: Backends | None,
    *,
    trace: Marks | None = None,
    summary: list[str] | None = None,
) -> Routed:
    rules = fast_path(text, now)
    why = rules_decide(rules, text, now, settings)
    if llm is None or why is not None:
        if trace:
            trace.mark("route_done")
            trace.mark("plan_done")
        return from_rules(rules, why or "fast path")
    calls: list[str] = []
    try:
        calls.append("router")
        out, _ = await structured(
            llm.for_role("router"), llm.params("router"), router_parts(text), llm.budget("router"), RouterOutput
        )
        if trace:
            trace.mark("route_done")
        confidence = CONFIDENCE_VALUE[out.confidence]
        if out.route == Route.system and not has_system_cue(text):
            # "system" for a sentence with no time/date word is a misread: chat instead of the time
            p = Plan(Intent.smalltalk_chat, TurnSlots(), [], False, "router said system, no time/date word: chat")
            decision = NluDecision(route=Route.smalltalk, intent=Intent.smalltalk_chat, confidence=confidence, source="llm")
        elif out.route == Route.system:
            # time or date: a deterministic choice, no orchestrator call
            intent = system_intent(text)
            p = Plan(intent, TurnSlots(), [], False, "router+rules")
            decision = NluDecision(route=out.route, intent=intent, confidence=confidence, source="llm")
        elif out.route in PLANNED_ROUTES:
            calls.append("orchestrator")
            try:
                p, _ = await plan(llm, text, now, summary, reasoning=settings.brain.debug_reasoning)
            except (LLMError, InvalidOutput, BudgetExceeded) as exc:
                if trace:
                    trace.mark("plan_done")
                return plan_failed(rules, out.route, exc, calls)
            intent = p.intent if ROUTE_OF_INTENT[p.intent] == out.route else _default_intent(out.route, rules)
            if intent != p.intent:  # the route wins over a mismatched intent: that intent's own steps
                p = default_plan(intent, p.slots, p.reasoning, p.requires_confirmation)
            p.intent = intent
            decision = NluDecision(route=out.route, intent=intent, slots=p.slots.wire(), confidence=confidence, source="llm")
        else:
            intent = INTENT_OF_ROUTE[out.route]
            p = Plan(intent, TurnSlots(), [], False, "router")
            decision = NluDecision(route=out.route, intent=intent, confidence=confidence, source="llm")
        if trace:
            trace.mark("plan_done")
        return Routed(decision, p, "llm", calls)
    except (LLMError, InvalidOutput, BudgetExceeded) as exc:
        if trace:
            trace.mark("route_done")
            trace.mark("plan_done")
        return fail(rules, exc, calls)


def plan_failed(rules: NluDecision, r: Route, exc: BaseException, calls: list[str]) -> Routed:
    """The orchestrator failed (too slow, invalid) after the router chose ``r``: the fast path's
    plan stands in when it is a plan for that route (the two agree on what kind of request it
    is; changes still ask for confirmation), else the fast path's guess is only unsure and
    contradicted by the router (``router_route``): the turn apologises (brain/turn.py
    :meth:`~bantz_voice.brain.turn.RouteAndAct.on_llm_error`)."""
    out = fail(rules, exc, calls)
    out.router_route = r
    if rules.route == r and ROUTE_OF_INTENT.get(rules.intent) == r:
        out.fallback = True
        out.plan.reasoning = f"orchestrator failed ({out.error}): fast path's plan"
        log.info("orchestrator failed (%s): the fast path's %s plan stands in", out.error, rules.intent.value)
    return out


def _default_intent(r: Route, rules: NluDecision) -> Intent:
    if rules.route == r:
        return rules.intent
    return {
        Route.calendar: Intent.calendar_query,
        Route.system: Intent.system_time,
        Route.timer: Intent.timer_query,
        Route.reminder: Intent.reminder_list,
    }.get(r, INTENT_OF_ROUTE.get(r, Intent.unknown))
