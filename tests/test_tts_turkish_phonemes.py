"""A Piper voice of another language can read with espeak-ng's Turkish phonemes when its phoneme
map has them all (tts.turkish_phonemes). Real Piper voice (the offline English fallback) and
real espeak-ng."""

from __future__ import annotations

import numpy as np
import pytest

from bantz_voice.config import Settings
from bantz_voice.tts.piper_tts import PiperTTS, turkish_phonemes


@pytest.fixture(scope="module")
def english_tts() -> PiperTTS:
    s = Settings().tts.model_copy(update={"voice": "en_US-joe-medium", "turkish_phonemes": False})
    try:
        return PiperTTS(s)
    except Exception as exc:
        pytest.skip(f"English Piper voice not available: {exc}")


def test_english_voice_gets_turkish_phonemes(english_tts: PiperTTS) -> None:
    voice = english_tts.voice
    own = voice.config.espeak_voice
    assert own.startswith("en")
    english = {p for s in voice.phonemize("Işık ılık") for p in s}
    try:
        assert turkish_phonemes(voice) is True
        assert voice.config.espeak_voice == "tr"
        turkish = {p for s in voice.phonemize("Işık ılık") for p in s}
        assert "ɯ" in turkish and "ɯ" not in english  # the dotless ı is Turkish's own vowel
        audio = english_tts.synthesize("Yarın saat üçte toplantı var.")
        assert audio.dtype == np.int16 and audio.size > english_tts.sample_rate // 2
        assert turkish_phonemes(voice) is False  # already Turkish: nothing to do
    finally:
        voice.config.espeak_voice = own


def test_a_map_without_a_turkish_phoneme_keeps_the_voice_own(english_tts: PiperTTS) -> None:
    voice = english_tts.voice
    own, full = voice.config.espeak_voice, voice.config.phoneme_id_map
    voice.config.phoneme_id_map = {k: v for k, v in full.items() if k != "ɯ"}
    try:
        assert turkish_phonemes(voice) is False
        assert voice.config.espeak_voice == own
    finally:
        voice.config.phoneme_id_map = full


def test_setting_switches_it_on() -> None:
    s = Settings().tts.model_copy(update={"voice": "en_US-joe-medium", "turkish_phonemes": True})
    try:
        tts = PiperTTS(s)
    except Exception as exc:
        pytest.skip(f"English Piper voice not available: {exc}")
    assert tts.language == "tr" and tts.voice.config.espeak_voice == "tr"
