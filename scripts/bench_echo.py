#!/usr/bin/env python3
"""Echo-safe barge-in, measured on the unmodified daemon with loudspeakers (an acoustic echo path).

    python scripts/bench_echo.py [--replies 20] [--barge 20] [--json | --markdown]
    python scripts/bench_echo.py --quick          # smoke test: 2 replies, 2 barge-ins per setup

Rig (everything on a private PulseAudio server started for the run: the user's sound server,
configuration and data are never touched): ``bantz_voice.bench.pulse.PulseServer`` in its "room"
layout (``room.monitor``: left = what the microphone hears, right = what the speaker plays, one
capture clock) plus ``load_echo_path``: the speaker's monitor looped back into the microphone
(module-loopback, gain 0.5 = -6 dB, latency 50 ms), beside the user's voice played into the
microphone with paplay. The daemon is ``python -m bantz_voice run`` with the echo responder (no LLM
needed: the replies are ``say`` requests through the voice loop's own turn path).

Set-ups, each with a fresh daemon:

- ``no_guard``: no echo cancellation, ``audio.echo_guard: false`` (the barge-in decision before the
  guard: webrtcvad + level against the output only);
- ``guard``: no echo cancellation, the echo guard on (the default);
- ``aec``: ``bantz-voice audio setup-echo-cancel --default`` run against the private server first
  (PulseAudio's module-echo-cancel, WebRTC AEC), the guard on.

Per set-up (barge-ins first: each waits for the follow-up window to close, so the user's words
are never answered):

1. Barge-in: ``--barge`` long replies with the user talking over each one (an espeak-ng Turkish
   utterance without the wake word played into the microphone 1.0-2.0 s after the reply started).
   From the room recording: the user's voice onset = the first voiced sample of the utterance
   (webrtcvad) placed where the microphone line heard it (cross-correlation), the stop = the start
   of the speaker's final silence (below -45 dBFS to the end of the recording); latency = stop -
   onset. A trial is a hit when the daemon logged the barge-in and the latency is at most
   ``--within`` (0.5 s); a stop before the onset is the reply interrupting itself. Replies not
   stopped within 3 s are cancelled (``cancel``).
2. Self-interruptions: ``--replies`` long replies (``say``), nobody talking; a self-interruption is
   a reply the daemon stopped by barge-in (its ``barge-in`` log line).
3. The echo guard's decision from ``status`` (``barge_in``) after each part.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "scripts"))

from bench_daemon import CONTROL_ERRORS, DaemonProcess, cpu_model, estimate_delay, frame_features, last_voiced_sample  # noqa: E402
from make_bench_wavs import render  # noqa: E402

from bantz_voice.bench.pulse import PulseServer, missing_tools, read_pcm_wav  # noqa: E402
from bantz_voice.bench.stats import p50_p95  # noqa: E402
from bantz_voice.daemon import client  # noqa: E402

RATE = 16000
LONG_REPLY = (
    "Bugün takviminizde çok sayıda etkinlik var. Sabah dokuzda ekip toplantısı, on birde müşteri görüşmesi, "
    "öğlen yemekten sonra proje sunumu, akşamüstü de spor salonu. Yarın için iki etkinlik daha görünüyor."
)
USER_TEXT = "Dur bir dakika, başka bir şey soracağım."  # no wake word: never answered (follow-ups waited out)
SILENT_DBFS = -45.0
BARGE_LINE = "barge-in"
SETUPS = ("no_guard", "guard", "aec")


class Room:
    """parecord of ``room.monitor`` in stereo (left: microphone line, right: speaker) at 16 kHz."""

    def __init__(self, pulse: PulseServer, path: Path) -> None:
        self.path = path
        self.proc = subprocess.Popen(
            ["parecord", f"--device={pulse.room_monitor}", "--file-format=wav", f"--rate={RATE}", "--channels=2",
             "--format=s16le", "--latency-msec=20", str(path)],
            env=pulse._child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def stop(self) -> tuple[np.ndarray, np.ndarray]:
        import signal
        import wave

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            with wave.open(str(self.path), "rb") as wf:
                raw = wf.readframes(wf.getnframes())
        except (wave.Error, EOFError, FileNotFoundError):
            return np.zeros(0, np.int16), np.zeros(0, np.int16)
        x = np.frombuffer(raw[: len(raw) // 4 * 4], dtype="<i2").reshape(-1, 2)
        return x[:, 0].copy(), x[:, 1].copy()


def final_silence_start(x: np.ndarray, min_s: float = 0.8) -> float | None:
    """Seconds where the speaker went quiet for good (None: loud at the end, or too short a tail)."""
    db, _ = frame_features(x, RATE)
    if db.size == 0:
        return None
    loud = np.flatnonzero(db > SILENT_DBFS)
    if loud.size == 0:
        return None
    end = (loud[-1] + 1) * 0.01 + 0.01  # 10 ms hops, 20 ms windows
    return end if x.size / RATE - end >= min_s else None


class Bench:
    def __init__(self, root: Path, args: argparse.Namespace) -> None:
        self.root = root
        self.args = args
        self.user_wav = render(USER_TEXT, 160, root / "user.wav", pad=(0.0, 0.2))
        self.user = read_pcm_wav(self.user_wav)
        self.user_onset = next((i for i in range(0, self.user.size, 480) if last_voiced_sample(self.user[: i + 480]) > 0), 0)

    # -- one set-up --------------------------------------------------------------------------
    def run_setup(self, name: str) -> dict[str, Any]:
        root = self.root / name
        pulse = PulseServer(root / "pulse", room=True)
        daemon = DaemonProcess(root / "daemon", pulse)
        daemon.env.update(BANTZ_BRAIN__RESPONDER="echo", BANTZ_LOGGING__LEVEL="INFO")
        if name == "no_guard":
            daemon.env["BANTZ_AUDIO__ECHO_GUARD"] = "false"
        out: dict[str, Any] = {"setup": name}
        try:
            pulse.start()
            pulse.load_echo_path(gain=self.args.gain, delay_ms=self.args.delay_ms)
            if name == "aec":
                env = dict(os.environ)
                env.update(pulse.env)
                res = subprocess.run([sys.executable, "-m", "bantz_voice", "audio", "setup-echo-cancel", "--default"],
                                     capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
                if res.returncode != 0:
                    raise RuntimeError(f"setup-echo-cancel failed: {res.stderr.strip()}")
                out["setup_output"] = res.stdout.strip().splitlines()
            daemon.start()
            daemon.wait_ready(self.args.ready_timeout)
            daemon.new_log_lines()
            out["barge_in"] = self.barge_ins(daemon, pulse, root)
            out["guard_after_barge_ins"] = daemon.status().get("barge_in")
            out["self_interruptions"] = self.self_interruptions(daemon)
            out["guard_at_end"] = daemon.status().get("barge_in")
            out["daemon_log_echo_lines"] = [ln.split("] ", 1)[-1] for ln in daemon.log.read_text(errors="replace").splitlines()
                                            if "echo:" in ln][:6]
        finally:
            daemon.stop()
            pulse.stop()
        return out

    def _wait(self, daemon: DaemonProcess, pred: Any, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        st: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                st = daemon.status(timeout=5)
            except CONTROL_ERRORS:
                time.sleep(0.05)
                continue
            if pred(st):
                return st
            time.sleep(0.05)
        raise TimeoutError(f"daemon state {st.get('state')!r}")

    def _quiet(self, daemon: DaemonProcess, follow_up_closed: bool = False) -> None:
        self._wait(daemon, lambda s: s["state"] in ("idle", "listening") and not (follow_up_closed and s.get("follow_up_open")), 60)
        time.sleep(0.5)

    def self_interruptions(self, daemon: DaemonProcess) -> dict[str, Any]:
        stopped = 0
        for _ in range(self.args.replies):
            self._quiet(daemon)
            daemon.new_log_lines()
            client.call(daemon.socket, "say", {"text": LONG_REPLY}, timeout=10)
            self._wait(daemon, lambda s: s["state"] == "speaking", 30)
            self._wait(daemon, lambda s: s["state"] != "speaking", 90)
            if any(BARGE_LINE in ln for ln in daemon.new_log_lines()):
                stopped += 1
        return {"replies": self.args.replies, "self_interrupted": stopped}

    def barge_ins(self, daemon: DaemonProcess, pulse: PulseServer, root: Path) -> dict[str, Any]:
        rng = random.Random(15)
        latencies: list[float] = []
        hits = detected = early = 0
        trials: list[dict[str, Any]] = []
        for i in range(self.args.barge):
            self._quiet(daemon, follow_up_closed=True)
            daemon.new_log_lines()
            rec = Room(pulse, root / f"barge{i}.wav")
            time.sleep(0.3)
            client.call(daemon.socket, "say", {"text": LONG_REPLY}, timeout=10)
            self._wait(daemon, lambda s: s["state"] == "speaking", 30)
            time.sleep(rng.uniform(1.0, 2.0))
            pulse.play(self.user_wav)
            try:
                self._wait(daemon, lambda s: s["state"] != "speaking", 3.0)
            except TimeoutError:
                client.call(daemon.socket, "cancel", timeout=10)
            time.sleep(1.5)
            mic, spk = rec.stop()
            barged = any(BARGE_LINE in ln for ln in daemon.new_log_lines())
            lag, peak = estimate_delay(mic, self.user)
            onset = (lag + self.user_onset) / RATE if peak > 0.3 else None
            stop = final_silence_start(spk)
            latency = round(stop - onset, 3) if (barged and onset is not None and stop is not None) else None
            if latency is not None and latency < 0:  # stopped before the user spoke: a self-interruption
                early += 1
                latency = None
            detected += barged
            if latency is not None:
                latencies.append(latency * 1000)
                hits += latency <= self.args.within
            trials.append({"barged": barged, "latency_s": latency, "onset_peak": round(peak, 2)})
        n = max(1, self.args.barge)
        return {
            "trials": self.args.barge,
            "stopped_by_barge_in": detected,
            "stopped_before_the_user_spoke": early,
            f"within_{self.args.within}s": hits,
            "rate_within": round(hits / n, 3),
            "latency_ms": p50_p95(latencies),
            "latency_ms_max": round(max(latencies), 1) if latencies else None,
            "per_trial": trials,
        }


def run(args: argparse.Namespace) -> dict[str, Any]:
    missing = missing_tools() + [t for t in ("espeak-ng", "sox") if shutil.which(t) is None]
    if missing:
        raise SystemExit(f"needed: {', '.join(missing)}")
    root = Path(tempfile.mkdtemp(prefix="bantz-bench-echo-"))
    bench = Bench(root, args)
    results = [bench.run_setup(name) for name in args.setups]
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "command": "python scripts/bench_echo.py " + " ".join(sys.argv[1:]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "echo_path": {"gain": args.gain, "loopback_latency_ms": args.delay_ms},
        "setups": results,
    }


def render_markdown(r: dict[str, Any]) -> str:
    lines = [
        f"Command: `{r['command']}` · {r['date']} · {r['machine']} · echo path: gain {r['echo_path']['gain']}, "
        f"loopback latency {r['echo_path']['loopback_latency_ms']} ms",
        "",
        "| set-up | self-interruptions (long replies) | barge-in stopped the reply | within 0.5 s | latency p50 / p95 ms | guard's decision |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in r["setups"]:
        si, b = s["self_interruptions"], s["barge_in"]
        g = s.get("guard_at_end") or {}
        lat = b["latency_ms"]
        lines.append(
            f"| {s['setup']} | {si['self_interrupted']} / {si['replies']} | {b['stopped_by_barge_in']} / {b['trials']} | "
            f"{b['rate_within']:.0%} | {lat['p50']} / {lat['p95']} | {g.get('echo')} (barge-in {'on' if g.get('enabled') else 'off'}, "
            f"corr {g.get('correlation')}, delay {g.get('delay_ms')} ms) |"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replies", type=int, default=20, help="long replies per set-up with nobody talking")
    p.add_argument("--barge", type=int, default=20, help="long replies per set-up with the user talking over them")
    p.add_argument("--setups", nargs="+", choices=SETUPS, default=list(SETUPS))
    p.add_argument("--within", type=float, default=0.5, help="barge-in latency that counts as a hit (s)")
    p.add_argument("--gain", type=float, default=0.5, help="echo path gain (linear)")
    p.add_argument("--delay-ms", type=int, default=50, help="echo path loopback latency")
    p.add_argument("--ready-timeout", type=float, default=300)
    p.add_argument("--quick", action="store_true", help="2 replies and 2 barge-ins per set-up")
    p.add_argument("--keep", action="store_true", help="keep the recordings and daemon logs")
    p.add_argument("--json", action="store_true")
    p.add_argument("--markdown", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.replies, args.barge = 2, 2
    r = run(args)
    if args.json:
        print(json.dumps(r, ensure_ascii=False, indent=2))
    elif args.markdown:
        print(render_markdown(r))
    else:
        print(json.dumps(r, ensure_ascii=False, indent=2))
        print(render_markdown(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
