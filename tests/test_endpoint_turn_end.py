"""Turn ends driven by a verdict: the endpointer with synthetic frames and an injected verdict, the
voice loop's hook, and one paused utterance end to end ("yarın saat üçte … doktor randevusu ekle").
Deterministic on any CPU: the endpointer counts frames, and the end-to-end source waits for the
verdict (an event), never for time."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from bantz_voice.asr import Decoder, Transcriber
from bantz_voice.audio.player import WavSink
from bantz_voice.audio.source import FileSource
from bantz_voice.audio.vad import Endpointer, Frame, TurnEndLimits, VadEvent, longest_pause_ms
from bantz_voice.config import Settings, VadSettings
from bantz_voice.pipeline import VoicePipeline
from bantz_voice.responder import EchoResponder
from bantz_voice.tts.base import TextToSpeech
from bantz_voice.turn_end import VerdictReport
from bantz_voice.voice.events import TurnFinished, VoiceObserver
from bantz_voice.voice.turn import Turn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from make_bench_wavs import spoken  # the benchmarks' espeak-ng rendering

FRAME_MS = 30
N = 16000 * FRAME_MS // 1000


# --- the endpointer: synthetic frames, verdicts injected -------------------------------------------
def _feed(ep: Endpointer, pattern: Iterable[bool], t0: float = 0.0, on_pause=None) -> list[VadEvent]:
    """Feed frames whose speech flag is given (``is_speech`` override: no VAD guesswork);
    ``on_pause(ep, event)`` runs where the voice loop would start the speculative decode."""
    events: list[VadEvent] = []
    for i, voiced in enumerate(pattern):
        frame = Frame(np.full(N, 1000 if voiced else 0, dtype=np.int16).tobytes(), t0 + (i + 1) * FRAME_MS / 1000)
        for ev in ep.process(frame, is_speech=voiced):
            events.append(ev)
            if ev.kind == "pause" and on_pause is not None:
                on_pause(ep, ev)
    return events


def _speech(voiced: int, pause: int = 0, more: int = 0, tail: int = 60) -> list[bool]:
    return [True] * voiced + [False] * pause + [True] * more + [False] * tail


def _endpoint_delay_frames(events: list[VadEvent]) -> list[int]:
    """Silent frames between each endpoint and the last voiced frame before it."""
    return [round((e.t - e.utterance.speech_end) * 1000 / FRAME_MS) for e in events if e.kind == "endpoint"]


LIMITS = TurnEndLimits(early_ms=180, extended_ms=1200, fragment_ms=800)


def _ep(turn_end: TurnEndLimits | None = LIMITS) -> Endpointer:
    return Endpointer(hangover_ms=400, min_speech_ms=90, turn_end=turn_end)  # hangover: 14 frames


def test_without_limits_the_hangover_is_fixed() -> None:
    ep = _ep(None)
    assert ep.expect_verdict() is None
    events = _feed(ep, _speech(20), on_pause=lambda ep, ev: ep.set_verdict("complete", ep.expect_verdict()))
    assert _endpoint_delay_frames(events) == [14]
    assert [e.utterance.turn_end for e in events if e.kind == "endpoint"] == [None]


@pytest.mark.parametrize("verdict,frames", [("complete", 6), ("unfinished", 40), ("fragment", 27), ("unknown", 14)])
def test_a_verdict_at_the_pause_sets_its_limit(verdict: str, frames: int) -> None:
    events = _feed(_ep(), _speech(20), on_pause=lambda ep, ev: ep.set_verdict(verdict, ep.expect_verdict()))
    assert _endpoint_delay_frames(events) == [frames]
    assert [e.utterance.turn_end for e in events if e.kind == "endpoint"] == [verdict]


def test_no_verdict_expected_keeps_the_hangover() -> None:
    # a pause without a decode (speculative ASR off, the wake-word stage said no): no hold
    assert _endpoint_delay_frames(_feed(_ep(), _speech(20))) == [14]


def test_a_pending_verdict_holds_the_pause_up_to_the_extended_limit() -> None:
    tokens: list[int | None] = []
    events = _feed(_ep(), _speech(20), on_pause=lambda ep, ev: tokens.append(ep.expect_verdict()))
    assert tokens and tokens[0] is not None
    assert _endpoint_delay_frames(events) == [40]
    assert events[-1].utterance.turn_end == "pending"


def test_a_late_verdict_ends_the_pause_at_the_next_frame() -> None:
    # the decode takes 20 frames (600 ms): longer than the hangover, the verdict says complete
    ep = _ep()
    events: list[VadEvent] = []
    token: int | None = None
    pattern = _speech(20)
    for i, voiced in enumerate(pattern):
        frame = Frame(np.zeros(N, dtype=np.int16).tobytes(), (i + 1) * FRAME_MS / 1000)
        out = ep.process(frame, is_speech=voiced)
        events += out
        if any(e.kind == "pause" for e in out):
            token = ep.expect_verdict()
        if i == 20 + 19:  # the 20th silent frame has been processed
            assert not [e for e in events if e.kind == "endpoint"]  # held beyond the 14-frame hangover
            assert ep.set_verdict("complete", token)
    assert _endpoint_delay_frames(events) == [21]


def test_a_verdict_on_an_old_pause_is_ignored() -> None:
    # pause 1 (5 frames) -> resume -> pause 2: the first decode's verdict arrives during pause 2
    ep = _ep()
    tokens: list[int | None] = []
    pattern = _speech(20, pause=5, more=20, tail=3)

    def on_pause(ep: Endpointer, ev: VadEvent) -> None:
        tokens.append(ep.expect_verdict())

    first = _feed(ep, pattern, on_pause=on_pause)
    assert len(tokens) == 2 and None not in tokens and tokens[0] != tokens[1]
    assert [e.kind for e in first].count("resume") == 1
    assert ep.set_verdict("complete", tokens[0]) is False  # the pause it judged is over
    rest = _feed(ep, [False] * 60, t0=len(pattern) * FRAME_MS / 1000)
    assert _endpoint_delay_frames(rest) == [40]  # still pending: held to the extended limit
    assert rest[-1].utterance.turn_end == "pending"
    assert ep.set_verdict("complete", tokens[1]) is False  # the turn has ended


def test_unfinished_bridges_a_mid_sentence_pause_that_the_hangover_cuts() -> None:
    pattern = _speech(25, pause=20, more=25)  # a 600 ms pause inside the sentence
    fixed = _feed(_ep(None), pattern)
    assert [e.kind for e in fixed].count("endpoint") == 2  # cut at the pause

    def judge(ep: Endpointer, ev: VadEvent) -> None:
        # the first pause's transcript ends "…saat üçte" (unfinished), the last one is complete
        first = ev.utterance.audio.size < 40 * N
        ep.set_verdict("unfinished" if first else "complete", ep.expect_verdict())

    events = _feed(_ep(), pattern, on_pause=judge)
    ends = [e for e in events if e.kind == "endpoint"]
    assert len(ends) == 1 and [e.kind for e in events].count("resume") == 1
    assert ends[0].utterance.turn_end == "complete"
    assert _endpoint_delay_frames(events) == [6]


def test_bad_verdict_is_refused() -> None:
    with pytest.raises(ValueError):
        _ep().set_verdict("maybe", 1)


def test_longest_pause_follows_the_settings() -> None:
    default = VadSettings()
    assert longest_pause_ms(default) == (default.turn_end_extended_ms if default.turn_end else default.hangover_ms)
    assert longest_pause_ms(VadSettings(turn_end=True, turn_end_extended_ms=1500)) == 1500
    assert longest_pause_ms(VadSettings(turn_end=False, turn_end_extended_ms=1500)) == 400
    ep = Endpointer.from_settings(VadSettings(turn_end=True, turn_end_early_ms=150, turn_end_extended_ms=900))
    assert (ep.early_frames, ep.hangover_frames, ep.fragment_frames, ep.extended_frames) == (5, 14, 27, 30)
    # the fragment hold lies between the hangover and the extended limit, whatever the settings say
    assert Endpointer.from_settings(VadSettings(turn_end_fragment_ms=3000, turn_end_extended_ms=900)).fragment_frames == 30
    assert Endpointer.from_settings(VadSettings(turn_end_fragment_ms=100)).fragment_frames == 14


# --- end to end: a paused utterance through the voice loop ------------------------------------------
FIRST, SECOND = "yarın saat üçte", "doktor randevusu ekle"


@dataclass(frozen=True)
class _Seg:
    text: str
    avg_logprob: float = -0.2
    no_speech_prob: float = 0.01
    tokens: tuple[int, ...] = (1, 2, 3, 4, 5, 6)


class PartsDecoder(Decoder):
    """A scripted Whisper: the words of the parts whose voiced audio the decode contains (counted
    by loud samples, so the text depends on the audio alone and not on a CPU's Whisper)."""

    def __init__(self, parts: list[tuple[str, int]]) -> None:
        self.parts = parts  # (text, loud samples in it)

    def segments(self, x: np.ndarray, prompt: str | None, settings, max_new_tokens: int) -> Iterable[_Seg]:
        loud = int(np.count_nonzero(np.abs(x) > 0.02))
        words, need = [], 0
        for text, n in self.parts:
            need += n
            if loud >= need * 0.9:
                words.append(text)
        return [_Seg(" ".join(words))] if words else []


class SilentTTS(TextToSpeech):
    sample_rate = 16000

    def render(self, spoken: str) -> np.ndarray:
        return np.zeros(1600, dtype=np.int16)


class Turns(VoiceObserver):
    """Keeps the turns that ran (not the ignored utterances)."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []

    def on_turn_finished(self, event: TurnFinished) -> None:
        if not event.turn.ignored:
            self.turns.append(event.turn)


@pytest.fixture(scope="module")
def paused_audio() -> tuple[np.ndarray, int, PartsDecoder]:
    """(audio, index of the first sample of the pause, decoder) for FIRST + 600 ms + SECOND."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("espeak-ng/sox (scripts/setup.sh --test)")
    a, b = spoken(FIRST, 150), spoken(SECOND, 150)
    lead, gap = np.zeros(8000, np.int16), np.zeros(int(0.6 * 16000), np.int16)
    audio = np.concatenate([lead, a, gap, b])
    loud = lambda x: int(np.count_nonzero(np.abs(x.astype(np.float32) / 32768) > 0.02))  # noqa: E731
    return audio, len(lead) + len(a), PartsDecoder([(FIRST, loud(a)), (SECOND, loud(b))])


class GatedSource:
    """``FileSource``-like frames at real-time timestamps, fed as fast as the loop takes them, but
    right after the endpointer's pause at ``pause_at`` (webrtcvad may see it a few frames late) it
    waits until every pause so far has its verdict at the endpointer (an event, however slow the
    machine): that pause's verdict is always in time."""

    T0 = 1000.0
    rate = 16000
    frame_ms = FRAME_MS

    def __init__(self, audio: np.ndarray, pause_at: int, verdicts: asyncio.Queue[VerdictReport] | None, tail_s: float) -> None:
        audio = np.concatenate([audio, np.zeros(int(tail_s * 16000), np.int16)])
        self.audio = audio[: len(audio) // N * N]
        self.gap_t = self.T0 + (pause_at // N + 1) * FRAME_MS / 1000  # the first frame of the pause
        self.verdicts = verdicts
        self.pauses = 0  # pause events the loop has seen (each starts one decode, one verdict)
        self.gap_paused = False
        self.seen: list[VerdictReport] = []

    def on_event(self, ev: VadEvent) -> None:
        if ev.kind == "pause":
            self.pauses += 1
            self.gap_paused = self.gap_paused or ev.t >= self.gap_t

    async def frames(self) -> AsyncIterator[Frame]:
        gated = self.verdicts is None
        for i in range(len(self.audio) // N):
            if not gated and self.gap_paused:
                gated = True
                assert self.verdicts is not None
                while len(self.seen) < self.pauses:
                    self.seen.append(await asyncio.wait_for(self.verdicts.get(), timeout=60))
            await asyncio.sleep(0)
            yield Frame(self.audio[i * N : (i + 1) * N].tobytes(), self.T0 + (i + 1) * FRAME_MS / 1000)


async def _run(settings: Settings, audio: np.ndarray, pause_at: int, decoder: PartsDecoder, gate: bool):
    turns = Turns()
    p = VoicePipeline(settings, transcriber=Transcriber(settings.asr, decoder=decoder), tts=SilentTTS(),
                      responder=EchoResponder(), observer=turns)
    verdicts: asyncio.Queue[VerdictReport] = asyncio.Queue()
    p.turn_end.on_verdict = verdicts.put_nowait
    source = GatedSource(audio, pause_at, verdicts if gate else None, tail_s=longest_pause_ms(settings.vad) / 1000 + 0.6)
    events: list[VadEvent] = []

    def on_event(ev: VadEvent) -> None:
        events.append(ev)
        source.on_event(ev)

    try:
        await p.listen(source, on_event=on_event, sink=WavSink(), use_filter=False)
    finally:
        await p.aclose()
    return events, turns.turns, source.seen


def _settings(turn_end: bool) -> Settings:
    s = Settings()
    s.logging.traces = False
    s.vad.turn_end = turn_end
    return s


async def test_a_paused_utterance_is_not_cut_when_the_policy_says_unfinished(paused_audio) -> None:
    audio, pause_at, decoder = paused_audio
    events, outcomes, seen = await _run(_settings(True), audio, pause_at, decoder, gate=True)
    ends = [e for e in events if e.kind == "endpoint"]
    assert seen and seen[-1].judged.verdict.value == "unfinished" and seen[-1].applied
    assert len(ends) == 1, [e.kind for e in events]
    assert [o.transcript for o in outcomes] == [f"{FIRST} {SECOND}"]
    assert ends[0].utterance.turn_end in ("complete", "pending")  # the final pause: judged complete if in time


async def test_the_fixed_hangover_cuts_the_same_utterance(paused_audio) -> None:
    # the baseline on the same audio: the 600 ms pause is longer than the 420 ms hangover
    audio, pause_at, decoder = paused_audio
    events, outcomes, _ = await _run(_settings(False), audio, pause_at, decoder, gate=False)
    assert [e.kind for e in events].count("endpoint") == 2
    assert outcomes and outcomes[0].transcript == FIRST


async def test_a_complete_utterance_ends_early(paused_audio) -> None:
    # the same words without the pause: a complete command, its final pause ends after the early
    # limit once its verdict is in (the source waits for it from the pause's first frame on)
    audio, pause_at, decoder = paused_audio
    whole = np.concatenate([audio[:pause_at], audio[pause_at + int(0.6 * 16000) :]])
    text = f"{FIRST} {SECOND}"
    settings = _settings(True)
    events, outcomes, seen = await _run(settings, whole, len(whole), PartsDecoder([(text, sum(n for _, n in decoder.parts))]), gate=True)
    ends = [e for e in events if e.kind == "endpoint"]
    assert len(ends) == 1 and ends[0].utterance.turn_end == "complete"
    assert seen[-1].judged.verdict.value == "complete" and seen[-1].applied
    delay_ms = (ends[0].t - ends[0].utterance.speech_end) * 1000
    assert delay_ms < settings.vad.hangover_ms  # earlier than the fixed hangover
    assert [o.transcript for o in outcomes] == [text]


def test_file_source_tail_covers_the_longest_hold() -> None:
    # the listen loop tells the file source how long its endpointer may hold a pause
    src = FileSource(np.zeros(16000, np.int16))
    src.hold_pauses_up_to(3000)
    assert src.tail_s > 3.0
    assert FileSource(np.zeros(16000, np.int16), tail_s=5.0).tail_s == 5.0  # a longer tail asked for stays


async def test_a_file_ending_in_a_held_pause_still_ends_its_turn(paused_audio) -> None:
    # the last pause is judged unfinished ("yarın saat üçte") and held up to a 2.5 s extended limit
    # (or pending as long): the file source, built without a tail, appends the silence that limit
    # needs, so the turn still ends (a 1.2 s tail would leave it open until the file is gone)
    audio, pause_at, decoder = paused_audio
    settings = _settings(True)
    settings.vad.turn_end_extended_ms = 2500
    first_only = audio[:pause_at]
    turns = Turns()
    p = VoicePipeline(settings, transcriber=Transcriber(settings.asr, decoder=decoder), tts=SilentTTS(),
                      responder=EchoResponder(), observer=turns)
    ends: list[VadEvent] = []
    try:
        await asyncio.wait_for(
            p.listen(FileSource(first_only, fast=True), on_event=lambda ev: ends.append(ev) if ev.kind == "endpoint" else None,
                     sink=WavSink(), use_filter=False),
            60,
        )
    finally:
        await p.aclose()
    assert len(ends) == 1 and ends[0].utterance.turn_end in ("unfinished", "pending")
    assert [o.transcript for o in turns.turns] == [FIRST]
