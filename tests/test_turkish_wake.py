"""turkish/wake.py: one list of spellings and one matcher for the gate, the NLU, the cascade and
the confirmation filter."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bantz_voice.brain.confirm import classify
from bantz_voice.config import DaemonSettings
from bantz_voice.daemon.wakeword import WakeWordMatcher as GateMatcher
from bantz_voice.turkish import lexicon as lx
from bantz_voice.turkish.nlu import parse
from bantz_voice.turkish.wake import WakeWordMatcher, is_wake_word, strip_wake_word

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Europe/Istanbul"))


def test_one_matcher_and_one_list() -> None:
    assert GateMatcher is WakeWordMatcher
    assert DaemonSettings().wake_words == list(lx.WAKE_WORDS)
    assert all(is_wake_word(w) for w in lx.WAKE_WORDS)


@pytest.mark.parametrize("word", ["bantz", "bants", "pants", "bandz", "bahns", "bantzcim", "banzcigim"])
def test_spellings(word: str) -> None:
    assert is_wake_word(word)


@pytest.mark.parametrize("word", ["bana", "ban", "bence", "banka", "bunlar", "bant", "bantlar", "pazartesi"])
def test_look_alikes_are_not_the_name(word: str) -> None:
    assert not is_wake_word(word)


@pytest.mark.parametrize(
    "text,out",
    [
        ("Bantz, yarın ne var?", "yarın ne var?"),
        ("Merhaba Bants, saat kaç", "saat kaç"),
        ("yarın ne var, Bantz?", "yarın ne var"),
        ("yarın ne var", "yarın ne var"),
        ("Bana yarını söyle", "Bana yarını söyle"),
        ("Bantz", ""),
    ],
)
def test_strip_wake_word(text: str, out: str) -> None:
    assert strip_wake_word(text) == out


def test_configured_extra_spelling() -> None:
    said = "Benz, saat kaç?"  # WakeWordMatcher.strip, not str.strip
    assert WakeWordMatcher(["Benz"]).strip(said) == "saat kaç?"
    assert WakeWordMatcher().strip(said) is None


def test_confirmation_filter_ignores_the_name_in_any_spelling() -> None:
    for text in ("evet Bantz", "Pants, evet", "hayır bants", "tamam Bandz sil"):
        assert classify(text) in ("yes", "no"), text
    assert classify("bantz") is None


def test_nlu_ignores_the_name_in_any_spelling() -> None:
    plain = parse("yarın saat üçte doktor randevusu ekle", NOW)
    for text in ("Pants, yarın saat üçte doktor randevusu ekle", "hey bandz yarın saat üçte doktor randevusu ekle"):
        d = parse(text, NOW)
        assert d.intent == plain.intent and d.slots == plain.slots, text
