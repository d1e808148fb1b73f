"""Barge-in while the assistant speaks: does this microphone frame carry the user's voice?

A frame counts as barge-in speech when webrtcvad (mode 3) calls it speech, it is louder than a
floor and not much quieter than what the speaker plays (the frame-level test the loop always
had; dropped once the guard has measured the microphone free of echo, below), AND it is not the
reply's own echo. The echo guard (``audio.echo_guard``) correlates the
microphone with what the sink played (:mod:`bantz_voice.audio.echo`) over a sliding window of
the reply:

- a window whose best delay correlates at least ``audio.echo_threshold`` and whose estimated echo
  is loud enough to pass the floor is an **echo window**: frames do not count while the last
  window was one. Echo windows in a row at the same delay (± ``CONFIRM_DELAY_MS``) for
  ``CONFIRM_S`` confirm the echo (independent speech can correlate by chance in one window, not for
  2 s at one delay; an echo canceller's brief leaks — re-convergence after an output underrun —
  do not last that long): the reply is audible in the microphone (loudspeakers, no echo
  cancellation). Barge-in is then switched OFF (the loop ignores the
  microphone while it speaks, as with ``audio.barge_in: false``) instead of letting the assistant
  cut itself off; ``status`` says so in Turkish and the log in English;
- a window whose estimated echo is below half the floor is a **clean window** (a headset, or an
  echo-cancelled source such as ``bantz-voice audio setup-echo-cancel``'s); after
  ``audio.echo_clear_s`` seconds of clean windows while the speaker played, barge-in is switched
  back ON (logged);
- anything else (the user talking over a quiet residue) decides nothing.

Until the first window of a reply is analysed (``MIN_WINDOW_S``) and while the last analysed
window was an echo window, frames do not count, so the first reply after start-up cannot interrupt
itself before the guard has looked. Without a reference (a sink that does not record what it
played) the frame-level test alone decides, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import webrtcvad

from bantz_voice.audio.echo import RATE, EchoEstimate, PlaybackReference, correlate
from bantz_voice.audio.vad import Frame, frame_is_speech
from bantz_voice.config import AudioSettings

log = logging.getLogger(__name__)

BARGE_IN_FLOOR = 0.003  # RMS (~ -50 dBFS): quieter frames never interrupt
BARGE_IN_REF_RATIO = 0.3  # while playing, the mic must be at least this loud relative to the output
WINDOW_S = 1.0  # microphone window correlated with the reference
MIN_WINDOW_S = 0.25  # the first analysis of a reply
HOP_S = 0.15  # analysis interval
REF_ACTIVE_RMS = 0.003  # reference quieter than this in a window: nothing to hear, no decision
GAP_S = 0.25  # frames further apart than this: a new speaking period (the window starts again)
CONFIRM_S = 2.0  # echo windows in a row at the same delay for this long confirm the echo
CONFIRM_DELAY_MS = 30.0  # "the same delay" (the callbacks' timing jitter moves it a little)

EchoState = Literal["unknown", "echo", "clean"]

DETAIL_OFF = "kapalı (ayar: audio.barge_in)"
DETAIL_UNKNOWN = "açık — yankı henüz ölçülmedi (ilk uzun yanıtta ölçülür)"
DETAIL_CLEAN = "açık — yanıtın sesi mikrofona geri gelmiyor"
DETAIL_UNGUARDED = "açık — yankı denetimi kapalı (ayar: audio.echo_guard)"
DETAIL_ECHO = (
    "kapalı — hoparlörün sesi mikrofona geri geliyor (yankı); asistan kendi sesiyle sözünü kesmesin diye "
    "konuşurken araya girme kapatıldı. Kulaklık takın ya da yankı giderme kurun: bantz-voice audio setup-echo-cancel"
)


@dataclass
class _Window:
    estimate: EchoEstimate
    kind: Literal["echo", "clean", "undecided"]


class BargeInDetector:
    """One per voice loop. ``decide(frame, …)`` is called for every microphone frame while the
    assistant speaks; ``status()`` is the line ``bantz-voice status`` shows."""

    def __init__(self, settings: Callable[[], AudioSettings]) -> None:
        self._settings = settings  # read at every use: a reload applies at once
        self.strict = webrtcvad.Vad(3)
        self.state: EchoState = "unknown"
        self.last: EchoEstimate | None = None  # the last analysed window
        self._last_kind: str | None = None
        self._clean_s = 0.0
        self._mic: list[np.ndarray] = []
        self._mic_n = 0
        self._last_t = -1e9
        self._since_analysis = 0
        self._analysed_in_period = False
        self.windows = {"echo": 0, "clean": 0, "undecided": 0}
        self._run: tuple[float, float] | None = None  # (time, delay ms) of the first echo window in a row
        self.transitions = 0

    # -- settings --------------------------------------------------------------------------
    @property
    def settings(self) -> AudioSettings:
        return self._settings()

    @property
    def guard(self) -> bool:
        return self.settings.echo_guard

    @property
    def allowed(self) -> bool:
        """Barge-in is on (the setting) and not switched off by the echo guard."""
        if not self.settings.barge_in:
            return False
        return not (self.guard and self.state == "echo")

    # -- the decision ----------------------------------------------------------------------
    def decide(self, frame: Frame, level: float, reference: PlaybackReference | None) -> bool | None:
        """``True``: user speech over the reply; ``False``: not (silence, too quiet, the echo);
        ``None``: barge-in is off (setting or echo): the loop ignores the microphone while speaking."""
        if not self.settings.barge_in:
            return None
        samples = frame.samples()
        if self.guard and reference is not None:
            self._feed(samples, frame.t, reference)
            if self.state == "echo":
                return None
        if not frame_is_speech(self.strict, frame.pcm, RATE):
            return False
        x = samples.astype(np.float32) / 32768.0
        rms = float(np.sqrt(np.mean(x * x)))
        # the level test against the output is a crude echo guard; once the microphone is measured
        # free of echo (headset, echo-cancelled source) it only costs barge-ins: an echo canceller
        # also lowers the user's voice while the reply plays (double talk)
        measured_clean = self.guard and reference is not None and self.state == "clean"
        if rms < max(BARGE_IN_FLOOR, 0.0 if measured_clean else level * BARGE_IN_REF_RATIO):
            return False
        if not self.guard or reference is None:
            return True
        if not reference.played_since(frame.t - WINDOW_S - self._max_delay_s()):
            return True  # nothing audible played lately: nothing to echo
        if not self._analysed_in_period and self.state != "clean":
            return False  # the guard has not looked at this reply yet
        return self._last_kind != "echo"

    def _max_delay_s(self) -> float:
        return self.settings.echo_max_delay_ms / 1000.0

    def _feed(self, samples: np.ndarray, t: float, reference: PlaybackReference) -> None:
        if t - self._last_t > GAP_S:
            self._mic.clear()
            self._mic_n = 0
            self._since_analysis = 0
            self._analysed_in_period = False
            self._last_kind = None
            self._run = None
        self._last_t = t
        self._mic.append(samples.astype(np.float32) / 32768.0)
        self._mic_n += samples.size
        keep = int(WINDOW_S * RATE)
        while self._mic and self._mic_n - self._mic[0].size >= keep:
            self._mic_n -= self._mic.pop(0).size
        self._since_analysis += samples.size
        if self._mic_n < MIN_WINDOW_S * RATE or (self._analysed_in_period and self._since_analysis < HOP_S * RATE):
            return
        hop_s = self._since_analysis / RATE
        self._since_analysis = 0
        mic = np.concatenate(self._mic)[-keep:]
        m = int(self._max_delay_s() * RATE)
        ref = reference.segment(mic.size + m, t)
        if ref is None:
            return
        window = self.analyse(mic, ref)
        self._analysed_in_period = True
        self._account(window, hop_s, t)

    def analyse(self, mic: np.ndarray, ref: np.ndarray) -> _Window:
        """Classify one window (``ref`` ends where ``mic`` ends and is longer by the delay range)."""
        est = correlate(mic, ref)
        threshold = self.settings.echo_threshold
        if est.ref_rms < REF_ACTIVE_RMS and float(np.sqrt(np.mean(ref.astype(np.float64) ** 2))) < REF_ACTIVE_RMS:
            kind: Literal["echo", "clean", "undecided"] = "undecided"  # the speaker was silent
        elif est.correlation >= threshold and est.echo_rms >= BARGE_IN_FLOOR / 2:
            kind = "echo"
        elif est.echo_rms < BARGE_IN_FLOOR / 2:
            kind = "clean"
        else:
            kind = "undecided"
        return _Window(est, kind)

    def _confirmed(self, delay_ms: float, t: float) -> bool:
        run = self._run
        if run is None or abs(delay_ms - run[1]) > CONFIRM_DELAY_MS:
            self._run = (t, delay_ms)
            return False
        return t - run[0] >= CONFIRM_S

    def _account(self, window: _Window, hop_s: float, t: float) -> None:
        self.last = window.estimate
        self._last_kind = window.kind
        self.windows[window.kind] += 1
        est = window.estimate
        if window.kind != "echo":
            self._run = None
        if window.kind == "echo":
            self._clean_s = 0.0
            if self.state != "echo" and self._confirmed(est.delay_ms, t):
                self.state = "echo"
                self.transitions += 1
                log.warning(
                    "echo: the reply's own audio is in the microphone (correlation %.2f, delay %.0f ms, echo %.0f dBFS): "
                    "barge-in disabled while it is; use a headset or `bantz-voice audio setup-echo-cancel`",
                    est.correlation, est.delay_ms, est.echo_dbfs,
                )
        elif window.kind == "clean":
            self._clean_s += hop_s
            if self.state == "unknown":
                self.state = "clean"
                log.info("echo: no echo of the reply in the microphone (correlation %.2f): barge-in stays enabled", est.correlation)
            elif self.state == "echo" and self._clean_s >= self.settings.echo_clear_s:
                self.state = "clean"
                self.transitions += 1
                log.warning(
                    "echo: no echo of the reply in the microphone for %.1f s of playback (correlation %.2f): barge-in re-enabled",
                    self._clean_s, est.correlation,
                )

    # -- status ----------------------------------------------------------------------------
    def status(self) -> dict[str, object]:
        """For ``status``: ``enabled`` (barge-in works now), ``echo`` (the guard's state) and a
        Turkish ``detail`` line, plus the last window's figures."""
        if not self.settings.barge_in:
            detail = DETAIL_OFF
        elif not self.guard:
            detail = DETAIL_UNGUARDED
        else:
            detail = {"unknown": DETAIL_UNKNOWN, "clean": DETAIL_CLEAN, "echo": DETAIL_ECHO}[self.state]
        last = self.last
        return {
            "enabled": self.allowed,
            "echo": self.state,
            "detail": detail,
            "correlation": None if last is None else round(last.correlation, 2),
            "delay_ms": None if last is None else round(last.delay_ms),
            "echo_dbfs": None if last is None or last.echo_rms <= 0 else round(last.echo_dbfs, 1),
        }
