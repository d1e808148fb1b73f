"""The transcriber's guard and its retry with the wake word alone as the prompt, on recorded Whisper
outputs (tests/fixtures/recorded_asr.py): the same answer on every CPU."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures.recorded_asr import RecordedDecoder, Seg

from bantz_voice.asr import Transcriber
from bantz_voice.config import AsrSettings, Settings
from bantz_voice.daemon.wakeword import WakeGate

PROMPT = AsrSettings().initial_prompt  # "Bantz, takvim ve randevular."
RETRY = AsrSettings().retry_prompt  # "Bantz"
AUDIO = np.zeros(16000 * 2, dtype=np.int16)  # the decoder is recorded: the samples are not read
# "Bantz, yarın hava nasıl?" as the daemon captured it (tests/data/tr_prompt_echo.wav): Whisper base
# on the machine that recorded it answered with the prompt itself, and without the prompt correctly
ECHO = [Seg("Bantz, takvim ve randevular.", -0.31)]
CLEAN = [Seg("Bantz, yarın hava nasıl?", -0.42)]
UNSURE = [Seg("Banz yaran ava nasıl", -1.35)]
NOISE = [Seg("Altyazı M.K.", -0.9, no_speech_prob=0.2)]


def _tr(outputs, **settings) -> tuple[Transcriber, RecordedDecoder]:
    dec = RecordedDecoder(outputs)
    return Transcriber(AsrSettings(**settings), decoder=dec), dec


def test_a_prompt_echo_is_decoded_again_with_the_retry_prompt():
    tr, dec = _tr({PROMPT: ECHO, RETRY: CLEAN})
    r = tr.transcribe(AUDIO)
    assert [c.prompt for c in dec.calls] == [PROMPT, RETRY]
    assert r.dropped is None and r.meta["retried"] and r.text == "Bantz, yarın hava nasıl?"
    assert r.avg_logprob == pytest.approx(-0.42)
    assert WakeGate(Settings().daemon.wake_words).decide(r.text).reason == "wake_word"  # the user is answered


def test_without_the_retry_the_echo_is_dropped():
    tr, dec = _tr({PROMPT: ECHO, RETRY: CLEAN}, retry_without_prompt=False)
    r = tr.transcribe(AUDIO)
    assert [c.prompt for c in dec.calls] == [PROMPT]
    assert r.dropped == "prompt_echo" and r.text == "" and not r.meta["retried"]


def test_an_unsure_transcript_is_retried_and_a_clean_one_is_not():
    tr, dec = _tr({PROMPT: UNSURE, RETRY: CLEAN})
    r = tr.transcribe(AUDIO)
    assert r.meta["retried"] and r.text == "Bantz, yarın hava nasıl?"
    tr, dec = _tr({PROMPT: CLEAN, RETRY: ECHO})
    r = tr.transcribe(AUDIO)
    assert len(dec.calls) == 1 and not r.meta["retried"] and r.text == "Bantz, yarın hava nasıl?"


def test_a_retry_that_is_no_better_keeps_the_first_reason():
    tr, dec = _tr({PROMPT: ECHO, RETRY: UNSURE})
    r = tr.transcribe(AUDIO)
    assert len(dec.calls) == 2 and r.meta["retried"]
    assert r.text == "" and r.dropped == "prompt_echo" and r.raw_text == "Bantz, takvim ve randevular."


def test_other_drops_are_not_retried():
    tr, dec = _tr({PROMPT: NOISE, None: CLEAN})
    r = tr.transcribe(AUDIO)
    assert len(dec.calls) == 1 and r.dropped == "known_hallucination" and r.text == ""
    tr, dec = _tr({PROMPT: [], None: CLEAN})  # nothing decoded at all
    r = tr.transcribe(AUDIO)
    assert len(dec.calls) == 1 and r.dropped == "empty"


def test_a_cancelled_decode_stops_between_the_two_decodes():
    import threading

    cancel = threading.Event()
    dec = RecordedDecoder({PROMPT: ECHO, None: CLEAN})
    orig = dec.segments

    def first_then_cancel(*a, **k):
        out = orig(*a, **k)
        cancel.set()  # speech resumed while the first decode ran
        return out

    dec.segments = first_then_cancel  # type: ignore[method-assign]
    r = Transcriber(AsrSettings(), decoder=dec).transcribe(AUDIO, cancel)
    assert r.dropped == "cancelled" and r.text == "" and len(dec.calls) == 1


# "Bantz, programımda boşluk var mı" (espeak-ng, heard by the daemon through the devices in
# scripts/bench_daemon.py, 2026-11-30): Whisper base echoed the prompt; without any prompt it lost the
# wake word ("Maldi, ..." and low_logprob), with the wake word alone it kept it.
BENCH_ECHO = [Seg("Bantz, takvim ve randevular.", -0.18)]
BENCH_NO_PROMPT = [Seg("Maldi, otlamında boşluk var mı?", -1.33)]
BENCH_WAKE_PROMPT = [Seg("Bantz, otlamında boşluk var mı?", -0.88)]


def test_the_retry_prompt_keeps_the_wake_word_that_no_prompt_loses():
    outputs = {PROMPT: BENCH_ECHO, None: BENCH_NO_PROMPT, RETRY: BENCH_WAKE_PROMPT}
    gate = WakeGate(Settings().daemon.wake_words)
    tr, dec = _tr(outputs)
    r = tr.transcribe(AUDIO)
    assert [c.prompt for c in dec.calls] == [PROMPT, RETRY] and r.dropped is None
    assert gate.decide(r.text).reason == "wake_word"
    tr, dec = _tr(outputs, retry_prompt="")  # the old retry, without a prompt: the user is not answered
    r = tr.transcribe(AUDIO)
    assert [c.prompt for c in dec.calls] == [PROMPT, None]
    assert r.text == "" and r.dropped == "prompt_echo"
