#!/usr/bin/env python3
"""How long a reply's first chunk takes to synthesize while the embedded LLM decodes the rest of the
reply, with and without :data:`bantz_voice.cpu.foreground` (issue 11).

The product's own parts: Piper as the daemon loads it (``PiperTTS``, the default voice) and the
embedded llama.cpp engine of the chat role (``llm.Backends``, the default model settings), streaming a
long reply in a background task the way a chat turn does. Each synthesis of the same chunk is timed
three ways, interleaved round by round: alone (no decoding), beside the decoding (the LLM takes the
CPU it gets), and held (the synthesis inside ``cpu.foreground.hold()``, as ``SpeechOutput`` does for
a reply's first chunk: the decoding waits between tokens).

    .venv/bin/python scripts/bench_tts_contention.py [--rounds 8] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bantz_voice import cpu  # noqa: E402
from bantz_voice.bench.stats import percentile  # noqa: E402
from bantz_voice.config import Settings  # noqa: E402
from bantz_voice.llm import Backends  # noqa: E402
from bantz_voice.llm.base import GenParams  # noqa: E402
from bantz_voice.tts.piper_tts import PiperTTS  # noqa: E402

CHUNK = "Bugün hava çok güzel, dışarı çıkmak ister misiniz?"  # a first chunk of a chat reply
PROMPT = [{"role": "system", "content": "You are a helpful assistant."},
          {"role": "user", "content": "Tell me a very long story about a dragon, a king and a lost city."}]


async def run(rounds: int) -> dict[str, Any]:
    settings = Settings()
    cpu.single_threaded_blas()
    tts = PiperTTS(settings.tts)
    backends = Backends(settings.models)
    chat = backends.for_role("chat")
    tokens = 0
    decoding = asyncio.Event()

    async def decode_forever() -> None:
        nonlocal tokens
        while True:
            async for _ in chat.stream(PROMPT, GenParams(max_tokens=400, temperature=0.7, timeout_s=120)):
                tokens += 1
                decoding.set()

    def synth() -> float:
        t0 = time.perf_counter()
        tts.synthesize(CHUNK)
        return (time.perf_counter() - t0) * 1000

    times: dict[str, list[float]] = {"alone": [], "beside the decoding LLM": [], "held (the LLM waits)": []}
    for _ in range(rounds):
        times["alone"].append(await asyncio.to_thread(synth))
        task = asyncio.create_task(decode_forever())
        await decoding.wait()
        times["beside the decoding LLM"].append(await asyncio.to_thread(synth))
        with cpu.foreground.hold():
            times["held (the LLM waits)"].append(await asyncio.to_thread(synth))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        decoding.clear()
    llm = [e.path.name for e in backends.engines.loaded()]
    await backends.aclose()
    return {"chunk": CHUNK, "rounds": rounds, "tokens_decoded": tokens,
            "synthesis_ms": {k: {"p50": percentile(v, 50), "min": round(min(v)), "max": round(max(v))} for k, v in times.items()},
            "llm": llm, "voice": tts.voice_name}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    r = asyncio.run(run(args.rounds))
    if args.json:
        print(json.dumps(r, ensure_ascii=False, indent=1))
        return
    print(f"first chunk {r['chunk']!r}, voice {r['voice']}, LLM {', '.join(r['llm'])}, {r['rounds']} rounds interleaved")
    for k, v in r["synthesis_ms"].items():
        print(f"  {k:26s} p50 {v['p50']:.0f} ms  ({v['min']}–{v['max']})")


if __name__ == "__main__":
    main()
