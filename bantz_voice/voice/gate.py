"""Whether an utterance is for the assistant: the gate between the listener and the turn.

``hears(utterance, final)`` is the audio stage before Whisper (a wake-word model): False means
no decode at all. ``gate(utterance, transcript)`` decides on the transcript and returns a
:class:`GateDecision` (the request text, the wake word stripped, or None to ignore it, and the
mode that let it through). ``peek`` is the same decision without side effects, asked on the
speculative transcript during the hangover; a gate that cannot answer twice returns None there
(no speculation). The utterance carries its own speech start, so a follow-up window is checked
against the start of *that* utterance. Push-to-talk utterances and WAV turns skip the gate.
:class:`Gate` passes everything but cannot be peeked (a subclass that overrides ``gate`` must
override ``peek`` to allow speculation); :class:`OpenGate`, the pipeline's default, passes
everything and can."""

from __future__ import annotations

from dataclasses import dataclass

from bantz_voice.audio.vad import Utterance


@dataclass(frozen=True)
class GateDecision:
    text: str | None  # the request text (wake word stripped), or None: not for the assistant
    mode: str  # "open" | "wake_word" | "follow_up" | "bare_wake_word" | "ignored" | "disabled" | "intercepted"

    @property
    def reason(self) -> str:
        return self.mode


class Gate:
    """Base class with defaults; the daemon's gate (``daemon/runner.py``) wraps
    :class:`bantz_voice.daemon.wakeword.WakeGate`."""

    def hears(self, utterance: Utterance, *, final: bool) -> bool:
        return True

    def gate(self, utterance: Utterance, transcript: str) -> GateDecision:
        text = transcript.strip()
        return GateDecision(text or None, "open")

    def peek(self, utterance: Utterance, transcript: str) -> GateDecision | None:
        """:meth:`gate` without side effects; None: this gate cannot be asked early."""
        return None


class OpenGate(Gate):
    """Every utterance is for the assistant (``once``, the benchmarks, no daemon)."""

    def peek(self, utterance: Utterance, transcript: str) -> GateDecision | None:
        return self.gate(utterance, transcript)
