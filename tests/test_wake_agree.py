"""The wake-word stage's agreement rule (bantz_voice.wake.agree / AgreementWakeDetector): with
several models the stage fires only when every model fires, each at its own threshold, within
``agree_within`` windows of the others; one model firing alone is rejected. Held on deterministic
score streams and on the real packaged models over synthesised speech (thresholds derived from the
models' own scores, never hard-coded ones); ``wake enroll`` adapts every model's threshold."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from bantz_voice.config import WakeModelSettings, WakeSettings, load_settings
from bantz_voice.wake import (
    AgreementWakeDetector,
    OnnxWakeDetector,
    WakeDetector,
    agree,
    build_wake_detector,
    default_model_path,
    fired_windows,
    packaged_model_path,
    rule_score,
)

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import wakeword_data as wd  # noqa: E402

needs_espeak = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")), reason="espeak-ng/sox")
TEST_SEED = 4343  # neither the training (7, 8), the tuning (2002) nor the benchmark (1001) seed
LOW, HIGH = 0.05, 0.95
SECOND = "bantz_v1"  # the packaged second model (the first model, trained without hard negatives)


def stream(*high_at: int, length: int = 17) -> np.ndarray:
    s = np.full(length, LOW)
    s[list(high_at)] = HIGH
    return s


def both(a: np.ndarray, b: np.ndarray, within: int, ta: float = 0.5, tb: float = 0.5) -> bool:
    return agree([fired_windows(a, ta), fired_windows(b, tb)], within)


# --- the rule on score streams ----------------------------------------------------------------
def test_fires_only_when_every_model_fires() -> None:
    assert both(stream(5), stream(5), 0)
    assert not both(stream(5), stream(), 16)  # only A fires: rejected even with any alignment
    assert not both(stream(), stream(5), 16)  # only B
    assert not both(stream(), stream(), 16)
    assert not agree([], 3)


def test_disjoint_false_wakes_cancel_by_alignment() -> None:
    # A fires early in the scan, B late: a spread of 9 windows
    a, b = stream(2), stream(11)
    assert not both(a, b, 0)
    assert not both(a, b, 8)
    assert both(a, b, 9)  # overlapping 1 s windows (100 ms apart) still count as "the same place"
    assert both(a, b, 16)
    assert both(stream(4), stream(5), 1) and not both(stream(4), stream(6), 1)


def test_each_model_at_its_own_threshold() -> None:
    a = np.full(17, 0.1)
    b = np.full(17, 0.1)
    a[6], b[6] = 0.45, 0.6
    assert both(a, b, 0, ta=0.41, tb=0.5)
    assert not both(a, b, 0, ta=0.5, tb=0.5)  # A under its threshold
    assert not both(a, b, 0, ta=0.41, tb=0.7)  # B under its threshold


def test_three_models_must_share_one_span() -> None:
    f = [fired_windows(stream(i), 0.5) for i in (3, 5, 8)]
    assert not agree(f, 4)  # 3 and 8 are five windows apart
    assert agree(f, 5)


def test_fired_windows_matches_rule_score() -> None:
    rng = np.random.default_rng(11)
    for _ in range(300):
        s = rng.random(int(rng.integers(1, 18)))
        n = int(rng.integers(1, 6))
        k = int(rng.integers(1, n + 1))
        t = float(rng.random())
        assert bool(fired_windows(s, t, k, n).any()) == (rule_score(s, k, n) >= t)


def test_streams_of_other_lengths_compare_from_the_start() -> None:
    assert agree([fired_windows(stream(2, length=5), 0.5), fired_windows(stream(3, length=17), 0.5)], 1)
    assert not agree([fired_windows(stream(2, length=5), 0.5), fired_windows(stream(12, length=17), 0.5)], 3)


class FixedScores(OnnxWakeDetector):
    """A packaged model whose window scores are replaced by a fixed stream (the rule is tested,
    not the network)."""

    def __init__(self, fixed: np.ndarray, threshold: float) -> None:
        super().__init__(None, threshold)
        self.fixed = fixed

    def scores(self, audio: np.ndarray) -> np.ndarray:
        return self.fixed


def test_agreement_detector_rejects_one_model_and_accepts_both() -> None:
    audio = np.zeros(16000, np.int16)
    only_a = AgreementWakeDetector([FixedScores(stream(4), 0.41), FixedScores(stream(), 0.5)], 2)
    r = only_a.detect(audio)
    assert not r.fired and r.scores == (HIGH, LOW)
    assert only_a.models[0].detect(audio).fired  # the first model alone would have woken
    assert AgreementWakeDetector([FixedScores(stream(4), 0.41), FixedScores(stream(6), 0.5)], 2).detect(audio).fired
    assert not AgreementWakeDetector([FixedScores(stream(4), 0.41), FixedScores(stream(7), 0.5)], 2).detect(audio).fired
    with pytest.raises(ValueError):
        AgreementWakeDetector([FixedScores(stream(4), 0.41)], 2)


# --- configuration --------------------------------------------------------------------------
def test_settings_build_the_agreement_or_one_model() -> None:
    one = build_wake_detector(WakeSettings(agree=[]))
    assert isinstance(one, OnnxWakeDetector) and one.models == (one,)
    two = build_wake_detector(WakeSettings(threshold=0.4, agree=[WakeModelSettings(model=SECOND, threshold=0.6)],
                                           agree_within=3))
    assert isinstance(two, AgreementWakeDetector)
    assert [m.threshold for m in two.models] == [0.4, 0.6]
    assert two.models[0].model_path == default_model_path()
    assert two.models[1].model_path == packaged_model_path(SECOND)
    assert two.within == 3
    assert build_wake_detector(WakeSettings(engine="transcript")).models == ()
    with pytest.raises(FileNotFoundError):
        build_wake_detector(WakeSettings(agree=[WakeModelSettings(model="no_such_model")]))


def test_packaged_second_model_is_small() -> None:
    p = packaged_model_path(SECOND)
    assert p.is_file() and p.stat().st_size < 250 * 1024
    assert p.read_bytes() != default_model_path().read_bytes()  # a different model, not a copy


def test_with_thresholds_keeps_the_sessions() -> None:
    det = build_wake_detector(WakeSettings(agree=[WakeModelSettings(model=SECOND, threshold=0.6)]))
    other = det.with_thresholds([0.3, 0.35])
    assert [m.threshold for m in other.models] == [0.3, 0.35]
    assert [m.threshold for m in det.models][1] == 0.6  # the original is unchanged
    assert all(a.session is b.session for a, b in zip(det.models, other.models, strict=True))
    with pytest.raises(ValueError):
        det.with_thresholds([0.3])
    assert WakeDetector().with_thresholds([]).models == ()


# --- real models, synthesised speech --------------------------------------------------------
def _int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1, 1) * 32767).astype(np.int16)


@pytest.fixture(scope="module")
def names() -> list[np.ndarray]:
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("espeak-ng/sox")
    specs = wd.utterance_specs("heldout", 8, 0, 0, TEST_SEED)
    return [_int16(c.audio) for c in wd.synthesise(specs, TEST_SEED, augment=False) if c.label]


@needs_espeak
def test_real_models_agree_on_a_said_name_and_not_when_one_is_deaf(names: list[np.ndarray]) -> None:
    a = OnnxWakeDetector(None, 0.41)
    b = OnnxWakeDetector(packaged_model_path(SECOND), 0.5)
    heard = [x for x in names if a.detect(x).fired and b.detect(x).fired]
    assert len(heard) >= len(names) // 2  # both packaged models hear most synthesised "Bantz, …"
    x = min(heard, key=b.score)  # the utterance B hears least surely
    assert AgreementWakeDetector([a, b], 16).detect(x).fired
    # B's threshold just above its own best window on this utterance: only A fires -> rejected
    deaf_b = OnnxWakeDetector(packaged_model_path(SECOND), above(b.score(x)))
    assert a.detect(x).fired and not deaf_b.detect(x).fired
    assert not AgreementWakeDetector([a, deaf_b], 16).detect(x).fired
    deaf_a = OnnxWakeDetector(None, above(a.score(x)))
    assert b.detect(x).fired and not deaf_a.detect(x).fired
    assert not AgreementWakeDetector([deaf_a, b], 16).detect(x).fired


def above(score: float) -> float:
    """A threshold just above ``score`` (above 1 when the model is certain)."""
    return (score + 1.0) / 2 if score < 1.0 else 1.5


@needs_espeak
def test_enroll_adapts_every_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the agreement rule configured, enroll scores the recordings with each model and
    writes each model's threshold (wake.threshold and wake.agree[i].threshold); the user's other
    settings and the agreement's models stay; the recordings then fire the whole detector."""
    from bantz_voice.cli import main

    cfg = tmp_path / "cfg"
    monkeypatch.setenv("BANTZ_CONFIG_DIR", str(cfg))
    cfg.mkdir()
    (cfg / "bantz.yaml").write_text("daemon:\n  follow_up_s: 5.0\nwake:\n  agree_within: 4\n  agree:\n"
                                    f"  - model: {SECOND}\n    threshold: 0.9\n")
    groups = [{"variant": "m6", "wpm": 150, "pitch": 40, "utts": [{"parts": ["Bantz"], "name": 0, "label": 1}] * 3}]
    clips = wd.synthesise(groups, TEST_SEED, augment=False)
    files = []
    for i, c in enumerate(clips):
        p = tmp_path / f"r{i}.wav"
        import wave

        with wave.open(str(p), "wb") as wf:
            wf.setnchannels(1)
            wf.setsampwidth(2)
            wf.setframerate(16000)
            wf.writeframes(np.concatenate([np.zeros(32000, np.int16), _int16(c.audio)]).tobytes())
        files.append(str(p))
    before = build_wake_detector(load_settings().wake)
    assert isinstance(before, AgreementWakeDetector)
    assert main(["wake", "enroll", *files, "--write"]) == 0
    s = load_settings()
    assert s.daemon.follow_up_s == 5.0 and s.wake.agree_within == 4
    assert [m.model for m in s.wake.agree] == [SECOND]
    assert 0.2 <= s.wake.agree[0].threshold <= 0.9
    # each threshold is at most MARGIN x that model's weakest recording (or the floor)
    from bantz_voice.wake.enroll import MARGIN, MIN_THRESHOLD, speech_from_onset

    det = build_wake_detector(s.wake)
    from bantz_voice.audio.wavio import read_wav

    recs = [speech_from_onset(read_wav(Path(f))) for f in files]
    for m, before_m in zip(det.models, before.models, strict=True):
        weakest = min(before_m.score(x) for x in recs)
        assert m.threshold == pytest.approx(max(MIN_THRESHOLD, min(before_m.threshold, MARGIN * weakest)), abs=1e-3)
    assert all(det.detect(_int16(c.audio)).fired for c in clips)


def test_agreement_tuner_cancels_disjoint_false_wakes(tmp_path: Path) -> None:
    """scripts/tune_agreement.py on a synthetic two-model score file: the names score high in both
    models at the same windows; each model has false wakes on utterances the other scores low.
    The tuner must keep every name and reject every false wake (each model alone wakes on its own)."""
    import json

    import tune_agreement

    rng = np.random.default_rng(5)
    n_pos, n_neg = 40, 120
    by_model = np.full((2, n_pos + n_neg, 17), -1.0)
    by_model[:, :, :12] = rng.uniform(0.0, 0.15, (2, n_pos + n_neg, 12))
    for i in range(n_pos):  # a name: both models high in the same run of windows
        at = int(rng.integers(0, 8))
        by_model[:, i, at: at + 4] = rng.uniform(0.7, 1.0, (2, 4))
    for j in range(n_neg // 4):  # A's false wakes, then B's, on different utterances
        by_model[0, n_pos + j, 5] = 0.9
        by_model[1, n_pos + n_neg // 4 + j, 2] = 0.95
    labels = np.array([1] * n_pos + [0] * n_neg)
    f = tmp_path / "tune.npz"
    np.savez(f, scores=by_model[0], windows=np.full(n_pos + n_neg, 12), levels=np.zeros((n_pos + n_neg, 17)),
             labels=labels, sets=np.array(["clean_pos"] * n_pos + ["clean_neg"] * n_neg),
             seconds=np.full(n_pos + n_neg, 2.0), split="tune", seed=1, model="a.onnx",
             models=np.array(["a.onnx", "b.onnx"]), scores_by_model=by_model)
    out = tmp_path / "out.json"
    assert tune_agreement.main([str(f), "--min-recall", "1.0", "--single", "0.5,0.5", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["single"]["A"]["false_wakes"] == n_neg // 4 and r["single"]["B"]["false_wakes"] == n_neg // 4
    assert r["chosen"]["recall"] == 1.0 and r["chosen"]["false_wakes"] == 0
    ta, tb, within = r["chosen"]["threshold_a"], r["chosen"]["threshold_b"], r["chosen"]["within"]
    # the chosen rule, applied by the runtime's functions, gives the same counts
    fires = [agree([fired_windows(by_model[0, i, :12], ta), fired_windows(by_model[1, i, :12], tb)], within)
             for i in range(n_pos + n_neg)]
    assert all(fires[:n_pos]) and not any(fires[n_pos:])
