#!/usr/bin/env python3
"""Router / orchestrator / chat latency of the embedded llama.cpp backend, with and without the
warm prefix cache (system prompt + few-shot KV snapshots).

Each turn runs the three roles in order on one shared model context (as the brain does), so with
the cache off every call evaluates its whole prompt, and with it on the role's stable prefix is
restored from its snapshot and only the changing tail (user's words) is evaluated.

    .venv/bin/python scripts/bench_brain.py [--gguf PATH] [--iterations 3] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bantz_voice.bench.stats import percentile
from bantz_voice.brain.budget import fit
from bantz_voice.brain.chat import chat_parts
from bantz_voice.brain.orchestrator import orchestrator_parts
from bantz_voice.brain.router import router_parts
from bantz_voice.brain.schemas import OrchestratorOutput, RouterOutput
from bantz_voice.config import EndpointSettings, ModelSettings, load_settings
from bantz_voice.llm import Backends

PROMPTS = [
    "yarın saat üçte doktor randevusu ekle",
    "bu hafta neler planladık",
    "cuma akşamki toplantımı iptal et",
    "bugün kendimi biraz yorgun hissediyorum",
    "haftaya salı sabah dokuzda planlama toplantısı oluştur",
]
ROLES = {
    "router": (router_parts, RouterOutput),
    "orchestrator": (orchestrator_parts, OrchestratorOutput),
    "chat": (lambda text: chat_parts(text, [], []), None),
}


async def run(args: argparse.Namespace) -> dict:
    settings = load_settings()
    ep = EndpointSettings(kind="llamacpp", gguf=args.gguf or settings.models.endpoints[settings.models.chat.endpoint].gguf,
                          n_ctx=4096, n_threads=args.threads)
    models = ModelSettings(
        endpoints={"small": ep, "chat": ep},
        router=settings.models.router, orchestrator=settings.models.orchestrator, chat=settings.models.chat,
    )
    llm = Backends(models)
    backend = llm.for_role("chat")
    t0 = time.monotonic()
    await backend.load()
    load_s = time.monotonic() - t0
    t0 = time.monotonic()
    await backend.warmup([parts("").stable_prefix() for parts, _ in ROLES.values()])
    warm_s = time.monotonic() - t0
    results: dict[str, dict] = {}
    for mode in ("cold", "warm"):
        backend.prefix_cache = mode == "warm"
        samples: dict[str, dict[str, list[float]]] = {r: {"ttft": [], "total": [], "prompt": [], "out": []} for r in ROLES}
        for _ in range(args.iterations):
            for text in PROMPTS:
                for role, (make, schema) in ROLES.items():
                    params = llm.params(role)
                    fitted = await fit(make(text), llm.budget(role), backend.count_tokens)
                    start = time.monotonic()
                    first = None
                    n = 0
                    async for _piece in backend.stream(fitted.messages, params, schema):
                        first = first or time.monotonic()
                        n += 1
                    end = time.monotonic()
                    s = samples[role]
                    s["ttft"].append(((first or end) - start) * 1000)
                    s["total"].append((end - start) * 1000)
                    s["prompt"].append(fitted.tokens)
                    s["out"].append(n)
        results[mode] = {
            role: {
                "ttft_ms": {"p50": percentile(s["ttft"], 50), "p95": percentile(s["ttft"], 95)},
                "total_ms": {"p50": percentile(s["total"], 50), "p95": percentile(s["total"], 95)},
                "prompt_tokens_p50": percentile(s["prompt"], 50),
                "output_pieces_p50": percentile(s["out"], 50),
                "n": len(s["ttft"]),
            }
            for role, s in samples.items()
        }
    eng = backend._get_engine()
    return {
        "model": eng.path.name,
        "note": backend.note,
        "threads": eng.n_threads,
        "iterations": args.iterations,
        "load_s": round(load_s, 2),
        "warmup_s": round(warm_s, 2),
        "machine": f"{platform.machine()} {os.cpu_count()} CPU, {platform.python_version()}",
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "results": results,
    }


def table(out: dict) -> str:
    lines = [
        f"model {out['model']} ({out['threads']} thread(s)), load {out['load_s']} s, warm-up {out['warmup_s']} s, "
        f"load average {out['loadavg_1m']}",
        f"{'role':<13}{'cache':<7}{'prompt tok':>11}{'TTFT p50':>10}{'TTFT p95':>10}{'total p50':>11}{'total p95':>11}",
    ]
    for role in ROLES:
        for mode in ("cold", "warm"):
            r = out["results"][mode][role]
            lines.append(
                f"{role:<13}{mode:<7}{r['prompt_tokens_p50']:>11}{r['ttft_ms']['p50']:>10}{r['ttft_ms']['p95']:>10}"
                f"{r['total_ms']['p50']:>11}{r['total_ms']['p95']:>11}"
            )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gguf", help="GGUF path or manifest name (default: the configured chat model)")
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="0 = the backend's default")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    out = asyncio.run(run(args))
    print(json.dumps(out, ensure_ascii=False) if args.json else table(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
