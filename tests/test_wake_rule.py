"""The wake-word stage's k-of-n rule (bantz_voice.wake.rule_score / OnnxWakeDetector.detect) on
synthetic score streams: it fires on k high windows among n consecutive ones and not on isolated
spikes; short utterances are padded so a bare "Bantz" still has n windows to be judged on."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from bantz_voice.config import WakeSettings
from bantz_voice.wake import OnnxWakeDetector, build_wake_detector, rule_score
from bantz_voice.wake import features as F

LOW, HIGH, THR = 0.05, 0.95, 0.5


def stream(*high_at: int, length: int = 17) -> np.ndarray:
    s = np.full(length, LOW)
    s[list(high_at)] = HIGH
    return s


def fires(s: np.ndarray, k: int, n: int) -> bool:
    return rule_score(s, k, n) >= THR


def test_one_of_one_is_the_best_window() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        s = rng.random(17)
        assert rule_score(s, 1, 1) == pytest.approx(float(s.max()))


def test_fires_on_k_consecutive_high_windows() -> None:
    assert fires(stream(5, 6), 2, 2)
    assert fires(stream(5, 6, 7), 3, 3)
    assert fires(stream(0, 1, 2), 3, 3)  # at the start of the scan
    assert fires(stream(14, 15, 16), 3, 3)  # at its end


def test_isolated_spikes_do_not_fire() -> None:
    assert fires(stream(4), 1, 1)  # the old rule wakes on one window
    assert not fires(stream(4), 2, 3)
    assert not fires(stream(2, 6, 10, 14), 2, 3)  # many spikes, never two within three windows
    assert not fires(stream(5, 6), 3, 3)  # two in a row are not three


def test_k_of_n_allows_a_gap_within_n() -> None:
    assert fires(stream(5, 7), 2, 3)  # one low window between two high ones
    assert not fires(stream(5, 8), 2, 3)  # the two high ones are four windows apart
    assert fires(stream(5, 8), 2, 4)


def test_threshold_crossing_is_exact() -> None:
    s = np.array([0.1, 0.62, 0.71, 0.2, 0.9])
    # 2 of 2: the best run is (0.62, 0.71); its second-highest score is the rule's score
    assert rule_score(s, 2, 2) == pytest.approx(0.62)
    assert rule_score(s, 2, 3) == pytest.approx(0.71)  # (0.71, 0.2, 0.9)
    assert rule_score(s, 3, 5) == pytest.approx(0.62)


def test_short_stream_and_bad_rules() -> None:
    assert rule_score(np.array([0.8]), 3, 4) == pytest.approx(0.8)  # one window: one run
    assert rule_score(np.array([]), 2, 3) == 0.0
    with pytest.raises(ValueError, match="k-of-n"):
        rule_score(stream(1), 3, 2)
    with pytest.raises(ValidationError, match="confirm_k"):
        WakeSettings(confirm_k=3, confirm_n=2)


class FixedStream(OnnxWakeDetector):
    """The real detector's decision on a given score stream (the model is the seam replaced)."""

    def __init__(self, s: np.ndarray, k: int, n: int) -> None:
        super().__init__(threshold=THR, confirm_k=k, confirm_n=n)
        self.stream = s

    def scores(self, audio: np.ndarray) -> np.ndarray:
        return self.stream


def test_detector_applies_the_rule() -> None:
    audio = np.zeros(16000 * 3, np.int16)
    assert FixedStream(stream(3), 1, 1).detect(audio).fired
    spike = FixedStream(stream(3), 2, 3).detect(audio)
    assert not spike.fired and spike.score == pytest.approx(LOW) and spike.windows == 17
    assert FixedStream(stream(3, 4), 2, 3).detect(audio).fired


def test_short_utterance_padded_to_n_windows_without_changing_earlier_ones() -> None:
    rng = np.random.default_rng(11)
    t = np.arange(int(0.6 * F.SAMPLE_RATE)) / F.SAMPLE_RATE
    voiced = (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 4 * t))
              + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
    one = build_wake_detector(WakeSettings(confirm_k=1, confirm_n=1, agree=[]))
    three = build_wake_detector(WakeSettings(confirm_k=2, confirm_n=3, agree=[]))
    assert isinstance(one, OnnxWakeDetector) and isinstance(three, OnnxWakeDetector)
    assert three.confirm_k == 2 and three.confirm_n == 3
    s1, s3 = one.scores(voiced), three.scores(voiced)
    assert s1.size == 1 and s3.size == 3  # a 0.6 s "Bantz" gets three windows to be judged on
    assert s3[0] == pytest.approx(s1[0], abs=1e-5)
    longer = np.concatenate([voiced, rng.standard_normal(F.SAMPLE_RATE).astype(np.float32) * 0.1])
    assert three.scores(longer).size == one.scores(longer).size  # long enough: no padding


def test_tuner_keeps_recall_and_drops_isolated_spikes(tmp_path, capsys) -> None:
    # scripts/tune_wakeword.py on a synthetic score file: the names score high in a run of windows,
    # the other speech in isolated single-window spikes; the tuner must pick a rule that keeps every
    # name and rejects every spike (the old 1-of-1 rule wakes on all of them)
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    import tune_wakeword

    rng = np.random.default_rng(5)
    rows, labels = [], []
    for i in range(40):
        run = int(rng.integers(0, 12))
        rows.append(stream(run, run + 1, run + 2))
        labels.append(1)
        rows.append(stream(int(rng.integers(0, 17))) if i % 2 else stream(2, 9))
        labels.append(0)
    n = len(rows)
    f = tmp_path / "tune.npz"
    np.savez(f, scores=np.array(rows), windows=np.full(n, 17), levels=np.zeros((n, 17)), labels=np.array(labels),
             sets=np.array(["clean_pos" if y else "clean_neg" for y in labels]), seconds=np.full(n, 3.0),
             split="tune", seed=0)
    out = tmp_path / "choice.json"
    assert tune_wakeword.main([str(f), "--levels", "none", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["baseline"] == {"recall": 1.0, "false_wakes": 40}
    chosen = result["chosen"]
    assert chosen["recall"] == 1.0 and chosen["false_wakes"] == 0 and chosen["k"] >= 2
    # what it chose fires on the names and not on the spikes when the runtime applies it
    assert all((rule_score(r, chosen["k"], chosen["n"]) >= chosen["threshold"]) == bool(y)
               for r, y in zip(rows, labels, strict=True))
    assert "chosen" in capsys.readouterr().out


def test_tuner_recall_floor_and_one_model_per_split(tmp_path) -> None:
    # --min-recall replaces the baseline's recall as the floor: with one name heard in a single
    # window only (as the foreign Piper voice's often is), the baseline (1 of 1) keeps it and every
    # spike; a floor of 95 % lets the tuner give that name up for a rule that drops the spikes
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    import tune_wakeword

    rows = [stream(i % 12, i % 12 + 1, i % 12 + 2) for i in range(39)] + [stream(4)]
    rows += [stream(i % 17) for i in range(40)]
    labels = [1] * 40 + [0] * 40
    n = len(rows)

    def save(name: str, model: str) -> Path:
        f = tmp_path / name
        np.savez(f, scores=np.array(rows), windows=np.full(n, 17), levels=np.zeros((n, 17)), labels=np.array(labels),
                 sets=np.array(["clean_pos" if y else "clean_neg" for y in labels]), seconds=np.full(n, 3.0),
                 split="tune", seed=0, model=model)
        return f

    a = save("a.npz", "/models/a.onnx")
    out = tmp_path / "choice.json"
    assert tune_wakeword.main([str(a), "--levels", "none", "--json", str(out)]) == 0
    strict = json.loads(out.read_text())["chosen"]
    assert strict["recall"] == 1.0 and strict["false_wakes"] == 40  # nothing beats 1 of 1 at full recall
    assert tune_wakeword.main([str(a), "--levels", "none", "--min-recall", "0.95", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["min_recall"] == 0.95
    chosen = result["chosen"]
    assert chosen["recall"] == 39 / 40 and chosen["false_wakes"] == 0 and chosen["k"] >= 2
    assert chosen["per_set"]["clean_pos"] == {"utterances": 40, "fired": 39, "fired_baseline": 40}
    # scores from two different models are never joined into one split
    b = save("b.npz", "/models/b.onnx")
    with pytest.raises(SystemExit, match="different models"):
        tune_wakeword.main([str(a), str(b)])
