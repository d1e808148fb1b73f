"""Per-stage wall times of the shared start-up (``app.start_pipeline``), for A/B runs across commits.

A diagnostic probe, not a product benchmark: it wraps the start-up's functions by their dotted names
(those that exist in the checkout on ``PYTHONPATH``; older commits named some differently, and a
name missing there is skipped), runs ``start_pipeline`` once with the default settings (what
``scripts/bench_pipeline.py --llm embedded`` times as "load and warm-up") and prints one JSON object:
every wrapped call with its start, end and thread, the token count of each warmed prompt prefix, and
the total, in wall and process CPU seconds (CPU per call is the whole process's: where stages
overlap, only the total is meaningful). ``--wake`` also times the daemon's wake-word model (built and
run once, as the daemon does after ``start_pipeline``). Run each side with private XDG directories,
alternating the checkouts (docs/benchmarks.md, issue 13 section, has the driver loop), then:

    PYTHONPATH=<checkout> BANTZ_MODELS_DIR=<models> nice -n 10 python scripts/probe_startup.py [--wake] > run.json
    python scripts/probe_startup.py --summarize run1.json run2.json ...   # one line of stages per run
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import inspect
import json
import os
import sys
import threading
import time
from typing import Any

T0 = time.perf_counter()
CALLS: list[dict[str, Any]] = []
PREFIX_TOKENS: list[int] = []

# module:qualname of what start-up runs, across the commits compared (a missing one is skipped)
TARGETS = [
    "bantz_voice.app:build_pipeline",
    "bantz_voice.app:build_responder",
    "bantz_voice.asr:Transcriber.__init__",
    "bantz_voice.asr:Transcriber._resolve",
    "bantz_voice.asr:Transcriber.warm_up",
    "bantz_voice.tts.piper_tts:PiperTTS.__init__",
    "bantz_voice.tts.piper_tts:_load_voice",
    "bantz_voice.tts.piper_tts:turkish_phonemes",
    "bantz_voice.tts.piper_tts:_load_normalizer",
    "bantz_voice.tts.piper_tts:PiperTTS.synthesize",
    "bantz_voice.pipeline:VoicePipeline.__init__",
    "bantz_voice.pipeline:VoicePipeline.warmup",
    "bantz_voice.voice.output:SpeechOutput.warmup",
    "bantz_voice.sysmem:release_freed_memory",
    "bantz_voice.brain.cascade:Brain.__init__",
    "bantz_voice.brain.cascade:Brain.warmup",
    "bantz_voice.brain.cascade:fast_path",
    "bantz_voice.brain.calendar_tool:CalendarTool.warmup",
    "bantz_voice.llm:Backends.for_role",
    "bantz_voice.llm.llamacpp_backend:LlamaCppBackend.warmup",
    "bantz_voice.llm.llamacpp_backend:resolve_gguf",
    "bantz_voice.llm.llamacpp_engine:Engine.load",
    "bantz_voice.llm.llamacpp_engine:Engine.warm",
    "bantz_voice.llm.llamacpp_engine:Engine.stable_prefix",
    "bantz_voice.llm.kvcache:KVCache.add_prefix",
    "bantz_voice.llm.llamacpp_backend:_Engine.load",
    "bantz_voice.llm.llamacpp_backend:_Engine.warm",
    "bantz_voice.llm.llamacpp_backend:_Engine.stable_prefix",
]


def _record(name: str, t0: float, c0: float) -> None:
    CALLS.append({"stage": name, "start": round(t0 - T0, 3), "end": round(time.perf_counter() - T0, 3),
                  "cpu_s": round(time.process_time() - c0, 3), "thread": threading.current_thread().name})


def _wrap(name: str, fn: Any) -> Any:
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def awrapped(*args: Any, **kwargs: Any) -> Any:
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return await fn(*args, **kwargs)
            finally:
                _record(name, t0, c0)
        return awrapped

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            out = fn(*args, **kwargs)
        finally:
            _record(name, t0, c0)
        if name.endswith("stable_prefix") and isinstance(out, list):
            PREFIX_TOKENS.append(len(out))
        return out
    return wrapped


def install() -> list[str]:
    done = []
    for target in TARGETS:
        mod_name, qual = target.split(":")
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            continue
        owner: Any = mod
        parts = qual.split(".")
        for p in parts[:-1]:
            owner = getattr(owner, p, None)
            if owner is None:
                break
        fn = getattr(owner, parts[-1], None) if owner is not None else None
        if fn is None or (owner is not mod and parts[-1] not in vars(owner)):
            continue
        if isinstance(inspect.getattr_static(owner, parts[-1]), staticmethod):
            setattr(owner, parts[-1], staticmethod(_wrap(qual, fn)))
        else:
            setattr(owner, parts[-1], _wrap(qual, fn))
        done.append(qual)
    return done


def summarize(d: dict[str, Any]) -> dict[str, Any]:
    """Wall and CPU seconds per stage of one run: Whisper, Piper, the LLM's load and each prefix."""
    calls = d["calls"]

    def total(names: tuple[str, ...], min_s: float = 0.0) -> list[float] | None:
        xs = [c for c in calls if c["stage"] in names and c["end"] - c["start"] >= min_s]
        if not xs:
            return None
        return [round(sum(c["end"] - c["start"] for c in xs), 1), round(sum(c["cpu_s"] for c in xs), 1)]

    out: dict[str, Any] = {"total": [round(d["start_pipeline_s"], 1), round(d.get("start_pipeline_cpu_s", 0.0), 1)]}
    for label, names in (("whisper", ("Transcriber.__init__",)), ("piper", ("PiperTTS.__init__",)),
                         ("brain_init", ("build_responder",)), ("apology", ("SpeechOutput.warmup",)),
                         ("llm_load", ("Engine.load", "_Engine.load"))):
        got = total(names, 0.05 if label == "llm_load" else 0.0)
        if got is not None:
            out[label] = got
    adds = [c for c in calls if c["stage"] == "KVCache.add_prefix"]
    if adds:
        out["prefixes"] = [[round(c["end"] - c["start"], 1), round(c["cpu_s"], 1)] for c in adds]
    else:  # older commits: a backend's warm() less its load and tokenization
        out["prefixes"] = []
        for w in (c for c in calls if c["stage"] == "_Engine.warm"):
            inner = [c for c in calls if c["stage"] in ("_Engine.load", "_Engine.stable_prefix")
                     and w["start"] <= c["start"] and c["end"] <= w["end"]]
            out["prefixes"].append([round(w["end"] - w["start"] - sum(c["end"] - c["start"] for c in inner), 1),
                                    round(w["cpu_s"] - sum(c["cpu_s"] for c in inner), 1)])
    out["prefix_tokens"] = d["prefix_tokens"]
    out["wake_s"] = d.get("wake_s")
    return out


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wake", action="store_true", help="also build and warm the daemon's wake-word model")
    ap.add_argument("--summarize", nargs="+", metavar="JSON", help="print the stages of earlier runs and exit")
    args = ap.parse_args()
    if args.summarize:
        for path in args.summarize:
            with open(path, encoding="utf-8") as f:
                print(path, json.dumps(summarize(json.load(f))))
        return
    t = time.perf_counter()
    from bantz_voice.app import start_pipeline
    from bantz_voice.config import load_settings

    wrapped = install()  # imports the modules named in TARGETS
    imports_s = time.perf_counter() - t
    settings = load_settings()
    t_load, c_load = time.perf_counter(), time.process_time()
    pipe = await start_pipeline(settings)
    load_s, load_cpu = time.perf_counter() - t_load, time.process_time() - c_load
    wake_s = None
    if args.wake:
        t = time.perf_counter()
        from bantz_voice.wake import build_wake_detector

        det = build_wake_detector(settings.wake)
        det.warmup()
        wake_s = time.perf_counter() - t
    out = {"imports_s": round(imports_s, 3), "start_pipeline_s": round(load_s, 3),
           "start_pipeline_cpu_s": round(load_cpu, 3), "loadavg": os.getloadavg(),
           "t_load": round(t_load - T0, 3), "wake_s": None if wake_s is None else round(wake_s, 3),
           "prefix_tokens": PREFIX_TOKENS, "calls": CALLS, "wrapped": wrapped,
           "llm": {r: getattr(getattr(settings.models, r), "endpoint", None) for r in ("router", "orchestrator", "chat")}}
    close = getattr(pipe, "aclose", None)
    if close is not None:
        try:
            await close()
        except Exception:
            pass
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    asyncio.run(main())
