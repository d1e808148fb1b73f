"""Streaming reply text -> speakable chunks.

The **first** chunk is cut early — at the first clause boundary (``,;:`` or a sentence end) or
after ``first_chunk_words`` words — so speech starts before the reply is complete; later chunks
are cut at sentence ends. ``early=False`` (baseline) returns the whole reply as one chunk.

A dot is not always a sentence end: never cut after a title or an abbreviation ("Dr.", "No.",
"örn."), a Roman numeral or an initial ("XIX.", "K."), nor after an ordinal ("2. katta") or an
abbreviation like "vb." unless a capital letter follows; a decimal point ("3.5") has no space
after it. While the next character has not arrived yet, the chunker waits.
"""

from __future__ import annotations

import re

from bantz_voice.turkish import lexicon

# sentence end: . ! ? … followed by whitespace (so "3.5" or "saat 14.30" are not cut)
_SENT_END = re.compile(r"[.!?…]+[\"'”’)]*\s+")
_CLAUSE = re.compile(r"[,;:]\s+|[.!?…]+[\"'”’)]*\s+")
_WORD_END = re.compile(r"\S+\s+")
_ABBREVIATIONS = frozenset(lexicon.ABBREVIATIONS) | {k for k in lexicon.ACRONYM_EXPANSIONS if k.endswith(".")}
_NEVER_AN_END = re.compile(r"^(?:[IVXLC]{2,}|[A-ZÇĞİÖŞÜ])\.$")  # "XIX.", "K." (an initial)
_ORDINAL = re.compile(r"^\d+\.$")  # "2." before a lower-case word


def _word_before(text: str, dot: int) -> str:
    """The word that ends with the dot at ``dot`` ("(Dr." -> "Dr.")."""
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start : dot + 1].lstrip("(\"'“‘[")


def sentence_end(text: str, punct: int, after: int) -> bool | None:
    """Whether the punctuation at ``text[punct]`` (whitespace up to ``after``) ends a sentence:
    True, False, or None while the next character is not known yet."""
    if text[punct] != "." or (punct > 0 and text[punct - 1] == "."):
        return True  # ! ? … and "..." always end
    word = _word_before(text, punct)
    if word[:1].isupper() and word[1:2].islower():  # "Örn." at a sentence start
        word = word if word in _ABBREVIATIONS or word in lexicon.ABBREVIATION_TITLES else word[0].lower() + word[1:]
    if word in lexicon.ABBREVIATION_TITLES or _NEVER_AN_END.match(word):
        return False
    if word in _ABBREVIATIONS or _ORDINAL.match(word):
        if after >= len(text):
            return None
        return text[after].isupper() or not text[after].isalnum()
    return True


def _ends(pattern: re.Pattern[str], text: str, final: bool = False) -> list[int] | None:
    """Ends of the real boundaries of ``pattern`` in ``text``; None when one is still undecided
    (``final``: the text is complete, so undecided means not an end)."""
    out: list[int] = []
    for m in pattern.finditer(text):
        punct = m.start()
        if text[punct] in ",;:":
            out.append(m.end())
            continue
        dot = punct + len(m.group(0).rstrip().rstrip("\"'”’)")) - 1
        verdict = sentence_end(text, dot, m.end())
        if verdict is None and not final:
            return out or None
        if verdict:
            out.append(m.end())
    return out


class TextChunker:
    def __init__(self, first_chunk_words: int = 6, *, early: bool = True) -> None:
        self.first_chunk_words = first_chunk_words
        self.early = early
        self._buf = ""
        self._emitted = 0

    def push(self, text: str) -> list[str]:
        """Add streamed text; return the chunks that are complete now."""
        self._buf += text
        if not self.early:
            return []
        out: list[str] = []
        while True:
            cut = self._find_cut()
            if cut is None:
                break
            chunk, self._buf = self._buf[:cut].strip(), self._buf[cut:]
            if chunk:
                out.append(chunk)
                self._emitted += 1
        return out

    def flush(self) -> list[str]:
        """End of the reply: whatever is left."""
        chunk, self._buf = self._buf.strip(), ""
        if chunk:
            self._emitted += 1
            return [chunk]
        return []

    def _find_cut(self) -> int | None:
        buf = self._buf
        if self._emitted == 0:
            clauses = _ends(_CLAUSE, buf)
            clause_end = clauses[0] if clauses else None
            word_end = None
            words = list(_WORD_END.finditer(buf))
            for w in words[self.first_chunk_words - 1 :]:
                token = w.group(0).rstrip()
                if not token.endswith(".") or sentence_end(buf, w.start() + len(token) - 1, w.end()):
                    word_end = w.end()  # never right after "Dr." or between "2." and "katta"
                    break
            cands = [c for c in (clause_end, word_end) if c is not None]
            return min(cands) if cands else None
        ends = _ends(_SENT_END, buf)
        return ends[0] if ends else None


def bound_length(text: str, max_chars: int) -> list[str]:
    """``text`` in pieces of at most ``max_chars``: cut after sentence ends, else after the last
    clause mark, else at the last space that fits, else (one "word" longer than the bound, e.g.
    2,000 characters without a space) hard at ``max_chars``. Piper's memory grows with the longest
    sentence it is given (a 800-character run-on sentence took ~1.2 GB), so a reply that never
    ends a sentence is spoken in bounded pieces, whatever it contains."""
    out: list[str] = []
    rest = text.strip()
    while len(rest) > max_chars:
        head = rest[: max_chars + 1]
        cut = max((e for e in _ends(_SENT_END, rest, final=True) or [] if e <= len(head)), default=0)
        if not cut:  # no sentence end: clauses
            cut = max((e for e in _ends(_CLAUSE, rest, final=True) or [] if e <= len(head)), default=0)
        if not cut:
            cut = head.rfind(" ") + 1
        if not cut:
            cut = max_chars
        out.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        out.append(rest)
    return out


def split_reply(text: str, first_chunk_words: int = 6, *, early: bool = True) -> list[str]:
    """Chunk a complete reply (what streaming would produce)."""
    c = TextChunker(first_chunk_words, early=early)
    return c.push(text) + c.flush()
