"""The brain behind the voice loop's :class:`~bantz_voice.responder.Responder` interface: a turn
runs through an ordered list of steps (brain/turn.py: confirmation, undo, recall, route-and-act
through the tool table, chat), and the brain keeps what outlives a turn: the models, the dialog
memory, the pending confirmation, the recent history and a prepared speculation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bantz_voice.brain.budget import PromptParts, fit
from bantz_voice.brain.calendar_tool import CalendarTool
from bantz_voice.brain.chat import LanguageGuard, chat_parts, stream_chat
from bantz_voice.brain.confirm import PendingStore
from bantz_voice.brain.marks import Marks
from bantz_voice.brain.memory import Memory
from bantz_voice.brain.orchestrator import orchestrator_parts
from bantz_voice.brain.router import Routed, fast_path, route, router_parts, rules_decide
from bantz_voice.brain.speculate import DeferredTrace, Speculation
from bantz_voice.brain.system_tools import REPLY_UNKNOWN
from bantz_voice.brain.tool import ToolOutcome
from bantz_voice.brain.tools import build_tools
from bantz_voice.brain.turn import (
    REPLY_ALREADY_ANSWERED,
    REPLY_CANCELLED,
    REPLY_CONFIRM_UNSURE,
    REPLY_EMPTY,
    REPLY_EXPIRED,
    REPLY_INVALID,
    REPLY_LLM_DOWN,
    REPLY_LLM_SLOW,
    REPLY_NO_MEMORY,
    REPLY_NO_PENDING,
    ROLE_TR,
    BrainTurn,
    Chat,
    Confirmation,
    EmptyRequest,
    Recall,
    RouteAndAct,
    TurnStep,
    Undo,
    degraded_reply,
    routes_itself,
)
from bantz_voice.calendar.service import CalendarService
from bantz_voice.config import Settings
from bantz_voice.errors import BantzError
from bantz_voice.llm import Backends
from bantz_voice.llm.llamacpp_engine import EngineRegistry
from bantz_voice.privacy import scrub, scrub_cut
from bantz_voice.responder import Progress, Responder, TurnRequest
from bantz_voice.schemas import Intent
from bantz_voice.turkish.wake import strip_wake_word

log = logging.getLogger(__name__)

HISTORY_TURNS = 3  # at least this many recent turns go verbatim into the chat prompt ...
HISTORY_MAX = 2 * HISTORY_TURNS - 1  # ... at most this many: cut back in one step, not one per turn,
# so the next prompt repeats the last one's history and a kept KV state covers it (llamacpp_backend)
PREPARED_TTL_S = 10.0  # a prepared speculation nobody claimed is cancelled after this

REPLY_ERROR = "Bir sorun çıktı efendim, tekrar dener misiniz?"
HISTORY_REPLY_CHARS = 200  # a past reply in the chat prompt: its first sentences only

ChatStarter = Callable[[Marks, LanguageGuard], AsyncIterator[str]]


def _gist(reply: str) -> str:
    """The first sentences of a spoken reply, up to HISTORY_REPLY_CHARS: enough context for the
    next turn, and every token less is prompt the CPU does not evaluate again each turn."""
    if len(reply) <= HISTORY_REPLY_CHARS:
        return reply
    cut = max(reply.rfind(end, 0, HISTORY_REPLY_CHARS) for end in (". ", "! ", "? ", "… "))
    return reply[: cut + 1] if cut > 0 else reply[:HISTORY_REPLY_CHARS].rsplit(" ", 1)[0] + "…"


def default_steps() -> list[TurnStep]:
    """The brain's turn, in order: the first step that answers ends it."""
    return [EmptyRequest(), Confirmation(), Undo(), Recall(), RouteAndAct(), Chat()]


class Brain(Responder):
    def __init__(
        self,
        settings: Settings,
        *,
        calendar_service: CalendarService | None = None,
        memory: Memory | None = None,
        steps: Sequence[TurnStep] | None = None,
        engines: EngineRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.tz = ZoneInfo(settings.brain.timezone)
        # ``engines``: the loaded models of the brain this one replaces (a reload): shared, not loaded again
        self.llm = Backends(settings.models, engines)
        self.memory = memory or Memory(settings.brain.memory_max_tokens)
        self.pending = PendingStore(self.memory.conn)
        self.calendar = CalendarTool(settings, calendar_service)
        self.tools = build_tools(settings, self.calendar)
        self.steps: list[TurnStep] = list(steps) if steps is not None else default_steps()
        self.history: list[tuple[str, str]] = []
        self._closed = False
        self._prepared: Speculation | None = None
        self._prefill_task: asyncio.Task[None] | None = None
        self._degraded: dict[str, str] = {}  # role -> why its model did not load at start-up
        self._warmed: dict[str, str] = {}  # role -> the backend that loaded and warmed it
        got = self.pending.current()
        if got is not None and got.expired:  # an expired action from an earlier process: drop it
            self.pending.clear()

    # --- lifecycle ----------------------------------------------------------------------------
    async def warmup(self, progress: Progress | None = None) -> None:
        """Load every model the configured roles use and warm each role's stable prompt prefix
        (start-up, before READY). A role whose model fails is recorded in :meth:`degraded` and
        logged, never raised: the fast path works without any model."""

        def say(what: str) -> None:
            if progress is not None:
                progress(what)

        prefixes = {
            "router": router_parts("").stable_prefix(),
            "orchestrator": orchestrator_parts("", reasoning=self.settings.brain.debug_reasoning).stable_prefix(),
            "chat": chat_parts("", [], []).stable_prefix(),
        }
        say("Türkçe kurallar ve takvim")
        # everything that may block (imports, file look-ups, a model download attempt) runs off the
        # event loop: the control socket answers `status` while the daemon starts
        await asyncio.to_thread(fast_path, "merhaba", datetime.now(self.tz))  # imports and warms the Turkish layer
        for tool in self.tools.tools:  # open the calendar, import its speech templates
            try:
                await asyncio.to_thread(tool.warmup)
            except Exception as exc:
                log.warning("warm-up of %s failed: %s", type(tool).__name__, exc)
        roles = ("chat",) if self.settings.brain.rules_only else ("router", "orchestrator", "chat")
        self._degraded, self._warmed = {}, {}
        by_backend: dict[int, tuple[Any, list[str]]] = {}
        for role in roles:
            try:
                backend = await asyncio.to_thread(self.llm.for_role, role)
            except BantzError as exc:
                log.warning("no backend for %s: %s", role, exc)
                self._degraded[role] = str(exc)
                continue
            by_backend.setdefault(id(backend), (backend, []))[1].append(role)
        for backend, rs in by_backend.values():
            say(f"dil modeli {backend.name} ({', '.join(ROLE_TR[r] for r in rs)})")
            try:
                await backend.warmup([prefixes[r] for r in rs])
            except (BantzError, OSError) as exc:
                log.warning("warm-up of %s failed: %s", backend.name, exc)
                for r in rs:
                    self._degraded[r] = str(exc)
            else:
                for r in rs:
                    self._warmed[r] = backend.name
        lines = self.memory.lines() if "chat" in self._warmed else []
        if lines:
            # The conversation summary on disk (an earlier run's turns) is part of every chat prompt
            # now: evaluate it before READY, as idle() does after each reply, or the first chat turn
            # after a restart pays for it (4-5 s with SmolLM2 on 2 cores; docs/benchmarks.md, issue 11).
            say("sohbet özeti")
            task = self._start_prefill(lines)
            if task is not None:
                await task

    def degraded(self) -> dict[str, str]:
        return dict(self._degraded)

    def health(self) -> dict[str, dict[str, Any]]:
        out = {f"role:{r}": {"ok": True, "detail": f"yüklendi ve ısıtıldı ({name})"} for r, name in self._warmed.items()}
        for r, why in self._degraded.items():
            out[f"role:{r}"] = {"ok": False, "detail": f"dil modeli açılışta yüklenemedi: {why}"}
        return out

    def take_over(self, previous: Responder) -> None:
        """A reload rebuilt the brain: the conversation goes on (the memory and a pending
        confirmation are on disk; the recent turns are in memory)."""
        if isinstance(previous, Brain):
            self.history = list(previous.history)
            if previous.llm.engines is self.llm.engines:
                previous.llm.hand_over_engines(self.llm)  # the old brain's close no longer frees them

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self.discard_prepared()
            if self._prefill_task is not None:
                self._prefill_task.cancel()
            await self.llm.aclose()
            self.memory.close()

    # --- speculation ----------------------------------------------------------------------------
    def prepare(self, request: TurnRequest | str) -> Speculation | None:
        """Start the route/plan decision of ``text`` (a speculative transcript) before the turn is
        final; the turn with the same text and conversation state claims it. No side effects."""
        text = " ".join((request.text if isinstance(request, TurnRequest) else request).split())
        text = strip_wake_word(text) or text
        if not text or self._closed or not self.settings.brain.speculate:
            return None
        if routes_itself(text) or self.pending.waiting():
            return None  # these turns do not route
        self.discard_prepared()
        self._prepared = self.speculation(text, datetime.now(self.tz), expire_s=PREPARED_TTL_S)
        return self._prepared

    def discard_prepared(self) -> None:
        spec, self._prepared = self._prepared, None
        if spec is not None:
            spec.cancel()

    def _state_key(self, text: str, lines: list[str]) -> tuple[object, ...]:
        """What a speculation was computed from: the text, the dialog summary (``lines``, all of
        ``memory.lines()``) and the history."""
        return (text, tuple(lines), tuple(self.history))

    def _parallel_chat(self) -> bool:
        mode = self.settings.brain.parallel_chat
        if mode == "auto":
            models = self.settings.models
            ep = models.endpoints.get(models.chat.endpoint)
            return ep is not None and ep.kind == "openai"
        return mode == "on"

    def speculation(self, text: str, now: datetime, *, expire_s: float | None = None) -> Speculation:
        """The side-effect-free part of the turn for ``text``: its route/plan decision and, when
        the chat model may be needed, its reply (brain/speculate.py)."""
        lines = self.memory.lines()
        summary = lines[-5:]

        def decide(trace: DeferredTrace) -> Coroutine[Any, Any, Routed]:
            return route(text, now, self.settings, self.llm, trace=trace, summary=summary)

        chat = None
        rules = fast_path(text, now)
        if rules_decide(rules, text, now, self.settings) is None:  # the LLM router will run
            if self._parallel_chat():  # beside the LLM router, dropped if it picks a tool
                chat = self.chat_starter(text, None, lines)
        elif rules.intent == Intent.smalltalk_chat:  # the rules already say chat: start the reply
            chat = self.chat_starter(text, None, lines)
        return Speculation(self._state_key(text, lines), now, decide, chat, expire_s=expire_s)

    def claim_prepared(self, text: str, now: datetime) -> Speculation | None:
        """The speculation ``prepare`` started for this very text and conversation state."""
        spec, self._prepared = self._prepared, None
        if spec is None:
            return None
        fresh = spec.now.date() == now.date() and abs((now - spec.now).total_seconds()) < PREPARED_TTL_S
        if fresh and spec.key == self._state_key(text, self.memory.lines()):
            return spec
        spec.cancel()
        return None

    def _older_summary(self, lines: list[str] | None = None) -> list[str]:
        """Summary lines of the turns before the ones the chat prompt has verbatim as history (each
        turn adds one of each): the same turn twice is tokens re-read on every turn for nothing."""
        lines = self.memory.lines() if lines is None else lines
        return lines[: max(0, len(lines) - len(self.history))]

    def chat_starter(self, text: str, data: str | None, lines: list[str] | None = None) -> ChatStarter:
        """Starts the chat stream when called; the prompt is built then (not at all when the
        speculation's chat is already running)."""

        def start(trace: Marks, guard: LanguageGuard) -> AsyncIterator[str]:
            parts = chat_parts(text, self._older_summary(lines), list(self.history), data)
            backend = self.llm.for_role("chat")
            return stream_chat(backend, self.llm.params("chat"), parts, self.llm.budget("chat"), trace, guard)

        return start

    # --- one turn -----------------------------------------------------------------------------
    async def respond(self, request: TurnRequest) -> AsyncIterator[str]:
        now = request.now or datetime.now(self.tz)
        if now.tzinfo is None:
            now = now.replace(tzinfo=self.tz)
        res = request.result
        parts: list[str] = []
        done = ""
        try:
            async for piece, what in self._turn(request, now):
                if what is not None:
                    done = what
                if piece:
                    parts.append(piece)
                    yield piece
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except BantzError as exc:  # a tool or the calendar said no: its message is Turkish
            log.warning("turn failed: %s", exc)
            res.error = res.error or type(exc).__name__
            text = str(exc)
            parts.append(text)
            yield text
        except Exception:
            log.exception("turn failed unexpectedly")
            res.error = res.error or "internal"
            parts.append(REPLY_ERROR)
            yield REPLY_ERROR
        res.reply = "".join(parts).strip()
        if request.text.strip():
            self.memory.add(request.text, done or f"'{scrub_cut(res.reply, 60)}' dedim.")
            self.history.append((request.text, _gist(scrub(res.reply))))
            if len(self.history) > HISTORY_MAX:
                del self.history[: len(self.history) - HISTORY_TURNS]

    async def _turn(self, request: TurnRequest, now: datetime) -> AsyncIterator[tuple[str, str | None]]:
        said = " ".join(request.text.split())
        turn = BrainTurn(request, strip_wake_word(said) or said, now)
        try:
            for step in self.steps:
                reply = await step.handle(self, turn)
                if reply is None:
                    continue
                try:
                    async for item in reply:
                        yield item
                finally:
                    await reply.aclose()
                return
        finally:
            turn.close()

    def record(self, turn: BrainTurn, outcome: ToolOutcome) -> None:
        """A tool's outcome in the turn's result; its pending action (if any) waits for an answer."""
        turn.result.tool_calls = outcome.tool_calls
        if outcome.pending is not None:
            self.pending.put(outcome.pending, self.settings.brain.confirmation_timeout_s)
            turn.result.requires_confirmation = True

    def idle(self) -> None:
        """The reply is synthesized and playing (the voice loop calls this): evaluate the next chat
        prompt's start (system prompt, summary, history) now (``brain.prefill_next``), so that a
        chat turn evaluates only its own words even when the history was just cut back. Any LLM
        request preempts it."""
        self._start_prefill()

    def _start_prefill(self, lines: list[str] | None = None) -> asyncio.Task[None] | None:
        """Starts evaluating the next chat prompt's start (``brain.prefill_next``; ``lines``: the
        summary lines when the caller has just read them); the task, or None when there is nothing
        to do (off, closed, no chat backend that can prefill)."""
        if not self.settings.brain.prefill_next or self._closed:
            return None
        try:
            backend = self.llm.for_role("chat")
        except Exception:
            return None
        if getattr(backend, "prefill", None) is None:
            return None
        if self._prefill_task is not None:
            self._prefill_task.cancel()
        parts = chat_parts("", self._older_summary(lines), list(self.history), None)
        self._prefill_task = asyncio.get_running_loop().create_task(self._prefill(backend, parts))
        return self._prefill_task

    async def _prefill(self, backend: Any, parts: PromptParts) -> None:
        try:
            fitted = await fit(parts, self.llm.budget("chat"), backend.count_tokens)
            n = await backend.prefill(fitted.messages[:-1])  # all but the (empty) user turn
            log.debug("prefilled %d tokens of the next chat prompt", n)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("prefill failed: %s", exc)


__all__ = [
    "HISTORY_MAX", "HISTORY_REPLY_CHARS", "HISTORY_TURNS", "REPLY_ALREADY_ANSWERED", "REPLY_CANCELLED",
    "REPLY_CONFIRM_UNSURE", "REPLY_EMPTY", "REPLY_ERROR", "REPLY_EXPIRED", "REPLY_INVALID", "REPLY_LLM_DOWN",
    "REPLY_LLM_SLOW", "REPLY_NO_MEMORY", "REPLY_NO_PENDING", "REPLY_UNKNOWN", "Brain", "Routed", "default_steps",
    "degraded_reply",
]
