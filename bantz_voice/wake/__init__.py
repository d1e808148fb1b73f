"""The wake-word stage in front of Whisper: decides on "Bantz" from audio, before any decode.

``WakeDetector`` is the seam (the daemon asks ``detect`` for each hands-free utterance outside the
follow-up window); ``build_wake_detector`` picks the engine from ``WakeSettings``:

- ``model``: ``OnnxWakeDetector``, a small convolutional keyword model (bantz_voice/data/wake/
  bantz.onnx, trained by scripts/train_wakeword.py) run with onnxruntime over 1 s windows (100 ms
  apart) of the utterance's first ``scan_s`` seconds; fires when at least ``confirm_k`` of some
  ``confirm_n`` consecutive windows score at or above the threshold (:func:`rule_score`). A said
  "Bantz" lies whole inside several overlapping windows, so it scores high in a run of them; an
  isolated spike of one window on other speech does not fire.
  With ``wake.agree`` (further models, each with its own threshold and k-of-n rule),
  ``AgreementWakeDetector`` holds all of them and fires only when every model fires within
  ``wake.agree_within`` windows of the others (:func:`agree`): models trained on different data
  make different false wakes, which then cancel, while a said "Bantz" fires them all.
- ``transcript``: ``WakeDetector`` itself, which passes everything (today's behaviour: Whisper
  transcribes every utterance and the transcript match decides).

Either way the transcript match (daemon/wakeword.py) stays the second stage.

Cost while listening (the daemon asks at every pause of every utterance outside the follow-up
window): a model's scores depend only on the utterance's first ``scan_s`` + 1 s, so each model
keeps the scores of the last such head and answers again without a model call while the utterance
grows past it (a 15 s stretch of background speech pauses dozens of times); the models of an
agreement share the head's log-mel windows (one filterbank for all); and :meth:`WakeDetector.fires`,
the daemon's yes/no, stops at the first model that fires nowhere (the agreement needs them all).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
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
    # the (first) model's rule score (:func:`rule_score`; with k = n = 1 the best window's
    # probability; 1.0 for the pass-through engine): a single model fires when it is at or above
    # its threshold; with several models the agreement rule decides (``scores``: one per model)
    score: float
    windows: int  # windows scored (0 for the pass-through engine)
    scores: tuple[float, ...] = ()


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


def fired_windows(scores: np.ndarray, threshold: float, k: int = 1, n: int = 1) -> np.ndarray:
    """Where the k-of-n rule fires: element ``i`` is True when the ``n`` windows from window ``i``
    on hold ``k`` scores ``>= threshold`` (a stream shorter than ``n`` is one run, at 0). Some
    element is True exactly when ``rule_score(scores, k, n) >= threshold``."""
    if k < 1 or n < k:
        raise ValueError(f"k-of-n needs 1 <= k <= n (k={k}, n={n})")
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.size == 0:
        return np.zeros(0, dtype=bool)
    n = min(n, s.size)
    k = min(k, n)
    runs = np.lib.stride_tricks.sliding_window_view(s, n)
    return np.asarray((runs >= threshold).sum(axis=1) >= k)


def agree(fired: Sequence[np.ndarray], within: int) -> bool:
    """The agreement rule over several models' :func:`fired_windows`: True when some span of
    ``within + 1`` consecutive windows holds a firing window of every model (``within`` 0: the
    same window; 9: windows that overlap, 1 s long and 100 ms apart; 16 or more: anywhere in the
    scan). Every model must fire somewhere; models with streams of other lengths are compared
    window by window from the start (the same audio, the same window grid)."""
    if within < 0:
        raise ValueError(f"within must be >= 0 (got {within})")
    if not fired or any(not np.any(f) for f in fired):
        return False
    length = max(f.size for f in fired)
    ok = np.ones(length, dtype=bool)
    for f in fired:
        g = np.zeros(length + within, dtype=bool)
        g[: f.size] = f
        # span starting at a: some firing window in a … a + within
        spans = np.asarray(np.lib.stride_tricks.sliding_window_view(g, within + 1).any(axis=1))
        ok &= spans[:length]
    return bool(ok.any())


class WakeDetector:
    """Pass-through engine: every utterance goes on to Whisper (the transcript decides)."""

    engine = "transcript"

    def score(self, audio: np.ndarray) -> float:
        return 1.0

    def detect(self, audio: np.ndarray) -> WakeResult:
        return WakeResult(True, 1.0, 0)

    def fires(self, audio: np.ndarray) -> bool:
        """Whether the stage lets the utterance through (``detect(audio).fired``, the daemon's
        question); an engine may answer it with less work than :meth:`detect`, which scores every
        model."""
        return self.detect(audio).fired

    def warmup(self) -> None:
        """Run the model once (start-up, before READY): what its first inference allocates is
        allocated then, not after the first utterance. Nothing to do for the pass-through engine."""

    @property
    def models(self) -> tuple[OnnxWakeDetector, ...]:
        """The keyword models this detector decides with (none for the pass-through engine)."""
        return ()

    def with_thresholds(self, thresholds: Sequence[float]) -> WakeDetector:
        """The same detector with its models' thresholds replaced (one per model, in
        :attr:`models` order; the loaded models are shared, not reloaded)."""
        if len(thresholds) != len(self.models):
            raise ValueError(f"{len(self.models)} thresholds needed, got {len(thresholds)}")
        return self


def default_model_path() -> Path:
    return packaged_model_path("bantz")


def packaged_model_path(name: str) -> Path:
    """``bantz_voice/data/wake/<name>.onnx``."""
    return Path(str(resources.files("bantz_voice") / "data" / "wake" / f"{name}.onnx"))


def resolve_model(model: str | Path | None) -> Path | None:
    """A packaged model's name (``bantz``, ``bantz_v1``) or a path to an ``.onnx`` file; None: the
    packaged default."""
    if model is None or isinstance(model, Path):
        return model
    if "/" in model or model.endswith(".onnx"):
        return Path(model).expanduser()
    return packaged_model_path(model)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))


class _LastInput:
    """The model input (log-mel windows) of the last head seen, one entry: the models of an
    agreement share one, so an utterance's features are computed once for all of them. Exact: a
    hit needs the same samples (dtype included) and the same window layout."""

    def __init__(self) -> None:
        self._last: tuple[tuple[int, int], np.ndarray, np.ndarray] | None = None

    def get(self, key: tuple[int, int], head: np.ndarray) -> np.ndarray | None:
        last = self._last  # one read: another thread may replace it meanwhile
        if last is not None and last[0] == key and _same(last[1], head):
            return last[2]
        return None

    def put(self, key: tuple[int, int], head: np.ndarray, x: np.ndarray) -> None:
        self._last = (key, head, x)


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
        self._inputs = _LastInput()  # shared by the models of an agreement
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # (head, its scores)

    def head(self, audio: np.ndarray) -> np.ndarray:
        """The samples the scores depend on: the first ``scan_s`` + 1 s. An utterance too short
        for ``confirm_n`` windows (a bare "Bantz") is padded with silence to that many: padding
        never changes an earlier window's score."""
        head = np.asarray(audio)[: int(features.SAMPLE_RATE * (self.scan_s + features.WINDOW_S))]
        need = features.WINDOW_SAMPLES + (self.confirm_n - 1) * features.STEP_FRAMES * features.HOP
        if 0 < head.size < need:
            head = np.concatenate([head, np.zeros(need - head.size, dtype=head.dtype)])
        return head

    def scores(self, audio: np.ndarray) -> np.ndarray:
        """Probability per 1 s window (100 ms apart) over the first ``scan_s`` seconds (read-only;
        the same head as the last call answers without a model call)."""
        head = self.head(audio)
        last = self._last
        if last is not None and _same(last[0], head):
            return last[1]
        head = head.copy()  # kept (a view would pin the whole utterance, and it is compared later)
        max_start = int(round(self.scan_s * features.SAMPLE_RATE / features.HOP))
        key = (max_start, head.size)
        x = self._inputs.get(key, head)
        if x is None:
            x = features.windows(features.log_mel_frames(head), max_start=max_start)
            self._inputs.put(key, head, x)
        if head.size == 0 or float(np.max(np.abs(features.to_float(head)))) < SILENCE_PEAK:
            s = np.zeros(x.shape[0])  # (near-)digital silence: nothing to hear, no model call
        else:
            with self._lock:
                logits = self.session.run(None, {self.input_name: x})[0]
            s = 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64).reshape(-1)))
        s.flags.writeable = False
        self._last = (head, s)
        return s

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
        return WakeResult(best >= self.threshold, best, int(s.size), (best,))

    def fired(self, scores: np.ndarray) -> np.ndarray:
        """Where this model's rule fires on its window scores (:func:`fired_windows`)."""
        return fired_windows(scores, self.threshold, self.confirm_k, self.confirm_n)

    @property
    def models(self) -> tuple[OnnxWakeDetector, ...]:
        return (self,)

    def with_thresholds(self, thresholds: Sequence[float]) -> OnnxWakeDetector:
        super().with_thresholds(thresholds)
        other = copy.copy(self)  # shares the session and its lock
        other.threshold = float(thresholds[0])
        return other


class AgreementWakeDetector(WakeDetector):
    """Several keyword models over the same windows; fires only when all of them fire, each at its
    own threshold and k-of-n rule, within ``within`` windows of each other (:func:`agree`)."""

    engine = "model"

    def __init__(self, members: Sequence[OnnxWakeDetector], within: int) -> None:
        if len(members) < 2:
            raise ValueError("an agreement needs at least two models")
        if within < 0:
            raise ValueError(f"within must be >= 0 (got {within})")
        self.members = tuple(members)
        self.within = int(within)
        shared = _LastInput()
        for m in self.members:
            m._inputs = shared  # the head's log-mel windows are computed once for every model

    @property
    def models(self) -> tuple[OnnxWakeDetector, ...]:
        return self.members

    def with_thresholds(self, thresholds: Sequence[float]) -> AgreementWakeDetector:
        super().with_thresholds(thresholds)
        return AgreementWakeDetector([m.with_thresholds([t]) for m, t in zip(self.members, thresholds, strict=True)],
                                     self.within)

    def detect(self, audio: np.ndarray) -> WakeResult:
        streams = [m.scores(audio) for m in self.members]
        fired = agree([m.fired(s) for m, s in zip(self.members, streams, strict=True)], self.within)
        per_model = tuple(rule_score(s, m.confirm_k, m.confirm_n) for m, s in zip(self.members, streams, strict=True))
        return WakeResult(fired, per_model[0], int(streams[0].size), per_model)

    def fires(self, audio: np.ndarray) -> bool:
        """``detect(audio).fired``, model by model in order: the first model that fires in no
        window decides (the agreement needs every model), and the models after it are not run."""
        fired = []
        for m in self.members:
            f = m.fired(m.scores(audio))
            if not f.any():
                return False
            fired.append(f)
        return agree(fired, self.within)

    def score(self, audio: np.ndarray) -> float:
        """The first model's rule score (the agreement itself is a yes/no: :meth:`detect`)."""
        return self.members[0].score(audio)

    def warmup(self) -> None:
        for m in self.members:
            m.warmup()


def build_wake_detector(settings: WakeSettings) -> WakeDetector:
    if settings.engine != "model":
        return WakeDetector()
    first = OnnxWakeDetector(settings.model_path or None, settings.threshold, settings.scan_s,
                             settings.confirm_k, settings.confirm_n)
    if not settings.agree:
        return first
    others = [OnnxWakeDetector(resolve_model(m.model), m.threshold, settings.scan_s, m.confirm_k, m.confirm_n)
              for m in settings.agree]
    return AgreementWakeDetector([first, *others], settings.agree_within)
