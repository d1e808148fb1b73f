"""webrtcvad endpointer: frames in, utterance events out.

Events carry monotonic timestamps (the time the frame was captured):
``speech_start`` (first voiced frame of an utterance that lasted ≥ ``min_speech_ms``),
``pause`` (first silent frame after speech — speculative ASR may start here),
``resume`` (speech again during the hangover — discard speculative work),
``endpoint`` (hangover of silence elapsed, or ``max_utterance_s`` reached).
``pause``/``endpoint`` carry the utterance audio (with ≥ 300 ms pre-roll); the endpoint's audio stops
at the first silent frame of the final pause (the hangover's silence is not part of it), so it is
exactly the audio a speculative transcription started with.

Turn ends driven by a verdict (issue #15, ``TurnEndLimits``): whoever starts a speculative decode
at a pause calls :meth:`Endpointer.expect_verdict` and later :meth:`Endpointer.set_verdict` with the
policy's verdict on its transcript (``turkish/turn_end.py``). The pause then ends after
``early_ms`` of silence for ``complete``, holds up to ``extended_ms`` for ``unfinished`` (and
while the verdict is still on its way), up to ``fragment_ms`` for ``fragment`` (a transcript that
stops without a verb but names nothing the policy knows) and after ``hangover_ms`` for ``unknown``
or without a verdict. A verdict that arrives after its limit has passed ends the turn at the next frame.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import webrtcvad

EventKind = Literal["speech_start", "pause", "resume", "endpoint"]
Verdict = Literal["complete", "unfinished", "fragment", "unknown"]
VERDICTS: dict[str, Verdict] = {"complete": "complete", "unfinished": "unfinished", "fragment": "fragment", "unknown": "unknown"}


@dataclass
class Frame:
    """One block of 16 kHz mono int16 PCM and the monotonic time its last sample was captured."""

    pcm: bytes
    t: float

    def samples(self) -> np.ndarray:
        return np.frombuffer(self.pcm, dtype=np.int16)


@dataclass
class Utterance:
    audio: np.ndarray  # int16, 16 kHz, pre-roll included
    start_t: float  # capture time of the first sample (pre-roll included)
    speech_start: float
    speech_end: float  # last voiced frame
    endpoint: float | None = None
    ptt: bool = False
    truncated: bool = False  # cut at max_utterance_s
    # what ended the final pause: a verdict, "pending" (its verdict did not come within the
    # extended limit), or None (no verdict expected: the fixed hangover)
    turn_end: str | None = None


@dataclass
class VadEvent:
    kind: EventKind
    t: float
    utterance: Utterance | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TurnEndLimits:
    """Silence that ends a pause, per verdict: ``early_ms`` (complete), ``extended_ms``
    (unfinished, or the verdict not there yet), ``fragment_ms`` (fragment: at least the hangover,
    at most ``extended_ms``); ``unknown`` keeps the endpointer's hangover."""

    early_ms: int = 180
    extended_ms: int = 1200
    fragment_ms: int = 800


def longest_pause_ms(vad_settings: Any) -> int:
    """The longest silence that can still be inside one utterance with these settings (a file
    source needs at least this much trailing silence to close its last utterance)."""
    if vad_settings.turn_end:
        return int(max(vad_settings.hangover_ms, vad_settings.turn_end_extended_ms))
    return int(vad_settings.hangover_ms)


def frame_is_speech(vad: webrtcvad.Vad, pcm: bytes, rate: int = 16000) -> bool:
    try:
        return bool(vad.is_speech(pcm, rate))
    except Exception:  # wrong frame length etc.
        return False


class Endpointer:
    """State machine over fixed-size frames (10/20/30 ms at 16 kHz)."""

    def __init__(
        self,
        *,
        rate: int = 16000,
        frame_ms: int = 30,
        aggressiveness: int = 2,
        preroll_ms: int = 300,
        hangover_ms: int = 400,
        min_speech_ms: int = 250,
        max_utterance_s: float = 15.0,
        start_frames: int = 2,
        start_window: int = 3,
        turn_end: TurnEndLimits | None = None,
    ) -> None:
        self.rate, self.frame_ms = rate, frame_ms
        self.vad = webrtcvad.Vad(aggressiveness)
        self.preroll_frames = max(1, -(-preroll_ms // frame_ms))
        self.hangover_frames = max(1, -(-hangover_ms // frame_ms))
        self.min_speech_frames = max(1, -(-min_speech_ms // frame_ms))
        self.max_frames = int(max_utterance_s * 1000 // frame_ms)
        # ``start_frames`` voiced frames among the last ``start_window`` enter speech (debounces clicks)
        self.start_frames = max(1, start_frames)
        self.start_window = max(self.start_frames, start_window)
        self.turn_end = turn_end
        self.early_frames = self.hangover_frames
        self.extended_frames = self.hangover_frames
        self.fragment_frames = self.hangover_frames
        if turn_end is not None:
            self.early_frames = max(1, min(self.hangover_frames, -(-turn_end.early_ms // frame_ms)))
            self.extended_frames = max(self.hangover_frames, -(-turn_end.extended_ms // frame_ms))
            self.fragment_frames = min(self.extended_frames, max(self.hangover_frames, -(-turn_end.fragment_ms // frame_ms)))
        self._pause_id = 0
        self.reset()

    @classmethod
    def from_settings(cls, vad_settings: Any, frame_ms: int = 30, rate: int = 16000) -> Endpointer:
        turn_end = None
        if vad_settings.turn_end:
            turn_end = TurnEndLimits(
                vad_settings.turn_end_early_ms, vad_settings.turn_end_extended_ms, vad_settings.turn_end_fragment_ms
            )
        return cls(
            rate=rate,
            frame_ms=frame_ms,
            aggressiveness=vad_settings.aggressiveness,
            preroll_ms=vad_settings.preroll_ms,
            hangover_ms=vad_settings.hangover_ms,
            min_speech_ms=vad_settings.min_speech_ms,
            max_utterance_s=vad_settings.max_utterance_s,
            turn_end=turn_end,
        )

    def reset(self) -> None:
        self._ring: collections.deque[Frame] = collections.deque(maxlen=self.preroll_frames + self.start_window)
        self._flags: collections.deque[bool] = collections.deque(maxlen=self.start_window)
        self._frames: list[Frame] = []
        self.in_speech = False
        self._started_emitted = False
        self._voiced = 0
        self._silent_run = 0
        self._speech_start_t = 0.0
        self._speech_end_t = 0.0
        self._pending = False
        self._verdict: Verdict | None = None

    # ---------------------------------------------------------------- verdict-driven turn ends
    def expect_verdict(self) -> int | None:
        """A decode of the pause just emitted has started and its verdict will follow: until it
        comes (at most ``extended_ms``) the pause does not end. Returns the token to pass to
        :meth:`set_verdict`; None without ``turn_end`` limits or outside a pause."""
        if self.turn_end is None or not self._in_pause():
            return None
        self._pending = True
        return self._pause_id

    def set_verdict(self, verdict: str, token: int | None) -> bool:
        """The verdict (complete/unfinished/unknown) on the pause ``token`` names; False (ignored)
        when that pause is over (speech resumed, the turn ended) or no verdict was expected."""
        if verdict not in VERDICTS:
            raise ValueError(f"unknown turn-end verdict {verdict!r}")
        if token is None or token != self._pause_id or not self._pending or not self._in_pause():
            return False
        self._pending = False
        self._verdict = VERDICTS[verdict]
        return True

    def _in_pause(self) -> bool:
        return self.in_speech and self._started_emitted and self._silent_run > 0

    def _limit(self) -> int:
        """Silent frames that end the pause in progress."""
        if self._verdict == "complete":
            return self.early_frames
        if self._verdict == "unfinished" or self._pending:
            return self.extended_frames
        if self._verdict == "fragment":
            return self.fragment_frames
        return self.hangover_frames

    def _ended_by(self) -> str | None:
        if self._verdict is not None:
            return self._verdict
        return "pending" if self._pending else None

    def _clear_verdict(self) -> None:
        self._pending = False
        self._verdict = None

    @property
    def speech_ms(self) -> int:
        """Voiced time of the utterance in progress (0 when none)."""
        return self._voiced * self.frame_ms if self.in_speech else 0

    def _utterance(self, endpoint: float | None, *, upto: int | None = None, truncated: bool = False) -> Utterance:
        frames = self._frames if upto is None else self._frames[:upto]
        audio = np.frombuffer(b"".join(f.pcm for f in frames), dtype=np.int16).copy()
        first = frames[0]
        start_t = first.t - len(first.pcm) / 2 / self.rate
        return Utterance(audio, start_t, self._speech_start_t, self._speech_end_t, endpoint, truncated=truncated)

    def process(self, frame: Frame, is_speech: bool | None = None) -> list[VadEvent]:
        """Feed one frame; ``is_speech`` overrides the VAD decision (e.g. a stricter barge-in check)."""
        voiced = frame_is_speech(self.vad, frame.pcm, self.rate) if is_speech is None else is_speech
        events: list[VadEvent] = []
        if not self.in_speech:
            self._ring.append(frame)
            self._flags.append(voiced)
            if voiced and sum(self._flags) >= self.start_frames:
                self.in_speech = True
                self._frames = list(self._ring)
                flags = list(self._flags)
                first_voiced = len(self._frames) - len(flags) + flags.index(True)
                self._speech_start_t = self._frames[max(0, first_voiced)].t
                self._speech_end_t = frame.t
                self._voiced = sum(flags)
                self._silent_run = 0
                self._started_emitted = False
                self._ring.clear()
                self._flags.clear()
                if self._voiced >= self.min_speech_frames:
                    self._started_emitted = True
                    events.append(VadEvent("speech_start", self._speech_start_t))
            return events

        self._frames.append(frame)
        if voiced:
            if self._silent_run > 0 and self._started_emitted:
                events.append(VadEvent("resume", frame.t))
            self._silent_run = 0
            self._clear_verdict()
            self._voiced += 1
            self._speech_end_t = frame.t
            if not self._started_emitted and self._voiced >= self.min_speech_frames:
                self._started_emitted = True
                events.append(VadEvent("speech_start", self._speech_start_t))
        else:
            self._silent_run += 1
            if self._silent_run == 1 and self._started_emitted:
                self._pause_id += 1
                self._clear_verdict()
                events.append(VadEvent("pause", frame.t, self._utterance(None)))
            if self._silent_run >= self._limit():
                if self._started_emitted:
                    # the audio ends where the last pause began (same audio as speculative ASR got)
                    upto = len(self._frames) - self._silent_run + 1
                    utt = self._utterance(frame.t, upto=upto)
                    utt.turn_end = self._ended_by()
                    events.append(VadEvent("endpoint", frame.t, utt))
                self._end()
                return events
        if len(self._frames) >= self.max_frames:
            if self._started_emitted:
                events.append(VadEvent("endpoint", frame.t, self._utterance(frame.t, truncated=True)))
            self._end()
        return events

    def _end(self) -> None:
        self._clear_verdict()
        self.in_speech = False
        self._frames = []
        self._voiced = 0
        self._silent_run = 0
        self._started_emitted = False
        self._ring.clear()
        self._flags.clear()
