"""Work a turn may start before it is final, because it has no side effects.

A :class:`Speculation` holds, for one request text, the route/plan decision (fast path, LLM router,
orchestrator: pure functions of the text and the conversation so far) and, when the chat model may
be needed, its reply stream buffered in the background. Nothing here touches a tool, the calendar
or the memory: those happen when the turn claims the speculation.

Two uses, one object:

- ``Brain.prepare(text)`` during the VAD hangover, on the speculative transcript; the turn that
  follows with the same text and the same conversation state claims it (``key``), anything else
  cancels it;
- inside a turn, the chat reply started in parallel with the LLM router on a server backend
  (``brain.parallel_chat``), cancelled when the router picks a tool route.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime
from typing import Any

from bantz_voice.brain.chat import LanguageGuard
from bantz_voice.brain.router import Routed
from bantz_voice.trace import TurnTrace


class DeferredTrace:
    """Stands in for a :class:`TurnTrace` that does not exist yet: marks made before ``adopt``
    are replayed onto the turn's trace no earlier than the adoption (a stage cannot end before
    the turn that uses it began), later marks go straight through."""

    def __init__(self) -> None:
        self._marks: list[tuple[str, float]] = []
        self._trace: TurnTrace | None = None
        self._adopted_at = 0.0

    def mark(self, stage: str, at: float | None = None, *, first: bool = True) -> None:
        t = time.monotonic() if at is None else at
        if self._trace is not None:
            self._trace.mark(stage, max(t, self._adopted_at), first=first)
        else:
            self._marks.append((stage, t))

    def adopt(self, trace: TurnTrace) -> None:
        self._trace, self._adopted_at = trace, time.monotonic()
        for stage, t in self._marks:
            trace.mark(stage, max(t, self._adopted_at))
        self._marks.clear()


class BufferedStream:
    """Pulls an async generator in a background task into a queue; iterating replays what was
    buffered and then follows live. The generator's exception is re-raised to the reader."""

    def __init__(self, agen: AsyncIterator[str]) -> None:
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] = asyncio.get_running_loop().create_task(self._pump(agen))

    async def _pump(self, agen: AsyncIterator[str]) -> None:
        try:
            async for piece in agen:
                self._queue.put_nowait(("piece", piece))
            self._queue.put_nowait(("end", None))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._queue.put_nowait(("error", exc))
        finally:
            await agen.aclose()  # type: ignore[attr-defined]

    async def __aiter__(self) -> AsyncIterator[str]:
        while True:
            kind, value = await self._queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value

    def cancel(self) -> None:
        self._task.cancel()


def _retrieve(task: asyncio.Task[Any]) -> None:
    """A discarded speculation's error is nobody's business (the turn that needs it re-raises it)."""
    if not task.cancelled():
        task.exception()


class Speculation:
    """The side-effect-free part of one turn, started early. ``routed()`` awaits the decision;
    ``chat(start)`` returns the buffered reply stream, starting it with ``start`` when the
    speculation did not already; ``cancel()`` stops whatever is still running."""

    def __init__(
        self,
        key: tuple[object, ...],
        now: datetime,
        route: Callable[[DeferredTrace], Coroutine[Any, Any, Routed]],
        chat: Callable[[DeferredTrace, LanguageGuard], AsyncIterator[str]] | None = None,
        *,
        expire_s: float | None = None,
    ) -> None:
        self.key = key
        self.now = now
        self.trace = DeferredTrace()
        self.guard = LanguageGuard()
        loop = asyncio.get_running_loop()
        self._route = loop.create_task(route(self.trace))
        self._route.add_done_callback(_retrieve)
        self._chat: BufferedStream | None = None
        if chat is not None:
            self._chat = BufferedStream(chat(self.trace, self.guard))
        self._expiry = loop.call_later(expire_s, self.cancel) if expire_s else None

    def claim(self, trace: TurnTrace) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        self.trace.adopt(trace)

    async def routed(self) -> Routed:
        return await asyncio.shield(self._route)

    def chat(self, start: Callable[[DeferredTrace, LanguageGuard], AsyncIterator[str]]) -> BufferedStream:
        if self._chat is None:
            self._chat = BufferedStream(start(self.trace, self.guard))
        return self._chat

    def drop_chat(self) -> None:
        """The turn will not chat (a tool route): stop the reply started in parallel."""
        if self._chat is not None:
            self._chat.cancel()

    def cancel(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        self._route.cancel()
        if self._chat is not None:
            self._chat.cancel()
