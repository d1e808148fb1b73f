"""PII scrubbing: TC kimlik (checksum), Turkish phones, IBAN, e-mail, card numbers (Luhn)."""

from __future__ import annotations

import logging
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bantz_voice.privacy import CARD, EMAIL, IBAN, PHONE, TCKN, ScrubFilter, iban_ok, luhn_ok, scrub, tckn_ok


def make_tckn(first9: str) -> str:
    d = [int(c) for c in first9]
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    d11 = (sum(d) + d10) % 10
    return first9 + str(d10) + str(d11)


def make_card(prefix: str, length: int = 16) -> str:
    body = prefix + "".join(random.Random(prefix).choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError


def test_tckn_checksum() -> None:
    valid = make_tckn("123456789")
    assert tckn_ok(valid)
    broken = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert not tckn_ok(broken)
    assert not tckn_ok("0" + valid[1:])


@pytest.mark.parametrize("first9", ["123456789", "987654321", "456123789", "100000001"])
def test_tckn_scrubbed_in_sentence(first9: str) -> None:
    n = make_tckn(first9)
    out = scrub(f"TC kimlik numaram {n}, not al")
    assert n not in out and TCKN in out


def test_invalid_tckn_and_plain_numbers_kept() -> None:
    valid = make_tckn("123456789")
    wrong = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert scrub(f"sipariş {wrong}") == f"sipariş {wrong}"
    for text in ["yarın saat 15:00'te", "2026-11-27 toplantı", "3 kişi", "saat 14.30", "ayın 15'i", "1453 yılında"]:
        assert scrub(text) == text


@pytest.mark.parametrize(
    "phone",
    ["0532 123 45 67", "+90 532 123 45 67", "05321234567", "(0212) 555 12 34", "0 216 444 55 66", "532-123-45-67", "+905321234567", "0090 532 123 4567"],
)
def test_turkish_phones(phone: str) -> None:
    out = scrub(f"beni {phone} numarasından ara")
    assert PHONE in out
    assert not any(ch.isdigit() for ch in out), out


def test_email() -> None:
    out = scrub("adresim ali.veli+not@ornek.com.tr, yaz bana")
    assert out == f"adresim {EMAIL}, yaz bana"


@pytest.mark.parametrize("iban", ["TR330006100519786457841326", "TR33 0006 1005 1978 6457 8413 26", "DE89370400440532013000", "GB29 NWBK 6016 1331 9268 19"])
def test_iban(iban: str) -> None:
    assert iban_ok(iban)
    out = scrub(f"IBAN: {iban} hesabına gönder")
    assert IBAN in out and iban not in out


def test_iban_bad_checksum_foreign_kept() -> None:
    assert not iban_ok("DE00370400440532013000")


@pytest.mark.parametrize("card", ["4111 1111 1111 1111", "5500-0000-0000-0004", "340000000000009", make_card("4543")])
def test_card_numbers(card: str) -> None:
    out = scrub(f"kartım {card} son kullanma 12/28")
    assert CARD in out and card not in out
    assert "12/28" in out


def test_card_failing_luhn_kept() -> None:
    assert scrub("numara 4111 1111 1111 1112") == "numara 4111 1111 1111 1112"


def test_all_kinds_together_and_idempotent() -> None:
    text = f"ben {make_tckn('234567891')}, tel 0533 222 11 00, ali@x.io, TR330006100519786457841326, kart 4111111111111111"
    once = scrub(text)
    assert scrub(once) == once
    for token in (TCKN, PHONE, EMAIL, IBAN, CARD):
        assert token in once
    assert sum(ch.isdigit() for ch in once) == 0


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789 -+()@.abcTRçşğ:/")), max_size=80))
def test_never_raises_and_idempotent(text: str) -> None:
    out = scrub(text)
    assert scrub(out) == out


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[1-9][0-9]{8}", fullmatch=True), st.text(alphabet="abc ,.", max_size=10))
def test_any_valid_tckn_is_scrubbed(first9: str, around: str) -> None:
    n = make_tckn(first9)
    assert n not in scrub(f"{around} {n} {around}")


def test_log_filter_scrubs(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("bantz_voice.test_privacy")
    logger.addFilter(ScrubFilter())
    with caplog.at_level(logging.INFO, logger="bantz_voice.test_privacy"):
        logger.info("user said %s", "ara 0532 123 45 67")
    assert "0532" not in caplog.text and PHONE in caplog.text


def test_install_on_root_handlers_scrubs_every_logger() -> None:
    import io

    from bantz_voice.privacy import install_log_scrubbing

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_log_scrubbing()
        install_log_scrubbing()  # idempotent
        assert sum(isinstance(f, ScrubFilter) for f in handler.filters) == 1
        logging.getLogger("some.other.module").warning("mail me at a@b.com")
    finally:
        root.removeHandler(handler)
    assert "a@b.com" not in stream.getvalue() and EMAIL in stream.getvalue()
