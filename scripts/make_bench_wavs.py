#!/usr/bin/env python3
"""Make the Turkish benchmark utterances in ``tests/data/bench/``: espeak-ng (``-v tr``) → sox,
16 kHz mono 16-bit, 0.3 s of leading and 1.0 s of trailing silence, plus ``manifest.jsonl``
(file, text, kind, route). ``kind`` is what the turn is meant to exercise: ``fast_path`` (calendar
and system requests the Turkish layer routes alone) or ``chat`` (smalltalk, answered by the chat
model). Re-running gives the same files for the same espeak-ng/sox versions.

    python scripts/make_bench_wavs.py [--out tests/data/bench]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

# (text, kind, route, espeak-ng words per minute). Whisper base transcribes espeak-ng's Turkish
# poorly; each rate was picked (120-190 wpm tried, 2026-11-26) so that the transcript keeps the
# request recognisable with both the fitted and the full 30 s Whisper window where one rate does
# both ("günaydın": none does; fitted only), since a garbled fast-path request would go to the LLM.
UTTERANCES: list[tuple[str, str, str, int]] = [
    ("şu an saat kaç", "fast_path", "system", 130),
    ("saat kaç", "fast_path", "system", 120),
    ("bugünün tarihi ne", "fast_path", "system", 170),
    ("bugün takvimde ne var", "fast_path", "calendar", 170),
    ("yarın saat onda doktor randevusu ekle", "fast_path", "calendar", 140),
    ("beni dinliyor musun", "chat", "smalltalk", 170),
    ("bugün çok yoruldum", "chat", "smalltalk", 170),
    ("canım sıkılıyor", "chat", "smalltalk", 150),
    ("günaydın", "chat", "smalltalk", 140),
    ("hafta sonu ne yapsam", "chat", "smalltalk", 160),
    ("nasılsın bakalım", "chat", "smalltalk", 160),
]


def check_tools() -> None:
    for tool in ("espeak-ng", "sox"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed (apt-get install espeak-ng sox)")


def render(text: str, speed: int, out: Path, pad: tuple[float, float] | None = (0.3, 1.0)) -> Path:
    """``text`` spoken by espeak-ng Turkish at ``speed`` wpm → ``out``: 16 kHz mono 16-bit, with
    ``pad`` seconds of silence before and after (None: espeak-ng's own silence only). ``sox -R``:
    its dither (16-bit output after the rate change) is seeded the same every time, so a sentence
    is the same file in every run; ``-V1``: errors only, not its clipping warnings. The one
    espeak-ng → sox rendering of the benchmarks and tests."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", "tr", "-s", str(speed), "-w", str(raw), text], check=True)
        subprocess.run(["sox", "-R", "-V1", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out),
                        *(["pad", str(pad[0]), str(pad[1])] if pad else [])], check=True)
    return out


def spoken(text: str, speed: int) -> np.ndarray:
    """``text`` rendered (``render``, no pad) as 16 kHz int16 samples, espeak-ng's own leading and
    trailing silence trimmed (|x| > 300, about -40 dBFS)."""
    from bantz_voice.audio.wavio import read_wav

    with tempfile.TemporaryDirectory() as tmp:
        x = read_wav(render(text, speed, Path(tmp) / "piece.wav", pad=None), 16000)
    loud = np.flatnonzero(np.abs(x) > 300)
    return x[loud[0] : loud[-1] + 1]


def make(out: Path) -> list[dict[str, object]]:
    check_tools()
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (text, kind, route, speed) in enumerate(UTTERANCES, 1):
        name = f"{i:02d}_{kind}.wav"
        render(text, speed, out / name)
        rows.append({"file": name, "text": text, "kind": kind, "route": route, "espeak_wpm": speed})
    (out / "manifest.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "tests/data/bench")
    args = p.parse_args(argv)
    for old in args.out.glob("*.wav"):
        old.unlink()
    rows = make(args.out)
    print(f"{len(rows)} utterances in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
