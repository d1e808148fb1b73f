"""Confirmations that a TV or a second person cannot give.

Within the follow-up window, background speech that Whisper hears as "Evet." must not confirm a
delete: a spoken yes counts only from a confident transcript (``brain.confirm_min_logprob``) of an
utterance that *began* after the question, and the pending action is claimed atomically, so the
daemon and a CLI ``ask`` (one SQLite slot) cannot both execute it.

The transcripts and their log-probabilities are injected through the typed seam the voice loop
uses (:class:`~bantz_voice.responder.Heard` on the request), so nothing depends on one CPU's exact
Whisper output; the wiring from the real Whisper to that seam is checked separately."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from _claimer import claim
from fixtures.daemon import REPO
from fixtures.llama_server import brain_settings

from bantz_voice.audio.player import WavSink
from bantz_voice.audio.source import FileSource
from bantz_voice.audio.vad import Utterance
from bantz_voice.brain.actions import DeleteEvent
from bantz_voice.brain.cascade import REPLY_ALREADY_ANSWERED, REPLY_CONFIRM_UNSURE, REPLY_NO_PENDING, Brain
from bantz_voice.brain.confirm import PendingStore
from bantz_voice.brain.memory import connect
from bantz_voice.calendar import open_calendar
from bantz_voice.config import Settings, load_settings
from bantz_voice.daemon.notify import Notifier
from bantz_voice.daemon.runner import Daemon
from bantz_voice.pipeline import VoicePipeline
from bantz_voice.responder import EchoResponder, Heard, TurnRequest

TZ = ZoneInfo("Europe/Istanbul")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
TOMORROW = (datetime(2026, 11, 27, 0, 0, tzinfo=TZ), datetime(2026, 11, 28, 0, 0, tzinfo=TZ))
ASKED_ABOUT = datetime(2026, 11, 27, 15, 0, tzinfo=TZ)  # the start of the event a stored question is about
DATA = Path(__file__).resolve().parents[1] / "data"


async def turn(brain: Brain, text: str, heard: Heard | None = None) -> TurnRequest:
    req = TurnRequest(text=text, now=NOW, heard=heard)
    async for _ in brain.respond(req):
        pass
    return req


def titles(settings) -> list[str]:
    return [e.title for e in open_calendar(settings).list(*TOMORROW)]


@pytest.fixture
async def asked():
    """A brain that has just asked "… silinsin mi?" for tomorrow's appointment."""
    settings = brain_settings(rules_only=True)
    b = Brain(settings)
    await turn(b, "yarın saat üçte doktor randevusu ekle")
    r = await turn(b, "yarınki doktor randevusunu sil")
    assert r.result.requires_confirmation and titles(settings) == ["doktor randevusu"]
    yield b
    await b.aclose()


def spoken(logprob: float, start_offset_s: float = 0.5) -> Heard:
    """A spoken "evet" heard with ``logprob``, begun ``start_offset_s`` after now (the question)."""
    return Heard(avg_logprob=logprob, started_at=time.time() + start_offset_s)


@pytest.mark.parametrize("text", ["Evet.", "Tamam.", "evet sil", "Olur."])
async def test_unsure_background_yes_does_not_delete(asked: Brain, text: str) -> None:
    floor = asked.settings.brain.confirm_min_logprob
    r = await turn(asked, text, spoken(floor - 0.4))
    assert r.result.reply == REPLY_CONFIRM_UNSURE and r.result.requires_confirmation
    assert titles(asked.settings) == ["doktor randevusu"]
    # the user then answers clearly: the action was kept and is done now
    r = await turn(asked, "evet", spoken(floor + 0.3))
    assert r.result.reply.startswith("Sildim") and titles(asked.settings) == []


async def test_yes_that_began_before_the_question_does_not_delete(asked: Brain) -> None:
    # confident, but the speech started 3 s before the question was asked (talking over it)
    r = await turn(asked, "Evet.", spoken(-0.05, start_offset_s=-3.0))
    assert r.result.reply == REPLY_CONFIRM_UNSURE
    assert titles(asked.settings) == ["doktor randevusu"]


@pytest.mark.parametrize("margin", [-1.5, -0.2, -0.01, 0.0, 0.2])
@pytest.mark.parametrize("offset", [-2.0, 0.2])
async def test_only_confident_answers_begun_after_the_question_confirm(asked: Brain, margin: float, offset: float) -> None:
    floor = asked.settings.brain.confirm_min_logprob
    await turn(asked, "evet", spoken(min(0.0, floor + margin), offset))
    deleted = titles(asked.settings) == []
    assert deleted == (margin >= 0 and offset > 0)


async def test_unsure_no_still_cancels_and_typed_yes_still_confirms(asked: Brain) -> None:
    r = await turn(asked, "hayır", spoken(-3.0))  # cancelling is always safe
    assert "vazgeçtim" in r.result.reply and titles(asked.settings) == ["doktor randevusu"]
    await turn(asked, "yarınki doktor randevusunu sil")
    r = await turn(asked, "evet")  # typed (`ask`): no ASR, nothing to doubt
    assert r.result.reply.startswith("Sildim")


def test_claim_is_atomic_across_processes(tmp_path: Path) -> None:
    db = tmp_path / "brain.sqlite3"
    store = PendingStore(connect(db))
    ctx = multiprocessing.get_context("spawn")
    for round_ in range(2):
        store.put(DeleteEvent(uid=f"x{round_}", event_start=ASKED_ABOUT), 30)
        created = store.current().created
        n = 6
        barrier, out = ctx.Barrier(n), ctx.Queue()
        procs = [ctx.Process(target=claim, args=(str(db), created, barrier, out)) for _ in range(n)]
        for p in procs:
            p.start()
        wins = [out.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(60)
        assert sum(wins) == 1, wins
        assert store.current() is None


def test_claim_does_not_take_an_action_put_in_its_place(tmp_path: Path) -> None:
    store = PendingStore(connect(tmp_path / "b.sqlite3"))
    store.put(DeleteEvent(uid="old", event_start=ASKED_ABOUT), 30)
    old = store.current().created
    time.sleep(0.01)
    store.put(DeleteEvent(uid="new", event_start=ASKED_ABOUT), 30)  # another process asked something else meanwhile
    assert store.claim(old) is None
    assert store.current().action == DeleteEvent(uid="new", event_start=ASKED_ABOUT)


@pytest.mark.slow
def test_daemon_and_cli_answering_together_delete_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # each `ask` loads and warms its models before its turn (the daemon's start-up), which on a loaded
    # machine can outlast the default 30 s answer window: this test is about the atomic claim, not expiry
    env = {**os.environ, "BANTZ_BRAIN__CONFIRMATION_TIMEOUT_S": "900"}

    def ask(*texts: str) -> list[subprocess.Popen[str]]:
        return [subprocess.Popen([sys.executable, "-m", "bantz_voice", "ask", t, "--rules-only", "--json",
                                  "--now", "2026-11-26T10:00"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=env) for t in texts]

    def results(procs: list[subprocess.Popen[str]]) -> list[dict]:
        out = []
        for p in procs:
            stdout, stderr = p.communicate(timeout=180)
            assert p.returncode == 0, stderr
            out.append(json.loads(stdout))
        return out

    results(ask("yarın saat üçte doktor randevusu ekle"))
    assert results(ask("yarınki doktor randevusunu sil"))[0]["requires_confirmation"]
    answers = results(ask("evet", "evet", "evet", "evet"))
    replies = [a["reply"] for a in answers]
    assert sum(r.startswith("Sildim") for r in replies) == 1, replies
    assert all(r.startswith("Sildim") or r in (REPLY_NO_PENDING, REPLY_ALREADY_ANSWERED) for r in replies), replies
    assert titles(load_settings()) == []


def test_background_utterance_that_began_before_the_window_is_ignored() -> None:
    """The gate asks when *this* utterance began: a TV that keeps talking starts a new utterance
    inside the window before the old one is decoded, and must not lend it its start time (the
    utterance travels with its own turn; the pipeline-level race is in tests/test_voice_turn.py)."""
    s = Settings()
    d = Daemon(s, "echo", Notifier(""))
    d.earcons.enabled = False
    d.attach(VoicePipeline(s, transcriber=None, tts=None, responder=EchoResponder(), sink_factory=WavSink))
    t0 = time.monotonic()
    d.gate.open_follow_up()  # the reply was just played

    def utt(at: float) -> Utterance:
        return Utterance(np.zeros(1600, np.int16), start_t=at - 0.3, speech_start=at, speech_end=at + 0.5)

    newer = utt(t0 + 0.5)  # the newest speech_start: inside the window
    older = utt(t0 - 1.0)  # but the utterance being gated began before it
    assert d.voice_gate.peek(older, "Evet.").text is None
    assert d.voice_gate.gate(older, "Evet.").text is None
    assert d.voice_gate.gate(newer, "Evet.").text == "Evet."


@pytest.mark.slow
async def test_real_whisper_confidence_reaches_the_brain(whisper, piper) -> None:
    """With the real Whisper, a second voice saying "evet" far from the microphone under noise
    carries its own log-probability and speech start to the responder; the delete is executed
    only when the brain's rule allows it, whatever the transcript was on this machine."""
    s = brain_settings(rules_only=True)
    s.vad.speculative_asr = False
    brain = Brain(s)
    try:
        await turn(brain, "yarın saat üçte doktor randevusu ekle")
        r = await turn(brain, "yarınki doktor randevusunu sil")
        asked_at = brain.pending.current().created
        assert r.result.requires_confirmation
        seen: list[TurnRequest] = []

        class Spy:
            """The real brain; keeps each request it answers."""

            def respond(self, request: TurnRequest):
                seen.append(request)
                return brain.respond(request)

            async def aclose(self) -> None:
                return None

        voice = piper.synthesize("Evet.")
        from bantz_voice.audio.wavio import resample

        voice = resample(voice, piper.sample_rate, 16000).astype(np.float32) * 0.15  # far away
        rng = np.random.default_rng(14)
        noise = rng.standard_normal(16000 * 3).astype(np.float32) * 2500  # a loud room
        mix = noise.copy()
        mix[8000 : 8000 + len(voice)] += voice
        audio = np.clip(mix, -32768, 32767).astype(np.int16)
        p = VoicePipeline(s, transcriber=whisper, tts=piper, responder=Spy(), sink_factory=WavSink)
        await p.listen(FileSource(audio, fast=True), sink=WavSink(None), use_filter=False)
        for req in seen:
            assert req.heard is not None and req.heard.started_at >= asked_at
            assert -10.0 <= req.heard.avg_logprob <= 0.0
        deleted = titles(s) == []
        allowed = any(
            req.result.source == "confirmation" and req.heard.avg_logprob >= s.brain.confirm_min_logprob for req in seen
        )
        assert deleted == allowed, [(r.text, r.heard) for r in seen]
    finally:
        await brain.aclose()
