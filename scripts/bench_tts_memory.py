#!/usr/bin/env python3
"""Piper's memory and speed with onnxruntime's CPU memory arena on (piper's default) and off (the
product's session, ``tts/piper_tts.py``): RSS after syntheses of growing run-on sentences, given
to Piper whole and in ``tts.max_piece_chars`` pieces (what ``PiperTTS.synthesize`` does), and the
median time of a short synthesis. Each configuration runs in a fresh process.

    python scripts/bench_tts_memory.py [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics as st
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RUN_ON = "Bugün hava çok güzel ve takviminizde üç etkinlik var "  # never ends a sentence
LENGTHS = (200, 400, 800)


def measure(arena: bool, bounded: bool) -> dict:
    import onnxruntime
    import psutil

    from bantz_voice.config import load_settings
    from bantz_voice.tts.piper_tts import PiperTTS

    proc = psutil.Process()
    settings = load_settings()
    tts = PiperTTS(settings.tts)
    if arena:  # piper's own loading: default session options, arena on
        tts.voice.session = onnxruntime.InferenceSession(str(tts.model_path), providers=["CPUExecutionProvider"])
    if not bounded:
        settings.tts.max_piece_chars = 10**6  # PiperTTS reads its settings object at each call
    tts.synthesize("Merhaba, nasılsınız?")
    out = {"arena": arena, "bounded": bounded, "rss_start_mb": proc.memory_info().rss >> 20}
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        tts.synthesize("Bugün hava çok güzel.")
        times.append(time.perf_counter() - t0)
    out["short_ms_p50"] = round(st.median(times) * 1000)
    for n in LENGTHS:
        tts.synthesize((RUN_ON * 40)[:n])
        out[f"rss_after_{n}_mb"] = proc.memory_info().rss >> 20
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--markdown", action="store_true")
    p.add_argument("--one", nargs=2, metavar=("ARENA", "BOUNDED"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one[0] == "1", args.one[1] == "1")))
        return 0
    rows = []
    for arena, bounded in ((True, False), (False, False), (True, True), (False, True)):
        res = subprocess.run([sys.executable, __file__, "--one", str(int(arena)), str(int(bounded))],
                             check=True, capture_output=True, text=True)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    if not args.markdown:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPU (load average at the end "
          f"{[round(x, 2) for x in os.getloadavg()]}). Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.\n")
    print("Command: `python scripts/bench_tts_memory.py --markdown`\n")
    print("| onnxruntime arena | run-on sentence | RSS after load | RSS after " + " / ".join(f"{n}" for n in LENGTHS)
          + " characters | short synthesis p50 |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {'on' if r['arena'] else 'off'} | {'in ≤ max_piece_chars pieces' if r['bounded'] else 'whole'} | "
              f"{r['rss_start_mb']} MB | " + " / ".join(f"{r[f'rss_after_{n}_mb']}" for n in LENGTHS)
              + f" MB | {r['short_ms_p50']} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
