"""The chat stage: Bantz's spoken reply, streamed token by token, guarded against drifting into
another language or script (then the turn falls back to a Turkish reply)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import cast

from bantz_voice.brain import prompts
from bantz_voice.brain.budget import PromptParts, fit
from bantz_voice.brain.marks import Marks
from bantz_voice.llm.base import GenParams, LLMBackend, with_deadline
from bantz_voice.turkish.text import tr_lower

FALLBACK_REPLY = "Kusura bakmayın efendim, buna şu an düzgün bir Türkçe yanıt veremiyorum."

_TR_CHARS = set("çğıöşüÇĞİÖŞÜ")
_TR_WORDS = {
    "bir", "ve", "bu", "şu", "için", "efendim", "mi", "mı", "mu", "mü", "ne", "var", "yok", "evet", "hayır", "size",
    "sizin", "nasıl", "değil", "ama", "çok", "ben", "sen", "siz", "merhaba", "tabii", "iyi", "güzel", "olarak",
    "da", "de", "ile", "gibi", "daha", "her", "yardımcı", "olabilirim", "rica", "ederim", "teşekkür", "günaydın",
}
_EN_WORDS = {
    "the", "you", "is", "are", "and", "to", "of", "it", "that", "what", "how", "can", "help", "with", "this",
    "for", "your", "have", "i", "i'm", "am", "be", "do", "not", "hello", "hi", "sure", "here", "there", "would",
    "will", "my", "me", "we", "they", "was", "an", "as", "on", "in", "at", "please", "thank", "thanks", "about",
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def _is_latin(ch: str) -> bool:
    try:
        return "LATIN" in unicodedata.name(ch)
    except ValueError:
        return False


def looks_turkish(text: str) -> bool | None:
    """True / False, or None when there is too little text to tell."""
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < 6:
        return None
    foreign = sum(1 for ch in letters if not _is_latin(ch))
    if foreign / len(letters) > 0.2:
        return False
    ws = _WORD.findall(tr_lower(text))
    tr_hits = sum(1 for w in ws if w in _TR_WORDS) + sum(2 for ch in text if ch in _TR_CHARS)
    en_hits = sum(1 for w in ws if w in _EN_WORDS)
    if en_hits >= 2 and en_hits > tr_hits:
        return False
    if tr_hits == 0 and en_hits >= 1 and len(ws) >= 3:
        return False
    if tr_hits == 0:  # no evidence either way yet ("Ceux et Cependlèle"): undecided, then foreign
        return False if len(ws) >= 6 else None
    return True


@dataclass
class GuardState:
    released: bool = False
    drifted: bool = False


class LanguageGuard:
    """Holds back the first words until the language is clear, then passes text through while
    re-checking every new stretch of text."""

    def __init__(
        self, hold_chars: int = 18, window: int = 60, judge: Callable[[str], bool | None] = looks_turkish,
        max_hold_chars: int = 60,
    ) -> None:
        self.judge = judge
        self.hold_chars = hold_chars
        # while the judge cannot tell (no Turkish or English word yet), keep holding up to this much
        self.max_hold_chars = max_hold_chars
        self.window = window
        self.held = ""
        self.tail = ""
        self.state = GuardState()

    def feed(self, piece: str) -> str:
        """Text that may be spoken now ('' while holding); sets ``state.drifted`` on drift."""
        if self.state.drifted:
            return ""
        if not self.state.released:
            self.held += piece
            if len(self.held.strip()) < self.hold_chars and not re.search(r"[.!?]\s*$", self.held):
                return ""
            verdict = self.judge(self.held)
            if verdict is False:
                self.state.drifted = True
                return ""
            if verdict is None and len(self.held.strip()) < self.max_hold_chars:
                return ""
            self.state.released = True
            out, self.held = self.held, ""
            self.tail = out[-self.window :]
            return out
        self.tail = (self.tail + piece)[-self.window :]
        if len(self.tail) >= self.window // 2 and self.judge(self.tail) is False:
            self.state.drifted = True
            return ""
        return piece

    def finish(self) -> str:
        """At the end of the stream: what is still held back (checked)."""
        if self.state.drifted or self.state.released:
            return ""
        verdict = self.judge(self.held)
        if verdict is False or not self.held.strip():
            self.state.drifted = verdict is False
            return ""
        out, self.held = self.held, ""
        self.state.released = True
        return out


def chat_parts(text: str, summary: list[str], history: list[tuple[str, str]], data: str | None = None) -> PromptParts:
    return PromptParts(
        system=prompts.CHAT_SYSTEM,
        user=text,
        few_shots=tuple(prompts.CHAT_SHOTS),
        summary=tuple(summary),
        history=tuple(history),
        data=data,
    )


async def stream_chat(
    backend: LLMBackend,
    params: GenParams,
    parts: PromptParts,
    budget: int,
    trace: Marks | None = None,
    guard: LanguageGuard | None = None,
) -> AsyncIterator[str]:
    """Guarded reply pieces. Marks ``llm_first_token`` on the first model token. When the guard
    finds drift, generation stops and nothing more is yielded (``guard.state.drifted``)."""
    guard = guard or LanguageGuard()
    fitted = await fit(parts, budget, backend.count_tokens)
    # with_deadline is an async generator function (llm/base.py): closed below, generation stops
    gen = cast("AsyncGenerator[str, None]", with_deadline(backend.stream(fitted.messages, params), params.timeout_s))
    try:
        async for piece in gen:
            if trace is not None:
                trace.mark("llm_first_token")
            out = guard.feed(piece)
            if guard.state.drifted:
                return
            if out:
                yield out
        rest = guard.finish()
        if rest:
            yield rest
    finally:
        await gen.aclose()
