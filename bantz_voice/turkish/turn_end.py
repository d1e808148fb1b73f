"""Is a (speculative) Turkish transcript a finished turn? The turn-end policy of issue #15.

While the user pauses, the speculative transcript of the audio so far is already there
(``pipeline`` starts Whisper at the pause's first silent frame). :meth:`TurnEndPolicy.judge` reads
it and says

``complete``
    the fast path (``turkish/nlu.py``) is confident it holds a whole command or question *and* the
    sentence ends the way a Turkish sentence ends: a verb ("ekle", "siler misin", "yapsam"), a
    question word or particle ("kaç", "ne var", "boş muyum"), a copula ("nasılsın") or a closing
    formula ("teşekkürler") — Turkish is verb-final, so a sentence that stops on a noun is rarely
    done; the endpointer may end the turn after a short silence.
``unfinished``
    the sentence stops on a word that needs a continuation: a conjunction ("ve", "ama", "ya da"), a
    postposition or determiner ("için", "bir", "bu"), "saat" without its hour, a number without
    its unit or case ("saat üç", "toplantıyı 15"), a hesitation ("ııı", "şey"), a bare wake word
    ("Bantz…" before the request), a comma or an ellipsis; or it names a time, a date or the
    calendar without any verb ("yarın saat üçte", "doktor randevusu") — a verb is missing. The
    endpointer waits longer.
``fragment``
    it stops without a verb, question word or closing formula, on words that name nothing the
    policy knows ("en sevdiğin", "yeni bir hobi", and Whisper's garbled "Yakın sakık." for "yarın
    saat üç"): likely a fragment, but weaker evidence than ``unfinished``, so the endpointer waits
    a middle limit (``vad.turn_end_fragment_ms``, 800 ms: the 300–700 ms pauses people make
    mid-sentence) instead of the extended one. An empty transcript too: no words, no reply, so
    holding it costs nothing, and the words after the pause join it.
``unknown``
    anything else (an unsure sentence that ends on its verb): today's fixed hangover.

Pure text in, verdict out: no model, deterministic, well under a millisecond.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bantz_voice.schemas import Intent
from bantz_voice.turkish import lexicon as lx
from bantz_voice.turkish import nlu
from bantz_voice.turkish.numbers import read_number
from bantz_voice.turkish.tokens import Tok, tokenize
from bantz_voice.turkish.wake import is_wake_word, strip_wake_word


class Verdict(str, Enum):
    COMPLETE = "complete"
    UNFINISHED = "unfinished"
    FRAGMENT = "fragment"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TurnEnd:
    """A verdict and why (a short English reason for logs and tests; never the user's words)."""

    verdict: Verdict
    reason: str


# --- word tables (ASCII-folded, as Tok.fold) -------------------------------------------------
# a sentence that stops on one of these goes on
CONNECTORS = frozenset({
    "ve", "veya", "veyahut", "yahut", "ya", "ile", "ama", "fakat", "ancak", "lakin", "cunku", "ki", "hem",
    "sonra", "once", "icin", "gibi", "kadar", "dogru", "karsi", "gore", "beri", "dolayi", "ayrica", "mesela",
    "ornegin", "yani", "da", "de", "eger", "sayet", "madem", "hatta", "belki",
})  # fmt: skip
DETERMINERS = frozenset({
    "bir", "bi", "bu", "su", "her", "hic", "en", "cok", "daha", "biraz", "birkac", "bazi", "tum", "butun",
    "bana", "beni", "benim", "bizim", "bize", "sana", "size", "ona", "onun", "senin", "yeni", "diger", "ilk", "son", "sonraki", "onceki",
})  # fmt: skip
# "saat" and its forms wait for the hour; "ayin" for the day of the month
NEEDS_VALUE = frozenset({"saat", "saate", "saatte", "saati", "saatine", "ayin", "tarih", "tarihi", "tarihine"})
# hesitations: the user is looking for the next word (FILLERS minus the polite ones)
HESITATIONS = frozenset({"sey", "ee", "eee", "eeh", "ehm", "hmm", "hm", "mm", "iii", "ii", "aa", "oo", "ya", "iste", "bakalim"})
# dropped from the end before judging: polite closers that follow a finished request
POLITE_TAIL = frozenset({"lutfen", "acaba", "ederim"})
# hesitations that also close a finished sentence as a tag ("nasılsın bakalım", "anlat işte")
TAG_TAIL = frozenset({"bakalim", "iste", "ya"})

# the last word of a finished sentence
QUESTION_WORDS = frozenset({
    "kac", "kacta", "kaci", "kacinci", "kacinda", "ne", "neler", "nedir", "neydi", "nerede", "nereye", "nereden",
    "kim", "kimle", "kiminle", "kimlerle", "hangisi", "hangileri", "nasil", "niye", "neden", "nicin", "zaman",
    "var", "yok", "degil", "oldu", "olur", "mi", "mu",
})  # fmt: skip
CLOSING = frozenset({
    "merhaba", "selam", "selamlar", "gunaydin", "tesekkurler", "tesekkur", "sagol", "sagolun", "eyvallah",
    "mersi", "tamam", "tamamdir", "evet", "hayir", "peki", "aferin", "geceler", "aksamlar", "gunler",
    "gorusuruz", "kal", "naber", "vazgec", "dur", "iptal", "bosver", "anladim", "harika", "super",
})  # fmt: skip
# stems of common request verbs beyond the calendar's (imperative forms via lexicon.VERB_SUFFIXES)
REQUEST_VERBS = (
    "anlat", "soyle", "goster", "oku", "listele", "bak", "ver", "ac", "kapat", "yap", "bul", "cal", "et", "baslat",
    "durdur", "hatirla", "bildir", "sor", "tekrarla", "say", "cevir", "gonder", "ara", "dinle", "oner", "acikla",
    "getir", "ogret", "bitir", "unut", "bekle", "sus",
)  # fmt: skip
ALL_VERBS = lx.CREATE_VERBS + lx.DELETE_VERBS + lx.UPDATE_VERBS + REQUEST_VERBS
# endings of finite verbs and copulas on any stem (folded): present continuous, ability, necessity,
# future, past and evidential with a person, optative/conditional, aorist with a person or question,
# imperative 3rd person and "-alım", 2nd-person copula ("nasılsın"), "-dir"
_FINITE = re.compile(
    r"(?:yor(?:um|sun|uz|sunuz|lar)?"
    r"|[ae]bilir\w*|y[ae]bilir\w*|m[ae]l[iy]\w*"
    r"|[ae]c[ae][kg]\w*"
    r"|[dt][iu](?:m|n|k|niz|nuz|lar)|[mn][iu]s(?:im|sin|iz|lar)?"
    r"|s[ae](?:m|n|k|niz|nuz|lar)|sana|sene"
    r"|[iuae]r(?:im|sin|iz|siniz|mi|misin|misiniz|musun|musunuz)"
    r"|s[iu]n(?:lar|ler)?|s[iu]n[iu]z|[ae]y?[ie]?lim|y[ae]lim"
    r"|[dt][iu]r(?:lar)?)$"
)
# nouns and adverbs those endings would take for verbs
NOT_VERBS = frozenset({"aksam", "insan", "nisan", "yuksek", "hasan", "kasim", "simdi", "hepsini"})
# calendar nouns with a possessive look like a past tense ("toplantım" ~ "-tım"): never verbs
NOUN_STEMS = ("toplanti", "randevu", "etkinli", "gorusme", "bulusma", "takvim", "ajanda", "program", "plan", "saat")
_QUESTION_PARTICLE = re.compile(r"^m[iu](?:yim|sin|yiz|siniz|sunuz|yum|sun|yuz|dir)?$")
_TRAILING_OPEN = re.compile(r"(?:,|;|:|-|–|—|\.\.\.|…)\s*$")
_TRAILING_QUESTION = re.compile(r"\?\s*$")


def _is_verb(fold: str) -> bool:
    if any(fold.startswith(stem) and fold[len(stem) :] in lx.VERB_SUFFIXES for stem in ALL_VERBS):
        return True
    if len(fold) <= 3 or fold in NOT_VERBS or fold.startswith(NOUN_STEMS):
        return False
    return _FINITE.search(fold) is not None


def _ends_sentence(toks: list[Tok]) -> bool:
    last = toks[-1].fold
    if last in QUESTION_WORDS or last in CLOSING or _QUESTION_PARTICLE.match(last):
        return True
    return _is_verb(last)


def _bare_number(toks: list[Tok]) -> bool:
    """The sentence stops on a number without a case suffix or unit ("saat üç", "toplantıyı 15")."""
    for start in range(max(0, len(toks) - 3), len(toks)):
        num = read_number(toks, start)
        if num is not None and num.end == len(toks):
            return num.case == ""
    return False


@dataclass(frozen=True, slots=True)
class TurnEndPolicy:
    """``min_confidence``: the fast path's confidence a complete verdict needs (the brain's
    ``fast_path_min_confidence`` by default)."""

    min_confidence: float = 0.8

    def judge(self, text: str, now: datetime | None = None) -> TurnEnd:
        raw = text.strip() if isinstance(text, str) else ""
        if not raw:
            # Whisper heard no words: an empty turn gets no reply, so a longer hold costs no
            # latency, and speech that resumes ("bana biraz … motivasyon ver") joins it
            return TurnEnd(Verdict.FRAGMENT, "empty")
        request = strip_wake_word(raw)
        toks = [t for t in tokenize(request) if not is_wake_word(t.fold)]
        if not toks:
            return TurnEnd(Verdict.UNFINISHED, "wake word only")  # "Bantz…": the request follows
        if len(toks) > 1 and toks[-1].fold in TAG_TAIL and _ends_sentence(toks[:-1]):
            toks = toks[:-1]  # a tag after the verb: the sentence is judged without it
        elif toks[-1].fold in HESITATIONS:
            return TurnEnd(Verdict.UNFINISHED, "hesitation")
        while len(toks) > 1 and toks[-1].fold in POLITE_TAIL:
            toks = toks[:-1]
        last = toks[-1].fold
        if last in CONNECTORS:
            return TurnEnd(Verdict.UNFINISHED, "connector")  # "ve", "ya da", "için"
        if last in DETERMINERS:
            return TurnEnd(Verdict.UNFINISHED, "determiner")  # "bir", "bu", "bana"
        if last in NEEDS_VALUE:
            return TurnEnd(Verdict.UNFINISHED, "value missing")  # "saat"
        if _bare_number(toks):
            return TurnEnd(Verdict.UNFINISHED, "number without unit")  # "saat üç", "15"
        if _ends_sentence(toks) or _TRAILING_QUESTION.search(raw):
            decision = nlu.parse(request, now)
            if decision.confidence >= self.min_confidence:
                return TurnEnd(Verdict.COMPLETE, f"fast path {decision.intent.value}")
            if decision.intent is Intent.smalltalk_chat and not nlu.has_tool_cue(request, now):
                # no calendar, time or action word: the brain sends it to chat without the LLM
                # router (brain.chat_without_cue), and the sentence ends on its verb or question
                return TurnEnd(Verdict.COMPLETE, "chat sentence")
            return TurnEnd(Verdict.UNKNOWN, "not confident")
        if _TRAILING_OPEN.search(raw):
            return TurnEnd(Verdict.UNFINISHED, "open punctuation")  # Whisper's "," or "…"
        if nlu.has_tool_cue(request, now):
            return TurnEnd(Verdict.UNFINISHED, "verb missing")  # "yarın saat üçte", "doktor randevusu"
        return TurnEnd(Verdict.FRAGMENT, "no verb")
