"""PII scrubbing: applied before anything is written to disk (memory, traces, logs) and before
text leaves the machine (a remote LLM endpoint).

Scrubbed: e-mail addresses, IBANs (mod-97 checked, or the Turkish 26-character form), payment card
numbers (Luhn checked), TC kimlik numbers (checksum checked) and Turkish phone numbers.
"""

from __future__ import annotations

import logging
import re

EMAIL = "[e-posta]"
IBAN = "[IBAN]"
CARD = "[kart]"
TCKN = "[TC kimlik]"
PHONE = "[telefon]"

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_IBAN_RE = re.compile(
    r"(?<!\w)(?:[A-Z]{2}\d{2}[A-Z0-9]{11,30}|[A-Z]{2}\d{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?!\w)"
)
_CARD_RE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
_TCKN_RE = re.compile(r"(?<!\d)[1-9]\d{10}(?!\d)")
_PHONE_RE = re.compile(
    r"(?<![\d+])(?:"
    r"(?:(?:\+|00)\s?90[\s.-]?\(?|0[\s.-]?\(?)[2-5]\d{2}\)?"  # +90 5xx / 0 5xx / 0212 / (0212)
    r"|\(?5\d{2}\)?"  # bare mobile: 5xx
    r")[\s.-]?\d{3}[\s.-]?\d{2}[\s.-]?\d{2}(?!\d)"
)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in _digits(number)]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def tckn_ok(number: str) -> bool:
    """TC kimlik numarası checksum (11 digits, first not 0, digits 10 and 11 are check digits)."""
    if len(number) != 11 or not number.isdigit() or number[0] == "0":
        return False
    d = [int(c) for c in number]
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    d11 = sum(d[:10]) % 10
    return d[9] == d10 and d[10] == d11


def iban_ok(candidate: str) -> bool:
    iban = candidate.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    if iban.startswith("TR") and len(iban) == 26 and iban[4:].isdigit():
        return True  # Turkish form: scrub even with a typo in the check digits
    rearranged = iban[4:] + iban[:4]
    try:
        numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    except ValueError:
        return False
    return int(numeric) % 97 == 1


def _sub(pattern: re.Pattern[str], text: str, token: str, check=None) -> str:
    def repl(m: re.Match[str]) -> str:
        return token if check is None or check(m.group(0)) else m.group(0)

    return pattern.sub(repl, text)


def scrub(text: str) -> str:
    """Replace personal data in ``text`` with neutral placeholders (idempotent)."""
    if not text:
        return text
    out = _sub(_EMAIL_RE, text, EMAIL)
    out = _sub(_IBAN_RE, out, IBAN, iban_ok)
    out = _sub(_CARD_RE, out, CARD, luhn_ok)
    out = _sub(_TCKN_RE, out, TCKN, tckn_ok)
    out = _sub(_PHONE_RE, out, PHONE)
    return out


class ScrubFilter(logging.Filter):
    """Logging filter that scrubs the formatted message (attach to handlers or loggers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - a broken format string: leave it to logging
            return True
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install_log_scrubbing(*logger_names: str) -> None:
    """Scrub every log record: one :class:`ScrubFilter` on each handler of the root logger (a
    handler filter sees records from every logger), plus the named loggers. Idempotent."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, ScrubFilter) for f in handler.filters):
            handler.addFilter(ScrubFilter())
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubFilter) for f in logger.filters):
            logger.addFilter(ScrubFilter())
