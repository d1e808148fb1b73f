"""A timer set by another process (as ``bantz-voice ask`` does) is fired by the daemon as a real
process and spoken on the private PulseAudio's speaker: earcon and Turkish sentence, then recorded
as fired in the shared state file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bantz_voice.daemon import client
from bantz_voice.timers.store import TimerStore

pytestmark = [pytest.mark.audio, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
SPEAKER_RATE = 22050


def voiced_seconds(x, rate: int = SPEAKER_RATE, win_ms: int = 50, floor: float = 0.01) -> float:
    import numpy as np

    n = rate * win_ms // 1000
    if x.size < n:
        return 0.0
    w = x[: x.size // n * n].astype(np.float32).reshape(-1, n) / 32768.0
    return float((np.sqrt((w * w).mean(axis=1)) > floor).sum() * win_ms / 1000)


def test_daemon_speaks_a_timer_set_from_another_process(pulse) -> None:
    root = Path(tempfile.mkdtemp(prefix="bantz-alarm-test-"))
    for name in ("config", "data", "state", "cache", "runtime"):
        (root / name).mkdir(mode=0o700)
    (root / "config" / "bantz.yaml").write_text("reminders:\n  ring_repeats: 1\n")
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "STATE", "CACHE", "RUNTIME"):
        env[f"BANTZ_{name}_DIR"] = str(root / name.lower())
    env.update(PYTHONUNBUFFERED="1", BANTZ_LOGGING__LEVEL="INFO")
    env.pop("NOTIFY_SOCKET", None)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # no session bus: the daemon runs without one
    log = root / "daemon.log"
    sock = root / "runtime" / "control.sock"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bantz_voice", "run", "--responder", "echo"], cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "daemon not ready"
            try:
                if client.call(sock, "status", None, timeout=5).get("ready"):
                    break
            except (client.DaemonError, client.DaemonNotRunning):
                pass  # the control socket is not up yet
            time.sleep(0.2)
        rec = pulse.start_recording()
        TimerStore(root / "state" / "timers.json").add(2.0, "çay")  # written as `ask` writes it
        deadline = time.monotonic() + 60
        while True:
            st = client.call(sock, "status", None, timeout=5)["alarms"]
            if st["spoken"] >= 1:
                break
            assert time.monotonic() < deadline, f"not spoken: {st}\n{log.read_text(errors='replace')[-3000:]}"
            time.sleep(0.1)
        time.sleep(0.5)
        audio = rec.stop()
        assert voiced_seconds(audio) >= 1.0  # an earcon is ~0.6 s: a sentence was spoken after it
        (timer,) = TimerStore(root / "state" / "timers.json").all()
        assert timer.fired
    finally:
        proc.terminate()
        proc.wait(20)
        if proc.returncode == 0:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"daemon log kept: {log}")
