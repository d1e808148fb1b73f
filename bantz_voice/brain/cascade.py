"""The brain: pending confirmation -> router (fast path, else LLM) -> orchestrator -> tools ->
chat, behind the voice loop's :class:`~bantz_voice.responder.Responder` interface."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bantz_voice.brain.budget import BudgetExceeded, PromptParts, fit
from bantz_voice.brain.chat import FALLBACK_REPLY, LanguageGuard, chat_parts, stream_chat
from bantz_voice.brain.confirm import PendingStore, classify, confirmation_doubt
from bantz_voice.brain.memory import Memory
from bantz_voice.brain.orchestrator import orchestrator_parts
from bantz_voice.brain.plan import run_plan
from bantz_voice.brain.router import fast_path, route, router_parts, rules_decide
from bantz_voice.brain.speculate import DeferredTrace, Speculation
from bantz_voice.brain.tools import CalendarTools, ToolOutcome, date_reply, time_reply
from bantz_voice.config import Settings
from bantz_voice.errors import BantzError
from bantz_voice.llm import Backends, LLMError, LLMTimeout
from bantz_voice.privacy import ScrubFilter, install_log_scrubbing, scrub, scrub_cut
from bantz_voice.responder import Progress, Responder, TurnRequest
from bantz_voice.schemas import Intent, Route
from bantz_voice.timers.tools import AlarmTools, safe_run
from bantz_voice.turkish.text import tr_lower
from bantz_voice.turkish.wake import strip_wake_word

log = logging.getLogger(__name__)
log.addFilter(ScrubFilter())

HISTORY_TURNS = 3  # at least this many recent turns go verbatim into the chat prompt ...
HISTORY_MAX = 2 * HISTORY_TURNS - 1  # ... at most this many: cut back in one step, not one per turn,
# so the next prompt repeats the last one's history and a kept KV state covers it (llamacpp_backend)
PREPARED_TTL_S = 10.0  # a prepared speculation nobody claimed is cancelled after this

REPLY_EMPTY = "Sizi duyamadım efendim, tekrar eder misiniz?"
REPLY_UNKNOWN = "Bunu henüz yapamıyorum efendim; şimdilik takviminiz, hatırlatmalar, zamanlayıcılar, saat ve tarih konusunda yardımcı olabilirim."
REPLY_NO_PENDING = "Şu an onay bekleyen bir işlem yok efendim."
REPLY_CANCELLED = "Peki efendim, vazgeçtim; hiçbir şeyi değiştirmedim."
REPLY_EXPIRED = "Onay süresi doldu efendim, o işlemi yapmadım."
REPLY_CONFIRM_UNSURE = "Onayınızı net duyamadım efendim; yapmamı istiyorsanız lütfen açıkça 'evet' deyin."
REPLY_ALREADY_ANSWERED = "Bu işlem için onay az önce başka bir yerden verildi efendim."
REPLY_LLM_DOWN = "Kusura bakmayın efendim, dil modeline şu an ulaşamıyorum; takvim, saat ve tarih işlerinde yine yardımcı olabilirim."
REPLY_LLM_SLOW = "Kusura bakmayın efendim, dil modeli şu an çok yavaş yanıt veriyor; biraz sonra tekrar dener misiniz?"
REPLY_INVALID = "Kusura bakmayın efendim, isteğinizi tam anlayamadım; biraz farklı söyler misiniz?"
REPLY_ERROR = "Bir sorun çıktı efendim, tekrar dener misiniz?"
REPLY_NO_MEMORY = "Henüz birlikte bir şey yapmadık efendim."
ROLE_TR = {"router": "yönlendirme", "orchestrator": "planlama", "chat": "sohbet"}


def degraded_reply(role: str) -> str:
    """The apology of a turn that needs a role whose model did not load at start-up."""
    return (
        f"Kusura bakmayın efendim, {ROLE_TR.get(role, role)} için dil modeli açılışta yüklenemedi; "
        "takvim, saat ve tarih işlerinde yine yardımcı olabilirim. Ayrıntı: bantz-voice status."
    )

_UNDO = re.compile(r"^(?:bantz\W*)?(?:son (?:değişikliği|işlemi) |bunu |onu )?geri al(?:ır mısın|sana|abilir misin)?\W*$")
_RECALL = re.compile(
    r"(?:az önce|demin|biraz önce|en son|son olarak|daha önce|bugün)\b.*\b(?:ne yaptık|ne yaptın|ne konuştuk|ne istedim|ne dedim)"
    r"|^(?:bantz\W*)?(?:ne yaptık|ne konuştuk)\W*$"
)


HISTORY_REPLY_CHARS = 200  # a past reply in the chat prompt: its first sentences only


def _gist(reply: str) -> str:
    """The first sentences of a spoken reply, up to HISTORY_REPLY_CHARS: enough context for the
    next turn, and every token less is prompt the CPU does not evaluate again each turn."""
    if len(reply) <= HISTORY_REPLY_CHARS:
        return reply
    cut = max(reply.rfind(end, 0, HISTORY_REPLY_CHARS) for end in (". ", "! ", "? ", "… "))
    return reply[: cut + 1] if cut > 0 else reply[:HISTORY_REPLY_CHARS].rsplit(" ", 1)[0] + "…"


def _error_reply(kind: str | None) -> str:
    return {"llm_timeout": REPLY_LLM_SLOW, "invalid_output": REPLY_INVALID}.get(kind or "", REPLY_LLM_DOWN)


class Brain(Responder):
    def __init__(self, settings: Settings, *, calendar_service: Any = None, memory: Memory | None = None) -> None:
        self.settings = settings
        self.tz = ZoneInfo(settings.brain.timezone)
        self.llm = Backends(settings.models)
        self.memory = memory or Memory(settings.brain.memory_max_tokens)
        self.pending = PendingStore(self.memory.conn)
        self.tools = CalendarTools(settings, calendar_service)
        self.alarm_tools = AlarmTools(settings, backend_of=lambda: self.tools.service.backend)  # timers, reminders
        self.history: list[tuple[str, str]] = []
        self._closed = False
        self._prepared: Speculation | None = None
        self._prefill_task: asyncio.Task | None = None
        self._degraded: dict[str, str] = {}  # role -> why its model did not load at start-up
        self._warmed: dict[str, str] = {}  # role -> the backend that loaded and warmed it
        install_log_scrubbing()  # every handler configured so far (CLI, daemon, journal) scrubs PII
        got = self.pending.peek()
        if got is not None and got[1]:  # an expired action from an earlier process: drop it
            self.pending.clear()

    # --- lifecycle ----------------------------------------------------------------------------
    async def warmup(self, progress: Progress | None = None) -> None:
        """Load every model the configured roles use and warm each role's stable prompt prefix
        (start-up, before READY). A role whose model fails is recorded in :meth:`degraded` and
        logged, never raised: the fast path works without any model."""
        say = progress or (lambda _what: None)
        prefixes = {
            "router": router_parts("").stable_prefix(),
            "orchestrator": orchestrator_parts("", reasoning=self.settings.brain.debug_reasoning).stable_prefix(),
            "chat": chat_parts("", [], []).stable_prefix(),
        }
        say("Türkçe kurallar ve takvim")
        # everything that may block (imports, file look-ups, a model download attempt) runs off the
        # event loop: the control socket answers `status` while the daemon starts
        await asyncio.to_thread(fast_path, "merhaba", datetime.now(self.tz))  # imports and warms the Turkish layer
        try:  # open the calendar and import its speech templates before the first turn
            await asyncio.to_thread(lambda: (self.tools.service, self.tools._speech()))
        except Exception as exc:
            log.warning("calendar warm-up failed: %s", exc)
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
            say(f"dil modeli {getattr(backend, 'name', '?')} ({', '.join(ROLE_TR[r] for r in rs)})")
            try:
                await backend.warmup([prefixes[r] for r in rs])
            except (BantzError, OSError) as exc:
                log.warning("warm-up of %s failed: %s", getattr(backend, "name", "?"), exc)
                for r in rs:
                    self._degraded[r] = str(exc)
            else:
                for r in rs:
                    self._warmed[r] = getattr(backend, "name", "?")

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

    def set_prefix_cache(self, on: bool) -> None:
        """Benchmarks: turn the warm prefix cache of embedded backends on or off."""
        for role in ("router", "orchestrator", "chat"):
            backend = self.llm.for_role(role)
            if hasattr(backend, "prefix_cache"):
                backend.prefix_cache = on

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
        b = self.settings.brain
        if not text or self._closed or b.baseline or not b.speculate:
            return None
        low = tr_lower(text)
        if _UNDO.search(low) or _RECALL.search(low) or self.pending.peek() is not None:
            return None  # these turns do not route
        self.discard_prepared()
        self._prepared = self._speculation(text, datetime.now(self.tz), expire_s=PREPARED_TTL_S)
        return self._prepared

    def discard_prepared(self) -> None:
        spec, self._prepared = self._prepared, None
        if spec is not None:
            spec.cancel()

    def _state_key(self, text: str, lines: list[str]) -> tuple:
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

    def _speculation(self, text: str, now: datetime, *, expire_s: float | None = None) -> Speculation:
        b = self.settings.brain
        lines = self.memory.lines()
        summary = lines[-5:]

        def decide(trace: DeferredTrace):
            return route(text, now, self.settings, self.llm, trace=trace, summary=summary, baseline=b.baseline)

        chat = None
        if not b.baseline:
            rules = fast_path(text, now)
            if rules_decide(rules, text, now, self.settings) is None:  # the LLM router will run
                if self._parallel_chat():  # beside the LLM router, dropped if it picks a tool
                    chat = self._chat_starter(text, None, lines)
            elif rules.intent == Intent.smalltalk_chat:  # the rules already say chat: start the reply
                chat = self._chat_starter(text, None, lines)
        return Speculation(self._state_key(text, lines), now, decide, chat, expire_s=expire_s)

    def _claim(self, text: str, now: datetime) -> Speculation | None:
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

    def _chat_starter(self, text: str, data: str | None, lines: list[str] | None = None):
        """Starts the chat stream when called; the prompt is built then (not at all when the
        speculation's chat is already running)."""

        def start(trace: DeferredTrace, guard: LanguageGuard):
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

    def idle(self) -> None:
        """The reply is synthesized and playing (the voice loop calls this): evaluate the next chat
        prompt's start (system prompt, summary, history) now (``brain.prefill_next``), so that a
        chat turn evaluates only its own words even when the history was just cut back. Any LLM
        request preempts it."""
        b = self.settings.brain
        if not b.prefill_next or b.baseline or self._closed:
            return
        try:
            backend = self.llm.for_role("chat")
        except Exception:
            return
        if getattr(backend, "prefill", None) is None:
            return
        if self._prefill_task is not None:
            self._prefill_task.cancel()
        parts = chat_parts("", self._older_summary(), list(self.history), None)
        self._prefill_task = asyncio.get_running_loop().create_task(self._prefill(backend, parts))

    async def _prefill(self, backend: Any, parts: PromptParts) -> None:
        try:
            fitted = await fit(parts, self.llm.budget("chat"), backend.count_tokens)
            n = await backend.prefill(fitted.messages[:-1])  # all but the (empty) user turn
            log.debug("prefilled %d tokens of the next chat prompt", n)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("prefill failed: %s", exc)

    async def _turn(self, request: TurnRequest, now: datetime) -> AsyncIterator[tuple[str, str | None]]:
        res, trace = request.result, request.trace
        text = strip_wake_word(" ".join(request.text.split())) or " ".join(request.text.split())
        if not text:
            res.route, res.source = Route.unknown.value, "rules"
            trace.mark("route_done")
            trace.mark("plan_done")
            trace.mark("llm_first_token")
            yield REPLY_EMPTY, "boş bir istek geldi."
            return

        # 1. pending confirmation
        handled = await self._confirmation(text, now, request)
        if handled is not None:
            trace.mark("route_done")
            trace.mark("plan_done")
            trace.mark("llm_first_token")
            yield handled.reply, handled.done
            return

        # deterministic helpers: undo and recall
        low = tr_lower(text)
        if _UNDO.search(low):
            res.route, res.intent, res.source = Route.calendar.value, "calendar.undo", "rules"
            out = await asyncio.to_thread(self.tools.undo, now)
            res.tool_calls = out.tool_calls
            trace.mark("route_done")
            trace.mark("plan_done")
            trace.mark("llm_first_token")
            yield out.reply, out.done
            return
        if _RECALL.search(low):
            res.route, res.intent, res.source = Route.smalltalk.value, Intent.smalltalk_chat.value, "memory"
            trace.mark("route_done")
            trace.mark("plan_done")
            trace.mark("llm_first_token")
            yield self._recall(), "önceki konuşmayı özetledim."
            return

        # 2-3. route and plan (maybe started during the hangover: Brain.prepare)
        baseline = self.settings.brain.baseline
        spec = self._claim(text, now)
        trace.meta["speculative_route"] = spec is not None
        spec = spec or self._speculation(text, now)
        spec.claim(trace)
        steps = self._decide_and_act(text, now, request, spec, baseline)
        try:
            async for item in steps:
                yield item
        finally:
            await steps.aclose()
            spec.cancel()

    async def _decide_and_act(
        self, text: str, now: datetime, request: TurnRequest, spec: Speculation, baseline: bool
    ) -> AsyncIterator[tuple[str, str | None]]:
        res, trace = request.result, request.trace
        routed = await spec.routed()
        d = routed.decision
        res.route, res.intent, res.slots = d.route.value, d.intent.value, d.slots.compact()
        res.source = routed.source
        if routed.error:
            res.error = routed.error
            if d.confidence < self.settings.brain.fast_path_min_confidence or baseline:
                trace.mark("llm_first_token")
                role = routed.llm_calls[-1] if routed.llm_calls else "router"
                reply = degraded_reply(role) if role in self._degraded else _error_reply(routed.error)
                yield reply, "dil modeline ulaşamadığım için bir şey yapamadım."
                return

        # 4. tools / deterministic replies
        outcome: ToolOutcome | None = None
        if d.intent == Intent.system_time:
            outcome = ToolOutcome(time_reply(now), "saati söyledim.", [{"tool": "system.time", "args": {}, "ok": True}], data=now.isoformat())
        elif d.intent == Intent.system_date:
            outcome = ToolOutcome(date_reply(now), "tarihi söyledim.", [{"tool": "system.date", "args": {}, "ok": True}], data=now.date().isoformat())
        elif d.route == Route.calendar:  # the plan's steps, in order (brain/plan.py)
            outcome = await asyncio.to_thread(run_plan, self.tools, routed.plan, now)
        elif d.route in (Route.timer, Route.reminder):
            outcome = await asyncio.to_thread(safe_run, self.alarm_tools, d, now)
        elif d.intent == Intent.unknown:
            outcome = ToolOutcome(REPLY_UNKNOWN, "bunu yapamayacağımı söyledim.")
        if outcome is not None:
            spec.drop_chat()
            res.tool_calls = outcome.tool_calls
            if outcome.pending is not None:
                self.pending.put(outcome.pending, self.settings.brain.confirmation_timeout_s)
                res.requires_confirmation = True
            if baseline:
                async for piece in self._baseline_phrase(text, outcome, request):
                    yield piece, outcome.done
                return
            trace.mark("llm_first_token")
            yield outcome.reply, outcome.done
            return

        # 5. chat (maybe already running beside the router: brain.parallel_chat)
        async for piece in self._chat(text, request, data=None, stream=not baseline, spec=spec):
            yield piece, None

    # --- stages -----------------------------------------------------------------------------
    async def _confirmation(self, text: str, now: datetime, request: TurnRequest) -> ToolOutcome | None:
        # Tool calls run in a thread: a slow CalDAV server must not stall the voice loop.
        res = request.result
        answer = classify(text)
        pending = self.pending.current()
        if pending is None:
            if answer is not None and len(text.split()) <= 3:
                res.route, res.intent, res.source = Route.smalltalk.value, Intent.smalltalk_chat.value, "confirmation"
                return ToolOutcome(REPLY_NO_PENDING, "onay bekleyen bir işlem yoktu.")
            return None
        action, expired = pending.action, pending.expired
        if action.get("op") == "choose" and not expired and answer != "no":
            if self.pending.claim(pending.created) is None:
                return None
            picked = await asyncio.to_thread(self.tools.choose, action, text, now)
            if picked is None:  # not an answer to "which one?": a new request
                return None
            res.route, res.intent, res.source = Route.calendar.value, f"calendar.{action['then']}", "confirmation"
            res.tool_calls = picked.tool_calls
            if picked.pending is not None:
                self.pending.put(picked.pending, self.settings.brain.confirmation_timeout_s)
                res.requires_confirmation = True
            return picked
        if answer is None:  # an unrelated answer: the action is dropped, the text is a new request
            self.pending.claim(pending.created)
            return None
        op = action.get("op", "")
        res.route, res.intent, res.source = Route.calendar.value, f"calendar.{op}", "confirmation"
        if answer == "yes" and not expired:
            doubt = confirmation_doubt(request.heard, pending.created, self.settings.brain.confirm_min_logprob)
            if doubt is not None:  # background speech heard as "evet": ask again, keep the action
                log.info("spoken confirmation not accepted (%s)", doubt)
                res.requires_confirmation = True
                return ToolOutcome(REPLY_CONFIRM_UNSURE, "onayı net duyamadığım için işlemi yapmadım, onay bekliyor.")
        claimed = self.pending.claim(pending.created)  # atomic: the daemon and `ask` share the slot
        if claimed is None:
            return ToolOutcome(REPLY_ALREADY_ANSWERED, "onay başka bir yerden verilmişti.")
        action, expired = claimed
        if expired:
            return ToolOutcome(REPLY_EXPIRED, "onay süresi dolduğu için işlemi yapmadım.")
        if answer == "no":
            return ToolOutcome(REPLY_CANCELLED, "onay istediğim işlemden vazgeçtik.")
        out = await asyncio.to_thread(self.tools.execute, action, now)
        res.tool_calls = out.tool_calls
        return out

    def _recall(self) -> str:
        lines = self.memory.lines(3)
        if not lines:
            return REPLY_NO_MEMORY
        return "Son konuştuklarımız efendim: " + " Ardından ".join(lines)

    async def _chat(
        self, text: str, request: TurnRequest, data: str | None, stream: bool, spec: Speculation | None = None
    ) -> AsyncIterator[str]:
        res, trace = request.result, request.trace
        yielded = False
        try:
            if spec is not None:
                guard = spec.guard
                gen = spec.chat(self._chat_starter(text, data))
            else:
                guard = LanguageGuard()
                gen = self._chat_starter(text, data)(trace, guard)
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
                    yield degraded_reply("chat") if "chat" in self._degraded else REPLY_LLM_DOWN
            return
        if guard.state.drifted or not yielded:
            res.error = res.error or "language_drift"
            if not yielded:
                note = getattr(self.llm.for_role("chat"), "note", None)
                trace.mark("llm_first_token")
                yield FALLBACK_REPLY if not note else FALLBACK_REPLY + " Türkçe yanıtlar için asıl modelin kurulması gerekiyor."

    async def _baseline_phrase(self, text: str, outcome: ToolOutcome, request: TurnRequest) -> AsyncIterator[str]:
        """Baseline: the chat LLM phrases every reply from the tool data, yielded whole."""
        data = f"{outcome.data}\nÖnerilen yanıt: {outcome.reply}" if outcome.data else f"Önerilen yanıt: {outcome.reply}"
        got: list[str] = []
        async for piece in self._chat(text, request, data=data, stream=False):
            got.append(piece)
        reply = "".join(got)
        if request.result.error in ("language_drift", "llm_unavailable", "llm_timeout") or not reply.strip():
            request.result.error = None if request.result.error == "language_drift" else request.result.error
            reply = outcome.reply
        yield reply


def now_in(settings: Settings) -> datetime:
    return datetime.now(ZoneInfo(settings.brain.timezone))

