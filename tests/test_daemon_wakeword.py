"""Wake-word matching on transcripts and the follow-up window."""

from __future__ import annotations

import pytest

from bantz_voice.config import DaemonSettings
from bantz_voice.daemon.wakeword import WakeGate, WakeWordMatcher

WORDS = DaemonSettings().wake_words


@pytest.mark.parametrize(
    "text, request_text",
    [
        ("Bantz, yarın hava nasıl?", "yarın hava nasıl?"),
        ("bants yarınki toplantım ne zaman", "yarınki toplantım ne zaman"),
        ("Banz. Saat kaç?", "Saat kaç?"),
        ("Bans, takvimime bak.", "takvimime bak."),
        ("Pants, bugün ne var?", "bugün ne var?"),
        ("Bandz saat kaç", "saat kaç"),
        ("BANTZ! Işıkları aç", "Işıkları aç"),
        ("Hey Bantz, randevu ekle", "randevu ekle"),
        ("  …Bantz — yarın saat üçte toplantı", "yarın saat üçte toplantı"),
        ("Bant's, saat kaç?", "saat kaç?"),
        ("Bantz.", ""),
        ("Bant, yakın hama asıl.", "yakın hama asıl."),  # Whisper without its prompt
    ],
)
def test_wake_word_variants(text: str, request_text: str) -> None:
    assert WakeWordMatcher(WORDS).strip(text) == request_text


@pytest.mark.parametrize(
    "text",
    [
        "Yarın hava nasıl?",
        "Bana yarınki toplantıyı söyle",
        "Bence bantz harika bir isim",  # the name not at the start
        "Banka hesabım",
        "Ban kaldırıldı",
        "",
        "   ",
        "Bantlar nerede?",
        "Bant kaydını bul",  # "bant" is a word: the name only with the comma of address
        "Bant.",
    ],
)
def test_not_wake_word(text: str) -> None:
    assert WakeWordMatcher(WORDS).strip(text) is None


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_follow_up_window() -> None:
    clock = Clock()
    gate = WakeGate(WORDS, follow_up_s=8.0, clock=clock)
    assert gate.decide("saat kaç").text is None  # no wake word, no window
    assert gate.decide("saat kaç").reason == "ignored"
    assert gate.decide("Bantz saat kaç").text == "saat kaç"
    gate.open_follow_up()  # the assistant finished speaking
    clock.t += 7.5
    d = gate.decide("peki yarın?")
    assert (d.text, d.reason) == ("peki yarın?", "follow_up")
    # the window is consumed by the follow-up; it reopens only after the next reply
    assert gate.decide("ve öbür gün?").text is None
    gate.open_follow_up()
    clock.t += 8.01
    assert gate.decide("peki yarın?").text is None


def test_bare_wake_word_opens_window() -> None:
    clock = Clock()
    gate = WakeGate(WORDS, follow_up_s=8.0, clock=clock)
    d = gate.decide("Bantz?")
    assert (d.text, d.reason) == (None, "bare_wake_word")
    clock.t += 3
    assert gate.decide("yarın ne var").text == "yarın ne var"


def test_hands_free_disabled() -> None:
    gate = WakeGate(WORDS, hands_free=False)
    assert gate.decide("Bantz saat kaç").reason == "disabled"


def test_zero_follow_up() -> None:
    gate = WakeGate(WORDS, follow_up_s=0)
    gate.open_follow_up()
    assert gate.decide("saat kaç").text is None


def test_follow_up_counts_from_utterance_start() -> None:
    clock = Clock()
    gate = WakeGate(WORDS, follow_up_s=8.0, clock=clock)
    gate.open_follow_up()
    started = clock.t + 7.0  # the user started talking inside the window ...
    clock.t += 10.0  # ... and the transcript is ready after it closed
    assert gate.decide("peki yarın?", started_at=started).reason == "follow_up"
    gate.open_follow_up()
    clock.t += 9.0
    assert gate.decide("peki yarın?", started_at=clock.t - 0.5).text is None


def test_barge_in_utterance_is_not_a_follow_up() -> None:
    clock = Clock()
    gate = WakeGate(WORDS, follow_up_s=8.0, clock=clock)
    started = clock.t  # the user talks over the reply ...
    clock.t += 0.5
    gate.open_follow_up()  # ... which then ends (cut short)
    clock.t += 2.0
    assert gate.decide("saat kaç", started_at=started).reason == "ignored"
    assert gate.decide("Bantz saat kaç", started_at=started).text == "saat kaç"


def test_peek_decides_without_touching_the_window() -> None:
    """The speculative transcript is gated with commit=False: same answer, window untouched."""
    clock = Clock()
    gate = WakeGate(WORDS, follow_up_s=8.0, clock=clock)
    gate.open_follow_up()
    for _ in range(2):
        assert gate.decide("peki yarın?", commit=False).text == "peki yarın?"
        assert gate.decide("Bantz saat kaç", commit=False).text == "saat kaç"
    assert gate.follow_up_open  # a committing follow-up or wake word would have closed it
    assert gate.decide("peki yarın?").reason == "follow_up" and not gate.follow_up_open
    assert gate.decide("Bantz", commit=False).reason == "bare_wake_word" and not gate.follow_up_open
