#!/usr/bin/env python3
"""A/B probe of glibc's fixed mmap threshold (``sysmem.fix_malloc_thresholds``): in this process,
optionally fix the thresholds at MB megabytes, load Whisper and Piper as the product does, then
time 1 warm-up + 3 rounds of transcribing 6 of ``tests/data/tr_*.wav`` and synthesizing 2
sentences; print one JSON line with the round times and the RSS at the end.

    python scripts/probe_malloc_threshold.py off      # glibc's own adaptive thresholds
    python scripts/probe_malloc_threshold.py 4        # fixed at 4 MB (the shipped value)

Run the variants as alternating processes (off, 4, off, 4, ...) and compare within one run
(docs/benchmarks.md, "RSS after READY").
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SENTENCES = ("Yarın saat üçte doktor randevun var efendim.", "Bugün takviminde iki etkinlik görünüyor, ilki saat onda.")


def main() -> int:
    import soundfile as sf

    from bantz_voice import app, sysmem
    from bantz_voice.config import load_settings

    variant = sys.argv[1] if len(sys.argv) > 1 else "off"
    if variant != "off":
        sysmem.MMAP_THRESHOLD = int(float(variant) * 1024 * 1024)
        sysmem.TRIM_THRESHOLD = 2 * sysmem.MMAP_THRESHOLD
        sysmem.fix_malloc_thresholds()
    settings = load_settings()
    whisper, piper = app.load_transcriber(settings), app.load_tts(settings)
    audio = []
    for wav in sorted((ROOT / "tests" / "data").glob("tr_*.wav"))[:6]:
        x, _ = sf.read(str(wav), dtype="float32")
        audio.append(x if x.ndim == 1 else x.mean(axis=1))

    def one_round() -> tuple[float, float]:
        t0 = time.perf_counter()
        for x in audio:
            whisper.transcribe(x)
        t1 = time.perf_counter()
        for text in SENTENCES:
            piper.synthesize(text)
        return t1 - t0, time.perf_counter() - t1

    one_round()
    rounds = [one_round() for _ in range(3)]
    print(json.dumps({"variant": variant, "asr_s": [round(a, 3) for a, _ in rounds],
                      "tts_s": [round(b, 3) for _, b in rounds], "rss_mb": sysmem.rss_mb()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
