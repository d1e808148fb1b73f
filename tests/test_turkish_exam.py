"""The public Turkish TTS normalization exam (PyPI ``turkce-tts-sinav``), scored per group the way
``scripts/bench_normalize.py`` scores it. The floors are what the normalizer reaches today, so a
regression in any group fails; raise them when it gets better.

The 7 cases it misses on purpose (docs/benchmarks.md): phone numbers are read in Turkish digit
groups ("sıfır iki yüz on iki, beş yüz elli beş, …"), not digit by digit (2 cases); "15/03" is a
date ("on beş Mart"); "Bkz." is read "bakınız"; "api" in a host name is not given English letter
names; UTM zone numbers are not read as ordinals (2 cases)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import bench_normalize as bench  # noqa: E402

from bantz_voice.turkish.normalize import normalize  # noqa: E402

FLOORS = {
    "TemelNormalizasyon": 14,
    "RomaRakamlari": 11,
    "Kesirler": 19,
    "Araliklar": 11,
    "Kisaltmalar": 19,
    "EpostaVeAdres": 8,
    "Simgeler": 7,
    "Iyilestirmeler": 3,
    "Eklenenler": 15,
}


@pytest.fixture(scope="module")
def result() -> dict:
    return bench.score(normalize, bench.exam_cases())


def test_the_exam_has_its_114_counted_cases() -> None:
    cases = bench.exam_cases()
    assert len(cases) == 114
    assert {g for _, _, g in cases} == set(FLOORS)


@pytest.mark.parametrize("group", sorted(FLOORS))
def test_group_floor(result: dict, group: str) -> None:
    g = result["groups"][group]
    misses = [m for m in result["misses"] if m["group"] == group]
    assert g["exact"] >= FLOORS[group], misses


def test_total_and_word_error_rate(result: dict) -> None:
    assert result["total"]["exact"] >= 107
    assert result["total"]["wer"] <= 0.04


def test_text_left_as_is_scores_low() -> None:
    """The scoring is not lenient: the input itself gets few cases right."""
    r = bench.score(lambda s: s, bench.exam_cases())
    assert r["total"]["exact"] <= 15 and r["total"]["wer"] > 0.5


def test_spoken_words() -> None:
    assert bench.spoken_words("İSTANBUL'da, IĞDIR: 3/4") == ["istanbulda", "ığdır", "3", "4"]
    assert bench.word_edits(["a", "b", "c"], ["a", "c"]) == 1
