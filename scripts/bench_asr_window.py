#!/usr/bin/env python3
"""Whisper's encoder window: the full 30 s against the window fitted to the utterance
(``asr.window: fit`` + ``asr.window_pad_s``), on the same Turkish utterances and the same model.

Utterances: every k-th sentence of the NLU dev set (``--dev``, 40 by default) spoken by espeak-ng
(``-v tr -s 160``, 16 kHz) plus the benchmark WAVs in ``tests/data/bench/``. Reported per window:
Whisper's compute time p50/p95, character error rate (mean, median; a dropped transcript counts as
1.0), transcripts dropped by the hallucination guard, and how often the Turkish fast path gives the
transcript the same intent as the reference sentence. Random noise (9 clips) checks that no window
invents speech.

``--prompt`` compares instead, at the configured window, the initial prompt alone, no prompt, and
the prompt with ``asr.retry_without_prompt``; each utterance is heard at ``--shifts`` sub-frame
offsets (a microphone capture never starts on the same sample), because Whisper base's answer on
one recording can flip with a 10 ms shift.

    python scripts/bench_asr_window.py [--n 40] [--pads 4 6 8] [--markdown]
    python scripts/bench_asr_window.py --prompt [--shifts 0 160 320] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics as st
import sys
import tempfile
import wave
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from make_bench_wavs import check_tools, render  # noqa: E402 - the one espeak-ng rendering (this script's folder)

from bantz_voice.bench.stats import percentile  # noqa: E402 - the checkout's package, not an installed copy

DEV = ROOT.parent / "shared" / "eval" / "nlu_dev.jsonl"
if not DEV.is_file():
    DEV = ROOT / "tests" / "data" / "nlu_dev.jsonl"


def _read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16)


def _trim(a: np.ndarray) -> np.ndarray:
    idx = np.nonzero(np.abs(a) > 300)[0]
    return a[: idx[-1] + 1] if len(idx) else a


def utterances(n: int, dev: Path) -> list[tuple[str, np.ndarray]]:
    check_tools()
    lines = [json.loads(ln)["text"] for ln in dev.read_text(encoding="utf-8").splitlines() if ln.strip()]
    picked = lines[:: max(1, len(lines) // n)][:n]
    out: list[tuple[str, np.ndarray]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(picked):
            out.append((text, _trim(_read(render(text, 160, Path(tmp) / f"u{i}.wav", pad=None)))))
    bench = ROOT / "tests" / "data" / "bench"
    for ln in (bench / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(ln)
        out.append((row["text"], _trim(_read(bench / row["file"]))))
    return out


def _norm(s: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", s.replace("I", "ı").replace("İ", "i").lower()).split())


def shifted(items: list[tuple[str, np.ndarray]], shifts: list[int]) -> list[tuple[str, np.ndarray]]:
    """Each utterance after 300 ms + ``shift`` samples of faint noise (a capture's pre-roll)."""
    rng = np.random.default_rng(2)
    out = []
    for ref, a in items:
        for k in shifts:
            x = np.concatenate([np.zeros(4800 + k), a, np.zeros(6720)])
            out.append((ref, (x + rng.normal(0, 3, x.size)).astype(np.int16)))
    return out


def measure(tr, window: str, items: list[tuple[str, np.ndarray]], noise: list[np.ndarray]) -> dict:
    import jiwer

    from bantz_voice.turkish.nlu import parse

    secs, cers, agree, dropped = [], [], 0, 0
    for ref, audio in items:
        r = tr.transcribe(audio, window=window)
        secs.append(r.seconds)
        dropped += bool(r.dropped)
        cers.append(jiwer.cer(_norm(ref), _norm(r.text)) if r.text else 1.0)
        agree += parse(ref).intent == parse(r.text).intent
    invented = sum(bool(tr.transcribe(x, window=window).text) for x in noise)
    ms = [s * 1000 for s in secs]
    return {
        "ms_p50": percentile(ms, 50, ndigits=0), "ms_p95": percentile(ms, 95, ndigits=0),
        "cer_mean": round(st.mean(cers), 3), "cer_median": round(st.median(cers), 3),
        "dropped": dropped, "intent_agree": agree, "n": len(items), "noise_texts": invented, "noise_n": len(noise),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=40, help="dev-set sentences to speak")
    p.add_argument("--pads", type=float, nargs="+", default=[4.0, 6.0, 8.0], help="window_pad_s values for 'fit'")
    p.add_argument("--dev", type=Path, default=DEV)
    p.add_argument("--prompt", action="store_true", help="compare initial-prompt handling instead of windows")
    p.add_argument("--shifts", type=int, nargs="+", default=[0, 160, 320], help="offsets in samples (--prompt)")
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)

    from bantz_voice.asr import Transcriber
    from bantz_voice.config import load_settings

    settings = load_settings()
    items = utterances(args.n, args.dev)
    rng = np.random.default_rng(1)
    noise = [(rng.standard_normal(16000 * d) * amp).astype(np.int16) for d in (1, 2, 3) for amp in (200, 1000, 3000)]
    rows = []
    if args.prompt:
        items = shifted(items, args.shifts)
        tr = Transcriber(settings.asr)
        base = settings.asr
        for label, update in [
            ("prompt, no retry", {"retry_without_prompt": False}),
            ("no prompt", {"initial_prompt": ""}),
            ("prompt, retry without it", {"retry_without_prompt": True}),
        ]:
            tr.settings = base.model_copy(update=update)
            rows.append({"window": label, **measure(tr, base.window, items, noise)})
    for window, pad in [] if args.prompt else [("full", None)] + [("fit", x) for x in args.pads]:
        asr = settings.asr.model_copy(update={"window": window, **({"window_pad_s": pad} if pad else {})})
        tr = Transcriber(asr)
        rows.append({"window": "30 s (full)" if window == "full" else f"fit, +{pad:g} s", **measure(tr, window, items, noise)})
        del tr
    if not args.markdown:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    load = [round(x, 2) for x in os.getloadavg()]
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPU, {platform.system()} {platform.release()} "
          f"(load average at the end {load}). Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
          f"Model: {settings.asr.model} {settings.asr.compute_type}, beam {settings.asr.beam_size}, {len(items)} utterances.\n")
    print("Command: `python scripts/bench_asr_window.py " + " ".join(argv or sys.argv[1:]) + "`\n")
    print(f"| {'initial prompt' if args.prompt else 'window'} | Whisper time p50 / p95 | CER mean / median | dropped by the guard | same fast-path intent as the text | noise → text |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['window']} | {r['ms_p50']} / {r['ms_p95']} ms | {r['cer_mean']:.3f} / {r['cer_median']:.3f} | "
              f"{r['dropped']}/{r['n']} | {r['intent_agree']}/{r['n']} | {r['noise_texts']}/{r['noise_n']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
