#!/usr/bin/env python3
"""Benchmark the product as a user meets it: the unmodified ``bantz-voice run`` daemon, default
configuration, hearing Turkish speech through a virtual microphone and answering on a virtual speaker.

    python scripts/bench_daemon.py [--turns 44] [--json | --markdown] [--wavs-out DIR]
    python scripts/bench_daemon.py --quick --json      # smoke test: 3 turns, short CPU windows

How it measures (everything on a private PulseAudio server started for the run; the user's sound
server, configuration and data are never touched):

1. Devices. ``bantz_voice.bench.pulse.PulseServer`` (the tests' fixture) in its "room" layout: the
   daemon's default source ``mic`` and default sink ``speaker`` are the left and right channels of
   one stereo null sink, ``room``. This script opens ONE full-duplex PortAudio stream (sounddevice,
   16 kHz): its output plays into ``mic_sink`` (what the microphone hears), its input records
   ``room.monitor`` in stereo — left: the microphone line, right: the speaker. Input and output share
   the stream's sample clock.
2. The harness's own round trip (output → microphone line → input) is measured first, before the
   daemon starts (noise bursts found again by cross-correlation), then for every utterance played
   (the same cross-correlation against the microphone line) and again after the daemon has stopped.
   Each turn subtracts its own: the end of the request is taken where the microphone heard it, so a
   playback underrun of the harness (which delays the rest of its output, by 0.5 s once on this
   loaded VM) cannot shift a request against its reply.
3. The daemon: ``python -m bantz_voice run`` (what the ``bantz-voice`` entry point runs), started as
   a subprocess with the environment only pointing it at the private PulseAudio server and private
   XDG directories; no configuration file, no ``BANTZ_*`` variable, no warm-up by this script.
   READY is awaited by polling ``status`` on the control socket.
4. Turns. Turkish utterances rendered by espeak-ng (``-v tr``) + sox at 16 kHz
   (``scripts/make_bench_wavs.py``): the project's benchmark sentences with the wake word in front
   ("Bantz, …"), LLM-routed requests, and follow-ups without the wake word played right after a
   reply (inside the follow-up window). The next utterance is played only after the daemon reports
   the turn done AND the speaker has been quiet for ``--quiet`` seconds (a pause inside a reply does
   not end it).
5. Per turn, on the stream's clock:
   - end of the request = the last voiced sample of the played utterance (webrtcvad, mode 2, 30 ms
     frames, on the WAV) placed where the microphone line heard it;
   - acknowledgement = the first sound on the speaker (an earcon: a pure tone of 0.12–0.34 s);
   - earcons = where one of the daemon's earcon waveforms (``bantz_voice.daemon.earcons``, resampled
     to 16 kHz) correlates with the speaker at ≥ 0.6 (normalised cross-correlation), masked ±30 ms;
   - start of the reply's speech = the first stretch of at least ``--min-speech`` seconds (0.15)
     above −45 dBFS that is neither masked as an earcon nor a pure tone frame by frame (gaps under
     120 ms bridged; 20 ms frames, 10 ms hop). The mask is what lets the rule be short enough for a
     short first word followed by a pause ("Saat … on dört"), which a 0.45 s rule skipped;
   - spoken latency = start of the reply's speech − end of the request, i.e. the input-clock
     distance minus the harness round trip of that utterance; acknowledgement time likewise.
     Beside it: the daemon's own trace (``traces.jsonl`` in its XDG state directory:
     ``playback_start − speech_end`` on its monotonic clock).
6. Kinds: ``follow_up`` (no wake word) for the follow-ups; otherwise from the daemon's own trace of
   the turn: ``llm_routed`` when the LLM router decided the route (source ``llm``), ``fast_path`` for
   calendar/system routes the Turkish rules decided, ``chat`` for smalltalk the rules sent to the chat
   model. The first turn after READY is reported on its own and left out of its kind's percentiles;
   after the run the daemon is started ``--restarts`` more times (the same directories, as a user's
   restart) and the first utterance is played right after each READY, so the first-turn ratio is a
   median over several starts, not one sample. ``--compare-pipeline`` also pairs the two sides WAV by
   WAV (same file, same path, no error on either side) per kind.
7. CPU of the daemon process (utime+stime from /proc/PID/stat, % of one core) during ``--silence``
   seconds of digital silence and ``--speech`` seconds of continuous Turkish speech without the wake
   word (after the follow-up window has closed), and its RSS (/proc/PID/status VmRSS) at READY, right
   after the last turn, idle after the turns (the follow-up window closed; median of 3 samples) and at
   the end, with what grew per mapping (/proc/PID/smaps: anonymous vs file-backed, by file).

Percentiles: ``bantz_voice.bench.stats.percentile`` (linear interpolation), shared by every bench.
"""

from __future__ import annotations

import argparse
import bisect
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "scripts"))

from make_bench_wavs import UTTERANCES, check_tools, render  # noqa: E402

from bantz_voice import sysmem  # noqa: E402
from bantz_voice.bench import report  # noqa: E402
from bantz_voice.bench.harness import require_tools  # noqa: E402
from bantz_voice.bench.pulse import PulseServer, missing_tools, reinit_portaudio  # noqa: E402
from bantz_voice.bench.signals import estimate_delay  # noqa: E402
from bantz_voice.bench.stats import p50_p95, percentile  # noqa: E402
from bantz_voice.errors import BantzError  # noqa: E402

RATE = 16000  # the harness stream (both directions) and the utterances
BLOCK = 480  # 30 ms per callback
OUT_LATENCY_S = 0.4  # PortAudio buffer of the harness's stream
STALL_S = 5.0  # no callback for this long: the harness's stream has died (see DuplexRig.revive)
MAX_RESTARTS = 5
KINDS = ("fast_path", "chat", "llm_routed", "follow_up")
WAKE = "Bantz"
THRESHOLD_DBFS = -45.0
CONTROL_ERRORS = (BantzError, OSError, ValueError)  # no answer, or a bad one, on the control socket
ASR_DISCARD = "transcript dropped"  # bantz_voice.asr's log line for a transcript its guard threw away
HOP_MS = 10
WIN_MS = 20
BRIDGE_MS = 120
TONE_FRACTION = 0.85  # share of a frame's energy within ±2 bins of its peak: a pure tone (earcon)
TONE_HEAD_MS = 40  # a stretch that starts with pure-tone frames this long starts after them
SPEECH_MIN_NOISY = 0.25  # speech: at least this share of a stretch's frames is not a pure tone (a vowel may be)
EARCON_NCC = 0.6  # normalised cross-correlation with an earcon's waveform that marks it as playing
EARCON_MARGIN_MS = 30  # masked around a found earcon (fades, the sound server's resampler)
EARCON_CUT_MARGIN_MS = 10  # masked after an earcon a reply cut short (the player's 5 ms fade)
EARCON_HEAD_MS = 40  # the head of an earcon that finds one a reply cut short (the cue may play only ~60 ms)
EARCON_HEAD_NCC = 0.8  # ... a stricter match, for the shorter waveform
EARCON_STEP_MS = 10  # an earcon's end is followed in steps this long
EARCON_STEP_NCC = 0.5  # a step still matches the earcon's waveform at this correlation
EARCON_STEP_LEVEL = 0.5  # ... and at this fraction of the level it had so far (or it is fading out)
EARCON_MIN_MS = 30  # an earcon is taken when the recording follows its waveform at least this long
EARCON_ALIGN_MS = 25  # a correlation peak is placed within this much (see place_earcon)
EARCON_FIT_BASE = 0.9  # a placement's fit: each step's correlation above this, summed
RSS_TURNS = 20  # issue 11's memory target: RSS after this many turns within 10 % of RSS at READY
MIN_SPEECH_S = 0.15  # shortest stretch that counts as the reply's speech once the earcons are masked

# Requests the Turkish rules do not settle alone (confidence under brain.fast_path_min_confidence and a
# calendar/time word): the LLM router decides them (brain.router.rules_decide, checked 2026-11-30). What
# Whisper makes of them decides in the end: a turn's kind is read from the daemon's trace.
LLM_ROUTED: list[tuple[str, int]] = [
    ("toplantım ne zamandı", 160),
    ("bu akşam sinemaya gitsem mi", 160),
    ("programımda boşluk var mı", 160),
    ("gelecek hafta çok yoğun muyum", 160),
]
# Follow-ups without the wake word, each played right after the reply to the turn before it.
FOLLOW_UPS: list[tuple[str, int]] = [
    ("peki yarın ne var", 160),
    ("teşekkür ederim", 160),
    ("bana bir şaka anlat", 160),
    ("peki saat kaç", 140),
]
# Continuous Turkish speech without the wake word (for the background-speech CPU).
BACKGROUND = [
    "Dün akşam komşularla uzun uzun sohbet ettik, çocuklar da bahçede top oynadı.",
    "Sonra hep birlikte çay içtik ve yeni açılan fırının ekmeklerini denedik.",
    "Bu sabah otobüs yine gecikti, durakta yirmi dakika bekledim.",
    "Öğle yemeğinde mercimek çorbası ile pilav vardı, tatlı olarak da sütlaç yedik.",
    "Hafta sonu hava güzel olursa sahilde yürüyüş yapmayı düşünüyoruz.",
    "Annem yarın bize gelecek, onun için evi biraz toparlamamız gerekiyor.",
]


# --- the utterances -----------------------------------------------------------------------------
@dataclass
class Utterance:
    name: str
    text: str
    kind: str  # designed kind: fast_path | chat | llm_routed | follow_up
    wpm: int
    wake: bool = True

    @property
    def spoken(self) -> str:
        return f"{WAKE}, {self.text}" if self.wake else self.text


def build_plan(turns: int) -> list[Utterance]:
    """``turns`` utterances: the first one a chat turn (the first LLM use after READY), then the
    kinds interleaved; a follow-up always comes right after the turn it follows. Repeats the set
    when ``turns`` is larger than it."""
    fast = [(t, w) for t, k, _, w in UTTERANCES if k == "fast_path"]
    chat = [(t, w) for t, k, _, w in UTTERANCES if k == "chat"]
    groups: list[list[tuple[str, str, int, bool]]] = []
    n = max(len(fast), len(chat), len(LLM_ROUTED))
    fu = iter(FOLLOW_UPS)
    for i in range(n):
        for kind, pool in (("chat", chat), ("fast_path", fast), ("llm_routed", LLM_ROUTED)):
            if i < len(pool):
                group = [(pool[i][0], kind, pool[i][1], True)]
                if (i + (kind == "chat")) % 2 == 1:  # every other turn gets a follow-up
                    nxt = next(fu, None)
                    if nxt is not None:
                        group.append((nxt[0], "follow_up", nxt[1], False))
                groups.append(group)
    plan: list[Utterance] = []
    while len(plan) < turns:
        for group in groups:
            if len(plan) >= turns:
                break
            if len(plan) + len(group) > turns and len(group) > 1:
                group = group[:1]
            for text, kind, wpm, wake in group:
                plan.append(Utterance(f"{len(plan) + 1:02d}_{kind}", text, kind, wpm, wake))
    return plan[:turns]


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wf:
        if (wf.getframerate(), wf.getnchannels(), wf.getsampwidth()) != (RATE, 1, 2):
            raise SystemExit(f"{path}: expected 16 kHz mono 16-bit")
        return np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2").copy()


def render_plan(plan: list[Utterance], out: Path) -> dict[str, Path]:
    """One WAV per distinct utterance (+ ``manifest.jsonl`` for ``bench_pipeline.py --wavs``)."""
    check_tools()
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    rows = []
    for u in plan:
        if u.spoken in files:
            continue
        path = out / f"{len(files) + 1:02d}_{u.kind}.wav"
        render(u.spoken, u.wpm, path, pad=(0.3, 0.5))
        files[u.spoken] = path
        rows.append({"file": path.name, "text": u.spoken, "kind": u.kind, "espeak_wpm": u.wpm})
    (out / "manifest.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return files


def render_background(seconds: float, out: Path) -> np.ndarray:
    """At least ``seconds`` of continuous Turkish speech without the wake word (sentences back to
    back, 0.3 s apart), repeated as needed."""
    out.mkdir(parents=True, exist_ok=True)
    parts = []
    for i, text in enumerate(BACKGROUND):
        parts.append(read_wav(render(text, 160, out / f"bg{i}.wav", pad=(0.0, 0.3))))
    one = np.concatenate(parts)
    reps = int(np.ceil(seconds * RATE / one.size))
    return np.tile(one, reps)[: int(seconds * RATE)]


# --- audio analysis (pure functions) ------------------------------------------------------------
def last_voiced_sample(x: np.ndarray, rate: int = RATE, mode: int = 2, frame_ms: int = 30) -> int:
    """Index just after the last 30 ms frame webrtcvad calls speech (0 when there is none)."""
    import webrtcvad

    vad = webrtcvad.Vad(mode)
    n = rate * frame_ms // 1000
    last = 0
    for i in range(0, x.size - n + 1, n):
        if vad.is_speech(x[i : i + n].astype("<i2").tobytes(), rate):
            last = i + n
    return last


def frame_features(x: np.ndarray, rate: int = RATE) -> tuple[np.ndarray, np.ndarray]:
    """Per 10 ms hop (20 ms Hann window): level in dBFS and whether the frame is a pure tone."""
    hop, win = rate * HOP_MS // 1000, rate * WIN_MS // 1000
    if x.size < win:
        return np.zeros(0), np.zeros(0, dtype=bool)
    idx = np.arange(0, x.size - win + 1, hop)
    frames = np.lib.stride_tricks.sliding_window_view(x.astype(np.float32) / 32768.0, win)[idx]
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-9))
    spec = np.abs(np.fft.rfft(frames * np.hanning(win), axis=1)) ** 2
    total = spec.sum(axis=1) + 1e-20
    peak = spec.argmax(axis=1)
    near = np.zeros(len(idx))
    for d in range(-2, 3):
        k = np.clip(peak + d, 0, spec.shape[1] - 1)
        near += np.where((peak + d >= 0) & (peak + d < spec.shape[1]), spec[np.arange(len(idx)), k], 0.0)
    return db, near / total >= TONE_FRACTION


def stretches(mask: np.ndarray, bridge: int) -> list[tuple[int, int]]:
    """(start, end) frame runs of ``mask``, joining runs separated by at most ``bridge`` frames."""
    runs: list[list[int]] = []
    for i in np.flatnonzero(mask):
        if runs and i - runs[-1][1] <= bridge:
            runs[-1][1] = int(i) + 1
        else:
            runs.append([int(i), int(i) + 1])
    return [(a, b) for a, b in runs]


@dataclass
class ReplyMarks:
    """Seconds from the start of the analysed recording (``None``: not found)."""

    ack_s: float | None = None  # first sound (earcon) before the reply's speech
    speech_s: float | None = None  # start of the reply's speech
    end_s: float | None = None  # last loud frame
    earcons: list[tuple[float, float]] = field(default_factory=list)  # (start, end) s of each earcon found


@functools.cache
def earcon_templates(rate: int = RATE) -> list[np.ndarray]:
    """Every sound the daemon plays besides speech (``bantz_voice.daemon.earcons``: the bundled wake,
    push-to-talk and error sounds, the synthesized alarm), resampled from the player's rate to ``rate``."""
    from bantz_voice.daemon.earcons import RATE as EARCON_RATE
    from bantz_voice.daemon.earcons import render as render_earcon

    def resample(x: np.ndarray) -> np.ndarray:  # band-limited (FFT): keep the spectrum below the lower Nyquist
        n = int(round(x.size * rate / EARCON_RATE))
        spec = np.fft.rfft(x)
        keep = min(spec.size, n // 2 + 1)
        return np.fft.irfft(spec[:keep], n) * (n / x.size)

    kinds = ("wake", "ptt_start", "ptt_stop", "error", "alarm")
    return [resample(render_earcon(k).astype(np.float64)) for k in kinds]  # type: ignore[arg-type]


def _ncc_scan(xf: np.ndarray, csum: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Normalised cross-correlation of ``t`` at every offset of ``xf`` (FFT); zero where ``xf`` is
    below the loudness floor (nothing plays)."""
    n = t.size
    size = 1 << int(np.ceil(np.log2(xf.size + n)))
    corr = np.fft.irfft(np.fft.rfft(xf, size) * np.conj(np.fft.rfft(t, size)), size)[: xf.size - n + 1]
    energy = csum[n:] - csum[:-n]
    ncc = corr / (np.linalg.norm(t) * np.sqrt(np.maximum(energy, 1e-12)))
    ncc[energy < n * 10 ** (THRESHOLD_DBFS / 10)] = 0.0
    return ncc


def follow_earcon(xf: np.ndarray, t: np.ndarray, at: int, rate: int = RATE) -> tuple[int, bool, float]:
    """How far the recording ``xf`` follows the earcon ``t`` placed at sample ``at``, step by step
    (``EARCON_STEP_MS``; a step matches at ``EARCON_STEP_NCC`` and ``EARCON_STEP_LEVEL`` of the level so
    far). Returns (end sample, cut, fit):
    ``cut`` when it stopped before the earcon's end (a reply's first audio cut it: the end is then
    the start of the first step that no longer matches, so never after the reply's start; a gap
    inside the earcon matches while the recording stays quiet there); ``fit``: how well it follows,
    each step's correlation above ``EARCON_FIT_BASE`` summed (a step that barely matches counts
    against the placement)."""
    step = rate * EARCON_STEP_MS // 1000
    steps = range(0, t.size - step + 1, step)
    energy = np.array([float(t[k : k + step] @ t[k : k + step]) for k in steps])
    gap = 0.01 * float(np.median(energy)) if energy.size else 0.0
    floor = step * 10 ** (THRESHOLD_DBFS / 10)
    fit = 0.0
    gains: list[float] = []  # the recording's level over the earcon's, per matched step
    if at < 0:
        return at, True, fit
    for k, e in zip(steps, energy, strict=True):
        xw = xf[at + k : at + k + step]
        if xw.size < step:
            return at + k, True, fit
        if e < gap:  # a gap (or a fade's tail) inside the earcon: the recording must be quiet there too
            if float(xw @ xw) > floor:
                return at + k, True, fit
            continue
        tw = t[k : k + step]
        nx, nt = float(np.linalg.norm(xw)), float(np.linalg.norm(tw))
        r = float(tw @ xw) / (nx * nt) if nx * nt > 0 else 0.0
        if r < EARCON_STEP_NCC:
            return at + k, True, fit
        # the same shape at a fraction of the level: the player's fade, the earcon cut there
        if len(gains) >= 2 and nx < EARCON_STEP_LEVEL * float(np.median(gains)) * nt:
            return at + k, True, fit
        gains.append(nx / nt)
        fit += r - EARCON_FIT_BASE
    return at + t.size, False, fit


def place_earcon(xf: np.ndarray, t: np.ndarray, near: int, rate: int = RATE) -> tuple[int, int, bool]:
    """The earcon ``t`` found near sample ``near`` (a correlation peak, which a reply right after a
    cut earcon can pull off by a few periods): the placement within ``EARCON_ALIGN_MS`` that the
    recording follows best. Returns (start, end, cut)."""
    w = rate * EARCON_ALIGN_MS // 1000
    best: tuple[int, float, int, bool] | None = None
    for at in range(max(0, near - w), near + w + 1):
        end, cut, fit = follow_earcon(xf, t, at, rate)
        if best is None or fit > best[1]:
            best = (at, fit, end, cut)
    assert best is not None
    return best[0], best[2], best[3]


def find_earcons(x: np.ndarray, templates: list[np.ndarray], min_ncc: float = EARCON_NCC,
                 max_each: int = 4, rate: int = RATE) -> list[tuple[int, int, bool]]:
    """Sample spans ``(start, end, cut)`` of ``x`` where one of ``templates`` plays: normalised
    cross-correlation of at least ``min_ncc`` (scale-invariant, so the speaker's volume does not
    matter; a speech stretch correlates far below it), at most ``max_each`` per template. The daemon
    plays an earcon on the reply's stream and a reply's first audio cuts it: the earcon's head
    (``EARCON_HEAD_MS``, matched at ``EARCON_HEAD_NCC``) finds such a one too, and every earcon's end
    is where the recording stops following its waveform (:func:`place_earcon`); ``cut``: it ended early."""
    xf = x.astype(np.float64) / 32768.0
    csum = np.concatenate([[0.0], np.cumsum(xf * xf)])
    head_n = rate * EARCON_HEAD_MS // 1000
    spans: list[tuple[int, int, bool]] = []
    for t in templates:
        n = t.size
        if n == 0 or xf.size < min(n, head_n):
            continue
        for probe, need in ((t, min_ncc), (t[:head_n], EARCON_HEAD_NCC)):
            if xf.size < probe.size:
                continue
            ncc = _ncc_scan(xf, csum, probe)
            for a, b, _c in spans:  # already found (by the whole waveform, or another earcon)
                ncc[max(0, a - probe.size) : b] = 0.0
            for _ in range(max_each):
                i = int(np.argmax(ncc))
                if ncc[i] < need:
                    break
                ncc[max(0, i - n) : i + n] = 0.0
                i, end, cut = place_earcon(xf, t, i, rate)
                if end - i < EARCON_MIN_MS * rate // 1000:  # it does not follow the waveform: a partial likeness
                    continue                                  # (one note of another earcon)
                spans.append((i, end, cut))
    merged: list[tuple[int, int, bool]] = []  # similar earcons (wake, push-to-talk) match the same sound
    for a, b, cut in sorted(spans):
        if merged and a <= merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], b), cut if b > last[1] else last[2])
        else:
            merged.append((a, b, cut))
    return merged


def find_reply(x: np.ndarray, min_speech_s: float, rate: int = RATE,
               templates: list[np.ndarray] | None = None) -> ReplyMarks:
    """The acknowledgement, the start of the reply's speech and its end in the speaker recording ``x``.

    Speech is the first stretch of at least ``min_speech_s`` above the loudness floor outside the
    earcons found by their waveform (``templates``, see :func:`find_earcons`; the margin around one
    covers the resampler's ringing) in which at least ``SPEECH_MIN_NOISY`` of the frames are not pure
    tones, a stretch's leading pure tone of ``TONE_HEAD_MS`` or more left out (an earcon the match
    missed). Frame by frame a vowel of the voice can be as pure as a tone (a quarter of this voice's
    frames are), so tones do not split a stretch. The waveform match is what lets ``min_speech_s`` be
    short enough for a short first word ("Saat …")."""
    db, tonal = frame_features(x, rate)
    loud = db > THRESHOLD_DBFS
    marks = ReplyMarks()
    if not loud.any():
        return marks
    hop_s = HOP_MS / 1000
    earcon = np.zeros(loud.size, dtype=bool)
    margin = EARCON_MARGIN_MS * rate // 1000
    hop = rate * HOP_MS // 1000
    win = rate * WIN_MS // 1000
    for a, b, cut in find_earcons(x, templates or [], rate=rate):
        marks.earcons.append((round(a / rate, 3), round(b / rate, 3)))
        # frames whose window overlaps the earcon (± margin; after one a reply cut: its fade)
        after = EARCON_CUT_MARGIN_MS * rate // 1000 if cut else margin
        lo = max(0, (a - margin - win) // hop + 1)
        hi = min(loud.size, (b + after) // hop + 1)
        earcon[lo:hi] = True
    marks.end_s = round((np.flatnonzero(loud)[-1] * HOP_MS + WIN_MS) / 1000, 3)
    min_frames = int(round(min_speech_s / hop_s))
    for a, b in stretches(loud & ~earcon, BRIDGE_MS // HOP_MS):
        head = a
        while head < b and tonal[head]:
            head += 1
        if (head - a) * HOP_MS >= TONE_HEAD_MS:  # a pure tone first (an earcon the waveform match missed)
            a = head
        if b - a >= min_frames and float(np.mean(~tonal[a:b])) >= SPEECH_MIN_NOISY:
            marks.speech_s = round(a * hop_s, 3)
            break
    first = int(np.flatnonzero(loud)[0])
    if marks.speech_s is None or first * hop_s < marks.speech_s:
        marks.ack_s = round(first * hop_s, 3)
    return marks


# --- the full-duplex stream ---------------------------------------------------------------------
MIC, SPK = 0, 1  # input channels: room.monitor's left (what the microphone hears) and right (the speaker)


class DuplexRig:
    """One full-duplex PortAudio stream on the private server's "room": the output plays into the
    virtual microphone (``mic_sink``), the input records ``room.monitor`` in stereo: left = what the
    microphone hears, right = what the speaker plays. Input sample ``i`` and output sample ``i``
    belong to the same callback (one sample clock); the output→left-channel delay is the harness's
    own round trip, measured for every played sound, so a playback underrun (which delays the rest
    of the output) cannot shift a request against its reply."""

    def __init__(self, pulse: PulseServer) -> None:
        import sounddevice as sd

        os.environ["PULSE_SINK"] = pulse.mic_sink  # read by libpulse when the ALSA pulse plugin opens
        os.environ["PULSE_SOURCE"] = pulse.room_monitor
        reinit_portaudio()
        names = [d["name"] for d in sd.query_devices()]
        device = "pulse" if "pulse" in names else None
        self._blocks: list[np.ndarray] = []
        self._starts: list[int] = []  # stream index of each block's first frame
        self.frames = 0  # frames through the callback so far (both directions)
        self.flags: dict[str, int] = {"input_overflow": 0, "input_underflow": 0, "output_underflow": 0, "output_overflow": 0}
        self._lock = threading.Lock()
        self._queue: list[tuple[np.ndarray, threading.Event, list[int]]] = []
        self._current: tuple[np.ndarray, int, threading.Event, list[int]] | None = None
        self.restarts: list[int] = []  # stream indices where the harness reopened its stream
        self.round_trip = 0  # samples: the harness's own round trip, once measured (request_end waits that long)
        self._device = device
        self._last_callback = time.monotonic()
        self.stream = self._open()

    def _open(self) -> Any:
        import sounddevice as sd

        # a generous buffer: on a loaded machine a late callback must not underrun the playback
        stream = sd.Stream(samplerate=RATE, blocksize=BLOCK, channels=(2, 1), dtype="int16", latency=OUT_LATENCY_S,
                           device=self._device, callback=self._callback)
        self._last_callback = time.monotonic()
        stream.start()
        return stream

    def revive(self) -> bool:
        """Reopens the stream when PortAudio's callback thread has ended or stalled. The ALSA pulse
        plugin's poll can fail on a loaded machine ("ContinuePoll ... failed"): PortAudio then ends
        the stream for good. The stream clock (``frames``) continues across the reopening; a sound
        that was playing is cut and reported done, and ``restarts`` records where it happened so a
        turn that spans it is left out of the figures. Returns whether it reopened the stream."""
        import sounddevice as sd

        stalled = time.monotonic() - self._last_callback > STALL_S
        if self.stream.active and not stalled:
            return False
        if len(self.restarts) >= MAX_RESTARTS:
            raise RuntimeError(f"the audio stream stopped {len(self.restarts) + 1} times (PortAudio callback not called)")
        try:
            self.stream.abort()
            self.stream.close()
        except sd.PortAudioError:
            pass
        with self._lock:
            if self._current is not None:
                self._current[2].set()
                self._current = None
        self.restarts.append(self.frames)
        print(f"bench_daemon: the harness's audio stream stopped at frame {self.frames}; reopening it", file=sys.stderr, flush=True)
        self.stream = self._open()
        return True

    def _callback(self, indata: np.ndarray, outdata: np.ndarray, frames: int, _t: Any, status: Any) -> None:
        self._last_callback = time.monotonic()
        for name in self.flags:
            if getattr(status, name, False):
                self.flags[name] += 1
        self._starts.append(self.frames)
        self._blocks.append(indata.copy())
        out = np.zeros(frames, dtype=np.int16)
        pos = 0
        with self._lock:
            while pos < frames:
                if self._current is None:
                    if not self._queue:
                        break
                    audio, done, start = self._queue.pop(0)
                    start.append(self.frames + pos)
                    self._current = (audio, 0, done, start)
                audio, off, done, start = self._current
                take = min(frames - pos, audio.size - off)
                out[pos : pos + take] = audio[off : off + take]
                pos += take
                off += take
                if off >= audio.size:
                    done.set()
                    self._current = None
                else:
                    self._current = (audio, off, done, start)
        outdata[:, 0] = out
        self.frames += frames

    def play(self, audio: np.ndarray, timeout: float = 60.0) -> int:
        """Play ``audio`` (int16 at 16 kHz); returns the stream index of its first sample once played."""
        done = threading.Event()
        start: list[int] = []
        with self._lock:
            self._queue.append((audio.astype(np.int16), done, start))
        deadline = time.monotonic() + timeout + audio.size / RATE
        while not done.wait(0.25):
            if self.revive():
                deadline = time.monotonic() + timeout + audio.size / RATE
            if time.monotonic() > deadline:
                raise RuntimeError("the audio stream stopped playing (PortAudio callback not called)")
        return start[0]

    def wait_frames(self, n: int) -> None:
        target = self.frames + n
        deadline = time.monotonic() + n / RATE + 10
        while self.frames < target:
            if self.revive():
                deadline = time.monotonic() + n / RATE + 10
            if time.monotonic() > deadline:
                raise RuntimeError("the audio stream stopped (PortAudio callback not called)")
            time.sleep(0.01)

    def recorded(self, start: int, end: int | None = None, channel: int = SPK) -> np.ndarray:
        """Input samples [start, end) of ``channel`` on the stream clock."""
        n = len(self._blocks)  # blocks appended later are not looked at
        starts = self._starts[:n]
        end = self.frames if end is None else min(end, starts[-1] + len(self._blocks[n - 1]) if n else 0)
        start = max(0, start)
        if n == 0 or end <= start:
            return np.zeros(0, np.int16)
        first = max(0, bisect.bisect_right(starts, start) - 1)
        last = bisect.bisect_left(starts, end)
        x = np.concatenate([b[:, channel] for b in self._blocks[first:last]])
        return x[start - starts[first] : end - starts[first]]

    def loud_since(self, seconds: float) -> bool:
        """Anything above the threshold on the speaker in the last ``seconds``."""
        tail = self.recorded(max(0, self.frames - int(seconds * RATE)))
        db, _ = frame_features(tail)
        return bool((db > THRESHOLD_DBFS).any())

    def close(self) -> None:
        self.stream.stop()
        self.stream.close()


def heard_at(rig: DuplexRig, start: int, audio: np.ndarray, search_s: float = 10.0) -> tuple[int, float]:
    """Where the sound played from output index ``start`` arrived on the microphone line: (input
    index of its first sample, correlation peak). The difference is the harness's round trip."""
    rec = rig.recorded(start, start + audio.size + int(search_s * RATE), channel=MIC)
    lag, peak = estimate_delay(rec, audio)
    return start + lag, peak


def measure_round_trip(rig: DuplexRig, bursts: int = 5) -> dict[str, Any]:
    """The harness's own output→input delay through the virtual microphone (no daemon involved)."""
    rng = np.random.default_rng(7)
    probe = (rng.uniform(-1, 1, int(0.1 * RATE)) * 8000).astype(np.int16)
    gap = np.zeros(int(0.5 * RATE), np.int16)
    rig.wait_frames(int(0.3 * RATE))  # let the stream settle
    lags = []
    for _ in range(bursts):
        start = rig.play(np.concatenate([probe, gap]))
        rig.wait_frames(int(0.6 * RATE))
        for _ in range(50):  # until the burst has come back (a grown playback buffer delays it)
            at, peak = heard_at(rig, start, probe, search_s=5.0)
            if peak > 0.5 and at + probe.size <= rig.frames:
                break
            time.sleep(0.1)
        if peak > 0.5:
            lags.append((at - start) / RATE * 1000)
    if not lags:
        raise RuntimeError("the loopback burst was not heard back: the virtual microphone does not work")
    return {"ms": round(float(np.median(lags)), 1), "spread_ms": round(max(lags) - min(lags), 1), "bursts": len(lags)}


# --- the daemon process ---------------------------------------------------------------------------
def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def machine_cpu_ticks() -> tuple[int, int]:
    """(stolen, all) CPU ticks of the machine so far (/proc/stat): the hypervisor's steal is time
    this VM's CPUs wanted and did not get — a run with much of it measured a slower machine."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def steal_share(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    """Stolen CPU time between two :func:`machine_cpu_ticks` readings, % of all CPU time."""
    total = after[1] - before[1]
    return round(100.0 * (after[0] - before[0]) / total, 1) if total > 0 else None


def proc_rss_mb(pid: int) -> float:
    return round(sysmem.rss_mb(pid) or 0.0, 1)


def rss_after_turn(turns: list[dict[str, Any]], n: int) -> float | None:
    """The daemon's RSS right after the reply of the ``n``-th turn played (issue 11's target point:
    after 20 turns), or None when fewer turns ran or it was not read."""
    return turns[n - 1].get("rss_mb") if len(turns) >= n else None


def _split_kb(maps: dict[str, dict[str, int]]) -> dict[str, int]:
    """Resident kB by kind: anonymous (heap, arenas, buffers) vs file-backed (libraries, mmapped models)."""
    anon = sum(v["anon"] for v in maps.values())
    return {"rss_kb": sum(v["rss"] for v in maps.values()), "anon_kb": anon,
            "file_kb": sum(v["rss"] - v["anon"] for v in maps.values())}


def memory_report(ready: dict[str, dict[str, int]], after: dict[str, dict[str, int]], idle: dict[str, dict[str, int]],
                  end: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Per-mapping breakdown (/proc/PID/smaps) at READY, after the turns, idle after them and at the end,
    and what grew since READY."""
    return {"ready": _split_kb(ready), "after_turns": _split_kb(after) if after else None,
            "idle_after_turns": _split_kb(idle) if idle else None, "end": _split_kb(end) if end else None,
            "grew_after_turns": sysmem.memory_growth(ready, after) if after else [],
            "grew_idle_after_turns": sysmem.memory_growth(ready, idle) if idle else [],
            "grew_end": sysmem.memory_growth(ready, end) if end else []}


class DaemonProcess:
    """``python -m bantz_voice run``, unmodified, with private XDG directories and sound server."""

    def __init__(self, root: Path, pulse: PulseServer) -> None:
        self.root = root
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith("BANTZ_") and k != "BANTZ_MODELS_DIR")
               and k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "PULSE_SINK", "PULSE_SOURCE")}
        for name in ("config", "data", "state", "cache", "runtime"):
            d = root / name
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
            env[f"XDG_{name.upper()}_{'DIR' if name == 'runtime' else 'HOME'}"] = str(d)
        env.update(pulse.env)
        env["PYTHONUNBUFFERED"] = "1"
        self.env = env
        self.socket = root / "runtime" / "bantz" / "control.sock"
        self.traces = root / "state" / "bantz" / "traces.jsonl"
        self.log = root / "daemon.log"
        self.proc: subprocess.Popen | None = None
        self.started = 0.0
        self._trace_lines = 0
        self._log_offset = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        """Starts the daemon (again, after :meth:`stop`: the same XDG directories, as a user's restart
        keeps them); its log is appended to, so a restart keeps the earlier runs' lines."""
        self._log_offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen([sys.executable, "-m", "bantz_voice", "run"], cwd=self.root, env=self.env,
                                         stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        self.started = time.monotonic()

    def tail(self, n: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def status(self, timeout: float = 10.0) -> dict[str, Any]:
        from bantz_voice.daemon import client

        return client.call(self.socket, "status", timeout=timeout)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the daemon exited ({self.proc.returncode if self.proc else '?'}):\n{self.tail()}")
            try:
                last = self.status(timeout=5)
                if last.get("ready"):
                    return last
            except CONTROL_ERRORS:
                pass  # socket not there yet, or busy loading
            time.sleep(0.05)
        raise RuntimeError(f"no READY within {timeout:.0f} s (last status state: {last.get('state')}):\n{self.tail()}")

    def new_traces(self) -> list[dict[str, Any]]:
        try:
            lines = self.traces.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        new, self._trace_lines = lines[self._trace_lines :], len(lines)
        out = []
        for ln in new:
            try:
                out.append(json.loads(ln))
            except json.JSONDecodeError:
                continue
        return out

    def new_log_lines(self) -> list[str]:
        """The daemon's log lines written since the last call."""
        try:
            with self.log.open("rb") as fh:
                fh.seek(self._log_offset)
                data = fh.read()
        except OSError:
            return []
        self._log_offset += len(data)
        return data.decode("utf-8", errors="replace").splitlines()

    def all_traces(self) -> list[dict[str, Any]]:
        try:
            return [json.loads(ln) for ln in self.traces.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except (FileNotFoundError, json.JSONDecodeError):
            return []

    def stop(self) -> int | None:
        from bantz_voice.daemon import client

        if not self.alive():
            return self.proc.returncode if self.proc else None
        assert self.proc is not None
        try:
            client.call(self.socket, "shutdown", timeout=5)
        except CONTROL_ERRORS:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)


def measure_cpu(daemon: DaemonProcess, seconds: float, during: Callable[[], object] | None = None,
                slice_s: float = 5.0) -> dict[str, Any]:
    """% of one core the daemon used over the window (``during`` plays the window's sound), also per
    ``slice_s`` slice (work left over from the turns shows as a falling first slice)."""
    st0 = daemon.status()
    samples = [(time.monotonic(), proc_cpu_s(daemon.pid))]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(slice_s):
            samples.append((time.monotonic(), proc_cpu_s(daemon.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        if during is None:
            time.sleep(seconds)
        else:
            during()
    finally:
        stop.set()
        sampler.join()
    samples.append((time.monotonic(), proc_cpu_s(daemon.pid)))
    st1 = daemon.status()
    (t0, c0), (t1, c1) = samples[0], samples[-1]
    slices = [round(100 * (cb - ca) / (tb - ta), 1) for (ta, ca), (tb, cb) in zip(samples, samples[1:]) if tb - ta > 0.5]
    return {"cpu_pct_of_one_core": round(100 * (c1 - c0) / (t1 - t0), 1), "seconds": round(t1 - t0, 1),
            f"cpu_pct_per_{slice_s:g}_s": slices,
            "utterances": st1["utterances"] - st0["utterances"], "ignored": st1["ignored_utterances"] - st0["ignored_utterances"],
            "turns": st1["turns"] - st0["turns"]}


# --- one turn -----------------------------------------------------------------------------------------
def kind_of(u: Utterance, trace: dict[str, Any] | None) -> str:
    if u.kind == "follow_up":
        return "follow_up"
    if not trace:
        return u.kind
    if trace.get("source") == "llm":
        return "llm_routed"
    if trace.get("route") in ("calendar", "system"):
        return "fast_path"
    if trace.get("route") == "smalltalk":
        return "chat"
    return u.kind


def request_end(rig: DuplexRig, start: int, audio: np.ndarray, timeout: float = 15.0) -> tuple[int, float | None]:
    """Waits until the microphone has heard the whole utterance played from output index ``start``;
    returns the input index of its last voiced sample as heard and the harness round trip for it
    (ms; ``None`` when the copy on the microphone line does not match the file, e.g. a playback
    underrun put a gap into it: then webrtcvad on the microphone line gives the end directly)."""
    # not before the copy can have come back: the correlation is the harness's heaviest work, and the
    # daemon is deciding the turn's end meanwhile (the harness must not take its CPU)
    rig.wait_frames(max(0, start + audio.size + rig.round_trip - rig.frames))
    deadline = time.monotonic() + timeout
    while True:
        at, peak = heard_at(rig, start, audio)
        if peak >= 0.8 and at + audio.size <= rig.frames:
            return at + last_voiced_sample(audio), round((at - start) / RATE * 1000, 1)
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    heard = rig.recorded(start, start + audio.size + int(timeout * RATE), channel=MIC)
    return start + last_voiced_sample(heard), None


def save_turn_audio(path: Path, rig: DuplexRig, end_of_request: int) -> None:
    """A turn as the harness recorded it, from 1 s before the end of the request: a stereo WAV at
    ``RATE`` (left: the microphone line, right: the speaker), the end of the request at 1.000 s."""
    start = max(0, end_of_request - RATE)
    mic, spk = rig.recorded(start, channel=MIC), rig.recorded(start, channel=SPK)
    n = min(mic.size, spk.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(2)
        wf.setsampwidth(2)
        wf.setframerate(RATE)
        wf.writeframes(np.stack([mic[:n], spk[:n]], axis=1).astype("<i2").tobytes())


def run_turn(rig: DuplexRig, daemon: DaemonProcess, u: Utterance, audio: np.ndarray,
             args: argparse.Namespace, name: str | None = None) -> dict[str, Any]:
    """One turn; ``name``: the turn's name in the report (default: the utterance's)."""
    name = name or u.name
    st0 = daemon.status()
    daemon.new_log_lines()
    xruns0 = sum(rig.flags.values())
    restarts0 = len(rig.restarts)
    played_at = time.time()
    start = rig.play(audio)
    played_end = start + audio.size
    end_of_request, rtt = request_end(rig, start, audio)  # the daemon has heard all of it now
    deadline = time.monotonic() + args.turn_timeout
    turn_done_at: float | None = None
    idle_since: float | None = None
    reason = "timeout"
    st = st0
    while time.monotonic() < deadline:
        time.sleep(0.2)
        rig.revive()
        if not daemon.alive():
            reason = "daemon exited"
            break
        try:
            st = daemon.status()
        except CONTROL_ERRORS:  # the daemon is slow to answer (a loaded machine): ask again
            continue
        loud = rig.loud_since(args.quiet)
        if st["turns"] > st0["turns"]:
            turn_done_at = turn_done_at or time.monotonic()
            if not loud:
                reason = ""
                break
            continue
        busy = st["state"] in ("thinking", "speaking", "listening")
        if busy or loud:
            idle_since = None
        elif st["utterances"] > st0["utterances"]:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= 2.0:
                reason = ("ignored by the gate: no wake word heard (or no follow-up window open)"
                          if st["ignored_utterances"] > st0["ignored_utterances"] else "end-pointed, but no request")
                break
        elif time.monotonic() - deadline + args.turn_timeout > 15 and not busy:
            reason = "never end-pointed (no utterance)"
            break
    # the speaker, from the end of the request on
    marks = find_reply(rig.recorded(end_of_request), args.min_speech, templates=earcon_templates())
    audio_dir = getattr(args, "audio_dir", None)
    if audio_dir is not None:  # --keep: what the harness heard, for a look afterwards
        save_turn_audio(audio_dir / f"{name}.wav", rig, end_of_request)
    traces = daemon.new_traces()
    # what the ASR's hallucination guard threw away (the daemon logs it at INFO, without the text)
    discarded = [ln.split(ASR_DISCARD, 1)[1].strip() for ln in daemon.new_log_lines()
                 if ASR_DISCARD in ln and "decoding again" not in ln]
    trace = next((t for t in reversed(traces) if t.get("playback_start") is not None), traces[-1] if traces else None)
    sec = lambda samples: samples / RATE  # noqa: E731
    spoken = None if marks.speech_s is None else round(marks.speech_s * 1000, 1)
    ack = None if marks.ack_s is None else round(marks.ack_s * 1000, 1)
    answered = spoken is not None and not reason
    if discarded and not answered:
        reason += f"; ASR guard discarded the transcript: {', '.join(discarded)}"
    if spoken is None and not reason:
        reason = "turn done, but no speech on the speaker" + (f" (error: {trace.get('error')})" if trace and trace.get("error") else "")
    new_turns = st["turns"] - st0["turns"]
    restarted = len(rig.restarts) > restarts0
    if restarted:  # the harness's clock jumped inside this turn: its distances are not latencies
        answered, spoken, ack = False, None, None
        reason = "the harness's own audio stream stopped and was reopened during this turn (not measured)"
    return {
        "name": name, "text": u.spoken, "designed_kind": u.kind, "kind": kind_of(u, trace), "wake_word": u.wake,
        "answered": answered, "unanswered_reason": None if answered else reason,
        "spoken_latency_ms": spoken if answered else None,
        "ack_ms": ack,
        "reply_s": None if (marks.speech_s is None or marks.end_s is None) else round(marks.end_s - marks.speech_s, 2),
        "earcons_s": marks.earcons,
        "utterance_s": round(sec(played_end - start), 2), "harness_round_trip_ms": rtt,
        "daemon_turns": new_turns, "daemon_failed": st["turns_failed"] - st0["turns_failed"], "asr_discarded": discarded,
        "harness_xruns": sum(rig.flags.values()) - xruns0, "harness_restarted": restarted, "played_at": round(played_at, 3),
        "trace": None if trace is None else {
            "spoken_latency_ms": trace.get("spoken_latency_ms"), "reply_latency_ms": trace.get("reply_latency_ms"),
            "route": trace.get("route"), "intent": trace.get("intent"), "source": trace.get("source"),
            "error": trace.get("error"), "asr_ms": (trace.get("meta") or {}).get("asr_ms"),
            "speculative_asr": (trace.get("meta") or {}).get("speculative_asr"),
        },
    }


# --- the run ------------------------------------------------------------------------------------------
def _error(turn: dict[str, Any]) -> str | None:
    """The daemon's error for a turn (its reply was then an apology, e.g. for an LLM timeout)."""
    return (turn.get("trace") or {}).get("error")


def summarize(turns: list[dict[str, Any]]) -> dict[str, Any]:
    not_measured = [t for t in turns if t.get("harness_restarted")]
    turns = [t for t in turns if not t.get("harness_restarted")]
    first, later = (turns[0], turns[1:]) if turns else (None, [])
    by_kind: dict[str, Any] = {}
    for kind in KINDS:
        rows = [t for t in later if t["kind"] == kind]
        ok = [t for t in rows if t["answered"]]
        by_kind[kind] = {
            "turns": len(rows), "answered": len(ok), "answered_with_error": sum(1 for t in ok if _error(t)),
            "spoken_latency_ms": p50_p95(t["spoken_latency_ms"] for t in ok),
            "trace_spoken_latency_ms": p50_p95(t["trace"]["spoken_latency_ms"] for t in ok
                                               if t["trace"] and t["trace"]["spoken_latency_ms"] is not None),
            "ack_ms": p50_p95(t["ack_ms"] for t in ok if t["ack_ms"] is not None),
        }
    out: dict[str, Any] = {"first_turn": first, "by_kind": by_kind}
    ok_all = [t for t in later if t["answered"]]
    out["all_later_turns"] = {"turns": len(later), "answered": len(ok_all),
                              "spoken_latency_ms": p50_p95(t["spoken_latency_ms"] for t in ok_all),
                              "trace_spoken_latency_ms": p50_p95(t["trace"]["spoken_latency_ms"] for t in ok_all
                                                                 if t["trace"] and t["trace"]["spoken_latency_ms"] is not None)}
    if first is not None and first["answered"]:
        p50 = by_kind[first["kind"]]["spoken_latency_ms"]["p50"]
        out["first_turn_vs_kind_p50"] = round(first["spoken_latency_ms"] / p50, 2) if p50 else None
    # The harness's measurement against the daemon's own clock: with the earcons found by their waveform
    # the difference is the output path's latency (the sound server's buffer), a near-constant; a turn far
    # from the rest would be a misplaced onset.
    gaps = [round(t["spoken_latency_ms"] - t["trace"]["spoken_latency_ms"], 1) for t in turns
            if t["answered"] and t["trace"] and t["trace"].get("spoken_latency_ms") is not None]
    out["measured_minus_trace_ms"] = p50_p95(gaps) | {"min": min(gaps, default=None), "max": max(gaps, default=None), "n": len(gaps)}
    out["answered_with_error"] = [{"name": t["name"], "text": t["text"], "error": _error(t)} for t in turns
                                  if t["answered"] and _error(t)]
    out["unanswered"] = [{"name": t["name"], "text": t["text"], "reason": t["unanswered_reason"]} for t in turns if not t["answered"]]
    out["not_measured"] = [{"name": t["name"], "text": t["text"], "reason": t["unanswered_reason"]} for t in not_measured]
    return out


def print_turn(t: dict[str, Any]) -> None:
    """One line per turn on stderr (``-v``)."""
    tr = t["trace"] or {}
    print(f"[{t['name']}] {t['kind']:10s} spoken {t['spoken_latency_ms']} ms (trace {tr.get('spoken_latency_ms')}) "
          f"ack {t['ack_ms']} route {tr.get('source')}:{tr.get('route')} {t['unanswered_reason'] or ''}",
          file=sys.stderr, flush=True)


def first_turns_report(firsts: list[dict[str, Any]], by_kind: dict[str, Any]) -> dict[str, Any]:
    """The first turn after READY of each start of the daemon against the p50 of the later turns of
    its kind (from the main run): each ratio and their median."""
    rows = []
    for t in firsts:
        p50 = by_kind.get(t["kind"], {}).get("spoken_latency_ms", {}).get("p50")
        ok = t["answered"] and not t.get("harness_restarted")
        ratio = round(t["spoken_latency_ms"] / p50, 2) if ok and p50 else None
        tr = (t.get("trace") or {}).get("spoken_latency_ms")
        tp50 = by_kind.get(t["kind"], {}).get("trace_spoken_latency_ms", {}).get("p50")
        rows.append({"name": t["name"], "kind": t["kind"], "answered": ok, "spoken_latency_ms": t["spoken_latency_ms"] if ok else None,
                     "vs_kind_p50": ratio, "trace_spoken_latency_ms": tr,
                     "trace_vs_kind_trace_p50": round(tr / tp50, 2) if ok and tr and tp50 else None,
                     "unanswered_reason": t.get("unanswered_reason")})
    ratios = [r["vs_kind_p50"] for r in rows if r["vs_kind_p50"] is not None]
    traces = [r["trace_vs_kind_trace_p50"] for r in rows if r["trace_vs_kind_trace_p50"] is not None]
    return {"starts": rows, "median_vs_kind_p50": round(float(np.median(ratios)), 2) if ratios else None,
            "median_trace_vs_kind_trace_p50": round(float(np.median(traces)), 2) if traces else None}


def run(args: argparse.Namespace) -> dict[str, Any]:
    require_tools("espeak-ng", "sox", missing=missing_tools(), hint="apt-get install pulseaudio pulseaudio-utils espeak-ng sox")
    root = Path(tempfile.mkdtemp(prefix="bantz-bench-daemon-"))
    keep = False
    pulse = PulseServer(root / "pulse", room=True)
    daemon = DaemonProcess(root / "daemon", pulse)
    rig: DuplexRig | None = None
    notes: list[str] = []
    try:
        plan = build_plan(args.turns)
        wav_dir = args.wavs_out or root / "wavs"
        args.audio_dir = root / "turns" if args.keep else None
        files = render_plan(plan, wav_dir)
        audio = {u.spoken: read_wav(files[u.spoken]) for u in plan}
        background = render_background(args.speech, root / "bg") if args.speech > 0 else None

        pulse.start()
        os.environ.update(pulse.env)
        rig = DuplexRig(pulse)
        rtt_before = measure_round_trip(rig)  # first, before the daemon listens
        rig.round_trip = int(rtt_before["ms"] * RATE / 1000)

        daemon.start()
        ready = daemon.wait_ready(args.ready_timeout)
        ready_s = round(time.monotonic() - daemon.started, 1)
        rss_ready = proc_rss_mb(daemon.pid)
        maps_ready = sysmem.memory_map(daemon.pid)
        cpu_at_ready = proc_cpu_s(daemon.pid)
        stolen_at_ready = machine_cpu_ticks()
        daemon.new_traces()  # nothing before the first turn counts

        turns: list[dict[str, Any]] = []
        for i, u in enumerate(plan):
            t = run_turn(rig, daemon, u, audio[u.spoken], args)
            t["wav"] = files[u.spoken].name
            t["rss_mb"] = proc_rss_mb(daemon.pid) if daemon.alive() else None  # right after its reply
            if u.kind == "follow_up" and not t["answered"] and turns and (not turns[-1]["answered"] or _error(turns[-1])):
                # the daemon opens the follow-up window only after a reply without an error
                t["unanswered_reason"] += " — the turn before got no reply or an apology, so no follow-up window was open"
            turns.append(t)
            if args.verbose:
                print_turn(t)
            if not daemon.alive():
                notes.append("the daemon exited during the turns")
                break
            if i + 1 < len(plan) and plan[i + 1].kind == "follow_up":
                time.sleep(args.follow_up_gap)
            else:
                time.sleep(args.gap)
        rss_after = proc_rss_mb(daemon.pid) if daemon.alive() else None
        maps_after = sysmem.memory_map(daemon.pid) if daemon.alive() else {}
        maps_idle: dict[str, dict[str, int]] = {}
        cpu_after_turns = proc_cpu_s(daemon.pid) if daemon.alive() else None
        steal_during_turns = steal_share(stolen_at_ready, machine_cpu_ticks())

        cpu: dict[str, Any] = {}
        rss_idle = None
        if daemon.alive():
            # the follow-up window must be closed, or the background speech would be a follow-up
            deadline = time.monotonic() + 60
            while daemon.status().get("follow_up_open") and time.monotonic() < deadline:
                time.sleep(0.25)
            time.sleep(1.0)
            # what the daemon keeps once the turns are over and it is idle again (median of 3 samples;
            # "after the turns" above is taken right after the last reply, mid-way through its clean-up)
            samples = []
            for _ in range(3):
                samples.append(proc_rss_mb(daemon.pid))
                time.sleep(0.5)
            rss_idle = round(float(np.median(samples)), 1)
            maps_idle = sysmem.memory_map(daemon.pid)
        if daemon.alive() and (args.silence > 0 or background is not None):
            if args.silence > 0:
                cpu["silence"] = measure_cpu(daemon, args.silence)
            if background is not None:
                cpu["speech_without_wake_word"] = measure_cpu(daemon, args.speech, lambda: rig.play(background))
                time.sleep(2.0)  # let the last sentence's decode finish out of the next window
        rss_end = proc_rss_mb(daemon.pid) if daemon.alive() else None
        maps_end = sysmem.memory_map(daemon.pid) if daemon.alive() else {}
        status_end = daemon.status() if daemon.alive() else {}
        exit_code = daemon.stop()
        # One first turn per start is one sample: start the daemon again (as a user's restart: the same
        # directories) and play the first utterance again, each time right after READY.
        restarts: list[dict[str, Any]] = []
        if plan and turns:
            for k in range(args.restarts):
                daemon.start()
                try:
                    daemon.wait_ready(args.ready_timeout)
                except RuntimeError as exc:
                    notes.append(f"restart {k + 1}: {exc}".splitlines()[0])
                    break
                daemon.new_traces()
                t = run_turn(rig, daemon, plan[0], audio[plan[0].spoken], args, name=f"restart{k + 1}_{plan[0].name}")
                t["wav"] = files[plan[0].spoken].name
                t["restart_exit_code"] = daemon.stop()
                restarts.append(t)
                if args.verbose:
                    print_turn(t)
                time.sleep(args.gap)
        try:
            rtt_after: dict[str, Any] | None = measure_round_trip(rig)
        except RuntimeError as exc:
            rtt_after = None
            notes.append(f"the round trip after the run could not be measured: {exc}")
        per_turn = [t["harness_round_trip_ms"] for t in turns if t["harness_round_trip_ms"] is not None]
        if len(per_turn) < len(turns):
            notes.append(f"{len(turns) - len(per_turn)} utterance(s) reached the microphone with a gap (playback underrun); "
                         "their end was found by webrtcvad on the microphone line")
        if rig.restarts:
            notes.append(f"the harness's PortAudio stream stopped and was reopened {len(rig.restarts)} time(s) (ALSA poll "
                         "failure on a loaded machine); the turns it cut are listed under not_measured")
        if any(rig.flags.values()):
            notes.append(f"the harness's PortAudio stream reported {rig.flags} (a loaded machine); each turn's own round "
                         "trip is subtracted, so a shift of the harness's playback does not enter the latencies")
        result: dict[str, Any] = summarize(turns)
        result["first_turns"] = first_turns_report([turns[0], *restarts] if turns else [], result["by_kind"])
        result.update({
            "turns": turns,
            "restarts": restarts,
            "ready_s": ready_s,
            "rss_mb": {"ready": rss_ready, f"after_{RSS_TURNS}_turns": rss_after_turn(turns, RSS_TURNS), "after_turns": rss_after,
                       "idle_after_turns": rss_idle, "end": rss_end},  # each turn's own: turns[i]["rss_mb"]
            "memory": memory_report(maps_ready, maps_after, maps_idle, maps_end),
            "cpu": cpu,
            "daemon_cpu_s_during_turns": round(cpu_after_turns - cpu_at_ready, 1) if cpu_after_turns is not None else None,
            "steal_during_turns_pct": steal_during_turns,
            "harness_round_trip_ms": {"before": rtt_before, "after": rtt_after, "per_turn": p50_p95(per_turn) | {
                "min": min(per_turn, default=None), "max": max(per_turn, default=None)}, "xruns": dict(rig.flags)},
            "daemon": {"exit_code": exit_code, "turns": status_end.get("turns"), "turns_failed": status_end.get("turns_failed"),
                       "ignored_utterances": status_end.get("ignored_utterances"), "pid_status_at_ready": {
                           k: ready.get(k) for k in ("state", "responder", "hands_free", "follow_up_s")},
                       "models": {k: v.get("detail") for k, v in (ready.get("health", {}).get("components") or {}).items()
                                  if k in ("asr", "tts", "llm", "brain", "models") or k.startswith("llm")}},
            "notes": notes,
        })
        if args.compare_pipeline:
            result["pipeline"] = compare_pipeline(wav_dir, args.turn_timeout * len(plan) * args.pipeline_passes,
                                                  args.pipeline_passes)
            d = {}
            for kind in KINDS:
                a = result["by_kind"][kind]["spoken_latency_ms"]["p50"]
                b = (result["pipeline"].get("by_kind") or {}).get(kind, {}).get("spoken_latency_ms", {}).get("p50")
                d[kind] = None if a is None or b is None else round(a - b, 1)
            result["daemon_minus_pipeline_p50_ms"] = d
            result["paired"] = paired_by_kind(turns, result["pipeline"].get("turns") or [])
        result["meta"] = {
            "command": "python scripts/bench_daemon.py " + " ".join(args.argv),
            "daemon_command": f"{Path(sys.executable).name} -m bantz_voice run (default configuration, private XDG dirs, private PulseAudio)",
            **report.run_meta(report.cpu_model()),
            "method": {"threshold_dbfs": THRESHOLD_DBFS, "min_speech_s": args.min_speech, "quiet_s": args.quiet,
                       "stream": f"one full-duplex PortAudio stream, {RATE} Hz, {BLOCK}-frame blocks: out → mic_sink, "
                                 "in ← room.monitor (left: microphone line, right: speaker)"},
            "wavs": str(args.wavs_out) if args.wavs_out else None,
        }
        return result
    except BaseException:
        keep = True
        print(f"bench_daemon: failed; files kept in {root} (daemon log: {daemon.log})", file=sys.stderr)
        raise
    finally:
        if rig is not None:
            rig.close()
        if daemon.alive():
            daemon.stop()
        pulse.stop()
        if not keep and not args.keep:
            shutil.rmtree(root, ignore_errors=True)


# --- the in-process comparison ------------------------------------------------------------------------
def kind_of_path(designed: str, path: str) -> str:
    """The kind of a ``bench_pipeline.py`` turn from its path (``source:route[!error]``), as :func:`kind_of`."""
    if designed == "follow_up":
        return "follow_up"
    source, _, route = path.split("!", 1)[0].partition(":")
    if source == "llm":
        return "llm_routed"
    if route in ("calendar", "system"):
        return "fast_path"
    if route == "smalltalk":
        return "chat"
    return designed


def paired_by_kind(turns: list[dict[str, Any]], pipe_turns: list[dict[str, Any]]) -> dict[str, Any]:
    """Per kind, the same WAVs on both sides: the daemon's later turns (not the first after READY) that
    it answered without an error, each paired with the in-process pipeline's turn on the same WAV when
    that one took the same path (source and route) without an error. Kinds built from whatever each side
    answered can hold different sentences (a follow-up goes unheard when the turn before it was
    dropped); the pairs cannot. With several passes of the pipeline (``--pipeline-passes``), a WAV's
    pipeline figure is the median of its passes on that path (one pass varies by a few hundred ms)."""
    by_file: dict[str, list[dict[str, Any]]] = {}
    for p in pipe_turns:
        if p.get("file"):
            by_file.setdefault(p["file"], []).append(p)
    later = [t for t in turns[1:] if not t.get("harness_restarted")]
    out: dict[str, Any] = {}
    for kind in KINDS:
        pairs = []
        for t in later:
            tr = t.get("trace") or {}
            if t["kind"] != kind or not t["answered"] or tr.get("error"):
                continue
            same = [p["spoken_latency_ms"] for p in by_file.get(t.get("wav") or "", [])
                    if p.get("spoken_latency_ms") is not None and not p.get("error") and "!" not in (p.get("path") or "")
                    and p.get("path") == f"{tr.get('source')}:{tr.get('route')}"]
            if not same:
                continue
            pairs.append({"wav": t["wav"], "daemon_ms": t["spoken_latency_ms"], "pipeline_ms": percentile(same, 50),
                          "pipeline_passes": len(same)})
        a = percentile([x["daemon_ms"] for x in pairs], 50)
        b = percentile([x["pipeline_ms"] for x in pairs], 50)
        out[kind] = {"pairs": len(pairs), "daemon_p50_ms": a, "pipeline_p50_ms": b,
                     "difference_of_p50_ms": None if a is None or b is None else round(a - b, 1),
                     "median_paired_difference_ms": percentile([x["daemon_ms"] - x["pipeline_ms"] for x in pairs], 50),
                     "rows": pairs}
    return out


def compare_pipeline(wav_dir: Path, timeout: float, passes: int = 1) -> dict[str, Any]:
    """``scripts/bench_pipeline.py --llm embedded --repeat passes`` (the warmed in-process pipeline, the
    same models) on the same WAVs, grouped into the same kinds."""
    cmd = [sys.executable, str(ROOT / "scripts/bench_pipeline.py"), "--llm", "embedded", "--wavs", str(wav_dir),
           "--repeat", str(passes), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        return {"error": proc.stderr[-1500:]}
    res = json.loads(proc.stdout)
    rows = res["meta"]["turn_details"]["optimized"]
    turns = [{"file": r["file"], "kind": kind_of_path(r["kind"], r["path"]), "path": r["path"],
              "spoken_latency_ms": r["spoken_latency_ms"], "error": r["error"]} for r in rows]
    by_kind = {}
    for kind in KINDS:
        ok = [t["spoken_latency_ms"] for t in turns if t["kind"] == kind and t["spoken_latency_ms"] is not None]
        by_kind[kind] = {"turns": sum(t["kind"] == kind for t in turns), "answered": len(ok), "spoken_latency_ms": p50_p95(ok)}
    return {"command": f"python scripts/bench_pipeline.py --llm embedded --wavs <the same WAVs> --repeat {passes} --json",
            "passes": passes,
            "by_kind": by_kind, "turns": turns, "answered": sum(t["spoken_latency_ms"] is not None for t in turns),
            "load_and_warmup_s": res["meta"].get("load_and_warmup_s")}


# --- output -------------------------------------------------------------------------------------------
def _cell(v: dict[str, Any]) -> str:
    if v.get("p50") is None:
        return "–"
    return f"{v['p50'] / 1000:.2f} / {v['p95'] / 1000:.2f} s"


def _pct(v: float | None) -> str:
    return "not measured" if v is None else f"{v} %"


def render_markdown(r: dict[str, Any]) -> str:
    m = r["meta"]
    lines = [f"Command: `{m['command']}` — daemon: `{m['daemon_command']}`.", "",
             f"Machine: {m['machine']}; load average at the end {m['loadavg_end']}; CPU time stolen by the hypervisor "
             f"during the turns {_pct(r.get('steal_during_turns_pct'))}. Date: {m['date']}.", "",
             "| turns | n | answered (apologies) | **spoken latency** p50 / p95 (through the devices) | the daemon's own trace p50 / p95 "
             "| acknowledgement (earcon) p50 / p95 |",
             "| --- | --- | --- | --- | --- | --- |"]
    f = r.get("first_turn")
    if f is not None:
        sp = "not answered" if not f["answered"] else f"**{f['spoken_latency_ms'] / 1000:.2f} s**"
        if f["answered"] and _error(f):
            sp += f" (an apology: {_error(f)})"
        tr = (f.get("trace") or {}).get("spoken_latency_ms")
        ratio = r.get("first_turn_vs_kind_p50")
        ack = "–" if f["ack_ms"] is None else f"{f['ack_ms'] / 1000:.2f} s"
        trs = "–" if tr is None else f"{tr / 1000:.2f} s"
        vs = f", {ratio}× the p50 of its kind" if ratio else ""
        lines.append(f"| first turn after READY ({f['kind'].replace('_', ' ')}{vs}) | 1 | {int(f['answered'])} "
                     f"({int(bool(f['answered'] and _error(f)))}) | {sp} | {trs} | {ack} |")
    for kind in KINDS:
        k = r["by_kind"][kind]
        if k["turns"]:
            lines.append(f"| {kind.replace('_', ' ')} | {k['turns']} | {k['answered']} ({k['answered_with_error']}) | "
                         f"{_cell(k['spoken_latency_ms'])} | "
                         f"{_cell(k['trace_spoken_latency_ms'])} | {_cell(k['ack_ms'])} |")
    a = r["all_later_turns"]
    lines.append(f"| all turns after the first | {a['turns']} | {a['answered']} | {_cell(a['spoken_latency_ms'])} | "
                 f"{_cell(a['trace_spoken_latency_ms'])} | |")
    pipe = r.get("pipeline")
    if pipe and "by_kind" in pipe:
        lines += ["", f"The same WAVs through `{pipe['command']}` (in process, warmed, no devices, no wake-word gate; "
                  f"{pipe['answered']} of {len(pipe['turns'])} answered), by the same kinds:", "",
                  "| kind | daemon through the devices p50 (n) | in-process pipeline p50 / p95 (n) | daemon − pipeline (p50) |",
                  "| --- | --- | --- | --- |"]
        for kind in KINDS:
            k, pk = r["by_kind"][kind], pipe["by_kind"][kind]
            if not (k["answered"] or pk["answered"]):
                continue
            a = k["spoken_latency_ms"]["p50"]
            diff = r["daemon_minus_pipeline_p50_ms"][kind]
            lines.append(f"| {kind.replace('_', ' ')} | {'–' if a is None else f'{a / 1000:.2f} s'} ({k['answered']}) | "
                         f"{_cell(pk['spoken_latency_ms'])} ({pk['answered']}) | {'–' if diff is None else f'{diff / 1000:+.2f} s'} |")
    elif pipe:
        lines += ["", f"bench_pipeline.py failed: {pipe.get('error', '')[-300:]}"]
    paired = r.get("paired")
    if paired:
        passes = int((r.get("pipeline") or {}).get("passes") or 1)
        with_ = ("the pipeline's turn on the same WAV that took the same path" if passes == 1 else
                 f"the median of the pipeline's {passes} passes over the same WAV that took the same path")
        lines += ["", "Paired, the same WAVs on both sides (the daemon's later turns answered without an error, each with "
                  f"{with_}):", "",
                  "| kind | pairs | daemon p50 | pipeline p50 | **daemon − pipeline** (p50) | median of the paired differences |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for kind in KINDS:
            k = paired[kind]
            if not k["pairs"]:
                continue
            lines.append(f"| {kind.replace('_', ' ')} | {k['pairs']} | {k['daemon_p50_ms'] / 1000:.2f} s | "
                         f"{k['pipeline_p50_ms'] / 1000:.2f} s | **{k['difference_of_p50_ms'] / 1000:+.2f} s** | "
                         f"{k['median_paired_difference_ms'] / 1000:+.2f} s |")
    ft = r.get("first_turns")
    if ft and len(ft.get("starts", [])) > 1:
        parts = []
        for x in ft["starts"]:
            if x["answered"]:
                parts.append(f"{x['spoken_latency_ms'] / 1000:.2f} s ({x['kind'].replace('_', ' ')}, {x['vs_kind_p50']}×; "
                             f"trace {x['trace_vs_kind_trace_p50']}×)")
            else:
                parts.append(f"not answered ({x['unanswered_reason']})")
        lines += ["", f"First turn after READY, once per start of the daemon ({len(ft['starts'])} starts: the run above, then "
                  f"restarts with the same directories): {'; '.join(parts)}. **Median {ft['median_vs_kind_p50']}× the p50 of "
                  f"its kind** (the daemon's own trace: {ft['median_trace_vs_kind_trace_p50']}×)."]
    mt = r.get("measured_minus_trace_ms")
    if mt and mt.get("n"):
        lines += ["", f"Measured through the devices − the daemon's own trace, per answered turn: p50 {mt['p50']:.0f} ms "
                  f"({mt['min']:.0f} to {mt['max']:.0f} ms, n = {mt['n']}) — the output path's delay; a turn far from it would "
                  "be a misplaced onset."]
    cpu = r.get("cpu", {})
    rss = r["rss_mb"]

    def grown(mb: float | None) -> str:
        return f" ({(mb / rss['ready'] - 1) * 100:+.1f} %)" if mb and rss.get("ready") else ""

    at_n = rss.get(f"after_{RSS_TURNS}_turns")
    extra = [f"READY {r['ready_s']} s after start",
             f"RSS {rss['ready']} MB at READY → "
             + (f"{at_n} MB after {RSS_TURNS} turns{grown(at_n)} → " if at_n else "")
             + f"{rss['after_turns']} MB right after the last turn{grown(rss['after_turns'])}"
             + (f" → {r['rss_mb']['idle_after_turns']} MB idle after the turns" if r["rss_mb"].get("idle_after_turns") else "")
             + (f" → {r['rss_mb']['end']} MB at the end" if r["rss_mb"].get("end") else "")]
    def slices(c: dict[str, Any]) -> str:
        v = next((v for k, v in c.items() if k.startswith("cpu_pct_per_")), None)
        return f" (per 5 s: {', '.join(f'{x:g}' for x in v)} %)" if v else ""

    if "silence" in cpu:
        c = cpu["silence"]
        extra.append(f"CPU {c['cpu_pct_of_one_core']} % of one core in {c['seconds']:.0f} s of silence after the turns{slices(c)}")
    if "speech_without_wake_word" in cpu:
        c = cpu["speech_without_wake_word"]
        extra.append(f"CPU {c['cpu_pct_of_one_core']} % of one core during {c['seconds']:.0f} s of Turkish speech without the "
                     f"wake word{slices(c)}, {c['utterances']} utterances end-pointed, {c['ignored']} ignored by the gate, "
                     f"{c['turns']} answered")
    h = r["harness_round_trip_ms"]
    pt = h["per_turn"]
    extra.append(f"harness round trip (subtracted per turn) {h['before']['ms']} ms before the daemon started, "
                 f"{pt['p50']} ms per turn (p50; {pt['min']}–{pt['max']}), {(h['after'] or {}).get('ms')} ms after it stopped; "
                 f"harness xruns {sum(h['xruns'].values())}")
    lines += ["", "; ".join(extra) + "."]
    if r.get("answered_with_error"):
        lines += ["", "Answered with an apology (the daemon's error; the latency is the apology's): " + "; ".join(
            f"{u['name']} ({u['error']})" for u in r["answered_with_error"]) + "."]
    if r["unanswered"]:
        lines += ["", "Not answered: " + "; ".join(f"{u['name']} “{u['text']}” ({u['reason']})" for u in r["unanswered"]) + "."]
    mem = r.get("memory")
    if mem and mem.get("after_turns"):
        def mb(kb: int) -> str:
            return f"{kb / 1024:.1f}"

        a, b = mem["ready"], mem["after_turns"]
        grew = [g for g in mem["grew_after_turns"] if abs(g["rss_kb_delta"]) >= 1024][:6]
        lines += ["", f"Resident memory (/proc/PID/smaps) at READY → after the turns: anonymous {mb(a['anon_kb'])} → "
                  f"{mb(b['anon_kb'])} MB, file-backed {mb(a['file_kb'])} → {mb(b['file_kb'])} MB"
                  + ("; grew most: " + ", ".join(f"{Path(g['mapping']).name or g['mapping']} {g['rss_kb_delta'] / 1024:+.1f} MB"
                                              for g in grew) if grew else "") + "."]
    for n in r.get("notes", []):
        lines += ["", f"Note: {n}."]
    return "\n".join(lines)


def render_text(r: dict[str, Any]) -> str:
    out = [render_markdown(r), "", "turn by turn (ms; measured / daemon trace / earcon):"]
    for t in r["turns"]:
        tr = t["trace"] or {}
        out.append(f"  {t['name']:14s} {t['kind']:10s} {str(t['spoken_latency_ms']):>8s} / {str(tr.get('spoken_latency_ms')):>8s} / "
                   f"{str(t['ack_ms']):>8s}  {tr.get('source')}:{tr.get('route')}  {t['text']}"
                   + (f"  [{t['unanswered_reason']}]" if t["unanswered_reason"] else ""))
    return "\n".join(out)


def build_parser() -> argparse.ArgumentParser:
    p = report.described_parser(__doc__, epilog=True)
    p.add_argument("--turns", type=int, default=44, help="utterances to play (default 44: the 19 distinct ones about 2.3 times, so a kind has enough pairs for a median; a follow-up counts as one; 0: only the CPU windows)")
    p.add_argument("--quick", action="store_true", help="smoke test: 3 turns, 3 s of silence, 6 s of speech")
    p.add_argument("--speech", type=float, default=60.0, metavar="S", help="seconds of Turkish speech without the wake word (CPU)")
    p.add_argument("--silence", type=float, default=20.0, metavar="S", help="seconds of silence (CPU)")
    p.add_argument("--min-speech", type=float, default=MIN_SPEECH_S, metavar="S",
                   help="shortest sound that counts as the reply's speech, once the earcons (found by their waveform) "
                        f"are masked (default {MIN_SPEECH_S})")
    p.add_argument("--restarts", type=int, default=2, metavar="N",
                   help="after the run, start the daemon N more times and play the first utterance right after each "
                        "READY (more samples of the first turn; default 2, 0 with --quick)")
    p.add_argument("--quiet", type=float, default=1.0, metavar="S", help="speaker silence that ends a reply")
    p.add_argument("--gap", type=float, default=1.0, metavar="S", help="pause after a reply before the next utterance")
    p.add_argument("--follow-up-gap", type=float, default=0.5, metavar="S", help="pause before a follow-up (inside the window)")
    p.add_argument("--turn-timeout", type=float, default=120.0, metavar="S", help="give a turn up after this long")
    p.add_argument("--ready-timeout", type=float, default=600.0, metavar="S", help="give up waiting for READY after this long")
    p.add_argument("--wavs-out", type=Path, help="keep the rendered utterances (+ manifest.jsonl) here, e.g. for "
                   "bench_pipeline.py --wavs")
    p.add_argument("--compare-pipeline", action="store_true", help="afterwards run scripts/bench_pipeline.py --llm "
                   "embedded on the same WAVs (the warmed in-process pipeline) and report it beside, by the same kinds")
    p.add_argument("--pipeline-passes", type=int, default=3, metavar="N",
                   help="passes of bench_pipeline.py over the WAVs with --compare-pipeline (default 3): a WAV's pipeline "
                   "figure in the pairs is the median of its passes")
    p.add_argument("--keep", action="store_true", help="keep the run's directory (daemon log, traces, each turn's recording under turns/)")
    report.add_output_options(p, markdown_help="print the Markdown table (for docs/benchmarks.md)")
    p.add_argument("--render", type=Path, metavar="JSON", help="print the report of an earlier --json run (no new run)")
    p.add_argument("-v", "--verbose", action="store_true", help="one line per turn on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    if args.quick:
        args.turns = min(args.turns, 3)
        args.speech = min(args.speech, 6.0)
        args.silence = min(args.silence, 3.0)
        args.restarts = 0
    if args.turns < 0:
        parser.error("--turns must be at least 0 (0: only the CPU windows)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (daemon, sound server) on SIGTERM too
    if args.render:
        result = json.loads(args.render.read_text(encoding="utf-8"))
    else:
        result = run(args)
    report.show(args, result, lambda: render_markdown(result), lambda: render_text(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
