#!/usr/bin/env python3
"""Speaker start-up on the spoken-latency path: ``playback_start − tts_first_audio`` per reply.

The real listening loop (``VoicePipeline.listen`` on the microphone, Piper loaded) says a short
reply ``--turns`` times through ``speak()`` (the same TTS/playback path as a turn), then measures the
loop's idle CPU with the speaker stream in whatever state the replies left it (kept open now).

    .venv/bin/python scripts/bench_playback.py [--turns 12] [--gap 1.0] [--idle-seconds 10] [--per-reply] [--json]

``--per-reply`` gives the loop a ``Player`` that opens and closes its stream for every reply (the
design before the persistent output stream). Without PULSE_SERVER (or with ``--private-pulse``) a
private PulseAudio server with a virtual microphone and speaker is started (tests/fixtures/pulse.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

TEXT = "Merhaba, ben Bantz. Yarın hava güneşli olacak."


async def measure(turns: int, gap: float, idle_seconds: float, per_reply: bool) -> dict:
    import psutil

    from bantz_voice.audio.player import Player
    from bantz_voice.audio.source import MicSource
    from bantz_voice.config import load_settings
    from bantz_voice.pipeline import VoicePipeline
    from bantz_voice.responder import EchoResponder
    from bantz_voice.tts.piper_tts import PiperTTS

    settings = load_settings()
    settings.logging.traces = False
    tts = PiperTTS(settings.tts)
    tts.synthesize("Merhaba.")  # warm up
    factory = (lambda: Player(settings.audio.output_device)) if per_reply else None
    pipeline = VoicePipeline(settings, transcriber=None, tts=tts, responder=EchoResponder(), sink_factory=factory)
    source = MicSource.from_settings(settings.audio)
    task = asyncio.create_task(pipeline.listen(source))
    deadline = time.monotonic() + 20
    while not source.connected:
        if time.monotonic() > deadline:
            raise SystemExit("microphone did not open")
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    gaps_ms: list[float] = []
    for _ in range(turns):
        outcome = await pipeline.speak(TEXT)
        t = outcome.trace
        if outcome.error or t.playback_start is None or t.tts_first_audio is None:
            raise SystemExit(f"reply failed: {outcome.error}")
        gaps_ms.append((t.playback_start - t.tts_first_audio) * 1000)
        await asyncio.sleep(gap)
    proc = psutil.Process()
    c0, t0 = proc.cpu_times(), time.monotonic()
    await asyncio.sleep(idle_seconds)
    c1, t1 = proc.cpu_times(), time.monotonic()
    cpu = (c1.user - c0.user) + (c1.system - c0.system)
    sink = pipeline._sink
    opens = getattr(sink, "opens", None)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await pipeline.aclose()
    return {
        "turns": turns,
        "design": "per-reply stream" if per_reply or opens is None else "persistent stream",
        "playback_start_minus_tts_first_audio_ms": [round(x, 1) for x in gaps_ms],
        "p50_ms": round(statistics.median(gaps_ms), 1),
        "p50_after_first_ms": round(statistics.median(gaps_ms[1:]), 1) if len(gaps_ms) > 1 else None,
        "max_ms": round(max(gaps_ms), 1),
        "stream_opens": opens,
        "idle_cpu_percent_of_one_core": round(100 * cpu / (t1 - t0), 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=12)
    ap.add_argument("--gap", type=float, default=1.0, help="seconds between replies")
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    ap.add_argument("--per-reply", action="store_true", help="open/close the stream for every reply (old design)")
    ap.add_argument("--private-pulse", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    server = None
    if args.private_pulse or not os.environ.get("PULSE_SERVER"):
        from fixtures.pulse import PulseServer, _reinit_portaudio

        server = PulseServer(Path(tempfile.mkdtemp(prefix="bantz-playback-")))
        server.start()
        os.environ.update(server.env)
        _reinit_portaudio()
    try:
        result = asyncio.run(measure(args.turns, args.gap, args.idle_seconds, args.per_reply))
    finally:
        if server is not None:
            server.stop()
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['design']}: playback_start − tts_first_audio p50 {result['p50_ms']} ms "
              f"(after the first reply {result['p50_after_first_ms']} ms, max {result['max_ms']} ms) over "
              f"{result['turns']} replies; stream opens {result['stream_opens']}; idle CPU "
              f"{result['idle_cpu_percent_of_one_core']}% of one core")
        print("  per reply (ms):", result["playback_start_minus_tts_first_audio_ms"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
