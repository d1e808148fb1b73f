"""Freed heap is handed back to the system (bantz_voice/sysmem.py): the daemon trims after each turn."""

from __future__ import annotations

import gc

import pytest

from bantz_voice import sysmem


def test_rss_is_read_from_proc():
    rss = sysmem.rss_mb()
    assert rss is not None and rss > 1


def test_freed_heap_pages_go_back_to_the_system():
    if sysmem._malloc_trim() is None:
        pytest.skip("this C library has no malloc_trim")
    # 96 KB blocks stay below glibc's mmap threshold, so they live in the heap; every 64th block is
    # kept, so freeing the others leaves holes that free() alone does not return
    blocks = [bytearray(96 * 1024) for _ in range(1600)]
    for b in blocks:
        b[::4096] = b"\x01" * len(b[::4096])  # touch every page
    keep = blocks[::64]
    del blocks
    gc.collect()
    before = sysmem.rss_mb()
    assert sysmem.release_freed_memory() is True
    after = sysmem.rss_mb()
    assert before is not None and after is not None
    assert before - after > 50, (before, after)  # ~145 MB were freed; most of it goes back
    assert len(keep) == 25


def test_memory_map_shows_what_grew_and_whether_it_is_anonymous():
    before = sysmem.memory_map()
    assert before, "smaps is readable on Linux"
    assert any(name.endswith((".so", ".so.6")) or ".so." in name for name in before)  # file-backed: libraries
    block = bytearray(48 * 1024 * 1024)  # above the mmap threshold: its own anonymous mapping
    block[::4096] = b"\x01" * len(block[::4096])  # touch every page
    after = sysmem.memory_map()
    grew = sysmem.memory_growth(before, after)
    assert grew[0]["mapping"] == "[anon]"
    assert int(grew[0]["rss_kb_delta"]) >= 40 * 1024
    assert int(grew[0]["anon_kb_delta"]) >= 40 * 1024
    assert len(block) == 48 * 1024 * 1024


_ARENA_PROBE = r"""
import ctypes, sys, threading
from bantz_voice import sysmem
if sys.argv[1] == "cap":
    assert sysmem.limit_arenas(2)
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.open_memstream.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
n = 6
started, done = threading.Barrier(n + 1), threading.Event()
def worker():
    libc.malloc(200 * 1024)  # every worker thread allocates while all of them are alive
    started.wait()
    done.wait()
threads = [threading.Thread(target=worker) for _ in range(n)]
for t in threads:
    t.start()
started.wait()
buf, size = ctypes.c_char_p(), ctypes.c_size_t()
fp = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
libc.malloc_info(0, fp)
libc.fclose(fp)
done.set()
for t in threads:
    t.join()
print(buf.value.decode().count("<heap nr="))
"""


@pytest.mark.parametrize("mode", ["cap", "default"])
def test_threads_share_the_capped_arenas(mode: str) -> None:
    """glibc gives every allocating thread its own arena (up to 8 per core); after limit_arenas(2)
    six allocating threads share two (a fresh process: the cap applies to arenas made after it)."""
    import os
    import subprocess
    import sys

    if sysmem._mallopt() is None or sysmem._malloc_trim() is None:
        pytest.skip("not glibc")
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run([sys.executable, "-c", _ARENA_PROBE, mode], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    heaps = int(out.stdout.strip())
    if mode == "cap":
        assert heaps <= 2
    else:
        assert heaps > 2  # the probe can tell the difference
