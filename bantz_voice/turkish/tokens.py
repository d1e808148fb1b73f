"""Tokenizer for the rule-based layer: every token keeps its original spelling, its Turkish
lowercase form, an ASCII-folded form for matching (so "ucte" and "üçte" are the same) and its
character span in the input (so a title can be cut out of the user's own words)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bantz_voice.turkish.text import ascii_fold, tr_lower

MAX_CHARS = 400
MAX_TOKENS = 64  # a spoken request is far shorter; the cap bounds the fast path's worst case

_TOKEN = re.compile(
    r"\d+(?:[:.]\d+)*(?:['’]?[a-zçğıöşüâîûA-ZÇĞİÖŞÜ]+)?"  # 14:30'da, 3te, 26.11.2026, 28'inde, 10'DA
    r"|[a-zçğıöşüâîûA-ZÇĞİÖŞÜÂÎÛ]+(?:['’][a-zçğıöşüâîûA-ZÇĞİÖŞÜ]+)?"
)


@dataclass(frozen=True, slots=True)
class Tok:
    orig: str
    low: str
    fold: str  # ascii-folded, apostrophes removed
    start: int
    end: int


# case suffixes people type apart from a number ("saat 3 te", "9 da", "4 e")
_LOOSE_SUFFIXES = {
    "da", "de", "ta", "te", "a", "e", "ya", "ye", "u", "ü", "ı", "i", "yu", "yü", "yı", "yi", "dan", "den",
    "tan", "ten", "inde", "ında", "unda", "ünde", "sinde", "sında",
}  # fmt: skip


def _make(orig: str, start: int, end: int) -> Tok:
    return Tok(orig, tr_lower(orig), ascii_fold(orig).replace("'", "").replace("’", ""), start, end)


def tokenize(text: str) -> list[Tok]:
    text = text[:MAX_CHARS]
    out: list[Tok] = []
    for m in _TOKEN.finditer(text):
        orig = m.group(0)
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.orig[-1:].isdigit()
            and tr_lower(orig) in _LOOSE_SUFFIXES
            and text[prev.end : m.start()].strip() == ""
        ):
            out[-1] = _make(f"{prev.orig}'{orig}", prev.start, m.end())
            continue
        if len(out) >= MAX_TOKENS:
            break
        out.append(_make(orig, m.start(), m.end()))
    return out
