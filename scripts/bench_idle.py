#!/usr/bin/env python3
"""Idle CPU of the listening loop: the real pipeline (Whisper + Piper loaded, warmed up) listening
to a microphone on which nobody speaks. Prints the share of one core the process used.

    .venv/bin/python scripts/bench_idle.py [--seconds 30] [--json]

The microphone is the default input device; when PULSE_SERVER is not set and ``--private-pulse``
is given (default when no input device exists), a private PulseAudio server with a silent virtual
microphone is started for the measurement (same set-up as the end-to-end tests).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def _have_input() -> bool:
    try:
        import sounddevice as sd

        return sd.query_devices(kind="input")["max_input_channels"] > 0
    except Exception:
        return False


async def measure(seconds: float, settle: float) -> dict:
    import psutil

    from bantz_voice.app import start_pipeline
    from bantz_voice.audio.source import MicSource
    from bantz_voice.config import load_settings
    from bantz_voice.responder import EchoResponder

    settings = load_settings()
    pipeline = await start_pipeline(settings, EchoResponder())
    source = MicSource.from_settings(settings.audio)

    def on_event(_):
        pass

    task = asyncio.create_task(pipeline.listen(source, on_event))
    await asyncio.sleep(settle)
    if not source.connected:
        raise SystemExit("microphone did not open")
    proc = psutil.Process()
    c0, t0 = proc.cpu_times(), time.monotonic()
    f0 = pipeline.last_frame_at
    await asyncio.sleep(seconds)
    c1, t1 = proc.cpu_times(), time.monotonic()
    wall = t1 - t0
    cpu = (c1.user - c0.user) + (c1.system - c0.system)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await pipeline.aclose()
    return {
        "seconds": round(wall, 1),
        "cpu_s": round(cpu, 3),
        "cpu_percent_of_one_core": round(100 * cpu / wall, 2),
        "frame_ms": settings.audio.frame_ms,
        "mic_native_rate": source.native_rate,
        "state": pipeline.state,
        "audio_flowing": pipeline.last_frame_at is not None and pipeline.last_frame_at != f0,
        "rss_mb": round(proc.memory_info().rss / 2**20, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--settle", type=float, default=5.0, help="seconds to let the loop settle first")
    ap.add_argument("--private-pulse", action="store_true", help="start a private PulseAudio server")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    server = None
    if args.private_pulse or (not os.environ.get("PULSE_SERVER") and not _have_input()):
        from fixtures.pulse import PulseServer, _reinit_portaudio

        server = PulseServer(Path(tempfile.mkdtemp(prefix="bantz-idle-")))
        server.start()
        os.environ.update(server.env)
        _reinit_portaudio()
    try:
        result = asyncio.run(measure(args.seconds, args.settle))
    finally:
        if server is not None:
            server.stop()
    result["private_pulse"] = server is not None
    if args.json:
        print(json.dumps(result))
    else:
        print(f"idle listening loop: {result['cpu_percent_of_one_core']:.2f}% of one core "
              f"over {result['seconds']} s (rss {result['rss_mb']} MB, audio flowing: {result['audio_flowing']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
