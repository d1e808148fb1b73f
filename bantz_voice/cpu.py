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
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


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
