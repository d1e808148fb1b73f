"""The turn as an object and the voice loop's typed seams, without the speech models: the
transcriber and the synthesizer are seams that record what they were asked (the real Whisper and
Piper run in test_voice_models.py); the VAD, the chunker, the turn runner and the daemon's gate are
the real ones."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from fixtures.voice_events import Recorder

from bantz_voice.asr import AsrResult
from bantz_voice.audio.player import WavSink
from bantz_voice.audio.source import FileSource
from bantz_voice.audio.vad import Utterance
from bantz_voice.audio.wavio import read_wav
from bantz_voice.config import Settings, load_settings
from bantz_voice.daemon.notify import Notifier
from bantz_voice.daemon.runner import Daemon
from bantz_voice.pipeline import VoicePipeline
from bantz_voice.responder import EchoResponder, Responder, TurnRequest
from bantz_voice.tts.base import TextToSpeech
from bantz_voice.voice.events import AgentStateChanged, TurnFinished, TurnStarted, UserStateChanged
from bantz_voice.voice.output import REPLY_TTS_STALLED
from bantz_voice.voice.turn import Turn
from bantz_voice.wake import WakeDetector

HAVA = Path(__file__).parent / "data" / "tr_bantz_hava.wav"


class ScriptedTranscriber:
    """Answers each decode with the next text; a decode waits for ``release`` when one is given."""

    def __init__(self, *texts: str, release: dict[int, threading.Event] | None = None) -> None:
        self.texts = list(texts)
        self.release = release or {}
        self.calls = 0
        self.settings = Settings().asr
        self.model_path = Path("<scripted>")
        self._lock = threading.Lock()

    def transcribe(self, audio, cancel=None, window=None) -> AsrResult:
        with self._lock:
            n = self.calls
            self.calls += 1
        gate = self.release.get(n)
        if gate is not None:
            gate.wait(10)
        text = self.texts[min(n, len(self.texts) - 1)]
        return AsrResult(text, text, audio_s=len(audio) / 16000)


class RecordingTTS(TextToSpeech):
    """Records the normalizer and the synthesizer calls; ``block`` makes every render but the
    apology's hang (a hung ONNX session) until ``unblock`` is set."""

    sample_rate = 16000

    def __init__(self, block: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.block = block
        self.unblock = threading.Event()

    def normalize(self, text: str) -> str:
        self.calls.append(("normalize", text))
        return text.replace("3", "üç")

    def render(self, spoken: str) -> np.ndarray:
        self.calls.append(("render", spoken))
        if self.block and spoken != REPLY_TTS_STALLED:
            self.unblock.wait(30)
        value = 7 if spoken == REPLY_TTS_STALLED else 1
        return np.full(160 * len(spoken.split()), value, dtype=np.int16)


def _utt(speech_start: float) -> Utterance:
    return Utterance(np.zeros(3200, np.int16), start_t=speech_start - 0.3, speech_start=speech_start,
                     speech_end=speech_start + 0.2, endpoint=speech_start + 0.6)


class Endless(Responder):
    def __init__(self) -> None:
        self.closed = asyncio.Event()
        self.requests: list[str] = []

    async def respond(self, request: TurnRequest) -> AsyncIterator[str]:
        self.requests.append(request.text)
        if len(self.requests) > 1:
            request.result.reply = "Saat on."
            yield "Saat on."
            return
        try:
            yield "Uzun bir yanıt başlıyor. "
            while True:
                await asyncio.sleep(0.01)
                yield ""
        finally:
            self.closed.set()


async def _started(rec: Recorder, n: int = 1) -> Turn:
    while sum(isinstance(e, TurnStarted) for e in rec.events) < n:
        await asyncio.sleep(0.005)
    return [e.turn for e in rec.events if isinstance(e, TurnStarted)][n - 1]


# --- Turn ---------------------------------------------------------------------------------
async def test_turn_cancel_stops_its_speech_and_generation_and_await_returns_it() -> None:
    responder = Endless()
    p = VoicePipeline(Settings(), transcriber=ScriptedTranscriber("x"), tts=RecordingTTS(), responder=responder,
                      sink_factory=WavSink)
    rec = p.observer = Recorder()
    task = asyncio.create_task(p.text_turn("uzun anlat"))
    turn = await _started(rec)
    assert turn.kind == "text" and turn.mode == "text" and turn.request_text == "uzun anlat"
    while p.state != "speaking":
        await asyncio.sleep(0.005)
    assert not turn.done.is_set()
    assert turn.cancel()
    assert await asyncio.wait_for(turn, 5) is turn  # awaitable: returns the finished turn
    assert turn.interrupted and turn.done.is_set() and responder.closed.is_set()
    assert await task is turn and rec.turns == [turn]
    assert not turn.cancel()  # a finished turn: nothing to cancel
    assert p.state == "idle" and p.turns.current is None


async def test_a_turns_mode_is_never_credited_to_the_turn_that_replaced_it() -> None:
    """A follow-up turn still speaking is replaced by a wake-word turn: the daemon records each
    turn with its own mode (the old daemon read a field the newer turn's gate had written)."""
    settings = load_settings()
    d = Daemon(settings, "echo", Notifier(""))
    d.earcons.enabled = False
    d.wake = WakeDetector()  # the transcript decides (the wake-word model: test_wake_stage.py)
    responder = Endless()
    p = d.attach(VoicePipeline(settings, transcriber=ScriptedTranscriber("peki yarın ne var", "Bantz, saat kaç"),
                               tts=RecordingTTS(), responder=responder, sink_factory=WavSink))
    rec = Recorder()
    inner = p.observer

    class Both(Recorder):
        def on_turn_started(self, event: TurnStarted) -> None:
            rec.on_turn_started(event)
            inner.on_turn_started(event)

        def on_turn_finished(self, event: TurnFinished) -> None:
            rec.on_turn_finished(event)
            inner.on_turn_finished(event)

        def on_agent_state(self, event: AgentStateChanged) -> None:
            inner.on_agent_state(event)

    p.observer = Both()
    d.gate.open_follow_up()
    first = asyncio.create_task(p._handle_utterance(_utt(time.monotonic()), None))
    t1 = await _started(rec)
    while p.state != "speaking":
        await asyncio.sleep(0.005)
    second = asyncio.create_task(p._handle_utterance(_utt(time.monotonic()), None))
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    t2 = await _started(rec, 2)
    assert (t1.mode, t2.mode) == ("follow_up", "wake_word")
    assert t1.interrupted and not t2.interrupted and t2.result.reply == "Saat on."
    assert [r["mode"] for r in d.last_turns] == ["follow_up", "wake_word"]
    assert [r["interrupted"] for r in d.last_turns] == [True, False]
    assert responder.requests == ["peki yarın ne var", "saat kaç"]


async def test_follow_up_window_is_checked_against_the_turns_own_utterance() -> None:
    """Two utterances overlap in the loop: one began before the follow-up window opened (a TV),
    the next inside it. The older one is gated while the newer one has already begun (the old
    daemon then read the newer start); each is judged by the start of its own utterance."""
    settings = load_settings()
    d = Daemon(settings, "echo", Notifier(""))
    d.earcons.enabled = False
    d.wake = WakeDetector()  # the transcript decides (the wake-word model: test_wake_stage.py)
    late = threading.Event()
    p = d.attach(VoicePipeline(settings, transcriber=ScriptedTranscriber("evet", "evet", release={0: late}),
                               tts=RecordingTTS(), responder=EchoResponder(), sink_factory=WavSink))
    rec = Recorder()
    inner = p.observer

    class Both(Recorder):
        def on_turn_finished(self, event: TurnFinished) -> None:
            rec.on_turn_finished(event)
            inner.on_turn_finished(event)

    p.observer = Both()
    before = time.monotonic() - 1.0
    d.gate.open_follow_up()
    inside = time.monotonic() + 0.001
    older = asyncio.create_task(p._handle_utterance(_utt(before), None))  # decode held back
    await asyncio.sleep(0.05)
    newer = asyncio.create_task(p._handle_utterance(_utt(inside), None))
    await asyncio.sleep(0.05)
    late.set()
    await asyncio.wait_for(asyncio.gather(older, newer), 10)
    by_start = {t.speech_start: t for t in rec.all_turns}
    assert by_start[before].ignored and by_start[before].decision.mode == "ignored"
    assert not by_start[inside].ignored and by_start[inside].mode == "follow_up"
    assert d.turns == 1 and d.last_turns[-1]["mode"] == "follow_up"


# --- events -------------------------------------------------------------------------------
def _subsequence(items: list, wanted: list) -> bool:
    it = iter(items)
    return all(any(w == x for x in it) for w in wanted)


async def test_observer_events_come_in_order() -> None:
    """A spoken request through listen(): the user's and the assistant's states are separate
    and the events arrive in the order things happen."""
    p = VoicePipeline(Settings(), transcriber=ScriptedTranscriber("Bantz yarın hava nasıl"), tts=RecordingTTS(),
                      responder=EchoResponder())
    rec = p.observer = Recorder()
    audio = np.concatenate([np.zeros(8000, np.int16), read_wav(HAVA)])
    await asyncio.wait_for(p.listen(FileSource(audio, fast=True, tail_s=1.2), sink=WavSink()), 60)

    def label(e: object) -> str:
        if isinstance(e, UserStateChanged):
            return f"user:{e.new}"
        if isinstance(e, AgentStateChanged):
            return f"agent:{e.new}"
        return type(e).__name__

    labels = [label(e) for e in rec.events]
    assert _subsequence(labels, ["agent:listening", "user:speaking", "user:silent", "user:listening",
                                 "agent:thinking", "TurnStarted", "agent:speaking", "TurnFinished",
                                 "agent:listening", "agent:idle"]), labels
    endpoint = next(e for e in rec.events if isinstance(e, UserStateChanged) and e.utterance is not None)
    (turn,) = rec.turns
    assert turn.utterance is endpoint.utterance and turn.kind == "voice" and turn.mode == "open"
    assert labels.count("TurnStarted") == labels.count("TurnFinished") == 1
    # user and assistant states never mix
    assert all(e.new in ("listening", "speaking", "silent") for e in rec.events if isinstance(e, UserStateChanged))
    assert turn.trace.playback_start is not None and turn.result.reply == "Şunu duydum: Bantz yarın hava nasıl"


async def test_an_observer_that_raises_never_breaks_the_turn() -> None:
    class Broken(Recorder):
        def on_turn_started(self, event: TurnStarted) -> None:
            raise RuntimeError("observer bug")

    p = VoicePipeline(Settings(), transcriber=ScriptedTranscriber("x"), tts=RecordingTTS(),
                      responder=EchoResponder(), sink_factory=WavSink)
    rec = p.observer = Broken()
    turn = await p.text_turn("merhaba")
    assert turn is not None and not turn.failed and rec.turns == [turn]


# --- speech output ------------------------------------------------------------------------
async def test_say_plays_through_the_speech_output_chunked_and_normalized() -> None:
    tts = RecordingTTS()
    sink = WavSink()
    s = Settings()
    p = VoicePipeline(s, transcriber=ScriptedTranscriber("x"), tts=tts, responder=EchoResponder(),
                      sink_factory=lambda: sink)
    rec = p.observer = Recorder()
    text = "Toplantınız 3 dakika sonra başlıyor. Notlarınızı unutmayın. Konum: ikinci kat."
    turn = await p.speak(text)
    assert turn is not None and turn.kind == "say" and turn.mode == "say" and not turn.failed
    assert turn.result.reply == text and turn.result.source == "say"
    assert rec.turns == [turn]
    # chunker -> normalizer -> synthesizer, in that order for every chunk, nothing skipped
    normalized = [t for k, t in tts.calls if k == "normalize"]
    rendered = [t for k, t in tts.calls if k == "render"]
    assert len(normalized) >= 2  # the text was cut into chunks
    assert " ".join(normalized).split() == text.split()
    assert rendered == [t.replace("3", "üç") for t in normalized]
    assert [k for k, _ in tts.calls] == ["normalize", "render"] * len(rendered)
    assert sink.audio.size == sum(160 * len(t.split()) for t in rendered)
    assert turn.trace.playback_start is not None


async def test_a_hung_synthesizer_still_gets_a_spoken_apology() -> None:
    """StageStalled on "tts": the apology rendered at start-up is played straight to the sink."""
    s = Settings()
    s.tts.deadline_s = 0.3
    tts = RecordingTTS(block=True)
    sink = WavSink()
    p = VoicePipeline(s, transcriber=ScriptedTranscriber("x"), tts=tts, responder=EchoResponder(),
                      sink_factory=lambda: sink)
    try:
        await p.warmup()  # the apology is rendered now, while the synthesizer works
        assert p.output.apology is not None and p.output.apology.size > 0
        turn = await asyncio.wait_for(p.text_turn("yarın hava nasıl"), 20)
        assert turn is not None and turn.error and "ses üretimi" in turn.error
        assert turn.trace.meta.get("apology") == "tts_stalled" and p.output.apologies == 1
        assert np.array_equal(sink.audio, p.output.apology)  # what was heard: the apology, whole
        assert p.stages.stalled().get("tts") is not None  # status and the watchdog see the stall
    finally:
        tts.unblock.set()
        await p.aclose()


@pytest.mark.parametrize("kind", ["say", "text"])
async def test_an_empty_text_is_no_turn(kind: str) -> None:
    p = VoicePipeline(Settings(), transcriber=ScriptedTranscriber("x"), tts=RecordingTTS(),
                      responder=EchoResponder(), sink_factory=WavSink)
    run = p.speak if kind == "say" else p.text_turn
    assert await run("   ") is None


async def test_after_a_turn_the_freed_heap_goes_back_to_the_system(monkeypatch: pytest.MonkeyPatch) -> None:
    """The RSS of the daemon stays near READY's only if a finished turn's freed heap is returned:
    the pipeline asks for it once a turn has finished and none runs (off the turn's own path)."""
    from bantz_voice import sysmem

    trimmed = threading.Event()
    monkeypatch.setattr(sysmem, "release_freed_memory", lambda: trimmed.set() or True)
    sink = WavSink()
    p = VoicePipeline(Settings(), transcriber=ScriptedTranscriber("x"), tts=RecordingTTS(), responder=EchoResponder(),
                      sink_factory=lambda: sink)
    assert not trimmed.is_set()
    turn = await p.speak("Saat on.")
    assert turn is not None and not turn.failed
    assert await asyncio.to_thread(trimmed.wait, 10)
