"""Same WAV, same answer: one recording through the real path (FileSource -> VAD -> speculative
Whisper -> brain) several times, at real-time pace and as fast as possible, gives the same
transcript, the same ASR figures and the same decision every time."""

from __future__ import annotations

from pathlib import Path

import pytest

from bantz_voice.pipeline import VoicePipeline
from bantz_voice.responder import EchoResponder

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"


def _fingerprint(outcome) -> dict:
    d = outcome.to_dict()
    asr = outcome.asr
    return {
        "transcript": d["transcript"], "raw": asr.raw_text, "avg_logprob": asr.avg_logprob,
        "no_speech_prob": asr.no_speech_prob, "dropped": asr.dropped, "window_s": asr.meta["window_s"],
        "retried": asr.meta["retried"], "route": d["route"], "intent": d["intent"], "slots": d["slots"],
        "source": d["source"], "ignored": d["ignored"],
    }


# tr_randevu: a calendar request the brain's fast path decides; tr_prompt_echo: the recording that
# needs the decode without the prompt (echo responder: its words may go to the chat model, whose
# sampled reply is not what this test is about)
@pytest.mark.parametrize("wav,brain", [("tr_randevu.wav", True), ("tr_prompt_echo.wav", False)])
async def test_one_recording_gives_one_answer(wav: str, brain: bool, voice_settings, whisper, piper, tmp_path: Path) -> None:
    from bantz_voice.brain.cascade import Brain

    settings = voice_settings.model_copy(deep=True)
    settings.brain.rules_only = True
    p = VoicePipeline(settings, transcriber=whisper, tts=piper, responder=EchoResponder())
    seen: list[dict] = []
    try:
        for i, fast in enumerate((False, True, True)):
            run = settings.model_copy(deep=True)
            run.calendar.ics_path = tmp_path / f"cal{i}.ics"  # each run starts from the same state
            old = await p.replace_responder(Brain(run) if brain else EchoResponder())
            await old.aclose()
            outcome = await p.run_turn_from_wav(DATA / wav, fast=fast)
            seen.append(_fingerprint(outcome))
    finally:
        await p.aclose()
    assert all(s == seen[0] for s in seen), seen
    assert seen[0]["transcript"] or seen[0]["dropped"]  # a transcript, or the guard said why not
