"""CPU threads of the libraries the daemon loads: keep idle worker threads from burning a core.

numpy's OpenBLAS runs a matrix product larger than a few hundred thousand multiply-adds on every
core, and its worker threads then busy-wait for the next product for tens of milliseconds. The
products the daemon makes are small and come a few times a second at most (the wake-word model's
log-mel filterbank at every pause of the speech it hears, Whisper's mel features once per decode),
so the spinning cost far more than the products: 13 % of a core for two log-mel products a second
on this 2-core VM, 2.3 % of the daemon's 6.7 % during background speech (docs/benchmarks.md,
"Listening CPU"), and it competes with CTranslate2's and llama.cpp's own threads during a turn.

:func:`single_threaded_blas` runs once at start-up (``app.start_pipeline``, so every entry point
shares it): BLAS (only BLAS; the OpenMP pool of CTranslate2 and llama.cpp's threads keep their own
settings) computes on the calling thread, through threadpoolctl, which finds the BLAS libraries
loaded in the process whatever their build.

:data:`foreground` (:class:`Foreground`): the reply's first synthesis claims the CPU, and the
embedded LLM's decoding waits for it between tokens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

FOREGROUND_MAX_WAIT_S = 2.0  # the longest a step of background work waits for the foreground


def blas_threads() -> dict[str, int]:
    """Thread count of every BLAS library loaded in the process (its file name → threads)."""
    from threadpoolctl import threadpool_info

    return {info["filepath"].rsplit("/", 1)[-1]: int(info["num_threads"]) for info in threadpool_info()
            if info.get("user_api") == "blas"}


def single_threaded_blas() -> dict[str, int]:
    """Limit every loaded BLAS library to one thread (for the life of the process); returns the
    thread counts they had before. A failure is logged, never raised: it costs CPU, not function."""
    try:
        from threadpoolctl import threadpool_limits

        before = blas_threads()
        threadpool_limits(limits=1, user_api="blas")
    except Exception as exc:
        log.warning("could not limit BLAS to one thread (%s): idle BLAS threads may spin", exc)
        return {}
    if any(n != 1 for n in before.values()):
        log.debug("BLAS limited to one thread (was %s)", before)
    return before


class Foreground:
    """The spoken-latency path's claim on the CPU. While a reply's first chunk is synthesized
    (:meth:`hold`, held by :class:`~bantz_voice.voice.output.SpeechOutput`), work that can wait
    yields between its steps (:meth:`wait`): the embedded LLM decodes the reply's later words one
    token at a time and pauses until the synthesis is done. On a 2-core machine the synthesis of a
    first chunk took 514 ms beside a decoding LLM and 278 ms with it paused (290 ms alone; the LLM
    on one thread, docs/benchmarks.md). The later chunks are synthesized while the first one plays,
    so the LLM's pause of a synthesis costs the reply nothing the user hears."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds = 0
        self._free = threading.Event()
        self._free.set()
        self.waiting = 0  # threads waiting in wait() now (tests, status)

    @property
    def held(self) -> bool:
        return not self._free.is_set()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """The foreground is claimed while the block runs (holds nest; released however it ends)."""
        with self._lock:
            self._holds += 1
            self._free.clear()
        try:
            yield
        finally:
            with self._lock:
                self._holds -= 1
                if self._holds == 0:
                    self._free.set()

    def wait(self, max_wait_s: float = FOREGROUND_MAX_WAIT_S) -> bool:
        """Background work, between steps: returns at once when nothing holds the foreground, else
        when it is released or after ``max_wait_s`` (a stuck holder never stops the work for good).
        True when it was free."""
        if self._free.is_set():
            return True
        with self._lock:
            self.waiting += 1
        try:
            return self._free.wait(max_wait_s)
        finally:
            with self._lock:
                self.waiting -= 1


foreground = Foreground()
