"""Audio out. ``Player`` plays int16 chunks through a sounddevice ``OutputStream`` at the voice's
rate (resampled when the device refuses it) and stops within one 20 ms block. ``WavSink`` is the
device-free sink used by ``once``: it records what would have been played.

Sink protocol (what the pipeline uses): ``await begin(rate)``, ``write(samples)``,
``await drain()``, ``stop()``, ``await end()``, ``started_at``, ``level``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from pathlib import Path
from typing import Protocol

import numpy as np
import soxr

from bantz_voice.audio.source import _sd, find_device, stream_closed, stream_opened
from bantz_voice.audio.wavio import write_wav
from bantz_voice.errors import AudioInputError

log = logging.getLogger(__name__)


class AudioSink(Protocol):
    started_at: float | None
    level: float

    async def begin(self, rate: int) -> None: ...

    def write(self, samples: np.ndarray) -> None: ...

    async def drain(self) -> None: ...

    def stop(self) -> None: ...

    async def end(self) -> None: ...


class Player:
    """One output stream per reply (opened in ``begin``, closed in ``end``: no idle CPU)."""

    def __init__(self, device: str | int | None = None, *, block_ms: int = 20) -> None:
        self.device = device
        self.block_ms = block_ms
        self.started_at: float | None = None
        self.level = 0.0  # RMS (0..1) of the block being played — the barge-in echo reference
        self._lock = threading.Lock()
        self._chunks: collections.deque[np.ndarray] = collections.deque()
        self._stream = None
        self._rate = 0
        self._resampler = None
        self._empty = threading.Event()
        self._stopped = False
        self.played_samples = 0
        self.stopped_at: float | None = None  # when stop() was called
        self.last_audio_at: float | None = None  # when a callback last delivered reply audio

    def check(self) -> None:
        find_device(self.device, "output")

    async def begin(self, rate: int) -> None:
        await asyncio.to_thread(self._open, rate)

    def _open(self, rate: int) -> None:
        sd = _sd()
        idx = find_device(self.device, "output")
        self.started_at = None
        self.stopped_at = None
        self.last_audio_at = None
        self._stopped = False
        self.played_samples = 0
        self._chunks.clear()
        self._empty.set()
        info = sd.query_devices(idx, "output") if idx is not None else sd.query_devices(kind="output")
        native = None
        for cand in dict.fromkeys([rate, int(info.get("default_samplerate") or 48000), 48000, 44100]):
            try:
                sd.check_output_settings(device=idx, channels=1, dtype="int16", samplerate=cand)
            except Exception:
                continue
            native = cand
            break
        if native is None:
            raise AudioInputError("hoparlör açılamadı: aygıt hiçbir örnekleme hızını kabul etmiyor")
        self._resampler = None if native == rate else soxr.ResampleStream(rate, native, 1, dtype="int16")
        self._rate = native
        blocksize = native * self.block_ms // 1000
        try:
            self._stream = sd.OutputStream(
                device=idx, channels=1, dtype="int16", samplerate=native, blocksize=blocksize,
                latency="low", callback=self._callback,
            )
            self._stream.start()
            stream_opened()
        except Exception as exc:
            self._stream = None
            raise AudioInputError(f"hoparlör açılamadı: {exc}") from None

    def _callback(self, outdata, frames, time_info, status) -> None:
        out = outdata[:, 0]
        filled = 0
        with self._lock:
            while filled < frames and self._chunks:
                head = self._chunks[0]
                n = min(frames - filled, head.size)
                out[filled : filled + n] = head[:n]
                filled += n
                if n == head.size:
                    self._chunks.popleft()
                else:
                    self._chunks[0] = head[n:]
            empty = not self._chunks
        if filled:
            self.last_audio_at = time.monotonic()
            if self.started_at is None:
                self.started_at = self.last_audio_at
            seg = out[:filled].astype(np.float32) / 32768.0
            self.level = float(np.sqrt(np.mean(seg * seg)))
            self.played_samples += filled
        else:
            self.level = 0.0
        if filled < frames:
            out[filled:] = 0
        if empty:
            self._empty.set()

    def write(self, samples: np.ndarray) -> None:
        if self._stopped or samples.size == 0:
            return
        data = samples.astype(np.int16)
        if self._resampler is not None:
            data = self._resampler.resample_chunk(data)
        with self._lock:
            self._empty.clear()
            self._chunks.append(data)

    async def drain(self) -> None:
        """Wait until everything written has been played (or ``stop``)."""
        while not self._stopped:
            if await asyncio.to_thread(self._empty.wait, 0.05):
                with self._lock:
                    if not self._chunks:
                        break
        if not self._stopped and self._stream is not None:
            await asyncio.sleep(min(0.3, float(self._stream.latency or 0.0)) + self.block_ms / 1000)

    def stop(self) -> None:
        """Silence now: drop queued audio; the next callback (≤ one block) plays zeros."""
        if not self._stopped:
            self.stopped_at = time.monotonic()
        self._stopped = True
        with self._lock:
            self._chunks.clear()
        self.level = 0.0
        self._empty.set()

    async def end(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await asyncio.to_thread(_close, stream, self._stopped)
            stream_closed()
        self.level = 0.0


def _close(stream, abort: bool) -> None:
    try:
        if abort:
            stream.abort(ignore_errors=True)
        else:
            stream.stop(ignore_errors=True)
        stream.close(ignore_errors=True)
    except Exception:
        log.debug("closing output stream failed", exc_info=True)


class WavSink:
    """Collects the reply instead of playing it (``once`` without devices, tests, benchmarks)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self.rate = 0
        self.started_at: float | None = None
        self.level = 0.0
        self.parts: list[np.ndarray] = []
        self.stopped = False

    async def begin(self, rate: int) -> None:
        self.rate = rate
        self.stopped = False

    def write(self, samples: np.ndarray) -> None:
        if self.stopped or samples.size == 0:
            return
        if self.started_at is None:
            self.started_at = time.monotonic()
        self.parts.append(samples.astype(np.int16))

    async def drain(self) -> None:
        return None

    def stop(self) -> None:
        self.stopped = True

    @property
    def audio(self) -> np.ndarray:
        return np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int16)

    async def end(self) -> None:
        if self.path is not None and self.rate:
            write_wav(self.path, self.audio, self.rate)
