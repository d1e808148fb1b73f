#!/usr/bin/env python3
"""Choose the wake-word stage's decision rule (``wake.threshold``, ``wake.confirm_k``/``confirm_n``)
on the tuning split, never on the benchmark's held-out set.

Input: an ``.npz`` of per-window scores from scripts/wakeword_scores.py (``--split tune``: espeak-ng
voices in neither the training nor the benchmark's list, its own seed, the sound-alike words added to
the near words). For every k-of-n rule and threshold it counts recall on the "Bantz, …" utterances
and false wakes per hour of the speech without the name, exactly as the runtime decides
(``bantz_voice.wake.rule_score`` over the windows the runtime scores, short utterances padded to n).
An optional level precondition (a window counts only when its RMS level is within ``D`` dB of the
utterance's loudest window) is evaluated beside it.

Choice: among rules whose recall on the split is at least ``--min-recall`` (default: the baseline's,
1 of 1 at 0.5), the fewest false wakes; ties go to the higher recall, then the rule whose
range of equally good thresholds is widest (its threshold in the middle of that range: margin on
both sides), then the simpler rule (no level precondition, smaller n).

    python scripts/tune_wakeword.py /tmp/tune.npz [/tmp/tune_piper.npz] [--min-recall 0.98] [--json out.json]
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

from bantz_voice.wake import rule_score  # noqa: E402

THRESHOLDS = np.round(np.arange(0.30, 0.991, 0.01), 2)
RULES = [(1, 1), (2, 2), (2, 3), (3, 3), (2, 4), (3, 4), (4, 4), (3, 5), (4, 5), (4, 6), (5, 6)]


def utterance_scores(data: dict[str, np.ndarray], k: int, n: int, level_db: float | None = None) -> np.ndarray:
    """The rule's score of every utterance (what ``OnnxWakeDetector.detect`` compares with the threshold)."""
    out = np.empty(len(data["labels"]))
    for i, (row, w, lev) in enumerate(zip(data["scores"], data["windows"], data["levels"], strict=True)):
        m = min(len(row), max(int(w), n))
        s = row[:m].copy()
        if level_db is not None:
            s[lev[:m] < lev[:m].max() - level_db] = 0.0
        out[i] = rule_score(s, k, n)
    return out


def table(data: dict[str, np.ndarray], scores: np.ndarray) -> dict[str, np.ndarray]:
    pos = data["labels"] == 1
    neg_hours = float(data["seconds"][~pos].sum()) / 3600
    recall = np.array([(scores[pos] >= t).mean() for t in THRESHOLDS])
    fw = np.array([(scores[~pos] >= t).sum() for t in THRESHOLDS])
    return {"recall": recall, "false_wakes": fw, "per_hour": fw / neg_hours}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scores", type=Path, nargs="+", help="one or more .npz files of the split (joined)")
    ap.add_argument("--levels", default="none,20,12,8", help="level preconditions (dB below the loudest window) to try")
    ap.add_argument("--min-recall", type=float, default=None,
                    help="eligible rules keep at least this recall on the split (default: the baseline's, "
                         "1 of 1 at 0.5 with the model that scored the split)")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)

    files = [np.load(f) for f in a.scores]
    if len({str(f["split"]) for f in files}) != 1:
        raise SystemExit("the files come from different splits")
    data = {k: np.concatenate([f[k] for f in files]) for k in ("scores", "windows", "levels", "labels", "sets", "seconds")}
    pos = data["labels"] == 1
    neg_hours = float(data["seconds"][~pos].sum()) / 3600
    models = {str(f["model"]) if "model" in f.files else "packaged" for f in files}
    if len(models) != 1:
        raise SystemExit(f"the files were scored by different models: {sorted(models)}")
    print(f"model {models.pop()}; split {files[0]['split']}: {int(pos.sum())} wake utterances, {int((~pos).sum())} without "
          f"the name ({neg_hours:.2f} h); sets {sorted(set(data['sets'].tolist()))}")
    base = table(data, utterance_scores(data, 1, 1))
    i05 = int(np.argmin(np.abs(THRESHOLDS - 0.5)))
    base_recall = float(base["recall"][i05])
    print(f"baseline 1 of 1 at 0.50: recall {base_recall:.4f}, {int(base['false_wakes'][i05])} false wakes "
          f"({base['per_hour'][i05]:.2f}/h)")
    floor = base_recall if a.min_recall is None else a.min_recall
    print(f"eligible: recall >= {floor:.4f}")

    candidates: list[dict[str, Any]] = []
    for lv in a.levels.split(","):
        level = None if lv == "none" else float(lv)
        for k, n in RULES:
            t = table(data, utterance_scores(data, k, n, level))
            ok = np.nonzero(t["recall"] >= floor - 1e-9)[0]
            if ok.size == 0:
                continue
            fw_min = int(t["false_wakes"][ok].min())
            tied = ok[t["false_wakes"][ok] == fw_min]
            best_recall = float(t["recall"][tied].max())
            tied = tied[t["recall"][tied] == best_recall]
            j = int(tied[len(tied) // 2])
            row: dict[str, Any] = {"k": k, "n": n, "level_db": level, "threshold": float(THRESHOLDS[j]), "recall": round(best_recall, 4),
                   "false_wakes": fw_min, "per_hour": round(fw_min / neg_hours, 2),
                   "tied_thresholds": [float(THRESHOLDS[tied[0]]), float(THRESHOLDS[tied[-1]])]}
            candidates.append(row)
            print(f"{k} of {n}, level {lv:>4}: threshold {row['threshold']:.2f} (tied {row['tied_thresholds']}) recall "
                  f"{row['recall']:.4f}, {fw_min} false wakes ({row['per_hour']:.2f}/h)")
    # fewest false wakes, then recall, then the widest range of thresholds that give both (margin
    # against a shifted score distribution), then no level precondition, then the simpler rule
    candidates.sort(key=lambda r: (r["false_wakes"], -r["recall"], r["tied_thresholds"][0] - r["tied_thresholds"][1],
                                   r["level_db"] is not None, r["n"], r["k"]))
    best = candidates[0]
    chosen = utterance_scores(data, best["k"], best["n"], best["level_db"]) >= best["threshold"]
    baseline = utterance_scores(data, 1, 1) >= 0.5
    best["per_set"] = {}
    for name in sorted(set(data["sets"].tolist())):
        m = data["sets"] == name
        best["per_set"][name] = {"utterances": int(m.sum()), "fired": int(chosen[m].sum()),
                                 "fired_baseline": int(baseline[m].sum())}
    print("chosen:", json.dumps(best))
    if a.json:
        a.json.write_text(json.dumps({"baseline": {"recall": base_recall, "false_wakes": int(base["false_wakes"][i05])},
                                      "min_recall": floor,
                                      "chosen": best, "candidates": candidates}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
