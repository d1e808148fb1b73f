"""What the wake-word stage costs while the daemon listens (bantz_voice/wake): it is asked at every
pause of every utterance, so

- a model's scores are a function of the utterance's head (first ``scan_s`` + 1 s) and the same
  head answers again without a model call (an utterance growing past its head, the endpoint after
  the last pause), and only an identical head does (another head, another dtype: computed);
- the models of an agreement share the head's log-mel windows (one filterbank for all);
- ``fires`` (the daemon's yes/no) equals ``detect(...).fired`` and stops at the first model that
  fires nowhere.

Counted with the real packaged models (onnxruntime) and with fixed score streams; nothing is timed."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bantz_voice.config import WakeSettings
from bantz_voice.wake import AgreementWakeDetector, OnnxWakeDetector, build_wake_detector, features

LOW, HIGH = 0.05, 0.95


class Counting:
    """Wraps an onnxruntime session and counts its runs."""

    def __init__(self, session: object) -> None:
        self.session = session
        self.runs = 0

    def run(self, *args: object, **kwargs: object) -> object:
        self.runs += 1
        return self.session.run(*args, **kwargs)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.session, name)


def _counted(det: object, monkeypatch: pytest.MonkeyPatch) -> list[Counting]:
    out = []
    for m in det.models:  # type: ignore[attr-defined]
        c = Counting(m.session)
        monkeypatch.setattr(m, "session", c)
        out.append(c)
    return out


def _speechlike(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * features.SAMPLE_RATE)) / features.SAMPLE_RATE
    x = 0.3 * np.sin(2 * np.pi * 150 * t) * (1 + 0.8 * np.sin(2 * np.pi * 3 * t)) + 0.05 * rng.standard_normal(t.size)
    return (np.clip(x, -1, 1) * 32767).astype(np.int16)


def test_a_growing_utterance_is_scored_once_its_head_is_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    det = build_wake_detector(WakeSettings(agree=[]))
    assert isinstance(det, OnnxWakeDetector)
    (runs,) = _counted(det, monkeypatch)
    audio = _speechlike(8.0, 1)
    head = int(features.SAMPLE_RATE * (det.scan_s + features.WINDOW_S))
    fresh = build_wake_detector(WakeSettings(agree=[]))
    expected = fresh.scores(audio)
    # the pauses of one long utterance: the audio so far, longer each time, all past the head
    for end in range(head, audio.size + 1, 4000):
        s = det.scores(audio[:end])
        assert np.array_equal(s, expected)
    assert runs.runs == 1
    # the endpoint's audio (the same samples as the last pause) decides without a model call
    assert det.detect(audio).fired == fresh.detect(audio).fired and runs.runs == 1
    # while the head still grows, every pause is a new head: scored again
    det.scores(audio[: head // 2])
    det.scores(audio[: head // 2 + 480])
    assert runs.runs == 3
    with pytest.raises(ValueError):
        s[0] = 1.0  # the kept scores cannot be changed by a caller


def test_only_an_identical_head_is_taken_from_the_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    det = build_wake_detector(WakeSettings(agree=[]))
    (runs,) = _counted(det, monkeypatch)
    a = _speechlike(3.0, 2)
    det.scores(a)
    b = a.copy()
    b[100] += 1  # one sample differs
    det.scores(b)
    assert runs.runs == 2
    as_float = a.astype(np.float32)  # equal numbers, another dtype (and another scale: int16 vs -1..1)
    det.scores(as_float)
    assert runs.runs == 3
    det.scores(a)  # the memo holds the last head only
    assert runs.runs == 4


def test_agreement_models_share_the_features(monkeypatch: pytest.MonkeyPatch) -> None:
    det = build_wake_detector(WakeSettings())  # the default: an agreement of the packaged models
    assert isinstance(det, AgreementWakeDetector) and len(det.models) >= 2
    runs = _counted(det, monkeypatch)
    calls = []
    real = features.log_mel_frames

    def counting(audio: np.ndarray) -> np.ndarray:
        calls.append(audio.size)
        return real(audio)

    monkeypatch.setattr(features, "log_mel_frames", counting)
    audio = _speechlike(4.0, 3)
    r = det.detect(audio)
    assert len(calls) == 1 and [c.runs for c in runs] == [1] * len(runs)  # one filterbank, each model once
    # and the scores are each model's own, as a detector of that model alone computes them
    for m, s in zip(det.models, r.scores, strict=True):
        alone = OnnxWakeDetector(m.model_path, m.threshold, m.scan_s, m.confirm_k, m.confirm_n)
        assert s == pytest.approx(alone.score(audio), abs=1e-6)


class FixedScores(OnnxWakeDetector):
    """A packaged model whose window scores are a fixed stream; counts the calls."""

    def __init__(self, fixed: np.ndarray, threshold: float = 0.5) -> None:
        super().__init__(None, threshold)
        self.fixed = fixed
        self.calls = 0

    def scores(self, audio: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.fixed


def _stream(*high_at: int, length: int = 17) -> np.ndarray:
    s = np.full(length, LOW)
    s[list(high_at)] = HIGH
    return s


def test_fires_stops_at_the_first_model_that_fires_nowhere() -> None:
    audio = np.zeros(16000, np.int16)
    first, second = FixedScores(_stream()), FixedScores(_stream(5))
    det = AgreementWakeDetector([first, second], 0)
    assert not det.fires(audio)
    assert (first.calls, second.calls) == (1, 0)  # the second model is not run
    assert det.detect(audio).scores == (LOW, HIGH)  # detect still scores every model
    first.fixed = _stream(5)
    assert det.fires(audio) and second.calls == 2


def test_fires_is_detect_fired() -> None:
    # every combination of two models' streams (firing early, late, nowhere) and alignments
    streams = [_stream(), _stream(2), _stream(3), _stream(12), _stream(2, 12)]
    audio = np.zeros(16000, np.int16)
    for a, b in itertools.product(streams, repeat=2):
        for within in (0, 1, 9, 16):
            det = AgreementWakeDetector([FixedScores(a), FixedScores(b)], within)
            assert det.fires(audio) == det.detect(audio).fired, (a, b, within)
    one = FixedScores(_stream(4), 0.5)
    assert one.fires(audio) and not FixedScores(_stream(), 0.5).fires(audio)


def test_new_thresholds_decide_on_the_kept_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    det = build_wake_detector(WakeSettings(agree=[]))
    assert isinstance(det, OnnxWakeDetector)
    (runs,) = _counted(det, monkeypatch)
    audio = _speechlike(3.0, 4)
    best = det.score(audio)
    assert 0 < best < 1
    strict = det.with_thresholds([(best + 1) / 2])  # above the best window
    lax = det.with_thresholds([best / 2])
    assert not strict.fires(audio) and lax.fires(audio)
    assert runs.runs == 1  # the copies share the session; the scores do not depend on a threshold
