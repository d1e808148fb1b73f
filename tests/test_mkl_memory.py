"""Whisper's MKL buffer cache is emptied before the heap trim after a turn (bantz_voice.asr's
``Transcriber.release_cached_buffers``, registered with ``sysmem.on_release``): MKL's fast memory
manager would otherwise keep a decode's working buffers resident between turns (docs/benchmarks.md,
"RSS after READY")."""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pytest

from bantz_voice import sysmem
from bantz_voice.asr import Transcriber, mkl_free_buffers
from bantz_voice.audio.wavio import read_wav

DATA = Path(__file__).resolve().parent / "data"


def _mkl_cached_buffers() -> int:
    """How many buffers MKL's memory manager holds now (``mkl_mem_stat``), from the same library."""
    free = mkl_free_buffers()
    assert free is not None
    lib = next(ln.split(None, 5)[5].strip() for ln in Path("/proc/self/maps").read_text().splitlines()
               if len(ln.split(None, 5)) == 6 and Path(ln.split(None, 5)[5].strip()).name.startswith("libctranslate2"))
    stat = ctypes.CDLL(lib).mkl_serv_mem_stat
    stat.argtypes, stat.restype = [ctypes.POINTER(ctypes.c_int)], ctypes.c_int64
    n = ctypes.c_int(0)
    stat(ctypes.byref(n))
    return n.value


def _utterance() -> np.ndarray:
    return read_wav(DATA / "tr_randevu.wav")


def test_the_trim_after_a_turn_empties_mkls_buffer_cache(whisper: Transcriber) -> None:
    if mkl_free_buffers() is None:
        pytest.skip("this CTranslate2 build has no MKL")
    sysmem.release_freed_memory()
    before = _mkl_cached_buffers()
    whisper.transcribe(_utterance())
    cached = _mkl_cached_buffers()
    if cached <= before:
        pytest.skip("MKL cached no buffer in this decode (its GEMMs not used on this CPU)")
    assert sysmem.release_freed_memory()
    assert _mkl_cached_buffers() < cached


def test_the_cache_is_not_touched_while_a_decode_runs(whisper: Transcriber) -> None:
    if mkl_free_buffers() is None:
        pytest.skip("this CTranslate2 build has no MKL")
    with whisper._lock:  # a decode in progress holds it
        assert whisper.release_cached_buffers() is False  # returns at once, without waiting
    assert whisper.release_cached_buffers() is True
