"""Deterministic answers without a model: the time, the date, and what the brain cannot do."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from bantz_voice.brain.tool import Decision, Tool, ToolContext, ToolOutcome
from bantz_voice.schemas import Intent
from bantz_voice.turkish.lexicon import MONTHS, WEEKDAYS

REPLY_UNKNOWN = (
    "Bunu henüz yapamıyorum efendim; şimdilik takviminiz, hatırlatmalar, zamanlayıcılar, saat ve tarih "
    "konusunda yardımcı olabilirim."
)


def time_reply(now: datetime) -> str:
    try:
        from bantz_voice.turkish.speak import time_words

        return f"Şu an {time_words(now, 'nom')}, efendim."
    except Exception:
        return f"Saat şu an {now:%H:%M}, efendim."


def date_reply(now: datetime) -> str:
    try:
        from bantz_voice.turkish.speak import date_words

        day = date_words(now.date())
    except Exception:
        day = f"{now.day} {MONTHS[now.month - 1]}"
    return f"Bugün {day} {WEEKDAYS[now.weekday()]}, efendim."


class SystemTime(Tool):
    intents: ClassVar[frozenset[Intent]] = frozenset({Intent.system_time})
    read_only: ClassVar[frozenset[Intent]] = intents
    blocking: ClassVar[bool] = False

    def run(self, decision: Decision, ctx: ToolContext) -> ToolOutcome:
        call = {"tool": "system.time", "args": {}, "ok": True}
        return ToolOutcome(time_reply(ctx.now), "saati söyledim.", [call], data=ctx.now.isoformat())


class SystemDate(Tool):
    intents: ClassVar[frozenset[Intent]] = frozenset({Intent.system_date})
    read_only: ClassVar[frozenset[Intent]] = intents
    blocking: ClassVar[bool] = False

    def run(self, decision: Decision, ctx: ToolContext) -> ToolOutcome:
        call = {"tool": "system.date", "args": {}, "ok": True}
        return ToolOutcome(date_reply(ctx.now), "tarihi söyledim.", [call], data=ctx.now.date().isoformat())


class Unsupported(Tool):
    """An out-of-scope request: says what the brain can do (no model, no call). Not ``read_only``
    although it changes nothing: "I cannot do that" is true only when the guess is, so an unsure
    guess of it gets the LLM apology instead."""

    intents: ClassVar[frozenset[Intent]] = frozenset({Intent.unknown})
    blocking: ClassVar[bool] = False

    def run(self, decision: Decision, ctx: ToolContext) -> ToolOutcome:
        return ToolOutcome(REPLY_UNKNOWN, "bunu yapamayacağımı söyledim.")


__all__ = ["REPLY_UNKNOWN", "SystemDate", "SystemTime", "Unsupported", "date_reply", "time_reply"]
