"""Streaming reply text -> speakable chunks.

The **first** chunk is cut early — at the first clause boundary (``,;:`` or a sentence end) or
after ``first_chunk_words`` words — so speech starts before the reply is complete; later chunks
are cut at sentence ends. ``early=False`` (baseline) returns the whole reply as one chunk.
"""

from __future__ import annotations

import re

# sentence end: . ! ? … followed by whitespace (so "3.5" or "saat 14.30" are not cut)
_SENT_END = re.compile(r"[.!?…]+[\"'”’)]*\s+")
_CLAUSE = re.compile(r"[,;:]\s+|[.!?…]+[\"'”’)]*\s+")
_WORD_END = re.compile(r"\S+\s+")


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
            m = _CLAUSE.search(buf)
            clause_end = m.end() if m else None
            words = list(_WORD_END.finditer(buf))
            word_end = words[self.first_chunk_words - 1].end() if len(words) >= self.first_chunk_words else None
            cands = [c for c in (clause_end, word_end) if c is not None]
            return min(cands) if cands else None
        m = _SENT_END.search(buf)
        return m.end() if m else None


def bound_length(text: str, max_chars: int) -> list[str]:
    """``text`` in pieces of at most ``max_chars`` (a single longer word stays whole): cut after
    sentence ends, else after the last clause mark, else at the last space that fits. Piper's
    memory grows with the longest sentence it is given (a 800-character run-on sentence took
    ~1.2 GB), so a reply that never ends a sentence is spoken in bounded pieces."""
    out: list[str] = []
    rest = text.strip()
    while len(rest) > max_chars:
        head = rest[: max_chars + 1]
        cut = max((m.end() for m in _SENT_END.finditer(head)), default=0)
        if not cut:
            cut = max((m.end() for m in _CLAUSE.finditer(head)), default=0)  # no sentence end: clauses
        if not cut:
            cut = head.rfind(" ") + 1
        if not cut:
            nxt = rest.find(" ")
            cut = len(rest) if nxt < 0 else nxt + 1
        out.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        out.append(rest)
    return out


def split_reply(text: str, first_chunk_words: int = 6, *, early: bool = True) -> list[str]:
    """Chunk a complete reply (what streaming would produce)."""
    c = TextChunker(first_chunk_words, early=early)
    return c.push(text) + c.flush()
