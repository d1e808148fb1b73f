"""The benchmark's baseline: the original sequential design, run beside the optimized one on the
same models (``scripts/bench_pipeline.py --compare-baseline`` / ``--baseline``).

:class:`BaselineResponder` is the brain with two of its turn steps replaced:

- routing always asks the LLM router and then the orchestrator, whatever the fast path says,
  and takes the route from the orchestrator's intent; an LLM failure always ends in an apology;
- every reply, a tool's too, is phrased by the chat model from the tool's data and yielded whole
  (no streaming), with the tool's own sentence when the model fails or drifts out of Turkish;

and no speculation (``prepare``) or next-prompt prefill (``idle``). The rest of the turn
(confirmations, undo, recall, the tools) is the product's own code.
"""

from __future__ import annotations

from datetime import datetime

from bantz_voice.brain.budget import BudgetExceeded
from bantz_voice.brain.cascade import Brain
from bantz_voice.brain.memory import Memory
from bantz_voice.brain.orchestrator import plan
from bantz_voice.brain.router import Routed, fail, fast_path, router_parts
from bantz_voice.brain.schemas import CONFIDENCE_VALUE, RouterOutput
from bantz_voice.brain.speculate import Speculation
from bantz_voice.brain.structured import InvalidOutput, structured
from bantz_voice.brain.tool import ToolOutcome
from bantz_voice.brain.turn import (
    BrainTurn,
    Chat,
    Confirmation,
    EmptyRequest,
    Recall,
    Reply,
    RouteAndAct,
    TurnStep,
    Undo,
    chat_reply,
)
from bantz_voice.calendar.service import CalendarService
from bantz_voice.config import Settings
from bantz_voice.llm import Backends, LLMError
from bantz_voice.responder import TurnRequest
from bantz_voice.schemas import ROUTE_OF_INTENT, NluDecision
from bantz_voice.trace import TurnTrace


async def route_sequential(
    text: str, now: datetime, settings: Settings, llm: Backends, trace: TurnTrace, summary: list[str]
) -> Routed:
    """Router LLM, then orchestrator LLM, always; the route is the orchestrator's intent's."""
    rules = fast_path(text, now)
    calls: list[str] = []
    try:
        calls.append("router")
        out, _ = await structured(
            llm.for_role("router"), llm.params("router"), router_parts(text), llm.budget("router"), RouterOutput
        )
        trace.mark("route_done")
        calls.append("orchestrator")
        p, _ = await plan(llm, text, now, summary, reasoning=settings.brain.debug_reasoning)
        decision = NluDecision(route=ROUTE_OF_INTENT[p.intent], intent=p.intent, slots=p.slots.wire(),
                               confidence=CONFIDENCE_VALUE[out.confidence], source="llm")
        trace.mark("plan_done")
        return Routed(decision, p, "llm", calls)
    except (LLMError, InvalidOutput, BudgetExceeded) as exc:
        trace.mark("route_done")
        trace.mark("plan_done")
        return fail(rules, exc, calls)


class SequentialRouteAndAct(RouteAndAct):
    async def decide(self, brain: Brain, turn: BrainTurn) -> Routed:
        turn.trace.meta["speculative_route"] = False
        summary = brain.memory.lines()[-5:]
        return await route_sequential(turn.text, turn.now, brain.settings, brain.llm, turn.trace, summary)

    async def on_llm_error(self, brain: Brain, turn: BrainTurn, routed: Routed) -> Reply | None:
        return self.apology(brain, turn, routed)

    def say(self, brain: Brain, turn: BrainTurn, outcome: ToolOutcome) -> Reply:
        return self._phrased(brain, turn, outcome)

    async def _phrased(self, brain: Brain, turn: BrainTurn, outcome: ToolOutcome) -> Reply:
        """The chat model phrases the reply from the tool data, yielded whole."""
        res = turn.result
        data = f"{outcome.data}\nÖnerilen yanıt: {outcome.reply}" if outcome.data else f"Önerilen yanıt: {outcome.reply}"
        reply = "".join([piece async for piece in chat_reply(brain, turn, data, stream=False)])
        if res.error in ("language_drift", "llm_unavailable", "llm_timeout") or not reply.strip():
            res.error = None if res.error == "language_drift" else res.error
            reply = outcome.reply
        yield reply, outcome.done


class WholeChat(Chat):
    """The chat reply yielded whole, once generated."""

    async def _pieces(self, brain: Brain, turn: BrainTurn) -> Reply:
        async for piece in chat_reply(brain, turn, data=None, stream=False):
            yield piece, None


def baseline_steps() -> list[TurnStep]:
    return [EmptyRequest(), Confirmation(), Undo(), Recall(), SequentialRouteAndAct(), WholeChat()]


class BaselineResponder(Brain):
    """The original sequential design (see the module's docstring)."""

    def __init__(
        self, settings: Settings, *, calendar_service: CalendarService | None = None, memory: Memory | None = None
    ) -> None:
        super().__init__(settings, calendar_service=calendar_service, memory=memory, steps=baseline_steps())

    def prepare(self, request: TurnRequest | str) -> Speculation | None:
        return None

    def idle(self) -> None:
        return None


__all__ = ["BaselineResponder", "route_sequential"]
