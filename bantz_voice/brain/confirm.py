"""Spoken confirmations: yes/no matching and the pending action, persisted in SQLite (state dir)
so a follow-up ``bantz-voice ask "evet"`` in a new process confirms within the timeout."""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError

from bantz_voice.brain.actions import ACTION, PendingAction
from bantz_voice.turkish.text import ascii_fold, tr_lower
from bantz_voice.turkish.wake import is_wake_word

if TYPE_CHECKING:
    from bantz_voice.responder import Heard

log = logging.getLogger(__name__)

YES_WORDS = {
    "evet", "tamam", "olur", "tabii", "tabi", "elbette", "onaylıyorum", "onayla", "onay", "peki",
    "aynen", "kesinlikle", "lütfen", "yap", "sil", "ekle", "güncelle", "değiştir", "hı", "hıhı", "ok", "okey",
}
YES_LEAD = {"evet", "tamam", "olur", "tabii", "tabi", "elbette", "onaylıyorum", "onayla", "aynen", "kesinlikle", "okey", "ok"}
NO_WORDS = {"hayır", "hayir", "iptal", "vazgeç", "vazgec", "vazgeçtim", "istemiyorum", "boşver", "bosver", "yok", "dur", "kalsın", "kalsin", "yapma", "etme"}
FILLER = {"efendim", "et", "edin", "lütfen", "ya", "şimdi", "öyle", "olsun", "o", "zaman", "bence", "de", "da", "bir", "hayır,"}

_WORD = re.compile(r"[a-zçğıöşüâîû]+")

Answer = Literal["yes", "no"]


def classify(text: str) -> Answer | None:
    """"yes" / "no" for a confirmation answer, None when the text is something else."""
    ws = [w for w in _WORD.findall(tr_lower(text)) if not is_wake_word(ascii_fold(w))]
    if not ws or len(ws) > 6:
        return None
    has_no = any(w in NO_WORDS for w in ws)
    has_yes = any(w in YES_LEAD for w in ws)
    if has_no and not has_yes:
        return "no" if all(w in NO_WORDS or w in FILLER or w in YES_WORDS for w in ws) else None
    if has_yes and not has_no:
        return "yes" if all(w in YES_WORDS or w in FILLER for w in ws) else None
    if has_yes and has_no:  # "evet, vazgeç" / "hayır, tamam": the first word decides
        first = next(w for w in ws if w in NO_WORDS or w in YES_LEAD)
        return "no" if first in NO_WORDS else "yes"
    return None


def confirmation_doubt(heard: Heard | None, asked_at: float, min_logprob: float) -> str | None:
    """Why a spoken "yes" must not confirm the action asked at ``asked_at`` (wall clock), or None.

    Background speech (a TV, another person) that Whisper hears as "Evet." is typically unsure
    and began before the question; typed text (``heard`` None) is always accepted."""
    if heard is None:
        return None
    if heard.started_at < asked_at:
        return "started_before_question"
    if heard.avg_logprob < min_logprob:
        return "unsure_transcript"
    return None


@dataclass(frozen=True)
class Pending:
    action: PendingAction
    created: float
    expires: float
    expired: bool


class PendingStore:
    """At most one action waiting for a yes/no, with an absolute expiry (wall clock).

    The row holds what the action needs (event UID and start; for a create, the title as said),
    serialized through its model (:data:`~bantz_voice.brain.actions.ACTION`), unscrubbed because
    it is the calendar data itself; it is deleted on the answer, on the next unrelated turn, or at
    start-up once expired."""

    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], float] = time.time) -> None:
        self.conn = conn
        self.clock = clock

    def put(self, action: PendingAction, timeout_s: float) -> None:
        now = self.clock()
        self.conn.execute(
            "INSERT OR REPLACE INTO pending (id, created, expires, payload) VALUES (1, ?, ?, ?)",
            (now, now + timeout_s, ACTION.dump_json(action).decode("utf-8")),
        )

    def current(self) -> Pending | None:
        row = self.conn.execute("SELECT created, expires, payload FROM pending WHERE id = 1").fetchone()
        if row is None:
            return None
        action = self._load(row[2])
        if action is None:
            self.conn.execute("DELETE FROM pending WHERE id = 1 AND created = ?", (row[0],))
            return None
        return Pending(action, row[0], row[1], self.clock() > row[1])

    @staticmethod
    def _load(payload: str) -> PendingAction | None:
        """The stored action; None for a row this version cannot read (it is dropped: asking again
        is better than carrying out a change nobody can check)."""
        try:
            return ACTION.validate_json(payload)
        except ValidationError as exc:
            log.warning("unreadable pending action dropped: %s", exc.errors()[0].get("msg"))
            return None

    def waiting(self) -> bool:
        """Whether an action (expired or not) waits for an answer."""
        return self.conn.execute("SELECT 1 FROM pending WHERE id = 1").fetchone() is not None

    def claim(self, created: float | None = None) -> tuple[PendingAction, bool] | None:
        """Remove the pending action and return ``(action, expired)`` in one statement, so of two
        processes answering it (the daemon and a CLI ``ask`` share the database) exactly one gets
        it. With ``created``, only that very action is claimed (not one put in its place since).
        None when there is nothing (left) to claim."""
        if created is None:
            rows = self.conn.execute("DELETE FROM pending WHERE id = 1 RETURNING expires, payload").fetchall()
        else:
            rows = self.conn.execute(
                "DELETE FROM pending WHERE id = 1 AND created = ? RETURNING expires, payload", (created,)
            ).fetchall()
        if not rows:
            return None
        action = self._load(rows[0][1])
        return None if action is None else (action, self.clock() > rows[0][0])

    def clear(self) -> None:
        self.conn.execute("DELETE FROM pending")
