"""Process memory: the resident size, and handing freed heap back to the system after a turn.

A turn allocates and frees hundreds of MB (Whisper's decoder, Piper's audio, llama.cpp's logits, the
calendar's parsed objects). glibc keeps freed blocks in its arenas, so without a trim the daemon's
RSS climbs by a third over its first turns and stays there although nothing is in use
(docs/benchmarks.md, the daemon benchmark). ``malloc_trim(0)`` returns those pages; it runs off the
latency path, after a turn has finished. On a C library without it (musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os

log = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        fn = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


def rss_mb(pid: int | None = None) -> float | None:
    """Resident set size in MB from /proc (None where /proc is not readable)."""
    try:
        with open(f"/proc/{pid or os.getpid()}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def release_freed_memory() -> bool:
    """Give the heap's free pages back to the system. True when the C library could do it.
    Blocking (milliseconds on a large heap): call it from a worker thread."""
    fn = _malloc_trim()
    if fn is None:
        return False
    try:
        fn(0)
    except Exception:  # pragma: no cover - a C library that exports it but fails
        log.debug("malloc_trim failed", exc_info=True)
        return False
    return True
