"""Turkish-aware text basics shared by every module (NLU, calendar matching, wake word)."""

from __future__ import annotations

import re
import unicodedata

_LOWER = str.maketrans({"I": "ı", "İ": "i"})
_ASCII = str.maketrans({"ı": "i", "ğ": "g", "ü": "u", "ş": "s", "ö": "o", "ç": "c", "â": "a", "î": "i", "û": "u"})
_WORD = re.compile(r"[0-9a-zçğıöşüâîû]+(?:['’][a-zçğıöşü]+)?", re.IGNORECASE)


def tr_lower(text: str) -> str:
    """Lowercase with Turkish dotted/dotless I rules (İ→i, I→ı)."""
    return unicodedata.normalize("NFC", text).translate(_LOWER).lower().replace("i̇", "i")


def ascii_fold(text: str) -> str:
    """Lowercase and strip Turkish diacritics ("Çarşamba" -> "carsamba")."""
    return tr_lower(text).translate(_ASCII)


def words(text: str) -> list[str]:
    """Lowercased word tokens; an apostrophe suffix stays attached ("aralık'ta")."""
    return _WORD.findall(tr_lower(text))
