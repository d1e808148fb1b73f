"""The listening loop's speaker rests while idle (audio/player.py ``rest_after_s``, pipeline.py):
a kept-open output stream playing zeros costs about 1 % of a core all day, so after
``rest_after_s`` without a reply it is closed, and opened again as soon as an utterance is for the
assistant (the gate's audio stage passed it, push-to-talk), while the user is still speaking. Never
during a reply; a reply that starts while it rests opens it as after a lost device.

On the private PulseAudio (real PortAudio streams) and, for the loop's decisions, with a recording
sink and a frame source with its own clock (nothing here waits on wall-clock time for a verdict)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from bantz_voice.asr import AsrResult
from bantz_voice.audio.player import AudioSink, Player, WavSink
from bantz_voice.audio.vad import Frame, Utterance
from bantz_voice.audio.wavio import read_wav
from bantz_voice.config import Settings
from bantz_voice.pipeline import REST_CHECK_S, VoicePipeline
from bantz_voice.responder import EchoResponder
from bantz_voice.tts.base import TextToSpeech
from bantz_voice.voice.gate import Gate, OpenGate

RATE = 22050
DATA = Path(__file__).resolve().parent / "data"


def speaker_streams(pulse) -> int:
    sinks = pulse.pactl("list", "short", "sinks").stdout.splitlines()
    idx = next((line.split()[0] for line in sinks if line.split()[1] == pulse.speaker), None)
    inputs = pulse.pactl("list", "short", "sink-inputs").stdout.splitlines()
    return sum(1 for line in inputs if idx is not None and line.split()[1] == idx)


async def _until(cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


def _tone(seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


async def _play(player: Player, audio: np.ndarray) -> None:
    await player.begin(RATE)
    player.write(audio)
    await asyncio.wait_for(player.drain(), 10)
    await player.end()


@pytest.mark.audio
async def test_an_idle_stream_rests_and_the_next_reply_is_played(pulse) -> None:
    player = Player(keep_open=True, rest_after_s=0.2)
    try:
        assert await player.prepare(RATE) and player.is_open and not player.resting
        assert not player.may_rest()  # just prepared: not idle yet
        await _until(player.may_rest)
        assert await player.rest()
        assert not player.is_open and player.resting and player.rests == 1
        await _until(lambda: speaker_streams(pulse) == 0)
        # the next utterance for the assistant opens it again before the reply
        assert await player.prepare(RATE) and player.is_open and not player.resting and player.opens == 2
        # a rested stream and a reply that begins without a prepare (say, an alarm): opened in begin
        await _until(player.may_rest)
        assert await player.rest()
        rec = pulse.start_recording()
        await _play(player, _tone())
        audio = rec.stop()
        assert player.opens == 3 and player.is_open
        assert np.sqrt(np.mean((audio.astype(np.float64) / 32768) ** 2)) > 0.05  # the tone was heard
    finally:
        await player.close()


@pytest.mark.audio
async def test_never_rests_during_a_reply(pulse) -> None:
    player = Player(keep_open=True, rest_after_s=0.05)
    try:
        await player.begin(RATE)
        player.write(_tone(0.3))
        await asyncio.wait_for(player.drain(), 10)
        # the reply has not ended (end() not called): idle as long as you like, it stays open
        await asyncio.sleep(0.2)
        assert not player.may_rest() and not await player.rest() and player.is_open
        await player.end()
        await _until(player.may_rest)
        assert await player.rest()
    finally:
        await player.close()


@pytest.mark.audio
async def test_a_reply_that_begins_while_the_stream_closes_is_played(pulse) -> None:
    player = Player(keep_open=True, rest_after_s=0.05)
    try:
        assert await player.prepare(RATE)
        await _until(player.may_rest)
        resting = asyncio.create_task(player.rest())
        await asyncio.sleep(0)  # the close has started in its thread
        rec = pulse.start_recording()
        await _play(player, _tone())  # waits for the close, opens a fresh stream, plays
        audio = rec.stop()
        await resting
        assert player.is_open
        assert np.sqrt(np.mean((audio.astype(np.float64) / 32768) ** 2)) > 0.05
    finally:
        await player.close()


def test_a_player_without_rest_after_never_rests() -> None:
    player = Player(keep_open=True)
    assert not player.may_rest() and not player.resting
    assert not Player(keep_open=False, rest_after_s=1.0).may_rest()


# --- the loop's decisions ---------------------------------------------------------------------
class RestingSink(WavSink):
    """A sink that says it rests; records what the loop asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.prepared = 0
        self.rested = 0
        self.idle = False
        self.is_resting = True

    async def prepare(self, rate: int) -> bool:
        self.prepared += 1
        self.is_resting = False
        return True

    @property
    def resting(self) -> bool:
        return self.is_resting

    def may_rest(self) -> bool:
        return self.idle and not self.is_resting

    async def rest(self) -> bool:
        self.rested += 1
        self.is_resting = True
        return True


class ClockSource:
    """Frames with capture times 30 ms apart on their own clock (no sleeping): ``lead_s`` of
    silence, a recorded Turkish utterance (``with_speech``), then ``tail_s`` of silence."""

    rate = 16000
    frame_ms = 30

    def __init__(self, lead_s: float, tail_s: float, *, with_speech: bool = True) -> None:
        n = self.rate * self.frame_ms // 1000
        speech = read_wav(DATA / "tr_bantz_hava.wav", self.rate) if with_speech else np.zeros(0, np.int16)
        audio = np.concatenate([np.zeros(int(lead_s * self.rate), np.int16), speech,
                                np.zeros(int(tail_s * self.rate), np.int16)])
        self.frames_ = [audio[i : i + n] for i in range(0, audio.size - n + 1, n)]

    async def frames(self) -> AsyncIterator[Frame]:
        t0 = time.monotonic()
        for i, f in enumerate(self.frames_):
            if i % 8 == 0:
                await asyncio.sleep(0)
            yield Frame(f.tobytes(), t0 + (i + 1) * self.frame_ms / 1000)


class Quiet(TextToSpeech):
    sample_rate = 16000

    def render(self, spoken: str) -> np.ndarray:
        return np.zeros(0, dtype=np.int16)


class Empty:
    """No transcript: the utterance is ignored after its decode (no reply)."""

    settings = None
    model_path = "none"

    def transcribe(self, audio, cancel=None, window=None) -> AsrResult:
        return AsrResult("", "", audio_s=len(audio) / 16000)


class Deaf(Gate):
    def hears(self, utterance: Utterance, *, final: bool) -> bool:
        return False


def _loop(gate: Gate) -> VoicePipeline:
    p = VoicePipeline(Settings(), transcriber=Empty(), tts=Quiet(), responder=EchoResponder())
    p.gate = gate
    return p


async def test_the_loop_opens_a_resting_speaker_for_an_utterance_it_hears() -> None:
    sink = RestingSink()
    await _loop(OpenGate()).listen(ClockSource(0.5, 1.5), sink=sink)
    assert sink.prepared >= 1 and not sink.is_resting


async def test_the_loop_leaves_it_resting_for_an_utterance_the_gate_rejects() -> None:
    sink = RestingSink()
    await _loop(Deaf()).listen(ClockSource(0.5, 1.5), sink=sink)
    assert sink.prepared == 0 and sink.is_resting


async def test_the_loop_rests_an_idle_speaker_when_no_turn_runs() -> None:
    sink = RestingSink()
    sink.is_resting = False
    sink.idle = True
    await _loop(OpenGate()).listen(ClockSource(3 * REST_CHECK_S, 0.0, with_speech=False), sink=sink)
    assert sink.rested == 1 and sink.is_resting
    busy = RestingSink()
    busy.is_resting = False  # not idle: never asked to rest
    await _loop(OpenGate()).listen(ClockSource(3 * REST_CHECK_S, 0.0, with_speech=False), sink=busy)
    assert busy.rested == 0


def test_the_base_sink_never_rests() -> None:
    class Plain(AudioSink):
        pass

    s = Plain()
    assert not s.resting and not s.may_rest()
    assert asyncio.run(s.rest()) is False
