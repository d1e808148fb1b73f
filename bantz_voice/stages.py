"""Per-stage deadlines for the worker threads of the voice loop (ASR, TTS).

A native decode (CTranslate2, ONNX) cannot be interrupted, so a hung one is *detected*, not
killed: :class:`StageMonitor` records every call running in a stage's worker thread; a call older
than its stage's deadline makes the stage *stalled*. The turn waiting on it gives up with a
Turkish apology (:class:`StageStalled`), ``status`` lists the stage, and the daemon stops pinging
the systemd watchdog so the service is restarted (docs/security.md).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from bantz_voice.errors import BantzError

T = TypeVar("T")

STAGE_NAMES_TR = {"asr": "konuşma tanıma", "tts": "ses üretimi"}


class StageStalled(BantzError):
    """A stage ran past its deadline; the message is a spoken-quality Turkish sentence."""

    def __init__(self, stage: str, seconds: float) -> None:
        self.stage = stage
        self.seconds = seconds
        name = STAGE_NAMES_TR.get(stage, stage)
        super().__init__(f"{name} {seconds:.0f} saniyedir yanıt vermiyor")


class StageMonitor:
    """Thread-safe record of the calls running in each stage."""

    def __init__(self, deadlines: dict[str, float], clock: Callable[[], float] = time.monotonic) -> None:
        self.deadlines = dict(deadlines)
        self.clock = clock
        self._lock = threading.Lock()
        self._running: dict[int, tuple[str, float]] = {}
        self._ids = itertools.count()

    def run(self, stage: str, fn: Callable[..., T], *args: Any) -> T:
        """Call ``fn(*args)`` (in the stage's worker thread) while recording it."""
        token = next(self._ids)
        with self._lock:
            self._running[token] = (stage, self.clock())
        try:
            return fn(*args)
        finally:
            with self._lock:
                self._running.pop(token, None)

    def busy(self) -> dict[str, float]:
        """Stage -> seconds its oldest running call has taken so far."""
        now = self.clock()
        out: dict[str, float] = {}
        with self._lock:
            for stage, since in self._running.values():
                out[stage] = max(out.get(stage, 0.0), now - since)
        return out

    def stalled(self) -> dict[str, float]:
        """The stages whose oldest running call is past its deadline."""
        return {s: t for s, t in self.busy().items() if t > self.deadlines.get(s, float("inf"))}

    async def wait(self, stage: str, fut: asyncio.Future[T]) -> T:
        """Await ``fut`` (a call queued on the stage's worker). A call merely waiting in the queue
        behind healthy work is waited for; once the stage is stalled, :class:`StageStalled`."""
        deadline = self.deadlines.get(stage, float("inf"))
        step = min(deadline, 1.0) if deadline != float("inf") else None
        while True:
            done, _ = await asyncio.wait({fut}, timeout=step)
            if done:
                return fut.result()
            stalled = self.stalled().get(stage)
            if stalled is not None:
                raise StageStalled(stage, stalled)
