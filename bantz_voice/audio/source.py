"""Audio sources: async iterators of 16 kHz mono int16 :class:`Frame`s.

``MicSource`` reads a sounddevice ``InputStream`` (device by name or index, else the default),
opened at the device's own rate when 16 kHz is refused and resampled with soxr. When the device
disappears or stops delivering audio it logs once, retries with back-off and resumes.
``FileSource`` feeds a WAV at real-time pace (or as fast as possible) through the same frames.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import soxr

from bantz_voice.audio.vad import Frame
from bantz_voice.audio.wavio import read_wav
from bantz_voice.errors import AudioInputError
from bantz_voice.voice.bridge import ThreadBridge

log = logging.getLogger(__name__)


class AudioSource(Protocol):
    rate: int
    frame_ms: int

    def frames(self) -> AsyncIterator[Frame]: ...


def _sd():
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio library missing
        raise AudioInputError(f"ses sistemi kullanılamıyor (PortAudio yüklenemedi: {exc})") from None
    return sd


def find_device(device: str | int | None, kind: str) -> int | None:
    """Resolve a device name (case-insensitive substring) or index to a PortAudio index for
    ``kind`` ("input"/"output"). ``None`` means the default device, which must exist."""
    sd = _sd()
    label = "mikrofon" if kind == "input" else "hoparlör"
    chan_key = "max_input_channels" if kind == "input" else "max_output_channels"
    try:
        devices = list(sd.query_devices())
    except Exception as exc:
        raise AudioInputError(f"ses aygıtları listelenemedi: {exc}") from None
    if device is None or device == "":
        try:
            info = sd.query_devices(kind=kind)
        except Exception:
            info = None
        if not info or info.get(chan_key, 0) < 1:
            raise AudioInputError(f"{label} bulunamadı: sistemde varsayılan ses {('giriş' if kind == 'input' else 'çıkış')} aygıtı yok")
        return None
    if isinstance(device, int) or (isinstance(device, str) and device.isdigit()):
        idx = int(device)
        if 0 <= idx < len(devices) and devices[idx][chan_key] > 0:
            return idx
        raise AudioInputError(f"{label} bulunamadı: {idx} numaralı aygıt yok")
    needle = str(device).lower()
    for i, d in enumerate(devices):
        if d[chan_key] > 0 and d["name"].lower() == needle:
            return i
    for i, d in enumerate(devices):
        if d[chan_key] > 0 and needle in d["name"].lower():
            return i
    raise AudioInputError(f"{label} bulunamadı: '{device}' adlı aygıt yok")


_ACTIVE = 0  # streams this process has open (a PortAudio re-init would break them)
_ACTIVE_LOCK = threading.Lock()
_LAST_REFRESH = 0.0


def stream_opened() -> None:
    global _ACTIVE
    with _ACTIVE_LOCK:
        _ACTIVE += 1


def stream_closed() -> None:
    global _ACTIVE
    with _ACTIVE_LOCK:
        _ACTIVE = max(0, _ACTIVE - 1)


def refresh_devices(min_interval_s: float = 5.0) -> bool:
    """Re-initialise PortAudio so new devices show up; only when no stream is open. True if done."""
    global _LAST_REFRESH
    sd = _sd()
    with _ACTIVE_LOCK:
        if _ACTIVE or time.monotonic() - _LAST_REFRESH < min_interval_s:
            return False
        _LAST_REFRESH = time.monotonic()
        try:
            sd._terminate()
            sd._initialize()
        except Exception as exc:
            log.debug("PortAudio re-init failed: %s", exc)
            return False
    return True


class MicSource:
    """Microphone frames with reconnect. ``connected`` and ``on_status(connected, message)`` report health."""

    def __init__(
        self,
        device: str | int | None = None,
        *,
        rate: int = 16000,
        frame_ms: int = 30,
        reconnect_initial_s: float = 0.5,
        reconnect_max_s: float = 10.0,
        stall_s: float = 1.5,
        open_timeout_s: float = 10.0,
        on_status: Callable[[bool, str], None] | None = None,
    ) -> None:
        self.device = device
        self.rate = rate
        self.frame_ms = frame_ms
        self.frame_samples = rate * frame_ms // 1000
        self.reconnect_initial_s = reconnect_initial_s
        self.reconnect_max_s = reconnect_max_s
        self.stall_s = stall_s
        self.open_timeout_s = open_timeout_s
        self._stuck_open: concurrent.futures.Future[tuple[Any, dict[str, bool]]] | None = None
        self.on_status = on_status
        self.connected = False
        self.native_rate: int | None = None
        self.reconnects = 0
        self.origin: float | None = None

    @classmethod
    def from_settings(cls, audio, **kw) -> MicSource:
        return cls(
            audio.input_device,
            rate=audio.sample_rate,
            frame_ms=audio.frame_ms,
            reconnect_initial_s=audio.reconnect_initial_s,
            reconnect_max_s=audio.reconnect_max_s,
            **kw,
        )

    def check(self) -> None:
        """Raise :class:`AudioInputError` now if the configured microphone does not exist."""
        find_device(self.device, "input")

    def _status(self, connected: bool, message: str) -> None:
        self.connected = connected
        if self.on_status:
            try:
                self.on_status(connected, message)
            except Exception:  # a status hook never breaks audio
                log.exception("on_status hook failed")

    def _open(self, queue: ThreadBridge[Frame | None]):
        sd = _sd()
        try:
            idx = find_device(self.device, "input")
        except AudioInputError:
            # PortAudio lists devices once: a re-plugged USB microphone needs a fresh list
            if not refresh_devices():
                raise
            idx = find_device(self.device, "input")
        info = sd.query_devices(idx, "input") if idx is not None else sd.query_devices(kind="input")
        rates = [self.rate, int(info.get("default_samplerate") or 48000), 48000, 44100]
        last: Exception | None = None
        for native in dict.fromkeys(rates):
            try:
                sd.check_input_settings(device=idx, channels=1, dtype="int16", samplerate=native)
            except Exception as exc:
                last = exc
                continue
            resampler = None if native == self.rate else soxr.ResampleStream(native, self.rate, 1, dtype="int16")
            pending = bytearray()
            need = self.frame_samples * 2
            state = {"closed": False}

            def callback(indata, frames, time_info, status, _r=resampler, _p=pending, state=state, need=need):
                if state["closed"]:
                    return
                data = indata[:, 0] if indata.ndim == 2 else indata
                if _r is not None:
                    data = _r.resample_chunk(np.ascontiguousarray(data))
                _p.extend(data.tobytes())
                now = time.monotonic()
                while len(_p) >= need:
                    block = bytes(_p[:need])
                    del _p[:need]
                    if not queue.put(Frame(block, now)):  # the loop is closed
                        state["closed"] = True
                        return

            def finished(state=state):
                if not state["closed"]:
                    queue.put(None)

            blocksize = native * self.frame_ms // 1000
            stream = sd.InputStream(
                device=idx, channels=1, dtype="int16", samplerate=native, blocksize=blocksize,
                latency="low", callback=callback, finished_callback=finished,
            )
            stream.start()
            stream_opened()
            self.native_rate = native
            return stream, state
        raise AudioInputError(f"mikrofon açılamadı: {last}")

    async def _open_within(self, queue: ThreadBridge[Frame | None]) -> tuple[Any, dict[str, bool]]:
        """``_open`` on a thread of its own, given up after ``open_timeout_s``.

        A wedged sound server can block PortAudio's open for ever (PulseAudio's echo canceller on
        a microphone and speaker of one device deadlocks the server: see
        ``aec_setup.shared_device``): the microphone is then reported unavailable, with the reason,
        and retried, instead of the daemon waiting silently. At most one open is outstanding: while
        the abandoned one still blocks, no other thread is started, and if it ever returns, its
        stream is closed."""
        stuck = self._stuck_open
        if stuck is not None and not stuck.done():
            raise AudioInputError("ses sunucusu yanıt vermiyor: mikrofon açılışı hâlâ bekliyor")
        self._stuck_open = None
        fut: concurrent.futures.Future[tuple[Any, dict[str, bool]]] = concurrent.futures.Future()

        def work() -> None:
            if not fut.set_running_or_notify_cancel():
                return
            try:
                fut.set_result(self._open(queue))
            except BaseException as exc:  # handed to the awaiting loop
                fut.set_exception(exc)

        def late(f: concurrent.futures.Future[tuple[Any, dict[str, bool]]]) -> None:
            if not f.cancelled() and f.exception() is None:
                stream, state = f.result()
                state["closed"] = True
                _close_stream(stream)
                log.warning("a microphone open that was given up returned late; its stream was closed")

        threading.Thread(target=work, name="bantz-mic-open", daemon=True).start()
        try:
            async with asyncio.timeout(self.open_timeout_s):
                return await asyncio.wrap_future(fut)
        except TimeoutError:
            self._stuck_open = fut
            fut.add_done_callback(late)
            raise AudioInputError(
                f"ses sunucusu {self.open_timeout_s:g} saniyede yanıt vermedi: mikrofon açılamadı"
            ) from None
        except asyncio.CancelledError:  # the loop stopped meanwhile: a stream opened later is closed
            fut.add_done_callback(late)
            raise

    async def frames(self) -> AsyncIterator[Frame]:
        loop = asyncio.get_running_loop()
        backoff = self.reconnect_initial_s
        lost_logged = False
        first = True
        while True:
            queue: ThreadBridge[Frame | None] = ThreadBridge(loop)
            try:
                stream, state = await self._open_within(queue)
            except Exception as exc:
                msg = str(exc) if isinstance(exc, AudioInputError) else f"mikrofon açılamadı: {exc}"
                if not lost_logged:
                    log.warning("microphone unavailable (%s): retrying in %.1f s", msg, backoff)
                    lost_logged = True
                self._status(False, msg)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.reconnect_max_s)
                continue
            if lost_logged or not first:
                self.reconnects += 1
                log.warning("microphone reconnected")
            lost_logged = False
            first = False
            backoff = self.reconnect_initial_s
            self._status(True, "mikrofon açık")
            got_first = False
            try:
                while True:
                    try:
                        # asyncio.timeout, not wait_for: wait_for in 3.11 can swallow a cancellation
                        # that races with a frame arriving, and then the loop never stops
                        async with asyncio.timeout(self.stall_s if got_first else max(5.0, self.stall_s)):
                            item = await queue.get()
                    except TimeoutError:
                        item = None
                    if item is None:
                        log.warning("microphone lost (no audio): reconnecting")
                        lost_logged = True
                        self._status(False, "mikrofon kayboldu")
                        break
                    got_first = True
                    if self.origin is None:
                        self.origin = item.t - self.frame_ms / 1000
                    yield item
            finally:
                state["closed"] = True
                await asyncio.to_thread(_close_stream, stream)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.reconnect_max_s)


def _close_stream(stream) -> None:
    stream_closed()
    try:
        stream.abort(ignore_errors=True)
    except Exception:
        pass
    try:
        stream.close(ignore_errors=True)
    except Exception:
        pass


class FileSource:
    """Frames from a WAV (any rate/channels, resampled) at real-time pace, or ``fast``.

    Digital silence follows the file so the endpointer can close the last utterance: at least
    ``tail_s``, and at least :attr:`close_margin_s` more than the longest pause the endpointer that
    reads it may hold (:meth:`hold_pauses_up_to`, which the listen loop calls with its settings:
    with the Turkish turn-end policy a pause may be held ``vad.turn_end_extended_ms``). Callers never
    need to know that number.
    ``origin`` is the monotonic time of the first sample (the trace's zero).
    """

    close_margin_s = 0.6  # silence after the longest hold: the endpoint frame and a little more

    def __init__(
        self,
        wav: str | Path | np.ndarray,
        *,
        rate: int = 16000,
        frame_ms: int = 30,
        fast: bool = False,
        tail_s: float = 0.0,
        hold_ms: int = 600,  # until a listen loop says more: a 1.2 s tail, as before the turn-end policy
    ) -> None:
        self.samples = wav if isinstance(wav, np.ndarray) else read_wav(wav, rate)
        self.rate = rate
        self.frame_ms = frame_ms
        self.fast = fast
        self.min_tail_s = tail_s
        self.hold_ms = hold_ms
        self.origin: float | None = None
        self.connected = True
        self.finished = threading.Event()

    def hold_pauses_up_to(self, hold_ms: int) -> None:
        """The endpointer reading these frames may hold a pause up to ``hold_ms`` of silence."""
        self.hold_ms = max(self.hold_ms, int(hold_ms))

    @property
    def tail_s(self) -> float:
        """The trailing silence the file gets."""
        return max(self.min_tail_s, self.hold_ms / 1000 + self.close_margin_s)

    async def frames(self) -> AsyncIterator[Frame]:
        n = self.rate * self.frame_ms // 1000
        tail = np.zeros(int(self.tail_s * self.rate), dtype=np.int16)
        audio = np.concatenate([self.samples, tail])
        pad = (-len(audio)) % n
        if pad:
            audio = np.concatenate([audio, np.zeros(pad, dtype=np.int16)])
        step = self.frame_ms / 1000
        t0 = time.monotonic()
        self.origin = t0
        for i in range(len(audio) // n):
            if self.fast:
                if i % 8 == 0:
                    await asyncio.sleep(0)
                t = time.monotonic()
            else:
                # the frame's capture time is when its last sample would have been spoken, whether
                # or not a loaded event loop comes for it late (as a microphone's timestamps are)
                t = t0 + (i + 1) * step
                delay = t - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            yield Frame(audio[i * n : (i + 1) * n].tobytes(), t)
        self.finished.set()
