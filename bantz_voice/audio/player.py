"""Audio out. ``Player`` plays int16 chunks through a sounddevice ``OutputStream`` at the voice's
rate (resampled when the device refuses it) and stops within one 20 ms block; the listening loop
keeps one stream open between replies (``keep_open``). ``WavSink`` is the
device-free sink used by ``once``: it records what would have been played.

:class:`AudioSink` is the base class the voice loop is typed against: ``await begin(rate)``,
``write(samples)``, ``await drain()``, ``stop()``, ``await end()``, ``started_at``, ``level``, and
``prepare``/``fail``/``close``/``cue`` with defaults that do nothing.

A cue (an earcon) plays on the reply's own kept-open stream (:meth:`Player.cue`): no stream is
opened for it, the echo reference includes it, and a reply's first audio cuts it (a short fade)
instead of being heard under it.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from pathlib import Path

import numpy as np
import soxr

from bantz_voice.audio.echo import PlaybackReference
from bantz_voice.audio.source import _sd, find_device, stream_closed, stream_opened
from bantz_voice.audio.wavio import write_wav
from bantz_voice.errors import AudioInputError

log = logging.getLogger(__name__)


class AudioSink:
    """Where a reply's samples go. ``begin`` starts a reply at the voice's rate, ``write`` queues
    samples (never blocks), ``drain`` waits until they are played, ``stop`` silences at once,
    ``end`` finishes the reply. ``started_at`` (monotonic) is when the first sample was played,
    ``level`` the RMS of what plays now (the barge-in echo reference), ``reference`` what the device
    played with times (the echo guard's reference; None: this sink cannot tell)."""

    reference: PlaybackReference | None = None

    started_at: float | None = None
    level: float = 0.0

    async def begin(self, rate: int) -> None:
        raise NotImplementedError

    def write(self, samples: np.ndarray) -> None:
        raise NotImplementedError

    async def drain(self) -> None:
        return None

    def stop(self) -> None:
        return None

    async def end(self) -> None:
        return None

    async def prepare(self, rate: int) -> bool:
        """Open the device ahead of the first reply; True when it is open."""
        return False

    def fail(self) -> None:
        """The reply failed: reopen the device at the next ``begin``."""
        return None

    async def close(self) -> None:
        """Release the device (a kept-open stream)."""
        return None

    def cue(self, samples: np.ndarray, rate: int) -> bool:
        """Play a short sound (int16 at ``rate``) now, on the stream replies play on; a reply's first
        audio cuts it. False: this sink cannot (no open stream), the caller plays it another way."""
        return False


CUE_FADE_MS = 5  # a reply that starts while a cue plays fades the cue out over this long


class Player(AudioSink):
    """Plays replies through a sounddevice ``OutputStream`` at the voice's rate.

    ``keep_open=False`` (the CLI's ``say``): one stream per reply, opened in ``begin`` and closed in
    ``end``. ``keep_open=True`` (the listening loop): the stream stays open between replies, playing
    zeros while idle (one cheap callback per block), so ``begin`` costs nothing on the spoken-latency
    path; it is reopened only when the voice's rate changes, after the stream died (device lost,
    sound server restarted: logged once per outage, retried with back-off) or after an error.
    ``close()`` ends it. ``stop()`` silences within one block without closing the stream.
    """

    def __init__(
        self,
        device: str | int | None = None,
        *,
        block_ms: int = 20,
        keep_open: bool = False,
        reconnect_initial_s: float = 0.5,
        reconnect_max_s: float = 10.0,
    ) -> None:
        self.device = device
        self.block_ms = block_ms
        self.keep_open = keep_open
        self.reconnect_initial_s = reconnect_initial_s
        self.reconnect_max_s = reconnect_max_s
        self.started_at: float | None = None
        self.level = 0.0  # RMS (0..1) of the block being played — the barge-in echo reference
        self.reference: PlaybackReference | None = PlaybackReference()  # every block handed to the device
        self._lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._chunks: collections.deque[np.ndarray] = collections.deque()
        self._stream = None
        self._rate = 0  # the device's (stream's) rate
        self._voice_rate = 0  # the rate begin() was given for the open stream
        self._resampler = None
        self._empty = threading.Event()
        self._empty.set()
        self._stopped = False
        self._dead = False  # the stream finished on its own (device lost, server gone)
        self._failed = False  # an error during a reply: reopen at the next begin
        self._last_callback = 0.0
        self._opened_at = 0.0
        self._lost_logged = False
        self._retry_at = 0.0
        self._backoff = reconnect_initial_s
        self.opens = 0  # streams opened so far (reuse is visible in tests)
        self.played_samples = 0
        self.stopped_at: float | None = None  # when stop() was called
        self.last_audio_at: float | None = None  # when a callback last delivered reply audio
        self._cue: np.ndarray | None = None  # a cue playing (device rate) and how much of it has played
        self._cue_pos = 0
        self.cues = 0  # cues played on the stream
        self.cues_cut = 0  # cues a reply's first audio cut short

    def check(self) -> None:
        find_device(self.device, "output")

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    def _healthy(self, rate: int) -> bool:
        return rate == self._voice_rate and self._alive()

    async def begin(self, rate: int) -> None:
        if self.keep_open and self._healthy(rate):
            self._reset(rate)
            return
        await asyncio.to_thread(self._reopen, rate)

    async def prepare(self, rate: int) -> bool:
        """Open the kept-open stream ahead of the first reply (the loop calls it when it starts
        listening): the device's start-up then never delays a reply. Failures are logged (once per
        outage) and left to the next ``begin``. True when the stream is open."""
        if not self.keep_open:
            return False
        if not self._healthy(rate):
            try:
                await asyncio.to_thread(self._reopen, rate, True)
            except AudioInputError:
                return False
        return True

    def cue(self, samples: np.ndarray, rate: int) -> bool:
        """Play ``samples`` (int16 at ``rate``) on the kept-open stream from its next block: no stream
        is opened for it. A cue replaces one still playing; a reply's first audio cuts it (faded over
        ``CUE_FADE_MS``, mixed under the reply's first samples), so the reply is neither heard under
        it nor waits for it (a cue asked for while a reply plays is dropped the same way). False when
        no live stream is open."""
        if not self.keep_open or not self._alive():
            return False
        data = np.asarray(samples, dtype=np.int16)
        if data.size == 0:
            return True
        if rate != self._rate:
            data = soxr.resample(data, rate, self._rate)
        with self._lock:
            self._cue = data
            self._cue_pos = 0
        self.cues += 1
        return True

    def _alive(self) -> bool:
        """The stream is open and calls back: a live callback stream calls back every block, one silent
        for long is stuck (a fresh one may take a moment to start: give it longer before its first
        callback)."""
        s = self._stream
        if s is None or self._dead or self._failed:
            return False
        try:
            if not s.active:
                return False
        except Exception:
            return False
        if self._last_callback:
            return time.monotonic() - self._last_callback < max(1.0, 25 * self.block_ms / 1000)
        return time.monotonic() - self._opened_at < 5.0

    def _reset(self, rate: int) -> None:
        with self._lock:
            self._chunks.clear()
            self.started_at = None
            self.stopped_at = None
            self.last_audio_at = None
            self._stopped = False
            self.played_samples = 0
            self._empty.set()
            if self._rate != rate:  # fresh resampler state for every reply
                self._resampler = soxr.ResampleStream(rate, self._rate, 1, dtype="int16")

    def _reopen(self, rate: int, prepare: bool = False) -> None:
        with self._open_lock:  # prepare() and begin() may race at start-up
            if self.keep_open and self._healthy(rate):
                if not prepare:
                    self._reset(rate)
                return
            self._reopen_locked(rate)

    def _reopen_locked(self, rate: int) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            if self._dead:
                log.warning("speaker stream lost; reopening it")
            elif self.keep_open:
                log.info("reopening the speaker stream (%s)", "after an error" if self._failed else "sample rate changed")
            _close(stream, True)
            stream_closed()
        now = time.monotonic()
        if self.keep_open and now < self._retry_at:
            raise AudioInputError(f"hoparlör açılamadı (yeniden deneme {self._retry_at - now:.1f} sn sonra)")
        try:
            self._open(rate)
        except AudioInputError as exc:
            if self.keep_open:
                if not self._lost_logged:
                    log.warning("%s; retrying in %.1f s", exc, self._backoff)
                    self._lost_logged = True
                else:
                    log.debug("%s", exc)
                self._retry_at = time.monotonic() + self._backoff
                self._backoff = min(self._backoff * 2, self.reconnect_max_s)
            raise
        if self._lost_logged:
            log.warning("speaker reconnected")
        self._lost_logged = False
        self._backoff = self.reconnect_initial_s
        self._retry_at = 0.0

    def _open(self, rate: int) -> None:
        sd = _sd()
        idx = find_device(self.device, "output")
        self._dead = self._failed = False
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
        self._rate = native
        self._voice_rate = rate
        self._resampler = None
        self._cue = None  # resampled for the stream that was closed
        self._reset(rate)
        blocksize = native * self.block_ms // 1000
        self._last_callback = 0.0
        self._opened_at = time.monotonic()
        try:
            stream = sd.OutputStream(
                device=idx, channels=1, dtype="int16", samplerate=native, blocksize=blocksize,
                latency="low", callback=self._callback, finished_callback=self._finished,
            )
            stream.start()
        except Exception as exc:
            raise AudioInputError(f"hoparlör açılamadı: {exc}") from None
        self._stream = stream
        self.opens += 1
        stream_opened()

    def _finished(self) -> None:
        if self._stream is not None:
            self._dead = True
            self._empty.set()  # a drain() waiting for a dead stream returns

    def _callback(self, outdata, frames, time_info, status) -> None:
        self._last_callback = time.monotonic()
        ref = self.reference
        if not self._chunks and self._cue is None:  # idle (the common case while the loop listens): zeros, cheaply
            outdata.fill(0)
            if self.level:
                self.level = 0.0
            self._empty.set()
            if ref is not None:
                ref.push_silence(frames, self._rate, self._last_callback)
            return
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
            cue, pos = self._cue, self._cue_pos
            if cue is not None and filled:  # the reply starts: the cue fades out under its first samples
                n = min(cue.size - pos, max(1, self._rate * CUE_FADE_MS // 1000), filled)
                ramp = np.linspace(1.0, 0.0, n, endpoint=False, dtype=np.float32)
                mixed = out[:n].astype(np.float32) + cue[pos : pos + n].astype(np.float32) * ramp
                out[:n] = np.clip(mixed, -32768, 32767).astype(np.int16)
                self._cue = None
                self.cues_cut += 1
            elif cue is not None:  # no reply audio: the cue plays
                filled_cue = min(frames, cue.size - pos)
                out[:filled_cue] = cue[pos : pos + filled_cue]
                out[filled_cue:] = 0
                self._cue_pos = pos + filled_cue
                if self._cue_pos >= cue.size:
                    self._cue = None
        if filled:
            self.last_audio_at = time.monotonic()
            if self.started_at is None:
                self.started_at = self.last_audio_at
            seg = out[:filled].astype(np.float32) / 32768.0
            self.level = float(np.sqrt(np.mean(seg * seg)))
            self.played_samples += filled
            if filled < frames:
                out[filled:] = 0
        elif cue is not None:
            seg = out.astype(np.float32) / 32768.0
            self.level = float(np.sqrt(np.mean(seg * seg)))
        else:
            self.level = 0.0
            out[:] = 0
        if ref is not None:
            ref.push(out, self._rate, self._last_callback)
        if empty:
            self._empty.set()

    def write(self, samples: np.ndarray) -> None:
        if self._stopped or samples.size == 0:
            return
        data = samples.astype(np.int16)
        if self._resampler is not None:
            data = self._resampler.resample_chunk(data)
        with self._lock:
            if self._stopped:
                return
            self._empty.clear()
            self._chunks.append(data)

    async def drain(self) -> None:
        """Wait until everything written has been played (or ``stop``, or the stream died)."""
        while not self._stopped and not self._dead:
            if await asyncio.to_thread(self._empty.wait, 0.05):
                with self._lock:
                    if not self._chunks:
                        break
        if self._dead and not self._stopped:
            self._failed = True
            raise AudioInputError("hoparlör kayboldu: yanıt çalınamadı")
        if not self._stopped and self._stream is not None:
            await asyncio.sleep(min(0.3, float(self._stream.latency or 0.0)) + self.block_ms / 1000)

    def stop(self) -> None:
        """Silence now: drop queued audio; the next callback (≤ one block) plays zeros. The stream
        stays open (``keep_open``)."""
        with self._lock:
            if not self._stopped:
                self.stopped_at = time.monotonic()
            self._stopped = True
            self._chunks.clear()
            self._cue = None
        self.level = 0.0
        self._empty.set()

    def fail(self) -> None:
        """The reply failed: the stream is reopened at the next ``begin``."""
        self._failed = True

    async def end(self) -> None:
        """End of a reply: closes the stream unless ``keep_open`` (then only a dead or failed one)."""
        self.level = 0.0
        if self.keep_open and self._stream is not None and not (self._dead or self._failed):
            return
        await self.close()

    async def close(self) -> None:
        if self._stream is not None or self.keep_open:
            await asyncio.to_thread(self._close_now)
        self.level = 0.0

    def _close_now(self) -> None:
        with self._open_lock:  # waits for a prepare() still opening
            stream, self._stream = self._stream, None
            if stream is not None:
                _close(stream, self._stopped or self._dead or self._failed or self.keep_open)
                stream_closed()

    aclose = close


def _close(stream, abort: bool) -> None:
    try:
        if abort:
            stream.abort(ignore_errors=True)
        else:
            stream.stop(ignore_errors=True)
        stream.close(ignore_errors=True)
    except Exception:
        log.debug("closing output stream failed", exc_info=True)


class WavSink(AudioSink):
    """Collects the reply instead of playing it (``once`` without devices, tests, benchmarks)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self.rate = 0
        self.started_at: float | None = None
        self.level = 0.0
        self.reference: PlaybackReference | None = None  # nothing is played in real time
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
