"""Speech normalization for TTS: digits, times, dates, ordinals, percentages, currency and
abbreviations spelled out the way a Turkish speaker says them, with Turkish spacing ("on beş",
not "onbeş") and apostrophe suffixes re-attached in harmony ("3'te" -> "üçte", "4'e" -> "dörde",
"250 TL'ye" -> "iki yüz elli liraya"). Numbers come from num2words (lang="tr")."""

from __future__ import annotations

import re

from num2words import num2words

MAX_CHARS = 5000

_MORPHEMES = sorted(
    [
        "sıfır", "bir", "iki", "üç", "dört", "dörd", "beş", "altı", "yedi", "sekiz", "dokuz", "on", "yirmi",
        "otuz", "kırk", "elli", "altmış", "yetmiş", "seksen", "doksan", "yüz", "bin", "milyon", "milyar", "trilyon",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
MONTHS = ["Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık"]

_FRONT = set("eiöü")
_VOWELS = set("aeıioöuü")
_VOICELESS = set("çfhkpsşt")


def _space(words: str) -> str:
    """"onbeşinci" -> "on beşinci"; "ikiyüzelli" -> "iki yüz elli"."""
    out: list[str] = []
    i = 0
    while i < len(words):
        for m in _MORPHEMES:
            if words.startswith(m, i):
                out.append(m)
                i += len(m)
                break
        else:
            if out:
                out[-1] += words[i:]
            else:
                out.append(words[i:])
            break
    return " ".join(out)


def number_words(n: int) -> str:
    if n < 0:
        return "eksi " + number_words(-n)
    if n == 0:
        return "sıfır"
    return _space(num2words(n, lang="tr"))


def ordinal_words(n: int) -> str:
    return _space(num2words(n, lang="tr", to="ordinal"))


def _last_vowel(word: str) -> str:
    for ch in reversed(word.lower()):
        if ch in _VOWELS:
            return ch
    return "e"


def attach(word: str, suffix: str) -> str:
    """Attach a written suffix to a spoken word with vowel harmony, buffer letters and
    d/t assimilation ("üç"+"te" -> "üçte", "dört"+"e" -> "dörde", "lira"+"ye" -> "liraya")."""
    if not suffix:
        return word
    suffix = suffix.lower()
    last = word[-1].lower() if word else "a"
    word_ends_vowel = last in _VOWELS
    # buffer letter (y, n, s) in front of a vowel
    buffer = ""
    if len(suffix) > 1 and suffix[0] in "yns" and suffix[1] in _VOWELS:
        buffer, suffix = suffix[0], suffix[1:]
    if suffix[0] in _VOWELS:
        if word_ends_vowel:
            suffix = (buffer or "y") + suffix
        elif word.endswith("dört"):
            word = word[:-1] + "d"
    elif suffix[0] in "dt":
        suffix = ("t" if last in _VOICELESS else "d") + suffix[1:]
    # vowel harmony, vowel by vowel
    prev = _last_vowel(word)
    out = []
    for ch in suffix:
        if ch in "ae":
            ch = "e" if prev in _FRONT else "a"
            prev = ch
        elif ch in "ıiuü":
            if prev in "aı":
                ch = "ı"
            elif prev in "ei":
                ch = "i"
            elif prev in "ou":
                ch = "u"
            else:
                ch = "ü"
            prev = ch
        out.append(ch)
    return word + "".join(out)


_ABBREV = [
    (r"\bDr\.", "doktor"), (r"\bProf\.", "profesör"), (r"\bDoç\.", "doçent"), (r"\bvb\.", "ve benzeri"),
    (r"\bvs\.", "vesaire"), (r"\börn\.", "örneğin"), (r"\bör\.", "örneğin"), (r"\bbkz\.", "bakınız"), (r"\bNo\.?(?=\s*\d)", "numara"),
    (r"\bno:", "numara"), (r"\bTel\.", "telefon"), (r"\bAv\.", "avukat"), (r"\bSn\.", "sayın"), (r"\bCad\.", "caddesi"),
    (r"\bSok\.", "sokak"), (r"\bMah\.", "mahallesi"), (r"\bApt\.", "apartmanı"), (r"\bvd\.", "ve diğerleri"),
    (r"\byy\.", "yüzyıl"), (r"\bT\.C\.", "te ce"), (r"\bMÖ\b", "milattan önce"), (r"\bMS\b", "milattan sonra"),
    (r"\bdk\.?(?=\s|$)", "dakika"), (r"\bsn\.?(?=\s|$)", "saniye"), (r"\bsa\.(?=\s|$)", "saat"),
    (r"(?<=\d)\s?km\b", " kilometre"), (r"(?<=\d)\s?kg\b", " kilogram"), (r"(?<=\d)\s?cm\b", " santimetre"),
    (r"(?<=\d)\s?mm\b", " milimetre"), (r"(?<=\d)\s?m\b", " metre"), (r"(?<=\d)\s?gr\b", " gram"),
    (r"(?<=\d)\s?lt\b", " litre"), (r"(?<=\d)\s?°C\b", " derece"), (r"(?<=\d)\s?°", " derece"),
    (r"(?<=\d)\s?km/sa\b", " kilometre"),
]  # fmt: skip
_CURRENCY_NAMES = {"tl": "lira", "₺": "lira", "lira": "lira", "$": "dolar", "usd": "dolar", "dolar": "dolar",
                   "€": "avro", "eur": "avro", "euro": "avro", "avro": "avro", "£": "sterlin", "gbp": "sterlin"}  # fmt: skip
_SUB_UNIT = {"lira": "kuruş", "dolar": "sent", "avro": "sent", "sterlin": "peni"}

_NUM = r"\d{1,3}(?:\.\d{3})+|\d+"
_SUFFIX = r"(?:['’]([a-zçğıöşü]+))?"
_RE_CUR_AFTER = re.compile(rf"({_NUM})(?:,(\d{{1,2}}))?\s?(TL|₺|USD|EUR|GBP|€|\$|£)(?![a-zA-Z]){_SUFFIX}")
_RE_CUR_BEFORE = re.compile(rf"(₺|\$|€|£)\s?({_NUM})(?:[,.](\d{{1,2}}))?(?!\d){_SUFFIX}")
_RE_DATE = re.compile(rf"\b(\d{{1,2}})[./](\d{{1,2}})[./](\d{{4}})\b{_SUFFIX}")
_RE_TIME = re.compile(rf"\b([01]?\d|2[0-3])[:.]([0-5]\d)(?![\d.,]){_SUFFIX}")
_RE_PERCENT = re.compile(rf"%\s?(\d+)(?:,(\d+))?{_SUFFIX}")
_RE_PERCENT_AFTER = re.compile(r"\b(\d+)(?:,(\d+))?\s?%")  # "20%" (English order) -> "%20"
_RE_ORDINAL = re.compile(r"\b(\d{1,6})\.(?=\s+[a-zçğıöşü])")
_RE_DECIMAL = re.compile(rf"\b(\d+),(\d+)\b{_SUFFIX}")
_RE_INT = re.compile(rf"(?<![\w])(-)?({_NUM}){_SUFFIX}")


_DIGIT_WORDS = ["sıfır", "bir", "iki", "üç", "dört", "beş", "altı", "yedi", "sekiz", "dokuz"]


def _int(s: str) -> int:
    return int(s.replace(".", ""))


def _int_words(s: str) -> str:
    digits = s.replace(".", "")
    if len(digits) > 15:  # a long digit string (a code, an id) is read digit by digit
        return " ".join(_DIGIT_WORDS[int(ch)] for ch in digits)
    return number_words(int(digits))


def _with_suffix(words: str, suffix: str | None) -> str:
    return attach(words, suffix) if suffix else words


def _decimal_words(whole: str, frac: str) -> str:
    return f"{_int_words(whole)} virgül {_frac_words(frac)}"


def _frac_words(frac: str) -> str:
    zeros = len(frac) - len(frac.lstrip("0"))
    rest = frac.lstrip("0")
    return " ".join(["sıfır"] * zeros + ([_int_words(rest)] if rest else []))


def _currency(amount: str, cents: str | None, unit: str, suffix: str | None) -> str:
    name = _CURRENCY_NAMES.get(unit.lower(), unit)
    words = f"{_int_words(amount)} {name}"
    if cents and int(cents):
        c = int(cents.ljust(2, "0"))
        words += f" {number_words(c)} {_SUB_UNIT.get(name, 'kuruş')}"
    return _with_suffix(words, suffix)


def _time(m: re.Match[str]) -> str:
    h, mi = int(m.group(1)), int(m.group(2))
    words = number_words(h)
    if mi:
        words += " " + ("sıfır " + number_words(mi) if mi < 10 else number_words(mi))
    return _with_suffix(words, m.group(3))


def _date(m: re.Match[str]) -> str:
    d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return m.group(0)
    return _with_suffix(f"{number_words(d)} {MONTHS[mo - 1]} {number_words(y)}", m.group(4))


def normalize(text: str) -> str:
    """The spoken form of ``text`` for TTS (never raises; long input is capped)."""
    if not isinstance(text, str):
        return ""
    s = text[:MAX_CHARS]
    for pat, rep in _ABBREV:
        s = re.sub(pat, rep, s)
    s = _RE_CUR_AFTER.sub(lambda m: _currency(m.group(1), m.group(2), m.group(3), m.group(4)), s)
    s = _RE_CUR_BEFORE.sub(lambda m: _currency(m.group(2), m.group(3), m.group(1), m.group(4)), s)
    s = _RE_DATE.sub(_date, s)
    s = _RE_TIME.sub(_time, s)
    s = _RE_PERCENT_AFTER.sub(lambda m: "%" + m.group(1) + (f",{m.group(2)}" if m.group(2) else ""), s)
    s = _RE_PERCENT.sub(
        lambda m: _with_suffix(
            "yüzde " + (_decimal_words(m.group(1), m.group(2)) if m.group(2) else _int_words(m.group(1))), m.group(3)
        ),
        s,
    )
    s = _RE_ORDINAL.sub(lambda m: ordinal_words(int(m.group(1))), s)
    s = _RE_DECIMAL.sub(lambda m: _with_suffix(_decimal_words(m.group(1), m.group(2)), m.group(3)), s)
    s = _RE_INT.sub(
        lambda m: _with_suffix(("eksi " if m.group(1) else "") + _int_words(m.group(2)), m.group(3)), s
    )
    return re.sub(r"[ \t]{2,}", " ", s).strip()
