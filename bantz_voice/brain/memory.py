"""Memory-lite: a rolling dialog summary (one line per turn: what was asked, what was done) of at
most ``memory_max_tokens`` tokens, persisted in SQLite in the XDG state dir so "az önce ne yaptık?"
works after a restart too. Every line is PII-scrubbed before it is written."""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bantz_voice import paths
from bantz_voice.privacy import scrub, scrub_cut

DB_NAME = "brain.sqlite3"
USER_TEXT_MAX = 80
TRIM_TO = 0.75  # share of max_tokens kept when the summary is trimmed


def estimate_tokens(text: str) -> int:
    """Upper-side estimate used when no tokenizer is at hand: one token per 2 UTF-8 bytes."""
    return math.ceil(len(text.encode("utf-8")) / 2) + 1


def db_path() -> Path:
    return paths.ensure(paths.state_dir()) / DB_NAME


def connect(path: Path | None = None) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path or db_path()), timeout=5.0, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS summary (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, line TEXT NOT NULL)")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS pending (id INTEGER PRIMARY KEY CHECK (id = 1), created REAL NOT NULL, "
        "expires REAL NOT NULL, payload TEXT NOT NULL)"
    )
    return conn


class Memory:
    def __init__(self, max_tokens: int = 500, count: Callable[[str], int] = estimate_tokens, path: Path | None = None) -> None:
        self.max_tokens = max_tokens
        self.count = count
        self._conn = connect(path)
        self._lock = threading.Lock()

    def add(self, asked: str, done: str) -> str:
        """Append one scrubbed line and trim the oldest lines to the token limit. The text is
        scrubbed before it is cut (a cut number would no longer pass its checksum)."""
        asked = scrub_cut(asked, USER_TEXT_MAX)
        line = scrub(f"'{asked}' dediniz; {scrub(done)}")
        with self._lock:
            self._conn.execute("INSERT INTO summary (ts, line) VALUES (?, ?)", (time.time(), line))
            self._trim()
        return line

    def _trim(self) -> None:
        """Over the limit, the oldest lines go until TRIM_TO of it is used: the summary then stays
        the same for the next few turns instead of losing a line on every one (a chat prompt that
        repeats the last one's beginning reuses its KV state; llamacpp_backend)."""
        rows = self._conn.execute("SELECT id, line FROM summary ORDER BY id DESC").fetchall()
        sizes = [(rid, self.count(line)) for rid, line in rows]
        if sum(n for _, n in sizes) <= self.max_tokens:
            return
        total, keep_from = 0, None
        for rid, n in sizes:
            total += n
            if total > self.max_tokens * TRIM_TO:
                keep_from = rid
                break
        if keep_from is not None:
            self._conn.execute("DELETE FROM summary WHERE id <= ?", (keep_from,))

    def lines(self, limit: int | None = None) -> list[str]:
        """Summary lines, oldest first (the last ``limit`` when given)."""
        with self._lock:
            rows = self._conn.execute("SELECT line FROM summary ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
        return [r[0] for r in reversed(rows)]

    def tokens(self) -> int:
        return sum(self.count(line) for line in self.lines())

    def clear(self) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM summary")

    @property
    def conn(self) -> sqlite3.Connection:
        return self._conn

    def close(self) -> None:
        self._conn.close()
