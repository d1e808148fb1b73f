"""The single active turn.

:meth:`TurnRunner.claim` makes a turn the active one: the turn still running is cancelled (its
speech stopped) and awaited first, so two replies never overlap and a turn's state is never
mixed with the one that replaced it. :meth:`idle` waits until no turn runs (a responder swap)."""

from __future__ import annotations

import asyncio

from bantz_voice.voice.turn import Turn


class TurnRunner:
    def __init__(self) -> None:
        self.current: Turn | None = None

    @property
    def busy(self) -> bool:
        return self.current is not None and not self.current.done.is_set()

    async def claim(self, turn: Turn) -> None:
        """Call from the task that runs ``turn``."""
        previous = self.current
        task = asyncio.current_task()
        if task is not None:
            turn.attach(task)
        self.current = turn
        if previous is not None and previous is not turn and not previous.done.is_set():
            previous.cancel()
            await previous.wait()

    def release(self, turn: Turn) -> None:
        if self.current is turn:
            self.current = None

    def cancel(self) -> bool:
        """Cancel the active turn (its speech stops now). True when one was running."""
        turn = self.current
        return turn.cancel() if turn is not None else False

    async def idle(self) -> None:
        while self.current is not None and not self.current.done.is_set():
            await self.current.wait()
