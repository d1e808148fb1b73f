#!/usr/bin/env python3
"""Tokens the orchestrator's ``reasoning`` line costs on the critical path (brain.debug_reasoning).

Counts, with real GGUF tokenizers the model manager can provide offline, the tokens of the
orchestrator's few-shot answers — the shape a well-behaved model answers in — with and without
the reasoning line, and of the whole orchestrator prompt (its stable part is cached, the answer
is generated token by token). The time is the tokens at the planner's decode speed of the
3B router/orchestrator (``doctor --vram``: gguf-split on an RTX 4060, CPU default here).

    .venv/bin/python scripts/bench_plan_tokens.py [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bantz_voice.brain import prompts
from bantz_voice.brain.orchestrator import orchestrator_parts
from bantz_voice.doctor.vram import plan, profiles
from bantz_voice.models import pull

TOKENIZERS = ("qwen2.5-3b-instruct-q4_k_m", "smollm2-135m-instruct", "gemma-3-270m-q4_k_m")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from llama_cpp import Llama

    router = plan(profiles()["gguf-split"]).latency.role("orchestrator")
    rows = []
    for key in TOKENIZERS:
        try:
            path = pull(key, allow_hub=False)
        except Exception:
            continue
        tok = Llama(model_path=str(path), vocab_only=True, verbose=False)

        def n(text: str) -> int:
            return len(tok.tokenize(text.encode(), add_bos=False, special=True))  # noqa: B023

        with_r = [n(a) for _, a in prompts.orchestrator_shots(reasoning=True)]
        without = [n(a) for _, a in prompts.orchestrator_shots(reasoning=False)]
        saved = statistics.mean(w - o for w, o in zip(with_r, without))
        prompt_with = sum(n(m["content"]) for m in orchestrator_parts("yarın saat üçte doktor randevusu ekle", reasoning=True).messages())
        prompt_without = sum(n(m["content"]) for m in orchestrator_parts("yarın saat üçte doktor randevusu ekle").messages())
        rows.append({
            "tokenizer": key,
            "answer_tokens_with_reasoning": round(statistics.mean(with_r), 1),
            "answer_tokens_without": round(statistics.mean(without), 1),
            "generated_tokens_saved": round(saved, 1),
            "prompt_tokens_saved": prompt_with - prompt_without,
            "ms_saved_at_gpu_3b": round(saved * 1000 / router.tok_s, 1),
        })
        tok.close()
    out = {"gpu_3b_tok_s_estimate": router.tok_s, "rows": rows}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"orchestrator decode speed (gguf-split, estimate): {router.tok_s} token/s")
        for r in rows:
            print(r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
