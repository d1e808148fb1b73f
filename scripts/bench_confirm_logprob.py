#!/usr/bin/env python3
"""Whisper's average log-probability for short Turkish answers, clean and under noise, and for
noise alone: the data behind ``brain.confirm_min_logprob`` (docs/security.md). Answers are
synthesized with espeak-ng (three voices); the recorded sentences in tests/data are added.

    python scripts/bench_confirm_logprob.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("evet", "tamam", "evet, sil", "hayır")
VOICES = (("tr", 150), ("tr+f3", 130), ("tr+m3", 170))
CONDITIONS = (("clean", 1.0, 0.0), ("noise", 1.0, 300.0), ("far+noise", 0.3, 800.0))


def espeak(text: str, voice: str, speed: int) -> np.ndarray:
    from bantz_voice.audio.wavio import read_wav

    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", f.name, text], check=True)
        x = read_wav(f.name).astype(np.float32)
    return np.concatenate([np.zeros(4000, np.float32), x, np.zeros(4000, np.float32)])


def main() -> int:
    from bantz_voice.asr import Transcriber
    from bantz_voice.audio.wavio import read_wav
    from bantz_voice.config import load_settings

    settings = load_settings()
    asr = Transcriber(settings.asr)
    rng = np.random.default_rng(14)
    print(f"threshold brain.confirm_min_logprob = {settings.brain.confirm_min_logprob}")
    print("| audio | condition | transcript | avg_logprob | guard |\n|---|---|---|---|---|")
    samples = [(f"espeak {v} '{w}'", espeak(w, v, sp)) for w in WORDS for v, sp in VOICES]
    samples += [(f"tests/data/{p.name}", read_wav(p).astype(np.float32)) for p in sorted((ROOT / "tests/data").glob("tr_*.wav"))]
    samples += [("noise only", np.zeros(16000 * 2, np.float32))]
    for name, x in samples:
        for cond, gain, noise in CONDITIONS:
            if name == "noise only" and noise == 0:
                continue
            y = np.clip(x * gain + rng.standard_normal(len(x)) * noise, -32768, 32767).astype(np.int16)
            r = asr.transcribe(y)
            print(f"| {name} | {cond} | {r.raw_text[:40]!r} | {r.avg_logprob:.3f} | {r.dropped or ''} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
