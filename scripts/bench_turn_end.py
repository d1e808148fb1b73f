#!/usr/bin/env python3
"""Benchmark turn ends: the Turkish turn-end policy (``vad.turn_end``) against today's fixed
hangover, in the same run, through the product's own voice loop (``app.start_pipeline`` →
``VoicePipeline.listen`` over a real-time ``FileSource``: VAD → speculative Whisper → brain →
chunker → Piper).

    python scripts/bench_turn_end.py --llm simulator          # chat LLM = scripts/vllm_mock_server.py, a SIMULATOR
    python scripts/bench_turn_end.py --llm simulator --pauses 300,500,700 --json out.json
    python scripts/bench_turn_end.py --designs policy,fixed,long   # also a fixed hangover as long as the policy's limit
    python scripts/bench_turn_end.py --designs policy,nofragment,fixed   # with / without the fragment hold

Utterances are rendered here: espeak-ng (``-v tr``) pieces → sox 16 kHz mono, each piece's own
leading/trailing silence trimmed, then joined with a silent pause of exactly ``--pauses`` ms (a
mid-sentence pause: "yarın saat üçte … doktor randevusu ekle"), plus the same kind of requests
spoken without a pause. Figures per design:

  premature cuts    utterances the loop split into more than one turn (paused and complete sets)
  spoken latency    playback_start − speech_end (the last voiced frame) of the one turn of an
                    utterance that was not cut, p50 / p95, per kind (fast_path, chat)
  endpoint delay    endpoint − speech_end;  ASR wait: asr_done − endpoint;  decode: Whisper's compute
  verdict after pause  the speculative decode's start (first silent frame) → its verdict
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from make_bench_wavs import check_tools, spoken  # noqa: E402 - the one espeak-ng rendering (this script's folder)

from bantz_voice.bench import harness, report  # noqa: E402 - the benchmarks' shared start-up and output
from bantz_voice.bench.stats import p50_p95, percentile  # noqa: E402 - the one shared definition

KINDS = ("fast_path", "chat")
RATE = 16000

# (pieces, kind, espeak-ng words per minute). A paused utterance is its pieces with a pause
# between them; the pause sits where people pause: after a time phrase, on "saat", after a
# number without its unit, after the wake word, before the verb, after "ve", "için", "bir".
PAUSED: list[tuple[tuple[str, ...], str, int]] = [
    (("yarın saat üçte", "doktor randevusu ekle"), "fast_path", 140),
    (("yarın saat", "onda toplantı ekle"), "fast_path", 140),
    (("cuma günü saat beşte", "spor ekle"), "fast_path", 140),
    (("yarın sabah dokuzda diş randevusu", "ekle"), "fast_path", 140),
    (("bugün takvimde", "ne var"), "fast_path", 170),
    (("yarınki toplantıyı", "sil"), "fast_path", 150),
    (("spor etkinliğini", "saat altıya taşı"), "fast_path", 150),
    (("yarın öğleden sonra", "boş muyum"), "fast_path", 150),
    (("saat", "kaç"), "fast_path", 120),
    (("pazartesi günü", "toplantım var mı"), "fast_path", 150),
    (("yarın saat üç", "buçukta kuaför randevusu ekle"), "fast_path", 140),
    (("bantz", "bugün takvimde ne var"), "fast_path", 150),
    (("bugün akşam yedide", "annemle yemek ekle"), "fast_path", 140),
    (("bana kısa bir", "fıkra anlat"), "chat", 150),
    (("hafta sonu için", "ne önerirsin"), "chat", 150),
    (("bugün çok yoruldum ve", "biraz dinlenmek istiyorum"), "chat", 160),
    (("sence bu akşam", "ne yapsam"), "chat", 150),
    # a pause after "saat", a number without its unit, a time phrase, a subject or object before its verb
    (("perşembe saat", "ikide toplantı ekle"), "fast_path", 140),
    (("yarın akşam saat sekizde", "sinema ekle"), "fast_path", 140),
    (("bugün saat dört", "buçukta ders ekle"), "fast_path", 140),
    (("önümüzdeki salı", "diş hekimi randevusu ekle"), "fast_path", 140),
    (("yarın sabah", "toplantım var mı"), "fast_path", 150),
    (("cumartesi günü saat on birde", "kahvaltı ekle"), "fast_path", 140),
    (("bugünkü toplantıyı", "iptal et"), "fast_path", 150),
    (("yarınki doktor randevusunu", "saat dörde taşı"), "fast_path", 140),
    (("bu hafta", "neler var"), "fast_path", 150),
    (("bantz", "saat kaç"), "fast_path", 140),
    (("bantz", "yarın saat dokuzda toplantı ekle"), "fast_path", 140),
    (("çarşamba günü", "boş muyum"), "fast_path", 150),
    (("yarın saat on", "ikide öğle yemeği ekle"), "fast_path", 140),
    (("bugün", "takvimimde ne var"), "fast_path", 150),
    (("pazar günü annemle", "öğle yemeği ekle"), "fast_path", 140),
    (("gelecek hafta pazartesi", "saat onda toplantı ekle"), "fast_path", 140),
    (("şu an", "saat kaç"), "fast_path", 130),
    (("doktor randevumu", "sil"), "fast_path", 150),
    (("yarın öğlen", "bir buçukta berber ekle"), "fast_path", 140),
    (("ayın on beşinde", "saat üçte toplantı ekle"), "fast_path", 140),
    (("yarın için", "toplantı var mı"), "fast_path", 150),
    (("bugün öğleden sonra", "takvimimde ne var"), "fast_path", 150),
    (("haftaya salı saat", "onda sunum ekle"), "fast_path", 140),
    (("yarın saat beşte", "ve", "akşam yedide toplantım var mı"), "fast_path", 140),
    (("bana güzel bir", "şiir oku"), "chat", 150),
    (("canım çok sıkılıyor ve", "ne yapacağımı bilmiyorum"), "chat", 160),
    (("bu akşam için", "bir film önerir misin"), "chat", 150),
    (("bana biraz", "motivasyon ver"), "chat", 150),
    (("uzun bir günün ardından", "nasıl rahatlayabilirim"), "chat", 150),
    (("akşam yemeği için", "ne pişirsem"), "chat", 150),
    (("bana ilginç bir", "bilgi söyle"), "chat", 150),
    (("en sevdiğin", "kitap hangisi"), "chat", 150),
    (("bugün kendimi", "biraz yorgun hissediyorum"), "chat", 160),
    (("hafta sonu arkadaşlarla", "ne yapabiliriz"), "chat", 150),
    (("yeni bir hobi", "önerir misin"), "chat", 150),
    (("kardeşim yarın", "sınava giriyor ne desem"), "chat", 150),
]
COMPLETE: list[tuple[str, str, int]] = [
    ("şu an saat kaç", "fast_path", 130),
    ("saat kaç", "fast_path", 120),
    ("bugünün tarihi ne", "fast_path", 170),
    ("bugün takvimde ne var", "fast_path", 170),
    ("yarın saat onda doktor randevusu ekle", "fast_path", 140),
    ("yarın toplantım var mı", "fast_path", 150),
    ("cuma günü saat beşte spor ekle", "fast_path", 140),
    ("yarınki toplantıyı sil", "fast_path", 150),
    ("beni dinliyor musun", "chat", 170),
    ("bugün çok yoruldum", "chat", 170),
    ("canım sıkılıyor", "chat", 150),
    ("nasılsın bakalım", "chat", 160),
    ("bana bir fıkra anlat", "chat", 150),
    ("hafta sonu ne yapsam", "chat", 160),
    ("bu hafta neler var", "fast_path", 150),
    ("yarın sabah toplantım var mı", "fast_path", 150),
    ("bugünkü toplantıyı iptal et", "fast_path", 150),
    ("perşembe saat ikide toplantı ekle", "fast_path", 140),
    ("bana güzel bir şiir oku", "chat", 150),
    ("akşam yemeği için ne pişirsem", "chat", 150),
]


# --- audio ---------------------------------------------------------------------------------------
def make_set(out: Path, pauses_ms: list[int]) -> list[dict[str, Any]]:
    from bantz_voice.audio.wavio import write_wav

    check_tools()
    out.mkdir(parents=True, exist_ok=True)
    lead, trail = np.zeros(int(0.5 * RATE), np.int16), np.zeros(int(0.3 * RATE), np.int16)
    rows: list[dict[str, Any]] = []
    for i, (pieces, kind, wpm) in enumerate(PAUSED, 1):
        parts = [spoken(p, wpm) for p in pieces]
        for pause in pauses_ms:
            gap = np.zeros(int(pause * RATE / 1000), np.int16)
            audio = [lead]
            for j, part in enumerate(parts):
                audio += [gap, part] if j else [part]
            name = f"p{i:02d}_{pause}ms_{kind}.wav"
            write_wav(out / name, np.concatenate([*audio, trail]), RATE)
            rows.append({"file": name, "text": " … ".join(pieces), "kind": kind, "paused": True, "pause_ms": pause})
    for i, (text, kind, wpm) in enumerate(COMPLETE, 1):
        name = f"c{i:02d}_{kind}.wav"
        write_wav(out / name, np.concatenate([lead, spoken(text, wpm), trail]), RATE)
        rows.append({"file": name, "text": text, "kind": kind, "paused": False, "pause_ms": None})
    return rows


# --- running -------------------------------------------------------------------------------------
def design_settings(base: Any, name: str, early_ms: int, extended_ms: int) -> Any:
    data = base.model_dump(mode="json")
    data["vad"]["turn_end"] = name in ("policy", "nofragment")
    if name == "nofragment":  # the policy without its middle hold: a verbless fragment gets the hangover
        data["vad"]["turn_end_fragment_ms"] = data["vad"]["hangover_ms"]
    if name == "short":  # a naive fixed hangover as short as the policy's early end
        data["vad"]["hangover_ms"] = early_ms
    if name == "long":  # a naive fixed hangover as long as the policy's extended limit
        data["vad"]["hangover_ms"] = extended_ms
    return type(base).model_validate(data)


def design_responder(settings: Any, name: str) -> Any:
    """Each design's brain with its own dialog memory (shared memory would leak turns between them)."""
    from bantz_voice.app import build_responder

    if settings.brain.responder != "brain":
        return build_responder(settings)
    from bantz_voice.brain.cascade import Brain

    return Brain(settings, memory=harness.own_memory(settings, name))


def _ms(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round((b - a) * 1000, 1)


async def one_file(pipeline: Any, wav: Path) -> dict[str, Any]:
    from bantz_voice.audio.player import WavSink
    from bantz_voice.audio.source import FileSource
    from bantz_voice.voice.events import TurnFinished, VoiceObserver

    class Turns(VoiceObserver):
        def on_turn_finished(self, event: TurnFinished) -> None:
            if not event.turn.ignored:
                outcomes.append(event.turn)

    s = pipeline.settings
    events: list[Any] = []
    reports: list[Any] = []
    outcomes: list[Any] = []
    pipeline.turn_end.on_verdict = reports.append
    observer, pipeline.observer = pipeline.observer, Turns()
    source = FileSource(wav, rate=s.audio.sample_rate, frame_ms=s.audio.frame_ms)  # its tail: what listen() holds
    try:
        await pipeline.listen(source, on_event=events.append, sink=WavSink(), use_filter=False)
    finally:
        pipeline.turn_end.on_verdict = None
        pipeline.observer = observer
    ends = [e for e in events if e.kind == "endpoint"]
    row: dict[str, Any] = {
        "endpoints": len(ends), "turns": len(outcomes), "verdicts": [r.judged.verdict.value for r in reports],
        # every verdict: why, when after its pause (ms), in time or not (a cut: which pause's verdict let it happen)
        "verdict_log": [(r.judged.reason, round(r.after_pause_s * 1000), r.applied) for r in reports],
        "turn_transcripts": [o.transcript for o in outcomes],
    }
    if ends:
        row["turn_end"] = ends[-1].utterance.turn_end
    # the verdict on the final pause (the decode of exactly the endpoint's audio), in time or not
    final = [r for r in reports if ends and r.samples == len(ends[-1].utterance.audio)]
    if final:
        row["verdict_after_pause_ms"] = round(final[-1].after_pause_s * 1000, 1)
        row["verdict"] = final[-1].judged.verdict.value
        row["verdict_reason"] = final[-1].judged.reason
        row["verdict_in_time"] = final[-1].applied
    if outcomes:
        o = outcomes[-1]
        tr = o.trace
        row.update(
            transcript=o.transcript, path=f"{o.result.source or '?'}:{o.result.route or '?'}", error=o.error or o.result.error,
            spoken_latency_ms=tr.spoken_latency_ms, endpoint_delay_ms=_ms(tr.speech_end, tr.endpoint),
            asr_wait_ms=_ms(tr.endpoint, tr.asr_done), after_asr_ms=_ms(tr.asr_done, tr.playback_start),
            decode_ms=tr.meta.get("asr_ms"), speculative=tr.meta.get("speculative_asr"),
        )
    return row


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    paused = [r for r in rows if r["paused"]]
    complete = [r for r in rows if not r["paused"]]
    uncut = [r for r in rows if r["endpoints"] == 1 and r.get("spoken_latency_ms") is not None]
    out: dict[str, Any] = {
        "premature_cuts": {
            "paused": f"{sum(r['endpoints'] > 1 for r in paused)}/{len(paused)}",
            "paused_rate": round(sum(r["endpoints"] > 1 for r in paused) / len(paused), 3) if paused else None,
            "complete": f"{sum(r['endpoints'] > 1 for r in complete)}/{len(complete)}",
        },
        "no_reply": sum(r.get("spoken_latency_ms") is None for r in rows),
        "turn_end": dict(Counter(str(r.get("turn_end")) for r in rows)),
        "final_verdict": dict(Counter(f"{r.get('verdict')}{'' if r.get('verdict_in_time') else ' (late)'}" for r in rows if r.get("verdict"))),
    }
    by_pause: dict[str, str] = {}
    for pause in sorted({r["pause_ms"] for r in paused}):
        rs = [r for r in paused if r["pause_ms"] == pause]
        by_pause[f"{pause}ms"] = f"{sum(r['endpoints'] > 1 for r in rs)}/{len(rs)}"
    out["premature_cuts"]["by_pause"] = by_pause
    for kind in KINDS:
        k = [r for r in uncut if r["kind"] == kind]
        out[kind] = {"turns": len(k)} | {
            key: p50_p95(r[key] for r in k if r.get(key) is not None)
            for key in ("spoken_latency_ms", "endpoint_delay_ms", "asr_wait_ms", "after_asr_ms", "decode_ms", "verdict_after_pause_ms")
        }
        out[kind]["complete_set_spoken_p50"] = percentile(
            [r["spoken_latency_ms"] for r in k if not r["paused"]], 50)
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bantz_voice.app import start_pipeline
    from bantz_voice.config import load_settings

    wav_dir = Path(args.keep_wavs) if args.keep_wavs else Path(tempfile.mkdtemp(prefix="bantz-turn-end-"))
    rows = make_set(wav_dir, args.pauses)
    if args.limit:
        rows = rows[: args.limit]
    tmp = harness.private_dirs()
    results: dict[str, list[dict[str, Any]]] = {d: [] for d in args.designs}
    try:
        with harness.simulator(args.llm, args.sim_speeds) as sim_url:
            base = harness.configure(load_settings(), args.llm, sim_url, baseline=False)
            harness.seed_calendar(base)
            pipes: dict[str, Any] = {}
            t_load = time.perf_counter()
            for name in args.designs:
                s = design_settings(base, name, base.vad.turn_end_early_ms, base.vad.turn_end_extended_ms)
                first = next(iter(pipes.values()), None)
                pipes[name] = await start_pipeline(
                    s, responder=design_responder(s, name),
                    transcriber=first.transcriber if first else None, tts=first.tts if first else None,
                )
            load_s = time.perf_counter() - t_load
            for _ in range(args.repeat):
                for row in rows:
                    for name, p in pipes.items():  # alternating turn by turn: the same load for each design
                        r = row | await one_file(p, wav_dir / row["file"])
                        results[name].append(r)
                        if args.verbose:
                            print(f"[{name}] {row['file']} ends={r['endpoints']} {r.get('turn_end')} {r.get('verdict')}:{r.get('verdict_reason', '')} "
                                  f"spoken={r.get('spoken_latency_ms')} ep={r.get('endpoint_delay_ms')} asr_wait={r.get('asr_wait_ms')} "
                                  f"decode={r.get('decode_ms')} verdict@{r.get('verdict_after_pause_ms')} {r.get('transcript', '')!r} "
                                  f"{r.get('path', '')}" + (f" CUT {r['turn_transcripts']} {r['verdict_log']}" if r["endpoints"] > 1 else ""),
                                  file=sys.stderr, flush=True)
            for p in pipes.values():
                await p.aclose()
    finally:
        tmp.cleanup()
        if not args.keep_wavs:
            shutil.rmtree(wav_dir, ignore_errors=True)
    s0 = base
    return {
        "designs": {name: summarize(rs) for name, rs in results.items()},
        "meta": {
            "llm": args.llm + (" (SIMULATOR: scripts/vllm_mock_server.py, bantz-sim-3b/bantz-sim-8b)" if args.llm == "simulator" else ""),
            "asr": s0.asr.model, "tts": s0.tts.voice,
            "limits_ms": {"hangover": s0.vad.hangover_ms, "early": s0.vad.turn_end_early_ms, "extended": s0.vad.turn_end_extended_ms,
                          "fragment": s0.vad.turn_end_fragment_ms},
            "utterances": {"paused": sum(r["paused"] for r in rows), "complete": sum(not r["paused"] for r in rows)},
            "pauses_ms": args.pauses, "repeat": args.repeat, "load_and_warmup_s": round(load_s, 1),
            **report.run_meta(),
        },
        "rows": results,
    }


def render(result: dict[str, Any]) -> str:
    m = result["meta"]
    lines = [f"bench_turn_end: LLM {m['llm']}; ASR {m['asr']}; {m['machine']}; {m['date']}; load avg at end {m['loadavg_end']}",
             f"utterances: {m['utterances']} (pauses {m['pauses_ms']} ms), limits {m['limits_ms']}", "",
             "| design | premature cuts, paused | by pause | cuts, complete | fast path spoken p50 / p95 | chat spoken p50 / p95 "
             "| endpoint delay p50 (fast) | ASR wait after endpoint p50 (fast) | decode p50 (fast) | verdict after pause p50 (fast) "
             "| after ASR → first audio p50 (fast) | turn ends |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]

    def c(v: dict[str, Any]) -> str:
        return "–" if v["p50"] is None else f"{v['p50']:.0f} / {v['p95']:.0f}"

    def p(v: dict[str, Any]) -> str:
        return "–" if v["p50"] is None else f"{v['p50']:.0f}"

    for name, d in result["designs"].items():
        pc = d["premature_cuts"]
        f, ch = d["fast_path"], d["chat"]
        lines.append(
            f"| {name} | {pc['paused']} ({(pc['paused_rate'] or 0) * 100:.0f} %) | {', '.join(f'{k} {v}' for k, v in pc['by_pause'].items())} "
            f"| {pc['complete']} | {c(f['spoken_latency_ms'])} | {c(ch['spoken_latency_ms'])} | {p(f['endpoint_delay_ms'])} "
            f"| {p(f['asr_wait_ms'])} | {p(f['decode_ms'])} | {p(f['verdict_after_pause_ms'])} | {p(f['after_asr_ms'])} "
            f"| {', '.join(f'{k}×{v}' for k, v in d['turn_end'].items())} |")
    lines += ["", "Latencies in ms over the turns that were not cut (complete and paused utterances); "
              "fast path = calendar/system requests, chat = smalltalk answered by the chat LLM."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = report.described_parser(__doc__, epilog=True)
    ap.add_argument("--llm", choices=["embedded", "simulator"], default="simulator",
                    help="simulator (default): scripts/vllm_mock_server.py, a SIMULATOR at the strategy's GPU speeds")
    ap.add_argument("--sim-speeds", choices=harness.SIM_SPEEDS, default="strategy")
    ap.add_argument("--pauses", type=lambda v: [int(x) for x in v.split(",")], default=[300, 500, 700],
                    help="mid-sentence pauses in ms; every paused utterance is rendered with each (default 300,500,700)")
    ap.add_argument("--designs", type=lambda v: v.split(","), default=["policy", "fixed"],
                    help="policy (vad.turn_end), nofragment (the policy with turn_end_fragment_ms = hangover_ms), "
                    "fixed (the fixed hangover), short / long (a fixed hangover of turn_end_early_ms / turn_end_extended_ms)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="only the first N utterances (a smoke run)")
    ap.add_argument("--keep-wavs", help="render the utterances into this folder and keep them")
    ap.add_argument("--json", help="write the full result (every utterance) here")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    bad = [d for d in args.designs if d not in ("policy", "nofragment", "fixed", "short", "long")]
    if bad:
        ap.error(f"unknown design(s): {bad}")
    result = asyncio.run(run(args))
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
