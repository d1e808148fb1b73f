"""Turkish-aware title matching for ``find``: "doktor randevumu" finds "Doktor randevusu",
"toplantılarımı" finds every "… toplantısı". A small suffix-stripping stemmer over ASCII-folded
words is enough for event titles."""

from __future__ import annotations

import re
from functools import lru_cache

from bantz_voice.turkish.text import ascii_fold, words

# Inflectional endings (ASCII-folded: ı→i, ü→u, ö→o, ş→s, ç→c, ğ→g); stripped longest first.
_SUFFIXES = sorted(
    {
        # plural
        "lar", "ler",
        # possessive
        "imiz", "umuz", "iniz", "unuz", "miz", "muz", "niz", "nuz", "im", "um", "in", "un", "si", "su", "m",
        # case
        "nin", "nun", "yi", "yu", "ye", "ya", "i", "u", "e", "a", "de", "da", "te", "ta",
        "den", "dan", "ten", "tan", "nde", "nda", "le", "la", "yle", "yla", "ki", "na", "ne", "ni", "nu",
    },
    key=len,
    reverse=True,
)
_MIN_STEM = 3
_SOFT = {"g": "k", "b": "p", "d": "t"}

# Words that never narrow a search (fillers, generic nouns, time words the caller left in).
_STOP = {
    "benim", "bizim", "bir", "bu", "su", "o", "olan", "ki", "ve", "ile", "icin", "tum", "butun",
    "etkinlik", "plan", "sey", "kayit", "takvim",
    "bugun", "yarin", "dun", "ertesi", "sabah", "ogle", "oglen", "aksam", "gece", "saat",
    "pazartesi", "sali", "carsamba", "persembe", "cuma", "cumartesi", "pazar", "gun", "hafta",
    "haftaya", "gelecek", "onumuzdeki", "sonraki", "sonra", "once", "ogleden", "aksamustu",
    "iki", "uc", "dort", "bes", "alti", "yedi", "sekiz", "dokuz", "on", "yirmi", "otuz", "kirk",
    "elli", "bucuk", "ceyrek", "yarisi", "ay", "yil",
}
_TEMPORAL_ENDINGS = re.compile(r"(?:(?:n?[dt][ae])?k[iu])$|(?:n?[dt][ae])$")


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    w = ascii_fold(word).replace("'", "").replace("’", "")
    for _ in range(4):
        for suf in _SUFFIXES:
            if w.endswith(suf) and len(w) - len(suf) >= _MIN_STEM:
                w = w[: -len(suf)]
                break
        else:
            break
    if len(w) > _MIN_STEM and w[-1] in _SOFT:
        w = w[:-1] + _SOFT[w[-1]]
    return w


_STOP_STEMS = {stem(w) for w in _STOP} | _STOP


def _is_filler(word: str) -> bool:
    folded = ascii_fold(word).replace("'", "").replace("’", "")
    if any(ch.isdigit() for ch in folded):  # "15:00", "3'te"
        return True
    bare = _TEMPORAL_ENDINGS.sub("", folded)  # "üçteki", "bugünkü", "akşamki", "cumadaki"
    return folded in _STOP or bare in _STOP or stem(word) in _STOP_STEMS


def query_stems(text: str) -> list[str]:
    """Stems of the words that can narrow a title search (fillers and time words dropped)."""
    return [stem(w) for w in words(text) if not _is_filler(w)]


def _word_matches(q: str, t: str) -> bool:
    if q == t:
        return True
    shorter, longer = (q, t) if len(q) <= len(t) else (t, q)
    return len(shorter) >= 4 and longer.startswith(shorter)


def matches(query: str, title: str) -> bool:
    """True when every meaningful query word matches some word of the title."""
    qs = query_stems(query)
    if not qs:
        return True
    ts = [stem(w) for w in words(title)]
    return all(any(_word_matches(q, t) for t in ts) for q in qs)
