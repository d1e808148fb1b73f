"""The wake-word data recipe keeps the test honest: the training's hard negatives
(HARD_NEGATIVES_TRAIN) share no word, and no inflection, with the sound-alikes of the tuning split and
the benchmark (SOUND_ALIKES); hard negatives are training data only; without them the training specs
are unchanged (the packaged model's recipe stays reproducible). No audio is rendered here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import wakeword_data as wd  # noqa: E402


def _texts(groups: list[dict]) -> list[str]:
    return [t for g in groups for u in g["utts"] for t in u["parts"]]


def test_hard_negatives_are_disjoint_from_the_held_out_sound_alikes() -> None:
    hard = {w.lower() for w in wd.HARD_NEGATIVES_TRAIN}
    held = {w.lower() for w in wd.SOUND_ALIKES}
    assert len(hard) == len(wd.HARD_NEGATIVES_TRAIN) >= 20
    # neither the same word nor one the other begins with ("pens"/"pense", "mantı"/"mantık")
    clashes = [(h, s) for h in hard for s in held if h.startswith(s) or s.startswith(h)]
    assert clashes == []
    # and never the wake word itself
    assert not hard & {w.lower() for w in wd.WAKE_FORMS} and "banz" not in hard


def test_hard_negatives_only_in_training_and_as_negatives() -> None:
    groups = wd.utterance_specs("train", 20, 20, 10, 7, n_hard=200)
    hard = [u for g in groups for u in g["utts"] if u["parts"][0].split()[0] in wd.HARD_NEGATIVES_TRAIN]
    assert len(hard) >= 200  # (a sentence may begin with one of the words too)
    assert all(u["label"] == 0 and u["name"] is None for u in hard)
    alone = sum(len(u["parts"]) == 1 and u["parts"][0] in wd.HARD_NEGATIVES_TRAIN for u in hard)
    assert 40 <= alone <= 140  # both alone and opening a sentence
    assert {g["variant"] for g in groups} <= set(wd.TRAIN_VARIANTS)
    assert len({g["variant"] for g in groups}) >= 10  # many voices
    for split in ("heldout", "tune"):
        with pytest.raises(ValueError, match="training data only"):
            wd.utterance_specs(split, 5, 5, 5, 1001, n_hard=5)
    # the held-out and tuning specs never hold a training hard negative as a word of its own
    for split, seed in (("heldout", 1001), ("tune", 2002)):
        words = {w.strip(",.?!").lower() for t in _texts(wd.utterance_specs(split, 300, 1200, 300, seed)) for w in t.split()}
        assert not words & {w.lower() for w in wd.HARD_NEGATIVES_TRAIN} - _sentence_words(), split


def _sentence_words() -> set[str]:
    """Words of the held-out sentences themselves (a sentence may use "bazen" or "şans"; that is
    ordinary held-out speech, not a planted hard negative)."""
    return {w.strip(",.?!").lower() for t in wd.sentences("heldout") for w in t.split()}


def test_without_hard_negatives_the_training_specs_are_unchanged() -> None:
    a = wd.utterance_specs("train", 30, 30, 20, 7)
    b = wd.utterance_specs("train", 30, 30, 20, 7, n_hard=0)
    assert a == b
    assert len(_texts(wd.utterance_specs("train", 30, 30, 20, 7, n_hard=25))) == len(_texts(a)) + 25
