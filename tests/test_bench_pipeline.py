"""scripts/bench_pipeline.py: stage arithmetic, summaries, and one short real run of the pipeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import bench_pipeline as bench  # noqa: E402

SPEC_KEYS = ("asr_ms", "route_ms", "llm_first_token_ms", "tts_first_audio_ms", "reply_latency_ms", "spoken_latency_ms")


def _trace(**marks: float | None) -> dict:
    base = {s: None for s in ("speech_start", "speech_end", "endpoint", "asr_done", "route_done", "plan_done",
                              "llm_first_token", "first_chunk_text", "tts_first_audio", "playback_start", "turn_done")}
    base.update(marks)
    pb, se, ep = base["playback_start"], base["speech_end"], base["endpoint"]
    base["spoken_latency_ms"] = None if pb is None else pb - se
    base["reply_latency_ms"] = None if pb is None else pb - ep
    return base


def test_stage_times_are_deltas_between_marks() -> None:
    t = _trace(speech_start=100, speech_end=1000, endpoint=1400, asr_done=1450, route_done=1460, plan_done=None,
               llm_first_token=1600, first_chunk_text=1700, tts_first_audio=1900, playback_start=1910)
    st = bench.stage_times(t)
    assert st["endpoint_delay_ms"] == 400 and st["asr_ms"] == 50 and st["route_ms"] == 10
    assert st["plan_ms"] is None  # the orchestrator did not run
    assert st["llm_first_token_ms"] == 140  # measured from route_done when there is no plan
    assert st["first_chunk_ms"] == 100 and st["tts_first_audio_ms"] == 200
    assert st["reply_latency_ms"] == 510 and st["spoken_latency_ms"] == 910


def _turn(kind: str, spoken: float, error: str | None = None) -> dict:
    t = _trace(speech_end=0, endpoint=100, asr_done=150, route_done=160, llm_first_token=200, first_chunk_text=210,
               tts_first_audio=250, playback_start=spoken)
    return {"kind": kind, "path": "rules:system", "error": error, "stages": bench.stage_times(t), "asr_compute_ms": 500.0,
            "cpu_s": 0.5}


def test_summary_percentiles_kinds_and_failures() -> None:
    turns = [_turn("fast_path", s) for s in (300, 400, 500)] + [_turn("chat", 900), _turn("chat", 5000, error="boom")]
    out = bench.summarize(turns)
    assert out["turns"] == 4 and out["failed"] == 1 and out["cpu_s"] == 2.5
    fp, chat = out["by_kind"]["fast_path"], out["by_kind"]["chat"]
    assert fp["spoken_latency_ms"] == {"p50": 400, "p95": 490}
    assert fp["reply_latency_ms"]["p50"] == 300
    assert chat["spoken_latency_ms"]["p50"] == 900  # the failed turn is not averaged in
    assert fp["paths"] == {"rules:system": 3}
    shares = fp["share_of_reply_latency"]
    assert shares["asr_ms"] == round(150 / 900, 3)  # 3 × 50 ms of 3 × 300 ms reply latency


@pytest.mark.slow
def test_short_run_against_the_simulator_with_baseline() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench_pipeline.py"), "--llm", "simulator", "--limit", "2", "--fast",
         "--compare-baseline", "--idle", "2", "--json"],
        capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["turns"] == 2 and out["rss_peak_mb"] > 50 and out["cpu_s"] > 0
    assert "SIMULATOR" in out["meta"]["llm"]
    assert 0 <= out["idle_cpu_pct_of_one_core"] < 100
    for res in (out, out["baseline"]):
        for kind in ("fast_path", "chat"):
            k = res["by_kind"][kind]
            for key in SPEC_KEYS:
                assert set(k[key]) == {"p50", "p95"}
            assert k["spoken_latency_ms"]["p50"] >= k["reply_latency_ms"]["p50"] > 0
    # the baseline never takes the fast path: its fast-path utterance went through the LLM router
    assert all(p.startswith("llm") for p in out["baseline"]["by_kind"]["fast_path"]["paths"])
    for kind in ("fast_path", "chat"):
        a = out["by_kind"][kind]["spoken_latency_ms"]["p50"]
        b = out["baseline"]["by_kind"][kind]["spoken_latency_ms"]["p50"]
        assert out["speedup_spoken_p50"][kind] == round(b / a, 2)


def test_markdown_table_has_one_row_per_kind_and_design() -> None:
    res = bench.summarize([_turn("fast_path", 300), _turn("chat", 900)])
    res["rss_peak_mb"] = 100.0
    res["baseline"] = bench.summarize([_turn("fast_path", 900), _turn("chat", 1800)])
    res["speedup_spoken_p50"] = {"fast_path": 3.0, "chat": 2.0}
    res["meta"] = {"machine": "m", "loadavg_end": [0.1], "date": "d", "llm": "simulator", "models": {"asr": "a", "tts": "t"},
                   "feed": "real-time", "repeat": 1}
    md = bench.render_markdown(res, "python scripts/bench_pipeline.py --x")
    rows = [ln for ln in md.splitlines() if ln.startswith("| fast_path") or ln.startswith("| chat")]
    assert len(rows) == 4
    assert "| fast_path | optimized | 1 |" in md and "300 / 300 |" in md and "900 / 900 |" in md
    assert "`python scripts/bench_pipeline.py --x`" in md and "fast_path 3.0×" in md
