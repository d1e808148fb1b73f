"""The listening loop's speaker on real (PulseAudio virtual) devices: one output stream kept open
between replies, stopped (not closed) by barge-in/cancel, reopened after the device went away."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from test_voice_e2e import HAVA, Loop, _heard_bantz, audible_seconds

from bantz_voice.audio.player import Player
from bantz_voice.audio.source import MicSource
from bantz_voice.config import Settings
from bantz_voice.pipeline import VoicePipeline
from bantz_voice.responder import EchoResponder

pytestmark = [pytest.mark.audio, pytest.mark.slow]

SHORT = "Merhaba, ben Bantz."
LONG = "Bugün takviminizde çok sayıda etkinlik var. " + " ".join(
    f"{i}. etkinlik saat {9 + i} sularında, toplantı odasında yapılacak." for i in range(1, 7)
)


def _settings() -> Settings:
    s = Settings()
    s.audio.reconnect_initial_s = 0.2
    s.audio.reconnect_max_s = 1.0
    return s


def _pipeline(whisper, piper) -> VoicePipeline:
    # the default sink factory: the loop's own kept-open Player
    return VoicePipeline(_settings(), transcriber=whisper, tts=piper, responder=EchoResponder())


def speaker_streams(pulse) -> int:
    """Playback streams (sink inputs) on the speaker sink right now."""
    sinks = pulse.pactl("list", "short", "sinks").stdout.splitlines()
    idx = next((line.split()[0] for line in sinks if line.split()[1] == pulse.speaker), None)
    inputs = pulse.pactl("list", "short", "sink-inputs").stdout.splitlines()
    return sum(1 for line in inputs if idx is not None and line.split()[1] == idx)


def unload_speaker(pulse) -> None:
    for mid in pulse.module_ids("sink_name=speaker"):
        pulse.pactl("unload-module", mid)


def load_speaker(pulse) -> None:
    from fixtures.pulse import SPEAKER_RATE

    if not pulse.module_ids("sink_name=speaker"):
        pulse.pactl("load-module", "module-null-sink", f"sink_name={pulse.speaker}", f"rate={SPEAKER_RATE}", "channels=1")
    pulse.pactl("set-default-sink", pulse.speaker)


async def _wait_open(player: Player, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not player.is_open:
        assert time.monotonic() < deadline, "the loop never opened its speaker"
        await asyncio.sleep(0.05)


async def test_consecutive_replies_reuse_one_output_stream(pulse, whisper, piper):
    p = _pipeline(whisper, piper)
    rec = pulse.start_recording()
    async with Loop(p, MicSource(None)) as loop:
        player = p._sink
        assert isinstance(player, Player) and player.keep_open
        await _wait_open(player)  # opened when listening starts, before any reply
        assert speaker_streams(pulse) == 1
        for i in range(2):  # two spoken turns, one after the other
            await asyncio.to_thread(pulse.play, HAVA)
            outcome = await loop.turn(i)
            assert outcome.error is None and not outcome.interrupted and _heard_bantz(outcome), outcome
            assert outcome.trace.playback_start is not None
            assert speaker_streams(pulse) == 1
        said = await p.speak(SHORT)  # and the socket's `say`
        assert said is not None and said.error is None and said.trace.playback_start is not None
        # the same stream played all three replies: opened once, still the only one on the speaker
        assert player.opens == 1 and player.is_open
        assert speaker_streams(pulse) == 1
    audio = rec.stop()
    assert audible_seconds(audio, 22050) > 2.0
    # the loop closes its stream when it stops listening
    assert not player.is_open
    await asyncio.sleep(0.3)
    assert speaker_streams(pulse) == 0


async def test_cancel_stops_audible_playback_and_keeps_the_stream(pulse, whisper, piper):
    p = _pipeline(whisper, piper)
    async with Loop(p, MicSource(None)):
        player = p._sink
        await _wait_open(player)
        rec = pulse.start_recording()
        say = asyncio.create_task(p.speak(LONG))
        deadline = time.monotonic() + 30
        while p.state != "speaking":
            assert time.monotonic() < deadline, "never started speaking"
            await asyncio.sleep(0.02)
        await asyncio.sleep(1.5)
        assert p.cancel_speech()
        outcome = await asyncio.wait_for(say, 5)
        before = rec.stop()
        assert outcome.interrupted
        # the callback stopped delivering reply audio within 100 ms of the cancel …
        assert player.stopped_at is not None and player.last_audio_at is not None
        assert player.last_audio_at - player.stopped_at <= 0.1
        # … nothing but what it had delivered was heard, and the speaker stays silent afterwards
        # (the tail starts ~0.2 s after the cancel; its first 100 ms can still carry the virtual
        # sink's already-rendered block that the new monitor recording picks up)
        tail = await asyncio.to_thread(pulse.record, 1.0)
        played_s = player.played_samples / player._rate
        heard_s = audible_seconds(before, 22050) + audible_seconds(tail, 22050)
        assert 1.0 < heard_s <= played_s + 0.1, (heard_s, played_s)
        assert audible_seconds(tail[2205:], 22050) == 0.0
        assert player.is_open and player.opens == 1 and speaker_streams(pulse) == 1
        # the next reply plays on the same stream
        rec = pulse.start_recording()
        again = await p.speak(SHORT)
        audio = rec.stop()
        assert again.error is None and not again.interrupted
        assert audible_seconds(audio, 22050) > 0.5
        assert player.opens == 1


async def test_speaker_lost_and_found_is_recovered_on_the_next_reply(pulse, whisper, piper, caplog):
    caplog.set_level(logging.INFO, logger="bantz_voice.audio.player")
    p = _pipeline(whisper, piper)
    source = MicSource(None, reconnect_initial_s=0.2, reconnect_max_s=1.0)
    try:
        async with Loop(p, source) as loop:
            player = p._sink
            await _wait_open(player)
            first = await p.speak(SHORT)
            assert first.error is None
            # the speaker's sink goes away and comes back
            await asyncio.to_thread(unload_speaker, pulse)
            await asyncio.sleep(0.5)
            await asyncio.to_thread(load_speaker, pulse)
            await asyncio.sleep(0.5)
            rec = pulse.start_recording()
            out = await p.speak(SHORT)
            audio = rec.stop()
            assert out.error is None and out.trace.playback_start is not None
            assert audible_seconds(audio, 22050) > 0.5, "the reply was not heard on the returned speaker"
            assert speaker_streams(pulse) == 1
            # the sound server itself goes away (every stream dies): the next reply reopens the speaker
            opens = player.opens
            await asyncio.to_thread(pulse.restart, 1.0)
            await loop.wait_connected(timeout=30)
            rec = pulse.start_recording()
            out = await p.speak(SHORT)
            audio = rec.stop()
            assert out.error is None and out.trace.playback_start is not None, out.error
            assert audible_seconds(audio, 22050) > 0.5
            assert player.opens == opens + 1 and speaker_streams(pulse) == 1
            # … and the one after reuses it
            out = await p.speak(SHORT)
            assert out.error is None and player.opens == opens + 1
    finally:
        if pulse.proc is not None and pulse.proc.poll() is None:
            await asyncio.to_thread(load_speaker, pulse)
    lost = [r for r in caplog.records if r.name == "bantz_voice.audio.player" and r.levelno >= logging.WARNING]
    assert len(lost) == 1 and "speaker stream lost" in lost[0].getMessage(), [r.getMessage() for r in lost]
