"""Unbounded work in the voice loop: push-to-talk without a release, a queue of utterances the
decoder cannot keep up with, and a decode that never returns (a hung native call).

Whisper and Piper are the real models. Only the hung decode uses a stand-in transcriber
(:class:`HungTranscriber`): the real Whisper cannot be made to hang on demand."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from bantz_voice.asr import AsrResult
from bantz_voice.audio.player import WavSink
from bantz_voice.audio.source import FileSource
from bantz_voice.audio.wavio import read_wav
from bantz_voice.config import Settings, load_settings
from bantz_voice.daemon.notify import Heartbeat, Notifier
from bantz_voice.daemon.runner import Daemon
from bantz_voice.errors import BantzError
from bantz_voice.pipeline import REPLY_STAGE_STALLED, VoicePipeline
from bantz_voice.responder import EchoResponder

DATA = Path(__file__).resolve().parents[1] / "data"
SPEECH = DATA / "tr_randevu.wav"


class HungTranscriber:
    """Stand-in for a Whisper decode stuck in native code: ``transcribe`` blocks until released
    (a decode whose cancel event is already set returns at once, as the real one does)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.model_path = "hung-stand-in"

    def transcribe(self, audio: np.ndarray, cancel: threading.Event | None = None, window: str | None = None) -> AsrResult:
        if cancel is not None and cancel.is_set():
            return AsrResult(text="", dropped="cancelled")
        self.started.set()
        self.release.wait(120)
        return AsrResult(text="", dropped="empty")


def wav_sink() -> WavSink:
    return WavSink(None)


class Recording:
    """The real transcriber, recording the length of every decode it is asked for (a spy)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.model_path = inner.model_path
        self.samples: list[int] = []

    def transcribe(self, audio: np.ndarray, cancel: threading.Event | None = None, window: str | None = None) -> AsrResult:
        self.samples.append(len(audio))
        return self.inner.transcribe(audio, cancel, window)


@pytest.mark.slow
async def test_ptt_without_release_is_closed_and_decoded(whisper, piper) -> None:
    s = Settings()
    s.vad.max_ptt_s = 2.0
    s.vad.speculative_asr = False
    asr = Recording(whisper)
    p = VoicePipeline(s, transcriber=asr, tts=piper, responder=EchoResponder(), sink_factory=wav_sink)
    speech = read_wav(SPEECH)
    audio = np.concatenate([speech, speech])  # ~9 s, and the key is never released
    p.ptt_begin()
    await p.listen(FileSource(audio, fast=True), sink=WavSink(None), use_filter=False)
    assert p.ptt_capped == 1 and not p.ptt_active
    # the first decode is the held audio up to the cap (pre-roll included), not all 9 s
    cap = int((s.vad.max_ptt_s + (s.vad.preroll_ms + s.audio.frame_ms) / 1000) * 16000)
    assert asr.samples and int(s.vad.max_ptt_s * 16000) <= asr.samples[0] <= cap, asr.samples


def bursts(n: int) -> np.ndarray:
    """``n`` spoken requests, each followed by a second of silence."""
    speech = read_wav(DATA / "tr_bantz_hava.wav")
    gap = np.zeros(16000, dtype=np.int16)
    return np.concatenate([x for _ in range(n) for x in (speech, gap)])


async def test_asr_queue_is_bounded_and_drops_the_oldest(caplog: pytest.LogCaptureFixture) -> None:
    s = Settings()
    s.vad.speculative_asr = False
    s.asr.max_queue = 2
    hung = HungTranscriber()
    p = VoicePipeline(s, transcriber=hung, tts=None, responder=EchoResponder(), sink_factory=wav_sink)
    endpoints = 0

    def on_event(ev) -> None:
        nonlocal endpoints
        endpoints += ev.kind == "endpoint"

    source = FileSource(bursts(5), fast=True)
    listening = asyncio.create_task(p.listen(source, on_event=on_event, sink=WavSink(None), use_filter=False))
    await asyncio.to_thread(source.finished.wait, 120)
    try:
        assert endpoints >= 3, endpoints
        # nothing has finished (the decoder hangs): all but the newest max_queue were dropped
        assert p.asr_dropped == endpoints - s.asr.max_queue
        assert "ASR queue full" in caplog.text
    finally:
        hung.release.set()
        await asyncio.wait_for(listening, 60)
    p.recognizer.shutdown(wait=True)


async def test_hung_asr_gets_a_turkish_apology_and_is_reported(piper, tmp_path: Path) -> None:
    s = Settings()
    s.asr.deadline_s = 0.5
    hung = HungTranscriber()
    p = VoicePipeline(s, transcriber=hung, tts=piper, responder=EchoResponder(), sink_factory=wav_sink)
    try:
        outcome = await asyncio.wait_for(p.run_turn_from_wav(DATA / "tr_bantz_hava.wav", fast=True), 120)
        assert outcome.result.reply == REPLY_STAGE_STALLED
        assert outcome.error and "konuşma tanıma" in outcome.error
        assert outcome.reply_audio is not None and outcome.reply_audio.size > piper.sample_rate  # spoken
        health = p.health()
        assert not health["asr"]["ok"] and "yanıt vermiyor" in health["asr"]["detail"]
        # more (hands-free) utterances while it is still hung: no second apology, nothing spoken
        with pytest.raises(BantzError, match="konuşma tanıma takıldı"):
            await asyncio.wait_for(p.run_turn_from_wav(DATA / "tr_bantz_hava.wav", fast=True), 120)
    finally:
        hung.release.set()
    await asyncio.to_thread(p.recognizer.shutdown, True)
    assert p.stages.stalled() == {} and p.health()["asr"]["ok"]


class Listener:
    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(5)

    def next(self) -> str:
        return self.sock.recv(4096).decode()

    def drain(self) -> list[str]:
        out = []
        self.sock.setblocking(False)
        try:
            while True:
                out.append(self.sock.recv(4096).decode())
        except BlockingIOError:
            return out
        finally:
            self.sock.settimeout(5)


async def test_stalled_stage_stops_the_watchdog_and_shows_in_status(tmp_path: Path) -> None:
    listener = Listener(tmp_path / "notify.sock")
    s = load_settings()
    s.asr.deadline_s = 0.2
    hung = HungTranscriber()
    p = VoicePipeline(s, transcriber=hung, tts=None, responder=EchoResponder(), sink_factory=wav_sink)
    d = Daemon(s, "echo", Notifier(str(tmp_path / "notify.sock")))
    d.pipeline = p
    d.heartbeat = Heartbeat(30.0)
    d.heartbeat.beat()  # the audio loop itself is fine
    d.ready = True
    watchdog = asyncio.create_task(d._watchdog(0.05))
    worker = threading.Thread(target=p.stages.run, args=("asr", hung.transcribe, np.zeros(16000, np.int16)))
    try:
        assert await asyncio.to_thread(listener.next) == "WATCHDOG=1"  # healthy: pings
        worker.start()
        await asyncio.to_thread(hung.started.wait, 10)
        while not d.stalled_stages():  # becomes stalled once past its deadline
            await asyncio.sleep(0.05)
        st = d.status()
        assert "asr" in st["stalled_stages"]
        await asyncio.sleep(0.1)
        listener.drain()
        await asyncio.sleep(0.3)  # six watchdog periods
        assert "WATCHDOG=1" not in listener.drain()
        hung.release.set()
        await asyncio.to_thread(worker.join, 10)
        assert d.stalled_stages() == {}
        assert await asyncio.to_thread(listener.next) == "WATCHDOG=1"  # recovered: pings again
    finally:
        hung.release.set()
        watchdog.cancel()
        await asyncio.gather(watchdog, return_exceptions=True)
