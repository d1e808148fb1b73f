#!/usr/bin/env python3
"""Choose a two-model agreement rule for the wake-word stage (``wake.agree``, ``wake.agree_within``)
on the tuning split, never on the benchmark's held-out set.

Input: ``.npz`` files from scripts/wakeword_scores.py run with two ``--model`` options (both
models score the same rendered audio: ``scores_by_model``). The rule: model A fires in window
``i`` (score ``>= tA``), model B in window ``j`` (score ``>= tB``) and ``|i - j| <= L`` windows
(1 s windows, 100 ms apart; L = 9: overlapping windows; 16: anywhere in the 1.6 s scan). Each
model's own rule is 1 of 1 (both shipped rules are). Every pair of thresholds on a 0.01 grid
and every L in ``--within`` is counted exactly as the runtime decides
(``bantz_voice.wake.fired_windows`` + ``agree``; the chosen rule is re-checked utterance by
utterance with those functions).

Choice: among rules whose recall on the whole split is at least ``--min-recall`` (default 0.98,
the adoption floor), the fewest false wakes; ties go to the higher recall, then to the pair of
thresholds deepest inside the region of equally good pairs (most 0.01 steps of margin in every
direction: a shifted score distribution on other voices changes the result least), then to the
smaller L (stricter alignment).

    python scripts/tune_agreement.py /tmp/tune.npz /tmp/tune_piper.npz [--min-recall 0.98] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bantz_voice.wake import agree, fired_windows  # noqa: E402

THRESHOLDS = np.round(np.arange(0.10, 0.991, 0.01), 2)
WITHIN = (0, 1, 2, 3, 5, 9, 16)


def load(files: list[Path]) -> dict[str, Any]:
    loaded = [np.load(f) for f in files]
    if len({str(f["split"]) for f in loaded}) != 1:
        raise SystemExit("the files come from different splits")
    if any("scores_by_model" not in f.files for f in loaded):
        raise SystemExit("score the split with two --model options (scripts/wakeword_scores.py)")
    models = {tuple(str(m) for m in f["models"]) for f in loaded}
    if len(models) != 1 or len(next(iter(models))) != 2:
        raise SystemExit(f"the files must be scored by the same two models: {sorted(models)}")
    data: dict[str, Any] = {k: np.concatenate([f[k] for f in loaded]) for k in ("windows", "labels", "sets", "seconds")}
    data["by_model"] = np.concatenate([f["scores_by_model"] for f in loaded], axis=1)  # (2, utterances, 17)
    data["models"] = list(next(iter(models)))
    data["split"] = str(loaded[0]["split"])
    return data


def streams(data: dict[str, Any], i: int) -> tuple[np.ndarray, np.ndarray]:
    """The windows the runtime scores for utterance ``i`` (1 of 1: the unpadded utterance's, at least one)."""
    w = max(int(data["windows"][i]), 1)
    return data["by_model"][0, i, :w], data["by_model"][1, i, :w]


def dilated(s: np.ndarray, within: int) -> np.ndarray:
    """Per window, the best score within ``within`` windows of it."""
    return np.array([s[max(0, i - within): i + within + 1].max() for i in range(s.size)])


def fire_grid(data: dict[str, Any], within: int) -> np.ndarray:
    """(utterances, thresholds A, thresholds B) -> fires."""
    n = len(data["labels"])
    out = np.zeros((n, THRESHOLDS.size, THRESHOLDS.size), dtype=bool)
    for i in range(n):
        a, b = streams(data, i)
        bd = dilated(b, within)
        for ia, ta in enumerate(THRESHOLDS):
            m = a >= ta
            if not m.any():
                break  # higher thresholds fire even less
            out[i, ia] = bd[m].max() >= THRESHOLDS
    return out


def margin(mask: np.ndarray) -> np.ndarray:
    """Per cell of ``mask``, how many 3x3 erosions it survives (0 for cells outside it)."""
    depth = np.zeros(mask.shape, dtype=int)
    cur = mask.copy()
    while cur.any():
        depth += cur
        p = np.pad(cur, 1, constant_values=False)
        cur = np.ones_like(cur)
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                cur &= p[dy: dy + mask.shape[0], dx: dx + mask.shape[1]]
    return depth


def runtime_fires(data: dict[str, Any], i: int, ta: float, tb: float, within: int) -> bool:
    a, b = streams(data, i)
    return agree([fired_windows(a, ta), fired_windows(b, tb)], within)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scores", type=Path, nargs="+")
    ap.add_argument("--min-recall", type=float, default=0.98)
    ap.add_argument("--single", default="0.41,0.5", help="each model's own threshold alone, for comparison")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)

    data = load(a.scores)
    pos = data["labels"] == 1
    neg_hours = float(data["seconds"][~pos].sum()) / 3600
    print(f"models A={data['models'][0]} B={data['models'][1]}; split {data['split']}: {int(pos.sum())} wake "
          f"utterances, {int((~pos).sum())} without the name ({neg_hours:.2f} h)")
    singles: dict[str, Any] = {}
    for k, thr in enumerate(float(x) for x in a.single.split(",")):
        best = data["by_model"][k].copy()
        for i in range(len(pos)):
            best[i, max(int(data["windows"][i]), 1):] = -1
        fired = best.max(axis=1) >= thr
        singles["AB"[k]] = {"model": data["models"][k], "threshold": thr, "recall": round(float(fired[pos].mean()), 4),
                            "false_wakes": int(fired[~pos].sum()),
                            "false_wake_sets": sorted(data["sets"][~pos & fired].tolist())}
        print(f"model {'AB'[k]} alone at {thr:.2f}: recall {fired[pos].mean():.4f}, {int(fired[~pos].sum())} false wakes")

    candidates: list[dict[str, Any]] = []
    for within in WITHIN:
        g = fire_grid(data, within)
        recall = g[pos].mean(axis=0)
        fw = g[~pos].sum(axis=0)
        ok = recall >= a.min_recall - 1e-9
        if not ok.any():
            print(f"L={within}: no pair keeps recall >= {a.min_recall}")
            continue
        fw_min = int(fw[ok].min())
        tied = ok & (fw == fw_min)
        best_recall = float(recall[tied].max())
        tied &= recall == best_recall
        depth = margin(tied)
        cells = np.argwhere(depth == depth.max())
        ia, ib = (int(x) for x in cells[len(cells) // 2])
        row = {"within": within, "threshold_a": float(THRESHOLDS[ia]), "threshold_b": float(THRESHOLDS[ib]),
               "recall": round(best_recall, 4), "false_wakes": fw_min, "per_hour": round(fw_min / neg_hours, 2),
               "margin_steps": int(depth.max()) - 1, "tied_pairs": int(tied.sum()),
               "tied_a": [float(THRESHOLDS[np.nonzero(tied.any(axis=1))[0][[0, -1]]][j]) for j in (0, 1)],
               "tied_b": [float(THRESHOLDS[np.nonzero(tied.any(axis=0))[0][[0, -1]]][j]) for j in (0, 1)]}
        candidates.append(row)
        print(f"L={within:2d}: A {row['threshold_a']:.2f} B {row['threshold_b']:.2f} recall {best_recall:.4f}, "
              f"{fw_min} false wakes ({row['per_hour']:.2f}/h); {row['tied_pairs']} equally good pairs "
              f"(A {row['tied_a']}, B {row['tied_b']}), margin {row['margin_steps']} steps")
    if not candidates:
        print("no agreement rule keeps the recall floor")
        return 1
    candidates.sort(key=lambda r: (r["false_wakes"], -r["recall"], -r["margin_steps"], r["within"]))
    best = candidates[0]
    # the runtime's own functions on every utterance: the same counts as the grid
    fires = np.array([runtime_fires(data, i, best["threshold_a"], best["threshold_b"], best["within"])
                      for i in range(len(pos))])
    assert round(float(fires[pos].mean()), 4) == best["recall"] and int(fires[~pos].sum()) == best["false_wakes"]
    best["per_set"] = {name: {"utterances": int((data["sets"] == name).sum()),
                              "fired": int(fires[data["sets"] == name].sum())}
                       for name in sorted(set(data["sets"].tolist()))}
    print("chosen:", json.dumps(best))
    if a.json:
        a.json.write_text(json.dumps({"models": data["models"], "min_recall": a.min_recall, "single": singles,
                                      "chosen": best, "candidates": candidates}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
