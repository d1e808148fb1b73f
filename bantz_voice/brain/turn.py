"""One turn of the brain as an ordered list of steps.

Each step (:class:`TurnStep`) looks at the turn and either answers it (a stream of reply pieces)
or passes it on; the first that answers ends the turn. The brain's list, in order:

1. :class:`EmptyRequest` — nothing was said;
2. :class:`Confirmation` — an answer to a pending "… silinsin mi?" / "hangisi?";
3. :class:`Undo` — "geri al";
4. :class:`Recall` — "az önce ne yaptık?";
5. :class:`RouteAndAct` — route (fast path, else LLM router and orchestrator; maybe already
   started during the hangover: ``Brain.prepare``), then the intent's tool from the tool table;
   an intent without a tool passes on. When an LLM stage failed, an unsure guess goes ahead only
   if it changes nothing (``RouteAndAct.on_llm_error``);
6. :class:`Chat` — the chat model's streamed reply.

The benchmark's baseline (bantz_voice/bench/baseline.py) is the same list with its own
route-and-act and chat steps.
"""

from __future__ import annotations

import asyncio
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from bantz_voice.brain.actions import ChooseEvent
from bantz_voice.brain.budget import BudgetExceeded
from bantz_voice.brain.chat import FALLBACK_REPLY, LanguageGuard
from bantz_voice.brain.confirm import classify, confirmation_doubt
from bantz_voice.brain.router import Routed
from bantz_voice.brain.speculate import Speculation
from bantz_voice.brain.tool import Decision, Tool, ToolContext, ToolOutcome
from bantz_voice.errors import BantzError
from bantz_voice.llm import LLMError, LLMTimeout
from bantz_voice.responder import TurnRequest, TurnResult
from bantz_voice.schemas import Intent, Route
from bantz_voice.trace import TurnTrace
from bantz_voice.turkish.text import tr_lower

if TYPE_CHECKING:
    from bantz_voice.brain.cascade import Brain

log = logging.getLogger(__name__)
T = TypeVar("T")

REPLY_EMPTY = "Sizi duyamadım efendim, tekrar eder misiniz?"
REPLY_NO_PENDING = "Şu an onay bekleyen bir işlem yok efendim."
REPLY_CANCELLED = "Peki efendim, vazgeçtim; hiçbir şeyi değiştirmedim."
REPLY_EXPIRED = "Onay süresi doldu efendim, o işlemi yapmadım."
REPLY_CONFIRM_UNSURE = "Onayınızı net duyamadım efendim; yapmamı istiyorsanız lütfen açıkça 'evet' deyin."
REPLY_ALREADY_ANSWERED = "Bu işlem için onay az önce başka bir yerden verildi efendim."
REPLY_LLM_DOWN = "Kusura bakmayın efendim, dil modeline şu an ulaşamıyorum; takvim, saat ve tarih işlerinde yine yardımcı olabilirim."
REPLY_LLM_SLOW = "Kusura bakmayın efendim, dil modeli şu an çok yavaş yanıt veriyor; biraz sonra tekrar dener misiniz?"
REPLY_INVALID = "Kusura bakmayın efendim, isteğinizi tam anlayamadım; biraz farklı söyler misiniz?"
REPLY_NO_MEMORY = "Henüz birlikte bir şey yapmadık efendim."
ROLE_TR = {"router": "yönlendirme", "orchestrator": "planlama", "chat": "sohbet"}

UNDO = re.compile(r"^(?:bantz\W*)?(?:son (?:değişikliği|işlemi) |bunu |onu )?geri al(?:ır mısın|sana|abilir misin)?\W*$")
RECALL = re.compile(
    r"(?:az önce|demin|biraz önce|en son|son olarak|daha önce|bugün)\b.*\b(?:ne yaptık|ne yaptın|ne konuştuk|ne istedim|ne dedim)"
    r"|^(?:bantz\W*)?(?:ne yaptık|ne konuştuk)\W*$"
)

Reply = AsyncGenerator[tuple[str, str | None], None]  # (text piece, memory line of what was done or None)


def degraded_reply(role: str) -> str:
    """The apology of a turn that needs a role whose model did not load at start-up."""
    return (
        f"Kusura bakmayın efendim, {ROLE_TR.get(role, role)} için dil modeli açılışta yüklenemedi; "
        "takvim, saat ve tarih işlerinde yine yardımcı olabilirim. Ayrıntı: bantz-voice status."
    )


def error_reply(kind: str | None) -> str:
    return {"llm_timeout": REPLY_LLM_SLOW, "invalid_output": REPLY_INVALID}.get(kind or "", REPLY_LLM_DOWN)


def routes_itself(text: str) -> bool:
    """Turns answered before routing (undo, recall): nothing to speculate on."""
    low = tr_lower(text)
    return bool(UNDO.search(low) or RECALL.search(low))


@dataclass
class BrainTurn:
    """One request as the brain's steps see it."""

    request: TurnRequest
    text: str  # the request's words, wake word stripped
    now: datetime  # the turn's time, timezone-aware
    spec: Speculation | None = None  # the route/plan decision (and maybe chat) of route-and-act
    routed: Routed | None = None

    @property
    def result(self) -> TurnResult:
        return self.request.result

    @property
    def trace(self) -> TurnTrace:
        return self.request.trace

    @property
    def ctx(self) -> ToolContext:
        return ToolContext(now=self.now)

    def close(self) -> None:
        if self.spec is not None:
            self.spec.cancel()


async def at_once(turn: BrainTurn, reply: str, done: str | None, *, decided: bool = False) -> Reply:
    """A whole reply known without the chat model. ``decided``: the route/plan marks are set."""
    if not decided:
        turn.trace.mark("route_done")
        turn.trace.mark("plan_done")
    turn.trace.mark("llm_first_token")
    yield reply, done


class TurnStep(ABC):
    """One step of the turn: the reply when it answers the turn, None to pass it on."""

    @abstractmethod
    async def handle(self, brain: Brain, turn: BrainTurn) -> Reply | None: ...


class EmptyRequest(TurnStep):
    async def handle(self, brain: Brain, turn: BrainTurn) -> Reply | None:
        if turn.text:
            return None
        turn.result.route, turn.result.source = Route.unknown.value, "rules"
        return at_once(turn, REPLY_EMPTY, "boş bir istek geldi.")


class Confirmation(TurnStep):
    """A yes/no to the pending action (or the answer to "which one?"). Tool calls run in a
    thread: a slow CalDAV server must not stall the voice loop."""

    async def handle(self, brain: Brain, turn: BrainTurn) -> Reply | None:
        out = await self._answer(brain, turn)
        return None if out is None else at_once(turn, out.reply, out.done)

    async def _answer(self, brain: Brain, turn: BrainTurn) -> ToolOutcome | None:
        res, text, now = turn.result, turn.text, turn.now
        answer = classify(text)
        pending = brain.pending.current()
        if pending is None:
            if answer is not None and len(text.split()) <= 3:
                res.route, res.intent, res.source = Route.smalltalk.value, Intent.smalltalk_chat.value, "confirmation"
                return ToolOutcome(REPLY_NO_PENDING, "onay bekleyen bir işlem yoktu.")
            return None
        action, expired = pending.action, pending.expired
        if isinstance(action, ChooseEvent) and not expired and answer != "no":
            if brain.pending.claim(pending.created) is None:
                return None
            picked = await asyncio.to_thread(brain.calendar.choose, action, text, now)
            if picked is None:  # not an answer to "which one?": a new request
                return None
            res.route, res.intent, res.source = Route.calendar.value, f"calendar.{action.then}", "confirmation"
            brain.record(turn, picked)
            return picked
        if answer is None:  # an unrelated answer: the action is dropped, the text is a new request
            brain.pending.claim(pending.created)
            return None
        res.route, res.intent, res.source = Route.calendar.value, f"calendar.{action.kind}", "confirmation"
        if answer == "yes" and not expired:
            doubt = confirmation_doubt(turn.request.heard, pending.created, brain.settings.brain.confirm_min_logprob)
            if doubt is not None:  # background speech heard as "evet": ask again, keep the action
                log.info("spoken confirmation not accepted (%s)", doubt)
                res.requires_confirmation = True
                return ToolOutcome(REPLY_CONFIRM_UNSURE, "onayı net duyamadığım için işlemi yapmadım, onay bekliyor.")
        claimed = brain.pending.claim(pending.created)  # atomic: the daemon and `ask` share the slot
        if claimed is None:
            return ToolOutcome(REPLY_ALREADY_ANSWERED, "onay başka bir yerden verilmişti.")
        action, expired = claimed
        if expired:
            return ToolOutcome(REPLY_EXPIRED, "onay süresi dolduğu için işlemi yapmadım.")
        if answer == "no":
            return ToolOutcome(REPLY_CANCELLED, "onay istediğim işlemden vazgeçtik.")
        if isinstance(action, ChooseEvent):  # "evet" to "which one?" picks nothing
            return ToolOutcome(REPLY_CANCELLED, "onay istediğim işlemden vazgeçtik.")
        out = await asyncio.to_thread(brain.calendar.execute, action, now)
        res.tool_calls = out.tool_calls
        return out


class Undo(TurnStep):
    async def handle(self, brain: Brain, turn: BrainTurn) -> Reply | None:
        if not UNDO.search(tr_lower(turn.text)):
            return None
        res = turn.result
        res.route, res.intent, res.source = Route.calendar.value, "calendar.undo", "rules"
        out = await asyncio.to_thread(brain.calendar.undo)
        res.tool_calls = out.tool_calls
        return at_once(turn, out.reply, out.done)


class Recall(TurnStep):
    async def handle(self, brain: Brain, turn: BrainTurn) -> Reply | None:
        if not RECALL.search(tr_lower(turn.text)):
            return None
        res = turn.result
        res.route, res.intent, res.source = Route.smalltalk.value, Intent.smalltalk_chat.value, "memory"
        lines = brain.memory.lines(3)
        reply = "Son konuştuklarımız efendim: " + " Ardından ".join(lines) if lines else REPLY_NO_MEMORY
        return at_once(turn, reply, "önceki konuşmayı özetledim.")


class RouteAndAct(TurnStep):
    """Route the request, then run its intent's tool; an intent without a tool passes on (chat)."""

    async def handle(self, brain: Brain, turn: BrainTurn) -> Reply | None:
        res = turn.result
        routed = turn.routed = await self.decide(brain, turn)
        d = routed.decision
        res.route, res.intent, res.slots = d.route.value, d.intent.value, d.slots.compact()
        res.source = routed.source
        if routed.error:
            res.error = routed.error  # an apology keeps it; an answer moves it to recovered_error
            reply = await self.on_llm_error(brain, turn, routed)
            if reply is not None:
                return reply
            self.answered_around(turn)
        tool = brain.tools.get(d.intent)
        if tool is None:
            return None
        if turn.spec is not None:
            turn.spec.drop_chat()
        outcome = await run_tool(tool, routed.action(), turn.ctx)
        brain.record(turn, outcome)
        return self.say(brain, turn, outcome)

    async def decide(self, brain: Brain, turn: BrainTurn) -> Routed:
        """The speculation prepared for this text, else a new one."""
        spec = brain.claim_prepared(turn.text, turn.now)
        turn.trace.meta["speculative_route"] = spec is not None
        turn.spec = spec or brain.speculation(turn.text, turn.now)
        turn.spec.claim(turn.trace)
        return await turn.spec.routed()

    async def on_llm_error(self, brain: Brain, turn: BrainTurn, routed: Routed) -> Reply | None:
        """The LLM router or orchestrator failed (timed out, down, invalid output): None to carry
        on with the fast path's decision as if it had been confident, else the reply. How the turn
        was answered goes into ``trace.meta["on_llm_error"]``.

        - the fast path was confident, or the router agreed on its route (:attr:`Routed.fallback`):
          its decision stands ("rules"; a change follows its tool's own confirmation rules);
        - the router answered another route than the fast path's unsure guess: an apology;
        - a guess that changes nothing — a read-only intent of its tool (:attr:`Tool.read_only`:
          the time, the calendar's events) or chat: it goes ahead ("guess", "chat"); chat
          apologises at once when the chat role is down itself (:meth:`chat_down`);
        - a guess that would change data is never carried out: its tool asks first
          (:meth:`Tool.ask_first`: the calendar's "… ekleyeyim mi efendim?", a pending action a
          spoken "evet" confirms: "ask"), else (timers, reminders, an out-of-scope guess) an
          apology that says nothing was done."""
        meta, d = turn.trace.meta, routed.decision
        if routed.fallback or d.confidence >= brain.settings.brain.fast_path_min_confidence:
            meta["on_llm_error"] = "rules"
            return None
        if routed.router_route is not None and routed.router_route != d.route:
            return self.apology(brain, turn, routed)
        tool = brain.tools.get(d.intent)
        if tool is None:
            if self.chat_down(brain, routed):
                return self.apology(brain, turn, routed, role="chat")
            meta["on_llm_error"] = "chat"
            return None
        if d.intent in tool.read_only:
            meta["on_llm_error"] = "guess"
            return None
        if turn.spec is not None:
            turn.spec.drop_chat()
        asked = await ask_first(tool, routed.action(), turn.ctx)
        if asked is None:
            return self.apology(brain, turn, routed)
        meta["on_llm_error"] = "ask"
        self.answered_around(turn)
        brain.record(turn, asked)
        return self.say(brain, turn, asked)

    @staticmethod
    def answered_around(turn: BrainTurn) -> None:
        """The turn answers despite the failed LLM stage: its error is kept as ``recovered_error``
        (the benchmarks count it), and the turn is not a failed one (no error earcon, no
        "could not be completed" notification, not in ``turns_failed``)."""
        res = turn.result
        res.recovered_error, res.error = res.error, None

    def apology(self, brain: Brain, turn: BrainTurn, routed: Routed, role: str | None = None) -> Reply:
        """The Turkish apology for the failed stage (``role``: the one to name, default the one that
        failed): its model did not load at start-up, is too slow, down, or answered nonsense."""
        role = role or routed.failed_role
        reply = degraded_reply(role) if role in brain.degraded() else error_reply(routed.error)
        turn.trace.meta["on_llm_error"] = "apology"
        return at_once(turn, reply, "dil modeline ulaşamadığım için bir şey yapamadım.", decided=True)

    @staticmethod
    def chat_down(brain: Brain, routed: Routed) -> bool:
        """The chat role cannot answer either: its model did not load at start-up, or it is the very
        backend the router stage just found down."""
        if "chat" in brain.degraded():
            return True
        if routed.error != "llm_unavailable":
            return False
        try:
            return brain.llm.for_role("chat") is brain.llm.for_role(routed.failed_role)
        except BantzError:  # no backend for the chat role at all
            return True

    def say(self, brain: Brain, turn: BrainTurn, outcome: ToolOutcome) -> Reply:
        return at_once(turn, outcome.reply, outcome.done, decided=True)


async def _in_tool_thread(tool: Tool, call: Callable[[Decision, ToolContext], T], decision: Decision, ctx: ToolContext) -> T:
    """A blocking tool's ``call`` runs in a worker thread (a slow CalDAV server must not stall the loop)."""
    if tool.blocking:
        return await asyncio.to_thread(call, decision, ctx)
    return call(decision, ctx)


async def run_tool(tool: Tool, decision: Decision, ctx: ToolContext) -> ToolOutcome:
    """:meth:`Tool.run`, in a worker thread for a blocking tool."""
    return await _in_tool_thread(tool, tool.run, decision, ctx)


async def ask_first(tool: Tool, decision: Decision, ctx: ToolContext) -> ToolOutcome | None:
    """:meth:`Tool.ask_first`, in a worker thread for a blocking tool (it reads the calendar)."""
    return await _in_tool_thread(tool, tool.ask_first, decision, ctx)


class Chat(TurnStep):
    """The chat model's reply, streamed (maybe already running beside the router:
    ``brain.parallel_chat``)."""

    async def handle(self, brain: Brain, turn: BrainTurn) -> Reply | None:
        return self._pieces(brain, turn)

    async def _pieces(self, brain: Brain, turn: BrainTurn) -> Reply:
        async for piece in chat_reply(brain, turn, data=None, stream=True):
            yield piece, None


async def chat_reply(brain: Brain, turn: BrainTurn, data: str | None, *, stream: bool) -> AsyncIterator[str]:
    """The chat model's reply with its failures turned into Turkish apologies. ``stream`` False:
    the whole reply at once, nothing of a reply that drifted out of Turkish."""
    res, trace = turn.result, turn.trace
    yielded = False
    try:
        if turn.spec is not None:
            guard = turn.spec.guard
            gen: AsyncIterable[str] = turn.spec.chat(brain.chat_starter(turn.text, data))
        else:
            guard = LanguageGuard()
            gen = brain.chat_starter(turn.text, data)(trace, guard)
        if stream:
            async for piece in gen:
                yielded = True
                yield piece
        else:
            whole = "".join([p async for p in gen])
            if whole.strip() and not guard.state.drifted:
                yielded = True
                yield whole
    except BudgetExceeded as exc:
        res.error = "budget"
        trace.mark("llm_first_token")
        yield str(exc)
        return
    except LLMError as exc:
        log.warning("chat failed: %s", exc)
        res.error = "llm_timeout" if isinstance(exc, LLMTimeout) else "llm_unavailable"
        if not yielded:
            trace.mark("llm_first_token")
            if isinstance(exc, LLMTimeout):
                yield REPLY_LLM_SLOW
            else:
                yield degraded_reply("chat") if "chat" in brain.degraded() else REPLY_LLM_DOWN
        return
    if guard.state.drifted or not yielded:
        res.error = res.error or "language_drift"
        if not yielded:
            note = brain.llm.for_role("chat").note
            trace.mark("llm_first_token")
            yield FALLBACK_REPLY if not note else FALLBACK_REPLY + " Türkçe yanıtlar için asıl modelin kurulması gerekiyor."


__all__ = [
    "BrainTurn", "Chat", "Confirmation", "EmptyRequest", "Recall", "Reply", "RouteAndAct", "TurnStep", "Undo",
    "ask_first", "at_once", "chat_reply", "degraded_reply", "error_reply", "routes_itself", "run_tool",
]
