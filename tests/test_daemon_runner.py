"""Daemon internals with real sockets: watchdog gating, listening-loop restarts, gating, the
no-microphone demo of ``bantz-voice run``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import wave
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from fixtures.daemon import NotifyListener, daemon_env, start_daemon

from bantz_voice.audio.vad import Utterance
from bantz_voice.config import load_settings
from bantz_voice.daemon import client
from bantz_voice.daemon.notify import Heartbeat, Notifier
from bantz_voice.daemon.runner import Daemon
from bantz_voice.voice.events import TurnFinished
from bantz_voice.voice.gate import GateDecision
from bantz_voice.voice.turn import Turn

REPO = Path(__file__).resolve().parent.parent


async def test_watchdog_pings_only_while_audio_flows(tmp_path: Path) -> None:
    listener = NotifyListener(tmp_path / "notify.sock")
    d = Daemon(load_settings(), "echo", Notifier(str(tmp_path / "notify.sock")))
    d.heartbeat = Heartbeat(0.3)
    d.ready = True
    task = asyncio.create_task(d._watchdog(0.05))
    try:
        for _ in range(6):  # audio flowing
            d.heartbeat.beat()
            await asyncio.sleep(0.05)
        assert listener.fresh().count("WATCHDOG=1") >= 3
        await asyncio.sleep(0.45)  # the loop is stuck: no beats
        listener.fresh()
        await asyncio.sleep(0.3)
        assert "WATCHDOG=1" not in listener.fresh()
        d.heartbeat.beat()  # it recovers
        await asyncio.sleep(0.15)
        assert "WATCHDOG=1" in listener.fresh()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_listen_loop_restarted_after_failure() -> None:
    calls = []

    class Flaky:
        async def listen(self, source, on_event=None):
            calls.append(1)
            if len(calls) < 3:
                raise RuntimeError("device exploded")
            await asyncio.sleep(3600)

    d = Daemon(load_settings(), "echo", Notifier(""))
    d.pipeline = Flaky()
    task = asyncio.create_task(d._listen(SimpleNamespace(rate=16000, frame_ms=30)))
    try:
        for _ in range(100):
            if len(calls) >= 3:
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(calls) == 3
    assert "device exploded" in (d.last_error or "")


def _utt(at: float | None = None) -> Utterance:
    t = time.monotonic() if at is None else at
    return Utterance(np.zeros(1600, np.int16), start_t=t - 0.3, speech_start=t, speech_end=t + 0.1)


def _finished(d: Daemon, turn: Turn) -> None:
    d.on_turn_finished(TurnFinished(turn))


def test_gate_ignored_text_not_kept_and_failed_turn_counted() -> None:
    d = Daemon(load_settings(), "echo", Notifier(""))
    d.earcons.enabled = False
    assert d.voice_gate.gate(_utt(), "saat kaç").text is None
    assert d.ignored == 1 and not d.last_turns
    decision = d.voice_gate.gate(_utt(), "Bantz, saat kaç")
    assert decision.text == "saat kaç" and decision.mode == "wake_word"
    failed = Turn("voice", utterance=_utt(), decision=decision, error="tur başarısız: ValueError: x")
    failed.result.route = "echo"
    _finished(d, failed)
    assert d.turns == 1 and d.turns_failed == 1 and d.last_error.startswith("tur başarısız")
    assert d.last_turns[-1]["mode"] == "wake_word"
    assert not d.gate.follow_up_open  # nothing was said to the user: no follow-up window
    ok = Turn("ptt", utterance=_utt(), decision=GateDecision("saat kaç", "ptt"))
    ok.result.reply = "Saat on."
    ok.trace.mark("playback_start")
    _finished(d, ok)
    assert d.last_turns[-1]["mode"] == "ptt" and d.gate.follow_up_open
    ignored = Turn("voice", utterance=_utt(), decision=GateDecision(None, "ignored"), ignored=True)
    _finished(d, ignored)
    assert d.turns == 2  # an ignored utterance is not a turn
    assert "saat" not in str(d.status())  # transcripts are never part of the status


def test_follow_up_window_opens_after_a_spoken_apology_not_after_silence_or_a_barge_in() -> None:
    """Issue 11: after "Bantz, …" answered with a spoken Turkish apology (an LLM timeout) the user
    answers without the wake word, as after any reply; after nothing was said, or a reply the
    user cut off, the wake word is needed again."""
    d = Daemon(load_settings(), "echo", Notifier(""))
    d.earcons.enabled = False
    d.alarms.on_error = lambda _e: None

    def turn(*, error: str | None, reply: str, played: bool, interrupted: bool = False) -> bool:
        d.gate.close_follow_up()
        t = Turn("voice", utterance=_utt(), decision=GateDecision("x", "wake_word"), interrupted=interrupted)
        t.result.error, t.result.reply, t.result.route = error, reply, "unknown"
        if played:
            t.trace.mark("playback_start")
        _finished(d, t)
        return d.gate.follow_up_open

    apology = "Şu an yanıt veremiyorum, biraz sonra tekrar dener misin?"
    assert turn(error="llm_timeout", reply=apology, played=True)
    assert d.turns_failed == 1  # still counted as a failed turn, with its error earcon
    assert d.gate.decide("peki yarın ne var", commit=False).reason == "follow_up"
    assert turn(error=None, reply="Hangi gün için?", played=True)  # a question back
    assert not turn(error="asr_dropped", reply="", played=False)  # nothing was said
    assert not turn(error="tts", reply=apology, played=False)  # never reached the speaker
    assert not turn(error=None, reply="Saat on.", played=True, interrupted=True)  # cut off by the user
    assert d.gate.decide("peki yarın ne var").reason == "ignored"


@pytest.mark.slow
def test_run_without_microphone_runs_demo_turn(tmp_path: Path) -> None:
    env = daemon_env(tmp_path, notify=None, mic_wait_s=None)  # no sound server, no NOTIFY_SOCKET: not a service
    res = subprocess.run(
        [sys.executable, "-m", "bantz_voice", "run", "--responder", "echo"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
    )
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("Mikrofon yok (mikrofon bulunamadı"), res.stdout
    assert any(ln.startswith("Duyulan: ") and len(ln) > len("Duyulan: ") + 3 for ln in lines), res.stdout
    assert any(ln.startswith("Yanıt: Şunu duydum") for ln in lines), res.stdout
    out = Path(next(ln for ln in lines if ln.startswith("Sesli yanıt: ")).split(": ", 1)[1])
    assert out.parent == Path(env["BANTZ_CACHE_DIR"])
    with wave.open(str(out), "rb") as wf:
        x = np.frombuffer(wf.readframes(wf.getnframes()), dtype=np.int16).astype(np.float32) / 32768
        rate = wf.getframerate()
    assert len(x) / rate > 0.8 and float(np.sqrt(np.mean(x * x))) > 0.01  # audible speech
    assert "Traceback" not in res.stderr


@pytest.mark.slow
def test_service_without_microphone_gets_ready_and_keeps_looking(tmp_path: Path) -> None:
    """Under systemd (NOTIFY_SOCKET) with no microphone the service still comes up after
    daemon.mic_wait_s: READY with a status that says so; `status` shows the missing mic."""
    d = start_daemon(tmp_path, "echo", mic_wait_s=1)
    try:
        ready = d.wait_ready(180)
        assert "STATUS=mikrofon yok" in ready
        st = client.call(d.socket, "status")
        assert st["ready"] and not st["microphone"]["ok"]
        assert d.stop(10) == 0
    finally:
        d.close()
