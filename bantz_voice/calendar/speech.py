"""Turkish sentences the assistant speaks about calendar results (words, never digits)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from bantz_voice.calendar.model import Event
from bantz_voice.turkish.morph import number_words
from bantz_voice.turkish.speak import day_words, time_words, week_start

MAX_LISTED = 5


def capitalize(text: str) -> str:
    if not text:
        return text
    first = {"i": "İ", "ı": "I"}.get(text[0], text[0].upper())
    return first + text[1:]


def _spans_days(ev: Event) -> int:
    return max(1, (ev.end.date() - ev.start.date()).days) if ev.all_day else 1


def when(ev: Event, today: date | None = None, with_day: bool = True) -> str:
    """"yarın saat on dörtte", "cuma günü gün boyu", "saat on dörtte" (without the day)."""
    if ev.all_day:
        days = _spans_days(ev)
        span = "gün boyu" if days == 1 else f"{number_words(days)} gün boyunca"
        return f"{day_words(ev.start.date(), today)} {span}" if with_day and today else span
    t = time_words(ev.start)
    return f"{day_words(ev.start.date(), today)} {t}" if with_day and today else t


def item(ev: Event, today: date | None = None, with_day: bool = False) -> str:
    return f"{when(ev, today, with_day)} {ev.title}"


def range_label(start: datetime, end: datetime, now: datetime) -> str:
    """"Bugün", "Yarın", "Cuma günü", "Bu hafta", "Gelecek hafta", "Bu ay" or a fallback."""
    today = now.date()
    last = (end - timedelta(microseconds=1)).date()
    if start.date() == last:
        return capitalize(day_words(start.date(), today))
    monday = week_start(today)
    if start.date() >= monday and last <= monday + timedelta(days=6) and start.date() <= today + timedelta(days=6):
        return "Bu hafta"
    if start.date() >= monday + timedelta(days=7) and last <= monday + timedelta(days=13):
        return "Gelecek hafta"
    if start.date().replace(day=1) == today.replace(day=1) == last.replace(day=1):
        return "Bu ay"
    return "Bu tarihler arasında"


def summarize(
    events: Sequence[Event], start: datetime, end: datetime, now: datetime, label: str | None = None, max_listed: int = MAX_LISTED
) -> str:
    """"Yarın iki etkinliğiniz var: saat on dörtte diş hekimi, akşam yedide annenizle yemek."
    Long lists are summarized per day."""
    label = label or range_label(start, end, now)
    today = now.date()
    n = len(events)
    past = end.date() <= today and end <= now  # a range that is over: past tense
    if n == 0:
        return f"{label} hiç etkinliğiniz {'yoktu' if past else 'yok'}."
    one_day = len({e.start.date() for e in events}) == 1 and (end - start) <= timedelta(days=1)
    head = f"{label} {number_words(n)} etkinliğiniz {'vardı' if past else 'var'}"
    if n <= max_listed:
        return f"{head}: {', '.join(item(e, today, with_day=not one_day) for e in events)}."
    per_day = Counter(e.start.date() for e in events)
    if len(per_day) > 1:
        days = ", ".join(f"{day_words(d, today)} {number_words(c)}" for d, c in sorted(per_day.items())[:max_listed])
        more = len(per_day) - max_listed
        tail = f" ve {number_words(more)} gün daha" if more > 0 else ""
        return f"{head}: {days}{tail}. İlki {item(events[0], today, with_day=True)}."
    listed = ", ".join(item(e, today) for e in events[:3])
    return f"{head}. İlk üçü: {listed}; {number_words(n - 3)} etkinlik daha {'vardı' if past else 'var'}."


def next_event_text(ev: Event | None, now: datetime) -> str:
    if ev is None:
        return "Yaklaşan bir etkinliğiniz yok."
    return f"Sıradaki etkinliğiniz {when(ev, now.date())}: {ev.title}."


def created_text(ev: Event, now: datetime) -> str:
    return f"Ekledim: {item(ev, now.date(), with_day=True)}."


def clash_question(clashes: Sequence[Event]) -> str:
    names = [f"'{e.title}'" for e in clashes[:3]]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " ve " + names[-1]
    return f"O saatte {listed} var, yine de ekleyeyim mi?"


def deleted_text(ev: Event, now: datetime) -> str:
    return f"Sildim: {item(ev, now.date(), with_day=True)}."


def updated_text(new: Event, now: datetime) -> str:
    return f"Güncelledim: {new.title}, {when(new, now.date())}."


def which_one(events: Sequence[Event], now: datetime) -> str:
    today = now.date()
    one_day = len({e.start.date() for e in events}) == 1
    listed = ", ".join(item(e, today, with_day=not one_day) for e in events[:MAX_LISTED])
    more = len(events) - MAX_LISTED
    tail = f" ve {number_words(more)} tane daha" if more > 0 else ""
    return f"{capitalize(number_words(len(events)))} etkinlik buldum: {listed}{tail}. Hangisini kastediyorsunuz?"


def not_found_text(words: str, day: date | None, now: datetime) -> str:
    where = f"{day_words(day, now.date())} " if day else ""
    what = f"'{words}' ile eşleşen" if words.strip() else "hiç"
    return capitalize(f"{where}{what} bir etkinlik bulamadım.")


def undone_text(kind: str | None, title: str | None) -> str:
    if kind is None:
        return "Geri alınacak bir değişiklik yok."
    if kind == "create":
        return f"Geri aldım: '{title}' takvimden kaldırıldı."
    if kind == "delete":
        return f"Geri aldım: '{title}' yeniden takvimde."
    return f"Geri aldım: '{title}' eski haline döndü."
