"""The wake-word stage in front of Whisper: decides on "Bantz" from audio, before any decode.

``WakeDetector`` is the seam (the daemon asks ``detect`` for each hands-free utterance outside the
follow-up window); ``build_wake_detector`` picks the engine from ``WakeSettings``:

- ``model``: ``OnnxWakeDetector``, a small convolutional keyword model (bantz_voice/data/wake/
  bantz.onnx, trained by scripts/train_wakeword.py) run with onnxruntime over 1 s windows (100 ms
  apart) of the utterance's first ``scan_s`` seconds; fires when at least ``confirm_k`` of some
  ``confirm_n`` consecutive windows score at or above the threshold (:func:`rule_score`). A said
  "Bantz" lies whole inside several overlapping windows, so it scores high in a run of them; an
  isolated spike of one window on other speech does not fire.
- ``transcript``: ``WakeDetector`` itself, which passes everything (today's behaviour: Whisper
  transcribes every utterance and the transcript match decides).

Either way the transcript match (daemon/wakeword.py) stays the second stage.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bantz_voice.wake import features

if TYPE_CHECKING:
    from bantz_voice.config import WakeSettings


SILENCE_PEAK = 1e-3  # -60 dBFS: below this the utterance holds no speech worth scoring


@dataclass(frozen=True)
class WakeResult:
    fired: bool
    # the rule's score (:func:`rule_score`; with k = n = 1 the best window's probability; 1.0 for
    # the pass-through engine): the utterance fires when it is at or above the threshold
    score: float
    windows: int  # windows scored (0 for the pass-through engine)


def rule_score(scores: np.ndarray, k: int = 1, n: int = 1) -> float:
    """The highest threshold at which the k-of-n rule fires on a stream of window scores: over every
    run of ``n`` consecutive windows, the ``k``-th highest score in the run; the best run counts.
    ``rule_score(s, k, n) >= t`` exactly when some ``n`` consecutive windows hold ``k`` scores
    ``>= t``. A stream shorter than ``n`` is one run (``k`` capped at its length)."""
    if k < 1 or n < k:
        raise ValueError(f"k-of-n needs 1 <= k <= n (k={k}, n={n})")
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.size == 0:
        return 0.0
    n = min(n, s.size)
    k = min(k, n)
    runs = np.lib.stride_tricks.sliding_window_view(s, n)
    return float(np.sort(runs, axis=1)[:, n - k].max())


class WakeDetector:
    """Pass-through engine: every utterance goes on to Whisper (the transcript decides)."""

    engine = "transcript"

    def score(self, audio: np.ndarray) -> float:
        return 1.0

    def detect(self, audio: np.ndarray) -> WakeResult:
        return WakeResult(True, 1.0, 0)

    def warmup(self) -> None:
        """Run the model once (start-up, before READY): what its first inference allocates is
        allocated then, not after the first utterance. Nothing to do for the pass-through engine."""


def default_model_path() -> Path:
    return Path(str(resources.files("bantz_voice") / "data" / "wake" / "bantz.onnx"))


class OnnxWakeDetector(WakeDetector):
    engine = "model"

    def __init__(self, model_path: str | Path | None = None, threshold: float = 0.5, scan_s: float = 1.6,
                 confirm_k: int = 1, confirm_n: int = 1) -> None:
        import onnxruntime as ort

        path = Path(model_path) if model_path else default_model_path()
        if not path.is_file():
            raise FileNotFoundError(f"wake-word model not found: {path}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.model_path = path
        self.threshold = float(threshold)
        self.scan_s = float(scan_s)
        if confirm_k < 1 or confirm_n < confirm_k:
            raise ValueError(f"k-of-n needs 1 <= k <= n (k={confirm_k}, n={confirm_n})")
        self.confirm_k = int(confirm_k)
        self.confirm_n = int(confirm_n)
        self._lock = threading.Lock()

    def scores(self, audio: np.ndarray) -> np.ndarray:
        """Probability per 1 s window (100 ms apart) over the first ``scan_s`` seconds. An utterance
        too short for ``confirm_n`` windows (a bare "Bantz") is padded with silence to that many:
        padding never changes an earlier window's score."""
        head = np.asarray(audio)[: int(features.SAMPLE_RATE * (self.scan_s + features.WINDOW_S))]
        need = features.WINDOW_SAMPLES + (self.confirm_n - 1) * features.STEP_FRAMES * features.HOP
        if 0 < head.size < need:
            head = np.concatenate([head, np.zeros(need - head.size, dtype=head.dtype)])
        frames = features.log_mel_frames(head)
        max_start = int(round(self.scan_s * features.SAMPLE_RATE / features.HOP))
        x = features.windows(frames, max_start=max_start)
        if head.size == 0 or float(np.max(np.abs(features.to_float(head)))) < SILENCE_PEAK:
            return np.zeros(x.shape[0])  # (near-)digital silence: nothing to hear, no model call
        with self._lock:
            logits = self.session.run(None, {self.input_name: x})[0]
        return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64).reshape(-1)))

    def score(self, audio: np.ndarray) -> float:
        """The k-of-n rule's score of the utterance (the threshold decides on it)."""
        return rule_score(self.scores(audio), self.confirm_k, self.confirm_n)

    def warmup(self) -> None:
        """One inference on speech-loud noise as long as the scan (onnxruntime sizes its memory arena
        on the first run: ~9 MB here, kept for the life of the session)."""
        n = int(features.SAMPLE_RATE * (self.scan_s + features.WINDOW_S))
        noise = np.random.default_rng(0).standard_normal(n) * 3000.0
        self.scores(noise.astype(np.int16))

    def detect(self, audio: np.ndarray) -> WakeResult:
        s = self.scores(audio)
        best = rule_score(s, self.confirm_k, self.confirm_n)
        return WakeResult(best >= self.threshold, best, int(s.size))


def build_wake_detector(settings: WakeSettings) -> WakeDetector:
    if settings.engine == "model":
        return OnnxWakeDetector(settings.model_path or None, settings.threshold, settings.scan_s,
                                settings.confirm_k, settings.confirm_n)
    return WakeDetector()
