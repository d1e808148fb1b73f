"""Data recipe of the "Bantz" wake-word model (shared by train_wakeword.py and bench_wakeword.py).

Speech is synthesised with espeak-ng's Turkish voice (``-v tr+<variant>``, rate, pitch) and
resampled by sox to 16 kHz; then optionally reverberated (an exponentially decaying noise impulse
response, RT60 0.15-0.7 s) and mixed with noise (white, pink, or babble made of other Turkish
speech) at 5-30 dB SNR. Everything is drawn from ``random.Random(seed)``: the same seed gives the
same set for the same espeak-ng/sox versions.

Training and held-out sets never share a voice variant, a sentence or a seed:
- voices: ``TRAIN_VARIANTS`` vs ``HELDOUT_VARIANTS``;
- sentences: tests/data/nlu_corpus.jsonl (training) vs nlu_heldout.jsonl + nlu_dev.jsonl (held out);
- near words ("bant", "banka", "bunlar", …) are in both, with different continuations.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000

TRAIN_VARIANTS = ["m1", "m2", "m3", "m4", "f1", "f2", "f3", "klatt", "klatt2", "Andy", "Annie", "Denis",
                  "Gene", "Hugo", "Jacky", "Lee", "Marco", "Michael", "Mike", "Storm", "anika", "male2",
                  "female2", "Alex", "Diogo", "Henrique", "Mario", "Tweaky", "adam", "max"]
HELDOUT_VARIANTS = ["m5", "m6", "m7", "f4", "f5", "klatt3", "Alicia", "Andrea", "Boris", "Caleb", "Ed",
                    "Linda", "Paul", "Rob", "Steph", "Zac", "john", "victor", "grandma", "shelby"]
# the decision rule's tuning split (scripts/tune_wakeword.py): voices in neither list above (espeak-ng's
# variant files are lower-case: these names all resolve to a variant of their own)
TUNE_VARIANTS = ["antonio", "aunty", "belinda", "benjamin", "david", "edward", "gustave", "iven", "iven2",
                 "marcelo", "michel", "miguel", "norbert", "pablo", "pedro", "quincy", "robert", "travis", "m8"]
WAKE_FORMS = ["Bantz", "Bants"]
# words that start like the name: the stage must not fire on them (nor the transcript match)
NEAR_WORDS = ["bant", "banka", "bunlar", "bana", "bence", "banyo", "pantolon", "bantı", "bandı",
              "banttan", "bankaya", "bastır", "bakar mısın", "bunu", "bant kaydı", "panzehir", "ben"]
NEAR_TAILS_TRAIN = ["nerede", "çok güzel", "yarın gelecek", "hemen ver", "kapalı mı", "açık", "bunu al"]
NEAR_TAILS_HELDOUT = ["bugün kapalı", "şimdi lazım", "evde kaldı", "sence de öyle mi", "hazır mı"]
# sound-alikes the model was not trained on as such (hard negatives of the tuning split and the
# benchmark's "sound-alike" set; never in training)
SOUND_ALIKES = ["dans", "pans", "bence", "banka", "Hans", "pens", "bantlar", "bankta", "banliyö",
                "banker", "bandaj", "panter", "kanser", "bağnaz", "mantı", "manda", "bando"]
# training's own hard negatives (train_wakeword.py --hard): words that sound like the name (b/p/d/t/ş/h
# + "an" + t/s/z, "-ans" words, English/German names), said alone or opening a training sentence.
# Disjoint from SOUND_ALIKES (the tuning split and the benchmark's sound-alike set) and from their
# inflections ("pens"/"pense", "mantı"/"mantık", "banka…", "bant…" are left out); checked by
# tests/test_wake_data.py.
HARD_NEGATIVES_TRAIN = ["şans", "seans", "avans", "balans", "nüans", "trans", "finans", "romans", "ambulans",
                        "Frans", "Lance", "Vance", "Kant", "tank", "tans", "fans", "vans", "lens",
                        "banal", "banjo", "bandrol", "bangır", "Banu", "bazen", "baston", "basit", "batsın",
                        "bunca", "benzin", "bensiz", "panik", "panel", "panda", "pankart", "pantalon",
                        "dantel", "dana", "hantal", "tansiyon", "santral", "şantiye", "kantin", "manav",
                        "manzara", "mansiyon", "vantuz", "fantezi", "Pars"]


@dataclass
class Clip:
    audio: np.ndarray  # float32, 16 kHz
    label: int  # 1 = the wake word is said
    wake_end_s: float  # positives: where "Bantz" ends in ``audio`` (else 0)
    wake_start_s: float
    text: str


def need_tools() -> None:
    for tool in ("espeak-ng", "sox"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed (apt-get install espeak-ng sox)")


def sentences(split: str) -> list[str]:
    files = ["nlu_corpus.jsonl"] if split == "train" else ["nlu_heldout.jsonl", "nlu_dev.jsonl"]
    out: list[str] = []
    for f in files:
        for line in (ROOT / "tests" / "data" / f).read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line)["text"]
                if "bant" not in text.lower() and "banz" not in text.lower():
                    out.append(text)
    return out


def resample(x: np.ndarray, src: int, dst: int = RATE) -> np.ndarray:
    """Band-limited resampling (FFT), numpy only."""
    if src == dst or x.size == 0:
        return x.astype(np.float32)
    n_out = int(round(x.size * dst / src))
    spec = np.fft.rfft(x)
    keep = n_out // 2 + 1
    out = np.zeros(keep, dtype=complex)
    m = min(keep, spec.size)
    out[:m] = spec[:m]
    return (np.fft.irfft(out, n=n_out) * (n_out / x.size)).astype(np.float32)


def espeak_batch(texts: list[str], variant: str, wpm: int, pitch: int) -> list[np.ndarray] | None:
    """Several texts in one espeak-ng call (SSML breaks of 900 ms between them; spawning a process
    per text is what costs on a loaded machine), split on the breaks, trimmed, 16 kHz float32.
    None when the split does not give back one piece per text."""
    ssml = "<speak>" + ' <break time="900ms"/> '.join(t.replace("&", " ").replace("<", " ") for t in texts) + "</speak>"
    res = subprocess.run(["espeak-ng", "-m", "-v", f"tr+{variant}", "-s", str(wpm), "-p", str(pitch), "--stdout", ssml],
                         capture_output=True, check=True)
    x = np.frombuffer(res.stdout[44:], dtype=np.int16).astype(np.float32) / 32768.0  # 22050 Hz WAV
    hop = 220  # 10 ms
    n = x.size // hop
    silent = np.abs(x[: n * hop]).reshape(n, hop).max(axis=1) < 1e-3
    pieces, cur_start, run = [], None, 0
    for i, sil in enumerate(silent):
        if not sil:
            if cur_start is None:
                cur_start = i
            run = 0
            last_voiced = i
        elif cur_start is not None:
            run += 1
            if run >= 60:  # 600 ms: a break, not a pause inside a sentence
                pieces.append(x[cur_start * hop : (last_voiced + 1) * hop])
                cur_start, run = None, 0
    if cur_start is not None:
        pieces.append(x[cur_start * hop : (last_voiced + 1) * hop])
    if len(pieces) != len(texts):
        return None
    return [trim(resample(p, 22050)) for p in pieces]


def espeak(text: str, variant: str, wpm: int, pitch: int) -> np.ndarray:
    """One text (espeak-ng → 16 kHz float32)."""
    got = espeak_batch([text], variant, wpm, pitch)
    return got[0] if got else np.zeros(0, np.float32)


def trim(x: np.ndarray, rel_db: float = -35.0) -> np.ndarray:
    if x.size == 0:
        return x
    hop = 160
    n = x.size // hop
    if n == 0:
        return x
    rms = np.sqrt((x[: n * hop].reshape(n, hop) ** 2).mean(axis=1) + 1e-12)
    voiced = np.nonzero(rms > rms.max() * 10 ** (rel_db / 20))[0]
    return x[voiced[0] * hop : (voiced[-1] + 1) * hop]


def reverb(x: np.ndarray, rng: random.Random) -> np.ndarray:
    rt60 = rng.uniform(0.15, 0.7)
    n = int(RATE * min(rt60, 0.6))
    t = np.arange(n) / RATE
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    ir = nrng.standard_normal(n).astype(np.float32) * np.exp(-6.9 * t / rt60).astype(np.float32)
    ir *= rng.uniform(0.15, 0.5) / (np.sqrt((ir**2).sum()) + 1e-9)
    ir[0] = 1.0
    nfft = 1 << int(np.ceil(np.log2(x.size + ir.size)))
    y = np.fft.irfft(np.fft.rfft(x, nfft) * np.fft.rfft(ir, nfft), nfft)[: x.size]
    return (y / (np.abs(y).max() + 1e-9) * np.abs(x).max()).astype(np.float32)


def noise(x: np.ndarray, rng: random.Random, babble: list[np.ndarray]) -> np.ndarray:
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    kind = rng.choice(["white", "pink", "babble", "babble"] if babble else ["white", "pink"])
    if kind == "white":
        n = nrng.standard_normal(x.size).astype(np.float32)
    elif kind == "pink":
        spec = np.fft.rfft(nrng.standard_normal(x.size))
        spec /= np.sqrt(np.arange(spec.size) + 1.0)
        n = np.fft.irfft(spec, n=x.size).astype(np.float32)
    else:
        n = np.zeros(x.size, dtype=np.float32)
        for _ in range(3):
            b = rng.choice(babble)
            if b.size < x.size:
                b = np.tile(b, x.size // max(1, b.size) + 1)
            off = rng.randrange(0, b.size - x.size + 1)
            n += b[off : off + x.size]
    snr = rng.uniform(5.0, 30.0)
    ps = float((x**2).mean()) + 1e-12
    pn = float((n**2).mean()) + 1e-12
    return (x + n * np.sqrt(ps / (pn * 10 ** (snr / 10)))).astype(np.float32)


def finish(parts: list[np.ndarray], name_index: int | None, rng: random.Random, augment: bool,
           babble: list[np.ndarray], label: int, text: str, max_s: float | None = None) -> Clip:
    """Join the spoken parts (short pauses between them, the endpointer's pre-roll before), then
    level, reverberate and add noise."""
    lead = rng.uniform(0.12, 0.35)  # the endpointer's pre-roll before the first voiced frame
    chunks = [np.zeros(int(lead * RATE), np.float32)]
    t = lead
    start = end = 0.0
    for i, p in enumerate(parts):
        if i:
            gap = rng.uniform(0.03, 0.12) if name_index is not None and i == name_index else rng.uniform(0.05, 0.3)
            chunks.append(np.zeros(int(gap * RATE), np.float32))
            t += int(gap * RATE) / RATE
        if i == name_index:
            start, end = t, t + p.size / RATE
        chunks.append(p)
        t += p.size / RATE
    chunks.append(np.zeros(int(0.3 * RATE), np.float32))
    x = np.concatenate(chunks)
    if max_s:
        x = x[: int(max_s * RATE)]
    x *= rng.uniform(0.05, 0.9) / (np.abs(x).max() + 1e-9)
    if augment:
        if rng.random() < 0.5:
            x = reverb(x, rng)
        if rng.random() < 0.7:
            x = noise(x, rng, babble)
    return Clip(x.astype(np.float32), label, end, start, text)


def utterance_specs(split: str, n_pos: int, n_neg: int, n_near: int, seed: int, group: int = 8,
                    n_hard: int = 0) -> list[dict]:
    """What to synthesise, drawn from ``seed``: utterances (spoken parts, which part is the name,
    label) in groups of ``group`` that share one voice (variant, rate, pitch). ``n_hard`` (training
    only) adds hard negatives from ``HARD_NEGATIVES_TRAIN``; with 0 the specs are those of before."""
    if n_hard and split != "train":
        raise ValueError("hard negatives are training data only")
    rng = random.Random(seed)
    variants = {"train": TRAIN_VARIANTS, "tune": TUNE_VARIANTS}.get(split, HELDOUT_VARIANTS)
    tails = NEAR_TAILS_TRAIN if split == "train" else NEAR_TAILS_HELDOUT
    sents = sentences(split)
    near_words = NEAR_WORDS + SOUND_ALIKES if split == "tune" else NEAR_WORDS
    utts: list[dict] = []
    for _ in range(n_pos):
        name = rng.choice(WAKE_FORMS)
        r = rng.random()
        if r < 0.15:
            utts.append({"parts": [name], "name": 0, "label": 1})
        elif r < 0.3:
            utts.append({"parts": ["Hey", name, rng.choice(sents)], "name": 1, "label": 1})
        else:
            utts.append({"parts": [name, rng.choice(sents)], "name": 0, "label": 1})
    for _ in range(n_neg):
        utts.append({"parts": [rng.choice(sents)], "name": None, "label": 0})
    for _ in range(n_near):
        w = rng.choice(near_words)
        parts = [w] if rng.random() < 0.2 else [f"{w} {rng.choice(tails if rng.random() < 0.5 else sents)}"]
        utts.append({"parts": parts, "name": None, "label": 0})
    for _ in range(n_hard):  # alone (as a short utterance) or opening a sentence
        w = rng.choice(HARD_NEGATIVES_TRAIN)
        parts = [w] if rng.random() < 0.4 else [f"{w} {rng.choice(tails if rng.random() < 0.3 else sents)}"]
        utts.append({"parts": parts, "name": None, "label": 0})
    rng.shuffle(utts)
    return grouped(utts, variants, rng, group)


def sound_alike_specs(n: int, seed: int, group: int = 8) -> list[dict]:
    """Negatives that begin with a word that sounds like the name ("dans", "pans", "bence", …),
    held-out voices, continued by a held-out sentence or said alone."""
    rng = random.Random(seed)
    sents = sentences("heldout")
    utts = []
    for _ in range(n):
        w = rng.choice(SOUND_ALIKES)
        parts = [w] if rng.random() < 0.2 else [f"{w} {rng.choice(sents)}"]
        utts.append({"parts": parts, "name": None, "label": 0})
    return grouped(utts, HELDOUT_VARIANTS, rng, group)


def grouped(utts: list[dict], variants: list[str], rng: random.Random, group: int) -> list[dict]:
    groups = []
    for i in range(0, len(utts), group):
        groups.append({"variant": rng.choice(variants), "wpm": rng.randint(105, 200), "pitch": rng.randint(20, 80),
                       "utts": utts[i : i + group]})
    return groups


def synthesise(groups: list[dict], seed: int, augment: bool, babble: list[np.ndarray] | None = None,
               copies: int = 1, max_s: float | None = None) -> list[Clip]:
    """Render the groups (one espeak-ng call each); ``copies`` renderings of each utterance with
    their own pauses, level and augmentation."""
    need_tools()
    rng = random.Random(seed + 1)
    babble = babble or []
    out = []
    for g in groups:
        texts = [t for u in g["utts"] for t in u["parts"]]
        audio = espeak_batch(texts, g["variant"], g["wpm"], g["pitch"])
        if audio is None:  # the break split failed for this voice: one call per text
            audio = [espeak(t, g["variant"], g["wpm"], g["pitch"]) for t in texts]
        k = 0
        for u in g["utts"]:
            parts = audio[k : k + len(u["parts"])]
            k += len(u["parts"])
            if any(p.size == 0 for p in parts):
                continue
            for _ in range(copies):
                out.append(finish(parts, u["name"], rng, augment, babble, u["label"], " ".join(u["parts"]), max_s))
    return out


def babble_pool(seed: int, n: int = 24) -> list[np.ndarray]:
    rng = random.Random(seed)
    sents = sentences("train")
    got = espeak_batch([rng.choice(sents) for _ in range(n)], rng.choice(TRAIN_VARIANTS), 160, 50)
    return got or [espeak(rng.choice(sents), "m3", 160, 50)]
