#!/usr/bin/env python3
"""Train the "Bantz" wake-word model and export it to ONNX (bantz_voice/data/wake/bantz.onnx).

Training-time only dependencies (never needed at run time, where onnxruntime runs the model):
``pip install -e .[train-wakeword]`` = torch==2.13.0 heed-wakeword onnx (CPU torch; heed-wakeword provides the network,
a depthwise-separable 1-D CNN over 40 log-mel bands). Data: scripts/wakeword_data.py (espeak-ng
Turkish voices, rates, pitches, reverberation, noise; Turkish negatives incl. near words and, with --hard,
sound-alike hard negatives disjoint from the benchmark's and the tuning split's).
Features: bantz_voice/wake/features.py (numpy, the same code the runtime uses).

    nice -n 19 python scripts/train_wakeword.py [--seed 7] [--pos 900 --neg 1400 --near 500 --hard 600]

Deterministic for a seed (torch on CPU, one thread). Writes bantz.onnx and bantz.json (threshold
calibrated on a validation split, recipe, sizes) next to it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import wakeword_data as wd  # noqa: E402

from bantz_voice.wake import features as F  # noqa: E402

OUT = ROOT / "bantz_voice" / "data" / "wake"


def windows_of(clip: wd.Clip, rng: random.Random) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(positive windows, negative windows) of one utterance: a window is positive when it holds
    the whole name, negative when it holds none of it; the rest is ambiguous and left out."""
    head = clip.audio[: int(F.SAMPLE_RATE * 3.0)]
    frames = F.log_mel_frames(head)
    last = frames.shape[0] - F.WINDOW_FRAMES
    pos: list[int] = []
    neg: list[int] = []
    hop_s = F.HOP / F.SAMPLE_RATE
    for s in range(0, max(0, last) + 1, 5):
        t0, t1 = s * hop_s, s * hop_s + F.WINDOW_S
        if clip.label == 1 and t0 <= clip.wake_start_s - 0.02 and t1 >= clip.wake_end_s + 0.03:
            pos.append(s)
        elif (clip.label == 0 or t0 >= clip.wake_end_s - 0.05 or t1 <= clip.wake_start_s + 0.05) and s <= 200:
            neg.append(s)  # the stage scans the first ~2.6 s
    if clip.label == 1 and not pos:  # a slow name: the window that ends just after it
        s = int(max(0.0, clip.wake_end_s + 0.03 - F.WINDOW_S) / hop_s)
        if s <= last:
            pos.append(s)
    if len(neg) > 12:
        neg = rng.sample(neg, 12)
    take = lambda idx: list(F.windows(frames, idx)) if idx else []  # noqa: E731
    return take(pos), take(neg)


def _synth(args: tuple[list[dict], int, int, int]) -> list[wd.Clip]:
    groups, seed, copies, babble_seed = args
    return wd.synthesise(groups, seed, True, wd.babble_pool(babble_seed), copies=copies, max_s=3.0)


def build(groups: list[dict], seed: int, copies: int, workers: int) -> list[wd.Clip]:
    jobs = [(groups[i::workers], seed * 100 + i, copies, seed) for i in range(workers)]
    with mp.Pool(workers) as pool:
        return [clip for part in pool.map(_synth, jobs) for clip in part]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pos", type=int, default=900)
    ap.add_argument("--neg", type=int, default=1400)
    ap.add_argument("--near", type=int, default=500)
    ap.add_argument("--hard", type=int, default=0,
                    help="hard negatives: sound-alike words (wakeword_data.HARD_NEGATIVES_TRAIN) alone or opening a sentence")
    ap.add_argument("--copies", type=int, default=2, help="augmented renderings per utterance")
    ap.add_argument("--epochs", type=int, default=14)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)

    import torch
    from heed.model import TinyWakeWordNet

    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    rng = random.Random(a.seed)
    t0 = time.time()
    groups = wd.utterance_specs("train", a.pos, a.neg, a.near, a.seed, n_hard=a.hard)
    n_val = len(groups) // 10  # whole voices held out for the threshold
    val_groups, train_groups = groups[:n_val], groups[n_val:]
    train_clips = build(train_groups, a.seed, a.copies, a.workers)
    val_clips = build(val_groups, a.seed + 1, 1, a.workers)
    print(f"synthesised {len(train_clips)} + {len(val_clips)} utterances in {time.time() - t0:.0f} s", flush=True)

    xs: list[np.ndarray] = []
    ys: list[float] = []
    for clip in train_clips:
        p, n = windows_of(clip, rng)
        xs += p + n
        ys += [1.0] * len(p) + [0.0] * len(n)
    X = torch.from_numpy(np.stack(xs))
    Y = torch.tensor(ys)
    print(f"{int(Y.sum())} positive / {int((1 - Y).sum())} negative windows", flush=True)

    model = TinyWakeWordNet(n_mels=F.N_MELS, channels=48, n_blocks=4)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=a.epochs * (len(Y) // 128 + 1))
    pos_weight = ((1 - Y).sum() / Y.sum().clamp(min=1)).sqrt()
    lossf = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    g = torch.Generator().manual_seed(a.seed)
    for epoch in range(a.epochs):
        model.train()
        perm = torch.randperm(len(Y), generator=g)
        total = 0.0
        for i in range(0, len(Y), 128):
            idx = perm[i : i + 128]
            xb = X[idx].clone()
            # SpecAugment: one band and one time span masked per example
            for j in range(xb.shape[0]):
                f0 = int(torch.randint(0, F.N_MELS - 6, (1,), generator=g))
                xb[j, f0 : f0 + int(torch.randint(0, 6, (1,), generator=g))] = 0
                t0_ = int(torch.randint(0, F.WINDOW_FRAMES - 10, (1,), generator=g))
                xb[j, :, t0_ : t0_ + int(torch.randint(0, 10, (1,), generator=g))] = 0
            loss = lossf(model(xb), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        print(f"epoch {epoch + 1}: loss {total / len(Y):.4f}", flush=True)

    # utterance-level validation: max over the windows the runtime scans
    model.eval()
    scan = int(round(1.6 * F.SAMPLE_RATE / F.HOP))
    pos_scores, neg_scores = [], []
    with torch.no_grad():
        for clip in val_clips:
            frames = F.log_mel_frames(clip.audio[: int(F.SAMPLE_RATE * 2.6)])
            s = float(torch.sigmoid(model(torch.from_numpy(F.windows(frames, max_start=scan)))).max())
            (pos_scores if clip.label else neg_scores).append(s)
    neg_sorted = sorted(neg_scores)
    # threshold: above the 99.5th percentile of negatives, never above the 2nd-percentile positive
    thr = float(np.clip(max(0.5, np.percentile(neg_sorted, 99.5) + 0.02), 0.05, 0.97))
    recall = float(np.mean([s >= thr for s in pos_scores]))
    fa = float(np.mean([s >= thr for s in neg_scores]))
    print(f"validation: threshold {thr:.3f} recall {recall:.3f} false-accept {fa:.4f} "
          f"({len(pos_scores)} pos / {len(neg_scores)} neg)", flush=True)

    a.out.mkdir(parents=True, exist_ok=True)
    onnx_path = a.out / "bantz.onnx"
    dummy = torch.zeros(1, F.N_MELS, F.WINDOW_FRAMES)
    torch.onnx.export(model, dummy, str(onnx_path), input_names=["mel"], output_names=["logit"],
                      dynamic_axes={"mel": {0: "batch"}, "logit": {0: "batch"}}, opset_version=17, dynamo=False)
    meta = {
        "phrase": "Bantz", "threshold": round(thr, 3), "seed": a.seed, "features": "bantz_voice/wake/features.py",
        "window_s": F.WINDOW_S, "n_mels": F.N_MELS, "params": sum(p.numel() for p in model.parameters()),
        "train_utterances": len(train_clips), "windows": {"positive": int(Y.sum()), "negative": int((1 - Y).sum())},
        "validation": {"recall": recall, "false_accept": fa, "positives": len(pos_scores), "negatives": len(neg_scores)},
        "recipe": f"scripts/train_wakeword.py --seed {a.seed} --pos {a.pos} --neg {a.neg} --near {a.near} "
                  f"--hard {a.hard} --copies {a.copies} --epochs {a.epochs}",
        "torch": torch.__version__,
    }
    (a.out / "bantz.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size / 1024:.0f} KB) in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
