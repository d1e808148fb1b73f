"""Process memory: the resident size, and handing freed heap back to the system after a turn.

A turn allocates and frees hundreds of MB (Whisper's decoder, Piper's audio, llama.cpp's logits, the
calendar's parsed objects). glibc keeps freed blocks in its arenas, so without a trim the daemon's
RSS climbs by a third over its first turns and stays there although nothing is in use
(docs/benchmarks.md, the daemon benchmark). ``malloc_trim(0)`` returns those pages; it runs off the
latency path, after a turn has finished. On a C library without it (musl) it does nothing.

:func:`fix_malloc_thresholds` runs once at start-up (``app.start_pipeline``): glibc raises its mmap
threshold each time a large mmapped block is freed (up to 32 MB on 64-bit), so after the first turns
the large, short-lived buffers of a turn (audio, features, logits) come from the arenas instead of
their own mappings and leave the arenas fragmented and resident. Fixed thresholds switch that
adaptation off: a block of :data:`MMAP_THRESHOLD` bytes or more is always its own mapping, returned to
the system when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import weakref
from collections.abc import Callable

log = logging.getLogger(__name__)

# glibc's <malloc.h> parameter numbers for mallopt().
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# glibc's initial value is 128 KB. 256 KB made every turn's smaller buffers (Whisper's features,
# Piper's audio) fresh mappings: ASR 1.6x and TTS 1.4x slower in an A/B on this VM. 4 MB keeps those
# in the arenas and still sends the large ones (kept KV states, logits, whole utterances) to their own
# mappings: the same ASR/TTS times within the run's noise, RSS after 4 rounds 375 vs 440 MB.
MMAP_THRESHOLD = 4 * 1024 * 1024
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # the ratio glibc's own adaptation keeps


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def _libc_function(name: str, *argtypes: type) -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """The C library's function ``name`` returning int, or None where there is none (musl)."""
    libc = _libc()
    try:
        fn = getattr(libc, name) if libc is not None else None
    except AttributeError:
        return None
    if fn is None:
        return None
    fn.argtypes = list(argtypes)
    fn.restype = ctypes.c_int
    return fn


@functools.cache
def _malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    return _libc_function("malloc_trim", ctypes.c_size_t)


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


def memory_map(pid: int | None = None) -> dict[str, dict[str, int]]:
    """Resident memory per mapping from ``/proc/PID/smaps``, in kB, summed by what backs it: the file's
    path (a model mmapped by llama.cpp, a shared library), or ``[heap]``, ``[stack]``, ``[anon]``
    (anonymous mmaps: large malloc blocks, thread arenas, numpy buffers). Each entry has ``rss`` and
    ``anon`` (the private anonymous part: a file-backed mapping's copy-on-write pages). Empty where
    /proc is not readable. Used by the daemon benchmark to show what grew between READY and later."""
    out: dict[str, dict[str, int]] = {}
    entry: dict[str, int] | None = None
    try:
        with open(f"/proc/{pid or os.getpid()}/smaps", encoding="utf-8", errors="replace") as f:
            for line in f:
                head, _, rest = line.partition(" ")
                if not head.endswith(":"):  # a mapping's header: address perms offset dev inode [path]
                    parts = line.split(None, 5)
                    name = parts[5].strip() if len(parts) > 5 else ""
                    if not name or name.startswith("[anon:"):
                        name = "[anon]"
                    entry = out.setdefault(name, {"rss": 0, "anon": 0})
                elif entry is not None and head in ("Rss:", "Anonymous:"):
                    entry["rss" if head == "Rss:" else "anon"] += int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return {}
    return out


def memory_growth(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], top: int = 12
) -> list[dict[str, int | str]]:
    """The mappings whose resident size changed most between two :func:`memory_map` snapshots
    (largest absolute change first; kB), with the change of their anonymous part."""
    rows: list[dict[str, int | str]] = []
    for name in before.keys() | after.keys():
        a, b = before.get(name, {"rss": 0, "anon": 0}), after.get(name, {"rss": 0, "anon": 0})
        d = b["rss"] - a["rss"]
        if d or b["anon"] != a["anon"]:
            rows.append({"mapping": name, "rss_kb_before": a["rss"], "rss_kb_after": b["rss"], "rss_kb_delta": d,
                         "anon_kb_delta": b["anon"] - a["anon"]})
    rows.sort(key=lambda r: -abs(int(r["rss_kb_delta"])))
    return rows[:top]


_releasers: list[weakref.WeakMethod[Callable[[], object]]] = []


def on_release(method: Callable[[], object]) -> None:
    """Have :func:`release_freed_memory` call ``method`` (a bound method, held weakly: it goes with
    its object) before the trim: an engine's own cache of freed buffers (MKL's, for Whisper) goes
    back to the heap first, so the trim can return its pages."""
    _releasers[:] = [r for r in _releasers if r() is not None] + [weakref.WeakMethod(method)]


def release_freed_memory() -> bool:
    """Give the heap's free pages back to the system, after the engines registered with
    :func:`on_release` have emptied their caches. True when the C library could trim.
    Blocking (milliseconds on a large heap): call it from a worker thread."""
    for ref in list(_releasers):
        release = ref()
        if release is None:
            continue
        try:
            release()
        except Exception:  # an engine's cache that cannot be emptied: trim what can be
            log.warning("releasing %r failed", release, exc_info=True)
    fn = _malloc_trim()
    if fn is None:
        return False
    try:
        fn(0)
    except Exception:  # pragma: no cover - a C library that exports it but fails
        log.debug("malloc_trim failed", exc_info=True)
        return False
    return True


@functools.cache
def fix_malloc_thresholds() -> bool:
    """Fix glibc's mmap and trim thresholds (see the module's docstring). Once per process (cached);
    True when the C library took both, False where it has no ``mallopt`` (musl) or refused."""
    mallopt = _libc_function("mallopt", ctypes.c_int, ctypes.c_int)
    if mallopt is None:
        return False
    ok = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    log.debug("malloc thresholds fixed (mmap %d B, trim %d B): %s", MMAP_THRESHOLD, TRIM_THRESHOLD, ok)
    return ok
