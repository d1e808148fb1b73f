"""scripts/bench_daemon.py: its signal analysis on synthetic audio, its turn plan, and one quick run of
the real daemon through the private PulseAudio server (properties of the report, not numbers)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import bench_daemon as bench  # noqa: E402

RATE = bench.RATE


def _tone(freq: float, seconds: float, dbfs: float = -18.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * freq * t) * 32768 * 10 ** (dbfs / 20)).astype(np.int16)


def _speechlike(seconds: float, dbfs: float = -20.0, seed: int = 0) -> np.ndarray:
    """Harmonic-rich, amplitude-modulated noise: loud, not a pure tone."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    x = sum(np.sin(2 * np.pi * 120 * k * t + rng.uniform(0, 6)) / k for k in range(1, 25)) + rng.normal(0, 0.3, n)
    x *= 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
    x = x / np.sqrt(np.mean(x * x)) * 10 ** (dbfs / 20)
    return (x * 32768).clip(-32768, 32767).astype(np.int16)


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.int16)


def test_reply_speech_starts_after_the_earcon_not_at_it() -> None:
    x = np.concatenate([_silence(0.5), _tone(880, 0.24), _silence(0.2), _speechlike(1.5), _silence(0.5)])
    m = bench.find_reply(x, min_speech_s=0.45)
    assert m.ack_s == pytest.approx(0.5, abs=0.02)
    assert m.speech_s == pytest.approx(0.94, abs=0.03)
    assert m.end_s == pytest.approx(2.44, abs=0.03)


def test_an_earcon_right_against_the_speech_is_still_not_speech() -> None:
    x = np.concatenate([_silence(0.3), _tone(660, 0.34), _speechlike(1.0), _silence(0.3)])
    m = bench.find_reply(x, min_speech_s=0.45)
    assert m.ack_s == pytest.approx(0.3, abs=0.02)
    assert m.speech_s == pytest.approx(0.64, abs=0.03)


def _played_earcon(kind: str = "wake", gain: float = 0.6) -> np.ndarray:
    """An earcon as the speaker channel records it: the player's 22.05 kHz sound resampled to 16 kHz
    by another resampler than the harness's (linear interpolation, as a sound server may) and scaled."""
    from bantz_voice.daemon.earcons import RATE as ER
    from bantz_voice.daemon.earcons import render

    src = render(kind)  # type: ignore[arg-type]
    t = np.arange(int(src.size * RATE / ER)) / RATE
    return (np.interp(t, np.arange(src.size) / ER, src) * gain * 32768).astype(np.int16)


def test_a_short_first_word_after_the_earcon_is_where_the_reply_starts() -> None:
    """"Saat … on dört": a first word shorter than the old 0.45 s rule, then a pause. Found by the
    earcon's waveform, the earcon is masked, so a short rule can take the word without the chirp."""
    x = np.concatenate([_silence(0.4), _played_earcon(), _silence(0.15), _speechlike(0.22, seed=4), _silence(0.3),
                        _speechlike(1.2, seed=5), _silence(0.4)])
    m = bench.find_reply(x, min_speech_s=bench.MIN_SPEECH_S, templates=bench.earcon_templates())
    assert len(m.earcons) == 1 and m.earcons[0][0] == pytest.approx(0.4, abs=0.02)
    assert m.ack_s == pytest.approx(0.4, abs=0.02)
    assert m.speech_s == pytest.approx(0.79, abs=0.03)  # 0.4 + 0.24 earcon + 0.15 gap
    # the old rule (no waveform match, 0.45 s) skipped the short word
    old = bench.find_reply(x, min_speech_s=0.45)
    assert old.speech_s is not None and old.speech_s > 1.2


def _cut(earcon: np.ndarray, at_s: float) -> np.ndarray:
    """The earcon as a reply's first audio cuts it on the daemon's stream: played up to ``at_s``,
    then faded out over the player's 5 ms."""
    n = int(at_s * RATE)
    fade = RATE * 5 // 1000
    out = earcon[:n].astype(np.float64)
    out[-fade:] *= np.linspace(1.0, 0.0, fade)
    return out.astype(np.int16)


@pytest.mark.parametrize("played_s", [0.05, 0.06, 0.1, 0.17])
def test_a_reply_that_cuts_the_earcon_starts_where_it_cut_it(played_s: float) -> None:
    """The daemon plays the wake earcon on the reply's stream and the reply's first audio cuts it:
    the earcon's head finds it, its end is where the recording stops following its waveform, and
    the reply's speech starts there, not 30 ms (the margin after a whole earcon) or more later."""
    x = np.concatenate([_silence(0.4), _cut(_played_earcon(), played_s), _speechlike(1.2, seed=7), _silence(0.4)])
    m = bench.find_reply(x, min_speech_s=bench.MIN_SPEECH_S, templates=bench.earcon_templates())
    assert len(m.earcons) == 1
    start, end = m.earcons[0]
    assert start == pytest.approx(0.4, abs=0.01)
    assert 0.4 + played_s - 0.015 <= end <= 0.4 + played_s  # at the reply's start (a step: 10 ms), never after
    assert m.ack_s == pytest.approx(0.4, abs=0.02)
    assert m.speech_s == pytest.approx(0.4 + played_s, abs=0.025)


def test_a_whole_earcon_is_not_taken_for_a_cut_one() -> None:
    x = np.concatenate([_silence(0.3), _played_earcon(), _silence(0.3), _speechlike(1.0, seed=8), _silence(0.3)])
    spans = bench.find_earcons(x, bench.earcon_templates())
    assert len(spans) == 1 and spans[0][2] is False
    assert (spans[0][1] - spans[0][0]) / RATE == pytest.approx(_played_earcon().size / RATE, abs=0.012)


def test_a_reply_whose_vowels_are_pure_tones_frame_by_frame_starts_at_its_first_sound() -> None:
    """A low voice's vowel can hold 85 % of a 20 ms frame's energy near one peak (a quarter of the
    fallback voice's frames do): such frames no longer split the reply, which starts at its onset."""
    vowel = _tone(140, 0.14, dbfs=-16)
    x = np.concatenate([_silence(0.5), _speechlike(0.03, seed=9), vowel, _speechlike(0.04, seed=10),
                        _tone(150, 0.2, dbfs=-16), _speechlike(0.6, seed=11), _silence(0.4)])
    m = bench.find_reply(x, min_speech_s=bench.MIN_SPEECH_S, templates=bench.earcon_templates())
    assert m.speech_s == pytest.approx(0.5, abs=0.02)


def test_an_earcon_alone_is_no_reply_with_the_short_rule() -> None:
    rng = np.random.default_rng(2)
    for kind in ("wake", "ptt_start", "error"):
        x = np.concatenate([_silence(0.3), _played_earcon(kind), _silence(0.6)])
        x = (x + rng.normal(0, 32768 * 10 ** (-62 / 20), x.size)).astype(np.int16)
        m = bench.find_reply(x, min_speech_s=bench.MIN_SPEECH_S, templates=bench.earcon_templates())
        assert m.speech_s is None, kind
        assert m.ack_s == pytest.approx(0.3, abs=0.02) and len(m.earcons) == 1


def test_speech_is_not_taken_for_an_earcon() -> None:
    x = np.concatenate([_silence(0.2), _speechlike(2.0, seed=6), _silence(0.2)])
    assert bench.find_earcons(x, bench.earcon_templates()) == []


def test_short_sounds_and_quiet_noise_are_no_reply() -> None:
    rng = np.random.default_rng(1)
    quiet = (rng.normal(0, 32768 * 10 ** (-60 / 20), RATE * 2)).astype(np.int16)  # -60 dBFS room noise
    blip = np.concatenate([quiet[:RATE], _speechlike(0.3), quiet[RATE:]])  # loud but shorter than speech
    m = bench.find_reply(blip, min_speech_s=0.45)
    assert m.speech_s is None and m.ack_s == pytest.approx(1.0, abs=0.02)
    assert bench.find_reply(quiet, min_speech_s=0.45) == bench.ReplyMarks()


def test_a_pause_inside_the_reply_does_not_end_it() -> None:
    x = np.concatenate([_silence(0.2), _speechlike(0.8), _silence(0.6), _speechlike(0.8, seed=3), _silence(0.4)])
    m = bench.find_reply(x, min_speech_s=0.45)
    assert m.speech_s == pytest.approx(0.2, abs=0.02)
    assert m.end_s == pytest.approx(2.4, abs=0.03)


def test_loopback_delay_is_found_by_cross_correlation() -> None:
    rng = np.random.default_rng(7)
    probe = (rng.uniform(-1, 1, 1600) * 8000).astype(np.int16)
    rec = np.concatenate([_silence(0.137), probe, _silence(0.3)])
    rec = (rec + rng.normal(0, 30, rec.size)).astype(np.int16)
    lag, peak = bench.estimate_delay(rec, probe)
    assert lag == int(0.137 * RATE) and peak > 0.9


def test_recorded_slices_the_input_blocks_on_the_stream_clock() -> None:
    rig = object.__new__(bench.DuplexRig)  # no stream: the blocks as the callback stores them
    x = np.arange(10 * 480 * 2, dtype=np.int16).reshape(-1, 2)
    rig._blocks = [x[i : i + 480] for i in range(0, x.shape[0], 480)]
    rig._starts = list(range(0, x.shape[0], 480))
    rig.frames = x.shape[0]
    assert np.array_equal(rig.recorded(1000, 2500, channel=bench.MIC), x[1000:2500, 0])
    assert np.array_equal(rig.recorded(4000, channel=bench.SPK), x[4000:, 1])
    assert np.array_equal(rig.recorded(0, 480, channel=bench.MIC), x[:480, 0])
    assert rig.recorded(5000, 6000).size == 0 and rig.recorded(4790, 9999).size == 10


def test_last_voiced_sample_ignores_the_trailing_silence() -> None:
    wav = ROOT / "tests/data/bench/01_fast_path.wav"
    x = bench.read_wav(wav)
    end = bench.last_voiced_sample(x)
    assert 0 < end <= x.size - int(0.8 * RATE)  # the file ends with 1 s of silence
    assert np.abs(x[end + 480 :]).max() < 64  # nothing voiced after it


def test_plan_interleaves_kinds_and_keeps_follow_ups_after_a_wake_word_turn() -> None:
    plan = bench.build_plan(22)
    assert len(plan) == 22
    assert plan[0].kind == "chat" and plan[0].wake  # the first turn after READY uses the chat model
    assert {u.kind for u in plan} == set(bench.KINDS)
    for i, u in enumerate(plan):
        assert u.spoken.startswith("Bantz, ") == u.wake == (u.kind != "follow_up")
        if u.kind == "follow_up":
            assert i > 0 and plan[i - 1].wake
    assert [u.kind for u in bench.build_plan(3)][0] == "chat" and len(bench.build_plan(3)) == 3
    assert len(bench.build_plan(40)) == 40  # the set repeats


def _turn(kind: str, ms: float | None, trace_ms: float | None = None, ack: float | None = 300.0) -> dict:
    return {"name": kind, "text": "t", "kind": kind, "answered": ms is not None, "spoken_latency_ms": ms, "ack_ms": ack,
            "unanswered_reason": None if ms is not None else "ignored", "trace": {"spoken_latency_ms": trace_ms}}


def test_summary_keeps_the_first_turn_apart_and_counts_unanswered() -> None:
    turns = [_turn("chat", 3000, 2900), _turn("chat", 1000, 900), _turn("chat", 1200, 1100), _turn("fast_path", 500, 450),
             _turn("fast_path", None)]
    s = bench.summarize(turns)
    assert s["first_turn"]["spoken_latency_ms"] == 3000
    assert s["by_kind"]["chat"]["turns"] == 2 and s["by_kind"]["chat"]["spoken_latency_ms"]["p50"] == 1100
    assert s["by_kind"]["chat"]["trace_spoken_latency_ms"]["p50"] == 1000
    assert s["first_turn_vs_kind_p50"] == round(3000 / 1100, 2)
    assert s["by_kind"]["fast_path"]["turns"] == 2 and s["by_kind"]["fast_path"]["answered"] == 1
    assert [u["name"] for u in s["unanswered"]] == ["fast_path"]
    assert s["by_kind"]["llm_routed"]["spoken_latency_ms"] == {"p50": None, "p95": None}


class _DeadStream:
    """A PortAudio stream whose callback thread has ended (what an ALSA poll failure leaves)."""

    active = False

    def abort(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_first_turns_of_every_start_are_compared_with_their_kind() -> None:
    turns = [_turn("chat", 1300, 1200), _turn("chat", 1000, 900), _turn("chat", 1200, 1100), _turn("fast_path", 500, 450)]
    s = bench.summarize(turns)
    restarts = [_turn("chat", 1100, 1000), _turn("chat", None), _turn("fast_path", 600, 500)]
    ft = bench.first_turns_report([turns[0], *restarts], s["by_kind"])
    assert [x["vs_kind_p50"] for x in ft["starts"]] == [round(1300 / 1100, 2), round(1100 / 1100, 2), None, round(600 / 500, 2)]
    assert ft["starts"][2]["answered"] is False and ft["starts"][2]["unanswered_reason"] == "ignored"
    assert ft["median_vs_kind_p50"] == 1.18  # the median of 1.18, 1.0 and 1.2 (the unanswered start left out)
    assert ft["median_trace_vs_kind_trace_p50"] == 1.11  # of 1.2, 1.0 and 500 / 450
    # measured − trace per answered turn: the harness against the daemon's own clock
    assert s["measured_minus_trace_ms"]["p50"] == 100 and s["measured_minus_trace_ms"]["n"] == 4


def _routed(kind: str, wav: str, ms: float | None, source: str = "rules", route: str = "smalltalk",
            error: str | None = None) -> dict:
    t = _turn(kind, ms)
    t.update({"wav": wav, "trace": {"spoken_latency_ms": ms, "source": source, "route": route, "error": error}})
    return t


def test_pairs_hold_the_same_wavs_on_the_same_path_on_both_sides() -> None:
    turns = [_routed("chat", "01.wav", 5000),  # the first turn after READY: never paired
             _routed("chat", "01.wav", 1500), _routed("chat", "02.wav", 1300),
             _routed("follow_up", "03.wav", 900), _routed("follow_up", "04.wav", 800, "rules", "system"),
             _routed("chat", "05.wav", 1400, error="llm_timeout"),  # an apology: not paired
             _routed("fast_path", "06.wav", 700, "rules", "calendar")]
    pipe = [{"file": "01.wav", "path": "rules:smalltalk", "spoken_latency_ms": 1400.0, "error": None},
            {"file": "02.wav", "path": "llm:smalltalk", "spoken_latency_ms": 1000.0, "error": None},  # another path
            {"file": "03.wav", "path": "rules:smalltalk", "spoken_latency_ms": 700.0, "error": None},
            {"file": "04.wav", "path": "rules:system", "spoken_latency_ms": 750.0, "error": None},
            {"file": "05.wav", "path": "rules:smalltalk", "spoken_latency_ms": 1000.0, "error": None},
            {"file": "06.wav", "path": "rules:calendar!llm_timeout", "spoken_latency_ms": 900.0, "error": None}]
    p = bench.paired_by_kind(turns, pipe)
    assert p["chat"]["pairs"] == 1 and p["chat"]["difference_of_p50_ms"] == 100
    assert p["follow_up"]["pairs"] == 2 and p["follow_up"]["daemon_p50_ms"] == 850 and p["follow_up"]["pipeline_p50_ms"] == 725
    assert p["follow_up"]["median_paired_difference_ms"] == 125
    assert p["fast_path"]["pairs"] == 0 and p["fast_path"]["difference_of_p50_ms"] is None
    r = bench.summarize(turns)
    r.update({"paired": p, "first_turns": bench.first_turns_report([turns[0], turns[1]], r["by_kind"])})
    md = bench.render_markdown(_report_frame(r))
    assert "| follow up | 2 | 0.85 s | 0.72 s | **+0.12 s** | +0.12 s |" in md, md
    assert "fast path | 0 |" not in md
    assert "(2 starts: the run above" in md and "**Median" in md


def test_with_several_pipeline_passes_a_wav_is_paired_with_the_median_of_its_passes_on_that_path() -> None:
    turns = [_routed("chat", "01.wav", 5000), _routed("chat", "01.wav", 1500), _routed("fast_path", "02.wav", 600, "rules", "system")]
    pipe = [{"file": "01.wav", "path": "rules:smalltalk", "spoken_latency_ms": ms, "error": None} for ms in (1100.0, 1400.0, 1300.0)]
    pipe += [{"file": "01.wav", "path": "llm:smalltalk", "spoken_latency_ms": 400.0, "error": None},  # another path: not counted
             {"file": "02.wav", "path": "rules:system", "spoken_latency_ms": 500.0, "error": None},
             {"file": "02.wav", "path": "rules:system", "spoken_latency_ms": None, "error": "no transcript"}]
    p = bench.paired_by_kind(turns, pipe)
    assert p["chat"]["rows"] == [{"wav": "01.wav", "daemon_ms": 1500, "pipeline_ms": 1300.0, "pipeline_passes": 3}]
    assert p["chat"]["median_paired_difference_ms"] == 200
    assert p["fast_path"]["rows"][0]["pipeline_passes"] == 1 and p["fast_path"]["difference_of_p50_ms"] == 100


def test_the_rig_reopens_a_stream_that_died_and_cuts_the_sound_it_was_playing(monkeypatch: pytest.MonkeyPatch) -> None:
    rig = object.__new__(bench.DuplexRig)  # no PortAudio: the stream is a stand-in
    rig.frames, rig.restarts, rig._queue, rig._lock = 4800, [], [], bench.threading.Lock()
    rig._last_callback = bench.time.monotonic()
    done = bench.threading.Event()
    rig._current = (np.zeros(RATE, np.int16), 100, done, [4700])
    rig.stream = _DeadStream()
    opened: list[object] = []
    monkeypatch.setattr(rig, "_open", lambda: opened.append(object()) or _DeadStream())
    assert rig.revive() is True
    assert rig.restarts == [4800] and len(opened) == 1
    assert done.is_set() and rig._current is None  # the cut sound does not keep its player waiting
    for _ in range(bench.MAX_RESTARTS - 1):
        rig.revive()
    with pytest.raises(RuntimeError, match="stopped"):
        rig.revive()  # a stream that keeps dying ends the run with a clear error


def test_a_live_stream_is_left_alone() -> None:
    rig = object.__new__(bench.DuplexRig)
    rig.restarts, rig._last_callback = [], bench.time.monotonic()
    rig.stream = type("Live", (), {"active": True})()
    assert rig.revive() is False and rig.restarts == []


def test_a_turn_cut_by_a_harness_restart_is_left_out_of_the_figures() -> None:
    turns = [_turn("chat", 3000, 2900), _turn("chat", None), _turn("chat", 1000, 900)]
    turns[1]["harness_restarted"] = True
    s = bench.summarize(turns)
    assert [t["name"] for t in s["not_measured"]] == ["chat"]
    assert s["by_kind"]["chat"]["turns"] == 1 and s["unanswered"] == []


@pytest.mark.audio
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_quick_run_through_the_devices(tmp_path: Path) -> None:
    """The real daemon (default configuration, real models) answers at least one of 3 spoken turns
    through the private PulseAudio server; the report has its structure."""
    missing = [t for t in ("pulseaudio", "pactl", "espeak-ng", "sox") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing {', '.join(missing)} (apt-get install pulseaudio pulseaudio-utils espeak-ng sox)")
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts/bench_daemon.py"), "--quick", "--json", "--ready-timeout", "360",
                             "--turn-timeout", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        out, err = proc.communicate(timeout=560)  # READY alone can take minutes on a loaded machine
    except subprocess.TimeoutExpired:
        proc.terminate()  # SIGTERM: the script stops its daemon and sound server on the way out
        out, err = proc.communicate(timeout=15)
        pytest.fail(f"bench_daemon.py --quick did not finish in 560 s: {err[-2000:]}")
    assert proc.returncode == 0, err[-3000:]
    r = json.loads(out)
    assert len(r["turns"]) == 3
    answered = [t for t in r["turns"] if t["answered"]]
    assert answered, r["unanswered"]
    assert all(t["spoken_latency_ms"] > 0 and t["kind"] in bench.KINDS for t in answered)
    # the daemon's own trace of an answered turn is there, and on its clock the reply came after the request too
    assert any(t["trace"] and (t["trace"]["spoken_latency_ms"] or 0) > 0 for t in answered)
    # the wake earcon, played through the sound server, is found by its waveform before the reply's speech
    assert any(t["earcons_s"] and t["earcons_s"][0][1] <= t["spoken_latency_ms"] / 1000 + 0.05 for t in answered
               if t["wake_word"]), [t["earcons_s"] for t in answered]
    assert r["measured_minus_trace_ms"]["n"] >= 1 and r["first_turns"]["starts"][0]["name"] == r["first_turn"]["name"]
    assert set(r["by_kind"]) == set(bench.KINDS)
    for k in r["by_kind"].values():
        assert set(k["spoken_latency_ms"]) == {"p50", "p95"} and set(k["trace_spoken_latency_ms"]) == {"p50", "p95"}
    measured = [t for t in r["turns"] if not t["harness_restarted"]]
    assert r["first_turn"]["name"] == measured[0]["name"]
    assert len(r["unanswered"]) == len(measured) - len(answered)
    assert len(r["not_measured"]) == 3 - len(measured)
    assert r["rss_mb"]["ready"] > 50 and r["rss_mb"]["after_turns"] > 50 and r["rss_mb"]["idle_after_turns"] > 50
    # read after each turn's reply; 3 turns have no "after 20 turns" point
    assert all(t["rss_mb"] > 50 for t in r["turns"])
    assert r["rss_mb"]["after_20_turns"] is None
    mem = r["memory"]  # per mapping (smaps): the anonymous and file-backed parts add up to the resident size
    for point in ("ready", "after_turns", "idle_after_turns"):
        assert mem[point]["anon_kb"] + mem[point]["file_kb"] == mem[point]["rss_kb"] > 50 * 1024
    assert all({"mapping", "rss_kb_delta", "anon_kb_delta"} <= set(g) for g in mem["grew_after_turns"])
    for window in ("silence", "speech_without_wake_word"):
        assert 0 <= r["cpu"][window]["cpu_pct_of_one_core"] < 100 * (os.cpu_count() or 1)
    assert r["cpu"]["speech_without_wake_word"]["turns"] == 0  # background speech is never answered
    assert 0 < r["harness_round_trip_ms"]["before"]["ms"] < 2000
    assert r["daemon"]["exit_code"] == 0
    assert r["meta"]["machine"] and r["meta"]["date"]


def test_rss_after_the_twentieth_turn_is_the_one_read_after_its_reply() -> None:
    turns = [{"rss_mb": 600.0 + i} for i in range(44)]
    assert bench.rss_after_turn(turns, 20) == 619.0  # the 20th turn, not the 21st
    assert bench.rss_after_turn(turns[:19], 20) is None  # fewer turns ran: no such point
    assert bench.rss_after_turn([{"rss_mb": None}] * 20, 20) is None  # the daemon had exited


def test_markdown_report_names_the_first_turn_each_kind_cpu_rss_and_the_pipeline_beside() -> None:
    turns = [_turn("chat", 3000, 2900), _turn("chat", 1000, 900), _turn("fast_path", 500, 450), _turn("follow_up", None)]
    turns[1]["trace"]["error"] = "llm_timeout"
    r = bench.summarize(turns)
    r.update({"turns": turns, "ready_s": 12.5, "rss_mb": {"ready": 400.0, "after_20_turns": 410.0, "after_turns": 420.0, "end": 421.0},
              "cpu": {"silence": {"cpu_pct_of_one_core": 1.5, "seconds": 20.0, "cpu_pct_per_5_s": [3.0, 1.0, 1.0, 1.0]},
                      "speech_without_wake_word": {"cpu_pct_of_one_core": 37.0, "seconds": 60.0, "utterances": 9, "ignored": 9,
                                                   "turns": 0}},
              "harness_round_trip_ms": {"before": {"ms": 120.0}, "after": {"ms": 130.0},
                                        "per_turn": {"p50": 121.0, "p95": 125.0, "min": 119.0, "max": 126.0}, "xruns": {"a": 0}},
              "notes": ["a note"],
              "pipeline": {"command": "bench_pipeline", "answered": 3, "turns": [{}] * 4, "by_kind": {
                  k: {"turns": 1, "answered": 1, "spoken_latency_ms": {"p50": 800.0, "p95": 800.0}} for k in bench.KINDS}},
              "daemon_minus_pipeline_p50_ms": {"chat": 200.0, "fast_path": -300.0, "llm_routed": None, "follow_up": None},
              "meta": {"command": "python scripts/bench_daemon.py --x", "daemon_command": "python -m bantz_voice run",
                       "machine": "cpu", "loadavg_end": [1.0], "date": "d"}})
    md = bench.render_markdown(r)
    assert "`python scripts/bench_daemon.py --x`" in md
    assert "| first turn after READY (chat, 3.0× the p50 of its kind) | 1 | 1 (0) | **3.00 s** | 2.90 s | 0.30 s |" in md
    assert "| chat | 1 | 1 (1) | 1.00 / 1.00 s | 0.90 / 0.90 s | 0.30 / 0.30 s |" in md
    assert "| fast path | 1 | 1 (0) | 0.50 / 0.50 s |" in md
    assert "| follow up | 1 | 0 (0) | – |" in md
    assert "| chat | 1.00 s (1) | 0.80 / 0.80 s (1) | +0.20 s |" in md and "| fast path | 0.50 s (1) | 0.80 / 0.80 s (1) | -0.30 s |" in md
    assert "RSS 400.0 MB at READY → 410.0 MB after 20 turns (+2.5 %) → 420.0 MB right after the last turn (+5.0 %)" in md and "1.5 % of one core in 20 s of silence after the turns (per 5 s: 3, 1, 1, 1 %)" in md
    assert "37.0 % of one core during 60 s of Turkish speech" in md
    assert "Resident memory" not in md  # a report without the smaps breakdown (older runs) renders as before
    ready = {"[anon]": {"rss": 300 * 1024, "anon": 300 * 1024}, "/m/model.gguf": {"rss": 100 * 1024, "anon": 0}}
    after = {"[anon]": {"rss": 330 * 1024, "anon": 330 * 1024}, "/m/model.gguf": {"rss": 100 * 1024, "anon": 0},
             "/lib/libx.so": {"rss": 2048, "anon": 0}}
    r["memory"] = bench.memory_report(ready, after, after, {})
    assert r["memory"]["grew_after_turns"][0] == {"mapping": "[anon]", "rss_kb_before": 300 * 1024, "rss_kb_after": 330 * 1024,
                                                   "rss_kb_delta": 30 * 1024, "anon_kb_delta": 30 * 1024}
    assert r["memory"]["end"] is None and r["memory"]["grew_end"] == []
    md = bench.render_markdown(r)
    assert ("anonymous 300.0 → 330.0 MB, file-backed 100.0 → 102.0 MB; grew most: [anon] +30.0 MB, libx.so +2.0 MB." in md), md
    assert "Not answered: follow_up" in md and "llm_timeout" in md and "Note: a note." in md


def _report_frame(r: dict) -> dict:
    """The fields render_markdown needs around a summary."""
    r.update({"turns": [], "ready_s": 10.0, "rss_mb": {"ready": 400.0, "after_turns": 420.0}, "cpu": {},
              "harness_round_trip_ms": {"before": {"ms": 120.0}, "after": {"ms": 130.0},
                                        "per_turn": {"p50": 121.0, "p95": 125.0, "min": 119.0, "max": 126.0}, "xruns": {}},
              "meta": {"command": "c", "daemon_command": "d", "machine": "m", "loadavg_end": [0.1], "date": "x"}})
    return r


def test_the_steal_share_is_the_stolen_ticks_over_all_ticks_between_two_readings() -> None:
    assert bench.steal_share((100, 10_000), (150, 11_000)) == 5.0
    assert bench.steal_share((0, 0), (0, 0)) is None  # no /proc/stat: not measured, not zero
    stolen, total = bench.machine_cpu_ticks()
    assert 0 <= stolen <= total


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")), reason="espeak-ng/sox (scripts/setup.sh --test)")
def test_a_rendered_utterance_is_the_same_file_every_time(tmp_path) -> None:
    """sox dithers when it reduces espeak-ng's output to 16 kHz 16-bit, with a new random seed each
    run: without ``-R`` the same sentence was a different WAV in every run, and Whisper heard one of
    the benchmark's requests three different ways in three runs. Every run now plays the same audio."""
    a = bench.render("Bantz, yarın saat onda doktor randevusu ekle", 140, tmp_path / "a.wav", pad=(0.3, 0.5))
    b = bench.render("Bantz, yarın saat onda doktor randevusu ekle", 140, tmp_path / "b.wav", pad=(0.3, 0.5))
    assert a.read_bytes() == b.read_bytes() and len(a.read_bytes()) > 16000
