"""Speech normalization for TTS: what people write (times, dates, money, units, phone numbers,
ordinals, Roman numerals, fractions, decimals, ranges, signs, symbols, acronyms, abbreviations,
e-mail and web addresses) spelled out the way a careful Turkish newsreader says it, with Turkish
spacing ("on beş", not "onbeş") and every apostrophe suffix re-spelled in harmony with the spoken
word ("3'te" → "üçte", "4'de" → "dörtte", "6'da" → "altıda", "250 TL'ye" → "iki yüz elli liraya",
"TBMM'de" → "te be me mede").

One pass per kind, most specific first (addresses before numbers, dates before ranges, ranges
before single numbers); each pass turns digits and symbols into words, so later passes never see
them again. Words, suffixes and tables come from ``morph`` and ``lexicon``. Scored on the public
exam by ``scripts/bench_normalize.py`` (figures in docs/benchmarks.md)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bantz_voice.turkish import lexicon as lx
from bantz_voice.turkish.morph import attach, digit_words, lower, month_name, number_words, ordinal_of, ordinal_words

__all__ = ["MAX_CHARS", "attach", "normalize", "number_words", "ordinal_words", "spell", "pronounceable"]

MAX_CHARS = 5000

_UP = "A-ZÇĞİÖŞÜ"
_LO = "a-zçğıöşü"
_SUF = rf"(?:['’]([{_LO}{_UP}]+))?"  # an apostrophe suffix ("'te", "'DE")
# a numeric literal: 1.250.000 / 1.250,50 (thousands dots, decimal comma) / 3,5 / 3.14 / 42
_NUMLIT = r"(?:\d{1,3}(?:\.\d{3})+(?:,\d+)?(?![\d]|\.\d)|\d+(?:[,.]\d+)?(?!\d))"
_SIGN = r"(?:(?<![\w)\]])(?P<sign>[-−+±]))?"
_ORDINAL_SUFFIX = re.compile(r"^[ıiuü]?nc[ıiuü](.*)$")

Sub = Callable[[re.Match[str]], str]


# --- numbers ---------------------------------------------------------------------------------


def _int_words(digits: str) -> str:
    """An integer written with digits; leading zeros are read ("007" → "sıfır sıfır yedi") and a
    very long digit string (an id) is read digit by digit."""
    digits = digits.replace(".", "")
    if len(digits) > 15:
        return digit_words(digits)
    body = digits.lstrip("0")
    zeros = len(digits) - len(body)
    if not body:
        return " ".join(["sıfır"] * max(1, zeros))
    return " ".join(["sıfır"] * zeros + [number_words(int(body))])


def _frac_words(frac: str) -> str:
    """The digits after a decimal separator: up to three as a number with its leading zeros
    ("05" → "sıfır beş", "14" → "on dört"), longer ones digit by digit ("9334")."""
    if len(frac) > 3:
        return digit_words(frac)
    return _int_words(frac)


def _lit_words(lit: str) -> str:
    """A numeric literal as words: thousands dots, decimal comma, or a decimal dot (3.5, 3.14)."""
    if "," in lit:
        whole, frac = lit.split(",", 1)
        return f"{_int_words(whole)} virgül {_frac_words(frac)}"
    if "." in lit and not re.fullmatch(r"\d{1,3}(?:\.\d{3})+", lit):
        whole, frac = lit.split(".", 1)
        return f"{_int_words(whole)} virgül {_frac_words(frac)}"
    return _int_words(lit)


def _sign_words(sign: str | None) -> str:
    return {"-": "eksi ", "−": "eksi ", "+": "artı ", "±": "artı eksi "}.get(sign or "", "")


def _suffixed(words: str, suffix: str | None, *, compound: bool = False) -> str:
    """Spoken words + a written suffix; an ordinal suffix ("3'üncü", "2'nci") makes an ordinal."""
    if not suffix:
        return words
    m = _ORDINAL_SUFFIX.match(lower(suffix))
    if m and not compound:
        ordinal = ordinal_of(words)
        return attach(ordinal, m.group(1)) if m.group(1) else ordinal
    return attach(words, suffix, compound=compound)


# --- spelling and acronyms -------------------------------------------------------------------

_VOWEL_RUN = re.compile(r"[aeıioöuüâîû]+|[^aeıioöuüâîû]+")
_TURKISH = set("abcçdefgğhıijklmnoöprsştuüvyzâîû")
_ONSETS = lx.ONSET_CLUSTERS
_CODAS = lx.CODA_CLUSTERS


def pronounceable(word: str) -> bool:
    """Whether ``word`` (lower case) can be read as a Turkish word — Turkish letters only, at most
    one consonant before the first vowel (or a cluster like "tr", "sp"), a final cluster Turkish
    allows ("rt", "nk", "st"…), no more than two consonants between vowels unless the first two
    close a syllable. "nato", "aselsan", "odtü", "toki" are; "tbmm", "akp", "abd", "ösym" are not."""
    if not word or any(ch not in _TURKISH for ch in word) or word[0] == "ğ":
        return False
    runs = _VOWEL_RUN.findall(word)
    vowel = [r[0] in "aeıioöuüâîû" for r in runs]
    if not any(vowel):
        return False
    for i, (run, is_vowel) in enumerate(zip(runs, vowel)):
        if is_vowel:
            if len(run) > 2:
                return False
            continue
        first, last = i == 0, i == len(runs) - 1
        if len(run) == 1:
            continue
        if first:
            if not (len(run) == 2 and run in _ONSETS) or last:
                return False
        elif last:
            if not (len(run) == 2 and run in _CODAS):
                return False
        elif len(run) > 3 or (len(run) == 3 and run[:2] not in _CODAS):
            return False
    return True


def spell(letters: str) -> str:
    """Letters by their Turkish names ("TBMM" → "te be me me", "ĞÜŞ" → "yumuşak ge ü şe")."""
    return " ".join(lx.LETTER_NAMES.get(ch, ch) for ch in lower(letters) if ch.isalnum())


def _word_or_spelled(label: str) -> str:
    """A piece of an address: a short unpronounceable one ("tr", "pdf") or one without a vowel is
    spelled, anything else is read as a word ("bantz", "ornek")."""
    low = lower(label)
    if low.isdigit():
        return _int_words(low)
    if low in lx.WEB_WORDS or pronounceable(low):
        return low
    if len(low) <= 3 or not any(ch in "aeıioöuü" for ch in low):
        return spell(low)
    return low


# --- passes ----------------------------------------------------------------------------------

# e-mail and web addresses
_TLD = "(?:" + "|".join(sorted(lx.TOP_LEVEL_DOMAINS, key=len, reverse=True)) + ")"
_RE_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]{1,64})@([\w-]{1,63}(?:\.[\w-]{1,63}){1,8})")
_RE_URL = re.compile(
    rf"(?:(?:https?|ftp)://|(?<![\w@.-]))((?:www\.)?(?:[a-z0-9-]{{1,63}}\.){{1,8}}(?:{_TLD}|[a-z]{{2,}}(?=/))(?![\w]))((?:/[^\s]*)?)",
)
_RE_SCHEME = re.compile(r"(?:https?|ftp)://", re.IGNORECASE)
_RE_FILE = re.compile(rf"(?<![\w.-])([\w-]{{1,64}})\.({'|'.join(sorted(lx.FILE_EXTENSIONS, key=len, reverse=True))})(?![\w])")


def _address_part(text: str) -> str:
    """A host, a path or a mailbox read piece by piece ("destek_2" → "destek alt çizgi iki")."""
    out: list[str] = []
    for piece in re.findall(r"[^\W_]+|[._@/:-]", text):
        if piece in lx.WEB_SYMBOLS:
            out.append(lx.WEB_SYMBOLS[piece])
        else:  # a lone letter is left to the voice, which says its name
            out.append(piece if len(piece) == 1 and piece.isalpha() else _word_or_spelled(piece))
    return " ".join(out)


def _email(m: re.Match[str]) -> str:
    return f"{_address_part(m.group(1))} et {_address_part(m.group(2))}"


def _url(m: re.Match[str]) -> str:
    whole = m.group(0)
    if not _RE_SCHEME.match(whole) and not m.group(2) and not re.search(rf"\.{_TLD}$", m.group(1), re.IGNORECASE):
        return whole
    host = re.sub(r"^www\.", "", m.group(1))
    path = m.group(2) or ""
    trail = ""
    while path and path[-1] in ".,;:!)/":
        trail = (path[-1] if path[-1] != "/" else "") + trail
        path = path[:-1]
    path = re.split(r"[?#]", path, maxsplit=1)[0]
    spoken = _address_part(host)
    if path:
        spoken += " " + _address_part(path)
    return spoken + trail


def _file(m: re.Match[str]) -> str:
    return f"{m.group(1)} nokta {_word_or_spelled(m.group(2))}"


# abbreviations with dots, dotted initials
_DIGIT_ONLY = {"No.", "Nu.", "s.", "sf."}  # only before a number ("No. 5", "s. 42")
_ABBR_KEYS = sorted([*lx.ABBREVIATIONS, *(k for k in lx.ACRONYM_EXPANSIONS if "." in k)], key=len, reverse=True)
_RE_ABBR = re.compile(r"(?<![\w.])(" + "|".join(re.escape(k) for k in _ABBR_KEYS) + r")(?=\s|$|[,;:)])")
_RE_INITIALS = re.compile(rf"(?<![\w.])((?:[{_UP}]\.){{2,}})(?=\s|$|[,;:)])")


def _ends_sentence(text: str, end: int) -> bool:
    """An abbreviation's dot doubles as the sentence's when the text ends or a capital follows."""
    rest = text[end:].lstrip()
    return not rest or rest[0].isupper()


def _abbr(m: re.Match[str]) -> str:
    key = m.group(1)
    if key in _DIGIT_ONLY and not re.match(r"\s*\d", m.string[m.end() :]):
        return key
    spoken = lx.ACRONYM_EXPANSIONS[key][0] if key in lx.ACRONYM_EXPANSIONS else lx.ABBREVIATIONS[key]
    if key not in lx.ABBREVIATION_TITLES and _ends_sentence(m.string, m.end()):
        spoken += "."  # "elma, armut vb." -> "… ve benzeri." (the voice hears the sentence end)
    return spoken


# Roman numerals with an ordinal dot: "XIX. yüzyıl", "II. Abdülhamit", "Sultan V. Mehmet";
# look-alikes stay: words and acronyms with C/D/M ("CD.", "MD.", "MI."), non-canonical forms
# ("IIII."), a lone letter after a name (an initial: "Mehmet V. Delibaş"), no dot ("Henry VIII").
_RE_ROMAN = re.compile(r"(?<![\w.])([IVXL]+)\.(?=\s+\S)")
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}


def _roman_value(s: str) -> int | None:
    total = 0
    for i, ch in enumerate(s):
        v = _ROMAN[ch]
        total += -v if i + 1 < len(s) and _ROMAN[s[i + 1]] > v else v
    return total if 0 < total < 90 and _to_roman(total) == s else None


def _to_roman(n: int) -> str:
    out = ""
    for value, sym in ((50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + sym, n - value
    return out


def _roman(m: re.Match[str]) -> str:
    s = m.group(1)
    value = _roman_value(s)
    if value is None:
        return m.group(0)
    if len(s) == 1:
        before = m.string[: m.start()].rstrip()
        prev = before.rsplit(None, 1)[-1] if before else ""
        if prev[:1].isupper() and prev[-1:].isalpha() and lower(prev) not in lx.REGNAL_TITLES:
            return m.group(0)  # an initial
    return ordinal_words(value)


# phone numbers: Turkish digit groups "0212 555 44 33", "(0532) 123 45 67", "+90 532 123 45 67"
_RE_PHONE = re.compile(
    r"(?<![\w+])(?:(\+\d{2})[\s-]?)?(\(?0?\d{3}\)?)[\s-](\d{3})[\s-](\d{2})[\s-](\d{2})(?![\d])"
    r"|(?<![\w+])(0\d{3})(\d{3})(\d{2})(\d{2})(?!\d)"
)


def _group_words(g: str) -> str:
    g = g.strip("()")
    return _int_words(g)


def _phone(m: re.Match[str]) -> str:
    groups = [g for g in m.groups() if g]
    out = []
    for g in groups:
        if g.startswith("+"):
            out.append("artı " + _int_words(g[1:]))
        else:
            out.append(_group_words(g))
    return ", ".join(out)


# dates
_RE_DATE_ISO = re.compile(rf"(?<![\w.-])(\d{{4}})-(\d{{2}})-(\d{{2}})(?![\w-]){_SUF}")
_RE_DATE_DMY = re.compile(rf"(?<![\w.,/:-])(\d{{1,2}})([./-])(\d{{1,2}})\2(\d{{4}})(?![\w]|[./-]\d){_SUF}")
# "15/03", "25/12" (a day of two digits or a zero-padded month; "1/10" is a fraction)
_RE_DATE_DM = re.compile(rf"(?<![\w.,/:-])(?:([0-2]\d|3[01])/(0[1-9]|1[0-2])|([1-9])/(0[1-9]))(?![\w/.]|,\d){_SUF}")


def _date_words(d: int, mo: int, y: int | None, suffix: str | None) -> str | None:
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    if y is None:
        return f"{number_words(d)} {month_name(mo)}" + (_proper_suffix(month_name(mo), suffix) if suffix else "")
    return _suffixed(f"{number_words(d)} {month_name(mo)} {number_words(y)}", suffix)


def _proper_suffix(name: str, suffix: str) -> str:
    return "'" + attach(name, suffix, alternate=False)[len(name) :]


def _date_iso(m: re.Match[str]) -> str:
    return _date_words(int(m.group(3)), int(m.group(2)), int(m.group(1)), m.group(4)) or m.group(0)


def _date_dmy(m: re.Match[str]) -> str:
    return _date_words(int(m.group(1)), int(m.group(3)), int(m.group(4)), m.group(5)) or m.group(0)


def _date_dm(m: re.Match[str]) -> str:
    d, mo = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return _date_words(int(d), int(mo), None, m.group(5)) or m.group(0)


# ranges: "3-5 kişi" → "üç beş kişi" (small counts, as said), "2020-2025" → "… ile …",
# "14:30-15:30", "%10-20", "3-5. maddeler", "01.03.2026-05.03.2026"
_OPERAND = r"(?:\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}[:.]\d{2}(?=\s?[-–—]\s?\d{1,2}[:.]\d{2})|\d{1,2}:\d{2}|%?" + _NUMLIT + r")"
_RE_RANGE = re.compile(
    rf"(?<![\w.,:/-])({_OPERAND})(?:-|\s?[–—]\s?)({_OPERAND}(?:\.(?=\s+[{_LO}]))?)(?![\w]|[.,:/-]\d)"
)


def _range(m: re.Match[str]) -> str:
    a, b = m.group(1), m.group(2)
    small = a.isdigit() and b.isdigit() and int(a) < 100 and int(b) < 100 and not a.startswith("0")
    if b.endswith("."):  # "3-5. maddeler": both ordinals
        return f"{a}. ile {b}"
    return f"{a} {b}" if small else f"{a} ile {b}"


# times
_RE_TIME = re.compile(rf"(?<![\w:.,])([01]?\d|2[0-3]):([0-5]\d)(?![\d:]){_SUF}")
_RE_TIME_DOT = re.compile(rf"(?<![\w:.,])([01]?\d|2[0-3])\.([0-5]\d)(?![\d.,]){_SUF}")
_SAAT_BEFORE = re.compile(r"\bsaat\s$", re.IGNORECASE)


def _clock(h: int, mi: int, suffix: str | None) -> str:
    words = "sıfır sıfır" if h == 0 else number_words(h)
    if mi:
        words += " " + (f"sıfır {number_words(mi)}" if mi < 10 else number_words(mi))
    return _suffixed(words, suffix)


def _time(m: re.Match[str]) -> str:
    return _clock(int(m.group(1)), int(m.group(2)), m.group(3))


def _time_dot(m: re.Match[str]) -> str:
    """"14.30'da", "saat 9.15": a dotted time only with a suffix or after "saat" (else 3.14 is π)."""
    if m.group(3) or _SAAT_BEFORE.search(m.string[max(0, m.start() - 8) : m.start()]):
        return _time(m)
    return m.group(0)


# money
_CUR_AFTER = "|".join(re.escape(k) for k in sorted(lx.CURRENCIES, key=len, reverse=True))
_SCALE = r"(?:\s(bin|milyon|milyar|trilyon))?"
_RE_MONEY_AFTER = re.compile(rf"{_SIGN}(?<![\w.,])({_NUMLIT}){_SCALE}\s?({_CUR_AFTER})(?![\w]){_SUF}")
_RE_MONEY_BEFORE = re.compile(rf"{_SIGN}([₺$€£¥])\s?(\d{{1,3}}(?:[.,]\d{{3}})+|\d+)(?:[.,](\d{{1,2}}))?(?!\d){_SCALE}{_SUF}")


def _money_words(lit: str, scale: str | None, currency: str, suffix: str | None, sign: str | None) -> str:
    name = lx.CURRENCIES.get(currency, lx.CURRENCIES.get(currency.upper(), currency))
    if scale or "," not in lit:
        words = f"{_lit_words(lit)}{' ' + scale if scale else ''} {name}"
    else:
        whole, cents = lit.split(",", 1)
        words = f"{_int_words(whole)} {name}"
        c = int(cents[:2].ljust(2, "0"))
        if c:
            words += f" {number_words(c)} {lx.SUBUNITS.get(name, 'kuruş')}"
    return _sign_words(sign) + _suffixed(words, suffix)


def _money_after(m: re.Match[str]) -> str:
    return _money_words(m.group(2), m.group(3), m.group(4), m.group(5), m.group("sign"))


def _money_before(m: re.Match[str]) -> str:
    whole = m.group(3).replace(",", ".")
    lit = whole + (f",{m.group(4)}" if m.group(4) else "")
    return _money_words(lit, m.group(5), m.group(2), m.group(6), m.group("sign"))


# percentages
_RE_PERCENT = re.compile(rf"%\s?({_NUMLIT})(?:\s(ile)\s({_NUMLIT}))?{_SUF}")
_RE_PERCENT_AFTER = re.compile(rf"(?<![\w.,])({_NUMLIT})\s?%(?![\w])")


def _percent(m: re.Match[str]) -> str:
    words = "yüzde " + _lit_words(m.group(1))
    if m.group(3):
        words += " ile " + _lit_words(m.group(3))
    return _suffixed(words, m.group(4))


# fractions and ratios
_RE_IDIOM = re.compile(r"(?<![\w/])(" + "|".join(re.escape(k) for k in lx.NUMBER_IDIOMS) + r")(?![\w/])")
_RE_ADDRESS_NO = re.compile(r"\b(No|no|Nu|Numara|numara|Daire|daire|Kapı|kapı)(\s?[:.]?\s?)(\d+)/(\d+)(?![\d/])")
_RE_SCALE = re.compile(rf"(?<![\w.,:])1:(\d{{1,3}}(?:\.\d{{3}})+|\d{{3,}})(?![\d]){_SUF}")
_VULGAR = "".join(lx.VULGAR_FRACTIONS)
_RE_MIXED = re.compile(rf"(?<![\w.,/])(\d+)(?:\s(\d+)/(\d+)|\s?([{_VULGAR}]))(?![\w/]|\.\d){_SUF}")
_RE_FRACTION = re.compile(rf"(?<![\w.,/])(\d+)/(\d{{1,3}}(?:\.\d{{3}})+|\d+)(?![\w/]|[.,]\d){_SUF}")
_RE_VULGAR = re.compile(rf"([{_VULGAR}]){_SUF}")


def _fraction_words(num: int, den: int, suffix: str | None) -> str:
    if den == 2 and num == 1:
        return _suffixed("yarı", suffix) if suffix else "yarım"
    if den == 4 and num == 1:
        return _suffixed("çeyrek", suffix)
    head = attach(number_words(den), "de")
    if suffix and lower(suffix)[0] in "ıiuü":
        suffix = "s" + suffix  # "2/5'i": "beşte ikisi", a part of something (possessive)
    return _suffixed(f"{head} {number_words(num)}", suffix)


def _fraction(m: re.Match[str]) -> str:
    num, den = int(m.group(1)), int(m.group(2).replace(".", ""))
    if den == 0:
        return m.group(0)
    if num > den and num >= 10:  # "2020/2021": not a fraction
        return _suffixed(f"{_int_words(m.group(1))} bölü {_int_words(m.group(2))}", m.group(3))
    return _fraction_words(num, den, m.group(3))


def _mixed(m: re.Match[str]) -> str:
    whole = number_words(int(m.group(1)))
    if m.group(4):
        num, den = lx.VULGAR_FRACTIONS[m.group(4)]
    else:
        num, den = int(m.group(2)), int(m.group(3))
        if den == 0 or num >= den:
            return m.group(0)
    if (num, den) == (1, 2):
        return _suffixed(f"{whole} buçuk", m.group(5))
    head = attach(number_words(den), "de")
    return _suffixed(f"{whole} tam {head} {number_words(num)}", m.group(5))


# units after a number (case-sensitive: "m" metre, "M" is not a unit)
_UNIT_KEYS = "|".join(re.escape(k) for k in sorted(lx.UNITS, key=len, reverse=True))
_RE_UNIT = re.compile(rf"{_SIGN}(?<![\w.,])({_NUMLIT})(?:\s(ile)\s({_NUMLIT}))?\s?({_UNIT_KEYS})(?![\w²³/])((?<=dk|sn|sa)\.(?=\s+[{_LO}]))?{_SUF}")


def _unit(m: re.Match[str]) -> str:
    unit = m.group(5)
    words = _sign_words(m.group("sign")) + _lit_words(m.group(2))
    if m.group(4):
        words += " ile " + _lit_words(m.group(4))
    name = lx.UNITS[unit]
    if unit in lx.UNIT_RATE:
        return _suffixed(f"{lx.UNIT_RATE[unit]} {words} {name}", m.group(7))
    return _suffixed(f"{words} {name}", m.group(7))


# coordinates: "-12.3456, 45.6789" → "enlem eksi on iki virgül üç dört beş altı, boylam …"
_COORD = r"-?\d{1,3}[.]\d{4,}"
_RE_COORD = re.compile(rf"(?<![\w.,])({_COORD}),\s?({_COORD})(?![\d])")


def _coord(m: re.Match[str]) -> str:
    lat, lon = m.group(1), m.group(2)
    if abs(float(lat)) > 90 or abs(float(lon)) > 180:
        return m.group(0)

    def one(s: str) -> str:
        return ("eksi " if s.startswith("-") else "") + _lit_words(s.lstrip("-"))

    return f"enlem {one(lat)}, boylam {one(lon)}"


# versions and addresses with several dots: "1.2.3" → "bir nokta iki nokta üç"
_RE_DOTTED = re.compile(r"(?<![\w.,])(\d+(?:\.\d+){2,})(?![\w]|\.\d)")


def _dotted(m: re.Match[str]) -> str:
    s = m.group(1)
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", s):
        return s  # thousands
    return " nokta ".join(_int_words(p) for p in s.split("."))


# ordinals: "3. kat", "21. yüzyıl" (a dot and a lower-case word after it)
_RE_ORDINAL = re.compile(rf"(?<![\w.,:])(\d{{1,9}})\.(?=\s+[{_LO}])")
# "3'üncü", "10'uncu", "2'nci" (handled by the number pass's suffix), numbers
_RE_NUMBER = re.compile(rf"{_SIGN}(?<![\w.,])({_NUMLIT})(?:{_SUF}|([{_LO}]+))(?![\w])")


def _number(m: re.Match[str]) -> str:
    return _sign_words(m.group("sign")) + _suffixed(_lit_words(m.group(2)), m.group(3) or m.group(4))


_RE_DIGITS = re.compile(r"\d+")  # whatever digits are left ("MP3")

# symbols
_RE_PLUS = re.compile(r"(?<=[\d\s])\+(?=\s?\d)")
_RE_MINUS = re.compile(r"(?<=\d)\s[-−]\s(?=\d)")  # "5 - 3 = 2"
_RE_TIMES = re.compile(r"(?<=\d)\s?[x×]\s?(?=\d)")
_RE_SYMBOL = re.compile(r"\s?([&=±÷≈≠≤≥→§])\s?")


def _symbol(m: re.Match[str]) -> str:
    word = lx.SYMBOLS.get(m.group(1), "")
    return f" {word} " if word else " "


# acronyms: "TBMM'de" → "te be me mede", "NATO'ya" → "natoya", "KDV" → "katma değer vergisi"
_RE_ACRONYM = re.compile(rf"(?<![\w'’.-])([{_UP}]{{2,}})(?:['’]([{_LO}{_UP}]+))?(?![\w])")
_ROMAN_LOOKALIKE = re.compile(r"^[IVX]+$")


def _acronym(m: re.Match[str]) -> str:
    word, suffix = m.group(1), m.group(2)
    if word in lx.ACRONYM_EXPANSIONS:
        spoken, compound = lx.ACRONYM_EXPANSIONS[word]
        return _suffixed(spoken, suffix, compound=compound)
    if _ROMAN_LOOKALIKE.match(word):
        return m.group(0)  # "Henry VIII": a Roman numeral without its dot is left alone
    low = lower(word)
    if word not in lx.SPELLED_ACRONYMS and pronounceable(low):
        return attach(low, suffix) if suffix else m.group(0)
    return _suffixed(spell(word), suffix)


_RE_SPACES = re.compile(r"[ \t]{2,}")
_RE_SPACE_PUNCT = re.compile(r" +([,.;:!?)])")

_PASSES: list[tuple[re.Pattern[str], str | Sub]] = [
    (_RE_EMAIL, _email),
    (_RE_URL, _url),
    (_RE_FILE, _file),
    (_RE_ABBR, _abbr),
    (_RE_INITIALS, lambda m: spell(m.group(1))),
    (_RE_ROMAN, _roman),
    (_RE_IDIOM, lambda m: lx.NUMBER_IDIOMS[m.group(1)]),
    (_RE_PHONE, _phone),
    (_RE_DATE_ISO, _date_iso),
    (_RE_COORD, _coord),
    (_RE_RANGE, _range),
    (_RE_DATE_DMY, _date_dmy),
    (_RE_DOTTED, _dotted),
    (_RE_ADDRESS_NO, lambda m: f"{m.group(1)}{m.group(2)}{_int_words(m.group(3))} bölü {_int_words(m.group(4))}"),
    (_RE_SCALE, lambda m: _suffixed(f"{attach(_int_words(m.group(1)), 'de')} bir", m.group(2))),
    (_RE_TIME, _time),
    (_RE_TIME_DOT, _time_dot),
    (_RE_DATE_DM, _date_dm),
    (_RE_MONEY_BEFORE, _money_before),
    (_RE_MONEY_AFTER, _money_after),
    (_RE_PERCENT_AFTER, lambda m: f"%{m.group(1)}"),
    (_RE_PERCENT, _percent),
    (_RE_MIXED, _mixed),
    (_RE_FRACTION, _fraction),
    (_RE_VULGAR, lambda m: _fraction_words(*lx.VULGAR_FRACTIONS[m.group(1)], m.group(2))),
    (_RE_PLUS, " artı "),
    (_RE_MINUS, " eksi "),
    (_RE_TIMES, " çarpı "),
    (_RE_SYMBOL, _symbol),
    (_RE_UNIT, _unit),
    (_RE_ORDINAL, lambda m: ordinal_words(int(m.group(1)))),
    (_RE_NUMBER, _number),
    (_RE_DIGITS, lambda m: f" {_int_words(m.group(0))} "),
    (_RE_ACRONYM, _acronym),
]


_RE_ANY_DIGIT = re.compile(r"\d")
# passes that only ever match around a digit (skipped for text without one)
_DIGIT_PASSES = frozenset({
    _RE_IDIOM, _RE_PHONE, _RE_DATE_ISO, _RE_COORD, _RE_RANGE, _RE_DATE_DMY, _RE_DOTTED, _RE_ADDRESS_NO, _RE_SCALE,
    _RE_TIME, _RE_TIME_DOT, _RE_DATE_DM, _RE_MONEY_BEFORE, _RE_MONEY_AFTER, _RE_PERCENT_AFTER, _RE_PERCENT,
    _RE_MIXED, _RE_FRACTION, _RE_PLUS, _RE_MINUS, _RE_TIMES, _RE_UNIT, _RE_ORDINAL, _RE_NUMBER, _RE_DIGITS,
})  # fmt: skip


_NEEDS = {_RE_EMAIL: "@", _RE_URL: ".", _RE_FILE: ".", _RE_ABBR: ".", _RE_INITIALS: ".", _RE_ROMAN: "."}


def normalize(text: str) -> str:
    """The spoken form of ``text`` for TTS (never raises; input beyond ``MAX_CHARS`` is cut)."""
    if not isinstance(text, str):
        return ""
    s = text[:MAX_CHARS]
    has_digit = _RE_ANY_DIGIT.search(s) is not None
    for pattern, repl in _PASSES:
        if pattern in _DIGIT_PASSES and not has_digit:
            continue
        if pattern in _NEEDS and _NEEDS[pattern] not in s:
            continue
        if pattern is _RE_ACRONYM and not any(ch.isupper() for ch in s):
            continue
        s = pattern.sub(repl, s)
    s = _RE_SPACE_PUNCT.sub(r"\1", _RE_SPACES.sub(" ", s))
    return s.strip()
