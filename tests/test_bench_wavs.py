"""The benchmark utterances in tests/data/bench: format, trailing silence, manifest."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent / "data" / "bench"


def test_manifest_lists_every_wav_with_a_kind() -> None:
    rows = [json.loads(ln) for ln in (BENCH / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert {r["file"] for r in rows} == {p.name for p in BENCH.glob("*.wav")}
    assert {r["kind"] for r in rows} == {"fast_path", "chat"}
    assert all(r["text"].strip() and r["route"] in ("calendar", "system", "smalltalk") for r in rows)
    assert sum(p.stat().st_size for p in BENCH.glob("*.wav")) < 2_000_000


def test_wavs_are_16k_mono_speech_with_a_second_of_trailing_silence() -> None:
    for path in sorted(BENCH.glob("*.wav")):
        with wave.open(str(path)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2), path.name
            x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        tail, body = x[-16000:], x[:-16000]
        assert np.abs(tail).max() < 64, path.name  # silence
        assert np.abs(body).max() > 3000, path.name  # audible speech before it
