#!/usr/bin/env python3
"""Which engine keeps memory between turns: in this process, load ONE engine as the product does
(glibc's thresholds fixed first, as ``app.start_pipeline`` does), run it for a few rounds with the
product's trim (``sysmem.release_freed_memory``) after each step, and print one JSON line with the
RSS after loading and after each round (and the ASR time per round for Whisper).

    python scripts/probe_engine_rss.py whisper [--rounds 3] [--keep-mkl-cache]
    python scripts/probe_engine_rss.py piper [--rounds 4]
    python scripts/probe_engine_rss.py responder      # the daemon bench's 22 utterances, typed

``--keep-mkl-cache`` unregisters Whisper's MKL cache release (the state before it): run it and the
default as alternating processes and compare within one run (docs/benchmarks.md, "RSS after READY").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bantz_voice import app, sysmem  # noqa: E402
from bantz_voice.config import load_settings  # noqa: E402

SENTENCES = (
    "Yarın saat üçte doktor randevun var efendim.",
    "Bugün takviminde iki etkinlik görünüyor, ilki saat onda.",
    "Şu an gece iki otuz bir, efendim.",
    "Kusura bakmayın efendim, dil modeli şu an çok yavaş yanıt veriyor, biraz sonra tekrar deneyin.",
    "Ekledim: yarın sabah onda doktor randevusu.",
    "Merhaba! Size nasıl yardımcı olabilirim? Takviminize bakabilir ya da sohbet edebilirim.",
)


def rss() -> float:
    return round(sysmem.rss_mb() or 0.0, 1)


def whisper(rounds: int, keep_mkl_cache: bool) -> dict[str, object]:
    import soundfile as sf

    asr = app.load_transcriber(load_settings())
    if keep_mkl_cache:
        sysmem._releasers.clear()
    audio = []
    for wav in sorted((ROOT / "tests" / "data").glob("tr_*.wav"))[:6]:
        x, _ = sf.read(str(wav), dtype="int16")
        audio.append(x if x.ndim == 1 else x[:, 0])
    sysmem.release_freed_memory()
    out: dict[str, object] = {"loaded_mb": rss()}
    times, after = [], []
    for _ in range(rounds):
        t = 0.0
        for x in audio:  # one decode per turn, the trim after it as the pipeline does
            t0 = time.perf_counter()
            asr.transcribe(x)
            t += time.perf_counter() - t0
            sysmem.release_freed_memory()
        times.append(round(t, 2))
        after.append(rss())
    return {**out, "asr_s": times, "rss_mb": after}


def piper(rounds: int) -> dict[str, object]:
    tts = app.load_tts(load_settings())
    sysmem.release_freed_memory()
    out: dict[str, object] = {"loaded_mb": rss()}
    after = []
    for _ in range(rounds):
        for text in SENTENCES:
            tts.synthesize(text)
            sysmem.release_freed_memory()
        after.append(rss())
    return {**out, "rss_mb": after}


async def responder() -> dict[str, object]:
    import bench_daemon

    from bantz_voice.responder import TurnRequest

    r = await app.start_responder(load_settings())
    await asyncio.to_thread(sysmem.release_freed_memory)
    out: dict[str, object] = {"loaded_mb": rss()}
    after = []
    for u in bench_daemon.build_plan(22):
        async for _ in r.respond(TurnRequest(text=u.text)):
            pass
        r.idle()
        await asyncio.to_thread(sysmem.release_freed_memory)
        after.append(rss())
    await r.aclose()
    return {**out, "rss_mb": after}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("engine", choices=("whisper", "piper", "responder"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep-mkl-cache", action="store_true")
    a = ap.parse_args()
    sysmem.fix_malloc_thresholds()
    if a.engine == "whisper":
        res = whisper(a.rounds, a.keep_mkl_cache)
    elif a.engine == "piper":
        res = piper(a.rounds)
    else:
        res = asyncio.run(responder())
    print(json.dumps({"engine": a.engine, "keep_mkl_cache": a.keep_mkl_cache, **res}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
