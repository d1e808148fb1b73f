"""The speech synthesizer seam: text → (normalizer) → spoken form → PCM.

:class:`TextToSpeech` is the base class the voice loop is typed against (:class:`PiperTTS` is the
product's). ``normalize`` (the Turkish spoken-form normalizer: numbers, dates, abbreviations) and
``render`` (the spoken form → int16 samples at ``sample_rate``) are separate steps, so the loop's
:class:`~bantz_voice.voice.output.SpeechOutput` runs them as two explicit stages; ``synthesize``
is both, for callers that want one call."""

from __future__ import annotations

from typing import Any

import numpy as np


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
