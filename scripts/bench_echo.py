#!/usr/bin/env python3
"""Echo-safe barge-in, measured on the voice loop with loudspeakers (an acoustic echo path).

    python scripts/bench_echo.py [--replies 20] [--barge 20] [--json | --markdown]
    python scripts/bench_echo.py --quick          # smoke test: 2 replies, 2 barge-ins per set-up

Rig (a private PulseAudio server started for each set-up: the user's sound server, configuration
and data are never touched): ``bantz_voice.bench.pulse.PulseServer`` (the tests' virtual microphone
and speaker) plus ``load_echo_path``: the speaker's monitor looped back into the microphone
(module-loopback, gain 0.5 = -6 dB, latency 50 ms), beside the user's voice played into the
microphone with paplay. The loop is the product's: ``app.start_pipeline`` (Whisper, Piper, the echo
responder: no LLM needed, the replies are ``speak`` turns through the loop's own turn path) listening
on ``MicSource`` (the default source) and speaking through ``Player`` (the default sink, one stream
kept open), as the daemon runs it. This benchmark uses the tests' plain layout, not the stereo
"room" layout of ``bench_daemon.py``: there the microphone and the speaker are two remaps of ONE
null sink, so they run in one PulseAudio IO thread, and module-echo-cancel deadlocks the sound
server on that (its source side sends a synchronous latency message to its sink side's thread: the
same thread). ``setup-echo-cancel`` refuses such a pair now; the daemon process listening through
the echo-cancelled source is tested in tests/test_echo_pulse.py.

Set-ups:

- ``no_guard``: no echo cancellation, ``audio.echo_guard: false`` (the barge-in decision before the
  guard: webrtcvad + level against the output only);
- ``guard``: no echo cancellation, the echo guard on (the default);
- ``aec``: ``bantz-voice audio setup-echo-cancel --default`` run against the private server first
  (PulseAudio's module-echo-cancel, WebRTC AEC), the guard on.

Per set-up:

1. Barge-in: ``--barge`` long replies with the user talking over each one (an espeak-ng Turkish
   utterance played into the microphone 1.0-2.0 s after the reply started). The loop's microphone
   frames are recorded with their capture times; the user's voice onset = the first voiced sample
   of the utterance (webrtcvad) found in that recording by cross-correlation (when the echo
   canceller reshaped the voice so that it correlates under 0.2: the recording's first frame
   webrtcvad mode 3 calls speech — earlier than the voice when an echo residue is voiced, so the
   latency is then overstated, never understated); the stop = the last
   speaker callback that still delivered reply audio (``Player.last_audio_at``); latency = stop -
   onset, both on the process's monotonic clock (device buffers of a few tens of ms on either side
   are not included). A hit: the reply was interrupted and the latency is at most ``--within``
   (0.5 s); a reply stopped before the onset interrupted itself. Replies not stopped 3 s after the
   utterance are cancelled.
2. Self-interruptions: ``--replies`` long replies, nobody talking; a self-interruption is a reply
   the loop stopped by barge-in (``TurnOutcome.interrupted``).
3. The echo guard's decision (``status``'s ``barge_in``) after each part.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "scripts"))

from make_bench_wavs import render  # noqa: E402

from bantz_voice.bench import report  # noqa: E402
from bantz_voice.bench.harness import require_tools  # noqa: E402
from bantz_voice.bench.pulse import PulseServer, missing_tools, read_pcm_wav, reinit_portaudio  # noqa: E402
from bantz_voice.bench.signals import estimate_delay  # noqa: E402
from bantz_voice.bench.stats import p50_p95  # noqa: E402

RATE = 16000
LONG_REPLY = (
    "Bugün takviminizde çok sayıda etkinlik var. Sabah dokuzda ekip toplantısı, on birde müşteri görüşmesi, "
    "öğlen yemekten sonra proje sunumu, akşamüstü de spor salonu. Yarın için iki etkinlik daha görünüyor."
)
USER_TEXT = "Dur bir dakika, başka bir şey soracağım."
SETUPS = ("no_guard", "guard", "aec")


def first_voiced_sample(x: np.ndarray, mode: int = 2) -> int:
    import webrtcvad

    vad = webrtcvad.Vad(mode)
    for i in range(0, x.size - 480 + 1, 480):
        if vad.is_speech(x[i : i + 480].astype("<i2").tobytes(), RATE):
            return i
    return 0


def vad_first(x: np.ndarray) -> bool:
    import webrtcvad

    return x.size >= 480 and webrtcvad.Vad(3).is_speech(x[:480].astype("<i2").tobytes(), RATE)


def _ignore_all_gate() -> Any:
    from bantz_voice.voice.gate import Gate

    class _IgnoreAll(Gate):
        def hears(self, utterance: Any, *, final: bool) -> bool:
            return False

    return _IgnoreAll()


class TapSource:
    """The microphone source, its frames kept (with capture times) while ``recording``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.rate, self.frame_ms = inner.rate, inner.frame_ms
        self.recording = False
        self.tape: list[tuple[float, bytes]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def frames_iter(self) -> AsyncIterator[Any]:
        async for f in self.inner.frames():
            if self.recording:
                self.tape.append((f.t, f.pcm))
            yield f

    def frames(self) -> AsyncIterator[Any]:
        return self.frames_iter()


async def run_setup(name: str, args: argparse.Namespace, root: Path, user_wav: Path) -> dict[str, Any]:
    from bantz_voice.app import start_pipeline
    from bantz_voice.audio.player import Player
    from bantz_voice.audio.source import MicSource
    from bantz_voice.config import load_settings
    from bantz_voice.responder import EchoResponder

    out: dict[str, Any] = {"setup": name}
    with PulseServer(root / name).serving() as pulse:
        try:
            pulse.load_echo_path(gain=args.gain, delay_ms=args.delay_ms)
            if name == "aec":
                res = subprocess.run([sys.executable, "-m", "bantz_voice", "audio", "setup-echo-cancel", "--default"],
                                     capture_output=True, text=True, cwd=ROOT, timeout=60)
                if res.returncode != 0:
                    raise RuntimeError(f"setup-echo-cancel failed: {res.stderr.strip()}")
                out["setup_output"] = res.stdout.strip().splitlines()
            reinit_portaudio()
            settings = load_settings()
            settings.audio.echo_guard = name != "no_guard"
            players: list[Player] = []

            def sink() -> Player:
                players.append(Player(None, keep_open=True))
                return players[-1]

            p = await start_pipeline(settings, EchoResponder(), sink_factory=sink)
            p.gate = _ignore_all_gate()  # as the daemon's wake-word gate: nothing said here is for the assistant
            source = TapSource(MicSource.from_settings(settings.audio))
            listen = asyncio.create_task(p.listen(source))
            deadline = time.monotonic() + 30
            while not (p.last_frame_at and time.monotonic() - p.last_frame_at < 0.2):
                if time.monotonic() > deadline or listen.done():
                    raise RuntimeError("the microphone delivered no audio")
                await asyncio.sleep(0.05)
            user = read_pcm_wav(user_wav)
            onset_in_user = first_voiced_sample(user)
            rng = random.Random(15)

            async def idle() -> None:
                while p.state not in ("idle", "listening"):
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.5)

            # 1. barge-ins
            trials: list[dict[str, Any]] = []
            latencies: list[float] = []
            for _ in range(args.barge):
                await idle()
                reply = asyncio.create_task(p.speak(LONG_REPLY))
                while p.state != "speaking" and not reply.done():
                    await asyncio.sleep(0.02)
                await asyncio.sleep(rng.uniform(1.0, 2.0))
                source.tape.clear()
                source.recording = True
                await asyncio.to_thread(pulse.play, user_wav)
                try:
                    outcome = await asyncio.wait_for(asyncio.shield(reply), 3.0)
                except TimeoutError:
                    p.cancel_speech()
                    outcome = None
                    await asyncio.gather(reply, return_exceptions=True)
                source.recording = False
                interrupted = bool(outcome is not None and outcome.interrupted)
                rec = np.frombuffer(b"".join(pcm for _, pcm in source.tape), dtype=np.int16)
                lag, peak = estimate_delay(rec, user)
                latency = None
                at = lag + onset_in_user
                onset_t: float | None = None
                method = "correlation"
                if peak > 0.2 and at // 480 < len(source.tape):
                    onset_t = source.tape[at // 480][0] - (480 - at % 480) / RATE  # a frame's t: its last sample
                else:  # the canceller reshaped the voice: its first voiced frame (an echo residue makes it early)
                    method = "vad"
                    voiced = first_voiced_sample(rec, mode=3)
                    if voiced or (rec.size and vad_first(rec)):
                        onset_t = source.tape[voiced // 480][0]
                stop_t = players[-1].last_audio_at
                if interrupted and onset_t is not None and stop_t is not None:
                    latency = round(stop_t - onset_t, 3)
                trials.append({"interrupted": interrupted, "latency_s": latency, "onset": method, "onset_peak": round(peak, 2)})
                if latency is not None:
                    latencies.append(latency)
            hits = sum(1 for t in trials if t["latency_s"] is not None and 0 <= t["latency_s"] <= args.within)
            early = sum(1 for t in trials if t["latency_s"] is not None and t["latency_s"] < 0)
            out["barge_in"] = {
                "trials": args.barge,
                "interrupted": sum(t["interrupted"] for t in trials),
                "stopped_before_the_user_spoke": early,
                "within": hits,
                "rate_within": round(hits / max(1, args.barge), 3),
                "latency_ms": p50_p95([x * 1000 for x in latencies if x >= 0]),
                "per_trial": trials,
            }
            out["guard_after_barge_ins"] = p.barge_in.status()
            # 2. self-interruptions
            stopped = 0
            for _ in range(args.replies):
                await idle()
                outcome = await p.speak(LONG_REPLY)
                stopped += bool(outcome is not None and outcome.interrupted)
            out["self_interruptions"] = {"replies": args.replies, "self_interrupted": stopped}
            out["guard_at_end"] = p.barge_in.status()
            listen.cancel()
            await asyncio.gather(listen, return_exceptions=True)
            await p.aclose()
        finally:
            if name == "aec":
                subprocess.run([sys.executable, "-m", "bantz_voice", "audio", "setup-echo-cancel", "--undo"],
                               capture_output=True, text=True, cwd=ROOT, timeout=60)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    require_tools("espeak-ng", "sox", missing=missing_tools())
    root = Path(tempfile.mkdtemp(prefix="bantz-bench-echo-"))
    try:
        user_wav = render(USER_TEXT, 160, root / "user.wav", pad=(0.0, 0.2))
        results = [asyncio.run(run_setup(name, args, root, user_wav)) for name in args.setups]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "command": "python scripts/bench_echo.py " + " ".join(sys.argv[1:]),
        "date": report.stamp(),
        "machine": report.machine(report.cpu_model(), cpus="CPUs"),
        "echo_path": {"gain": args.gain, "loopback_latency_ms": args.delay_ms},
        "setups": results,
    }


def render_markdown(r: dict[str, Any]) -> str:
    lines = [
        f"Command: `{r['command']}` · {r['date']} · {r['machine']} · echo path: gain {r['echo_path']['gain']}, "
        f"loopback latency {r['echo_path']['loopback_latency_ms']} ms",
        "",
        "| set-up | self-interruptions (long replies) | user over the reply: interrupted | within 0.5 s | latency p50 / p95 ms | guard's decision |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in r["setups"]:
        si, b = s["self_interruptions"], s["barge_in"]
        g = s.get("guard_at_end") or {}
        lat = b["latency_ms"]
        early = f" ({b['stopped_before_the_user_spoke']} before the user spoke)" if b["stopped_before_the_user_spoke"] else ""
        lines.append(
            f"| {s['setup']} | {si['self_interrupted']} / {si['replies']} | {b['interrupted']} / {b['trials']}{early} | "
            f"{b['rate_within']:.0%} | {lat['p50']} / {lat['p95']} | {g.get('echo')}, barge-in {'on' if g.get('enabled') else 'off'} "
            f"(corr {g.get('correlation')}, delay {g.get('delay_ms')} ms) |"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = report.described_parser(__doc__)
    p.add_argument("--replies", type=int, default=20, help="long replies per set-up with nobody talking")
    p.add_argument("--barge", type=int, default=20, help="long replies per set-up with the user talking over them")
    p.add_argument("--setups", nargs="+", choices=SETUPS, default=list(SETUPS))
    p.add_argument("--within", type=float, default=0.5, help="barge-in latency that counts as a hit (s)")
    p.add_argument("--gain", type=float, default=0.5, help="echo path gain (linear)")
    p.add_argument("--delay-ms", type=int, default=50, help="echo path loopback latency")
    p.add_argument("--quick", action="store_true", help="2 replies and 2 barge-ins per set-up")
    report.add_output_options(p, json_help=None, markdown_help=None)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.replies, args.barge = 2, 2
    r = run(args)
    report.show(args, r, lambda: render_markdown(r), lambda: json.dumps(r, ensure_ascii=False, indent=2) + "\n" + render_markdown(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
