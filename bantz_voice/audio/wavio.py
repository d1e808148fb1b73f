"""Robust WAV reading/writing: any rate, mono or stereo, PCM 8/16/24/32-bit or float; resampled
with soxr to the rate asked for. Bad input raises :class:`AudioInputError` (one Turkish line)."""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path

import numpy as np
import soxr

from bantz_voice.errors import AudioInputError

SILENCE_DBFS = -60.0


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
    dt = np.float32 if bits == 32 else np.float64
    n = len(payload) // (bits // 8) // channels * channels
    arr = np.frombuffer(payload[: n * (bits // 8)], dtype=dt).astype(np.float32)
    return arr, channels, rate


def read_wav(path: str | Path, rate: int = 16000, *, require_speech_level: bool = True) -> np.ndarray:
    """Return mono int16 samples at ``rate``. Raises AudioInputError for missing, empty, truncated,
    non-audio or (with ``require_speech_level``) silent files."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise AudioInputError(f"{p}: dosya bulunamadı") from None
    except IsADirectoryError:
        raise AudioInputError(f"{p}: bu bir klasör, WAV dosyası değil") from None
    except OSError as exc:
        raise AudioInputError(f"{p}: okunamadı ({exc.strerror})") from None
    if not data:
        raise AudioInputError(f"{p}: dosya boş")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioInputError(f"{p}: bu bir WAV ses dosyası değil")
    try:
        with wave.open(io.BytesIO(data), "rb") as wf:
            channels, width, src_rate, nframes = wf.getnchannels(), wf.getsampwidth(), wf.getframerate(), wf.getnframes()
            raw = wf.readframes(nframes)
        if channels < 1 or src_rate <= 0 or width not in (1, 2, 3, 4):
            raise AudioInputError(f"{p}: WAV başlığı geçersiz")
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
