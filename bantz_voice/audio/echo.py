"""Is the reply's own audio in the microphone? (Echo detection for barge-in.)

With loudspeakers the assistant hears itself: its reply reaches the microphone attenuated and
delayed (tens to hundreds of ms: output buffer + air + input buffer). This module finds it the way
an echo canceller does before it adapts: by correlating what the speaker played (the sink records
it: :class:`PlaybackReference`) with what the microphone heard, searching the delay.

- :class:`PlaybackReference`: a thread-safe ring of the samples the output callback handed to the
  device (idle zeros included, so its timeline is continuous), each push stamped with the
  monotonic time; :meth:`PlaybackReference.segment` returns the 16 kHz reference that ends at a
  given time (the microphone frame's capture time), so a late event loop does not skew the delay.
- :func:`correlate`: the normalised cross-correlation of a microphone window with a reference
  segment over a range of delays (FFT; both pre-emphasised, which whitens speech and sharpens the
  peak); returns the best delay, its correlation and the estimated level of the echo.

What to do with the answer is :mod:`bantz_voice.audio.bargein`'s business.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass

import numpy as np
import soxr

RATE = 16000
PRE_EMPHASIS = 0.95


class PlaybackReference:
    """The last ``seconds`` of what the speaker played, at the device's rate, with push times.

    ``push`` is called from the audio callback (cheap: one copy into a ring under a lock);
    ``segment`` from the event loop."""

    def __init__(self, seconds: float = 4.0) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._rate = 0
        self._ring = np.zeros(0, dtype=np.float32)
        self._total = 0  # samples pushed since the last reset
        self._marks: collections.deque[tuple[float, int]] = collections.deque(maxlen=512)  # (push time, total after it)
        self._last_loud = -1.0  # push time of the last block above the silence floor

    @property
    def rate(self) -> int:
        return self._rate

    def reset(self, rate: int = 0) -> None:
        with self._lock:
            self._reset_locked(rate)

    def _reset_locked(self, rate: int) -> None:
        self._rate = rate
        self._ring = np.zeros(int(self.seconds * rate) if rate else 0, dtype=np.float32)
        self._total = 0
        self._marks.clear()

    def push(self, samples: np.ndarray, rate: int, t: float) -> None:
        """``samples`` (int16) were handed to the device at monotonic time ``t``."""
        n = int(samples.size)
        if n == 0 or rate <= 0:
            return
        with self._lock:
            self._write_locked(samples, n, rate, t)
            if samples.any():
                self._last_loud = t

    def push_silence(self, n: int, rate: int, t: float) -> None:
        """``n`` samples of silence were played at ``t`` (the idle callback: no array to copy)."""
        if n <= 0 or rate <= 0:
            return
        with self._lock:
            self._write_locked(None, n, rate, t)

    def _write_locked(self, samples: np.ndarray | None, n: int, rate: int, t: float) -> None:
        """Append ``n`` played samples (int16 ``samples``, or silence when None) pushed at ``t``.

        Sample number ``k`` of the stream (counted from the last reset) lives at ``k % size``, which
        is where :meth:`segment` reads it; of a block longer than the ring only its last ``size``
        samples are kept, at their own positions."""
        if rate != self._rate:
            self._reset_locked(rate)
        ring = self._ring
        size = ring.size
        if size:
            keep = min(n, size)
            start = (self._total + n - keep) % size
            first = min(keep, size - start)
            if samples is None:
                ring[start : start + first] = 0.0
                ring[: keep - first] = 0.0
            else:
                tail = samples[n - keep :].astype(np.float32) / 32768.0
                ring[start : start + first] = tail[:first]
                ring[: keep - first] = tail[first:]
        self._total += n
        self._marks.append((t, self._total))

    def played_since(self, t: float) -> bool:
        """Anything but silence pushed at or after ``t``."""
        return self._last_loud >= t

    def segment(self, n16: int, end_t: float) -> np.ndarray | None:
        """The 16 kHz reference (float32, -1..1) of ``n16`` samples whose last sample was pushed at
        ``end_t`` (the total at the last push not after it). None when the ring does not hold it."""
        with self._lock:
            rate, total, ring = self._rate, self._total, self._ring
            if not rate or not self._marks:
                return None
            end = None
            for t, count in reversed(self._marks):
                if t <= end_t:
                    end = count
                    break
            if end is None:
                return None
            need = int(np.ceil(n16 * rate / RATE)) + 32  # a few extra for the resampler's edge
            if need > ring.size or end - need < total - ring.size:
                return None
            if end < need:  # before the stream's first sample nothing was played: silence
                raw = np.zeros(need, dtype=np.float32)
                raw[need - end :] = ring[:end]
            else:
                raw = ring[np.arange(end - need, end) % ring.size].copy()
        out = raw if rate == RATE else soxr.resample(raw, rate, RATE)
        if out.size < n16:
            return None
        return np.asarray(out[-n16:], dtype=np.float32)


@dataclass
class EchoEstimate:
    correlation: float  # normalised cross-correlation at the best delay (0..1)
    delay_ms: float  # where the reference is found in the microphone (from the frame's capture time)
    mic_rms: float  # of the microphone window (0..1)
    ref_rms: float  # of the reference at that delay
    echo_rms: float  # estimated level of the echo in the microphone: correlation × mic_rms

    @property
    def echo_dbfs(self) -> float:
        return 20 * float(np.log10(max(self.echo_rms, 1e-9)))


def _emphasis(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    out[0] = x[0]
    out[1:] = x[1:] - PRE_EMPHASIS * x[:-1]
    return out


def correlate(mic: np.ndarray, ref: np.ndarray) -> EchoEstimate:
    """``mic``: N samples (float, 16 kHz); ``ref``: N + M samples ending at the same instant as
    ``mic``. Searches delays 0..M (the echo of ``ref[-1-d]`` in ``mic[-1]`` is delay ``d``)."""
    mic = np.asarray(mic, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    n, total = mic.size, ref.size
    m = total - n
    if n < 16 or m < 0:
        raise ValueError("reference must be at least as long as the microphone window")
    mic_rms = float(np.sqrt(np.mean(mic * mic)))
    a = _emphasis(mic - mic.mean())
    b = _emphasis(ref - ref.mean())
    nfft = 1 << int(np.ceil(np.log2(total)))  # lags 0..m never wrap: i + k <= total - 1
    spec = np.fft.rfft(b, nfft) * np.conj(np.fft.rfft(a, nfft))
    cross = np.fft.irfft(spec, nfft)[: m + 1]  # cross[k] = sum_i a[i] * b[i + k]
    csum = np.concatenate(([0.0], np.cumsum(b * b)))
    e_ref = csum[n : n + m + 1] - csum[: m + 1]  # energy of b[k : k + n]
    e_mic = float(np.dot(a, a))
    if e_mic <= 1e-12:
        return EchoEstimate(0.0, 0.0, mic_rms, 0.0, 0.0)
    ncc = cross / np.sqrt(e_mic * np.maximum(e_ref, 1e-12))
    ncc[e_ref <= 1e-9 * n] = 0.0  # silent reference there: no evidence either way
    k = int(np.argmax(np.abs(ncc)))
    corr = float(min(1.0, abs(ncc[k])))
    seg = ref[k : k + n]
    return EchoEstimate(
        correlation=corr,
        delay_ms=(m - k) / RATE * 1000.0,
        mic_rms=mic_rms,
        ref_rms=float(np.sqrt(np.mean(seg * seg))),
        echo_rms=corr * mic_rms,
    )
