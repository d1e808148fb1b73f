"""The one small interface between the voice loop and whatever writes the reply.

``Responder.respond(request)`` is an async generator of reply text pieces. Cancelling the task
that iterates it cancels the turn (LLM generation included). Decision details (route, intent,
slots, tool calls, confirmation) are written into ``request.result`` while the reply streams.

:class:`Responder` is the base class; its other methods have defaults that do nothing:

- ``warmup(progress)`` at start-up (``app.start_pipeline``, before READY): load models and warm
  caches, reporting what is loading through ``progress``; failures are recorded in ``degraded()``
  (role -> Turkish reason), never raised: the fast path works without a model;
- ``prepare(request)`` starts the side-effect-free part of a turn on a speculative transcript
  (during the VAD hangover; ``request.text`` is what the gate would pass) and returns a handle
  with ``cancel()``, or None; the ``respond`` call for the same text then uses it (the brain:
  :mod:`bantz_voice.brain.speculate`);
- ``idle()`` is called once a reply is fully synthesized and playing: background work for the
  next turn may start (the brain prefills the next chat prompt);
- ``reconfigure(settings, keys)`` applies reloaded settings live where it can; the default
  refuses every key, and the daemon then builds and warms a new responder (``take_over``);
- ``aclose()`` releases models and threads.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bantz_voice.trace import TurnTrace

if TYPE_CHECKING:
    from bantz_voice.asr import AsrResult
    from bantz_voice.config import Settings


@dataclass
class TurnResult:
    route: str | None = None
    intent: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    requires_confirmation: bool = False
    source: str | None = None  # "rules" | "llm" | "echo" | "confirmation" ...
    reply: str = ""
    error: str | None = None  # the turn failed: the user heard an apology (or nothing)
    # an LLM stage's error that the turn answered around (the fast path's decision, a read-only
    # guess, chat, or a question before a change): recorded for the benchmarks, not a failed turn
    recovered_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "intent": self.intent,
            "slots": self.slots,
            "tool_calls": self.tool_calls,
            "requires_confirmation": self.requires_confirmation,
            "source": self.source,
            "reply": self.reply,
            "error": self.error,
            "recovered_error": self.recovered_error,
        }


@dataclass(frozen=True)
class Heard:
    """What the voice loop knows of a spoken request; typed text (``ask``) has none. A spoken
    "evet" confirms an action only when Whisper was sure of it and the speech began after the
    question was asked (brain/confirm.py)."""

    avg_logprob: float  # Whisper's token-weighted average log-probability of the transcript
    started_at: float  # wall clock (time.time()) when the speech began

    @classmethod
    def of(cls, asr: AsrResult | None, speech_start: float | None) -> Heard | None:
        """From an ASR result and the utterance's speech start (``time.monotonic()`` clock)."""
        if asr is None:
            return None
        ago = time.monotonic() - speech_start if speech_start is not None else 0.0
        return cls(float(asr.avg_logprob), time.time() - max(0.0, ago))


@dataclass
class TurnRequest:
    text: str
    now: datetime | None = None  # None = real wall clock in the configured time zone
    trace: TurnTrace = field(default_factory=TurnTrace)
    result: TurnResult = field(default_factory=TurnResult)
    heard: Heard | None = None  # None = typed text


class Prepared(Protocol):
    """What ``prepare`` returns: work started early, cancelled when the turn does not claim it."""

    def cancel(self) -> None: ...


Progress = Callable[[str], None]  # start-up progress: what is loading now (Turkish, for status)


@dataclass(frozen=True)
class Reconfigured:
    """What :meth:`Responder.reconfigure` did with the changed keys."""

    accepted: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()  # any refused key: the daemon rebuilds the responder


class Responder:
    """Text in, a cancellable stream of reply pieces out. Subclasses implement ``respond``."""

    def respond(self, request: TurnRequest) -> AsyncIterator[str]:
        raise NotImplementedError

    async def warmup(self, progress: Progress | None = None) -> None:
        """Load what the first turn would otherwise load. Never raises (see ``degraded``)."""
        return None

    def degraded(self) -> dict[str, str]:
        """Roles that could not be loaded at start-up: role -> Turkish reason."""
        return {}

    def health(self) -> dict[str, dict[str, Any]]:
        """``status`` components of what ``warmup`` loaded (``{"role:chat": {"ok", "detail"}}``)."""
        return {}

    def prepare(self, request: TurnRequest) -> Prepared | None:
        """Start the side-effect-free part of ``request`` early (a speculative transcript)."""
        return None

    def reconfigure(self, settings: Settings, keys: Sequence[str]) -> Reconfigured:
        """Apply the changed ``keys`` of ``settings`` live. Default: refuse them all (rebuild)."""
        return Reconfigured(refused=tuple(keys))

    def take_over(self, previous: Responder) -> None:
        """This responder replaces ``previous`` (a reload rebuilt it): carry the conversation over."""
        return None

    def idle(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


class EchoResponder(Responder):
    """Diagnostic responder: repeats what it heard ("Şunu duydum: …")."""

    async def respond(self, request: TurnRequest) -> AsyncIterator[str]:
        request.result.route = request.result.route or "echo"
        request.result.source = "echo"
        request.trace.mark("route_done")
        text = request.text.strip()
        reply = f"Şunu duydum: {text}" if text else "Bir şey duyamadım."
        request.trace.mark("llm_first_token")
        request.result.reply = reply
        yield reply
