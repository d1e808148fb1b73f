"""The speech synthesizer seam: text → (normalizer) → spoken form → PCM.

:class:`TextToSpeech` is the base class the voice loop is typed against (:class:`PiperTTS` is the
product's). ``normalize`` (the Turkish spoken-form normalizer: numbers, dates, abbreviations) and
``render`` (the spoken form → int16 samples at ``sample_rate``) are separate steps, so the loop's
:class:`~bantz_voice.voice.output.SpeechOutput` runs them as two explicit stages; ``synthesize``
is both, for callers that want one call. :func:`lead_trimmed` takes the silence a synthesizer puts
before a reply's first sound off it (the loop does, for a reply's first chunk: that silence would
only be heard as latency)."""

from __future__ import annotations

from typing import Any

import numpy as np

LEAD_FLOOR_DBFS = -50.0  # a reply's first sound: the first 5 ms window above this level
LEAD_KEEP_MS = 10  # kept before it (the sound's own onset)


def lead_trimmed(samples: np.ndarray, rate: int, floor_dbfs: float = LEAD_FLOOR_DBFS, keep_ms: int = LEAD_KEEP_MS) -> np.ndarray:
    """``samples`` (int16) without the silence before their first sound, ``keep_ms`` of it kept;
    unchanged when nothing in them reaches ``floor_dbfs`` (5 ms windows)."""
    win = max(1, rate * 5 // 1000)
    n = samples.size // win
    if n == 0:
        return samples
    x = samples[: n * win].astype(np.float32).reshape(n, win) / 32768.0
    loud = np.flatnonzero(np.mean(x * x, axis=1) >= 10 ** (floor_dbfs / 10))
    if loud.size == 0:
        return samples
    start = max(0, int(loud[0]) * win - rate * keep_ms // 1000)
    return samples[start:]


class TextToSpeech:
    sample_rate: int = 22050
    voice_name: str = "?"
    note: str | None = None  # e.g. which fallback voice stands in
    settings: Any = None  # TtsSettings

    def normalize(self, text: str) -> str:
        """The spoken form of ``text`` (default: as is)."""
        return text

    def render(self, spoken: str) -> np.ndarray:
        """Speak an already normalized text: mono int16 at ``sample_rate``."""
        raise NotImplementedError

    def synthesize(self, text: str) -> np.ndarray:
        return self.render(self.normalize(text))

    def reconfigure(self, settings: Any) -> None:
        """Apply reloaded ``tts`` settings that need no new voice (speed, loudness, chunking)."""
        self.settings = settings
