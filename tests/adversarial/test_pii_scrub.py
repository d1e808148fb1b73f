"""PII forms the first scrubber missed (issue 14), ordinary numbers it must leave alone, and the
order "scrub, then cut" on every path that cuts: memory lines, log records with tracebacks,
trace lines with error strings, uncaught exceptions printed to the journal."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bantz_voice.privacy import EMAIL, IBAN, PHONE, TCKN, ScrubFilter, scrub, scrub_cut


def make_tckn(first9: str) -> str:
    d = [int(c) for c in first9]
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    return first9 + str(d10) + str((sum(d) + d10) % 10)


TC = make_tckn("398172645")
IBAN_TR = "TR330006100519786457841326"


@pytest.mark.parametrize(
    "text,token,secret",
    [
        (f"kimliğim {TC[:3]} {TC[3:6]} {TC[6:9]} {TC[9:]}", TCKN, TC[:3]),
        (f"TC {TC[:5]}.{TC[5:8]}.{TC[8:]}", TCKN, TC[:5]),
        ("ev telefonu 212 555 12 34", PHONE, "555 12 34"),
        ("ofis 3125551234 numarası", PHONE, "3125551234"),
        ("hesap tr33 0006 1005 1978 6457 8413 26 numaralı", IBAN, "0006 1005"),
        ("IBAN: TR 33 0006 1005 1978 6457 8413 26.", IBAN, "0006 1005"),
        ("gb29nwbk60161331926819 hesabına", IBAN, "60161331926819"),
        ("yaz: çağrı@firma.com.tr", EMAIL, "çağrı"),
        ("ayşe.öztürk@örnek.com.tr adresine", EMAIL, "öztürk"),
        ("numaram sıfır beş yüz otuz iki yüz on iki otuz dört elli altı", PHONE, "beş yüz otuz iki"),
        ("sıfır beş üç iki, bir bir iki, üç dört, beş altı ara", PHONE, "üç dört"),
        ("0532 yüz on iki 34 56", PHONE, "0532"),
    ],
)
def test_forms_missed_before(text: str, token: str, secret: str) -> None:
    out = scrub(text)
    assert token in out and secret not in out, out
    assert scrub(out) == out


@pytest.mark.parametrize(
    "text",
    [
        "saat on iki otuzda toplantı",
        "iki bin yirmi altı yılında",
        "yüz elli kişi gelecek, otuz beş tane sandalye",
        "sipariş 9125551234",  # 10 digits, no Turkish area code
        f"sipariş {TC[:-1]}{(int(TC[-1]) + 1) % 10}",  # 11 digits, checksum wrong
        "fatura 1234 5678 901",
        "TR12 ABCD hesap kodu",
        "DE00370400440532013000",  # mod-97 fails
        "toplantı 14:30'da, 3 kişi, 1453 yılında, 2026-11-27",
        "ahmet at firma nokta com",
    ],
)
def test_ordinary_text_and_numbers_are_kept(text: str) -> None:
    assert scrub(text) == text


def test_scrub_before_cut_memory_keeps_no_piece_of_a_cut_iban(tmp_path: Path) -> None:
    from bantz_voice.brain.memory import USER_TEXT_MAX, Memory

    # the IBAN straddles the 80-character cut: cut first, its first part used to survive
    pad = "x" * (USER_TEXT_MAX - 12)
    mem = Memory(path=tmp_path / "brain.sqlite3")
    line = mem.add(f"{pad} TR33 0006 1005 1978 6457 8413 26 hesabına yolla", "'Banka' notunu aldım.")
    mem.close()
    raw = (tmp_path / "brain.sqlite3").read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("brain.sqlite3-*"))
    assert "0006" not in line and b"0006" not in raw and b"TR33" not in raw
    assert IBAN in line
    long_tail = scrub_cut(f"{pad} TR33 0006 1005 1978 6457 8413 26 " + "y" * 40, USER_TEXT_MAX)
    assert long_tail.endswith("…") and len(long_tail) == USER_TEXT_MAX and IBAN in long_tail


def test_log_record_traceback_and_stack_are_scrubbed() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ScrubFilter())
    logger = logging.getLogger("bantz_voice.test_pii_traceback")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"kullanıcı {TC} ve {IBAN_TR} dedi")
        except ValueError:
            logger.exception("tur başarısız: 0532 123 45 67")
        logger.warning("yığın", stack_info=True, extra={})
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "Traceback" in text and "ValueError" in text
    assert TC not in text and IBAN_TR not in text and "0532 123 45 67" not in text
    assert TCKN in text and IBAN in text and PHONE in text


def test_trace_line_error_strings_are_scrubbed(tmp_path: Path) -> None:
    from bantz_voice.trace import TraceLog, TurnTrace

    log = TraceLog(tmp_path / "traces.jsonl")
    trace = TurnTrace()
    trace.meta["detail"] = {"why": [f"ali@örnek.com {TC}"]}
    log.append(trace, error=f"CalendarError: 'Ara 0532 123 45 67' etkinliği; IBAN {IBAN_TR}")
    raw = (tmp_path / "traces.jsonl").read_text()
    assert "0532" not in raw and IBAN_TR not in raw and TC not in raw and "örnek.com" not in raw
    line = json.loads(raw)
    assert PHONE in line["error"] and IBAN in line["error"] and TCKN in line["meta"]["detail"]["why"][0]


def test_uncaught_exception_printed_to_stderr_is_scrubbed(tmp_path: Path) -> None:
    code = (
        "from bantz_voice.privacy import install_excepthooks\n"
        "import threading\n"
        "install_excepthooks()\n"
        f"t = threading.Thread(target=lambda: 1 / 0 if False else (_ for _ in ()).throw(RuntimeError('{TC}')))\n"
        "t.start(); t.join()\n"
        f"raise RuntimeError('IBAN {IBAN_TR} e-posta ayşe@örnek.com')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert "RuntimeError" in res.stderr and "Traceback" in res.stderr
    assert TC not in res.stderr and IBAN_TR not in res.stderr and "ayşe@" not in res.stderr
