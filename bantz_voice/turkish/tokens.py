"""Tokenizer for the rule-based layer: every token keeps its original spelling, its Turkish
lowercase form, an ASCII-folded form for matching (so "ucte" and "üçte" are the same) and its
character span in the input (so a title can be cut out of the user's own words)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bantz_voice.turkish.text import ascii_fold, tr_lower

MAX_CHARS = 400

_TOKEN = re.compile(
    r"\d+(?:[:.]\d+)*(?:['’]?[a-zçğıöşüâîû]+)?"  # 14:30'da, 3te, 26.11.2026, 28'inde
    r"|[a-zçğıöşüâîûA-ZÇĞİÖŞÜÂÎÛ]+(?:['’][a-zçğıöşüâîûA-ZÇĞİÖŞÜ]+)?"
)


@dataclass(frozen=True, slots=True)
class Tok:
    orig: str
    low: str
    fold: str  # ascii-folded, apostrophes removed
    start: int
    end: int

    @property
    def base(self) -> str:
        """Folded form without the apostrophe suffix ("aralık'ta" -> "aralik")."""
        return self.fold_parts[0]

    @property
    def fold_parts(self) -> tuple[str, str]:
        low = ascii_fold(self.orig)
        for ap in ("'", "’"):
            if ap in low:
                a, b = low.split(ap, 1)
                return a, b
        return low, ""


def tokenize(text: str) -> list[Tok]:
    text = text[:MAX_CHARS]
    out: list[Tok] = []
    for m in _TOKEN.finditer(text):
        orig = m.group(0)
        low = tr_lower(orig)
        fold = ascii_fold(orig).replace("'", "").replace("’", "")
        out.append(Tok(orig, low, fold, m.start(), m.end()))
    return out
