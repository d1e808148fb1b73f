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


# A child process: glibc's malloc state is per process and the thresholds are set once.
_THRESHOLD_PROBE = """
import sys
from bantz_voice import sysmem
if sys.argv[1] == "fixed":
    assert sysmem.fix_malloc_thresholds() is True
big = bytearray(16 * 1024 * 1024)  # mmapped; freeing it raises glibc's adaptive threshold to 16 MB
del big
block = bytearray(6 * 1024 * 1024)  # a turn's large buffer: its own mapping only while the threshold is fixed
block[::4096] = b"\\x01" * len(block[::4096])
before = sysmem.rss_mb()
del block  # an own mapping goes back to the system at once; a heap block stays resident
print(before - sysmem.rss_mb())
"""


def _freed_at_once_mb(mode: str) -> float:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _THRESHOLD_PROBE, mode], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return float(out.stdout)


def test_fixed_malloc_thresholds_keep_large_buffers_out_of_the_heap():
    if sysmem._libc() is None or not hasattr(sysmem._libc(), "mallopt"):
        pytest.skip("no glibc mallopt here")
    assert _freed_at_once_mb("adaptive") < 1  # glibc's adaptation: the 6 MB stayed in the heap
    assert _freed_at_once_mb("fixed") > 5  # fixed (sysmem.MMAP_THRESHOLD): its own mapping, unmapped when freed


def test_fixing_malloc_thresholds_is_a_no_op_without_glibc(monkeypatch: pytest.MonkeyPatch):
    sysmem.fix_malloc_thresholds.cache_clear()
    monkeypatch.setattr(sysmem, "_libc", lambda: None)
    try:
        assert sysmem.fix_malloc_thresholds() is False
    finally:
        sysmem.fix_malloc_thresholds.cache_clear()


async def test_the_shared_start_up_fixes_the_thresholds_once_before_loading(monkeypatch: pytest.MonkeyPatch):
    import numpy as np

    from bantz_voice import app
    from bantz_voice.config import Settings
    from bantz_voice.responder import EchoResponder
    from bantz_voice.tts.base import TextToSpeech

    class Silent(TextToSpeech):  # stands in for Whisper and Piper: this test is about the order only
        def __init__(self, settings: object) -> None:
            self.settings = settings

        def render(self, spoken: str) -> np.ndarray:
            return np.zeros(0, dtype=np.int16)

    calls: list[str] = []
    monkeypatch.setattr(sysmem, "fix_malloc_thresholds", lambda: calls.append("mallopt") or True)
    settings = Settings()
    monkeypatch.setattr(app, "load_transcriber", lambda *a, **k: calls.append("load") or Silent(settings.asr))
    pipeline = await app.start_pipeline(settings, EchoResponder(), tts=Silent(settings.tts))
    try:
        assert calls == ["mallopt", "load"]
    finally:
        await pipeline.aclose()


class _Cache:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def release(self) -> None:
        self.calls.append("release")


def test_registered_caches_are_emptied_before_the_trim_and_held_weakly(monkeypatch: pytest.MonkeyPatch):
    calls: list[str] = []
    monkeypatch.setattr(sysmem, "_releasers", [])
    monkeypatch.setattr(sysmem, "_malloc_trim", lambda: lambda pad: calls.append("trim") or 1)
    cache = _Cache()
    cache.calls = calls
    sysmem.on_release(cache.release)
    assert sysmem.release_freed_memory()
    assert calls == ["release", "trim"]
    del cache
    gc.collect()
    calls.clear()
    assert sysmem.release_freed_memory()
    assert calls == ["trim"]  # gone with its object, not kept alive by the registry
    sysmem.on_release(_Cache().release)  # registering prunes the dead entries
    assert len(sysmem._releasers) <= 1
