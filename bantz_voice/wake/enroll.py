"""``bantz-voice wake enroll``: fit the wake-word stage to the user's own voice from a few recordings.

The packaged model stays as it is (no training at run time, no torch); what adapts is the
threshold: each recording of "Bantz" (or "Bantz, …") is scored, and the threshold is lowered to
``MARGIN`` times the weakest recording's score when that is below the current one, never below
``MIN_THRESHOLD`` (lower thresholds wake on more of the room's speech; the transcript stage still
filters those, at the price of a Whisper decode each).

With the agreement rule (``wake.agree``: several models must all fire) every model's threshold
is adapted the same way, each from its own scores of the same recordings: the agreement fires on
the user's "Bantz" only when every model does. A recording is ``weak`` when the whole detector,
at the new thresholds, still does not fire on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bantz_voice.errors import BantzError
from bantz_voice.wake import WakeDetector
from bantz_voice.wake.features import SAMPLE_RATE

MIN_RECORDINGS = 3
MARGIN = 0.8
MIN_THRESHOLD = 0.2


@dataclass
class ModelEnrollment:
    model: Path
    scores: list[float]  # one per recording (the model's k-of-n rule score)
    old_threshold: float
    threshold: float


@dataclass
class Enrollment:
    models: list[ModelEnrollment]  # the detector's models in order: wake.model_path first, then wake.agree
    weak: list[int]  # recordings the detector still does not fire on at the new thresholds

    @property
    def scores(self) -> list[float]:
        return self.models[0].scores

    @property
    def old_threshold(self) -> float:
        return self.models[0].old_threshold

    @property
    def threshold(self) -> float:
        return self.models[0].threshold


def speech_from_onset(audio: np.ndarray, lead_s: float = 0.25) -> np.ndarray:
    """The recording from ``lead_s`` before its first loud 10 ms frame (as the endpointer's
    pre-roll would hand it over), so leading silence does not push the name out of the scan."""
    x = audio.astype(np.float32)
    hop = SAMPLE_RATE // 100
    n = x.size // hop
    if n == 0:
        return audio
    rms = np.sqrt((x[: n * hop].reshape(n, hop) ** 2).mean(axis=1))
    loud = np.nonzero(rms > rms.max() * 0.1)[0]
    start = max(0, int(loud[0]) * hop - int(lead_s * SAMPLE_RATE)) if loud.size else 0
    return audio[start:]


def enroll(recordings: list[np.ndarray], detector: WakeDetector) -> Enrollment:
    if len(recordings) < MIN_RECORDINGS:
        raise BantzError(f"en az {MIN_RECORDINGS} kayıt gerekli (\"Bantz\" deyin, her biri ayrı dosya)")
    if not detector.models:
        raise BantzError("uyandırma modeli yok (wake.engine: transcript); ayarlanacak eşik yok")
    heard = [speech_from_onset(r) for r in recordings]
    models: list[ModelEnrollment] = []
    for m in detector.models:
        scores = [m.score(x) for x in heard]
        proposed = min(m.threshold, MARGIN * min(scores))
        models.append(ModelEnrollment(m.model_path, scores, m.threshold, round(max(MIN_THRESHOLD, proposed), 3)))
    fitted = detector.with_thresholds([e.threshold for e in models])
    weak = [i for i, x in enumerate(heard) if not fitted.detect(x).fired]
    return Enrollment(models, weak)


def write_threshold(config_file: Path, threshold: float, agree: list[dict[str, Any]] | None = None) -> None:
    """Set ``wake.threshold`` in the user's bantz.yaml, keeping every other setting in it; with
    ``agree`` (the agreement's further models, thresholds adapted) ``wake.agree`` too."""
    data: dict[str, Any] = {}
    if config_file.is_file():
        loaded = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise BantzError(f"{config_file}: ayar dosyası bir eşleme değil; değiştirilmedi")
        data = loaded
    old = data.get("wake")
    wake: dict[str, Any] = old if isinstance(old, dict) else {}
    wake["threshold"] = float(threshold)
    if agree is not None:
        wake["agree"] = agree
    data["wake"] = wake
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
