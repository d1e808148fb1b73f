"""How a reply starts (issue 11): at its first sound (the silence Piper puts before a sentence, tens
of ms, would only be heard as latency, so the loop takes it off the reply's first chunk), and with
the CPU to itself (while the first chunk is synthesized, the embedded LLM waits between tokens)."""

from __future__ import annotations

import numpy as np
import pytest

from bantz_voice import cpu
from bantz_voice.audio.player import WavSink
from bantz_voice.stages import StageMonitor
from bantz_voice.tts.base import LEAD_FLOOR_DBFS, TextToSpeech, lead_trimmed
from bantz_voice.voice.output import SpeechOutput, text_once
from bantz_voice.voice.turn import Turn

RATE = 22050


def tone(seconds: float, amp: float = 0.2, hz: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amp * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def first_sound_ms(x: np.ndarray, rate: int = RATE) -> float:
    """Where the first 5 ms window at or above the trim's floor starts."""
    win = rate * 5 // 1000
    n = x.size // win
    f = x[: n * win].astype(np.float32).reshape(n, win) / 32768.0
    loud = np.flatnonzero(np.mean(f * f, axis=1) >= 10 ** (LEAD_FLOOR_DBFS / 10))
    return float(loud[0] * win / rate * 1000) if loud.size else float("inf")


def test_the_silence_before_the_first_sound_goes_and_10_ms_of_it_stays() -> None:
    x = np.concatenate([np.zeros(int(0.08 * RATE), np.int16), tone(0.3)])
    y = lead_trimmed(x, RATE)
    win = RATE * 5 // 1000  # the sound is found to a 5 ms window
    assert abs(y.size - (x.size - (int(0.08 * RATE) - RATE * 10 // 1000))) <= win
    assert np.array_equal(y[-tone(0.3).size :], tone(0.3))  # the sound itself is untouched


def test_quiet_room_noise_before_the_sound_is_silence_but_a_soft_onset_is_not() -> None:
    rng = np.random.default_rng(0)
    hiss = (rng.normal(0, 32768 * 10 ** (-70 / 20), int(0.05 * RATE))).astype(np.int16)
    soft = tone(0.04, amp=10 ** (-40 / 20))  # a fricative-like soft start at -43 dBFS RMS
    x = np.concatenate([hiss, soft, tone(0.2)])
    y = lead_trimmed(x, RATE)
    assert y.size >= soft.size + tone(0.2).size  # the soft onset is kept
    assert y.size <= x.size - hiss.size + RATE * 15 // 1000


@pytest.mark.parametrize("x", [np.zeros(int(0.2 * RATE), np.int16), np.zeros(0, np.int16), np.zeros(50, np.int16)])
def test_nothing_loud_is_left_as_it_is(x: np.ndarray) -> None:
    assert lead_trimmed(x, RATE) is x


class _Stages(StageMonitor):
    def __init__(self) -> None:
        super().__init__({"tts": 30.0})


@pytest.mark.slow
async def test_a_spoken_reply_starts_within_15_ms_of_its_first_sound(piper) -> None:
    text = "Bugün hava güzel."
    raw = piper.synthesize(text)  # another rendering (Piper samples its noise): for the length only
    # (Piper puts 55-80 ms of silence before this sentence, so the check below fails without the trim)
    out = SpeechOutput(piper, piper.settings, _Stages())
    try:
        sink = WavSink()
        turn = Turn(kind="say")
        await out.play(text_once(text), turn, sink)
    finally:
        out.shutdown()
    played = sink.audio
    assert played.size > 0.5 * raw.size and turn.error is None
    assert first_sound_ms(played, piper.sample_rate) <= 15.0


class _Recording(TextToSpeech):
    """A synthesizer that notes, per chunk, whether the foreground was held while it rendered."""

    def __init__(self) -> None:
        self.held: list[tuple[str, bool]] = []

    def render(self, spoken: str) -> np.ndarray:
        self.held.append((spoken, cpu.foreground.held))
        return tone(0.2)


async def _pieces(*texts: str):
    for t in texts:
        yield t


async def test_the_first_chunk_is_synthesized_with_the_foreground_held_and_the_others_without() -> None:
    from bantz_voice.config import Settings

    tts = _Recording()
    out = SpeechOutput(tts, Settings().tts, _Stages())
    try:
        turn = Turn(kind="say")
        await out.play(_pieces("Birinci cümle burada bitiyor. ", "İkinci cümle de burada. ", "Üçüncü."), turn, WavSink())
    finally:
        out.shutdown()
    assert turn.error is None and len(tts.held) >= 2
    assert tts.held[0][1] is True  # the first chunk: the LLM waits for it
    assert not any(held for _, held in tts.held[1:])  # the later ones overlap playback: no claim
    assert not cpu.foreground.held  # released after the reply
