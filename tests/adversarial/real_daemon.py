"""The real daemon for the adversarial suite: ``python -m bantz_voice run --responder echo`` with
private directories, no sound server (so no microphone: it comes up after ``mic_wait_s`` and keeps
looking, as under systemd) and a private NOTIFY_SOCKET to wait for READY=1 on. A test module
imports the ``echo_daemon`` fixture from here (a helper module, not a conftest: this directory is
no package, its modules import each other by plain name)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bantz_voice.daemon import client

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 240.0  # loading Whisper and Piper on a busy CI machine


def proc_stats(pid: int) -> dict[str, int]:
    """RSS (kB), open file descriptors and threads of a process, from /proc."""
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return {
        "rss_kb": rss,
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": len(os.listdir(f"/proc/{pid}/task")),
    }


def daemon_env(root: Path, notify: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "STATE", "CACHE", "RUNTIME"):
        d = root / name.lower()
        d.mkdir(mode=0o700, exist_ok=True)
        env[f"BANTZ_{name}_DIR"] = str(d)
    env.update(
        PULSE_SERVER=f"unix:{root}/no-such-server",
        BANTZ_AUDIO__INPUT_DEVICE="bantz-test-no-such-microphone",
        BANTZ_DAEMON__MIC_WAIT_S="0",
        BANTZ_DAEMON__EARCONS="false",
        NOTIFY_SOCKET=str(notify),
    )
    env.pop("WATCHDOG_USEC", None)
    return env


@dataclass
class RunningDaemon:
    proc: subprocess.Popen[bytes]
    socket: Path
    env: dict[str, str]
    root: Path
    log: Path

    def call(self, kind: str, data: dict[str, Any] | None = None, timeout: float = 10.0) -> dict[str, Any]:
        return client.call(self.socket, kind, data, timeout=timeout)

    def status_when_possible(self, deadline_s: float = 25.0) -> dict[str, Any]:
        """``status``, retried while the socket answers ``unavailable`` (all slots taken)."""
        deadline = time.monotonic() + deadline_s
        while True:
            reply = client.request(self.socket, "status", timeout=10.0)
            if reply.ok:
                return reply.data
            assert reply.data.get("code") == "unavailable", reply
            assert time.monotonic() < deadline, f"status refused for {deadline_s} s: {reply.data}"
            time.sleep(0.2)

    def stats(self) -> dict[str, int]:
        return proc_stats(self.proc.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None


def start_daemon(root: Path) -> RunningDaemon:
    notify = root / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify))
    listener.settimeout(1.0)
    env = daemon_env(root, notify)
    log = root / "daemon.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "bantz_voice", "run", "--responder", "echo"],
                                cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:  # wait for the READY=1 datagram (an event, not a sleep)
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "daemon not ready in time:\n" + log.read_text(errors="replace")
            try:
                msg = listener.recv(4096).decode()
            except TimeoutError:
                continue
            if msg.startswith("READY=1"):
                break
    finally:
        listener.close()
    return RunningDaemon(proc, Path(env["BANTZ_RUNTIME_DIR"]) / "control.sock", env, root, log)


def stop_daemon(d: RunningDaemon) -> None:
    if d.proc.poll() is None:
        d.proc.send_signal(signal.SIGTERM)
        try:
            d.proc.wait(15)
        except subprocess.TimeoutExpired:
            d.proc.kill()
            d.proc.wait(10)


@pytest.fixture(scope="module")
def echo_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDaemon]:
    d = start_daemon(tmp_path_factory.mktemp("daemon"))
    try:
        yield d
    finally:
        stop_daemon(d)
    assert "Traceback" not in d.log.read_text(errors="replace"), d.log.read_text(errors="replace")[-4000:]
