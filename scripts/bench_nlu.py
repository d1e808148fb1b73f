#!/usr/bin/env python3
"""Fast-path NLU benchmark: latency of ``turkish.nlu.parse`` (p50/p95/p99/max over every
sentence of the labelled sets, several rounds) and accuracy per set (rules only, now =
2026-11-26T10:00 Europe/Istanbul), plus how often a confident (>= 0.8) decision is fully right.

    .venv/bin/python scripts/bench_nlu.py [--rounds 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bantz_voice.bench.stats import percentile  # noqa: E402
from bantz_voice.turkish.evaluate import load_cases, score, slot_matches  # noqa: E402
from bantz_voice.turkish.nlu import parse  # noqa: E402

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Europe/Istanbul"))
SETS = {
    "dev (shared sample)": ROOT / "tests/data/nlu_dev.jsonl",
    "corpus (tuned on)": ROOT / "tests/data/nlu_corpus.jsonl",
    "held-out (unseen)": ROOT / "tests/data/nlu_heldout.jsonl",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    results: dict[str, dict] = {}
    all_texts: list[str] = []
    for name, path in SETS.items():
        cases = load_cases(path)
        all_texts += [c.text for c in cases]
        preds = [parse(c.text, NOW).to_json_dict() for c in cases]
        rep = score(cases, preds)
        conf = [(c, p) for c, p in zip(cases, preds) if p["confidence"] >= 0.8]
        conf_ok = sum(
            1
            for c, p in conf
            if p["intent"] == c.intent and all(slot_matches(k, v, p["slots"].get(k)) for k, v in c.slots.items())
        )
        results[name] = {
            "n": rep.total,
            "route": rep.route_acc,
            "intent": rep.intent_acc,
            "slots": rep.slot_acc,
            "confident_share": len(conf) / rep.total,
            "confident_precision": conf_ok / len(conf) if conf else 1.0,
        }

    for t in all_texts[:50]:  # warm-up (imports, regex caches)
        parse(t, NOW)
    samples: list[float] = []
    for _ in range(args.rounds):
        for t in all_texts:
            t0 = time.perf_counter()
            parse(t, NOW)
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    lat = {
        "calls": len(samples),
        "p50_ms": percentile(samples, 50, ndigits=4),
        "p95_ms": percentile(samples, 95, ndigits=4),
        "p99_ms": percentile(samples, 99, ndigits=4),
        "max_ms": samples[-1],
        "mean_ms": statistics.fmean(samples),
    }
    if args.json:
        print(json.dumps({"accuracy": results, "latency": lat, "python": platform.python_version()}, indent=2))
        return 0
    print(f"{'set':<22} {'n':>4} {'route':>7} {'intent':>7} {'slots':>7} {'conf.share':>10} {'conf.prec':>9}")
    for name, r in results.items():
        print(
            f"{name:<22} {r['n']:>4} {r['route']:>7.1%} {r['intent']:>7.1%} {r['slots']:>7.1%}"
            f" {r['confident_share']:>10.1%} {r['confident_precision']:>9.1%}"
        )
    print(
        f"\nparse latency over {lat['calls']} calls: p50 {lat['p50_ms']:.3f} ms, p95 {lat['p95_ms']:.3f} ms,"
        f" p99 {lat['p99_ms']:.3f} ms, max {lat['max_ms']:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
