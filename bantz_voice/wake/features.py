"""Log-mel features of the wake-word model, in numpy only (shared by training and run time).

One definition for both sides, so the model never sees features computed differently from the
ones it was trained on: 16 kHz audio, 25 ms Hann window, 10 ms hop, 512-point FFT, 40 mel bands
(60 Hz-7.6 kHz, HTK mel scale), natural log, per-window mean subtracted per band (cepstral mean
normalisation: the microphone's gain and colour become a constant that is removed).
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
WIN = 400
HOP = 160
N_FFT = 512
N_MELS = 40
WINDOW_S = 1.0
WINDOW_SAMPLES = int(SAMPLE_RATE * WINDOW_S)
WINDOW_FRAMES = 1 + (WINDOW_SAMPLES - WIN) // HOP  # 98
STEP_FRAMES = 10  # windows 100 ms apart


def _mel_filterbank(n_mels: int = N_MELS, fmin: float = 60.0, fmax: float = 7600.0) -> np.ndarray:
    def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    mels = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    hz = 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    freqs = np.linspace(0.0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    fb = np.zeros((n_mels, freqs.size), dtype=np.float32)
    for m in range(n_mels):
        left, centre, right = hz[m], hz[m + 1], hz[m + 2]
        rising = (freqs - left) / (centre - left)
        falling = (right - freqs) / (right - centre)
        fb[m] = np.clip(np.minimum(rising, falling), 0.0, None)
    return fb


_FB = _mel_filterbank()
_HANN = np.hanning(WIN + 1)[:WIN].astype(np.float32)  # periodic Hann


def to_float(audio: np.ndarray) -> np.ndarray:
    """int16 or float audio → float32 in [-1, 1]."""
    a = np.asarray(audio)
    if a.dtype == np.int16:
        return a.astype(np.float32) / 32768.0
    return a.astype(np.float32, copy=False)


def log_mel_frames(audio: np.ndarray) -> np.ndarray:
    """(frames, N_MELS) log-mel energies of 16 kHz audio (int16 or float), no padding at the ends.
    Audio shorter than one window is padded with zeros to one window."""
    x = to_float(audio)
    if x.size < WINDOW_SAMPLES:
        x = np.concatenate([x, np.zeros(WINDOW_SAMPLES - x.size, dtype=np.float32)])
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > 1e-6:
        x = x * (0.7 / peak)  # the floor below is relative to a normalised level
    n = 1 + (x.size - WIN) // HOP
    idx = np.arange(WIN)[None, :] + HOP * np.arange(n)[:, None]
    frames = x[idx] * _HANN
    power = np.abs(np.fft.rfft(frames, n=N_FFT, axis=1)) ** 2
    return np.log(power @ _FB.T + 1e-6).astype(np.float32)


def windows(frames: np.ndarray, starts: list[int] | None = None, max_start: int | None = None) -> np.ndarray:
    """(B, N_MELS, WINDOW_FRAMES) model inputs from ``log_mel_frames`` output: windows starting at
    the given frame indices (default: every STEP_FRAMES up to ``max_start``), mean-normalised."""
    last = frames.shape[0] - WINDOW_FRAMES
    if starts is None:
        top = last if max_start is None else min(last, max_start)
        starts = list(range(0, max(0, top) + 1, STEP_FRAMES))
    out = np.stack([frames[s : s + WINDOW_FRAMES] for s in starts if 0 <= s <= last])
    out = out - out.mean(axis=1, keepdims=True)
    return np.ascontiguousarray(out.transpose(0, 2, 1), dtype=np.float32)
