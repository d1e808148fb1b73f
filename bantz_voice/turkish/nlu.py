"""Fast-path NLU: route + intent + slots + confidence from Turkish rules, in well under 5 ms.

``parse`` is the router's first stage. It is confident (>= 0.8) only when it is sure: a
``calendar.create`` needs a title and a resolved start, an update needs a title and a new time,
and an out-of-range value ("saat 27'de") is never turned into a date. Everything else gets a low
confidence so the LLM router decides; with ``--rules-only`` the best guess stands and unmatched
chit-chat falls to smalltalk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bantz_voice.schemas import ROUTE_OF_INTENT, Intent, NluDecision, Slots
from bantz_voice.turkish import lexicon as lx
from bantz_voice.turkish import nlu_alarms
from bantz_voice.turkish.temporal import DEFAULT_TZ, Found, compose, fmt_d, scan, slot_value, weekday_of
from bantz_voice.turkish.text import tr_lower
from bantz_voice.turkish.tokens import MAX_CHARS, Tok, tokenize
from bantz_voice.turkish.wake import LEAD_FILLERS, is_wake_word

CONFIDENT = 0.9
UNSURE = 0.55
GUESS = 0.3

_CAL_WORDS = r"(?:takvim|ajanda|program|randevu|toplanti|etkinli[kg]|gorusme|bulusma|plan(?!la)|mesgul|musait|gundem|islerim|isim var)"

_SYSTEM_TIME = re.compile(
    r"\bsaat\s+(?:kac\b|ne\b|nedir|kac oldu)|\bsaati?\s+(?:soyle|soyler|ogren|bildir|sorabilir)|\bsaatin\s+kac"
    r"|\bkac\s+oldu\s+saat|\bsaat\s+kac\w*\s*$|\bsimdi\s+saat\b|\bsu\s*an\s+saat|\bsaat\s+ne\s+oldu|\bsaati\s+(?:verir|soyler|goster)|\bsaat\s+kaci\b|\bkactayiz\b|\bsaat\s+kac\w*\s+oldugumuz\w*"
)
_SYSTEM_DATE = re.compile(
    r"\btarih\w*|\bhangi\s+gun\w*\s*(?:deyiz|dayiz|yiz|$)|\bgundeyiz|\bgunlerden\b|\bbugun\s+(?:ne|hangi)\s+gun\w*"
    r"|\bayin\s+kac\w*|\bhangi\s+aydayiz|\bhangi\s+yildayiz|\bbugun\s+(?:pazartesi|sali|carsamba|persembe|cuma|cumartesi|pazar)\s+mi"
    r"|\bbugun\s+gunlerden|\bhaftanin\s+hangi\s+gun|\bbugun\s+ne\s*$|\bhangi\s+yil\w*|\bkac\w*\s+kasim|\bbugun\s+kac\w*\s*$"
    r"|\bhangi\s+ay\w*\s+(?:icindeyiz|deyiz|dayiz)|\byil\s+kac\b|\bhangi\s+yil\w*|\bkacinci\s+gun\w*"
)
_MEMORY = re.compile(
    r"\b(?:az\s+once|demin|biraz\s+once|en\s+son|onceki|daha\s+once)\b.*\b(?:ne|neler|neydi|hangi|kim|nereye)\b"
    r"|\bne\s+(?:yaptik|konustuk|dedim|dedin|sordum|soyledim|soyledin|istedim|ekledik|ekledin|yaptin)"
    r"|\bneler\s+(?:yaptik|konustuk|konusmustuk|sordum)|\bson\s+(?:konusma|istedigim|sordugum|soyledigim)"
)
_SMALLTALK = re.compile(
    r"\b(?:merhaba\w*|selam\w*|slm|gunaydin\w*|iyi\s+(?:aksamlar|geceler|gunler|sabahlar|calismalar)|hos\s*ca\s*kal|gorusuruz"
    r"|nasilsin\w*|naber|nbr|ne\s+haber|nasil\s+gidiyor|keyif\w*|tesekkur\w*|sagol\w*|sag\s+ol\w*|eyvallah|mersi|eline\s+saglik"
    r"|adin\s+ne|ismin\s+ne|adin\s+neydi|kimsin|nesin|kac\s+yasindasin|seni\s+kim|ne(?:ler)?\s+yapabil\w*|yardim\s+et\w*"
    r"|hissediyorsun|mutlu\s+musun|robot\s+musun|yapay\s+zeka|seviyor\s+musun|seni\s+seviyorum|iyi\s+ki\s+varsin"
    r"|fikra\w*|saka\w*|espri\w*|siir\w*|hikaye\w*|masal\w*|bilmece\w*|ilginc|bilgi\s+ver|sohbet\w*|canim\s+sikil\w*|sikildim"
    r"|yorgunum|uzgunum|mutluyum|mutsuzum|harika\w*|super\w*|aferin|cok\s+iyisin|tamamdir|evet|hayir|tamam|peki|anladim|anlamadim"
    r"|tekrar\w*|bir\s+daha\s+soyle|nasil\s+hissed\w*|motivasyon|tavsiye|oneri|ne\s+dusunuyorsun|sence|bana\s+bir\s+sey\s+anlat"
    r"|kendinden\s+bahset|kendini\s+tanit|iyi\s+misin|nasil\s+gecti|ne\s+yapiyorsun|uykum|aciktim|sarki\s+soyle\w*|gul\w*|bosver)"
)
_UNKNOWN = re.compile(
    r"\b(?:hava(?:lar)?(?:\s+durum\w*|\s+nasil|\s+ne\s+durumda|\s+soguk|\s+sicak|\s+yagmurlu|\s+acik|yi|da|nin)?\b|havadurumu|yagmur\w*|kar\s+yag\w*"
    r"|sicaklik\w*|kac\s+derece|derece\s+olacak|semsiye|muzi[gk]\w*|sarki(?!\s+soyle)\w*|radyo\w*|podcast\w*|spotify\w*|playlist\w*|calma\s+liste\w*"
    r"|album\w*|cal(?:ar|sana|ar\s+misin|in|abilir\w*)?\b|youtube\w*|video\w*|netflix\w*|dizi\w*|televizyon\w*|tv\b|kanal\w*"
    r"|e\s*posta\w*|mail\w*|mesaj\w*|sms\w*|whatsapp\w*|telegram\w*|ara(?:r\s+misin|sana|yin|yiver|yabilir\w*|rmisin)?\s*$|arama\s+yap\w*|telefon\w*"
    r"|isik\w*|isig\w*|lamba\w*|klima\w*|kombi\w*|isitma\w*|isiticiyi|perde\w*|kapi\w*|kilit\w*|priz\w*|termostat\w*|robot\s+supurge\w*|supurge\w*"
    r"|camasir\s+makine\w*|bulasik\s+makine\w*|firin\w*|ses\w*\s+(?:ac|kis|yukselt|azalt|artir|kapat|dusur)\w*|sesi\w*|sessize|parlaklig\w*|parlaklik\w*"
    r"|bluetooth|wifi|wi\s+fi|internet\w*|bilgisayar\w*|ekran\w*|euro\w*|avro\w*|dolar\w*|doviz\w*|borsa\w*|hisse(?:si|ler\w*|\s+senet\w*)?\b|bitcoin\w*|kripto\w*|altin\w*"
    r"|faiz\w*|bist\b|para\s+gonder\w*|havale\w*|eft\b|banka\w*|bakiye\w*|fatura\w*|trafik\w*|yol\s+durum\w*|navigasyon\w*|rota\w*|yol\s+tarif\w*"
    r"|nasil\s+gider\w*|harita\w*|konum\w*|taksi\w*|uber\b|otobus\w*|metro\w*|ucak\w*|ucus\w*|bilet\w*|otel\w*|restoran\w*|lokanta\w*"
    r"|siparis\w*|kargo\w*|alisveris\s+liste\w*|market\s+liste\w*|liste(?:ye|sine|me|mize)\b|sepet\w*|(?<!\bne\s)haber\w*|mac\s+skor\w*|mac\w*\s+sonuc\w*|kazandi\s+mi|kac\s+kac\s+bitti|skor\w*|puan\s+durum\w*"
    r"|kim\s+kazandi|alarm\w*|zamanlayici\w*|sayac\w*|kronometre\w*|geri\s+sayim\w*|cevir\w*|ceviri\w*|ingilizce\w*|almanca\w*|hesapla\w*|kac\s+eder"
    r"|karekok\w*|internette|google\w*|wikipedia|vikipedi|arastir\w*|fotograf\w*|foto\b|kamera\w*|uygulama\w*|chrome|firefox|tarayici\w*"
    r"|eczane\w*|nobetci|adres\w*|yakinda\w*|en\s+yakin|benzin\w*|akaryakit\w*|tweet\w*|instagram\w*|facebook\w*|rehber\w*|kisiler\w*"
    r"|pil\w*|sarj\w*|hatirlatici\w*|notlarim\w*|not\s+defter\w*|wikipedi\w*|nobet\w*\s+eczane|ac(?:ar\s+misin|sana|in|abilir\w*)?\s*$"
    r"|kapat(?:ir\s+misin|sana|in|abilir\w*)?\s*$|kis(?:ar\s+misin|sana|in)?\s*$|yukselt\w*\s*$|sondur\w*|yak(?:ar\s+misin|sana|in)?\s*$"
    r"|kilitle\w*|oyna\w*|indir\w*|yukle\w*|guncelleme|gelen\s+kutu\w*|surer\b|pizza\w*|yemek\s+soyle\w*|uyandir\w*|disari\w*|soguk\s+mu\w*|sicak\s+mi\w*|sterlin\w*|sicaklig\w*|trafig\w*|isit\w*|manset\w*|ne\s+kadar\s+surede|giderim\b|son\s+dakika|gelisme\w*|(?:film|dizi|kitap|mekan|kafe)\w*\s+oner\w*|yen\b|frank\w*|kac\s+lira|en\s+hizli\s+yol\w*|yol\b|yolu\b|kac\s+kac|bolu\b|carpi\b|arti\b)"
)
# unknown capabilities that beat a create verb ("alarm kur", "alışveriş listesine ekle")
_UNKNOWN_OVER_CREATE = re.compile(
    r"\b(?:alarm\w*|liste(?:ye|sine|me|mize)\b|alisveris\s+liste\w*|sepet\w*|e\s*posta\w*|mail\w*|mesaj\w*|sms\w*|playlist\w*"
    r"|calma\s+liste\w*|rehber\w*|kisiler\w*|notlarim\w*|not\s+defter\w*|zamanlayici\w*|sayac\w*|whatsapp\w*)"
)
# devices: "kombiyi yirmi dereceye ayarla" is not a calendar entry
_DEVICE = re.compile(
    r"\b(?:klima\w*|kombi\w*|isik\w*|isig\w*|lamba\w*|termostat\w*|sicaklig\w*|derece\w*|parlaklig\w*|perde\w*"
    r"|televizyon\w*|radyo\w*|sesi\w*|alarm\w*|isitici\w*|priz\w*)"
)
_QUERY = re.compile(
    r"\bne(?:ler)?\s+var\b|\bne(?:yim|lerim|miz)\s+var\b|\bvar\s+mi\w*|\bvarmi\w*|\bprogram\w*|\btakvim\w*|\bajanda\w*|\bplan(?!la)\w*|\bmusait\w*|\bbos\s+mu\w*"
    r"|\bbosmu\w*|\bmesgul\w*|\bne\s+yap\w*|\bneler\s+yap\w*|\bne\s+zaman\w*|\bkacta\w*|\bhangi\s+gun\w*|\brandevu\w*|\btoplanti\w*"
    r"|\betkinlik\w*|\betkinlig\w*|\bislerim\w*|\bisim\s+var|\bgorusme\w*|\bbulusma\w*|\blistele\w*|\bgoster\w*|\boku\b|\boku\w+|\bgundem\w*"
    r"|\bneler\b|\bkac\s+(?:tane|toplanti|randevu|etkinlik)|\bkim(?:inle|le|lerle)\b|\bne(?:ler)?\s+planla\w*|\bdolu\w*|\bsirada\s+ne|\bsiradaki\w*|\bilk\s+\w+\s+ne|\bdolu\s+mu\w*|\bdolumu"
)

_SOCIAL = re.compile(r"^ne\s+var\s+ne\s+yok$|\ben\s+sevdigin\w*|\b(?:gorusmek\s+uzere|gorusuruz|hos\s*ca\s*kal\w*|kendine\s+iyi\s+bak\w*|iyi\s+geceler|iyi\s+uykular|allaha\s+ismarladik)\b")
_QUESTION_FILL = {"ne", "neler", "var", "yok", "mi", "mu", "icin", "bir", "sey", "seyler", "acaba", "peki", "nasil", "hangi"}
_N_STEMS = {"düğün", "öğün", "düğüm", "doğum", "ağustos"}
_WHEN_NOUNS = {"saatini", "tarihini", "gununu", "saatinin", "tarihinin", "vaktini", "zamanini"}
_ACC_SUFFIXES = ("yi", "yu", "yı", "yü")
_VOWELS = set("aeıioöuü")
_QUESTION_PARTICLE = re.compile(r"^(?:mi|mı|mu|mü)(?:yim|yım|yum|yüm|sin|sın|sun|sün|yiz|yız|yuz|yüz|siniz|sınız|sunuz|sünüz)?$")


def _verb(fold: str, stems: tuple[str, ...]) -> bool:
    return any(fold.startswith(stem) and fold[len(stem):] in lx.VERB_SUFFIXES for stem in stems)


@dataclass(slots=True)
class _Utterance:
    toks: list[Tok]
    text: str  # folded tokens joined by spaces

    @classmethod
    def of(cls, toks: list[Tok]) -> _Utterance:
        return cls(toks, " ".join(t.fold for t in toks))


def _clean(raw: str) -> list[Tok]:
    """Tokens without a leading wake word and without filler words."""
    toks = tokenize(raw[:MAX_CHARS])
    i = 0
    while i < len(toks) and toks[i].fold in LEAD_FILLERS and i + 1 < len(toks) and is_wake_word(toks[i + 1].fold):
        i += 1
    while i < len(toks) and is_wake_word(toks[i].fold):
        i += 1
    toks = toks[i:]
    # a trailing wake word ("iyi akşamlar bantz") is not part of the request either
    while toks and is_wake_word(toks[-1].fold):
        toks = toks[:-1]
    return [t for t in toks if t.fold not in lx.FILLERS]


def _decision(intent: Intent, confidence: float, **slots: str | None) -> NluDecision:
    return NluDecision(
        route=ROUTE_OF_INTENT[intent],
        intent=intent,
        slots=Slots(**{k: v for k, v in slots.items() if v}),
        confidence=max(0.0, min(1.0, confidence)),
        source="rules",
    )


# --- titles ---------------------------------------------------------------------------------
def _is_title_word(tok: Tok, idx: int, found: Found, verbs: set[int]) -> bool:
    if idx in found.used or idx in verbs:
        return False
    f = tok.fold
    if f in lx.TITLE_STOP or is_wake_word(f) or _QUESTION_PARTICLE.match(tok.low):
        return False
    return not (f.startswith(("takvim", "ajanda")) and f not in ("takvim",))


def _strip_object_case(word: str) -> str:
    """"kahvaltıyı" -> "kahvaltı", "randevusunu" -> "randevusu", "yemeğini" -> "yemek"."""
    w = re.split("['’]", word, maxsplit=1)[0]
    if w != word:  # "Ayşe'yi": the apostrophe marks the suffix
        return w
    lw = tr_lower(w)
    if len(lw) != len(w):
        return w
    cut = 0
    if lw[:-1] in _N_STEMS:  # "düğünü" -> "düğün"
        cut = 1
    elif len(lw) > 4 and lw.endswith(_ACC_SUFFIXES) and lw[-3] in _VOWELS or len(lw) > 4 and lw.endswith(("nı", "ni", "nu", "nü")) and lw[-3] in _VOWELS:
        cut = 2
    elif len(lw) > 5 and lw.endswith(("ları", "leri")):
        cut = 1
    elif len(lw) > 5 and lw.endswith(("nın", "nin", "nun", "nün")) and lw[-4] in _VOWELS:
        cut = 3
    w = w[: len(w) - cut]
    return w if cut == 1 and lw[:-1] in _N_STEMS else _unsoften(w)


def _unsoften(w: str) -> str:
    """Undo consonant softening before a possessive: "temizliği" -> "temizlik"."""
    lw = tr_lower(w)
    if len(lw) == len(w) and len(w) > 4 and lw[-2] == "ğ" and lw[-1] in "ıiuü" and any(c in _VOWELS for c in lw[:-2]):
        return w[:-2] + ("K" if w[-2].isupper() else "k")
    return w


def _title(toks: list[Tok], raw: str, idxs: list[int], strip_case: bool) -> str | None:
    if not idxs:
        return None
    runs: list[list[int]] = []
    for i in idxs:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = [raw[toks[r[0]].start : toks[r[-1]].end] for r in runs]
    title = " ".join(parts).strip(" -'’.,")
    words = title.split(" ")
    if strip_case and words:
        words[-1] = _strip_object_case(words[-1])
    elif words:
        words[-1] = _unsoften(words[-1])
    title = " ".join(w for w in words if w)
    return title or None


# --- main entry -----------------------------------------------------------------------------
def parse(text: str, now: datetime | None = None) -> NluDecision:
    """Decide route/intent/slots of one Turkish utterance by rules (never raises)."""
    try:
        return _parse(text, now)
    except Exception:
        return _decision(Intent.smalltalk_chat, 0.0)


def system_intent(text: str) -> Intent:
    """Which system question a sentence already routed to ``system`` asks: the date (or weekday)
    when it says so, else the time. Lets the brain skip the orchestrator LLM for system turns."""
    toks = _clean(text[:MAX_CHARS]) if isinstance(text, str) else []
    if toks and _SYSTEM_DATE.search(_Utterance.of(toks).text) and not _SYSTEM_TIME.search(_Utterance.of(toks).text):
        return Intent.system_date
    return Intent.system_time


# any word a time or date question needs (folded); looser than _SYSTEM_TIME/_SYSTEM_DATE on purpose
_SYSTEM_CUE = re.compile(
    r"\b(?:saat\w*|tarih\w*|gun\w*|kac\w*|zaman\w*|simdi|suan|su an|yil\w*|ayin|aydayiz|hafta\w*|takvim\w*)\b"
)


def has_system_cue(text: str) -> bool:
    """False when a sentence has no word a time or date question could be made of: an LLM router
    that calls it ``system`` has misread it (the user would hear the time for "bugün çok yoruldum")."""
    toks = _clean(text[:MAX_CHARS]) if isinstance(text, str) else []
    folded = _Utterance.of(toks).text
    return bool(toks) and any(rx.search(folded) for rx in (_SYSTEM_CUE, _SYSTEM_TIME, _SYSTEM_DATE))


def has_tool_cue(text: str, now: datetime | None = None) -> bool:
    """True when a sentence has any word a calendar, system or out-of-scope request is made of:
    a calendar noun, an add/delete/move verb, a date or time expression, a time/date question word,
    a device or service word. Without one, an LLM router can only pick chat, so the brain skips it."""
    toks = _clean(text[:MAX_CHARS]) if isinstance(text, str) else []
    if not toks:
        return False
    s = _Utterance.of(toks).text
    if re.search(r"\b" + _CAL_WORDS, s) or _UNKNOWN.search(s) or has_system_cue(text):
        return True
    if nlu_alarms.decide(toks, text[:MAX_CHARS], now or datetime.now(DEFAULT_TZ)) is not None:
        return True
    if any(_verb(t.fold, lx.DELETE_VERBS + lx.UPDATE_VERBS + lx.CREATE_VERBS) for t in toks):
        return True
    return scan(toks, now or datetime.now(DEFAULT_TZ)).any


def _capped(d: NluDecision, cap: float) -> NluDecision:
    return d.model_copy(update={"confidence": min(d.confidence, cap)}) if d.confidence > cap else d


def _parse(text: str, now: datetime | None) -> NluDecision:
    if now is None:
        now = datetime.now(DEFAULT_TZ)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=DEFAULT_TZ)
    if not isinstance(text, str):
        return _decision(Intent.smalltalk_chat, 0.0)
    raw = text[:MAX_CHARS]
    toks = _clean(raw)
    if not toks:
        return _decision(Intent.smalltalk_chat, 0.1)
    u = _Utterance.of(toks)
    s = u.text
    folds = [t.fold for t in toks]
    cal_noun = re.search(r"\b" + _CAL_WORDS, s) is not None
    alarm = nlu_alarms.decide(toks, raw, now)  # timers and reminders
    if alarm is not None:
        return alarm

    delete_v = {i for i, f in enumerate(folds) if _verb(f, lx.DELETE_VERBS)}
    update_v = {i for i, f in enumerate(folds) if (_verb(f, lx.UPDATE_VERBS) and f[:2] != "al") or _is_update_al(folds, i)}
    create_v = {i for i, f in enumerate(folds) if _verb(f, lx.CREATE_VERBS)}
    for i, f in enumerate(folds):
        prev = folds[i - 1] if i else ""
        if prev.startswith("randevu") and _verb(f, ("al",)) or prev == "not" and _verb(f, ("al", "dus", "et")):  # "doktordan randevu al"
            create_v.add(i)
        elif _verb(f, ("yap",)) and any(g in _WHEN_NOUNS for g in folds):  # "saatini beşe yap"
            update_v.add(i)

    # system time / date (unless the sentence is about the calendar)
    unknown = _UNKNOWN.search(s) is not None
    if _SOCIAL.search(s) and len(toks) <= 4:
        return _decision(Intent.smalltalk_chat, 0.85)
    if not cal_noun and not (create_v or delete_v or update_v):
        if _SYSTEM_TIME.search(s):
            return _decision(Intent.system_time, 0.95)
        if _SYSTEM_DATE.search(s) and not unknown and not re.search(r"\bne(?:ler)?\s+var|\bvar\s+mi", s):
            return _decision(Intent.system_date, 0.92)
    if _MEMORY.search(s) and (not (create_v or delete_v or update_v) or re.search(r"\b(?:az\s+once|demin|biraz\s+once|en\s+son)\b", s)):
        return _decision(Intent.smalltalk_chat, 0.88)

    found = scan(toks, now)
    # two different actions in one sentence ("sil ve yenisini ekle"): a guess, never confident
    cap = UNSURE if sum(bool(v) for v in (create_v, delete_v, update_v)) > 1 else 1.0

    if delete_v and not (_UNKNOWN_OVER_CREATE.search(s) and not cal_noun):
        return _capped(_delete(toks, raw, found, delete_v, now), cap)
    if update_v and (cal_noun or found.any or (len(toks) > 2 and not unknown)):
        return _capped(_update(toks, raw, found, update_v, now), cap)
    device = _DEVICE.search(s) is not None and all(folds[i].startswith(("ayarla", "kur", "koy")) for i in create_v)
    if create_v and unknown and not found.used and not cal_noun:
        return _decision(Intent.unknown, 0.85 if _UNKNOWN_OVER_CREATE.search(s) else 0.6)  # "bana bir taksi ayarla", "eşime geç kalacağımı yaz"
    if create_v and all(folds[i].startswith("yaz") for i in create_v) and not found.used and not re.search(r"\b(?:takvim|ajanda)", s):
        return _decision(Intent.unknown, 0.6)  # "yaz" without a time or a calendar is a message
    if create_v and not _UNKNOWN_OVER_CREATE.search(s) and not device:
        return _create(toks, raw, found, create_v, now)
    if unknown and not cal_noun:
        return _decision(Intent.unknown, 0.85 if not found.bad else 0.6)
    if not cal_noun and _SMALLTALK.search(s) and not found.used:
        return _decision(Intent.smalltalk_chat, 0.85)
    rest = [t for i, t in enumerate(toks) if i not in found.used and t.fold not in _QUESTION_FILL]
    if _QUERY.search(s) or (found.used and not rest and re.search(r"\b(?:ne|neler|mi|mu|var)\b|\?", s + " " + raw)):
        return _query(toks, found, now, s)
    if create_v:
        return _decision(Intent.unknown, 0.6)
    if _SMALLTALK.search(s):
        return _decision(Intent.smalltalk_chat, 0.85)
    if found.used and not rest:
        return _query(toks, found, now, s, confidence=UNSURE)
    return _decision(Intent.smalltalk_chat, GUESS)


def _is_update_al(folds: list[str], i: int) -> bool:
    f = folds[i]
    if not (f == "al" or (f.startswith("al") and f[2:] in lx.VERB_SUFFIXES)):
        return False
    prev = folds[i - 1] if i > 0 else ""
    if prev in ("ileri", "geri", "one", "erkene", "sonraya", "oteye", "ileriye", "geriye", "ogleye", "aksama", "sabaha"):
        return True
    return prev.endswith(("e", "a", "ye", "ya")) and not prev.startswith("randevu")  # "cumartesi saat ona al", "salıya al"


def _create(toks: list[Tok], raw: str, found: Found, verbs: set[int], now: datetime) -> NluDecision:
    r = compose(found, now)
    idxs = [i for i, t in enumerate(toks) if _is_title_word(t, i, found, verbs) and i < max(verbs)]
    if not idxs:  # "ekle: yarın saat 3'te dişçi"
        idxs = [i for i, t in enumerate(toks) if _is_title_word(t, i, found, verbs) and i > min(verbs)]
    idxs += [i for i in sorted(found.keep) if i not in idxs]
    idxs.sort()
    title = _title(toks, raw, idxs, strip_case=False)
    start = slot_value("start", r)
    end = slot_value("end", r) if r.start is not None else None
    conf = CONFIDENT if (title and start and not found.bad) else UNSURE
    if title and any(ch.isdigit() for ch in title):
        conf = min(conf, UNSURE)  # a number the rules did not understand
    if _days_disagree(found):
        conf = min(conf, UNSURE)  # "4 Aralık cuma" is fine; "3 Aralık cuma" is not
    if found.bad:
        conf = 0.3
    if r.assumed_day and r.start is not None and found.clock is not None and not found.clock.h24 and found.part is None:
        conf = min(conf, 0.75)  # "dokuzda" with no day and no part of day: ask the model
    return _decision(Intent.calendar_create, conf, title=title, start=start, end=end)


def _days_disagree(found: Found) -> bool:
    """Two different days said for one event, not as a from-to range."""
    days = found.days
    if len({d for d, _ in days}) < 2 or days[0][1].endswith(("den", "dan", "ten", "tan")):
        return False
    dated = [d for d, fold in days if weekday_of(fold) is None]
    named = [weekday_of(fold) for _, fold in days if weekday_of(fold) is not None]
    if len(set(dated)) > 1 or not dated:
        return True
    return any(dated[0].weekday() != wd for wd in named)


def _delete(toks: list[Tok], raw: str, found: Found, verbs: set[int], now: datetime) -> NluDecision:
    r = compose(found, now)
    idxs = [i for i, t in enumerate(toks) if _is_title_word(t, i, found, verbs) and i < max(verbs)]
    title = _title(toks, raw, idxs, strip_case=True)
    target = fmt_d(r.start_date) if r.start_date is not None else None
    conf = 0.85 if title and not found.bad else UNSURE
    return _decision(Intent.calendar_delete, conf, title=title, target_date=target)


def _update(toks: list[Tok], raw: str, found: Found, verbs: set[int], now: datetime) -> NluDecision:
    idxs = [i for i, t in enumerate(toks) if _is_title_word(t, i, found, verbs) and i < max(verbs)]
    if not idxs:
        r = compose(found, now)
        return _decision(Intent.calendar_update, UNSURE, new_start=slot_value("new_start", r))
    first, last = idxs[0], idxs[-1]
    # title words are the object; temporal words after it are the new time
    idxs = [i for i in idxs if i >= first]
    title = _title(toks, raw, idxs, strip_case=True)
    before = [t for i, t in enumerate(toks) if i < first]
    after = [t for i, t in enumerate(toks) if i > last and i not in verbs]
    old = scan(before, now) if before else None
    new = scan(after, now) if after else None
    target_day = None
    if old is not None and old.any and not old.bad:
        ro = compose(old, now)
        target_day = ro.start_date
    new_start = None
    bad = found.bad
    if new is not None and len(new.days) >= 2 and new.days[0][1].endswith(("den", "dan", "ten", "tan")):
        target_day = target_day or new.days[0][0]  # "salıdan çarşambaya al"
        new.day = new.days[1][0]
    if new is not None and new.clock is not None and new.end_clock is not None:
        new.clock, new.end_clock = new.end_clock, None  # "saat üçten dörde al": the new time is the second
    if new is not None and new.any and not new.bad:
        if new.part is None and found.part is not None and found.keep:
            new.part = found.part  # "akşam yemeğini saat dokuza al": the title says evening
        rn = compose(new, now, base_day=target_day if new.day is None else None)
        new_start = slot_value("new_start", rn)
    elif new is not None and new.bad:
        bad = True
    conf = 0.85 if title and new_start and not bad else UNSURE
    if new_start and len(new_start) > 10 and target_day is None and (new is None or new.day is None):
        conf = min(conf, 0.75)  # a new hour for an event whose day we do not know: let the model check
    return _decision(
        Intent.calendar_update, conf, title=title, target_date=fmt_d(target_day) if target_day else None, new_start=new_start
    )


def _query(toks: list[Tok], found: Found, now: datetime, s: str, confidence: float = CONFIDENT) -> NluDecision:
    r = compose(found, now)
    if found.bad:
        return _decision(Intent.calendar_query, 0.3)
    days = sorted({d for d, _ in found.days})
    if found.range is None and len(days) >= 2:  # "salı ve çarşamba neler var"
        r.range = (days[0], days[-1])
    if r.range is not None:
        return _decision(
            Intent.calendar_query, confidence, range_start=fmt_d(r.range[0]), range_end=fmt_d(r.range[1])
        )
    cal_noun = re.search(r"\b" + _CAL_WORDS, s) is not None
    if cal_noun and re.search(r"\b(?:sonraki|siradaki|ilk|yaklasan|gelecek|ne\s+zaman|kacta)\b", s):
        return _decision(Intent.calendar_query, min(confidence, 0.85))  # "bir sonraki randevum ne zaman"
    return _decision(Intent.calendar_query, min(confidence, 0.7 if cal_noun else 0.5))
