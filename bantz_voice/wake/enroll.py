"""``bantz-voice wake enroll``: fit the wake-word stage to the user's own voice from a few recordings.

The packaged model stays as it is (no training at run time, no torch); what adapts is the
threshold: each recording of "Bantz" (or "Bantz, …") is scored, and the threshold is lowered to
``MARGIN`` times the weakest recording's score when that is below the current one, never below
``MIN_THRESHOLD`` (lower thresholds wake on more of the room's speech; the transcript stage still
filters those, at the price of a Whisper decode each).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bantz_voice.errors import BantzError
from bantz_voice.wake import OnnxWakeDetector
from bantz_voice.wake.features import SAMPLE_RATE

MIN_RECORDINGS = 3
MARGIN = 0.8
MIN_THRESHOLD = 0.2


@dataclass
class Enrollment:
    scores: list[float]
    old_threshold: float
    threshold: float
    weak: list[int]  # recordings the model hardly hears even at MIN_THRESHOLD


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


def enroll(recordings: list[np.ndarray], detector: OnnxWakeDetector) -> Enrollment:
    if len(recordings) < MIN_RECORDINGS:
        raise BantzError(f"en az {MIN_RECORDINGS} kayıt gerekli (\"Bantz\" deyin, her biri ayrı dosya)")
    scores = [detector.score(speech_from_onset(r)) for r in recordings]
    old = detector.threshold
    proposed = min(old, MARGIN * min(scores))
    threshold = round(max(MIN_THRESHOLD, proposed), 3)
    weak = [i for i, s in enumerate(scores) if s < threshold]
    return Enrollment(scores, old, threshold, weak)


def write_threshold(config_file: Path, threshold: float) -> None:
    """Set ``wake.threshold`` in the user's bantz.yaml, keeping every other setting in it."""
    data: dict[str, Any] = {}
    if config_file.is_file():
        loaded = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise BantzError(f"{config_file}: ayar dosyası bir eşleme değil; değiştirilmedi")
        data = loaded
    old = data.get("wake")
    wake: dict[str, Any] = old if isinstance(old, dict) else {}
    wake["threshold"] = float(threshold)
    data["wake"] = wake
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
