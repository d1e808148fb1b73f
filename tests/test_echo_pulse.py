"""Echo-safe barge-in on the private PulseAudio server with an acoustic echo path: the speaker's
monitor is looped back into the microphone (module-loopback, attenuated, delayed) beside the
user's voice (``PulseServer.load_echo_path``). The real loop (MicSource -> VAD -> Whisper -> Piper ->
Player) speaks long replies; ``bantz-voice audio setup-echo-cancel`` loads the server's WebRTC
echo canceller. Waits on the loop's own state (the guard's decision, the turn's outcome)."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_voice_e2e import Loop

from bantz_voice.audio import aec_setup
from bantz_voice.audio.player import Player
from bantz_voice.audio.source import MicSource
from bantz_voice.bench.pulse import PulseServer
from bantz_voice.config import Settings
from bantz_voice.pipeline import VoicePipeline
from bantz_voice.responder import EchoResponder
from bantz_voice.voice.turn import Turn

pytestmark = [pytest.mark.audio]

REPO = Path(__file__).resolve().parent.parent
HAVA = Path(__file__).parent / "data" / "tr_bantz_hava.wav"
LONG_REPLY = "Bugün takviminizde çok sayıda etkinlik var. " + " ".join(
    f"{i}. etkinlik saat {9 + i} sularında, toplantı odasında yapılacak." for i in range(1, 8)
)


@pytest.fixture
def echo_path(pulse: PulseServer, tmp_path: Path) -> Iterator[PulseServer]:
    """A private server of this test's own (module loads and default changes never reach the
    session's server), with the echo path; this process's PortAudio points at it meanwhile."""
    with PulseServer(tmp_path / "pulse").serving() as srv:
        srv.load_echo_path(gain=0.5, delay_ms=50)
        yield srv


@pytest.fixture
def restore_defaults() -> Iterator[None]:
    yield


async def _until(pred: Callable[[], bool], timeout: float, what: str, task: asyncio.Task | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        if task is not None and task.done():
            task.result()
            raise AssertionError(f"the reply ended before {what}")
        await asyncio.sleep(0.05)


def _pipeline(whisper, piper) -> VoicePipeline:
    p = VoicePipeline(Settings(), transcriber=whisper, tts=piper, responder=EchoResponder())
    p.sink_factory = lambda: Player(None, keep_open=True)
    return p


@pytest.mark.slow
async def test_echo_disables_barge_in_then_headset_re_enables_it(echo_path: PulseServer, whisper, piper, caplog) -> None:
    caplog.set_level(logging.INFO, logger="bantz_voice.audio.bargein")
    p = _pipeline(whisper, piper)
    async with Loop(p, MicSource(None)):
        # loudspeakers without echo cancellation: the reply plays to its end, barge-in goes off
        first = await asyncio.wait_for(p.speak(LONG_REPLY), 120)
        assert first is not None and not first.interrupted and first.error is None
        assert p.barge_in.state == "echo" and not p.barge_in.allowed
        st = p.barge_in.status()
        assert st["enabled"] is False and "yankı" in str(st["detail"])
        assert any("barge-in disabled" in r.getMessage() for r in caplog.records)
        # a headset is plugged in (the echo path goes): the next reply re-enables barge-in,
        # and the user talking over it stops it
        echo_path.unload_echo_path()
        second: asyncio.Task[Turn | None] = asyncio.create_task(p.speak(LONG_REPLY))
        await _until(lambda: p.barge_in.state == "clean", 60, "barge-in to be re-enabled", second)
        assert any("barge-in re-enabled" in r.getMessage() for r in caplog.records)
        await asyncio.to_thread(echo_path.play, HAVA)
        outcome = await asyncio.wait_for(second, 60)
        assert outcome is not None and outcome.interrupted


@pytest.mark.slow
async def test_with_echo_cancel_no_self_interruption_and_the_user_still_interrupts(
    echo_path: PulseServer, restore_defaults: None, whisper, piper
) -> None:
    report = aec_setup.setup(make_default=True)
    assert not report.already
    p = _pipeline(whisper, piper)
    async with Loop(p, MicSource(None)):
        reply: asyncio.Task[Turn | None] = asyncio.create_task(p.speak(LONG_REPLY))
        await _until(lambda: p.state == "speaking", 60, "speaking", reply)
        await _until(lambda: sum(p.barge_in.windows.values()) >= 10, 30, "the guard to look at 1.5 s of the reply", reply)
        assert p.barge_in.state != "echo", p.barge_in.status()
        await asyncio.to_thread(echo_path.play, HAVA)
        outcome = await asyncio.wait_for(reply, 60)
        assert outcome is not None and outcome.interrupted
        assert p.barge_in.state != "echo"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "bantz_voice", "audio", "setup-echo-cancel", *args],
                          capture_output=True, text=True, env=full, cwd=REPO, timeout=60)


def _defaults(pulse: PulseServer) -> tuple[str, str]:
    info = {k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in pulse.pactl("info").stdout.splitlines() if ":" in ln)}
    return info["Default Source"], info["Default Sink"]


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[PulseServer]:
    """A server of its own (the session's stays untouched by module loads and default changes)."""
    from bantz_voice.bench.pulse import missing_tools

    if missing_tools():
        pytest.skip("PulseAudio not installed")
    srv = PulseServer(tmp_path / "pulse")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def test_setup_echo_cancel_cli_loads_reports_and_undoes(own_server: PulseServer) -> None:
    srv, env = own_server, own_server._child_env()
    before = _defaults(srv)
    res = _cli(env=srv.env)
    assert res.returncode == 0, res.stderr
    mid = aec_setup.loaded_module(env)
    assert mid is not None
    assert f"pactl unload-module {mid}" in res.stdout and "aec_method=webrtc" in res.stdout
    assert _defaults(srv) == before  # nothing else changed
    again = _cli(env=srv.env)
    assert again.returncode == 0 and "zaten yüklü" in again.stdout and aec_setup.loaded_module(env) == mid
    made = _cli("--default", env=srv.env)
    assert made.returncode == 0
    assert _defaults(srv) == (aec_setup.SOURCE_NAME, aec_setup.SINK_NAME)
    assert f"pactl set-default-source {before[0]}" in made.stdout
    undone = _cli("--undo", env=srv.env)
    assert undone.returncode == 0 and aec_setup.loaded_module(env) is None


def test_setup_echo_cancel_refuses_without_pactl_or_module(own_server: PulseServer) -> None:
    srv, env = own_server, own_server._child_env()
    modules = srv.pactl("list", "short", "modules").stdout
    res = _cli(env={**srv.env, "PATH": "/nonexistent"})
    assert res.returncode != 0 and "pactl bulunamadı" in res.stderr and "Traceback" not in res.stderr
    with pytest.raises(aec_setup.EchoCancelError, match="Hiçbir şey değiştirilmedi"):
        aec_setup.setup(module="module-bantz-olmayan-modul", env=env)
    assert srv.pactl("list", "short", "modules").stdout == modules
