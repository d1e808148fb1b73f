"""The wake word "Bantz": its spellings and one matcher, used by the daemon's hands-free gate
(``daemon/wakeword.py``), the NLU, the brain's cascade and the confirmation filter.

Whisper spells the name many ways ("Bantz", "Bants", "Banz", "Bans", "Pants", "Bandz", "Bant,", …),
so a word is the wake word when its ASCII-folded form is one of the configured spellings
(``lexicon.WAKE_WORDS`` plus ``daemon.wake_words``) or fits a small pattern. Ordinary Turkish
words that look alike ("bana", "ban", "bence", "banka", "bunlar") are not the wake word."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bantz_voice.turkish import lexicon as lx
from bantz_voice.turkish.text import ascii_fold

# b/p + a + n + optional t/d + s/z/c (+ optional trailing h), with an optional diminutive:
# bantz, bants, banz, bans, pants, bandz, banc, bahns, bantsch, bantzcım… never "ban", "bana", "bence"
PATTERN = re.compile(r"^[bp]a+h?n+[tdc]?[szcç]+h?(?:c[iı]m|c[iı]g[iı]m)?$")
# words said right before the name ("Hey Bantz", "Ya Bantz"); dropped only there
LEAD_FILLERS = frozenset(lx.WAKE_LEAD_FILLERS)
_TOKEN = re.compile(r"[0-9a-zçğıöşüâîû]+", re.IGNORECASE)
_LEADING_PUNCT = re.compile(r"^[\s,.;:!?…\-–—'\"’]+")
_TRAILING = re.compile(r"[\s,;:!?…\-–—]+$")
_NOT_THE_NAME = frozenset({"bana", "ban"})  # first halves that must not join the next word


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """(folded token, start, end) for each word in ``text``."""
    return [(ascii_fold(m.group(0)), m.start(), m.end()) for m in _TOKEN.finditer(text)]


class WakeWordMatcher:
    """Matches the name at the start of a transcript (after at most two lead fillers)."""

    def __init__(self, wake_words: Iterable[str] = ()) -> None:
        self.words = frozenset(ascii_fold(w).strip() for w in (*lx.WAKE_WORDS, *wake_words) if w.strip())

    def is_wake_token(self, token: str) -> bool:
        """``token`` is ASCII-folded ("bantz", "pants")."""
        return token in self.words or bool(PATTERN.match(token))

    @staticmethod
    def _vocative_bant(text: str, tok: tuple[str, int, int]) -> bool:
        """Whisper without its prompt writes the name "Bant," — the word for tape, so only with
        the comma of address after it ("Bant, yarın…"), never "Bant kaydı…"."""
        return tok[0] == "bant" and text[tok[2] : tok[2] + 1] == ","

    def strip(self, text: str) -> str | None:
        """The request with the leading wake word removed ("" for the bare wake word), or None
        when ``text`` does not start with the wake word."""
        toks = _tokens(text)
        i = 0
        while i < len(toks) - 1 and i < 2 and toks[i][0] in LEAD_FILLERS:
            i += 1
        if i < len(toks) and (self.is_wake_token(toks[i][0]) or self._vocative_bant(text, toks[i])):
            return _LEADING_PUNCT.sub("", text[toks[i][2] :]).strip()
        # Whisper sometimes splits the name: "Ban ts, …" / "Bant s …"
        if i + 1 < len(toks) and toks[i][0] not in _NOT_THE_NAME and self.is_wake_token(toks[i][0] + toks[i + 1][0]):
            return _LEADING_PUNCT.sub("", text[toks[i + 1][2] :]).strip()
        return None


_DEFAULT = WakeWordMatcher()


def is_wake_word(fold: str) -> bool:
    """Whether an ASCII-folded word is a spelling of the wake word."""
    return _DEFAULT.is_wake_token(fold)


def strip_wake_word(text: str) -> str:
    """``text`` without a leading ("Hey Bantz, …") or trailing ("…, Bantz") wake word; text
    without one comes back unchanged (a bare "Bantz" gives "")."""
    stripped = _DEFAULT.strip(text)
    out = text if stripped is None else stripped
    toks = _tokens(out)
    if toks and is_wake_word(toks[-1][0]) and len(toks) > 1:
        out = _TRAILING.sub("", out[: toks[-1][1]]).strip()
    return out
