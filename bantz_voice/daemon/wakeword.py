"""Hands-free gating on the transcript: the wake word "Bantz" or the follow-up window.

The name's spellings and the matcher live in ``turkish/wake.py`` (shared with the NLU, the
cascade and the confirmation filter). An utterance that matches neither the wake word nor an
open follow-up window is ignored: the decision's text is ``None`` and the text is not kept
anywhere. :meth:`WakeGate.gate` takes the utterance itself: the follow-up window is checked
against the start of *that* utterance, never another one's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from bantz_voice.audio.vad import Utterance
from bantz_voice.turkish.wake import WakeWordMatcher
from bantz_voice.voice.gate import GateDecision

__all__ = ["GateDecision", "WakeGate", "WakeWordMatcher"]


class WakeGate:
    """Decides whether a hands-free utterance is for Bantz.

    ``follow_up_s`` after the assistant finishes speaking (``open_follow_up``) any utterance is
    accepted without the wake word. A bare "Bantz" opens the window too (and returns None, so the
    caller plays the wake earcon and waits for the request).
    """

    def __init__(
        self,
        wake_words: Iterable[str],
        follow_up_s: float = 8.0,
        hands_free: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.matcher = WakeWordMatcher(wake_words)
        self.follow_up_s = follow_up_s
        self.hands_free = hands_free
        self.clock = clock
        self._follow_up_from = 0.0
        self._follow_up_until = 0.0

    def open_follow_up(self, seconds: float | None = None) -> None:
        span = self.follow_up_s if seconds is None else seconds
        if span > 0:
            self._follow_up_from = self.clock()
            self._follow_up_until = self._follow_up_from + span

    def after_turn(self, reply: str, *, played: bool, interrupted: bool) -> bool:
        """After a turn: open the follow-up window when the assistant has said something to the
        user and said it to the end — an answer, a spoken Turkish apology ("Şu an yanıt
        veremiyorum…") or a question back: the user answers that without the wake word. Nothing
        said (a dropped transcript, a reply that never reached the speaker) or a reply the user
        cut off leaves the window closed. Returns whether it opened."""
        if reply.strip() and played and not interrupted:
            self.open_follow_up()
            return True
        return False

    def close_follow_up(self) -> None:
        self._follow_up_until = 0.0

    @property
    def follow_up_open(self) -> bool:
        return self.clock() < self._follow_up_until

    def _in_window(self, at: float | None) -> bool:
        # an utterance that *started* inside the window counts, however long ASR then took; one
        # that started before the assistant finished speaking (a barge-in) does not
        if at is None:
            return self.follow_up_open
        return self._follow_up_from <= at < self._follow_up_until

    def in_follow_up(self, started_at: float | None = None) -> bool:
        """Whether an utterance that began at ``started_at`` needs no wake word."""
        return self._in_window(started_at)

    def follow_up_left_s(self) -> float:
        return max(0.0, self._follow_up_until - self.clock())

    def decide(self, transcript: str, started_at: float | None = None, *, commit: bool = True) -> GateDecision:
        """``started_at``: when the utterance began (same clock), for the follow-up window.
        ``commit=False`` only tells what the gate would decide (the follow-up window is left as is)."""
        if not self.hands_free:
            return GateDecision(None, "disabled")
        text = (transcript or "").strip()
        stripped = self.matcher.strip(text) if text else None
        if stripped is not None:
            if not stripped:
                if commit:
                    self.open_follow_up()
                return GateDecision(None, "bare_wake_word")
            if commit:
                self.close_follow_up()
            return GateDecision(stripped, "wake_word")
        if text and self._in_window(started_at):
            if commit:
                self.close_follow_up()
            return GateDecision(text, "follow_up")
        return GateDecision(None, "ignored")

    def gate(self, utterance: Utterance, transcript: str, *, commit: bool = True) -> GateDecision:
        """The decision for ``transcript``, heard in ``utterance`` (its speech start is what the
        follow-up window is checked against)."""
        return self.decide(transcript, utterance.speech_start, commit=commit)
