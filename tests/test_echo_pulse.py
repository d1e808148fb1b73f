"""Echo-safe barge-in on the private PulseAudio server with an acoustic echo path: the speaker's
monitor is looped back into the microphone (module-loopback, attenuated, delayed) beside the
user's voice (``PulseServer.load_echo_path``). The real loop (MicSource -> VAD -> Whisper -> Piper ->
Player) speaks long replies; ``bantz-voice audio setup-echo-cancel`` loads the server's WebRTC
echo canceller. Waits on the loop's own state (the guard's decision, the turn's outcome)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


def test_setup_echo_cancel_refuses_a_microphone_and_speaker_of_one_device(tmp_path: Path) -> None:
    """On the "room" layout the microphone and the speaker are remaps of one null sink (one IO
    thread): module-echo-cancel there wedges the whole PulseAudio server as soon as a client opens
    its source (a synchronous latency message to its own thread). setup refuses, with the reason,
    and changes nothing; the server keeps answering."""
    from bantz_voice.bench.pulse import missing_tools

    if missing_tools():
        pytest.skip("PulseAudio not installed")
    srv = PulseServer(tmp_path / "room", room=True)
    srv.start()
    try:
        env = srv._child_env()
        assert aec_setup.shared_device(srv.mic_source, srv.speaker, env) == srv.room_sink
        modules = srv.pactl("list", "short", "modules").stdout
        res = _cli("--default", env=srv.env)
        assert res.returncode != 0 and "Traceback" not in res.stderr
        assert "aynı ses aygıtının (room)" in res.stderr and "Hiçbir şey değiştirilmedi" in res.stderr
        assert srv.pactl("list", "short", "modules").stdout == modules
        assert _defaults(srv) == (srv.mic_source, srv.speaker)
        # a speaker of its own (another device, another thread): accepted
        srv.pactl("load-module", "module-null-sink", "sink_name=other_speaker", "rate=16000", "channels=1")
        assert aec_setup.shared_device(srv.mic_source, "other_speaker", env) is None
        ok = _cli("--sink-master", "other_speaker", env=srv.env)
        assert ok.returncode == 0, ok.stderr
    finally:
        srv.stop()


def test_plain_layout_microphone_and_speaker_are_separate_devices(own_server: PulseServer) -> None:
    assert aec_setup.shared_device(own_server.mic_source, own_server.speaker, own_server._child_env()) is None


def _source_outputs(srv: PulseServer) -> list[dict[str, Any]]:
    import json

    rows: list[dict[str, Any]] = json.loads(srv.pactl("--format=json", "list", "source-outputs").stdout)
    return rows


def _source_index(srv: PulseServer, name: str) -> int:
    import json

    return next(int(r["index"]) for r in json.loads(srv.pactl("--format=json", "list", "sources").stdout) if r["name"] == name)


@pytest.mark.slow
def test_daemon_listens_on_the_echo_cancelled_source(tmp_path: Path) -> None:
    """``bantz-voice audio setup-echo-cancel --default``, then the daemon (``bantz-voice run``, its
    own process and start-up): its only capture stream is on the echo-cancelled source, and an
    utterance played into the microphone reaches it through the canceller (end-pointed)."""
    from test_daemon_audio import DaemonProc, NotifyListener

    from bantz_voice.bench.pulse import missing_tools

    if missing_tools():
        pytest.skip("PulseAudio not installed")
    with PulseServer(tmp_path / "pulse").serving() as srv:
        srv.load_echo_path(gain=0.5, delay_ms=50)
        res = _cli("--default", env=srv.env)
        assert res.returncode == 0, res.stderr
        root = tmp_path / "daemon"
        for name in ("config", "data", "state", "cache", "runtime"):
            (root / name).mkdir(mode=0o700, parents=True)
        notify = NotifyListener(root / "notify.sock")
        env = {k: v for k, v in os.environ.items() if k not in ("PULSE_SOURCE", "PULSE_SINK", "WATCHDOG_PID", "WATCHDOG_USEC")}
        for name in ("CONFIG", "DATA", "STATE", "CACHE", "RUNTIME"):
            env[f"BANTZ_{name}_DIR"] = str(root / name.lower())
        env.update(srv.env, NOTIFY_SOCKET=str(notify.path), PYTHONUNBUFFERED="1", BANTZ_LOGGING__LEVEL="INFO")
        log = root / "daemon.log"
        with log.open("wb") as fh:
            proc = subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "bantz_voice", "run", "--responder", "echo"],
                                    cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT)
        d = DaemonProc(proc, root, notify, log)
        try:
            notify.wait_for("READY=1", timeout=180)
            st = d.wait(lambda s: bool(s["microphone"]["ok"]), 30, "the microphone to be open")
            aec = _source_index(srv, aec_setup.SOURCE_NAME)
            mine = [r for r in _source_outputs(srv) if str(r["properties"].get("application.process.id")) == str(proc.pid)]
            assert mine, f"the daemon has no capture stream: {_source_outputs(srv)}"
            assert {int(r["source"]) for r in mine} == {aec}, mine
            before = st["utterances"]
            srv.play(HAVA)
            d.wait(lambda s: s["utterances"] > before, 60, "the utterance through the echo canceller")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            notify.close()
            _cli("--undo", env=srv.env)


class _WedgedServerMic(MicSource):
    """SIMULATOR of a sound server that never answers an open (the deadlock above): ``_open``
    blocks until released; counts how many opens were started."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(None, **kw)
        self.release = threading.Event()
        self.opens = 0
        self.closed_late = threading.Event()

    def _open(self, queue: Any) -> tuple[Any, dict[str, bool]]:
        self.opens += 1
        self.release.wait(60)
        mic = self

        class _Stream:
            def abort(self, ignore_errors: bool = True) -> None:
                mic.closed_late.set()

            def close(self, ignore_errors: bool = True) -> None:
                pass

        return _Stream(), {"closed": False}


async def test_a_microphone_open_that_never_returns_is_reported_not_waited_for() -> None:
    statuses: list[tuple[bool, str]] = []
    reported = asyncio.Event()

    def on_status(ok: bool, msg: str) -> None:
        statuses.append((ok, msg))
        if len(statuses) >= 3:
            reported.set()

    mic = _WedgedServerMic(open_timeout_s=0.3, reconnect_initial_s=0.05, reconnect_max_s=0.1, on_status=on_status)

    async def pull() -> None:
        async for _ in mic.frames():
            pass

    task = asyncio.create_task(pull())
    try:
        await asyncio.wait_for(reported.wait(), 30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert not mic.connected
    assert "yanıt vermedi" in statuses[0][1] and all(not ok for ok, _ in statuses)
    assert any("hâlâ bekliyor" in m for _, m in statuses[1:])
    assert mic.opens == 1  # retries do not pile up threads behind the stuck open
    mic.release.set()  # the server answers at last: the late stream is closed, not leaked
    assert await asyncio.to_thread(mic.closed_late.wait, 30)
