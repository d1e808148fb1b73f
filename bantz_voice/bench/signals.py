"""Signal analysis the benchmark harnesses share (scripts/bench_daemon.py, scripts/bench_echo.py)."""

from __future__ import annotations

import numpy as np


def estimate_delay(recorded: np.ndarray, probe: np.ndarray) -> tuple[int, float]:
    """(lag in samples, normalised correlation peak) of ``probe`` inside ``recorded`` (FFT
    cross-correlation); ``(0, 0.0)`` when ``recorded`` is shorter than ``probe``."""
    r = recorded.astype(np.float64)
    p = probe.astype(np.float64)
    if r.size < p.size:
        return 0, 0.0
    n = 1 << int(np.ceil(np.log2(r.size + p.size)))
    corr = np.fft.irfft(np.fft.rfft(r, n) * np.conj(np.fft.rfft(p, n)), n)[: r.size - p.size + 1]
    lag = int(np.argmax(corr))
    energy = np.sqrt(np.sum(p * p) * np.sum(r[lag : lag + p.size] ** 2)) + 1e-9
    return lag, float(corr[lag] / energy)
