"""Fast-path rules for timers and reminders (``timer.set|query|cancel``,
``reminder.create|list|cancel|snooze``), asked by :func:`bantz_voice.turkish.nlu.parse` before its
calendar rules. ``decide`` returns None when a sentence is not about a timer or a reminder.

Slots: ``duration`` ISO 8601 (``PT12M``), ``name`` a timer's name ("makarna"), ``title`` what to
remind of (or, with ``duration``, the event a reminder goes before: "toplantıdan on beş dakika
önce"), ``start`` the due time, ``repeat`` an RRULE value ("her gün" -> ``FREQ=DAILY``)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bantz_voice.schemas import Intent, NluDecision
from bantz_voice.turkish.temporal import DurationSpan, compose, find_duration, find_repeat, iso_duration, scan, slot_value
from bantz_voice.turkish.tokens import Tok

CONFIDENT = 0.9
UNSURE = 0.55

_TIMER_NOUN = re.compile(r"^(?:zamanlayici\w*|sayac\w*|timer\w*)$")  # a stopwatch (kronometre) is not a timer
_REMINDER_NOUN = re.compile(r"^(?:hatirlatma\w*|hatirlatici\w*|alarm\w*)$")
_REMIND_VERB = re.compile(r"^hatirlat(?:|sana|in|iniz|ir|irmisin|irmisiniz|abilir\w*|ma\w*|acak\w*|ir\w*)$")
_CANCEL = re.compile(r"^(?:iptal|sil\w*|kapat\w*|durdur\w*|kaldir\w*|bitir\w*|sifirla\w*|vazgec\w*|durdurun|dursun|sustur\w*|temizle\w*)$")
_SNOOZE = re.compile(r"^(?:ertele\w*|otele\w*)$")
_START = re.compile(r"^(?:kur\w*|baslat\w*|ayarla\w*|say|sayar\w*|saysana|tut\w*|koy\w*|ekle\w*|olustur\w*)$")
_LIST = re.compile(r"^(?:neler|ne|listele\w*|goster\w*|oku\w*|soyle\w*|hangi\w*|var|varmi|kac|nelerdir)$")
_LEFT = re.compile(r"\bkald[iı]\w*\b|\bbit(?:ecek|mesine|iyor)\w*\b")
_NOT_TITLE = {
    "bana", "beni", "bize", "benim", "bir", "bi", "icin", "diye", "de", "da", "ki", "mi", "mu", "misin",
    "musun", "ve", "lutfen", "et", "eder", "edermisin", "edin", "yap", "ekle", "olarak", "saat", "tane",
    "yeni", "hepsini", "tum", "tumunu", "butun", "son", "sonra", "once", "tekrar", "bir daha", "daha",
    "simdi", "hemen", "gun", "her", "takvime", "takvimime", "not", "al", "ver", "ne", "kadar",
}  # fmt: skip
_ABLATIVE = ("ndan", "nden", "dan", "den", "tan", "ten")
_DATIVE = ("ya", "ye", "na", "ne", "a", "e")


def _decision(intent: Intent, confidence: float, **slots: str | None) -> NluDecision:
    from bantz_voice.turkish.nlu import _decision as make

    return make(intent, confidence, **slots)


def _words(toks: list[Tok], idxs: list[int], raw: str, strip_case: bool = True) -> str | None:
    from bantz_voice.turkish.nlu import _title

    return _title(toks, raw, sorted(idxs), strip_case=strip_case)


def _strip(word: str, suffixes: tuple[str, ...]) -> str:
    w = re.split("['’]", word, maxsplit=1)[0]
    if w != word:
        return w
    for suf in suffixes:
        if len(word) > len(suf) + 2 and word.lower().endswith(suf):
            return word[: len(word) - len(suf)]
    return word


def decide(toks: list[Tok], raw: str, now: datetime) -> NluDecision | None:
    """The timer/reminder decision for cleaned tokens, or None (not such a sentence)."""
    folds = [t.fold for t in toks]
    s = " ".join(folds)
    dur = find_duration(toks)
    timer = [i for i, f in enumerate(folds) if _TIMER_NOUN.match(f)]
    if not timer and dur is not None:  # "on dakika geri say"
        timer = [i for i in range(len(folds) - 1) if folds[i] == "geri" and folds[i + 1].startswith("say")]
    reminder = [i for i, f in enumerate(folds) if _REMINDER_NOUN.match(f) or _REMIND_VERB.match(f)]
    cancel = [i for i, f in enumerate(folds) if _CANCEL.match(f)]
    snooze = [i for i, f in enumerate(folds) if _SNOOZE.match(f)]
    if timer:
        return _timer(toks, raw, folds, timer, cancel, dur, s)
    if reminder:
        return _reminder(toks, raw, now, folds, reminder, cancel, snooze, s)
    if snooze and len(toks) <= 4 and all(i in snooze or (dur and dur.start <= i < dur.end) or folds[i] in ("daha", "biraz") for i in range(len(toks))):
        return _decision(Intent.reminder_snooze, CONFIDENT, duration=iso_duration(dur.value) if dur else None)  # "beş dakika ertele"
    if _LEFT.search(s) and re.search(r"\bne\s+kadar\b|\bkac\s+(?:dakika|saniye|saat)\b", s) and not _calendar_word(s):
        name = [i for i, f in enumerate(folds) if f not in _NOT_TITLE and not _LEFT.search(f) and f not in ("kac", "dakika", "saniye", "saat")]
        label = _words(toks, name, raw)
        return _decision(Intent.timer_query, CONFIDENT, name=_strip(label, _DATIVE) if label else None)  # "makarnaya ne kadar kaldı"
    if dur is not None and _bare_timer(folds, dur.start, dur.end):
        name = [i for i in range(dur.start) if folds[i] not in _NOT_TITLE]
        return _decision(Intent.timer_set, CONFIDENT, duration=iso_duration(dur.value), name=_words(toks, name, raw, strip_case=False))
    return None


def _calendar_word(s: str) -> bool:
    from bantz_voice.turkish.nlu import _CAL_WORDS

    return re.search(r"\b" + _CAL_WORDS, s) is not None


def _bare_timer(folds: list[str], start: int, end: int) -> bool:
    """"makarna için on iki dakika", "on dakika say", "beş dakika kur": a duration with at most a
    name before "için" and a start verb, nothing else (not "… dakika sonra", not a calendar)."""
    after = folds[end:]
    if after and after[0] in ("sonra", "once", "icinde", "ileri", "geri", "erken", "gec", "surecek", "surer", "boyunca"):
        return False
    if not all(_START.match(f) or f in ("bir", "daha", "lutfen") for f in after):
        return False
    before = folds[:start]
    if not before:
        return bool(after) or len(folds) == end
    return before[-1] == "icin" and len(before) <= 4


def _timer(
    toks: list[Tok], raw: str, folds: list[str], nouns: list[int], cancel: list[int], dur: DurationSpan | None, s: str
) -> NluDecision:
    skip = set(nouns) | set(cancel) | {i for i, f in enumerate(folds) if _START.match(f) or f in _NOT_TITLE or _LIST.match(f)}
    if dur is not None:
        skip |= set(range(dur.start, dur.end))
    skip |= {i for i, f in enumerate(folds) if _LEFT.search(f) or f in ("geri", "sayim", "dakikalik", "durum", "durumu", "durumda")}
    name_idx = [i for i in range(len(folds)) if i not in skip and i < max(nouns)]
    name = _words(toks, name_idx, raw)
    if name:
        name = _strip(name, ("nin", "nın", "nun", "nün", "in", "ın", "un", "ün"))
    if cancel:
        everything = bool(re.search(r"\b(?:tum|tumunu|hepsini|butun|hepsi)\b|zamanlayicilar\w*", s))
        return _decision(Intent.timer_cancel, CONFIDENT, name=None if everything else name)
    if _LEFT.search(s) or re.search(r"\b(?:ne\s+durumda|durum\w*|ne\s+kadar|kac\s+tane|hangi|neler|listele\w*|var\s+mi)\b", s):
        return _decision(Intent.timer_query, CONFIDENT, name=name)
    if dur is not None:
        return _decision(Intent.timer_set, CONFIDENT, duration=iso_duration(dur.value), name=name)
    return _decision(Intent.timer_set, 0.85, name=name)  # "zamanlayıcı kur": the tool asks how long


def _reminder(
    toks: list[Tok], raw: str, now: datetime, folds: list[str], marks: list[int], cancel: list[int], snooze: list[int], s: str
) -> NluDecision:
    found = scan(toks, now)
    rep = find_repeat(toks)
    used = set(found.used) | set(marks) | set(cancel) | set(snooze) | (set(rep.used) if rep else set())
    verbs = {i for i, f in enumerate(folds) if _START.match(f)}
    title_idx = [
        i
        for i, f in enumerate(folds)
        if i not in used and i not in verbs and f not in _NOT_TITLE and not _LIST.match(f) and not f.startswith(("hatirlat", "alarm"))
    ]
    if cancel:
        target = slot_value("target_date", compose(found, now)) if found.used else None
        return _decision(Intent.reminder_cancel, CONFIDENT if len(title_idx) <= 3 else UNSURE, title=_words(toks, title_idx, raw), target_date=target)
    if snooze:
        dur = find_duration(toks)
        return _decision(Intent.reminder_snooze, CONFIDENT, duration=iso_duration(dur.value) if dur else None)
    if not found.used and (re.search(r"\b(?:neler|listele\w*|goster\w*|oku\w*|hangi\w*|var\s+mi\w*|kac\s+tane|nelerdir|ne\s+var)\b", s) or not title_idx and re.search(r"hatirlatmalar\w*|alarmlar\w*", s)):
        return _decision(Intent.reminder_list, CONFIDENT)
    # "toplantıdan on beş dakika önce hatırlat": a lead before an event
    if found.shift is not None and found.shift < timedelta(0) and found.day is None and found.clock is None:
        event_idx = [i for i in title_idx if folds[i].endswith(_ABLATIVE)]
        if event_idx:
            title = _words(toks, [i for i in title_idx if i <= event_idx[-1]], raw, strip_case=False)
            title = _strip(title or "", ("ndan", "nden", "dan", "den", "tan", "ten")) or None
            return _decision(Intent.reminder_create, CONFIDENT if title else UNSURE, title=title, duration=iso_duration(-found.shift))
    r = compose(found, now)
    start = slot_value("start", r)
    title = _words(toks, title_idx, raw)
    if title and title.endswith(("mı", "mi", "mu", "mü")) and title[-3:-1] in ("ım", "im", "um", "üm") and len(title) > 4:
        title = title[:-1]  # "ilacımı" -> "ilacım"
    is_alarm = any(folds[i].startswith("alarm") for i in marks)
    conf = CONFIDENT if start and (title or is_alarm) and not found.bad else UNSURE
    if title and any(ch.isdigit() for ch in title):
        conf = UNSURE
    if r.assumed_day and found.clock is not None and not found.clock.h24 and found.part is None and rep is None and not is_alarm:
        conf = min(conf, 0.75)
    return _decision(Intent.reminder_create, conf, title=title, start=start, repeat=rep.rrule if rep else None)
