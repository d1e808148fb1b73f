#!/usr/bin/env python3
"""Benchmark whole voice turns: Turkish utterance WAVs through the daemon's own pipeline
(``bantz_voice.app.start_pipeline(...).run_turn_from_wav``: FileSource at real-time pace → VAD →
speculative ASR → brain → chunker → Piper), reporting p50/p95 per stage and per kind of turn.

    python scripts/bench_pipeline.py --llm embedded --compare-baseline
    python scripts/bench_pipeline.py --llm simulator --json   # LLM = scripts/vllm_mock_server.py, a SIMULATOR

Stages (ms, per turn; a stage that did not run is left out of its percentiles):
  endpoint_delay  endpoint − speech_end (the VAD hangover)
  asr             asr_done − endpoint (what ASR still costs after the endpoint)
  route           route_done − asr_done
  plan            plan_done − route_done
  llm_first_token llm_first_token − (plan_done | route_done | asr_done): first reply text
  first_chunk     first_chunk_text − llm_first_token: waiting for the first TTS chunk
  tts_first_audio tts_first_audio − first_chunk_text: synthesis of the first chunk
  reply_latency   playback_start − endpoint;  spoken_latency  playback_start − speech_end

``--compare-baseline`` runs every utterance also through the original sequential design on the
same models, in the same process (``bantz_voice.bench.baseline.BaselineResponder``: router LLM →
orchestrator LLM → chat LLM; no speculative ASR; Whisper's full 30 s window; TTS of the whole
reply), alternating turn by turn.
Turns are grouped by the kind the utterance was made for (``manifest.jsonl``: fast_path / chat).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_WAVS = ROOT / "tests/data/bench"
KINDS = ("fast_path", "chat")
STAGES = ("endpoint_delay_ms", "asr_ms", "route_ms", "plan_ms", "llm_first_token_ms", "first_chunk_ms",
          "tts_first_audio_ms", "reply_latency_ms", "spoken_latency_ms")
SHARE_STAGES = ("asr_ms", "route_ms", "plan_ms", "llm_first_token_ms", "first_chunk_ms", "tts_first_audio_ms")


# --- statistics --------------------------------------------------------------------------------
from bantz_voice.bench import harness, report  # noqa: E402 - the benchmarks' shared start-up and output
from bantz_voice.bench.stats import percentile  # noqa: E402 - the one shared definition


def _d(ms: dict[str, float | None], a: str, b: str) -> float | None:
    va, vb = ms.get(a), ms.get(b)
    return None if va is None or vb is None else round(vb - va, 1)


def stage_times(trace: dict[str, Any]) -> dict[str, float | None]:
    """Per-stage durations of one turn from ``TurnTrace.to_dict()`` (stage marks in ms)."""
    decided = next((s for s in ("plan_done", "route_done", "asr_done") if trace.get(s) is not None), None)
    return {
        "endpoint_delay_ms": _d(trace, "speech_end", "endpoint"),
        "asr_ms": _d(trace, "endpoint", "asr_done"),
        "route_ms": _d(trace, "asr_done", "route_done"),
        "plan_ms": _d(trace, "route_done", "plan_done"),
        "llm_first_token_ms": _d(trace, decided, "llm_first_token") if decided else None,
        "first_chunk_ms": _d(trace, "llm_first_token", "first_chunk_text"),
        "tts_first_audio_ms": _d(trace, "first_chunk_text", "tts_first_audio"),
        "reply_latency_ms": trace.get("reply_latency_ms"),
        "spoken_latency_ms": trace.get("spoken_latency_ms"),
    }


def summarize(turns: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"turns": N, "by_kind": {kind: {stage: {"p50", "p95"}}, …}, "cpu_s": …}`` for these turns."""
    ok = [t for t in turns if t["error"] is None]
    by_kind: dict[str, Any] = {}
    for kind in KINDS:
        rows = [t for t in ok if t["kind"] == kind]
        entry: dict[str, Any] = {"turns": len(rows)}
        for st in STAGES:
            vals = [t["stages"][st] for t in rows if t["stages"].get(st) is not None]
            entry[st] = {"p50": percentile(vals, 50), "p95": percentile(vals, 95)}
        reply_sum = sum(t["stages"]["reply_latency_ms"] or 0 for t in rows)
        entry["share_of_reply_latency"] = {
            st: (round(sum(t["stages"][st] or 0 for t in rows) / reply_sum, 3) if reply_sum else None) for st in SHARE_STAGES
        }
        entry["asr_compute_ms"] = {"p50": percentile([t["asr_compute_ms"] for t in rows if t["asr_compute_ms"] is not None], 50)}
        entry["paths"] = {}
        for t in rows:
            entry["paths"][t["path"]] = entry["paths"].get(t["path"], 0) + 1
        by_kind[kind] = entry
    by_path: dict[str, Any] = {}  # e.g. rules:smalltalk = plain chat, llm:smalltalk = router → chat
    for path in sorted({t["path"] for t in ok}):
        rows = [t for t in ok if t["path"] == path]
        by_path[path] = {"turns": len(rows)} | {
            st: {"p50": percentile([t["stages"][st] for t in rows if t["stages"].get(st) is not None], 50),
                 "p95": percentile([t["stages"][st] for t in rows if t["stages"].get(st) is not None], 95)}
            for st in ("reply_latency_ms", "spoken_latency_ms")}
    return {"turns": len(ok), "failed": len(turns) - len(ok), "by_kind": by_kind, "by_path": by_path,
            "cpu_s": round(sum(t["cpu_s"] for t in turns), 2)}


# --- environment: bantz_voice.bench.harness (private dirs, the simulator, settings, calendar) ------
def baseline_responder(settings: Any) -> Any:
    """The baseline's brain (:class:`~bantz_voice.bench.baseline.BaselineResponder`) with a dialog
    memory of its own: two designs writing one memory would each see the other's turns in their
    prompts (and break each other's prompt caches)."""
    from bantz_voice.app import build_responder

    if settings.brain.responder != "brain":
        return build_responder(settings)
    from bantz_voice.bench.baseline import BaselineResponder

    return BaselineResponder(settings, memory=harness.own_memory(settings, "baseline"))


def load_manifest(wavs: Path) -> list[dict[str, Any]]:
    manifest = wavs / "manifest.jsonl"
    if manifest.is_file():
        rows = [json.loads(ln) for ln in manifest.read_text(encoding="utf-8").splitlines() if ln.strip()]
    else:
        rows = [{"file": p.name, "kind": "fast_path" if "fast" in p.name else "chat"} for p in sorted(wavs.glob("*.wav"))]
    if not rows:
        raise SystemExit(f"no WAVs in {wavs}")
    return rows


# --- running -----------------------------------------------------------------------------------
async def idle_cpu(pipeline: Any, seconds: float) -> float:
    """CPU of the listening loop over ``seconds`` of quiet room noise (about -60 dBFS) fed at
    real-time pace through the same FileSource/VAD path as the microphone: % of one core."""
    import numpy as np
    import psutil

    from bantz_voice.audio.player import WavSink
    from bantz_voice.audio.source import FileSource

    rate = pipeline.settings.audio.sample_rate
    rng = np.random.default_rng(0)
    noise = (rng.normal(0, 32768 * 10 ** (-60 / 20), int(seconds * rate))).astype(np.int16)
    source = FileSource(noise, rate=rate, frame_ms=pipeline.settings.audio.frame_ms)
    proc = psutil.Process()
    c0, t0 = proc.cpu_times(), time.monotonic()
    await pipeline.listen(source, sink=WavSink(None), use_filter=False)
    c1, t1 = proc.cpu_times(), time.monotonic()
    return round(100 * ((c1.user - c0.user) + (c1.system - c0.system)) / (t1 - t0), 2)


def llm_note(responder: Any) -> str | None:
    """The brain's model fallback note (e.g. SmolLM2 instead of Qwen2.5-3B), when it has one."""
    try:
        return getattr(responder.llm.for_role("chat"), "note", None)
    except Exception:
        return None


def _path_of(outcome: Any) -> str:
    r = outcome.result
    return f"{r.source or '?'}:{r.route or '?'}"


async def one_turn(pipeline: Any, wav: Path, kind: str, fast: bool) -> dict[str, Any]:
    import psutil

    proc = psutil.Process()
    c0 = proc.cpu_times()
    error = None
    trace: dict[str, Any] = {}
    path = "-"
    transcript = reply = ""
    asr_compute = None
    try:
        outcome = await pipeline.run_turn_from_wav(wav, fast=fast)
        trace = outcome.trace.to_dict()
        path = _path_of(outcome)
        transcript, reply = outcome.transcript, outcome.result.reply
        asr_compute = trace.get("meta", {}).get("asr_ms")
        # a turn that spoke a reply counts in the latencies even when that reply is the brain's
        # apology for an error (an LLM timeout is slow and must show up); its path says so
        soft = outcome.result.error
        if soft:
            path += f"!{soft}"
        if trace.get("playback_start") is None:
            error = outcome.error or soft or "no audio reply"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    c1 = proc.cpu_times()
    return {"file": wav.name, "kind": kind, "path": path, "transcript": transcript, "reply": reply, "error": error,
            "stages": stage_times(trace) if trace else {}, "asr_compute_ms": asr_compute,
            "cpu_s": round((c1.user - c0.user) + (c1.system - c0.system), 3)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bantz_voice.app import start_pipeline
    from bantz_voice.config import load_settings

    rows = load_manifest(args.wavs)
    if args.limit:
        picked: list[dict[str, Any]] = []
        for kind in KINDS:  # keep both kinds in a short run
            picked += [r for r in rows if r.get("kind") == kind][: max(1, args.limit // len(KINDS))]
        rows = picked[: args.limit]
    with harness.simulator(args.llm, args.sim_speeds) as sim_url:
        base_settings = load_settings()
        settings = harness.configure(base_settings, args.llm, sim_url, baseline=args.baseline)
        harness.seed_calendar(settings)
        t_load = time.perf_counter()
        # the daemon's own start-up (app.start_pipeline): models loaded, every role's prefix warmed
        main_pipe = await start_pipeline(settings, responder=baseline_responder(settings) if args.baseline else None)
        pipes = {"optimized": main_pipe}
        if args.compare_baseline:
            bsettings = harness.configure(base_settings, args.llm, sim_url, baseline=True)
            pipes["baseline"] = await start_pipeline(
                bsettings, responder=baseline_responder(bsettings), transcriber=main_pipe.transcriber, tts=main_pipe.tts
            )
        # no unmeasured warm-up turn: the start-up above is all the daemon does before READY; the
        # first turn is reported on its own as well (first_turn)
        load_s = time.perf_counter() - t_load
        notes = [n for n in (getattr(main_pipe.tts, "note", None), llm_note(main_pipe.responder)) if n]
        idle_pct = await idle_cpu(main_pipe, args.idle) if args.idle else None
        turns: dict[str, list[dict[str, Any]]] = {name: [] for name in pipes}
        for _ in range(args.repeat):
            for row in rows:
                for name, p in pipes.items():
                    t = await one_turn(p, args.wavs / row["file"], row.get("kind", "chat"), args.fast)
                    turns[name].append(t)
                    if args.verbose:
                        print(f"[{name}] {row['file']} {t['path']} {t['stages'].get('spoken_latency_ms')} ms "
                              f"{t['transcript']!r} -> {t['reply'][:60]!r} {t['error'] or ''}", file=sys.stderr, flush=True)
                        print("    " + " ".join(f"{k.removesuffix('_ms')}={v:.0f}" for k, v in t["stages"].items() if v is not None),
                              file=sys.stderr, flush=True)
        for p in pipes.values():
            await p.aclose()
    rss_peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out: dict[str, Any] = summarize(turns["optimized"])
    out["rss_peak_mb"] = rss_peak_mb
    if turns["optimized"]:
        t0 = turns["optimized"][0]
        out["first_turn"] = {"file": t0["file"], "kind": t0["kind"], "spoken_latency_ms": t0["stages"].get("spoken_latency_ms")}
    if idle_pct is not None:
        out["idle_cpu_pct_of_one_core"] = idle_pct
    if args.compare_baseline:
        base = summarize(turns["baseline"])
        base["rss_peak_mb"] = rss_peak_mb
        out["baseline"] = base
        out["speedup_spoken_p50"] = {}
        for kind in KINDS:
            a = out["by_kind"][kind]["spoken_latency_ms"]["p50"]
            b = base["by_kind"][kind]["spoken_latency_ms"]["p50"]
            out["speedup_spoken_p50"][kind] = round(b / a, 2) if a and b else None
    out["meta"] = {
        "design": "baseline (original sequential design)" if args.baseline else "optimized",
        "llm": args.llm + (f" (SIMULATOR: scripts/vllm_mock_server.py, bantz-sim-3b/bantz-sim-8b at the {args.sim_speeds} speeds"
                           + (f" {' '.join(harness.simulator_args('split')[1::2])})" if args.sim_speeds == "split" else ")")
                           if args.llm == "simulator" else ""),
        "models": {"asr": settings.asr.model, "tts": getattr(main_pipe.tts, "voice_name", settings.tts.voice),
                   "llm": {k: (v.model or v.gguf) for k, v in settings.models.endpoints.items()}},
        "notes": notes,
        "feed": "fast" if args.fast else "real-time",
        "repeat": args.repeat,
        "load_and_warmup_s": round(load_s, 1),
        **report.run_meta(),
        "turn_details": {name: [{k: t[k] for k in ("file", "kind", "path", "transcript", "error")} |
                                {"spoken_latency_ms": t["stages"].get("spoken_latency_ms")} for t in ts]
                         for name, ts in turns.items()},
    }
    return out


# --- output ------------------------------------------------------------------------------------
def render(result: dict[str, Any]) -> str:
    lines = [f"bench_pipeline: LLM {result['meta']['llm']}; feed {result['meta']['feed']}; {result['meta']['machine']}; "
             f"{result['meta']['date']}; load avg at end {result['meta']['loadavg_end']}"]
    first = result.get("meta", {}).get("design", "optimized").split()[0]
    designs = [(first, result)] + ([("baseline", result["baseline"])] if "baseline" in result else [])
    for name, res in designs:
        for kind in KINDS:
            k = res["by_kind"][kind]
            lines.append(f"\n[{name}] {kind}: {k['turns']} turns, paths {k['paths']}")
            lines.append(f"  {'stage':20s} {'p50':>8s} {'p95':>8s}  share of reply latency")
            for st in STAGES:
                v = k[st]
                share = k["share_of_reply_latency"].get(st)
                p50 = "–" if v["p50"] is None else f"{v['p50']:.0f}"
                p95 = "–" if v["p95"] is None else f"{v['p95']:.0f}"
                lines.append(f"  {st:20s} {p50:>8s} {p95:>8s}  {'' if share is None else f'{share * 100:.0f}%'}")
        lines.append(f"  [{name}] failed turns: {res['failed']}, CPU {res['cpu_s']} s")
    lines.append("\nreply latency by path (p50 / p95 ms): " + "; ".join(
        f"{path} ×{v['turns']}: {v['reply_latency_ms']['p50']} / {v['reply_latency_ms']['p95']}"
        for path, v in result.get("by_path", {}).items()))
    if "speedup_spoken_p50" in result:
        lines.append(f"\nspeed-up of spoken latency p50 over the baseline: {result['speedup_spoken_p50']}")
    if "idle_cpu_pct_of_one_core" in result:
        lines.append(f"idle listening: {result['idle_cpu_pct_of_one_core']} % of one core")
    lines.append(f"peak RSS {result['rss_peak_mb']} MB (this process: Whisper, Piper, brain"
                 + (", embedded LLM)" if result['meta']['llm'].startswith("embedded") else "; the simulator runs apart)"))
    return "\n".join(lines)


def render_markdown(result: dict[str, Any], command: str) -> str:
    m = result["meta"]
    lines = [f"Machine: {m['machine']} (load average at the end {m['loadavg_end']}). Date: {m['date']}. "
             f"LLM: {m['llm']}; ASR {m['models']['asr']}, TTS {m['models']['tts']}; feed {m['feed']}, {m['repeat']} pass(es).",
             "", f"Command: `{command}`", "",
             "| kind | design | turns | paths | endpoint delay | ASR after endpoint | route | plan | LLM first token | first chunk "
             "| TTS first audio | **reply latency** | **spoken latency** |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    first = result.get("meta", {}).get("design", "optimized").split()[0]
    designs = [(first, result)] + ([("baseline", result["baseline"])] if "baseline" in result else [])

    def cell(v: dict[str, Any]) -> str:
        return "–" if v["p50"] is None else f"{v['p50']:.0f} / {v['p95']:.0f}"

    for kind in KINDS:
        for name, res in designs:
            k = res["by_kind"][kind]
            paths = ", ".join(f"{p}×{n}" for p, n in k["paths"].items())
            lines.append(f"| {kind} | {name} | {k['turns']} | {paths} | " + " | ".join(cell(k[st]) for st in STAGES) + " |")
    lines += ["", "Cells: p50 / p95 in ms; stages are the time from the previous stage (see the script's --help). "
              "Whisper's own compute time p50: " + ", ".join(
                  f"{name} {kind} {res['by_kind'][kind]['asr_compute_ms']['p50']:.0f} ms" for name, res in designs for kind in KINDS
                  if res["by_kind"][kind]["asr_compute_ms"]["p50"] is not None) + "."]
    lines += ["", "Reply latency by path (p50 / p95 ms): " + "; ".join(
        f"{path} ×{v['turns']}: {cell(v['reply_latency_ms'])}" for path, v in result.get("by_path", {}).items()) + "."]
    extra = [f"peak RSS {result['rss_peak_mb']} MB", f"CPU {result['cpu_s']} s for {result['turns']} turns"]
    if "idle_cpu_pct_of_one_core" in result:
        extra.append(f"idle listening {result['idle_cpu_pct_of_one_core']} % of one core")
    if "speedup_spoken_p50" in result:
        extra.append("speed-up of spoken latency p50 over the baseline: " +
                     ", ".join(f"{k} {v}×" for k, v in result["speedup_spoken_p50"].items()))
    failed = result["failed"] + (result["baseline"]["failed"] if "baseline" in result else 0)
    if failed:
        extra.append(f"{failed} turn(s) without a spoken reply left out")
    lines += ["", "; ".join(extra) + "."]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = report.described_parser(__doc__, epilog=True)
    p.add_argument("--llm", choices=["embedded", "simulator"], default="embedded",
                   help="embedded: the configured llama.cpp models; simulator: starts scripts/vllm_mock_server.py "
                   "(a SIMULATOR at the strategy's GPU speeds)")
    p.add_argument("--sim-speeds", choices=harness.SIM_SPEEDS, default="strategy",
                   help="simulator timing: strategy = the model strategy's targets (3B 85 ms + 120 tok/s, 8B 190 ms + "
                   "50 tok/s); split = the planner's estimate for the shipped GPU split (gguf-split)")
    p.add_argument("--wavs", type=Path, default=DEFAULT_WAVS, help="folder with WAVs and manifest.jsonl")
    p.add_argument("--compare-baseline", action="store_true", help="also run the original sequential design, same run")
    p.add_argument("--baseline", action="store_true", help="run only the original sequential design")
    p.add_argument("--repeat", type=int, default=1, help="passes over the utterances")
    p.add_argument("--limit", type=int, default=0, help="only the first N utterances (both kinds kept)")
    p.add_argument("--fast", action="store_true", help="feed the WAVs as fast as possible (latencies then mean little)")
    p.add_argument("--idle", type=float, default=0, metavar="S",
                   help="also measure the listening loop's CPU over S seconds of quiet noise (%% of one core)")
    report.add_output_options(p)
    p.add_argument("-v", "--verbose", action="store_true", help="one line per turn on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.baseline and args.compare_baseline:
        parser.error("--baseline and --compare-baseline exclude each other")
    from bantz_voice.privacy import install_log_scrubbing

    install_log_scrubbing()  # the brain's warnings (last-resort handler: stderr) carry no PII
    tmp = harness.private_dirs()
    try:
        result = asyncio.run(run(args))
    finally:
        tmp.cleanup()
    command = "python scripts/bench_pipeline.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report.show(args, result, lambda: render_markdown(result, command), lambda: render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
