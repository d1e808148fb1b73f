"""Turkish number words with case suffixes ("üçte", "dörde", "on birde", "beşi", "yediye"),
read from ASCII-folded tokens, and digits with apostrophe suffixes ("3'te", "14:30'da")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bantz_voice.turkish import lexicon as lx
from bantz_voice.turkish.morph import soften
from bantz_voice.turkish.text import ascii_fold
from bantz_voice.turkish.tokens import Tok

# folded number words of the language core's tables ("dord": "dört" before a vowel)
UNITS = {ascii_fold(w): i for i, w in enumerate(lx.ONES) if w} | {ascii_fold(soften("dört")): 4}
TENS = {ascii_fold(w): 10 * i for i, w in enumerate(lx.TENS) if w}

# folded case suffixes -> case name
_CASES: dict[str, str] = {}
for _s in ("de", "da", "te", "ta"):
    _CASES[_s] = "loc"
for _s in ("e", "a", "ye", "ya"):
    _CASES[_s] = "dat"
for _s in ("i", "u", "yi", "yu"):
    _CASES[_s] = "acc"
for _s in ("den", "dan", "ten", "tan"):
    _CASES[_s] = "abl"
for _s in ("inde", "inda", "unde", "unda", "sinde", "sinda", "sunde", "sunda", "nde", "nda", "ninde", "ninda"):
    _CASES[_s] = "posloc"
for _s in ("si", "su", "ni", "nu"):
    _CASES[_s] = "poss"
for _s in ("ine", "ina", "une", "una", "sine", "sina", "sune", "suna"):
    _CASES[_s] = "posdat"
for _s in ("deki", "daki", "teki", "taki"):
    _CASES[_s] = "rel"
CASES = dict(_CASES)

_STEMS = sorted([*UNITS.items(), *TENS.items()], key=lambda kv: -len(kv[0]))


@lru_cache(maxsize=4096)
def split_number_word(fold: str) -> tuple[int, str, str] | None:
    """"ucte" -> (3, "te", "loc"); "on" -> (10, "", ""); None when not a number word."""
    for stem, value in _STEMS:
        if fold.startswith(stem):
            rest = fold[len(stem) :]
            if rest == "":
                if stem == "dord":
                    return None
                return value, "", ""
            case = CASES.get(rest)
            if case is None:
                continue
            if stem == "dort" and rest[0] in "aeiuy" and not rest.startswith("y"):
                continue  # "dorte" is not Turkish; the vowel form is "dorde"
            if stem == "dord" and rest[0] not in "aeiu":
                continue
            return value, rest, case
    return None


@dataclass(frozen=True, slots=True)
class Num:
    value: int
    case: str  # "" (bare), loc, dat, acc, abl, posloc, poss, posdat, rel
    start: int  # token index
    end: int  # exclusive token index
    digits: bool
    minute: int | None = None  # "14:30" -> value 14, minute 30
    padded: bool = False  # "09:00" (leading zero / 24-hour spelling)


_DIGITS = re.compile(r"^(\d{1,4})(?:[:.](\d{2}))?(?:['’]?([a-zçğıöşüâîû]+))?$")


def read_number(toks: list[Tok], i: int) -> Num | None:
    """A number at token ``i``: digits ("14:30'da") or words ("on birde", "kırk beş")."""
    if i >= len(toks):
        return None
    tok = toks[i]
    m = _DIGITS.match(tok.low) if tok.low[:1].isdigit() else None
    if m:
        suffix = ascii_fold(m.group(3) or "")
        case = CASES.get(suffix, "?" if suffix else "")
        minute = int(m.group(2)) if m.group(2) else None
        return Num(int(m.group(1)), case, i, i + 1, True, minute, m.group(1).startswith("0") or (minute is not None and len(m.group(1)) == 2 and int(m.group(1)) >= 13))
    total = 0
    j = i
    last_case = ""
    have_tens = have_units = False
    while j < len(toks):
        sp = split_number_word(toks[j].fold)
        if sp is None:
            break
        value, _suffix, case = sp
        if value >= 10:
            if have_tens or have_units:
                break
            have_tens = True
        else:
            if have_units:
                break
            have_units = True
        total += value
        last_case = case
        j += 1
        if case:
            break
    if j == i:
        return None
    return Num(total, last_case, i, j, False)
