"""Robust WAV reading/writing: any rate, mono or stereo, PCM 8/16/24/32-bit or float; resampled
with soxr to the rate asked for. Bad input raises :class:`AudioInputError` (one Turkish line)."""

from __future__ import annotations

import io
import os
import stat
import struct
import wave
from pathlib import Path

import numpy as np
import soxr

from bantz_voice.errors import AudioInputError

SILENCE_DBFS = -60.0
# Input bounds (docs/security.md): a WAV is a spoken request or a test recording, never more.
MAX_WAV_BYTES = 64 * 1024 * 1024  # 35 min of 16 kHz 16-bit mono; read at most this much
MAX_WAV_SECONDS = 600.0
MIN_RATE, MAX_RATE = 4000, 384000
MAX_CHANNELS = 16


def _check_format(rate: int, channels: int, frames: int) -> None:
    """Refuse absurd headers before any sample is decoded or resampled."""
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioInputError(f"örnekleme hızı kabul edilmiyor: {rate} Hz (izin verilen {MIN_RATE}–{MAX_RATE} Hz)")
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioInputError(f"kanal sayısı kabul edilmiyor: {channels} (en fazla {MAX_CHANNELS})")
    if frames / rate > MAX_WAV_SECONDS:
        raise AudioInputError(f"kayıt çok uzun: {frames / rate:.0f} sn (en fazla {MAX_WAV_SECONDS:.0f} sn)")


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Resample mono int16 (or float) samples with soxr; returns the same dtype."""
    if src_rate == dst_rate or samples.size == 0:
        return samples
    dtype = samples.dtype
    x = samples.astype(np.float32) / 32768.0 if dtype == np.int16 else samples.astype(np.float32)
    y = soxr.resample(x, src_rate, dst_rate, quality="HQ")
    if dtype == np.int16:
        return np.clip(np.round(y * 32768.0), -32768, 32767).astype(np.int16)
    return y.astype(dtype)


def to_mono(frames: np.ndarray, channels: int) -> np.ndarray:
    if channels == 1:
        return frames
    return frames.reshape(-1, channels).mean(axis=1)


def dbfs(samples: np.ndarray) -> float:
    """RMS level of int16 samples in dBFS (-inf-safe: silence gives -120)."""
    if samples.size == 0:
        return -120.0
    x = samples.astype(np.float64) / 32768.0
    rms = float(np.sqrt(np.mean(x * x)))
    return 20.0 * np.log10(rms) if rms > 1e-6 else -120.0


def _read_float_wav(data: bytes) -> tuple[np.ndarray, int, int]:
    """Minimal RIFF parser for IEEE-float (format 3) or extensible WAVs that ``wave`` refuses."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioInputError("dosya bir WAV değil")
    pos, fmt, payload = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            payload = body
            break
        pos += 8 + size + (size & 1)
    if fmt is None or payload is None or len(fmt) < 16:
        raise AudioInputError("WAV dosyası bozuk: fmt/data bölümü yok")
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == 0xFFFE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]
    if tag != 3 or bits not in (32, 64) or channels < 1 or rate <= 0:
        raise AudioInputError(f"desteklenmeyen WAV biçimi (format {tag}, {bits} bit)")
    _check_format(rate, channels, len(payload) // (bits // 8) // channels)
    dt = np.float32 if bits == 32 else np.float64
    n = len(payload) // (bits // 8) // channels * channels
    arr = np.frombuffer(payload[: n * (bits // 8)], dtype=dt).astype(np.float32)
    return arr, channels, rate


def read_wav(path: str | Path, rate: int = 16000, *, require_speech_level: bool = True) -> np.ndarray:
    """Return mono int16 samples at ``rate``. Raises AudioInputError for missing, empty, truncated,
    non-audio or (with ``require_speech_level``) silent files."""
    p = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO nobody writes to must not block (no effect on regular files)
        with os.fdopen(os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as fh:
            st = os.fstat(fh.fileno())
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError
            if not stat.S_ISREG(st.st_mode):  # /dev/zero, a FIFO, a terminal: could never end
                raise AudioInputError(f"{p}: sıradan bir dosya değil (aygıt ya da boru); bir WAV dosyası verin")
            if st.st_size > MAX_WAV_BYTES:
                raise AudioInputError(f"{p}: dosya çok büyük ({st.st_size / 2**20:.0f} MB; en fazla {MAX_WAV_BYTES // 2**20} MB)")
            data = fh.read(MAX_WAV_BYTES + 1)
    except FileNotFoundError:
        raise AudioInputError(f"{p}: dosya bulunamadı") from None
    except IsADirectoryError:
        raise AudioInputError(f"{p}: bu bir klasör, WAV dosyası değil") from None
    except OSError as exc:
        raise AudioInputError(f"{p}: okunamadı ({exc.strerror})") from None
    if len(data) > MAX_WAV_BYTES:  # grew while we looked
        raise AudioInputError(f"{p}: dosya çok büyük (en fazla {MAX_WAV_BYTES // 2**20} MB)")
    if not data:
        raise AudioInputError(f"{p}: dosya boş")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioInputError(f"{p}: bu bir WAV ses dosyası değil")
    try:
        with wave.open(io.BytesIO(data), "rb") as wf:
            channels, width, src_rate, nframes = wf.getnchannels(), wf.getsampwidth(), wf.getframerate(), wf.getnframes()
            if channels < 1 or src_rate <= 0 or width not in (1, 2, 3, 4):
                raise AudioInputError("WAV başlığı geçersiz")
            _check_format(src_rate, channels, min(nframes, len(data) // (width * channels)))
            raw = wf.readframes(nframes)
        usable = len(raw) // (width * channels) * (width * channels)
        raw = raw[:usable]
        if width == 1:
            x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
        elif width == 2:
            x = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
        elif width == 3:
            b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
            v = (b[:, 0].astype(np.int32) | (b[:, 1].astype(np.int32) << 8) | (b[:, 2].astype(np.int32) << 16))
            v = np.where(v & 0x800000, v - (1 << 24), v)
            x = v.astype(np.float32) / 8388608.0
        else:
            x = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 2147483648.0
    except wave.Error as exc:
        if "unknown format: 3" in str(exc) or "unknown format: 65534" in str(exc):
            x, channels, src_rate = _read_float_wav(data)
        else:
            raise AudioInputError(f"{p}: WAV dosyası okunamadı ({exc})") from None
    except (EOFError, struct.error):
        raise AudioInputError(f"{p}: WAV dosyası kesik ya da bozuk") from None
    except AudioInputError as exc:
        raise AudioInputError(f"{p}: {exc}") from None
    if x.size == 0:
        raise AudioInputError(f"{p}: WAV dosyasında hiç ses örneği yok (boş ya da kesik)")
    mono = to_mono(x, channels)
    if not np.all(np.isfinite(mono)):
        raise AudioInputError(f"{p}: WAV dosyası geçersiz örnekler içeriyor")
    if src_rate != rate:
        mono = soxr.resample(mono.astype(np.float32), src_rate, rate, quality="HQ")
    out = np.clip(np.round(mono * 32768.0), -32768, 32767).astype(np.int16)
    if out.size < rate // 10:
        raise AudioInputError(f"{p}: ses çok kısa ({out.size / rate * 1000:.0f} ms)")
    if require_speech_level and dbfs(out) < SILENCE_DBFS:
        raise AudioInputError(f"{p}: dosya sessiz, konuşma yok")
    return out


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> Path:
    """Write mono int16 samples as a 16-bit PCM WAV."""
    p = Path(path)
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.asarray(samples, dtype=np.int16)
    try:
        with wave.open(str(p), "wb") as wf:
            wf.setnchannels(1)
            wf.setsampwidth(2)
            wf.setframerate(int(rate))
            wf.writeframes(pcm.tobytes())
    except OSError as exc:
        raise AudioInputError(f"{p}: yazılamadı ({exc.strerror})") from None
    return p
