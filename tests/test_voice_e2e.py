"""End to end on real audio devices: a private PulseAudio server with a virtual microphone and
speaker (tests/fixtures/pulse.py), the real listening loop (MicSource -> VAD -> Whisper -> echo
responder -> Piper -> Player), Turkish speech played into the microphone, the reply recorded from
the speaker's monitor. Also barge-in, the microphone disappearing and the sound server restarting."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import numpy as np
import pytest

from bantz_voice.audio.player import Player
from bantz_voice.audio.source import MicSource
from bantz_voice.audio.wavio import dbfs
from bantz_voice.config import Settings
from bantz_voice.errors import AudioInputError
from bantz_voice.pipeline import VoicePipeline
from bantz_voice.responder import EchoResponder, Responder, TurnRequest
from bantz_voice.turkish.text import ascii_fold
from bantz_voice.voice.events import AgentStateChanged, TurnFinished, VoiceObserver
from bantz_voice.voice.turn import Turn

pytestmark = [pytest.mark.audio, pytest.mark.slow]

HAVA = Path(__file__).parent / "data" / "tr_bantz_hava.wav"
RAN_STAGES = ["speech_start", "speech_end", "endpoint", "asr_done", "route_done", "llm_first_token",
              "first_chunk_text", "tts_first_audio", "playback_start", "turn_done"]


def audible_seconds(x: np.ndarray, rate: int, floor_dbfs: float = -45.0) -> float:
    """Seconds of 20 ms windows louder than ``floor_dbfs``."""
    n = rate // 50
    w = x[: len(x) // n * n].reshape(-1, n).astype(np.float64) / 32768.0
    rms = np.sqrt(np.mean(w * w, axis=1))
    return float(np.sum(20 * np.log10(np.maximum(rms, 1e-9)) > floor_dbfs)) / 50


class Loop(VoiceObserver):
    """Runs ``pipeline.listen(MicSource)`` in the background and collects turns (its observer)."""

    def __init__(self, pipeline: VoicePipeline, source: MicSource) -> None:
        self.p = pipeline
        self.source = source
        self.turns: list[Turn] = []
        self.states: list[tuple[float, str]] = []
        self._new = asyncio.Event()
        pipeline.observer = self
        self.task: asyncio.Task | None = None

    def on_agent_state(self, event: AgentStateChanged) -> None:
        self.states.append((time.monotonic(), event.new))

    def on_turn_finished(self, event: TurnFinished) -> None:
        if event.turn.ignored:
            return
        self.turns.append(event.turn)
        self._new.set()

    async def __aenter__(self) -> Loop:
        self.task = asyncio.create_task(self.p.listen(self.source))
        await self.wait_connected()
        return self

    async def __aexit__(self, *exc) -> None:
        self.task.cancel()
        # the loop stops promptly when cancelled (the daemon's SIGTERM relies on it)
        done, _ = await asyncio.wait({self.task}, timeout=5)
        assert done, "listen() did not stop within 5 s of being cancelled"

    async def wait_connected(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not (self.source.connected and self.p.last_frame_at and time.monotonic() - self.p.last_frame_at < 0.2):
            assert time.monotonic() < deadline, "microphone never delivered audio"
            assert not self.task.done(), self.task
            await asyncio.sleep(0.05)

    async def next_turn(self, timeout: float = 60.0) -> Turn:
        return await self.turn(len(self.turns), timeout)

    async def turn(self, index: int, timeout: float = 60.0) -> Turn:
        """The ``index``-th finished turn, waiting for it when needed."""
        count = index
        deadline = time.monotonic() + timeout
        while len(self.turns) <= count:
            assert not self.task.done(), self.task
            self._new.clear()
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no turn within {timeout} s (states: {[s for _, s in self.states]})"
            try:
                await asyncio.wait_for(self._new.wait(), min(remaining, 1.0))
            except TimeoutError:
                pass
        return self.turns[count]


def _pipeline(whisper, piper, responder=None, settings: Settings | None = None) -> VoicePipeline:
    return VoicePipeline(settings or Settings(), transcriber=whisper, tts=piper, responder=responder or EchoResponder())


def _heard_bantz(outcome: Turn) -> bool:
    t = ascii_fold(outcome.transcript)
    return any(w in t for w in ("bantz", "banz", "bants", "hava"))


async def test_spoken_turn_through_real_devices(pulse, whisper, piper):
    p = _pipeline(whisper, piper)
    source = MicSource(None)
    rec = pulse.start_recording()
    async with Loop(p, source) as loop:
        await asyncio.to_thread(pulse.play, HAVA)
        outcome = await loop.next_turn()
        await asyncio.sleep(0.3)
    audio = rec.stop()
    assert not outcome.ignored and not outcome.interrupted and outcome.error is None
    assert _heard_bantz(outcome), outcome.transcript
    assert outcome.result.reply.startswith("Şunu duydum:")
    # audible speech came back out of the speaker
    assert audible_seconds(audio, 22050) > 1.0, f"speaker monitor level {dbfs(audio):.1f} dBFS"
    # every stage that ran is in the trace, in order; the one that did not run is null
    t = outcome.trace.to_dict()
    vals = [t[s] for s in RAN_STAGES]
    assert all(v is not None for v in vals), t
    assert vals == sorted(vals), t
    assert t["plan_done"] is None
    assert 0 < t["spoken_latency_ms"] < 20000
    states = [s for _, s in loop.states]
    assert states[0] == "listening" and "thinking" in states and "speaking" in states


async def test_barge_in_stops_playback(pulse, whisper, piper, caplog):
    caplog.set_level(logging.INFO, logger="bantz_voice.pipeline")
    long_reply = "Bugün takviminizde çok sayıda etkinlik var. " + " ".join(
        f"{i}. etkinlik saat {9 + i} sularında, toplantı odasında yapılacak." for i in range(1, 9)
    )

    class Long(Responder):
        calls = 0

        async def respond(self, request: TurnRequest):
            Long.calls += 1
            if Long.calls > 1:  # the interrupting utterance gets a short answer
                request.result.route = "echo"
                request.result.reply = "Dinliyorum."
                yield "Dinliyorum."
                return
            request.result.route = "long"
            request.result.reply = long_reply
            for word in long_reply.split(" "):
                await asyncio.sleep(0.01)
                yield word + " "

        async def aclose(self):
            return None

    players: list[Player] = []

    def factory():  # the loop's kind of speaker: one stream kept open between replies
        players.append(Player(None, keep_open=True))
        return players[-1]

    p = _pipeline(whisper, piper, Long())
    p.sink_factory = factory
    rec = pulse.start_recording()
    async with Loop(p, MicSource(None)) as loop:
        # the first request; the reply is long (> 20 s of speech)
        await asyncio.to_thread(pulse.play, HAVA)
        deadline = time.monotonic() + 60
        while p.state != "speaking":
            assert time.monotonic() < deadline, "never started speaking"
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)
        player = players[0]
        # the user talks over the reply
        await asyncio.to_thread(pulse.play, HAVA)
        first = await loop.turn(0, timeout=30)
        assert first.interrupted and first.result.route == "long"
        # playback stopped within 100 ms of the barge-in decision
        assert player.stopped_at is not None and player.last_audio_at is not None
        assert player.last_audio_at - player.stopped_at <= 0.1
        # the interrupting speech became the next turn
        second = await loop.turn(1, timeout=60)
        assert not second.interrupted and second.result.reply == "Dinliyorum."
        # the barge-in stopped the reply without closing the stream: the answer reused it
        assert len(players) == 1 and player.is_open and player.opens == 1
    audio = rec.stop()
    spoken = audible_seconds(audio, 22050)
    full = len(piper.synthesize(long_reply)) / piper.sample_rate
    assert 1.0 < spoken < full / 2, (spoken, full)
    assert any("barge-in" in r.getMessage() for r in caplog.records)


async def test_microphone_lost_and_found(pulse, whisper, piper, caplog):
    p = _pipeline(whisper, piper)
    statuses: list[bool] = []
    source = MicSource(None, reconnect_initial_s=0.2, reconnect_max_s=1.0, on_status=lambda ok, msg: statuses.append(ok))
    caplog.set_level(logging.WARNING, logger="bantz_voice.audio.source")
    async with Loop(p, source) as loop:
        # the microphone's modules go away and come back
        await asyncio.to_thread(pulse.unload_mic)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(pulse.load_mic)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(pulse.play, HAVA)
        outcome = await loop.next_turn()
        assert _heard_bantz(outcome) and not outcome.interrupted
        # the sound server itself goes away for 2 s: the loop keeps running and reconnects
        await asyncio.to_thread(pulse.restart, 2.0)
        await loop.wait_connected(timeout=30)
        assert source.reconnects >= 1 and False in statuses and statuses[-1] is True
        await asyncio.sleep(0.5)
        await asyncio.to_thread(pulse.play, HAVA)
        outcome = await loop.next_turn()
        assert _heard_bantz(outcome)
    lost = [r for r in caplog.records if r.getMessage().startswith(("microphone lost", "microphone unavailable"))]
    assert 1 <= len(lost) <= 2, [r.getMessage() for r in caplog.records]  # logged once per outage, not per retry


async def test_missing_devices_give_clear_errors(pulse, caplog):
    with pytest.raises(AudioInputError, match="mikrofon bulunamadı"):
        MicSource("olmayan-mikrofon-xyz").check()
    with pytest.raises(AudioInputError, match="hoparlör bulunamadı"):
        Player("olmayan-hoparlor-xyz").check()
    # a configured microphone that is not there: the source retries quietly, logging once
    caplog.set_level(logging.WARNING, logger="bantz_voice.audio.source")
    statuses: list[tuple[bool, str]] = []
    src = MicSource("olmayan-mikrofon-xyz", reconnect_initial_s=0.1, reconnect_max_s=0.2,
                    on_status=lambda ok, msg: statuses.append((ok, msg)))

    async def consume():
        async for _ in src.frames():
            pass

    task = asyncio.create_task(consume())
    deadline = time.monotonic() + 30
    while len(statuses) < 3:  # three attempts, however slowly a loaded machine makes them
        assert time.monotonic() < deadline and not task.done(), statuses
        await asyncio.sleep(0.05)
    assert not task.done()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert len(statuses) >= 3 and not any(ok for ok, _ in statuses)
    assert "mikrofon bulunamadı" in statuses[0][1]
    assert len([r for r in caplog.records if "bulunamadı" in r.getMessage()]) == 1


async def test_devices_that_only_open_at_48k_are_resampled(pulse, monkeypatch):
    """A PipeWire-like device that refuses 16 kHz/22.05 kHz: opened at 48 kHz, resampled with soxr."""
    import sounddevice as sd

    real_in, real_out = sd.check_input_settings, sd.check_output_settings

    def only_48k(real):
        def check(*args, samplerate=None, **kw):
            if samplerate is not None and int(samplerate) != 48000:
                raise sd.PortAudioError("Invalid sample rate")
            return real(*args, samplerate=samplerate, **kw)

        return check

    monkeypatch.setattr(sd, "check_input_settings", only_48k(real_in))
    monkeypatch.setattr(sd, "check_output_settings", only_48k(real_out))

    # microphone: 48 kHz device -> 16 kHz frames of 30 ms that carry the speech played into it
    src = MicSource(None)
    frames = []

    async def grab():
        async for f in src.frames():
            frames.append(f)
            if len(frames) >= 120:  # 3.6 s
                return

    task = asyncio.create_task(grab())
    await asyncio.sleep(0.5)
    await asyncio.to_thread(pulse.play, HAVA)
    await asyncio.wait_for(task, 20)
    assert src.native_rate == 48000
    assert all(len(f.pcm) == 480 * 2 for f in frames)
    audio = np.concatenate([f.samples() for f in frames])
    assert audible_seconds(audio, 16000) > 1.0
    # speech energy stays below 8 kHz after resampling (no aliasing garbage): most power < 4 kHz
    spec = np.abs(np.fft.rfft(audio.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / 16000)
    assert spec[freqs < 4000].sum() / spec.sum() > 0.8

    # speaker: 22.05 kHz voice on a 48 kHz device plays the right duration
    player = Player(None)
    await player.begin(22050)
    tone = (np.sin(2 * np.pi * 440 * np.arange(22050) / 22050) * 8000).astype(np.int16)
    player.write(tone)
    await player.drain()
    await player.end()
    assert player._rate == 48000
    assert abs(player.played_samples - 48000) < 48000 * 0.05


def test_say_plays_on_the_speaker(pulse):
    import os
    import subprocess
    import sys

    rec = pulse.start_recording()
    r = subprocess.run([sys.executable, "-m", "bantz_voice", "say", "--local", "Merhaba, ben Bantz."],
                       env=dict(os.environ), capture_output=True, text=True, timeout=120)
    audio = rec.stop()
    assert r.returncode == 0, r.stderr
    assert audible_seconds(audio, 22050) > 0.5
