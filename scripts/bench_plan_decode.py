#!/usr/bin/env python3
"""The orchestrator step's constrained decode on the embedded model: tokens generated and wall time
of ``bantz_voice.brain.orchestrator.plan`` for Turkish calendar requests the fast path leaves to
the LLM (issue 11/13: a follow-up's plan ran into the 20 s LLM timeout on the CPU fallback model).

Default settings (the daemon's): the configured models through the model manager, which offline
falls back to SmolLM2-135M-Instruct for every role; the orchestrator's prefix is warmed first, as
``Brain.warmup()`` does. Tokens are counted at llama.cpp's sampler (every sampled token, the
end-of-sequence included), so they do not depend on how the text is split into pieces.

    nice -n 10 .venv/bin/python scripts/bench_plan_decode.py [--json]
    # A/B in one run: two workers (the tree given with --before, e.g. an unpacked older commit, and
    # this checkout) get the same requests alternately, request by request
    git archive <commit> bantz_voice | tar -x -C /tmp/before
    nice -n 10 .venv/bin/python scripts/bench_plan_decode.py --before /tmp/before --markdown
    # tokens of whole plans, whatever the load: lift the timeout for both
    BANTZ_MODELS__ORCHESTRATOR__TIMEOUT_S=300 .venv/bin/python scripts/bench_plan_decode.py --before /tmp/before
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent

# LLM-routed calendar requests: below the fast path's confidence (checked at start) — from the
# project's NLU sets (tests/data/nlu_*.jsonl)
REQUESTS = [
    "buluşmayı yarım saat ileri al",
    "takvimimi göster",
    "toplantıyı saat üçe al",
    "basketbolu akşam sekize al",
    "mülakatı bir saat ileri al",
    "dişçi randevusunu saat 14:30'a değiştir",
    "kahvaltıyı yarım saat erkene al",
    "semineri saat dörde çek",
    "yeni bir randevu oluştur",
    "kuaför randevum hangi gün",
]
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Europe/Istanbul"))


# --- worker: one process, one tree ----------------------------------------------------------------
async def worker() -> None:
    """Reads one request per stdin line, answers one JSON line per request."""
    from bantz_voice.brain import _warm
    from bantz_voice.brain.orchestrator import plan
    from bantz_voice.brain.router import fast_path, rules_decide
    from bantz_voice.config import load_settings
    from bantz_voice.llm import Backends

    settings = load_settings()  # the daemon's: defaults, the user's files, BANTZ_* variables
    llm = Backends(settings.models)
    backend: Any = llm.for_role("orchestrator")
    await _warm(llm)
    eng = backend._get_engine()
    sampled = [0]
    original = eng.llm.sample

    def counting_sample(*a: Any, **kw: Any) -> Any:
        sampled[0] += 1
        return original(*a, **kw)

    eng.llm.sample = counting_sample
    params = llm.params("orchestrator")
    print(json.dumps({"ready": True, "model": eng.path.name, "max_tokens": params.max_tokens,
                      "timeout_s": params.timeout_s}), flush=True)
    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        rules = fast_path(text, NOW)
        sampled[0] = 0
        t0 = time.perf_counter()
        try:
            p, _ = await plan(llm, text, NOW)
            outcome, intent = "ok", p.intent.value
        except Exception as exc:
            outcome, intent = type(exc).__name__, None
        wall = time.perf_counter() - t0
        print(json.dumps({"text": text, "llm_routed": rules_decide(rules, text, NOW, settings) is None,
                          "outcome": outcome, "intent": intent, "tokens": sampled[0], "wall_s": round(wall, 3)}),
              flush=True)
    await llm.aclose()


# --- driver ---------------------------------------------------------------------------------------
class Worker:
    def __init__(self, label: str, tree: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(tree))
        self.label = label
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker"], env=env, cwd=str(ROOT), text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.meta = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.label} exited (rc {self.proc.wait()})")
        out: dict[str, Any] = json.loads(line)
        return out

    def ask(self, text: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(60)


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    from bantz_voice.bench.stats import percentile

    return {
        "n": len(rows),
        "ok": sum(r["outcome"] == "ok" for r in rows),
        "tokens_p50": percentile([r["tokens"] for r in rows], 50),
        "tokens_max": max(r["tokens"] for r in rows),
        "wall_p50_s": percentile([r["wall_s"] for r in rows], 50, 2),
        "wall_max_s": max(r["wall_s"] for r in rows),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--before", type=Path, help="a tree holding an older bantz_voice/ to compare with (A/B)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    if args.worker:
        asyncio.run(worker())
        return 0
    sys.path.insert(0, str(ROOT))
    trees = ([("before", args.before.resolve())] if args.before else []) + [("after", ROOT)]
    workers = [Worker(label, tree) for label, tree in trees]
    rows: dict[str, list[dict[str, Any]]] = {w.label: [] for w in workers}
    try:
        for i, text in enumerate(REQUESTS):
            order = workers if i % 2 == 0 else workers[::-1]  # alternate who goes first
            for w in order:
                rows[w.label].append(w.ask(text))
    finally:
        for w in workers:
            w.close()
    result = {
        "meta": {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": f"{platform.machine()}, "
                 f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
                 "workers": {w.label: w.meta for w in workers}},
        "summary": {label: summary(r) for label, r in rows.items()},
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    elif args.markdown:
        labels = list(rows)
        print("| request | " + " | ".join(f"{lb}: tokens / wall / outcome" for lb in labels) + " |")
        print("| --- | " + " | ".join("---" for _ in labels) + " |")
        for i, text in enumerate(REQUESTS):
            cells = [f"{rows[lb][i]['tokens']} / {rows[lb][i]['wall_s']:.2f} s / {rows[lb][i]['outcome']}" for lb in labels]
            print(f"| {text} | " + " | ".join(cells) + " |")
        for lb in labels:
            print(f"\n{lb}: {json.dumps(result['meta']['workers'][lb])} {json.dumps(result['summary'][lb])}")
    else:
        for lb, r in rows.items():
            for row in r:
                print(lb, row)
            print(lb, result["summary"][lb])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
