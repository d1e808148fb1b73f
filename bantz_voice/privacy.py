"""PII scrubbing: applied before anything is written to disk (memory, traces, logs, the journal)
and before text leaves the process for an LLM endpoint (remote or loopback: a loopback port can be
taken by another local user, and proxies can route it elsewhere).

Scrubbed: e-mail addresses (Turkish letters too), IBANs (mod-97 checked, any case, spaced or not,
or the Turkish 26-character form), payment card numbers (Luhn checked), TC kimlik numbers
(checksum checked, spaced or not), Turkish phone numbers (mobile, landline with or without its 0,
+90), and the same numbers spoken as words ("sıfır beş yüz otuz iki …"). Checksums keep ordinary
numbers (times, dates, amounts, order numbers) unmasked.

Scrub before cutting: a cut number no longer passes its checksum and would slip through.
:func:`scrub_cut` does both in the right order.
"""

from __future__ import annotations

import logging
import re
import traceback

EMAIL = "[e-posta]"
IBAN = "[IBAN]"
CARD = "[kart]"
TCKN = "[TC kimlik]"
PHONE = "[telefon]"

# local part and domain labels: any letter (ç, ğ, ı, ö, ş, ü …), digit, and the usual marks
_EMAIL_RE = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")
# IBAN candidates: country letters, check digits, then 10-30 alphanumerics with single spaces
# between them (any case). The candidate is trimmed word by word until mod-97 holds.
_IBAN_RE = re.compile(r"(?<![^\W_])[A-Za-z]{2} ?\d{2}(?: ?[A-Za-z0-9]){10,30}")
_CARD_RE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
# 11 digits, optionally grouped with single spaces, dots or dashes ("123 456 789 01")
_TCKN_RE = re.compile(r"(?<!\d)(?<!\d[ .-])[1-9](?:[ .-]?\d){10}(?![ .-]?\d)")
# Turkish geographic area codes: a bare 10-digit number is a landline only with one of these
AREA_CODES = frozenset(
    ["212", "216", "222", "224", "226", "228", "232", "236", "242", "246", "248", "252", "256", "258", "262", "264", "266", "272", "274", "276", "282", "284", "286", "288", "312", "318", "322", "324", "326", "328", "332", "338", "342", "344", "346", "348", "352", "354", "356", "358", "362", "364", "366", "368", "370", "372", "374", "376", "378", "380", "382", "384", "386", "388", "412", "414", "416", "422", "424", "426", "428", "432", "434", "436", "438", "442", "446", "452", "454", "456", "458", "462", "464", "466", "472", "474", "476", "478", "482", "484", "486", "488", "850"]
)
_PHONE_RE = re.compile(
    r"(?<![\d+])(?:"
    r"(?:(?:\+|00)\s?90[\s.-]?\(?|0[\s.-]?\(?)(?P<pre>[2-58]\d{2})\)?"  # +90 5xx / 0 5xx / 0212 / (0212)
    r"|\(?(?P<bare>[2-58]\d{2})\)?"  # without the 0: 5xx mobile or an area code (checked)
    r")[\s.-]?\d{3}[\s.-]?\d{2}[\s.-]?\d{2}(?![ .-]?\d)"
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
    """TC kimlik numarası checksum (11 digits, first not 0, digits 10 and 11 are check digits);
    separators (spaces, dots, dashes) are ignored."""
    number = number.replace(" ", "").replace(".", "").replace("-", "")
    if len(number) != 11 or not number.isdigit() or number[0] == "0":
        return False
    d = [int(c) for c in number]
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    d11 = sum(d[:10]) % 10
    return d[9] == d10 and d[10] == d11


def iban_ok(candidate: str) -> bool:
    iban = candidate.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban[2:4].isdigit() or not iban.isascii():
        return False
    if iban.startswith("TR") and len(iban) == 26 and iban[4:].isdigit():
        return True  # Turkish form: scrub even with a typo in the check digits
    if not iban.isalnum():
        return False
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


def _phone_ok(m: re.Match[str]) -> bool:
    bare = m.group("bare")
    return bare is None or bare[0] == "5" or bare in AREA_CODES


def _scrub_phones(text: str) -> str:
    return _PHONE_RE.sub(lambda m: PHONE if _phone_ok(m) else m.group(0), text)


def _scrub_ibans(text: str) -> str:
    """IBANs in any case, spaced or not. A candidate that runs into the following words is cut back
    a word at a time; one that does not hold from its start is searched again from its next word."""
    out: list[str] = []
    pos = 0
    while True:
        m = _IBAN_RE.search(text, pos)
        if m is None:
            out.append(text[pos:])
            return "".join(out)
        words = m.group(0).split(" ")
        found = 0
        for n in range(len(words), 0, -1):
            if iban_ok(" ".join(words[:n])):
                found = n
                break
        if found:
            end = m.start() + len(" ".join(words[:found]))
            if end < len(text) and (text[end].isalnum()):
                found = 0  # ends inside a word: not an IBAN
        if found:
            out.append(text[pos : m.start()] + IBAN)
            pos = m.start() + len(" ".join(words[:found]))
        else:
            step = m.start() + len(words[0]) + 1 if len(words) > 1 else m.end()
            out.append(text[pos:step])
            pos = step


# --- numbers spoken as words ----------------------------------------------------------------
_FOLD = str.maketrans({"ı": "i", "ğ": "g", "ü": "u", "ş": "s", "ö": "o", "ç": "c", "I": "ı", "İ": "i"})
_UNITS = {"bir": 1, "iki": 2, "uc": 3, "dort": 4, "bes": 5, "alti": 6, "yedi": 7, "sekiz": 8, "dokuz": 9}
_TENS = {"on": 10, "yirmi": 20, "otuz": 30, "kirk": 40, "elli": 50, "altmis": 60, "yetmis": 70, "seksen": 80, "doksan": 90}
# (words, the place they fill, the places they may follow within one number): "yüz otuz iki"
_PLACES = ((_TENS, "ten", ("", "hundred")), (_UNITS, "unit", ("", "hundred", "ten")))
_RUN_TOKEN = re.compile(r"[^\W_]+|[,;:/\-]")
_MAX_RUN = 48  # tokens looked at in one run of number words (bounded work per sentence)


def _fold(word: str) -> str:
    return word.translate(_FOLD).lower().translate(_FOLD)


def _number_groups(words: list[str]) -> list[tuple[str, int, int]]:
    """Groups read the way numbers are dictated ("sıfır | beş yüz otuz iki | yüz on iki | otuz
    dört"): (digits, first word index, last word index + 1)."""
    groups: list[tuple[str, int, int]] = []
    value, state, start = 0, "", 0

    def close(end: int) -> None:
        nonlocal value, state
        if state:
            groups.append((str(value), start, end))
        value, state = 0, ""

    for i, raw in enumerate(words):
        w = _fold(raw)
        if w.isdigit():
            close(i)
            groups.append((w, i, i + 1))
            continue
        if w == "sifir":
            close(i)
            groups.append(("0", i, i + 1))
            continue
        if w == "yuz":
            if state in ("", "unit") and value < 10:
                if not state:
                    start = i
                value, state = (value or 1) * 100, "hundred"
                continue
            close(i)
            start, value, state = i, 100, "hundred"
            continue
        for table, place, after in _PLACES:
            if w in table:
                if state not in after:  # "otuz | kırk": this word starts a new number
                    close(i)
                if not state:
                    start = i
                value, state = value + table[w], place
                break
    close(len(words))
    return groups


def _is_number_word(token: str) -> bool:
    w = _fold(token)
    return w.isdigit() or w in _UNITS or w in _TENS or w in ("sifir", "yuz")


def _scrub_spoken(text: str) -> str:
    """Phone, TC kimlik, card and IBAN digits dictated as words (or words and digits mixed)."""
    tokens = list(_RUN_TOKEN.finditer(text))
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(tokens):
        if not _is_number_word(tokens[i].group(0)):
            i += 1
            continue
        run: list[re.Match[str]] = []
        j = i
        while j < len(tokens) and len(run) < _MAX_RUN:
            tok = tokens[j].group(0)
            if _is_number_word(tok):
                run.append(tokens[j])
            elif not (tok in ",;:/-" and j + 1 < len(tokens) and _is_number_word(tokens[j + 1].group(0))):
                break
            j += 1
        groups = _number_groups([t.group(0) for t in run])
        k = 0
        while k < len(groups):
            hit = None
            digits = ""
            for end in range(k + 1, len(groups) + 1):  # longest hit wins; numbers are at most 19 digits
                digits += groups[end - 1][0]
                if len(digits) > 19:
                    break
                token = _digits_pii(digits)
                if token is not None:
                    hit = (end, token)
            if hit is None:
                k += 1
                continue
            end, clean = hit
            first, last = run[groups[k][1]], run[groups[end - 1][2] - 1]
            out.append(text[pos : first.start()] + clean)
            pos = last.end()
            k = end
        i = max(j, i + 1)
    out.append(text[pos:])
    return "".join(out)


def _digits_pii(d: str) -> str | None:
    """The placeholder for a bare digit string that is a phone, TC kimlik or card number."""
    n = len(d)
    if n == 10 and (d[0] == "5" or d[:3] in AREA_CODES):
        return PHONE
    if n == 11:
        if d[0] == "0" and (d[1] == "5" or d[1:4] in AREA_CODES):
            return PHONE
        if tckn_ok(d):
            return TCKN
    if n == 12 and d.startswith("90") and (d[2] == "5" or d[2:5] in AREA_CODES):
        return PHONE
    if 13 <= n <= 19 and d[0] in "23456" and _luhn_digits(d):  # card networks' first digits
        return CARD
    return None


_LUHN_DOUBLE = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _luhn_digits(d: str) -> bool:
    total = sum(int(c) for c in d[-1::-2]) + sum(_LUHN_DOUBLE[int(c)] for c in d[-2::-2])
    return total % 10 == 0


def _scrub_digits(text: str) -> str:
    out = _scrub_ibans(text)
    out = _sub(_CARD_RE, out, CARD, luhn_ok)
    out = _sub(_TCKN_RE, out, TCKN, tckn_ok)
    return _scrub_phones(out)


def scrub(text: str) -> str:
    """Replace personal data in ``text`` with neutral placeholders (idempotent)."""
    if not text:
        return text
    out = _sub(_EMAIL_RE, text, EMAIL)
    out = _scrub_digits(out)
    return _scrub_spoken(out)


def scrub_cut(text: str, limit: int, mark: str = "…") -> str:
    """Scrub, then cut to ``limit`` characters (the order matters: see the module docstring)."""
    clean = scrub(" ".join(text.split()))
    if len(clean) <= limit:
        return clean
    return clean[: max(0, limit - len(mark))] + mark


def scrub_value(value: object) -> object:
    """Strings inside JSON-like data (dicts, lists) scrubbed; other values unchanged."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_value(v) for v in value]
    return value


class ScrubFilter(logging.Filter):
    """Logging filter that scrubs the formatted message, the traceback and the stack (attach to
    handlers or loggers). A traceback is formatted here, scrubbed, and left as ``exc_text`` so the
    handler's formatter prints the clean copy."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - a broken format string: leave it to logging
            return True
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None:
            text = record.exc_text or "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = scrub(text)
            record.exc_info = None  # formatters fall back to the scrubbed exc_text
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def install_log_scrubbing(*logger_names: str) -> None:
    """Scrub every log record: one :class:`ScrubFilter` on each handler of the root logger (a
    handler filter sees records from every logger) and on logging's last-resort handler (used
    while no handler is configured), plus the named loggers. Idempotent."""
    handlers = list(logging.getLogger().handlers)
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(f, ScrubFilter) for f in handler.filters):
            handler.addFilter(ScrubFilter())
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubFilter) for f in logger.filters):
            logger.addFilter(ScrubFilter())


def install_excepthooks() -> None:
    """Uncaught exceptions (main thread, other threads, unraisable ones) print a scrubbed
    traceback: under systemd stderr is the journal. Idempotent."""
    import sys
    import threading

    if getattr(sys.excepthook, "_bantz_scrub", False):
        return

    def hook(exc_type, exc, tb) -> None:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(scrub(text))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
        sys.stderr.write(f"Exception in thread {name}:\n" + scrub(text))

    def unraisable_hook(args) -> None:
        text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)) if args.exc_type else ""
        sys.stderr.write(scrub(f"{args.err_msg or 'Exception ignored in'}: {args.object!r}\n{text}"))

    hook._bantz_scrub = True  # type: ignore[attr-defined]
    sys.excepthook = hook
    threading.excepthook = thread_hook
    sys.unraisablehook = unraisable_hook
