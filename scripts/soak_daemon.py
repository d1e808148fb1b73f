#!/usr/bin/env python3
"""Spoken soak: the unmodified daemon hears many spoken turns and nothing may grow without bound.

    python scripts/soak_daemon.py [--turns 200] [--warmup 10] [--json] [--responder echo|brain]

The daemon is ``python -m bantz_voice run`` (what the ``bantz-voice`` entry point runs), started
like ``scripts/bench_daemon.py`` does: private XDG directories, a private PulseAudio server
(``bantz_voice.bench.pulse.PulseServer``: the tests' virtual microphone and speaker). Its settings
file (the daemon's own code is not touched) picks the responder (default: echo, i.e. Whisper +
wake word + Piper without an LLM), a short follow-up window (``--follow-up-s``, so utterances
without the wake word really meet a closed gate) and a small trace rotation size
(``--traces-max-bytes``, so the rotation happens within the soak).

The utterances are rendered once (espeak-ng Turkish + sox, 16 kHz) and replayed in a fixed cycle:
wake-word requests, speech without the wake word, and bad audio: a clipped (overdriven) request,
digital silence, a noise burst and a train of short loud clicks. Each is played into the
microphone; then the soak waits (with a deadline, ``--turn-deadline-s``) until the daemon has
settled: ``status`` says idle and its counters have not moved for ``--settle-s``. An utterance
ends as one of: answered (a turn ran), ignored (the gate or the wake-word stage refused it),
discarded (end-pointed but dropped before the gate, e.g. the ASR guard), none (the endpointer
heard no speech). Not settling before the deadline is a hung turn.

After ``--warmup`` utterances, and after every one that follows, it reads from /proc and the
daemon: resident size (``bantz_voice.sysmem.rss_mb``), open file descriptors, threads, the bytes
of ``traces.jsonl`` and its rotated copies, ``asr_dropped``, stalled stages. It prints a summary
(``--json``: one JSON object); docs/benchmarks.md has figures, tests/adversarial/test_soak_daemon.py
runs a short one and asserts the bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "scripts"))

from bench_daemon import CONTROL_ERRORS, DaemonProcess  # noqa: E402
from make_bench_wavs import check_tools, render  # noqa: E402

from bantz_voice import sysmem  # noqa: E402
from bantz_voice.bench.pulse import PulseServer, missing_tools  # noqa: E402
from bantz_voice.bench.stats import percentile  # noqa: E402

RATE = 16000
BUSY_STATES = ("listening", "thinking", "speaking", "starting")


@dataclass(frozen=True)
class Clip:
    name: str
    kind: str  # "wake" | "no_wake" | "bad"
    path: Path


# --- the utterances (rendered once) ----------------------------------------------------------------
SPOKEN: list[tuple[str, str, str]] = [  # (name, kind, Turkish text)
    ("wake_merhaba", "wake", "Bantz, merhaba."),
    ("wake_hava", "wake", "Bantz, bugün hava nasıl?"),
    ("wake_saat", "wake", "Bantz, saat kaç?"),
    ("no_wake_hava", "no_wake", "Hava nasıl?"),
    ("no_wake_sohbet", "no_wake", "Dün akşam komşularla uzun uzun sohbet ettik."),
]
# One cycle: two thirds requests, the rest speech without the wake word and bad audio.
CYCLE = ["wake_merhaba", "wake_hava", "no_wake_hava", "wake_saat", "noise", "wake_merhaba", "clipped",
         "silence", "wake_hava", "no_wake_sohbet", "clicks", "wake_saat"]


def _write(path: Path, x: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(RATE)
        wf.writeframes(np.clip(x, -32768, 32767).astype("<i2").tobytes())
    return path


def _read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wf:
        return np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2").astype(np.int32)


def render_clips(out: Path, seed: int = 14) -> dict[str, Clip]:
    """The spoken clips (espeak-ng, 1 s of silence after: the endpointer closes before the next
    one) and the bad ones, derived from them or synthetic."""
    check_tools()
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    clips: dict[str, Clip] = {}
    for name, kind, text in SPOKEN:
        clips[name] = Clip(name, kind, render(text, 160, out / f"{name}.wav", pad=(0.3, 1.0)))
    gap = np.zeros(int(1.0 * RATE), np.int32)
    lead = np.zeros(int(0.3 * RATE), np.int32)
    # a request played far too loud: hard clipping (a gain of 12, then the int16 rails)
    clips["clipped"] = Clip("clipped", "bad", _write(out / "clipped.wav", _read(clips["wake_merhaba"].path) * 12))
    clips["silence"] = Clip("silence", "bad", _write(out / "silence.wav", np.zeros(int(2.0 * RATE), np.int32)))
    noise = (rng.normal(0, 0.3, int(0.8 * RATE)) * 32767).astype(np.int32)  # a loud noise burst
    clips["noise"] = Clip("noise", "bad", _write(out / "noise.wav", np.concatenate([lead, noise, gap])))
    clicks = []  # eight 20 ms full-scale clicks, 150 ms apart (a knock, a dropped object)
    for _ in range(8):
        clicks += [(rng.uniform(-1, 1, int(0.02 * RATE)) * 32767).astype(np.int32), np.zeros(int(0.15 * RATE), np.int32)]
    clips["clicks"] = Clip("clicks", "bad", _write(out / "clicks.wav", np.concatenate([lead, *clicks, gap])))
    return clips


# --- measuring ------------------------------------------------------------------------------------------
def traces_bytes(state_dir: Path) -> tuple[int, int]:
    """(total bytes, number of files) of traces.jsonl and its rotated copies."""
    files = [p for p in state_dir.glob("traces.jsonl*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def sample(daemon: DaemonProcess, st: dict[str, Any]) -> dict[str, Any]:
    pid = daemon.pid
    tb, tf = traces_bytes(daemon.traces.parent)
    return {
        "rss_mb": round(sysmem.rss_mb(pid) or 0.0, 1),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": len(os.listdir(f"/proc/{pid}/task")),
        "traces_bytes": tb,
        "traces_files": tf,
        "asr_dropped": st.get("asr_dropped", 0),
    }


COUNTERS = ("utterances", "turns", "ignored_utterances", "turns_failed")


def settle(daemon: DaemonProcess, settle_s: float, deadline_s: float) -> tuple[dict[str, Any] | None, float]:
    """Waits until the daemon is idle and its counters have not moved for ``settle_s`` (an
    utterance still being end-pointed, decoded or answered keeps it busy). Returns the status and
    the seconds it took, or ``(None, deadline_s)`` when it did not settle in time (a hung turn)."""
    t0 = time.monotonic()
    stable_since: float | None = None
    last: tuple[Any, ...] | None = None
    while time.monotonic() - t0 < deadline_s:
        if not daemon.alive():
            return None, time.monotonic() - t0
        try:
            st = daemon.status(timeout=10)
        except CONTROL_ERRORS:
            stable_since, last = None, None
            time.sleep(0.1)
            continue
        key = (st["state"], *(st[c] for c in COUNTERS))
        now = time.monotonic()
        if st["state"] in BUSY_STATES or key != last:
            stable_since, last = (None if st["state"] in BUSY_STATES else now), key
        elif stable_since is not None and now - stable_since >= settle_s:
            return st, now - t0
        time.sleep(0.1)
    return None, deadline_s


def wait_gate_closed(daemon: DaemonProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not daemon.status()["follow_up_open"]:
            return
        time.sleep(0.1)
    raise RuntimeError(f"the follow-up window stayed open for {timeout:.0f} s")


def outcome(before: dict[str, Any], after: dict[str, Any]) -> str:
    if after["turns"] > before["turns"]:
        return "answered"
    if after["ignored_utterances"] > before["ignored_utterances"]:
        return "ignored"
    if after["utterances"] > before["utterances"]:
        return "discarded"
    return "none"


def soak(args: argparse.Namespace) -> dict[str, Any]:
    if missing_tools():
        raise SystemExit(f"PulseAudio tools missing: {', '.join(missing_tools())}")
    keep = args.keep is not None
    root = Path(args.keep) if keep else Path(tempfile.mkdtemp(prefix="bantz-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    clips = render_clips(root / "clips")
    pulse = PulseServer(root / "pulse")
    pulse.start()
    daemon = DaemonProcess(root / "daemon", pulse)
    cfg = root / "daemon" / "config" / "bantz"
    cfg.mkdir(parents=True, exist_ok=True, mode=0o700)
    (cfg / "bantz.yaml").write_text(
        f"brain:\n  responder: {args.responder}\n"
        f"daemon:\n  follow_up_s: {args.follow_up_s}\n"
        f"logging:\n  traces_max_bytes: {args.traces_max_bytes}\n  traces_keep: {args.traces_keep}\n",
        encoding="utf-8")
    t_start = time.monotonic()
    rows: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    code: int | None = None
    try:
        daemon.start()
        ready = daemon.wait_ready(args.ready_timeout_s)
        ready_s = time.monotonic() - daemon.started
        first = sample(daemon, ready)
        cycle = args.clips.split(",") if args.clips else CYCLE
        unknown = [c for c in cycle if c not in clips]
        if unknown:
            raise SystemExit(f"unknown clips: {', '.join(unknown)} (known: {', '.join(clips)})")
        for i in range(args.warmup + args.turns):
            clip = clips[cycle[i % len(cycle)]]
            if clip.kind == "no_wake":  # it must meet a closed gate to be ignored
                wait_gate_closed(daemon, args.follow_up_s + 30)
            before = daemon.status()
            pulse.play(clip.path)
            st, took = settle(daemon, args.settle_s, args.turn_deadline_s)
            row: dict[str, Any] = {"i": i, "clip": clip.name, "kind": clip.kind, "settle_s": round(took, 2)}
            if st is None:
                row["outcome"] = "hung" if daemon.alive() else "daemon_died"
                rows.append(row)
                break
            row["outcome"] = outcome(before, st)
            row["failed"] = st["turns_failed"] > before["turns_failed"]
            row["stalled"] = st.get("stalled_stages") or {}
            rows.append(row)
            if i + 1 >= args.warmup:
                samples.append({"i": i, **sample(daemon, st)})
            if not args.json:
                print(f"{i + 1:4d} {clip.name:15s} {row['outcome']:9s} {took:5.1f} s  rss {samples[-1]['rss_mb'] if samples else '-'} MB",
                      file=sys.stderr)
        final = daemon.status() if daemon.alive() else {}
    finally:
        code = daemon.stop()
        pulse.stop()
    log_text = daemon.log.read_text(errors="replace") if daemon.log.exists() else ""
    result = summarize(args, rows, samples, first, final, ready_s, code, log_text, time.monotonic() - t_start)
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        result["kept"] = str(root)
    return result


def summarize(args: argparse.Namespace, rows: list[dict[str, Any]], samples: list[dict[str, Any]],
              first: dict[str, Any], final: dict[str, Any], ready_s: float, code: int | None, log_text: str,
              seconds: float) -> dict[str, Any]:
    by_kind: dict[str, dict[str, int]] = {}
    for r in rows:
        d = by_kind.setdefault(r["kind"], {})
        d[r["outcome"]] = d.get(r["outcome"], 0) + 1
    settles = [r["settle_s"] for r in rows if r["outcome"] not in ("hung", "daemon_died")]
    warm, end = (samples[0], samples[-1]) if samples else ({}, {})

    def series(key: str) -> dict[str, Any]:
        vals = [s[key] for s in samples]
        if not vals:
            return {}
        return {"warm": warm[key], "end": end[key], "max": max(vals), "min": min(vals)}

    rss = series("rss_mb")
    if rss:
        rss["growth_pct"] = round((rss["end"] - rss["warm"]) / rss["warm"] * 100, 2)
        # the same from the medians of the first and the last three samples: one sample taken while
        # a reply's audio is still allocated does not decide it
        first3 = float(np.median([s["rss_mb"] for s in samples[:3]]))
        last3 = float(np.median([s["rss_mb"] for s in samples[-3:]]))
        rss["growth_pct_median3"] = round((last3 - first3) / first3 * 100, 2)
        if len(samples) >= 20:  # a leak grows linearly: the slope over the second half
            half = samples[len(samples) // 2 :]
            rss["second_half_mb_per_100"] = round((half[-1]["rss_mb"] - half[0]["rss_mb"]) / (half[-1]["i"] - half[0]["i"]) * 100, 1)
    return {
        "command": "python scripts/soak_daemon.py " + " ".join(sys.argv[1:]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, Python {platform.python_version()}",
        "responder": args.responder,
        "utterances_played": len(rows),
        "warmup": args.warmup,
        "seconds": round(seconds, 1),
        "ready_s": round(ready_s, 1),
        "outcomes": by_kind,
        "hung": sum(r["outcome"] in ("hung", "daemon_died") for r in rows),
        "failed_turns": sum(bool(r.get("failed")) for r in rows),
        "stalled": [r for r in rows if r.get("stalled")],
        "settle_s": {"p50": round(percentile(settles, 50) or 0.0, 2), "p95": round(percentile(settles, 95) or 0.0, 2),
                     "max": round(max(settles), 2)} if settles else {},
        "at_ready": first,
        "rss_mb": rss,
        "rss_mb_every_10": [s["rss_mb"] for s in samples[::10]],
        "clips": args.clips or "all",
        "fds": series("fds"),
        "threads": series("threads"),
        "traces_bytes": series("traces_bytes"),
        "traces_files_max": max((s["traces_files"] for s in samples), default=0),
        "traces_limit_bytes": (args.traces_keep + 1) * args.traces_max_bytes,
        "asr_dropped": final.get("asr_dropped"),
        "status_end": {k: final.get(k) for k in (*COUNTERS, "state")} if final else {},
        "exit_code": code,
        "traceback_in_log": "Traceback" in log_text,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=200, help="utterances measured after the warm-up")
    ap.add_argument("--warmup", type=int, default=10, help="utterances before the baseline sample")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--responder", choices=["echo", "brain"], default="echo")
    ap.add_argument("--follow-up-s", type=float, default=2.0, help="the follow-up window (the product default is 8)")
    ap.add_argument("--traces-max-bytes", type=int, default=4096, help="the smallest allowed: rotation happens in a short soak")
    ap.add_argument("--traces-keep", type=int, default=3)
    ap.add_argument("--settle-s", type=float, default=1.0, help="idle and unchanged this long = settled")
    ap.add_argument("--turn-deadline-s", type=float, default=90.0, help="not settled by then = a hung turn")
    ap.add_argument("--ready-timeout-s", type=float, default=300.0)
    ap.add_argument("--clips", help="comma-separated clip names to cycle through instead of the mixed cycle "
                    "(to find which kind of input makes something grow)")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (clips, daemon log, traces)")
    args = ap.parse_args(argv)
    result = soak(args)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
