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
    block = bytearray(48 * 1024 * 1024)  # anonymous memory: its own mapping, or the heap's free top
    block[::4096] = b"\x01" * len(block[::4096])  # touch every page
    after = sysmem.memory_map()
    grew = sysmem.memory_growth(before, after)
    # which one depends on what earlier code in this process freed (a large free top is reused)
    assert grew[0]["mapping"] in ("[anon]", "[heap]"), grew
    assert int(grew[0]["rss_kb_delta"]) >= 40 * 1024
    assert int(grew[0]["anon_kb_delta"]) >= 40 * 1024
    assert len(block) == 48 * 1024 * 1024
