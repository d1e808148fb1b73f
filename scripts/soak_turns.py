#!/usr/bin/env python3
"""Soak: many text turns through the real voice loop (app.start_pipeline: Whisper and Piper
loaded, echo responder, chunker, Piper, a WAV sink, traces on), measuring this process's RSS,
open file descriptors and threads after a warm-up and at the end. Prints one JSON object.

    python scripts/soak_turns.py [--turns 200] [--warmup 20]

The adversarial suite runs it (tests/adversarial/test_soak_turns.py); docs/security.md has figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bantz_voice import sysmem  # noqa: E402

TEXTS = ("merhaba", "saat kaç", "evet", "teşekkürler", "bugün ne var", "tamam")  # short: many turns, little CPU


SAMPLE_EVERY = 10
EDGE = 5  # samples at each end whose median is compared


def rss_growth_pct(samples_mb: list[float]) -> float:
    """Growth from the first samples to the last, in %, each end the median of EDGE samples. One
    sample differs from the next by up to +-10 % (arenas of threads, onnxruntime and numpy buffers
    come and go), so first against last alone says more about luck than about a leak; a leak moves
    the whole second end. With fewer than 2*EDGE samples the ends are the first and last sample."""
    if not samples_mb:
        return 0.0
    k = EDGE if len(samples_mb) >= 2 * EDGE else 1
    first, last = statistics.median(samples_mb[:k]), statistics.median(samples_mb[-k:])
    return round((last - first) / first * 100, 2) if first else 0.0


def proc_stats() -> dict[str, int]:
    # What is live, not what glibc happens to keep in its arenas: the daemon trims after every turn too
    # (sysmem.release_freed_memory), and without it one sample differs from the next by +-30 MB.
    sysmem.release_freed_memory()
    rss = round((sysmem.rss_mb() or 0.0) * 1024)
    return {"rss_kb": rss, "fds": len(os.listdir("/proc/self/fd")), "threads": len(os.listdir("/proc/self/task"))}


async def soak(turns: int, warmup: int) -> dict:
    from bantz_voice.app import start_pipeline
    from bantz_voice.audio.player import WavSink
    from bantz_voice.config import load_settings
    from bantz_voice.responder import EchoResponder

    settings = load_settings()
    pipeline = await start_pipeline(settings, EchoResponder(), sink_factory=lambda: WavSink(None))
    failed = 0
    try:
        for i in range(warmup):
            await pipeline.text_turn(TEXTS[i % len(TEXTS)])
        before = proc_stats()
        t0 = time.monotonic()
        rss_mb: list[float] = []  # every SAMPLE_EVERY turns: a leak grows linearly, warm-up settles
        for i in range(turns):
            outcome = await pipeline.text_turn(TEXTS[i % len(TEXTS)])
            if outcome is None or outcome.error or outcome.reply_audio is None or outcome.reply_audio.size == 0:
                failed += 1
            if (i + 1) % SAMPLE_EVERY == 0:
                rss_mb.append(round(proc_stats()["rss_kb"] / 1024, 1))
        seconds = time.monotonic() - t0
        after = proc_stats()
    finally:
        await pipeline.aclose()
    return {
        "turns": turns,
        "warmup": warmup,
        "failed": failed,
        "seconds": round(seconds, 1),
        "before": before,
        "after": after,
        "rss_growth_pct": rss_growth_pct(rss_mb),
        "rss_growth_first_to_last_pct": round((after["rss_kb"] - before["rss_kb"]) / before["rss_kb"] * 100, 2),
        f"rss_mb_every_{SAMPLE_EVERY}": rss_mb,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    args = ap.parse_args()
    print(json.dumps(asyncio.run(soak(args.turns, args.warmup)), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
