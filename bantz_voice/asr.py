"""Speech to text: faster-whisper tuned for short Turkish commands, plus a hallucination guard.

``Transcriber(settings.asr)`` loads the model once and warms it up; ``transcribe(audio)`` takes
16 kHz mono int16 samples and returns an :class:`AsrResult` (``text`` is "" when the guard drops it).

The guard and its retry without the initial prompt see Whisper only through a :class:`Decoder`
(``segments(x, prompt, settings, max_new_tokens)``): :class:`WhisperDecoder` in the product, a
decoder replaying recorded outputs in tests (``Transcriber(settings.asr, decoder=...)``), so the
retry logic is tested without depending on one CPU's floating-point path.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from bantz_voice import sysmem
from bantz_voice.errors import ModelMissingError
from bantz_voice.turkish.text import tr_lower

log = logging.getLogger(__name__)

# Intel MKL (CTranslate2's CPU backend on Intel) may sum in a different order from run to run
# (buffer alignment): the same audio could decode differently near a threshold. Strict conditional
# numerical reproducibility, read when MKL starts (before faster-whisper is imported), makes a
# decode a function of its input. A user's own MKL_CBWR wins.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

RATE = 16000
FULL_WINDOW_FRAMES = 3000  # Whisper's 30 s mel window
MAX_NEW_TOKENS = 200  # the decoder's 448-token context less the prompt
RETRY_REASONS = ("prompt_echo", "low_logprob")  # drops that a decode without the prompt may undo

# Known Whisper hallucinations on silence/noise in Turkish (and a few multilingual ones),
# compared after lower-casing and stripping punctuation.
HALLUCINATIONS: tuple[str, ...] = (
    "altyazı m.k.",
    "altyazı m k",
    "altyazı",
    "altyazılar",
    "izlediğiniz için teşekkür ederim",
    "izlediğiniz için teşekkürler",
    "izlediğiniz için teşekkür ederiz",
    "videoyu izlediğiniz için teşekkür ederim",
    "abone olmayı unutmayın",
    "abone olun",
    "bir sonraki videoda görüşmek üzere",
    "sonraki videoda görüşmek üzere",
    "alkış",
    "altyazı m.k",
    "thank you for watching",
    "thanks for watching",
    "subtitles by the amara.org community",
)

# Whisper also says these on silence/noise, but a user says them too (a thank-you after a reply, a
# goodbye, "müzik" as a request): the words alone decide nothing, the audio does (see
# hallucination_reason).
PLAUSIBLE_UTTERANCES: tuple[str, ...] = (
    "teşekkür ederim",
    "teşekkürler",
    "çok teşekkür ederim",
    "sağ ol",
    "sağol",
    "hoşça kal",
    "hoşça kalın",
    "müzik",
)
PLAUSIBLE_MIN_VOICED_S = 0.3  # webrtcvad-voiced audio a short phrase a user says has at least
VAD_MODE = 3  # the most aggressive webrtcvad mode: noise and silence are not voiced

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def _norm(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", tr_lower(text)).split())


_HALLU_NORM = {_norm(h) for h in HALLUCINATIONS}
_PLAUSIBLE_NORM = {_norm(h) for h in PLAUSIBLE_UTTERANCES}


def voiced_seconds(audio: np.ndarray, rate: int = RATE) -> float:
    """Seconds of ``audio`` (int16 mono) that webrtcvad (mode 3, 30 ms frames) calls speech."""
    import webrtcvad

    from bantz_voice.audio.vad import frame_is_speech

    vad = webrtcvad.Vad(VAD_MODE)
    n = rate * 30 // 1000
    pcm = np.ascontiguousarray(audio, dtype=np.int16)
    voiced = sum(frame_is_speech(vad, pcm[i : i + n].tobytes(), rate) for i in range(0, len(pcm) - n + 1, n))
    return voiced * 0.03


def is_repetitive(text: str) -> bool:
    """True for loops like "evet evet evet evet" or a phrase repeated 3+ times."""
    words = _norm(text).split()
    if len(words) >= 4 and len(set(words)) <= max(1, len(words) // 4):
        return True
    for n in (2, 3, 4):
        if len(words) >= 3 * n:
            grams = [" ".join(words[i : i + n]) for i in range(0, len(words) - n + 1)]
            for g in set(grams):
                if grams.count(g) >= 3 and len(set(words)) <= 2 * n:
                    return True
    # a single character/syllable repeated ("ı ı ı ı ı", "aaaaaaaaaa")
    compact = _norm(text).replace(" ", "")
    return len(compact) >= 10 and len(set(compact)) <= 2


def hallucination_reason(
    text: str,
    *,
    no_speech_prob: float = 0.0,
    avg_logprob: float = 0.0,
    no_speech_threshold: float = 0.6,
    logprob_threshold: float = -1.0,
    prompt: str | None = None,
    voiced_s: float | None = None,
) -> str | None:
    """Why a transcript should be dropped, or None when it looks like real speech.

    ``voiced_s``: seconds of the audio webrtcvad calls speech. A phrase Whisper makes up on
    noise that a user also says (PLAUSIBLE_UTTERANCES: "teşekkür ederim") is kept only on evidence
    of speech: at least PLAUSIBLE_MIN_VOICED_S voiced and a no-speech probability under half the
    threshold; without the audio (``voiced_s`` None) it is dropped as before."""
    norm = _norm(text)
    if not norm:
        return "empty"
    if prompt:
        pw, tw = set(_norm(prompt).split()), norm.split()
        if len(tw) >= 3 and all(w in pw for w in tw):
            return "prompt_echo"
    if no_speech_prob > no_speech_threshold and avg_logprob < logprob_threshold / 2:
        return "no_speech"
    if avg_logprob < logprob_threshold:
        return "low_logprob"
    if norm in _HALLU_NORM:
        return "known_hallucination"
    if norm in _PLAUSIBLE_NORM:
        spoken = voiced_s is not None and voiced_s >= PLAUSIBLE_MIN_VOICED_S
        if not spoken or no_speech_prob >= no_speech_threshold / 2:
            return "known_hallucination"
    if is_repetitive(text):
        return "repetitive"
    return None


@dataclass
class AsrResult:
    text: str
    raw_text: str = ""
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    dropped: str | None = None  # reason when the guard dropped it
    seconds: float = 0.0
    audio_s: float = 0.0
    meta: dict = field(default_factory=dict)


class _Cancelled(Exception):
    pass


class Segment(Protocol):
    """What the guard reads of one decoded segment (faster-whisper's ``Segment`` has these)."""

    text: str
    avg_logprob: float
    no_speech_prob: float
    tokens: Sequence[int]


class Decoder:
    """One Whisper decode of float32 16 kHz samples: its segments, lazily. Base of the real
    decoder and of the recorded ones tests use."""

    def segments(self, x: np.ndarray, prompt: str | None, settings, max_new_tokens: int) -> Iterable[Segment]:
        raise NotImplementedError


class WhisperDecoder(Decoder):
    """faster-whisper, greedy (T=0), no internal VAD or fallback: the guard decides."""

    def __init__(self, model) -> None:
        self.model = model

    def segments(self, x: np.ndarray, prompt: str | None, settings, max_new_tokens: int) -> Iterable[Segment]:
        segments, _info = self.model.transcribe(
            x,
            language=settings.language,
            task="transcribe",
            beam_size=settings.beam_size,
            best_of=1,
            temperature=0.0,
            without_timestamps=True,
            condition_on_previous_text=False,
            initial_prompt=prompt,
            vad_filter=False,
            no_speech_threshold=None,
            log_prob_threshold=None,
            compression_ratio_threshold=None,
            max_new_tokens=max_new_tokens,
        )
        return segments


def combine(segments: Sequence[Segment]) -> tuple[str, float, float]:
    """One decode's segments as (text, token-weighted average log-probability, no-speech prob)."""
    n_tok = [max(1, len(seg.tokens)) for seg in segments]
    raw = " ".join(seg.text.strip() for seg in segments).strip()
    total = sum(n_tok) or 1
    avg_lp = float(sum(seg.avg_logprob * n for seg, n in zip(segments, n_tok)) / total) if segments else -10.0
    return raw, avg_lp, float(max(seg.no_speech_prob for seg in segments)) if segments else 1.0


@functools.cache
def mkl_free_buffers() -> Callable[[], None] | None:
    """Intel MKL's ``mkl_free_buffers`` from the CTranslate2 library this process has loaded (its
    wheel bundles MKL, CTranslate2's CPU backend on Intel), or None (not loaded yet, no MKL in it).

    MKL's own memory manager ("fast MM") keeps the buffers of its GEMMs in a cache that it never
    hands back, so a Whisper decode's working buffers stayed resident between turns: a Whisper-only
    probe grew by +10 MB over 3-5 rounds in 4 of 4 processes, +0.7 to +8 MB with the cache emptied
    after each round (docs/benchmarks.md, "RSS after READY"). ``MKL_DISABLE_FAST_MM=1`` would avoid
    the cache but made every GEMM allocate afresh (ASR 10-25 % slower in an A/B); emptying it
    between turns costs a decode nothing."""
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            paths = {ln.split(None, 5)[5].strip() for ln in f if len(ln.split(None, 5)) == 6}
    except OSError:
        return None
    for path in sorted(p for p in paths if os.path.basename(p).startswith("libctranslate2")):
        try:
            fn = ctypes.CDLL(path).mkl_free_buffers  # already loaded: the same handle, not a second copy
        except (OSError, AttributeError):
            continue
        fn.argtypes, fn.restype = [], None
        return fn
    return None


class Transcriber:
    """faster-whisper wrapper. Thread-safe (one decode at a time); call from a worker thread."""

    def __init__(self, asr_settings, *, warm_up: bool = True, decoder: Decoder | None = None) -> None:
        self.settings = asr_settings
        self._lock = threading.Lock()
        self._cancel: threading.Event | None = None
        self._frames: int | None = None  # encoder window of the decode in progress
        self._encoded_frames = 0
        if decoder is not None:  # recorded outputs (tests): no model
            self.model_path = Path(f"<{type(decoder).__name__}>")
            self.model = None
            self.decoder = decoder
            return
        self.model_path = self._resolve(asr_settings.model)
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:  # pragma: no cover - dependency missing
            raise ModelMissingError(f"faster-whisper kurulu değil: {exc}") from None
        try:
            self.model = WhisperModel(
                str(self.model_path),
                device=asr_settings.device,
                compute_type=asr_settings.compute_type,
                cpu_threads=asr_settings.cpu_threads,
            )
        except Exception as exc:
            raise ModelMissingError(f"Whisper modeli yüklenemedi ({self.model_path}): {str(exc).splitlines()[0]}") from None
        self.decoder = WhisperDecoder(self.model)
        self._install_cancel_points()
        sysmem.on_release(self.release_cached_buffers)
        if warm_up:
            self.warm_up()

    def release_cached_buffers(self) -> bool:
        """Empty MKL's buffer cache (see :func:`mkl_free_buffers`); the heap trim after a turn then
        returns the pages (``sysmem.release_freed_memory`` calls this first). Skipped while a decode
        runs (never waits for one). True when the cache was emptied."""
        free = mkl_free_buffers()
        if free is None or not self._lock.acquire(blocking=False):
            return False
        try:
            free()
        finally:
            self._lock.release()
        return True

    @staticmethod
    def _resolve(name: str) -> Path:
        from bantz_voice.models import resolve_model

        path = resolve_model(name)
        if path.is_dir() and not (path / "model.bin").is_file():
            raise ModelMissingError(f"Whisper modeli eksik: {path}/model.bin yok")
        if not path.exists():
            raise ModelMissingError(f"Whisper modeli bulunamadı: {path}")
        return path

    def _install_cancel_points(self) -> None:
        """A stale speculative decode stops before the encoder and before the decoder (the two
        CTranslate2 calls cannot be interrupted, but the one not yet started is skipped). The
        encoder hook also cuts the mel window to ``self._frames`` (``asr.window: fit``)."""
        model = self.model
        for name in ("encode", "generate_with_fallback"):
            orig = getattr(model, name, None)
            if orig is None:
                continue

            def wrapped(*args, _orig=orig, _name=name, **kwargs):
                ev = self._cancel
                if ev is not None and ev.is_set():
                    raise _Cancelled
                if _name == "encode" and self._frames and args and getattr(args[0], "shape", (0,))[-1] > self._frames:
                    args = (args[0][..., : self._frames], *args[1:])
                    self._encoded_frames = self._frames
                elif _name == "encode" and args:
                    self._encoded_frames = int(getattr(args[0], "shape", (0,))[-1])
                return _orig(*args, **kwargs)

            setattr(model, name, wrapped)

    def window_frames(self, samples: int, window: str | None = None) -> int | None:
        """Mel frames the encoder sees for ``samples`` of (padded) audio; None = Whisper's 30 s."""
        s = self.settings
        if (window or s.window) == "full":
            return None
        frames = math.ceil((samples / RATE + s.window_pad_s) * 100)
        return frames if frames < FULL_WINDOW_FRAMES else None

    def warm_up(self) -> None:
        rng = np.random.default_rng(0)
        noise = (rng.standard_normal(RATE) * 300).astype(np.int16)
        t = time.monotonic()
        self.transcribe(noise)
        log.debug("whisper warm-up %.2f s", time.monotonic() - t)

    def transcribe(self, audio: np.ndarray, cancel: threading.Event | None = None, window: str | None = None) -> AsrResult:
        """Transcribe int16 samples. A set ``cancel`` event skips the rest of a decode whose result
        nobody wants any more (speculative ASR after speech resumed): before the encoder, before
        the decoder, between segments. ``window`` ("fit"/"full") overrides ``asr.window`` for this
        call (the benchmark's baseline shares the model with the optimized design)."""
        s = self.settings
        if cancel is not None and cancel.is_set():
            return AsrResult(text="", dropped="cancelled")
        pad = np.zeros(int(RATE * s.pad_ms / 1000), dtype=np.float32)
        x = np.concatenate([audio.astype(np.float32) / 32768.0, pad])
        t0 = time.monotonic()
        with self._lock:
            self._cancel = cancel
            self._frames = self.window_frames(len(x), window)
            try:
                return self._decode(audio, x, cancel, t0)
            except _Cancelled:
                return AsrResult(text="", dropped="cancelled", seconds=round(time.monotonic() - t0, 3))
            finally:
                self._cancel = None
                self._frames = None

    def _decode(self, audio: np.ndarray, x: np.ndarray, cancel: threading.Event | None, t0: float) -> AsrResult:
        s = self.settings
        prompt = s.initial_prompt or None
        raw, avg_lp, no_speech = self._run(x, prompt, cancel)
        voiced = voiced_seconds(audio)
        reason = self._reason(raw, avg_lp, no_speech, prompt, voiced)
        retried = False
        if reason in RETRY_REASONS and prompt and s.retry_without_prompt:
            # The prompt that spells "Bantz" sometimes makes Whisper repeat it or doubt the real
            # words; the same audio with the wake word alone as the prompt is often clean and still
            # spells the wake word (docs/benchmarks.md, ASR prompt).
            retry_prompt = s.retry_prompt or None
            log.info("transcript dropped (%s, logprob %.2f); decoding again with prompt %r", reason, avg_lp, retry_prompt)
            raw2, lp2, nsp2 = self._run(x, retry_prompt, cancel)
            retried = True
            if self._reason(raw2, lp2, nsp2, retry_prompt, voiced) is None:
                raw, avg_lp, no_speech, reason = raw2, lp2, nsp2, None
        if reason:
            # The reason only: words heard without the wake word must never reach the journal.
            log.info("transcript dropped (%s, logprob %.2f)", reason, avg_lp)
        return AsrResult(
            text="" if reason else raw,
            raw_text=raw,
            avg_logprob=round(avg_lp, 3),
            no_speech_prob=round(no_speech, 3),
            dropped=reason,
            seconds=round(time.monotonic() - t0, 3),
            audio_s=round(len(audio) / RATE, 3),
            meta={"window_s": round(self._encoded_frames / 100, 2), "retried": retried, "voiced_s": round(voiced, 2)},
        )

    def _run(self, x: np.ndarray, prompt: str | None, cancel: threading.Event | None) -> tuple[str, float, float]:
        """One Whisper decode: (text, token-weighted average log-probability, no-speech prob)."""
        s = self.settings
        if cancel is not None and cancel.is_set():
            raise _Cancelled
        max_new = min(MAX_NEW_TOKENS, 16 + math.ceil(len(x) / RATE * s.max_tokens_per_s))
        segments = self.decoder.segments(x, prompt, s, max_new)
        got: list[Segment] = []
        for seg in segments:
            got.append(seg)
            if cancel is not None and cancel.is_set():
                raise _Cancelled
        return combine(got)

    def _reason(self, raw: str, avg_lp: float, no_speech: float, prompt: str | None, voiced_s: float | None = None) -> str | None:
        s = self.settings
        return hallucination_reason(
            raw,
            no_speech_prob=no_speech,
            avg_logprob=avg_lp,
            no_speech_threshold=s.no_speech_threshold,
            logprob_threshold=s.logprob_threshold,
            prompt=prompt,
            voiced_s=voiced_s,
        )
