#!/usr/bin/env python3
"""Benchmark of the wake-word stage in front of Whisper (issue 15, item 1).

Held-out sets (voices, sentences and seeds never used by scripts/train_wakeword.py, see
scripts/wakeword_data.py): espeak-ng Turkish utterances with and without "Bantz", clean and with
noise/reverberation, plus the project's Piper voice (tr_TR-fahrettin-medium, a TTS family the model
never saw) when it is installed, and sound-alike openings ("dans", "pans", "bence", … in
held-out voices, reported apart). Measured through the daemon's own first stage
(``DaemonGate.hears``, i.e. bantz_voice.wake with the configured threshold and k-of-n rule), and
with ``--baseline`` (default: 1 of 1 at 0.5, the rule before k-of-n) on the same utterances in
the same run:

- recall on utterances that start with "Bantz" (target >= 97 %);
- false wakes per hour of Turkish speech without the name (each sentence one utterance, as the
  endpointer cuts a room's speech; target <= 1), and how many of those the transcript stage then
  passes (a reply) after a real Whisper decode;
- CPU seconds per second of audio: the stage vs a Whisper decode (the project's Transcriber).

    python scripts/bench_wakeword.py [--pos 300 --neg 1200 --whisper 12] [--json out.json]
    python scripts/bench_wakeword.py --audio-cache /tmp/sets.npz --render-only   # synthesise once
    python scripts/bench_wakeword.py --audio-cache /tmp/sets.npz --json out.json  # measure on them

The decision rule is chosen on a separate split (scripts/tune_wakeword.py), never on these sets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import wakeword_data as wd  # noqa: E402

HELDOUT_SEED = 1001  # the training script uses 7/8 (and their derived seeds)


def piper_clips(n_pos: int, n_neg: int, seed: int) -> list[wd.Clip]:
    """The project's Piper voice, via the project's TTS (skipped when the voice is not installed)."""
    import random

    from bantz_voice.config import load_settings
    from bantz_voice.tts.piper_tts import PiperTTS

    tts = PiperTTS(load_settings().tts)
    rate = tts.sample_rate
    rng = random.Random(seed)
    sents = wd.sentences("heldout")
    out = []
    for i in range(n_pos + n_neg):
        pos = i < n_pos
        text = f"{rng.choice(wd.WAKE_FORMS)}, {rng.choice(sents)}" if pos else rng.choice(sents)
        x = tts.synthesize(text).astype(np.float32) / 32768.0
        if rate != wd.RATE:
            idx = np.arange(0, x.size, rate / wd.RATE)
            x = np.interp(idx, np.arange(x.size), x).astype(np.float32)
        x = np.concatenate([np.zeros(int(0.25 * wd.RATE), np.float32), wd.trim(x), np.zeros(int(0.3 * wd.RATE), np.float32)])
        out.append(wd.Clip(x, int(pos), 0.0, 0.0, text))
    return out


def render_sets(a: argparse.Namespace) -> dict[str, list[wd.Clip]]:
    groups = wd.utterance_specs("heldout", a.pos, a.neg, a.near, HELDOUT_SEED)
    babble = wd.babble_pool(HELDOUT_SEED)
    clean = wd.synthesise(groups, HELDOUT_SEED, False)
    noisy = wd.synthesise(groups, HELDOUT_SEED + 1, True, babble)
    sets: dict[str, list[wd.Clip]] = {
        "espeak_clean_pos": [c for c in clean if c.label],
        "espeak_noisy_pos": [c for c in noisy if c.label],
        "espeak_clean_neg": [c for c in clean if not c.label],
        "espeak_noisy_neg": [c for c in noisy if not c.label],
    }
    if a.alike:  # its own seed: the sets above are the same with or without it
        sets["sound_alike_neg"] = wd.synthesise(wd.sound_alike_specs(a.alike, HELDOUT_SEED + 2), HELDOUT_SEED + 2, False)
    if a.piper:
        try:
            piper = piper_clips(a.piper, a.piper, HELDOUT_SEED)
            sets["piper_pos"] = [c for c in piper if c.label]
            sets["piper_neg"] = [c for c in piper if not c.label]
        except Exception as exc:  # the voice is not installed here
            print(f"Piper skipped: {exc}", file=sys.stderr)
    return sets


def save_sets(path: Path, sets: dict[str, list[wd.Clip]]) -> None:
    arrays: dict[str, np.ndarray] = {}
    for name, clips in sets.items():
        for i, c in enumerate(clips):
            arrays[f"{name}/{i}"] = (np.clip(c.audio, -1, 1) * 32767).astype(np.int16)
            arrays[f"{name}/{i}/text"] = np.array(c.text)
    savez: Callable[..., None] = np.savez  # (numpy's stub types **kwds as its own keyword)
    savez(path, **arrays)


def load_sets(path: Path) -> dict[str, list[wd.Clip]]:
    data = np.load(path)
    sets: dict[str, list[wd.Clip]] = {}
    for key in data.files:
        parts = key.split("/")
        if len(parts) == 2:
            name = parts[0]
            audio = data[key].astype(np.float32) / 32767
            sets.setdefault(name, []).append(wd.Clip(audio, int(name.endswith("_pos")), 0.0, 0.0, str(data[key + "/text"])))
    return sets


def rule_of(text: str) -> tuple[float, int, int]:
    thr, k, n = text.split(",")
    return float(thr), int(k), int(n)


def model_of(text: str) -> tuple[Path, tuple[float, int, int] | None]:
    """``ONNX`` (the configured rule) or ``ONNX@THR,K,N`` (that model's own rule)."""
    path, sep, rule = text.rpartition("@") if "@" in text else (text, "", "")
    return Path(path), rule_of(rule) if sep else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pos", type=int, default=300)
    ap.add_argument("--neg", type=int, default=1200)
    ap.add_argument("--near", type=int, default=200)
    ap.add_argument("--alike", type=int, default=200, help="utterances starting with a sound-alike word (dans, pans, bence, …)")
    ap.add_argument("--piper", type=int, default=60, help="Piper utterances with and without the name (0: none)")
    ap.add_argument("--whisper", type=int, default=12, help="utterances decoded by Whisper for the cost figure")
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--rule", type=rule_of, default=None, metavar="THR,K,N",
                    help="the rule to measure instead of the configured one (threshold, k of n)")
    ap.add_argument("--baseline", type=rule_of, default=(0.5, 1, 1), metavar="THR,K,N",
                    help="measured on the same utterances in the same run (default: 0.5,1,1, the rule before k-of-n)")
    ap.add_argument("--also", type=rule_of, action="append", default=[], metavar="THR,K,N",
                    help="further rules measured on the same utterances in the same run (repeatable)")
    ap.add_argument("--compare-model", type=model_of, action="append", default=[], metavar="ONNX[@THR,K,N]",
                    help="another wake-word model measured on the same utterances in the same run, with the "
                         "configured rule or its own (repeatable; e.g. a retrained model against the packaged one)")
    ap.add_argument("--agree", type=model_of, action="append", default=None, metavar="ONNX@THR,K,N",
                    help="measure the agreement rule with this further model (wake.agree; repeatable) instead of "
                         "the configured one; with --agree-within (wake.agree_within)")
    ap.add_argument("--agree-within", type=int, default=None, metavar="WINDOWS")
    ap.add_argument("--audio-cache", type=Path, default=None,
                    help="an .npz of the rendered sets: written when missing, read (no synthesis) when present")
    ap.add_argument("--render-only", action="store_true", help="write --audio-cache and stop")
    ap.add_argument("--ab-utterances", type=int, default=300,
                    help="plain utterances for the stage's CPU, configured vs baseline interleaved")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    if a.render_only:
        if not a.audio_cache:
            raise SystemExit("--render-only needs --audio-cache")
        save_sets(a.audio_cache, render_sets(a))
        return 0

    from bantz_voice.audio.vad import Utterance
    from bantz_voice.config import WakeModelSettings, WakeSettings, load_settings
    from bantz_voice.daemon.notify import Notifier
    from bantz_voice.daemon.runner import Daemon
    from bantz_voice.wake import AgreementWakeDetector, OnnxWakeDetector, WakeDetector, build_wake_detector

    def with_rule(w: WakeSettings, rule: tuple[float, int, int]) -> WakeSettings:
        return WakeSettings(**{**w.model_dump(), "threshold": rule[0], "confirm_k": rule[1], "confirm_n": rule[2]})

    def onnx(w: WakeSettings, model_path: Path | None = None) -> OnnxWakeDetector:
        return OnnxWakeDetector(model_path or w.model_path, w.threshold, w.scan_s, w.confirm_k, w.confirm_n)

    settings = load_settings()
    settings.wake.engine = "model"
    if a.rule is not None:
        settings.wake = with_rule(settings.wake, a.rule)
    if a.threshold is not None:
        settings.wake.threshold = a.threshold
    if a.agree is not None:
        settings.wake.agree = [WakeModelSettings(model=str(p), threshold=r[0], confirm_k=r[1], confirm_n=r[2])
                               for p, r in a.agree if r is not None]
        if len(settings.wake.agree) != len(a.agree):
            raise SystemExit("--agree needs ONNX@THR,K,N")
    if a.agree_within is not None:
        settings.wake.agree_within = a.agree_within
    daemon = Daemon(settings, "echo", Notifier(""))
    daemon.earcons.enabled = False
    single = settings.wake.model_copy(update={"agree": []})
    detectors: dict[str, WakeDetector] = {"configured": build_wake_detector(settings.wake),
                                          "baseline": onnx(with_rule(single, a.baseline))}
    for rule in a.also:
        detectors[f"rule {rule[0]:g}, {rule[1]} of {rule[2]}"] = onnx(with_rule(single, rule))
    for path, rule in a.compare_model:
        name = f"model {path}" + (f" at {rule[0]:g}, {rule[1]} of {rule[2]}" if rule else "")
        detectors[name] = onnx(with_rule(single, rule) if rule else single, path)

    t0 = time.time()
    if a.audio_cache and a.audio_cache.is_file():
        sets = load_sets(a.audio_cache)
        print(f"loaded {sum(map(len, sets.values()))} utterances from {a.audio_cache}", file=sys.stderr)
    else:
        sets = render_sets(a)
        print(f"synthesised in {time.time() - t0:.0f} s", file=sys.stderr)
        if a.audio_cache:
            save_sets(a.audio_cache, sets)

    stage_cpu: dict[str, float] = {}
    stage_audio = 0.0
    per_rule: dict[str, dict] = {}
    fired_neg: dict[str, list[wd.Clip]] = {}
    conf_det = detectors["configured"]
    def rules(det: WakeDetector) -> list[tuple[str, float, int, int]]:
        return [(str(m.model_path), m.threshold, m.confirm_k, m.confirm_n) for m in det.models]

    for rule_name, det in detectors.items():
        if rule_name == "baseline" and rules(det) == rules(conf_det):
            per_rule[rule_name], fired_neg[rule_name] = per_rule["configured"], fired_neg["configured"]
            continue  # the same model and rule: the same results
        daemon.wake = det  # the daemon's own first stage (DaemonGate.hears) with this rule
        results: dict[str, dict] = {}
        fired_neg[rule_name] = []
        stage_cpu[rule_name] = 0.0
        for name, clips in sets.items():
            fired = 0
            speech_s = 0.0
            for c in clips:
                audio = (np.clip(c.audio, -1, 1) * 32767).astype(np.int16)
                c0 = time.process_time()
                ok = daemon.voice_gate.hears(Utterance(audio, 0.0, 0.0, audio.size / wd.RATE), final=True)
                stage_cpu[rule_name] += time.process_time() - c0
                if rule_name == "configured":
                    stage_audio += audio.size / wd.RATE
                fired += ok
                speech_s += audio.size / wd.RATE
                if ok and not c.label:
                    fired_neg[rule_name].append(c)
            r: dict = {"utterances": len(clips), "fired": fired, "hours": round(speech_s / 3600, 3)}
            if name.endswith("_pos"):
                r["recall"] = round(fired / max(1, len(clips)), 4)
            else:
                r["false_wakes_per_hour"] = round(fired / (speech_s / 3600), 2)
            results[name] = r
            print(rule_name, name, r, file=sys.stderr)
        pos_sets = [k for k in results if k.endswith("_pos")]
        # "all": the sets of the first benchmark (comparable with its figures); the sound-alike set apart
        neg_sets = [k for k in results if k.endswith("_neg") and k != "sound_alike_neg"]
        neg_hours = sum(results[k]["hours"] for k in neg_sets)
        first = det.models[0]
        per_rule[rule_name] = {
            "model": str(first.model_path),
            "model_kb": round(sum(m.model_path.stat().st_size for m in det.models) / 1024, 1),
            "threshold": first.threshold,
            "confirm_k": first.confirm_k,
            "confirm_n": first.confirm_n,
            "models": [{"model": str(m.model_path), "threshold": m.threshold, "confirm_k": m.confirm_k,
                        "confirm_n": m.confirm_n} for m in det.models],
            "agree_within": det.within if isinstance(det, AgreementWakeDetector) else None,
            "stage_cpu_s_per_audio_s": round(stage_cpu[rule_name] / max(1e-9, stage_audio), 5),
            "sets": results,
            "recall_all": round(sum(results[k]["fired"] for k in pos_sets)
                                / max(1, sum(results[k]["utterances"] for k in pos_sets)), 4),
            "false_wakes_all": sum(results[k]["fired"] for k in neg_sets),
            "false_wakes_per_hour_all": round(sum(results[k]["fired"] for k in neg_sets) / max(1e-9, neg_hours), 2),
            "negative_hours": round(neg_hours, 3),
            "negative_utterances": sum(results[k]["utterances"] for k in neg_sets),
            "false_wake_texts": sorted(c.text for c in fired_neg[rule_name]),
        }

    # the stage's CPU, configured vs baseline interleaved utterance by utterance (A/B in one loop:
    # the machine's load hits both alike), over the first --ab-utterances plain utterances
    ab_cpu = {"configured": 0.0, "baseline": 0.0}
    ab_audio = 0.0
    for c in sets["espeak_clean_neg"][: a.ab_utterances]:
        audio = (np.clip(c.audio, -1, 1) * 32767).astype(np.int16)
        for rule_name in ("configured", "baseline"):
            c0 = time.process_time()
            detectors[rule_name].detect(audio)
            ab_cpu[rule_name] += time.process_time() - c0
        ab_audio += audio.size / wd.RATE

    # Whisper: cost per audio second, and the second stage on every false wake
    from bantz_voice.asr import Transcriber

    tr = Transcriber(settings.asr)
    whisper_cpu = 0.0
    whisper_audio = 0.0
    sample = sets["espeak_clean_neg"][: a.whisper]
    for c in sample:
        audio = (np.clip(c.audio, -1, 1) * 32767).astype(np.int16)
        c0 = time.process_time()
        tr.transcribe(audio)
        whisper_cpu += time.process_time() - c0
        whisper_audio += audio.size / wd.RATE
    replied: dict[int, bool] = {}
    for rule_name, clips in fired_neg.items():
        for c in clips:
            if id(c) not in replied:
                text = tr.transcribe((np.clip(c.audio, -1, 1) * 32767).astype(np.int16)).text
                replied[id(c)] = daemon.gate.decide(text, commit=False).text is not None
        per_rule[rule_name]["false_wakes_replied_after_transcript_stage"] = sum(replied[id(c)] for c in clips)

    conf = per_rule["configured"]
    summary = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()} {os.cpu_count()} CPU(s), {platform.processor() or platform.platform()}",
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        **conf,
        "baseline": per_rule["baseline"],
        "also": {k: v for k, v in per_rule.items() if k not in ("configured", "baseline")},
        "stage_cpu_s_per_audio_s": conf["stage_cpu_s_per_audio_s"],
        "whisper_cpu_s_per_audio_s": round(whisper_cpu / max(1e-9, whisper_audio), 4),
        "stage_cpu_ab_interleaved": {"utterances": min(a.ab_utterances, len(sets["espeak_clean_neg"])),
                                     **{k: round(v / max(1e-9, ab_audio), 5) for k, v in ab_cpu.items()},
                                     "ratio": round(ab_cpu["configured"] / max(1e-9, ab_cpu["baseline"]), 3)},
        "whisper_model": settings.asr.model,
    }
    # one hour of continuous background speech, cut into utterances like the negatives above: CPU
    # (fraction of one core) spent on it before the brain, today (every utterance decoded) vs with
    # the stage (every utterance scanned, only false wakes decoded). An estimate from the measured
    # per-audio-second costs, not a daemon measurement.
    w = summary["whisper_cpu_s_per_audio_s"]
    per_utt_s = conf["negative_hours"] * 3600 / max(1, conf["negative_utterances"])
    summary["background_hour_cpu_today_pct_core"] = round(100 * w, 1)
    summary["background_hour_cpu_with_stage_pct_core"] = round(
        100 * (summary["stage_cpu_s_per_audio_s"] + conf["false_wakes_per_hour_all"] * per_utt_s * w / 3600), 2)
    summary["stage_cost_fraction_of_whisper"] = round(summary["stage_cpu_s_per_audio_s"] / max(1e-9, summary["whisper_cpu_s_per_audio_s"]), 4)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if a.json:
        a.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
