#!/usr/bin/env python3
"""How well each voice present speaks Turkish: synthesize a fixed set of reply sentences, let
Whisper transcribe them (the product's ``Transcriber``, Turkish, no prompt) and score the
character error rate (CER) against the spoken form of each sentence. Every Piper voice in the
model cache is measured as shipped and — when its language is not Turkish and its phoneme map
permits — with espeak-ng's Turkish phonemes (what ``PiperTTS`` does with ``tts.turkish_phonemes``);
espeak-ng's own Turkish voice is measured as a reference. The best fallback is the Piper voice
and variant with the lowest CER among those that are not a Turkish voice.

    python scripts/bench_tts_intelligibility.py [--json | --markdown] [--asr whisper-base]

Needs the Whisper model and espeak-ng; Whisper is the listener, so the figures rank voices on this
listener, not in absolute terms."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bantz_voice.bench import report  # noqa: E402 - the checkout's package, not an installed copy

SENTENCES = (
    "Tamam, yarın saat on dörtte doktor randevusu ekledim.",
    "Bu hafta takviminizde üç etkinlik var.",
    "Cuma günü akşam yedide annenizle yemek var.",
    "Toplantıyı pazartesi sabah dokuz buçuğa taşıdım.",
    "Üzgünüm, bunu anlayamadım. Tekrar söyler misiniz?",
    "Bugün hava güneşli, sıcaklık yirmi iki derece.",
    "Yarın sabah sekizde toplantınız var, unutmayın.",
    "Etkinliği sildim, başka bir isteğiniz var mı?",
    "Öğleden sonra iki buçukta diş hekimine gideceksiniz.",
    "Kasım ayında on iki etkinlik planlanmış.",
    "Hatırlatıcıyı çarşamba akşamına kurdum.",
    "Şu an saat on bir kırk beş, efendim.",
)
RATE = 16000


@dataclass
class Variant:
    name: str  # "en_US-joe-medium (Turkish phonemes)"
    kind: str  # "piper" | "espeak-ng"
    language: str  # espeak voice used to phonemize
    turkish_voice: bool


def _words(text: str) -> str:
    from bantz_voice.turkish.morph import lower

    s = lower(text).replace("'", "").replace("’", "")
    return " ".join("".join(ch if ch.isalnum() else " " for ch in s).split())


def cer(hyp: str, ref: str) -> float:
    import jiwer

    return float(jiwer.cer(_words(ref), _words(hyp) or "-"))


def _to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    import soxr

    x = samples.astype(np.float32) / 32768.0
    y = soxr.resample(x, rate, RATE) if rate != RATE else x
    return np.clip(np.round(y * 32767), -32768, 32767).astype(np.int16)


def piper_voices() -> list[Path]:
    from bantz_voice.models.manager import models_dir

    return sorted(p for p in models_dir().glob("*/*.onnx") if Path(f"{p}.json").is_file())


def espeak_tr(text: str) -> tuple[np.ndarray, int]:
    out = subprocess.run(["espeak-ng", "-v", "tr", "--stdout", text], capture_output=True, check=True, timeout=60).stdout
    with wave.open(io.BytesIO(out)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16), w.getframerate()


def measure(asr_model: str) -> dict:
    from bantz_voice.asr import Transcriber
    from bantz_voice.config import load_settings
    from bantz_voice.tts.piper_tts import PiperTTS, turkish_phonemes

    settings = load_settings()
    asr = settings.asr.model_copy(update={"model": asr_model, "initial_prompt": "", "retry_without_prompt": False})
    listener = Transcriber(asr)
    from bantz_voice.turkish.normalize import normalize

    refs = [normalize(s) for s in SENTENCES]
    rows = []

    def score(variant: Variant, synth) -> None:
        per = []
        for sentence, ref in zip(SENTENCES, refs):
            samples, rate = synth(sentence)
            t0 = time.monotonic()
            heard = listener.transcribe(_to_16k(samples, rate)).raw_text
            per.append({"sentence": sentence, "heard": heard, "cer": round(cer(heard, ref), 3),
                        "asr_s": round(time.monotonic() - t0, 2)})  # fmt: skip
        rows.append({**variant.__dict__, "cer": round(float(np.mean([p["cer"] for p in per])), 3),
                     "worst": max(p["cer"] for p in per), "sentences": per})  # fmt: skip

    for path in piper_voices():
        tts_settings = settings.tts.model_copy(update={"voice": str(path), "turkish_phonemes": False})
        tts = PiperTTS(tts_settings)
        own = tts.voice.config.espeak_voice
        turkish = own.split("-")[0] == "tr"
        score(Variant(path.stem, "piper", own, turkish), lambda s, t=tts: (t.synthesize(s), t.sample_rate))
        if not turkish and turkish_phonemes(tts.voice):
            score(
                Variant(f"{path.stem} (Turkish phonemes)", "piper", "tr", False),
                lambda s, t=tts: (t.synthesize(s), t.sample_rate),
            )
    if shutil.which("espeak-ng"):
        score(Variant("espeak-ng tr", "espeak-ng", "tr", True), espeak_tr)
    fallbacks = [r for r in rows if r["kind"] == "piper" and not r["turkish_voice"]]
    best = min(fallbacks, key=lambda r: r["cer"])["name"] if fallbacks else None
    return {
        **report.context(),
        "listener": asr_model,
        "voices": rows,
        "best_fallback": best,
    }


def markdown(result: dict) -> str:
    lines = ["| voice | phonemes | mean CER | worst sentence CER |", "| --- | --- | --- | --- |"]
    for r in sorted(result["voices"], key=lambda r: r["cer"]):
        mark = " ← best fallback" if r["name"] == result["best_fallback"] else ""
        lines.append(f"| {r['name']}{mark} | espeak `{r['language']}` | {r['cer']:.2f} | {r['worst']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = report.parser(__doc__)
    p.add_argument("--asr", default="whisper-base", help="the Whisper model that listens")
    args = p.parse_args(argv)
    result = measure(args.asr)
    if not report.emit(args, result, markdown):
        return 0
    if not args.markdown:
        for r in result["voices"]:
            print(f"\n{r['name']}:")
            for s in r["sentences"]:
                print(f"  {s['cer']:.2f}  {s['heard']!r}")
    print(f"\nbest fallback: {result['best_fallback']}; listener {result['listener']}; {report.context_line(result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
