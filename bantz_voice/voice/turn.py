"""The turn as an object (in the spirit of LiveKit Agents' ``SpeechHandle``).

A :class:`Turn` is created for every utterance the listener closes (``voice``/``ptt``) and for
every ``say``, WAV and typed-text request. It carries everything about that one exchange — its
utterance (and so its speech start), the gate's decision (and so its mode), the transcript, the
trace, the responder's result, the speculation it used — so nothing about a turn travels through
fields of the pipeline or the daemon. ``cancel()`` stops its speech and its task; ``await turn``
(or ``await turn.wait()``) returns it once it has finished, whatever the outcome."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bantz_voice.audio.vad import Utterance
from bantz_voice.responder import TurnResult
from bantz_voice.trace import TurnTrace
from bantz_voice.voice.gate import GateDecision

if TYPE_CHECKING:
    from bantz_voice.asr import AsrResult
    from bantz_voice.voice.recognizer import Speculation

TurnKind = Literal["voice", "ptt", "say", "wav", "text"]

_ids = itertools.count(1)


@dataclass(eq=False)
class Turn:
    kind: TurnKind
    trace: TurnTrace = field(default_factory=TurnTrace)
    utterance: Utterance | None = field(default=None, repr=False)
    decision: GateDecision | None = None
    transcript: str = ""
    asr: AsrResult | None = field(default=None, repr=False)
    result: TurnResult = field(default_factory=TurnResult)
    speculation: Speculation | None = field(default=None, repr=False)
    id: int = field(default_factory=lambda: next(_ids))
    ignored: bool = False  # no transcript, or the gate said no: never started
    interrupted: bool = False  # cancelled: barge-in, ``cancel``, a newer turn
    error: str | None = None
    reply_audio: np.ndarray | None = field(default=None, repr=False)  # what a WAV sink recorded
    reply_rate: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _task: asyncio.Task[Any] | None = field(default=None, repr=False)
    _stop_audio: Callable[[], None] | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ derived
    @property
    def request_text(self) -> str | None:
        return self.decision.text if self.decision is not None else None

    @property
    def mode(self) -> str:
        """How the turn came about: ``say``, ``ptt``, ``wav``, ``text``, or the gate's mode for a
        hands-free utterance (``wake_word``, ``follow_up``, ``open``)."""
        if self.kind == "voice" and self.decision is not None:
            return self.decision.mode
        return self.kind

    @property
    def ptt(self) -> bool:
        return self.kind == "ptt"

    @property
    def speech_start(self) -> float | None:
        return self.utterance.speech_start if self.utterance is not None else None

    @property
    def failed(self) -> str | None:
        """The turn's error, the responder's included."""
        return self.error or self.result.error

    # ------------------------------------------------------------------ control
    def attach(self, task: asyncio.Task[Any]) -> None:
        """The task that runs the turn (cancelled by :meth:`cancel`)."""
        self._task = task

    def on_stop_audio(self, stop: Callable[[], None] | None) -> None:
        """What silences the turn's speech at once (set while it plays)."""
        self._stop_audio = stop

    def cancel(self) -> bool:
        """Stop the turn's speech now and cancel its task. True when something was running."""
        if self.done.is_set():
            return False
        if self._stop_audio is not None:
            self._stop_audio()
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            return True
        return self._stop_audio is not None

    def finish(self) -> None:
        self._stop_audio = None
        self.done.set()

    async def wait(self) -> Turn:
        await self.done.wait()
        return self

    def __await__(self) -> Generator[Any, None, Turn]:
        return self.wait().__await__()

    # ------------------------------------------------------------------ reporting
    def to_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "id": self.id,
            "kind": self.kind,
            "mode": self.mode,
            "transcript": self.transcript,
            "request": self.request_text,
            "route": r.route,
            "intent": r.intent,
            "slots": r.slots,
            "tool_calls": r.tool_calls,
            "requires_confirmation": r.requires_confirmation,
            "source": r.source,
            "reply": r.reply,
            "ignored": self.ignored,
            "interrupted": self.interrupted,
            "error": self.failed,
            "asr": None
            if self.asr is None
            else {
                "seconds": self.asr.seconds,
                "avg_logprob": self.asr.avg_logprob,
                "no_speech_prob": self.asr.no_speech_prob,
                "dropped": self.asr.dropped,
                "speculative": self.asr.meta.get("speculative", False),
            },
            "trace": self.trace.to_dict(),
        }
