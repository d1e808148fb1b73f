"""Turkish temporal expressions -> absolute datetimes, all-day dates, durations and ranges.

Conventions (shared/eval/README.md): the week runs Monday–Sunday; a weekday alone is its next
occurrence after today; "haftaya X" is day X of next week; an hour 1–6 without a part of day is
in the afternoon, 7–11 in the morning; "sabah" 09:00, "öğle" 12:00, "öğleden sonra" 14:00,
"akşamüstü" 17:00, "akşam" 19:00, "gece" 22:00 by default; "buçuk" :30, "çeyrek geçe/kala",
"N geçe/kala"; "ayın N'i" this month if not passed; "15 Aralık" the next such date.

The scanner works on tokens (see :mod:`bantz_voice.turkish.tokens`) so the NLU can tell which
words were temporal (``Found.used``) and cut the title from the rest. Out-of-range values
("saat 27'de", "32 Aralık") set ``Found.bad`` and are never turned into a date.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bantz_voice.turkish import lexicon as lx
from bantz_voice.turkish.morph import lower, soften
from bantz_voice.turkish.numbers import Num, read_number
from bantz_voice.turkish.text import ascii_fold
from bantz_voice.turkish.tokens import Tok, tokenize

DEFAULT_TZ = ZoneInfo("Europe/Istanbul")

# folded stems of the day and month names (from the language core's tables), longest first so
# that "cumartesi" wins over "cuma"; a month whose final k softens ("ocağı", "aralığa") also
# has its softened stem
WEEKDAYS: list[tuple[str, int]] = sorted(
    ((ascii_fold(name), i) for i, name in enumerate(lx.WEEKDAYS)), key=lambda kv: -len(kv[0])
)
MONTHS: list[tuple[str, int]] = sorted(
    {(ascii_fold(form), i + 1) for i, name in enumerate(lx.MONTHS) for form in (name, soften(lower(name)))},
    key=lambda kv: (-len(kv[0]), kv[0]),
)
_DAY_SUFFIXES = {
    "", "ye", "ya", "e", "a", "yi", "yu", "i", "u", "de", "da", "te", "ta", "den", "dan", "ten", "tan",
    "ki", "deki", "daki", "teki", "taki", "nin", "nun", "in", "un", "ndan", "nden",
    "si", "su", "leri", "lari", "dir", "gunu", "lik", "luk",
}  # fmt: skip
_MONTH_SUFFIXES = {
    "", "ta", "da", "te", "de", "in", "un", "a", "e", "ya", "ye", "i", "u", "dan", "den", "tan", "ten",
    "daki", "taki", "deki", "teki", "inda", "inde", "unda", "unde",
}  # fmt: skip
PART_DEFAULT = {"sabah": 9, "ogle": 12, "oglesonra": 14, "aksamustu": 17, "aksam": 19, "gece": 22}
# a part of day followed by one of these nouns stays in the title too ("akşam yemeği")
_PART_COMPOUND_HEADS = ("yemeg", "yemek", "kahvalti", "kosu", "yuruyus", "toplanti", "namaz", "nobet", "ders", "sporu", "sohbet", "programi", "arasi")
_UPDATE_VERB_PREFIXES = ("al", "ertele", "tasi", "kaydir", "cek", "degistir", "guncelle", "yap", "otele", "ayarla", "koy", "ekle", "kur")
_HOUR_WORDS = ("saat", "saati", "saatini", "saatte", "saatinde", "saate", "saatine")


@dataclass(slots=True)
class Clock:
    hour: int
    minute: int = 0
    h24: bool = False  # said in 24-hour form ("14:30", "09:00", "on dörtte"): no part-of-day shift
    offset: int = 0  # minutes to add after the hour is placed ("ikiye on kala" -> hour 2, offset -10)


@dataclass(slots=True)
class Found:
    """What the scanner found; indices in ``used`` are token positions."""

    day: date | None = None
    days: list[tuple[date, str]] = field(default_factory=list)  # every day said, with its (folded) word
    range: tuple[date, date] | None = None
    clock: Clock | None = None
    end_clock: Clock | None = None
    part: str | None = None
    moment: datetime | None = None  # "iki saat sonra"
    shift: timedelta | None = None  # "yarım saat ileri"
    duration: timedelta | None = None
    all_day: bool = False
    bad: bool = False
    used: set[int] = field(default_factory=set)
    keep: set[int] = field(default_factory=set)  # temporal but also part of the title

    @property
    def any(self) -> bool:
        return bool(self.used or self.keep) or self.bad


# --- helpers --------------------------------------------------------------------------------
def weekday_of(fold: str) -> int | None:
    for stem, idx in WEEKDAYS:
        if fold.startswith(stem):
            rest = fold[len(stem) :]
            if rest in _DAY_SUFFIXES or (rest.endswith("ki") and rest[:-2] in _DAY_SUFFIXES) or rest in ("gunku", "gunun"):
                return idx
    return None


def _month_of(fold: str, low: str = "") -> int | None:
    if low.startswith("nişan"):  # "nişan töreni" (engagement), not "nisan" (April)
        return None
    for stem, idx in MONTHS:
        if fold.startswith(stem):
            rest = fold[len(stem) :]
            if rest in _MONTH_SUFFIXES:
                return idx
    return None


def _next_weekday(today: date, wd: int) -> date:
    delta = (wd - today.weekday()) % 7
    return today + timedelta(days=delta or 7)


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    y = d.year + m // 12
    m = m % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _next_date(today: date, month: int, day: int) -> date | None:
    for year in (today.year, today.year + 1):
        if day > calendar.monthrange(year, month)[1]:
            continue
        d = date(year, month, day)
        if d >= today:
            return d if (d - today).days <= 400 else None
    return None


def _is_unit(fold: str, unit: str) -> bool:
    table = {
        "saat": ("saat",),
        "dakika": ("dakika", "dakka", "dk"),
        "gun": ("gun",),
        "hafta": ("hafta",),
        "ay": ("ay",),
    }
    return fold in table[unit]


def _read_amount(toks: list[Tok], i: int) -> tuple[float, int] | None:
    """An amount before a unit: "iki", "2", "yarım", "bir buçuk", "1.5", "çeyrek"."""
    if i >= len(toks):
        return None
    f = toks[i].fold
    if f == "yarim":
        return 0.5, i + 1
    if f == "ceyrek":
        return 0.25, i + 1
    if f in ("bi", "birkac"):
        return (1.0 if f == "bi" else 0.0), i + 1
    m = re.fullmatch(r"(\d+)[.,](\d)", toks[i].low)
    if m:
        return float(f"{m.group(1)}.{m.group(2)}"), i + 1
    num = read_number(toks, i)
    if num is None or num.case or num.minute is not None:
        return None
    value = float(num.value)
    j = num.end
    if j < len(toks) and toks[j].fold == "bucuk":
        value += 0.5
        j += 1
    return value, j


# --- the scanner ----------------------------------------------------------------------------
class _Scanner:
    def __init__(self, toks: list[Tok], now: datetime, lenient: bool = False) -> None:
        self.lenient = lenient  # the text is known to be temporal: "dörde", "beşi" alone are hours
        self.t = toks
        self.n = len(toks)
        self.now = now
        self.today = now.date()
        self.f = Found()

    def month(self, i: int) -> int | None:
        return _month_of(self.t[i].fold, self.t[i].low) if 0 <= i < self.n else None

    def fold(self, i: int) -> str:
        return self.t[i].fold if 0 <= i < self.n else ""

    def run(self) -> Found:
        i = 0
        matchers = (
            self.relative,
            self.duration,
            self.numeric_date,
            self.week_words,
            self.day_words,
            self.month_words,
            self.all_day,
            self.part_of_day,
            self.clock_range,
        )
        while i < self.n:
            for m in matchers:
                j = m(i)
                if j is not None and j > i:
                    self.f.used.update(range(i, j))
                    self.f.used.difference_update(self.f.keep)
                    i = j
                    break
            else:
                i += 1
        return self.f

    def _set_day(self, d: date, tok: Tok | None = None) -> None:
        self.f.days.append((d, tok.fold if tok else ""))
        if self.f.day is None:
            self.f.day = d

    # "iki saat sonra", "yarım saat sonra", "3 gün sonra", "bir hafta sonra", "yarım saat ileri"
    def relative(self, i: int) -> int | None:
        amt = _read_amount(self.t, i)
        if amt is None:
            return None
        value, j = amt
        unit = next((u for u in ("saat", "dakika", "gun", "hafta", "ay") if _is_unit(self.fold(j), u)), None)
        if unit is None:
            return None
        k = j + 1
        after = self.fold(k)
        minutes = {"saat": 60, "dakika": 1}.get(unit)
        if after.startswith(("ertele", "otele")) and not after.startswith("erteleme"):  # "bir gün ertele"
            after, k = "ileri", k - 1
        if after in ("ileri", "geri", "sonraya", "erkene", "oteye", "once"):  # "yarım saat ileri al"
            if minutes is None:
                delta = timedelta(days=value * (7 if unit == "hafta" else 30 if unit == "ay" else 1))
            else:
                delta = timedelta(minutes=value * minutes)
            self.f.shift = -delta if after in ("geri", "erkene", "once") else delta
            return k + 1
        if after not in ("sonra", "icinde", "icerisinde", "sonraya"):
            return None
        if value <= 0 or value > 1000:
            self.f.bad = True
            return k + 1
        if minutes is not None:
            moment = self.now + timedelta(minutes=value * minutes)
            self.f.moment = moment.replace(second=0, microsecond=0)
        elif unit == "ay":
            self._set_day(_add_months(self.today, int(value)))
        else:
            days = value * (7 if unit == "hafta" else 1)
            if days > 400:
                self.f.bad = True
            else:
                target = self.today + timedelta(days=int(days))
                wd = weekday_of(self.fold(k + 1))
                if unit == "hafta" and wd is not None:  # "iki hafta sonra pazartesi": that week's Monday
                    self._set_day(_monday(target) + timedelta(days=wd), self.t[k + 1])
                    return self._day_tail(k + 2)
                self._set_day(target)
        return k + 1

    # "bir saatlik", "yarım saatlik", "45 dakikalık", "iki saat sürecek"
    def duration(self, i: int) -> int | None:
        amt = _read_amount(self.t, i)
        if amt is None:
            return None
        value, j = amt
        f = self.fold(j)
        if f in ("saatlik", "saatlık"):
            mins = value * 60
        elif f in ("dakikalik", "dklik", "dakkalik"):
            mins = value
        elif f == "saat" and self.fold(j + 1).startswith(("sur", "boyunca")):
            mins = value * 60
            j += 1
        elif f in ("dakika", "dk") and self.fold(j + 1).startswith(("sur", "boyunca")):
            mins = value
            j += 1
        else:
            return None
        if not 0 < mins <= 24 * 60:
            self.f.bad = True
        else:
            self.f.duration = timedelta(minutes=mins)
        return j + 1

    # "15 Aralık", "3 Ocak'ta", "ayın 28'inde", "26.11.2026"
    def numeric_date(self, i: int) -> int | None:
        tok = self.t[i]
        m = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})(?:['’]?[a-zçğıöşü]+)?", tok.low)
        if m:
            d, mo, y = (int(g) for g in m.groups())
            try:
                self._set_day(date(y, mo, d), tok)
            except ValueError:
                self.f.bad = True
            return i + 1
        if tok.fold == "ayin" or (tok.fold == "bu" and self.fold(i + 1) == "ayin"):
            k = i + 1 if tok.fold == "ayin" else i + 2
            if self.fold(k).startswith("son"):  # "ayın sonunda"
                last = calendar.monthrange(self.today.year, self.today.month)[1]
                self._set_day(self.today.replace(day=last), self.t[k])
                return k + 1
            num = read_number(self.t, k)
            if num is None or num.minute is not None:
                return None
            return self._day_of_month(num)
        if tok.fold == "ay" and self.fold(i + 1).startswith(("sonu", "sonun")):  # "ay sonu"
            last = calendar.monthrange(self.today.year, self.today.month)[1]
            self._set_day(self.today.replace(day=last), self.t[i + 1])
            return i + 2
        num = read_number(self.t, i)
        if num is None or num.minute is not None:
            return None
        if num.digits and num.case in ("posloc", "poss") and self.month(num.end) is None and self.fold(i - 1) not in _HOUR_WORDS:
            return self._day_of_month(num)  # "28'inde", "5'i"
        month = self.month(num.end)
        if month is None:
            return None
        end = num.end + 1
        if self.fold(end).startswith("ayi"):
            end += 1
        if re.fullmatch(r"\d{4}", self.fold(end)):
            year = int(self.fold(end))
            end += 1
            try:
                self._set_day(date(year, month, num.value), self.t[end - 1])
            except ValueError:
                self.f.bad = True
            return end
        day = _next_date(self.today, month, num.value) if 1 <= num.value <= 31 else None
        if day is None:
            self.f.bad = True
        else:
            self._set_day(day, self.t[end - 1])
        return end

    def _day_of_month(self, num: Num) -> int:
        """Day N of this month if it has not passed, otherwise of next month."""
        if 1 <= num.value <= 31:
            for ahead in (0, 1):
                base = _add_months(self.today.replace(day=1), ahead)
                if num.value <= calendar.monthrange(base.year, base.month)[1]:
                    d = base.replace(day=num.value)
                    if d >= self.today:
                        self._set_day(d, self.t[num.end - 1])
                        return num.end
        self.f.bad = True
        return num.end

    # "bu hafta", "haftaya (cuma)", "gelecek hafta perşembe", "hafta sonu", "bu ay", "gelecek ay"
    def week_words(self, i: int) -> int | None:
        f = self.fold(i)
        which: int | None = None
        k = i
        if f in ("bu", "gelecek", "onumuzdeki", "sonraki", "ertesi", "gecen"):
            which = {"bu": 0, "gecen": -1}.get(f, 1)
            k = i + 1
        elif f == "bir" and self.fold(i + 1) == "sonraki":
            which, k = 1, i + 2
        elif f.startswith("haftaya"):
            which = 1
            wd = weekday_of(self.fold(i + 1))
            if wd is not None:
                self._set_day(_monday(self.today) + timedelta(days=7 + wd), self.t[i + 1])
                return self._day_tail(i + 2)
            if self.fold(i + 1).startswith("bugun"):  # "haftaya bugün": a week from today
                self._set_day(self.today + timedelta(days=7), self.t[i + 1])
                return i + 2
            mon = _monday(self.today) + timedelta(days=7)
            self.f.range = (mon, mon + timedelta(days=6))
            return i + 1
        g = self.fold(k)
        if which is None and f == "hafta" and self.fold(i + 1) in ("ici", "icinde"):
            mon = _monday(self.today)
            self.f.range = (mon, mon + timedelta(days=4))
            return i + 2
        if which is None:
            if g.startswith(("haftasonu", "haftasonl")) or (g == "hafta" and self.fold(k + 1).startswith(("sonu", "sonl"))):
                which = 0
            else:
                return None
        if which == -1 and not g.startswith("hafta"):
            return None
        if g.startswith(("haftasonu", "haftasonl")) or (g == "hafta" and self.fold(k + 1).startswith(("sonu", "sonl"))):
            sat = _monday(self.today) + timedelta(days=7 * which + 5)
            if which == 0 and self.today.weekday() == 6:
                sat = self.today - timedelta(days=1)
            self.f.range = (sat, sat + timedelta(days=1))
            return k + (1 if g.startswith("haftason") else 2)
        if g.startswith("hafta") and g[5:] in ("", "ki", "nin", "da", "ya", "ye", "icinde", "lik"):
            mon = _monday(self.today) + timedelta(days=7 * which)
            wd = weekday_of(self.fold(k + 1))
            if wd is not None:
                d = mon + timedelta(days=wd)
                if d < self.today:  # "bu hafta salı" said on a Thursday: the coming one
                    d = _next_weekday(self.today, wd)
                self._set_day(d, self.t[k + 1])
                return self._day_tail(k + 2)
            if self.fold(k + 1) in ("ici", "icinde") :
                self.f.range = (mon, mon + timedelta(days=4))
                return k + 2
            self.f.range = (mon, mon + timedelta(days=6))
            return k + 1
        if g in ("ay", "ayki", "ayin", "ayda", "aya", "ayinda") and which >= 0:
            if g == "ayin" and read_number(self.t, k + 1) is not None:
                return None
            first = _add_months(self.today.replace(day=1), which)
            self.f.range = _month_range(first.year, first.month)
            return k + 1
        wd = weekday_of(g)
        if wd is not None and which >= 0:
            if which == 0:
                d = _monday(self.today) + timedelta(days=wd)
                if d < self.today:
                    d = _next_weekday(self.today, wd)
            else:
                d = _next_weekday(self.today, wd)
            self._set_day(d, self.t[k])
            return self._day_tail(k + 1)
        return None

    def _day_tail(self, j: int) -> int:
        """Swallow "günü"/"gün" after a day word."""
        if self.fold(j) in ("gunu", "gun", "gunku", "gunki", "gunun", "gune", "gunden", "gunune"):
            return j + 1
        return j

    # "bugün", "yarın", "öbür gün", "yarından sonra", "dün", weekday names
    def day_words(self, i: int) -> int | None:
        f = self.fold(i)
        nxt = self.fold(i + 1)
        if f.startswith("bugun") and f[5:] in ("", "ku", "ki", "un", "e", "den", "de", "lik"):
            self._set_day(self.today, self.t[i])
            return i + 1
        if f in ("yarindan", "yarinda") and nxt == "sonra":
            self._set_day(self.today + timedelta(days=2), self.t[i])
            return i + 2
        if f == "yarn":
            f = "yarin"
        if f.startswith("yarin") and f[5:] in ("", "ki", "a", "da", "dan", "in", "ina", "e"):
            self._set_day(self.today + timedelta(days=1), self.t[i])
            return i + 1
        if f in ("obur", "obursu", "ertesi", "oburgun") and (nxt.startswith("gun") or f == "oburgun"):
            self._set_day(self.today + timedelta(days=1 if f == "ertesi" else 2), self.t[i + 1 if f != "oburgun" else i])
            return i + (1 if f == "oburgun" else 2)
        if f in ("dun", "dunku", "dunun"):
            self._set_day(self.today - timedelta(days=1), self.t[i])
            return i + 1
        wd = weekday_of(f)
        if wd is not None:
            if f == "pazar" and nxt.startswith(("alisveris", "yeri", "tezgah", "arabas", "kurul", "esnaf")):
                return None  # "pazar alışverişi": the market, not Sunday
            self._set_day(_next_weekday(self.today, wd), self.t[i])
            return self._day_tail(i + 1)
        return None

    # "aralık ayında", "ocakta" -> the whole month (this one, or the next such)
    def month_words(self, i: int) -> int | None:
        month = self.month(i)
        if month is None:
            return None
        year = self.today.year + (1 if month < self.today.month else 0)
        j = i + 1
        if self.fold(j).startswith("ay"):
            j += 1
        num = read_number(self.t, j)
        if num is not None and num.digits and num.minute is None and num.case in ("", "posloc", "poss") and self.fold(i - 1) != "saat":
            d = _next_date(self.today, month, num.value) if 1 <= num.value <= 31 else None
            if d is None:
                self.f.bad = True
            else:
                self._set_day(d, self.t[num.end - 1])
            return num.end
        self.f.range = _month_range(year, month)
        return j

    def all_day(self, i: int) -> int | None:
        f, g = self.fold(i), self.fold(i + 1)
        if f in ("tum", "butun") and g in ("gun", "gunluk", "gune"):
            self.f.all_day = True
            return i + 2
        if f == "tumgun" or (f == "gun" and g == "boyu"):
            self.f.all_day = True
            return i + (1 if f == "tumgun" else 2)
        return None

    # "sabah", "öğleden sonra", "akşamüstü", "bu akşam", "gece" (then an optional clock)
    def part_of_day(self, i: int) -> int | None:
        f = self.fold(i)
        start = i
        if f == "bu" and self._part_name(i + 1):
            if self.f.day is None:
                self._set_day(self.today, self.t[i])
            i += 1
            f = self.fold(i)
        name = self._part_name(i)
        if name is None:
            return None
        part, j = name
        if self.fold(j) in ("dogru", "civari", "civarinda", "gibi"):  # "akşama doğru"
            j += 1
        if self.fold(j).startswith(_PART_COMPOUND_HEADS) and self.fold(i) in ("sabah", "ogle", "oglen", "aksam", "gece"):
            self.f.part = self.f.part or part
            self.f.keep.add(i)
            return None if start == i else start + 1
        self.f.part = part
        return j

    def _part_name(self, i: int) -> tuple[str, int] | None:
        f, g = self.fold(i), self.fold(i + 1)
        if f == "gece" and g.startswith("yarisi"):  # "gece yarısı" = 24:00 of that day
            if self.f.clock is None:
                self.f.clock = Clock(24, 0, True)
            return "gece", i + 2
        if f.startswith("sabah") and f[5:] in ("", "ki", "a", "leyin", "lari", "tan", "in", "i", "da", "ina", "inda", "indan"):
            return "sabah", i + 1
        if f in ("ogleden", "oglenden") and g in ("sonra", "sonraya", "sonraki", "sonrasi", "sonrasina"):
            return "oglesonra", i + 2
        if f in ("ogleden", "oglenden") and g == "once":
            return "sabah", i + 2
        if f in ("ogle", "oglen", "ogleye", "oglene", "oglende", "ogleyin", "oglenki", "oglen", "ogleki", "ogle"):
            return "ogle", i + 1
        if f in ("aksamustu", "aksamuzeri", "ikindi", "ikindide"):
            return "aksamustu", i + 1
        if f.startswith("aksam") and g in ("ustu", "uzeri", "ustune"):
            return "aksamustu", i + 2
        if f.startswith("aksam") and f[5:] in ("", "i", "a", "ki", "leyin", "lari", "in", "da", "dan", "ina", "inda", "indan"):
            return "aksam", i + 1
        if f.startswith("gece") and f[4:] in ("", "si", "ki", "leyin", "ye", "leri", "de", "sine", "sinde"):
            if f == "gece" and (self.t[i].low == "geçe" or self._is_past_marker(i)):
                return None
            return "gece", i + 1
        return None

    def _is_past_marker(self, i: int) -> bool:
        if i == 0:
            return False
        prev = self.fold(i - 1)
        if prev == "ceyrek":
            return True
        num_prev = read_number(self.t, i - 1)
        return num_prev is not None and num_prev.end == i and num_prev.case in ("", "acc") and num_prev.minute is None

    # clocks: "saat 3'te", "14:30'da", "dörtte", "yedi buçukta", "ikiye on kala", "üçten beşe kadar"
    def clock_range(self, i: int) -> int | None:
        if self.fold(i) == "ayni" and self.fold(i + 1).startswith("saat"):  # "aynı saate": the event's own time
            return i + 2
        got = self.clock(i)
        if got is None:
            return None
        c, case, j = got
        if case == "abl":
            part = self._part_name(j)
            if part is not None and self.fold(part[1]) in ("kadar", "dek"):  # "ondan öğlene kadar"
                self._put_clock(c, Clock(PART_DEFAULT[part[0]], 0, True))
                return part[1] + 1
            nxt = self.clock(j, after_from=True)
            if nxt is not None:
                c2, _case2, k = nxt
                if self.fold(k) in ("kadar", "dek", "degin"):
                    k += 1
                self._put_clock(c, c2)
                return k
        if self.fold(j).startswith("basla"):  # "üçte başlayıp beşte bitecek"
            nxt = self.clock(j + 1, after_from=True)
            if nxt is not None and self.fold(nxt[2]).startswith("bit"):
                self._put_clock(c, nxt[0])
                return nxt[2] + 1
        if self.fold(j) == "ile" or self.fold(j) == "-":
            nxt = self.clock(j + 1, after_from=True)
            if nxt is not None and self.fold(nxt[2]).startswith("aras"):
                self._put_clock(c, nxt[0])
                return nxt[2] + 1
        self._put_clock(c, None)
        return j

    def _put_clock(self, c: Clock, end: Clock | None) -> None:
        for x in (c, end):
            if x is not None and not (0 <= x.hour <= 24 and 0 <= x.minute <= 59):
                self.f.bad = True
                return
        if self.f.clock is None:
            self.f.clock = c
            self.f.end_clock = end

    def clock(self, i: int, after_from: bool = False) -> tuple[Clock, str, int] | None:
        if self.fold(i) == "bu" and self.fold(i + 1) in ("saatte", "saatlerde"):  # "yarın bu saatte"
            return Clock(self.now.hour, self.now.minute, True), "loc", i + 2
        said_saat = self.fold(i) in _HOUR_WORDS
        j = i + 1 if said_saat else i
        if self.fold(j) in ("tam",):
            j += 1
        num = read_number(self.t, j)
        if num is None:
            return None
        k = num.end
        case = num.case
        hour, minute = num.value, num.minute or 0
        h24 = num.padded or hour >= 13 or (not num.digits and hour >= 13)
        if case == "?":
            return None
        # "on iki" etc. are read by read_number; 24-hour words ("on dörtte") are >= 13
        # "yedi buçukta", "3 buçukta"
        if num.minute is None and self.fold(k).startswith(("bucuk", "bucug")):
            tail = self.fold(k)[5:]
            case = {"ta": "loc", "ga": "dat", "gu": "acc", "tan": "abl", "": ""}.get(tail, "")
            return Clock(hour, 30, h24), case, k + 1
        # "dokuzu çeyrek geçe", "ikiye on kala", "9'u 10 geçe"
        if num.minute is None and case in ("dat", "acc", ""):
            mins_tok = self.fold(k)
            mins: int | None = None
            m_end = k
            if mins_tok == "ceyrek":
                mins, m_end = 15, k + 1
            else:
                mnum = read_number(self.t, k)
                if mnum is not None and not mnum.case and mnum.minute is None:
                    mins, m_end = mnum.value, mnum.end
            if mins is not None and self.fold(m_end) in ("kala", "gece", "gecede", "kalada", "gecesi"):
                word = self.fold(m_end)
                if not 0 < mins < 60:
                    self.f.bad = True
                    return Clock(hour, 0, h24), "", m_end + 1
                if word.startswith("kala") and case in ("dat", ""):
                    return Clock(hour, 0, h24, offset=-mins), "", m_end + 1
                if word.startswith("gece") and case in ("acc", ""):
                    return Clock(hour, mins, h24), "", m_end + 1
        if not num.digits and not case and num.value <= 24 and (said_saat or self.fold(k) not in ("saat", "dakika", "gun", "hafta")):
            mnum = read_number(self.t, k)
            if mnum is not None and not mnum.digits and mnum.value >= 10 and mnum.minute is None and mnum.case in ("loc", "dat", "abl", "rel"):
                if mnum.value > 59:
                    self.f.bad = True
                return Clock(hour, mnum.value % 60, h24), mnum.case, mnum.end
        if num.minute is not None:  # "14:30", "14.30'da"
            if not num.digits:
                return None
            return Clock(hour, minute, h24 or num.padded), case, k
        if said_saat:
            if case in ("", "loc", "dat", "acc", "abl", "rel"):
                if self.fold(k) in ("saat", "saatlik", "dakika", "dakikalik", "gun", "sonra"):
                    return None
                return Clock(hour, 0, h24), case, k
            return None
        if case in ("loc", "rel", "abl") or (case in ("dat", "") and after_from):
            if num.digits and num.value > 24 and case != "loc":
                return None
            if case in ("loc", "rel", "abl") and num.digits and self._looks_like_not_clock(k):
                return None
            return Clock(hour, 0, h24), case, k
        if case == "dat" and self._dative_is_clock(i, k):
            return Clock(hour, 0, h24), case, k
        if (self.lenient and case in ("", "dat", "acc") and num.minute is None and 0 <= hour <= 24
                and self.fold(k) not in ("saat", "saatlik", "dakika", "dakikalik", "gun", "hafta", "ay", "sonra")):
            return Clock(hour, 0, h24), case, k
        return None

    def _looks_like_not_clock(self, k: int) -> bool:
        return self.fold(k) in ("kisi", "kisilik", "yil", "yas")

    def _dative_is_clock(self, i: int, k: int) -> bool:
        prev = self.fold(i - 1)
        if (i - 1) in self.f.used or prev in _HOUR_WORDS or self._part_name(i - 1) is not None:
            return True
        nxt = self.fold(k)
        return nxt in ("kadar", "dek") or nxt.startswith(_UPDATE_VERB_PREFIXES)


def scan(toks: list[Tok], now: datetime, lenient: bool = False) -> Found:
    """Find every temporal expression in ``toks`` (never raises)."""
    try:
        return _Scanner(toks, now, lenient).run()
    except (ValueError, OverflowError, IndexError):  # pragma: no cover - defensive
        f = Found()
        f.bad = True
        return f


# --- composing results ----------------------------------------------------------------------
def place_hour(c: Clock, part: str | None) -> tuple[int, int, int]:
    """(hour, minute, day offset) for a clock read with an optional part of day."""
    h = c.hour
    if not c.h24:
        if part in ("oglesonra", "aksamustu", "aksam"):
            if 1 <= h <= 11:
                h += 12
        elif part == "ogle":
            if 1 <= h <= 5:
                h += 12
        elif part == "gece":
            if 7 <= h <= 11:
                h += 12
            elif h == 12:
                h = 24
        elif part == "sabah":
            pass
        elif 1 <= h <= 6:
            h += 12
    total = h * 60 + c.minute + c.offset
    return (total // 60) % 24, total % 60, total // (24 * 60)


@dataclass(slots=True)
class Resolved:
    """Composed result: a start (datetime or all-day date), an end, a query range."""

    start: datetime | None = None
    start_date: date | None = None  # the day, also for an all-day start
    all_day: bool = False
    end: datetime | None = None
    range: tuple[date, date] | None = None
    duration: timedelta | None = None
    shift: timedelta | None = None
    has_time: bool = False
    assumed_day: bool = False  # a time without a day that had to be put on a day
    bad: bool = False


def compose(f: Found, now: datetime, base_day: date | None = None) -> Resolved:
    today = now.date()
    r = Resolved(duration=f.duration, shift=f.shift, bad=f.bad)
    day = f.day or base_day
    if f.moment is not None:
        r.start = f.moment
        r.has_time = True
        r.start_date = f.moment.date()
    elif f.clock is not None or f.part is not None:
        c = f.clock or Clock(PART_DEFAULT[f.part or "sabah"], 0, True)
        h, m, extra = place_hour(c, f.part)
        d = day or today
        start = datetime.combine(d + timedelta(days=extra), time(h, m), tzinfo=now.tzinfo)
        if day is None and start < now - timedelta(minutes=1):
            start += timedelta(days=1)  # a time that has passed today means tomorrow
            r.assumed_day = True
        r.start = start
        r.start_date = start.date()
        r.has_time = True
        if f.end_clock is not None:
            eh, em, eextra = place_hour(f.end_clock, f.part if f.end_clock.h24 is False else None)
            end = datetime.combine(start.date() + timedelta(days=eextra), time(eh, em), tzinfo=now.tzinfo)
            while end <= start:
                end += timedelta(hours=12)
            r.end = end
    elif day is not None:
        r.start_date = day
        r.all_day = True
    if r.start is not None and r.end is None and f.duration is not None:
        r.end = r.start + f.duration
    if f.all_day and r.start_date is not None:
        r.all_day = True
        r.start = None
        r.has_time = False
    if f.range is not None:
        r.range = f.range
    elif len(f.days) >= 2 and f.days[0][1].endswith(("den", "dan", "ten", "tan")):
        a, b = f.days[0][0], f.days[1][0]
        r.range = (a, b) if a <= b else None
    elif r.start_date is not None:
        r.range = (r.start_date, r.start_date)
    return r


# --- public API -----------------------------------------------------------------------------
Kind = Literal["datetime", "date", "range", "duration"]


@dataclass(frozen=True, slots=True)
class TemporalValue:
    """One resolved expression: an absolute datetime, an all-day date, a range or a duration."""

    kind: Kind
    start: datetime | date | None = None
    end: datetime | date | None = None
    duration: timedelta | None = None


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(DEFAULT_TZ)
    if now.tzinfo is None:
        return now.replace(tzinfo=DEFAULT_TZ)
    return now


def resolve(expression: str, now: datetime | None = None) -> TemporalValue | None:
    """Resolve a Turkish temporal expression; None when nothing (valid) is found."""
    now = _now(now)
    if not isinstance(expression, str):
        return None
    f = scan(tokenize(expression), now)
    if f.bad or not f.any:
        return None
    r = compose(f, now)
    if r.start is not None:
        return TemporalValue("datetime", r.start, r.end, f.duration)
    if f.range is not None or (r.range and r.range[0] != r.range[1]):
        assert r.range is not None
        return TemporalValue("range", r.range[0], r.range[1])
    if r.start_date is not None:
        return TemporalValue("date", r.start_date, None, f.duration)
    if f.duration is not None:
        return TemporalValue("duration", duration=f.duration)
    return None


def fmt_dt(d: datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M")


def fmt_d(d: date) -> str:
    return d.strftime("%Y-%m-%d")


def slot_value(slot: str, r: Resolved) -> str | None:
    if slot in ("start", "new_start"):
        if r.start is not None and not r.all_day:
            return fmt_dt(r.start)
        return fmt_d(r.start_date) if r.start_date is not None else None
    if slot == "end":
        return fmt_dt(r.end) if r.end is not None else None
    if slot == "range_start":
        return fmt_d(r.range[0]) if r.range else None
    if slot == "range_end":
        return fmt_d(r.range[1]) if r.range else None
    if slot == "target_date":
        return fmt_d(r.start_date) if r.start_date is not None else None
    return None


SLOTS = ("start", "end", "new_start", "range_start", "range_end", "target_date")


def resolve_slot(slot: str, expression: str, now: datetime) -> str | None:
    """Resolve ``expression`` into the string format of ``slot`` (see shared/eval/README.md).

    start/end/new_start: ``YYYY-MM-DDTHH:MM`` or ``YYYY-MM-DD`` (all-day);
    range_start/range_end/target_date: ``YYYY-MM-DD``. None when it cannot be resolved
    (including out-of-range values such as "saat 27'de" or "32 Aralık").
    """
    if slot not in SLOTS or not isinstance(expression, str) or not expression.strip():
        return None
    try:
        return _resolve_slot(slot, expression, _now(now))
    except Exception:
        return None


_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::\d{2})?)?\s*$")


def _iso_slot(slot: str, m: re.Match[str], now: datetime) -> str | None:
    """An ISO value (a model may still write one): checked and re-formatted, never trusted blindly."""
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        day = date(y, mo, d)
        clock = time(int(m.group(4)), int(m.group(5))) if m.group(4) else None
    except ValueError:
        return None
    if not -31 <= (day - now.date()).days <= 400:
        return None
    if slot in ("start", "end", "new_start") and clock is not None:
        return f"{fmt_d(day)}T{clock.strftime('%H:%M')}"
    return fmt_d(day)


def _resolve_slot(slot: str, expression: str, now: datetime) -> str | None:
    m = _ISO.match(expression)
    if m:
        return _iso_slot(slot, m, now)
    f = scan(tokenize(expression), now, lenient=True)
    if f.bad or not f.any:
        return None
    r = compose(f, now)
    if slot == "end" and r.end is None and r.start is not None and f.duration is None and f.clock is not None and f.end_clock is None:
        # an end said on its own ("saat beşe kadar", "17:00")
        return fmt_dt(r.start)
    if r.start is not None and r.start.tzinfo is not None:
        r.start = r.start.astimezone(now.tzinfo)
    return slot_value(slot, r)


# --- durations and repetition (timers, reminders) -------------------------------------------
_DURATION_UNITS: dict[str, float] = {
    "saat": 3600, "saatlik": 3600, "saatlık": 3600,
    "dakika": 60, "dakka": 60, "dk": 60, "dakikalik": 60, "dakkalik": 60, "dklik": 60,
    "saniye": 1, "sn": 1, "saniyelik": 1,
}  # fmt: skip
MAX_DURATION = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class DurationSpan:
    """A length of time said as amounts and units ("bir saat yirmi dakika", "beş dakikalık"):
    ``start``/``end`` are token positions (end exclusive)."""

    value: timedelta
    start: int
    end: int


def _duration_unit(fold: str) -> float | None:
    if fold in _DURATION_UNITS:
        return _DURATION_UNITS[fold]
    for stem in ("saat", "dakika", "dakka", "saniye"):  # "dakikaya", "dakikası", "saatliğine"
        if fold.startswith(stem) and fold[len(stem) :] in ("lik", "lig", "ligi", "ligine", "ya", "ye", "yi", "si", "lik", "e", "a"):
            return _DURATION_UNITS[stem]
    return None


def read_duration(toks: list[Tok], i: int) -> DurationSpan | None:
    """The duration starting at token ``i`` ("on iki dakika", "1 saat 20 dakika", "yarım saat",
    "bir buçuk saat", "90 saniyelik"), or None. Longer than :data:`MAX_DURATION` or zero: None."""
    total = 0.0
    j = i
    while True:
        amt = _read_amount(toks, j)
        if amt is None:
            break
        value, k = amt
        unit = _duration_unit(toks[k].fold) if k < len(toks) else None
        if unit is None:
            break
        k += 1
        if k < len(toks) and toks[k].fold == "bucuk":  # "bir saat buçuk"
            value += 0.5
            k += 1
        total += value * unit
        j = k
    if j == i or total <= 0:
        return None
    span = timedelta(seconds=round(total))
    if span > MAX_DURATION:
        return None
    return DurationSpan(span, i, j)


def find_duration(toks: list[Tok]) -> DurationSpan | None:
    """The first duration in ``toks`` that is not part of "N dakika sonra/önce" (a moment)."""
    for i in range(len(toks)):
        span = read_duration(toks, i)
        if span is not None:
            return span
    return None


_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class Repeat:
    """A spoken repetition as an iCalendar RRULE value (``FREQ=DAILY``, ``FREQ=WEEKLY;BYDAY=MO``)
    and the token positions it used."""

    rrule: str
    used: frozenset[int]


def find_repeat(toks: list[Tok]) -> Repeat | None:
    """"her gün", "her sabah", "her akşam", "günlük", "her hafta", "her pazartesi", "hafta içi
    (her gün)", "her ay" -> a :class:`Repeat`, or None."""
    folds = [t.fold for t in toks]
    for i, f in enumerate(folds):
        nxt = folds[i + 1] if i + 1 < len(folds) else ""
        if f == "hafta" and nxt in ("ici", "icinde", "icleri"):
            used = {i, i + 1}
            if folds[i + 2 : i + 4] == ["her", "gun"]:
                used |= {i + 2, i + 3}
            return Repeat("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", frozenset(used))
        if f in ("gunluk", "hergun") or (f == "her" and nxt in ("gun", "sabah", "aksam", "gece", "ogle", "ogleden")):
            return Repeat("FREQ=DAILY", frozenset({i, i + 1} if nxt == "gun" and f == "her" else {i}))
        if f == "her" and weekday_of(nxt) is not None:
            return Repeat(f"FREQ=WEEKLY;BYDAY={_BYDAY[weekday_of(nxt) or 0]}", frozenset({i}))
        if (f == "her" and nxt == "hafta") or f == "haftalik":
            return Repeat("FREQ=WEEKLY", frozenset({i, i + 1} if f == "her" else {i}))
        if (f == "her" and nxt == "ay") or f == "aylik":
            return Repeat("FREQ=MONTHLY", frozenset({i, i + 1} if f == "her" else {i}))
    return None


def iso_duration(value: timedelta) -> str:
    """``timedelta(minutes=12)`` -> ``PT12M`` (the slot format of durations)."""
    secs = int(value.total_seconds())
    h, rest = divmod(secs, 3600)
    m, s = divmod(rest, 60)
    return "PT" + (f"{h}H" if h else "") + (f"{m}M" if m else "") + (f"{s}S" if s or not (h or m) else "")


_ISO_DUR = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


def parse_iso_duration(text: str | None) -> timedelta | None:
    m = _ISO_DUR.match(text or "")
    if not m or not any(m.groups()):
        return None
    h, mi, s = (int(g or 0) for g in m.groups())
    return timedelta(hours=h, minutes=mi, seconds=s)


def resolve_duration(expression: str) -> str | None:
    """A Turkish duration ("on iki dakika", "yarım saat") or an ISO one -> ``PT12M``; None when
    there is none (or it is longer than a day)."""
    if not isinstance(expression, str):
        return None
    iso = parse_iso_duration(expression.strip().upper())
    if iso is not None:
        return iso_duration(iso) if timedelta(0) < iso <= MAX_DURATION else None
    span = find_duration(tokenize(expression))
    return iso_duration(span.value) if span is not None else None


def resolve_repeat(expression: str) -> str | None:
    """"her gün" -> ``FREQ=DAILY`` (an RRULE value), or None."""
    if not isinstance(expression, str):
        return None
    if re.fullmatch(r"FREQ=(DAILY|WEEKLY|MONTHLY)(;BYDAY=[A-Z,]+)?", expression.strip()):
        return expression.strip()
    rep = find_repeat(tokenize(expression))
    return rep.rrule if rep is not None else None
