"""The bad-WAV matrix through ``bantz-voice once --wav``: every file is refused with one clear
Turkish line (exit 2, no traceback) before any model loads, and nothing is read without bound."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fixtures.daemon import REPO

from bantz_voice.audio.wavio import MAX_WAV_BYTES, MAX_WAV_SECONDS, read_wav
from bantz_voice.cli import main


def wav_bytes(rate: int, channels: int = 1, bits: int = 16, data: bytes = b"", tag: int = 1, declared: int | None = None) -> bytes:
    """A RIFF/WAVE file with any header values (the ``wave`` module refuses to write absurd ones)."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, (rate * block) & 0xFFFFFFFF, block, bits)
    size = len(data) if declared is None else declared
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body) & 0xFFFFFFFF) + body


def speechlike(seconds: float, rate: int) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    return (x * 12000).astype("<i2").tobytes()


def make(tmp: Path, name: str, content: bytes) -> Path:
    p = tmp / name
    p.write_bytes(content)
    return p


def sparse(tmp: Path) -> Path:
    p = tmp / "huge.wav"
    with p.open("wb") as fh:
        fh.write(wav_bytes(16000, declared=0xFFFFFFF0))
        fh.truncate(MAX_WAV_BYTES + 2**20)  # a 65 MB file that takes no disk
    return p


def fifo(tmp: Path) -> Path:
    p = tmp / "pipe.wav"
    os.mkfifo(p)
    return p


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty": (lambda t: make(t, "empty.wav", b""), "boş"),
    "truncated_header": (lambda t: make(t, "trunc.wav", wav_bytes(16000, data=speechlike(1, 16000))[:30]), "WAV"),
    "no_frames": (lambda t: make(t, "noframes.wav", wav_bytes(16000)), "ses örneği yok"),
    "text": (lambda t: make(t, "notes.wav", "bu bir ses dosyası değil\n".encode() * 50), "WAV ses dosyası değil"),
    "mp3": (lambda t: make(t, "song.wav", b"ID3\x04\x00\x00\x00\x00\x00\x00" + os.urandom(4000)), "WAV ses dosyası değil"),
    "unknown_format": (lambda t: make(t, "adpcm.wav", wav_bytes(16000, tag=2, bits=4, data=os.urandom(4000))), "WAV"),
    "huge_rate": (lambda t: make(t, "rate.wav", wav_bytes(4_000_000_000, data=speechlike(1, 16000))), "örnekleme hızı"),
    "rate_1hz": (lambda t: make(t, "slow.wav", wav_bytes(1, data=speechlike(1, 16000))), "örnekleme hızı"),
    "rate_0": (lambda t: make(t, "zero.wav", wav_bytes(0, data=speechlike(1, 16000))), "WAV"),
    "float_huge_rate": (lambda t: make(t, "f.wav", wav_bytes(3_000_000_000, bits=32, tag=3, data=b"\x00" * 4000)), "örnekleme hızı"),
    "many_channels": (lambda t: make(t, "ch.wav", wav_bytes(16000, channels=200, data=speechlike(1, 16000) * 200)), "kanal"),
    "too_long": (lambda t: make(t, "long.wav", wav_bytes(8000, bits=8, data=b"\x80\xff" * int(8000 * (MAX_WAV_SECONDS + 60) / 2))), "çok uzun"),
    "too_big": (sparse, "çok büyük"),
    "fifo": (fifo, "sıradan bir dosya değil"),
    "directory": (lambda t: (t / "dir.wav").mkdir() or t / "dir.wav", "klasör"),
    "dev_zero": (lambda t: Path("/dev/zero"), "sıradan bir dosya değil"),
    "missing": (lambda t: t / "nowhere.wav", "bulunamadı"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_wav_refused_by_once(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build, expected = CASES[case]
    path = build(tmp_path)
    code = main(["once", "--wav", str(path), "--responder", "echo"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("hata: ") and err.count("\n") == 1, err
    assert expected in err, err
    assert "Traceback" not in err


def test_dev_zero_and_fifo_do_not_hang_the_real_cli(tmp_path: Path) -> None:
    fifo_path = fifo(tmp_path)  # nobody ever writes to it: opening it for reading would block
    for path in ("/dev/zero", str(fifo_path), "/dev/stdin"):
        res = subprocess.run([sys.executable, "-m", "bantz_voice", "once", "--wav", path, "--responder", "echo"],
                             cwd=REPO, capture_output=True, text=True, timeout=120, stdin=subprocess.PIPE)
        assert res.returncode == 2, res.stderr
        assert "sıradan bir dosya değil" in res.stderr and "Traceback" not in res.stderr


def test_a_good_wav_at_an_odd_rate_is_still_accepted(tmp_path: Path) -> None:
    p = make(tmp_path, "ok.wav", wav_bytes(44100, channels=2, data=speechlike(1, 44100) * 2))
    x = read_wav(p, 16000)
    assert abs(len(x) - 16000) < 200  # resampled, not refused
