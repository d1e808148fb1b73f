"""Glue of the turn-end policy (issue #15): the speculative transcript of a pause, judged by
:class:`~bantz_voice.turkish.turn_end.TurnEndPolicy`, drives the endpointer
(:meth:`~bantz_voice.audio.vad.Endpointer.set_verdict`).

The voice loop calls :meth:`TurnEndHook.on_pause` right after it started the speculative decode
of a pause; with ``vad.turn_end`` off it does nothing (the fixed hangover). The endpointer holds
the pause until the verdict comes (at most ``vad.turn_end_extended_ms``): on this path the turn
waits for that same decode anyway, so the hold costs no latency.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bantz_voice.asr import AsrResult
from bantz_voice.audio.vad import Endpointer
from bantz_voice.turkish.turn_end import TurnEnd, TurnEndPolicy, Verdict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerdictReport:
    """One verdict as it reached the endpointer (for observers: benchmarks, tests)."""

    judged: TurnEnd
    applied: bool  # False: the pause was over already (speech resumed or the turn ended)
    after_pause_s: float  # from the decode's start (the pause's first silent frame) to the verdict
    samples: int  # the audio the transcript is of


class TurnEndHook:
    """``on_verdict`` observes every verdict (called on the event loop; exceptions are logged)."""

    def __init__(self) -> None:
        self.on_verdict: Callable[[VerdictReport], None] | None = None

    def on_pause(
        self, ep: Endpointer, future: asyncio.Future[AsrResult], cancel: threading.Event, vad_settings: Any, samples: int
    ) -> None:
        """The speculative decode ``future`` of the pause ``ep`` just emitted has started."""
        if not vad_settings.turn_end:
            return
        token = ep.expect_verdict()
        if token is None:
            return
        policy = TurnEndPolicy(vad_settings.turn_end_min_confidence)
        t0 = time.monotonic()

        def done(fut: asyncio.Future[AsrResult]) -> None:
            if fut.cancelled() or cancel.is_set() or fut.exception() is not None:
                judged = TurnEnd(Verdict.UNKNOWN, "no transcript")
            else:
                try:
                    judged = policy.judge(fut.result().text)
                except Exception:  # the fixed hangover, never a stuck pause
                    log.exception("turn-end policy failed")
                    judged = TurnEnd(Verdict.UNKNOWN, "policy error")
            applied = ep.set_verdict(judged.verdict.value, token)
            report = VerdictReport(judged, applied, time.monotonic() - t0, samples)
            log.debug(
                "turn end: %s (%s) %.0f ms after the pause%s",
                judged.verdict.value, judged.reason, report.after_pause_s * 1000, "" if applied else ", too late",
            )
            if self.on_verdict is not None:
                try:
                    self.on_verdict(report)
                except Exception:
                    log.exception("on_verdict hook failed")

        future.add_done_callback(done)
