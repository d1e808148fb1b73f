"""Short confirmation sounds: a rising two-note chirp for wake/PTT start, a low buzz for errors.

:class:`EarconPlayer` plays them on the stream replies play on when one is open (its ``cue``
hook, the pipeline's :meth:`~bantz_voice.audio.player.AudioSink.cue`): no stream is opened on the
turn's latency path, and a reply that starts cuts the earcon instead of being heard under it.
Otherwise (no listening loop, the speaker lost) on a stream of its own, in a thread."""

from __future__ import annotations

import functools
import logging
import threading
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np

log = logging.getLogger(__name__)

Earcon = Literal["wake", "ptt_start", "ptt_stop", "error", "alarm"]
RATE = 22050


def _note(freq: float, ms: int, amp: float = 0.25) -> np.ndarray:
    n = int(RATE * ms / 1000)
    t = np.arange(n, dtype=np.float32) / RATE
    wave = np.sin(2 * np.pi * freq * t).astype(np.float32)
    fade = min(n // 4, int(RATE * 0.008))
    env = np.ones(n, dtype=np.float32)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        env[:fade] = ramp
        env[-fade:] = ramp[::-1]
    return amp * wave * env


ASSETS = Path(__file__).resolve().parent.parent / "assets" / "earcons"
_FILES = {"wake": "wake.wav", "ptt_start": "ptt.wav", "error": "error.wav"}


def _bundled(kind: Earcon) -> np.ndarray | None:
    """The bundled earcon WAV (16-bit mono at :data:`RATE`) when it is there."""
    name = _FILES.get(kind)
    if not name or not (ASSETS / name).is_file():
        return None
    try:
        with wave.open(str(ASSETS / name), "rb") as wf:
            if wf.getsampwidth() != 2 or wf.getnchannels() != 1 or wf.getframerate() != RATE:
                return None
            pcm = np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2")
    except (OSError, wave.Error, EOFError):
        return None
    return pcm.astype(np.float32) / 32768.0


def render(kind: Earcon) -> np.ndarray:
    """Mono float32 samples at :data:`RATE` (the bundled sound, else a synthesized one)."""
    bundled = _bundled(kind)
    if bundled is not None and bundled.size:
        return bundled
    if kind in ("wake", "ptt_start"):
        return np.concatenate([_note(880, 70), _note(1320, 90)])
    if kind == "alarm":  # a reminder or timer: three bright notes, then the spoken sentence
        gap = np.zeros(int(RATE * 0.06), dtype=np.float32)
        return np.concatenate([_note(1046, 140), gap, _note(1318, 140), gap, _note(1568, 260)])
    if kind == "ptt_stop":
        return np.concatenate([_note(1320, 60), _note(880, 70)])
    # error: two low pulses
    gap = np.zeros(int(RATE * 0.05), dtype=np.float32)
    return np.concatenate([_note(220, 120, 0.3), gap, _note(196, 160, 0.3)])


@functools.cache
def pcm(kind: Earcon) -> np.ndarray:
    """:func:`render` as int16 (read-only, computed once per kind)."""
    out = np.clip(np.round(render(kind) * 32767.0), -32768, 32767).astype(np.int16)
    out.flags.writeable = False
    return out


CueHook = Callable[[np.ndarray, int], bool]  # plays int16 samples at a rate on an open stream; False: none open


class EarconPlayer:
    """Plays earcons: through ``cue`` (the reply's open stream) when it takes them, else on the
    output device in a background thread. Failures are logged, never raised."""

    def __init__(self, enabled: bool = True, device: str | int | None = None, cue: CueHook | None = None) -> None:
        self.enabled = enabled
        self.device = device
        self.cue = cue
        self.played: list[str] = []
        self.own_streams = 0  # earcons that needed a stream of their own
        self._lock = threading.Lock()

    def play(self, kind: Earcon) -> None:
        if not self.enabled:
            return
        self.played.append(kind)
        del self.played[:-16]
        if self.cue is not None:
            try:
                if self.cue(pcm(kind), RATE):
                    return
            except Exception:
                log.debug("earcon %s not cued on the reply stream", kind, exc_info=True)
        self.own_streams += 1
        threading.Thread(target=self._play, args=(kind,), name=f"earcon-{kind}", daemon=True).start()

    def _play(self, kind: Earcon) -> None:
        try:
            import sounddevice as sd

            data = render(kind)
            with self._lock, sd.OutputStream(samplerate=RATE, channels=1, dtype="float32", device=self.device) as out:
                out.write(data.reshape(-1, 1))
        except Exception as exc:
            log.debug("earcon %s not played: %s", kind, exc)
