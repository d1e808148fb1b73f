#!/usr/bin/env python3
"""Per-window scores of the wake-word model on a rendered set, cached for tuning the decision rule.

Renders a split of scripts/wakeword_data.py (clean and noisy copies), runs the runtime detector's
``OnnxWakeDetector.scores`` (bantz_voice/wake; the packaged model, or ``--model``) over each utterance, padded with
silence to at least ``--min-windows`` windows (padding never changes an earlier window's score), and
writes an ``.npz`` with the score matrix (one row per utterance, -1 where there is no window), the
number of windows of the unpadded utterance, each window's RMS level (dBFS), labels and set names.
scripts/tune_wakeword.py chooses the decision rule from such a file.

    nice -n 10 python scripts/wakeword_scores.py --split tune --out /tmp/tune.npz
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import wakeword_data as wd  # noqa: E402

from bantz_voice.wake import OnnxWakeDetector  # noqa: E402
from bantz_voice.wake import features as F  # noqa: E402

SEEDS = {"tune": 2002, "heldout": 1001}
MAX_WINDOWS = 17  # scan_s 1.6 s: windows starting at 0.0 … 1.6 s


def _render(args: tuple[str, list[dict], int, bool]) -> list[wd.Clip]:
    split, groups, seed, noisy = args
    return wd.synthesise(groups, seed, noisy, wd.babble_pool(seed) if noisy else None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=sorted(SEEDS), default="tune")
    ap.add_argument("--pos", type=int, default=200)
    ap.add_argument("--neg", type=int, default=800)
    ap.add_argument("--near", type=int, default=200)
    ap.add_argument("--piper", type=int, default=0,
                    help="also this many Piper utterances with and as many without the name (the project's voice)")
    ap.add_argument("--espeak", action=argparse.BooleanOptionalAction, default=True, help="the espeak-ng sets")
    ap.add_argument("--model", type=Path, action="append", default=None,
                    help="the wake-word model to score with (default: the packaged bantz_voice/data/wake/bantz.onnx); "
                         "repeatable: every model scores the same rendered audio (scripts/tune_agreement.py)")
    ap.add_argument("--min-windows", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)

    seed = SEEDS[a.split]
    t0 = time.time()
    groups = wd.utterance_specs(a.split, a.pos, a.neg, a.near, seed)
    jobs = [(a.split, groups[i:: a.workers], seed * 10 + i, noisy) for noisy in (False, True) for i in range(a.workers)]
    rendered: list[tuple[str, wd.Clip]] = []
    if a.espeak:
        with mp.Pool(a.workers) as pool:
            parts = pool.map(_render, jobs)
        for (_, _, _, noisy), clips in zip(jobs, parts, strict=True):
            rendered += [(("noisy_" if noisy else "clean_") + ("pos" if c.label else "neg"), c) for c in clips]
    if a.piper:
        from bench_wakeword import piper_clips

        rendered += [("piper_" + ("pos" if c.label else "neg"), c) for c in piper_clips(a.piper, a.piper, seed)]
    dets = [OnnxWakeDetector(m) for m in (a.model or [None])]
    det = dets[0]
    rows, orig, levels, labels, sets, secs = [], [], [], [], [], []
    more: list[list[np.ndarray]] = [[] for _ in dets[1:]]
    for set_name, c in rendered:
        x = np.clip(c.audio, -1, 1)
        need = int(F.SAMPLE_RATE * (F.WINDOW_S + (a.min_windows - 1) * F.STEP_FRAMES * F.HOP / F.SAMPLE_RATE)) + 1
        n_orig = det.scores(x).size
        xp = np.concatenate([x, np.zeros(max(0, need - x.size), np.float32)])
        s = det.scores(xp)
        row = -np.ones(MAX_WINDOWS)
        row[: s.size] = s
        lev = np.full(MAX_WINDOWS, -120.0)
        for i in range(s.size):
            w = xp[int(i * 0.1 * F.SAMPLE_RATE): int((i * 0.1 + 1.0) * F.SAMPLE_RATE)]
            lev[i] = 10 * np.log10(float((w.astype(np.float64) ** 2).mean()) + 1e-12)
        rows.append(row)
        for extra, d in zip(more, dets[1:], strict=True):
            s2 = d.scores(xp)
            row2 = -np.ones(MAX_WINDOWS)
            row2[: s2.size] = s2
            extra.append(row2)
        orig.append(n_orig)
        levels.append(lev)
        labels.append(c.label)
        sets.append(set_name)
        secs.append(x.size / F.SAMPLE_RATE)
    np.savez(a.out, scores=np.array(rows), windows=np.array(orig), levels=np.array(levels), labels=np.array(labels),
             sets=np.array(sets), seconds=np.array(secs), split=a.split, seed=seed,
             model=str(det.model_path),
             # every model's scores on the same audio (the first is ``scores``), in the order of --model
             models=np.array([str(d.model_path) for d in dets]),
             scores_by_model=np.stack([np.array(rows)] + [np.array(e) for e in more]))
    print(f"{len(rows)} utterances ({sum(secs) / 3600:.2f} h) in {time.time() - t0:.0f} s -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
