"""The one thread → asyncio bridge of the package.

Audio callbacks (PortAudio), worker threads (llama.cpp generation, model loading) and the event
loop meet here: :class:`ThreadBridge` is an unbounded queue a thread feeds with :meth:`put` and a
coroutine drains with :meth:`get`; :func:`call_soon` runs a function on the loop from any thread.
Both report a closed loop instead of raising (the consumer has left: the producer stops)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., object], *args: object) -> bool:
    """Run ``fn(*args)`` on ``loop`` (from any thread). False when the loop is closed."""
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        return False
    return True


class ThreadBridge(Generic[T]):
    """Items from a thread to a coroutine, in order. Create it on the loop that consumes it."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self._queue: asyncio.Queue[T] = asyncio.Queue()
        self.closed = False  # the loop was gone when a producer tried to put

    def put(self, item: T) -> bool:
        """From any thread. False (and ``closed``) when the consuming loop is gone."""
        if self.closed:
            return False
        if not call_soon(self.loop, self._queue.put_nowait, item):
            self.closed = True
            return False
        return True

    def put_nowait(self, item: T) -> None:
        """On the loop's own thread."""
        self._queue.put_nowait(item)

    async def get(self) -> T:
        return await self._queue.get()
