"""webrtcvad endpointer: frames in, utterance events out.

Events carry monotonic timestamps (the time the frame was captured):
``speech_start`` (first voiced frame of an utterance that lasted ≥ ``min_speech_ms``),
``pause`` (first silent frame after speech — speculative ASR may start here),
``resume`` (speech again during the hangover — discard speculative work),
``endpoint`` (hangover of silence elapsed, or ``max_utterance_s`` reached).
``pause``/``endpoint`` carry the utterance audio (with ≥ 300 ms pre-roll); the endpoint's audio stops
at the first silent frame of the final pause (the hangover's silence is not part of it), so it is
exactly the audio a speculative transcription started with.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import webrtcvad

EventKind = Literal["speech_start", "pause", "resume", "endpoint"]


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


@dataclass
class VadEvent:
    kind: EventKind
    t: float
    utterance: Utterance | None = field(default=None, repr=False)


def frame_is_speech(vad: webrtcvad.Vad, pcm: bytes, rate: int = 16000) -> bool:
    try:
        return vad.is_speech(pcm, rate)
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
        self.reset()

    @classmethod
    def from_settings(cls, vad_settings, frame_ms: int = 30, rate: int = 16000) -> Endpointer:
        return cls(
            rate=rate,
            frame_ms=frame_ms,
            aggressiveness=vad_settings.aggressiveness,
            preroll_ms=vad_settings.preroll_ms,
            hangover_ms=vad_settings.hangover_ms,
            min_speech_ms=vad_settings.min_speech_ms,
            max_utterance_s=vad_settings.max_utterance_s,
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
            self._voiced += 1
            self._speech_end_t = frame.t
            if not self._started_emitted and self._voiced >= self.min_speech_frames:
                self._started_emitted = True
                events.append(VadEvent("speech_start", self._speech_start_t))
        else:
            self._silent_run += 1
            if self._silent_run == 1 and self._started_emitted:
                events.append(VadEvent("pause", frame.t, self._utterance(None)))
            if self._silent_run >= self.hangover_frames:
                if self._started_emitted:
                    # the audio ends where the last pause began (same audio as speculative ASR got)
                    upto = len(self._frames) - self._silent_run + 1
                    events.append(VadEvent("endpoint", frame.t, self._utterance(frame.t, upto=upto)))
                self._end()
                return events
        if len(self._frames) >= self.max_frames:
            if self._started_emitted:
                events.append(VadEvent("endpoint", frame.t, self._utterance(frame.t, truncated=True)))
            self._end()
        return events

    def _end(self) -> None:
        self.in_speech = False
        self._frames = []
        self._voiced = 0
        self._silent_run = 0
        self._started_emitted = False
        self._ring.clear()
        self._flags.clear()
