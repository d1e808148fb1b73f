"""Frames in, utterances out: the listening half of the voice loop.

:class:`Listener` runs the webrtcvad :class:`~bantz_voice.audio.vad.Endpointer` over the
microphone's frames and also owns push-to-talk (the frames between ``ptt_begin`` and ``ptt_end``
are the utterance; the release is the endpoint; a PTT held past ``vad.max_ptt_s`` is closed),
mute (frames are dropped) and barge-in detection. It knows nothing of ASR or turns: the pipeline
turns its events (``pause`` → speculative ASR, ``endpoint`` → a turn) into work.

Barge-in is decided in ONE place, :meth:`Listener.speech_over_playback` (is this frame the user's
voice over the assistant's own playback, and not the playback's own echo? :class:`BargeInDetector`,
audio/bargein.py); the endpointer then needs ``audio.barge_in_min_ms`` of such speech before
:attr:`Heard.barge_in` asks the pipeline to cut the reply."""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import webrtcvad

from bantz_voice.audio.bargein import BargeInDetector
from bantz_voice.audio.echo import PlaybackReference
from bantz_voice.audio.vad import Endpointer, Frame, Utterance, VadEvent, frame_is_speech
from bantz_voice.voice.events import UserState, UserStateChanged

log = logging.getLogger(__name__)


@dataclass
class Heard:
    """What one frame produced."""

    events: list[VadEvent] = field(default_factory=list)
    utterance: Utterance | None = None  # an utterance closed by this frame (endpoint, capped PTT)
    barge_in: bool = False  # the user has spoken over the playback long enough to cut it


class Listener:
    def __init__(self, settings: Any, on_user_state: Callable[[UserStateChanged], None] | None = None) -> None:
        self.settings = settings
        self.on_user_state = on_user_state
        self.user_state: UserState = "listening"
        self.muted = False
        self.ptt_capped = 0  # push-to-talk utterances closed at vad.max_ptt_s
        # barge-in: voice over the reply, never the reply's own echo (the echo guard; `status`)
        self.barge_in = BargeInDetector(lambda: self.settings.audio)
        self._ptt_vad = webrtcvad.Vad(settings.vad.aggressiveness)
        self._reconfigure = False
        self.endpointer = self._new_endpointer()
        self._ring: collections.deque[Frame] = collections.deque(maxlen=self.endpointer.preroll_frames)
        self._ptt_frames: list[Frame] | None = None
        self._ptt_begin_t = 0.0
        self._ptt_voiced: list[float] = []

    def _new_endpointer(self) -> Endpointer:
        s = self.settings
        return Endpointer.from_settings(s.vad, frame_ms=s.audio.frame_ms, rate=s.audio.sample_rate)

    def reconfigure(self, settings: Any) -> None:
        """New VAD/barge-in settings, applied at the next frame outside an utterance."""
        self.settings = settings
        self._reconfigure = True

    def start(self) -> None:
        """A listening loop starts: a fresh endpointer from the current settings (a push-to-talk
        pressed before the loop started is kept)."""
        self._reconfigure = False
        self.endpointer = self._new_endpointer()
        self._ring = collections.deque(maxlen=self.endpointer.preroll_frames)

    def reset(self) -> None:
        """The loop stopped: no utterance, no PTT in progress."""
        self.endpointer.reset()
        self._ptt_frames = None
        self._set_user("listening", time.monotonic())

    # ---------------------------------------------------------------- user state
    def _set_user(self, state: UserState, t: float, utterance: Utterance | None = None) -> None:
        if state == self.user_state:
            return
        old, self.user_state = self.user_state, state
        if self.on_user_state is not None:
            self.on_user_state(UserStateChanged(old, state, t, utterance))

    # ---------------------------------------------------------------- mute, PTT
    def mute(self) -> None:
        self.muted = True
        self.ptt_cancel()

    def unmute(self) -> None:
        self.muted = False

    @property
    def ptt_active(self) -> bool:
        return self._ptt_frames is not None

    def ptt_begin(self) -> bool:
        """Start a push-to-talk utterance now (pre-roll included). False when one is held already."""
        if self._ptt_frames is not None:
            return False
        self._ptt_frames = list(self._ring)
        self._ptt_begin_t = time.monotonic()
        self._ptt_voiced = []
        self.endpointer.reset()
        self._set_user("speaking", self._ptt_begin_t)
        return True

    def ptt_end(self) -> Utterance | None:
        """Release: the collected audio as an utterance (None when there was nothing)."""
        frames, self._ptt_frames = self._ptt_frames, None
        now = time.monotonic()
        if not frames:
            self._set_user("listening", now)
            return None
        audio = np.frombuffer(b"".join(f.pcm for f in frames), dtype=np.int16).copy()
        start_t = frames[0].t - len(frames[0].pcm) / 2 / self.settings.audio.sample_rate
        voiced = self._ptt_voiced
        utt = Utterance(
            audio=audio,
            start_t=start_t,
            speech_start=voiced[0] if voiced else self._ptt_begin_t,
            speech_end=voiced[-1] if voiced else now,
            endpoint=now,
            ptt=True,
        )
        self._set_user("listening", now, utt)
        return utt

    def ptt_cancel(self) -> None:
        if self._ptt_frames is not None:
            self._ptt_frames = None
            self._set_user("listening", time.monotonic())

    # ---------------------------------------------------------------- barge-in
    def speech_over_playback(self, frame: Frame, echo_level: float, reference: PlaybackReference | None = None) -> bool | None:
        """THE barge-in decision: is ``frame`` the user speaking over the assistant's playback?
        ``echo_level``: RMS (0..1) of what the speaker plays now; ``reference``: what it played
        (the sink's record, for the echo guard). Speech by the strictest VAD mode, at least
        ``BARGE_IN_FLOOR`` loud and ``BARGE_IN_REF_RATIO`` of the playback (until the microphone is
        measured echo-free), and not the reply's own echo. None: barge-in is off (the setting, or the
        reply's echo heard in the microphone): the microphone is ignored while the assistant speaks."""
        return self.barge_in.decide(frame, echo_level, reference)

    # ---------------------------------------------------------------- frames
    def feed(
        self, frame: Frame, *, playing: bool = False, echo_level: float = 0.0, reference: PlaybackReference | None = None
    ) -> Heard:
        """One frame. ``playing``: the assistant is speaking (barge-in rules apply)."""
        s = self.settings
        ep = self.endpointer
        if self._reconfigure and not ep.in_speech:
            self._reconfigure = False
            self.endpointer = ep = self._new_endpointer()
            self._ring = collections.deque(self._ring, maxlen=ep.preroll_frames)
        heard = Heard()
        if self.muted:
            if ep.in_speech:
                ep.reset()
                self._set_user("listening", frame.t)
            return heard
        self._ring.append(frame)
        if self._ptt_frames is not None:
            self._ptt_frames.append(frame)
            if frame_is_speech(self._ptt_vad, frame.pcm, s.audio.sample_rate):
                self._ptt_voiced.append(frame.t)
            if len(self._ptt_frames) * s.audio.frame_ms >= s.vad.max_ptt_s * 1000:
                # no release (a lost key-up): the utterance is closed and decoded now
                self.ptt_capped += 1
                log.warning("push-to-talk held for %.0f s without a release: utterance closed", s.vad.max_ptt_s)
                heard.utterance = self.ptt_end()
            return heard
        override: bool | None = None
        if playing:
            override = self.speech_over_playback(frame, echo_level, reference)
            if override is None:  # barge-in off (setting or echo): the microphone is ignored while speaking
                if ep.in_speech:
                    ep.reset()
                    self._set_user("listening", frame.t)
                return heard
        heard.events = ep.process(frame, override)
        heard.barge_in = playing and ep.speech_ms >= s.audio.barge_in_min_ms
        for ev in heard.events:
            if ev.kind in ("speech_start", "resume"):
                self._set_user("speaking", ev.t)
            elif ev.kind == "pause":
                self._set_user("silent", ev.t)
            elif ev.kind == "endpoint":
                self._set_user("listening", ev.t, ev.utterance)
                heard.utterance = ev.utterance
        return heard
