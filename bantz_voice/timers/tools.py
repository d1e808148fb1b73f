"""The brain's timer and reminder tool (``timer.*``, ``reminder.*`` intents) with deterministic
Turkish replies: a :class:`~bantz_voice.brain.tool.Tool`, registered by one line in
:mod:`bantz_voice.brain.tools`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any, ClassVar

from bantz_voice.brain.slots import When
from bantz_voice.brain.tool import Decision, Tool, ToolContext, ToolOutcome
from bantz_voice.calendar.matching import matches
from bantz_voice.config import Settings
from bantz_voice.schemas import Intent
from bantz_voice.timers.clock import Clock
from bantz_voice.timers.reminders import AlarmDue, CalendarReminders
from bantz_voice.timers.scheduler import AlarmLog, _duration_words, _lik, state_path, timers_path
from bantz_voice.timers.store import Timer, TimerStore

log = logging.getLogger(__name__)

LIST_AHEAD = timedelta(days=7)
LIST_MAX = 5


def _when(at: datetime, now: datetime) -> str:
    try:
        from bantz_voice.turkish.speak import day_words, time_words

        day = day_words(at.date(), now.date())
        return f"{day} {time_words(at, 'loc')}"
    except Exception:
        return f"{at:%d.%m %H:%M}'de"


def _left_words(seconds: float) -> str:
    secs = max(0, int(round(seconds)))
    if secs >= 120:
        secs = int(round(secs / 60.0)) * 60  # "12 dakika", not "11 dakika 58 saniye"
    return _duration_words(secs)


def _timer_label(t: Timer) -> str:
    return f"{t.name} zamanlayıcısı" if t.name else f"{_lik(_duration_words(t.duration_s))} zamanlayıcı"


ALARM_INTENTS = frozenset({
    Intent.timer_set, Intent.timer_query, Intent.timer_cancel,
    Intent.reminder_create, Intent.reminder_list, Intent.reminder_cancel, Intent.reminder_snooze,
})


class AlarmTools(Tool):
    """Timers in the state file, reminders in the calendar. ``on_change`` (the daemon's scheduler
    ``poke``) runs after every change; the change counter in ``alarms.json`` tells a scheduler
    in another process."""

    intents: ClassVar[frozenset[Intent]] = ALARM_INTENTS
    read_only: ClassVar[frozenset[Intent]] = frozenset({Intent.timer_query, Intent.reminder_list})

    def __init__(
        self,
        settings: Settings,
        *,
        backend_of: Callable[[], Any] | None = None,
        clock: Clock | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.cfg = settings.reminders
        self.clock = clock or Clock()
        self.timers = TimerStore(timers_path(settings), self.clock)
        self.log = AlarmLog(state_path(settings))
        self._backend_of = backend_of
        self._reminders: CalendarReminders | None = None
        self.on_change = on_change

    @property
    def reminders(self) -> CalendarReminders:
        if self._reminders is None:
            if self._backend_of is not None:
                backend = self._backend_of()
            else:
                from bantz_voice.calendar import open_calendar

                backend = open_calendar(self.settings)
            self._reminders = CalendarReminders(backend)
        return self._reminders

    def _changed(self) -> None:
        try:
            self.log.changed()
        except OSError as exc:
            log.warning("alarm state not written: %s", exc)
        if self.on_change is not None:
            self.on_change()

    def run(self, decision: Decision, ctx: ToolContext) -> ToolOutcome:
        """One timer or reminder intent; a store that cannot be written is a Turkish apology."""
        try:
            return self._ACTIONS[decision.intent](self, decision, ctx.now)
        except OSError as exc:
            log.warning("timer/reminder state not written: %s", exc)
            return ToolOutcome("Kusura bakmayın efendim, zamanlayıcı kaydını yazamadım.", "zamanlayıcı kaydı yazılamadı.")

    _ACTIONS: ClassVar[dict[Intent, Callable[[AlarmTools, Decision, datetime], ToolOutcome]]] = {
        Intent.timer_set: lambda t, d, now: t.timer_set(d.slots.duration, d.slots.name),
        Intent.timer_query: lambda t, d, now: t.timer_query(d.slots.name),
        Intent.timer_cancel: lambda t, d, now: t.timer_cancel(d.slots.name),
        Intent.reminder_create: lambda t, d, now: t.reminder_create(d.slots.title, d.slots.start, d.slots.repeat, d.slots.duration, now),
        Intent.reminder_list: lambda t, d, now: t.reminder_list(now),
        Intent.reminder_cancel: lambda t, d, now: t.reminder_cancel(d.slots.title, now),
        Intent.reminder_snooze: lambda t, d, now: t.snooze(d.slots.duration, now),
    }

    # --- timers ---------------------------------------------------------------------------------
    def timer_set(self, duration: timedelta | None, name: str | None) -> ToolOutcome:
        if duration is None or duration <= timedelta(0):
            return ToolOutcome("Kaç dakikalık olsun efendim?", "zamanlayıcının süresini sordum.")
        t = self.timers.add(duration.total_seconds(), name)
        self._changed()
        label = f"{name} için {_duration_words(t.duration_s)}" if name else f"{_lik(_duration_words(t.duration_s))} zamanlayıcı"
        reply = f"Tamam efendim, {label} başladı."
        call = {"tool": "timer.set", "args": {"seconds": t.duration_s, "name": name}, "ok": True}
        return ToolOutcome(reply, f"{label} kurdum.", [call], data=f"{t.name or '-'} | {t.duration_s:.0f} sn")

    def _pick(self, timers: list[Timer], name: str | None) -> list[Timer]:
        if not name:
            return timers
        return [t for t in timers if t.name and (matches(name, t.name) or matches(t.name, name))]

    def timer_query(self, name: str | None) -> ToolOutcome:
        running = self.timers.running()
        call = {"tool": "timer.list", "args": {"name": name} if name else {}, "ok": True}
        hits = self._pick(running, name)
        if not running:
            rang = [t for t in self.timers.all() if t.fired]
            if rang:
                return ToolOutcome(f"Şu an çalışan zamanlayıcı yok efendim; {_timer_label(rang[-1])} doldu.", "zamanlayıcılara baktım.", [call])
            return ToolOutcome("Şu an çalışan bir zamanlayıcı yok efendim.", "zamanlayıcılara baktım.", [call])
        if not hits:
            return ToolOutcome(f"'{name}' adında bir zamanlayıcı bulamadım efendim.", "zamanlayıcıyı bulamadım.", [call])
        parts = [f"{_timer_label(t)} için {_left_words(t.remaining(self.clock))}" for t in hits[:LIST_MAX]]
        reply = ("Efendim, " + "; ".join(parts) + " kaldı.") if len(parts) > 1 else f"Efendim, {parts[0]} kaldı."
        if len(hits) == 1:
            reply = f"Efendim, {_timer_label(hits[0])}nın bitmesine {_left_words(hits[0].remaining(self.clock))} kaldı."
        return ToolOutcome(reply, "kalan süreyi söyledim.", [call], data="; ".join(parts))

    def timer_cancel(self, name: str | None) -> ToolOutcome:
        running = self.timers.running()
        call = {"tool": "timer.cancel", "args": {"name": name} if name else {}, "ok": True}
        hits = self._pick(running, name)
        if not running:
            return ToolOutcome("Çalışan bir zamanlayıcı yok efendim.", "durdurulacak zamanlayıcı yoktu.", [call])
        if not hits:
            return ToolOutcome(f"'{name}' adında bir zamanlayıcı bulamadım efendim.", "zamanlayıcıyı bulamadım.", [call])
        gone = self.timers.remove({t.id for t in hits})
        self._changed()
        if len(gone) == 1:
            return ToolOutcome(f"Tamam efendim, {_timer_label(gone[0])} durduruldu.", "zamanlayıcıyı durdurdum.", [call])
        return ToolOutcome(f"Tamam efendim, {len(gone)} zamanlayıcının hepsi durduruldu.", "zamanlayıcıları durdurdum.", [call])

    # --- reminders ------------------------------------------------------------------------------
    def reminder_create(
        self, title: str | None, start: When | None, repeat: str | None, lead: timedelta | None, now: datetime
    ) -> ToolOutcome:
        call: dict[str, Any] = {"tool": "reminder.create", "args": {}, "ok": False}
        if lead is not None and title and not start:  # "toplantıdan on beş dakika önce hatırlat"
            return self._before_event(title, lead, now)
        due = self._due(start, now)
        if due is None:
            return ToolOutcome("Ne zaman hatırlatayım efendim?", "hatırlatmanın zamanını sordum.", [call])
        if due <= now - timedelta(minutes=1) and not repeat:
            return ToolOutcome("O saat geçti efendim; ne zaman hatırlatayım?", "geçmiş bir zaman için hatırlatma istemedim.", [call])
        text = (title or "").strip() or "Alarm"
        ev = self.reminders.create(text, due, repeat)
        self._changed()
        call = {"tool": "reminder.create", "args": {"title": text, "start": due.isoformat(), "repeat": repeat}, "ok": True}
        every = {"FREQ=DAILY": "her gün ", "FREQ=WEEKLY": "her hafta ", "FREQ=MONTHLY": "her ay "}.get(repeat or "", "")
        if repeat and repeat.startswith("FREQ=WEEKLY;BYDAY=") and not every:
            every = "hafta içi her gün " if "MO,TU,WE,TH,FR" in repeat else "her hafta "
        when = f"{every}{self._clock_words(due)}" if every else _when(due, now)
        reply = f"Tamam efendim, {when} hatırlatacağım: {text}." if text != "Alarm" else f"Tamam efendim, alarm {when} çalacak."
        return ToolOutcome(reply, f"'{text}' için hatırlatma kurdum.", [call], data=f"{ev.title} | {ev.start.isoformat()}")

    @staticmethod
    def _clock_words(at: datetime) -> str:
        try:
            from bantz_voice.turkish.speak import time_words

            return time_words(at, "loc")
        except Exception:
            return f"{at:%H:%M}'de"

    def _due(self, start: When | None, now: datetime) -> datetime | None:
        """The reminder's time: a day alone rings at ``reminders.default_hour``."""
        if start is None:
            return None
        at = start if isinstance(start, datetime) else datetime.combine(start, time(self.cfg.default_hour))
        return at.replace(tzinfo=now.tzinfo) if at.tzinfo is None else at

    def _before_event(self, title: str, lead: timedelta, now: datetime) -> ToolOutcome:
        backend = self.reminders.backend
        found = [e for e in backend.find(title, now=now) if e.start > now]
        call = {"tool": "calendar.find", "args": {"words": title}, "ok": True}
        if not found:
            return ToolOutcome(f"Takviminizde yaklaşan bir '{title}' bulamadım efendim.", "hatırlatılacak etkinliği bulamadım.", [call])
        ev = next((e for e in found if e.start - lead > now), None)  # a repeating one: its next occurrence in time
        if ev is None:
            ev = found[0]
            return ToolOutcome(
                f"'{ev.title}' {_when(ev.start, now)}; {_duration_words(lead.total_seconds())} öncesi geçti efendim.",
                "hatırlatma zamanı geçmişti.",
                [call],
            )
        self.reminders.add_before(ev, lead)
        self._changed()
        add = {"tool": "reminder.create", "args": {"uid": ev.uid, "before_s": lead.total_seconds()}, "ok": True}
        reply = f"Tamam efendim, {_when(ev.start, now)}ki '{ev.title}' etkinliğinden {_duration_words(lead.total_seconds())} önce hatırlatacağım."
        return ToolOutcome(reply, f"'{ev.title}' öncesi için hatırlatma kurdum.", [call, add])

    def _upcoming(self, now: datetime) -> list[AlarmDue]:
        return self.reminders.alarms(now, now + LIST_AHEAD, only_ours=True)

    def reminder_list(self, now: datetime) -> ToolOutcome:
        items = self._upcoming(now)
        call = {"tool": "reminder.list", "args": {}, "ok": True}
        if not items:
            return ToolOutcome("Önümüzdeki bir hafta için kurulu bir hatırlatma yok efendim.", "hatırlatmalara baktım.", [call], data="yok")
        seen: set[str] = set()
        parts: list[str] = []
        for a in items:
            if a.uid in seen and a.recurring:
                continue  # a daily reminder once
            seen.add(a.uid)
            parts.append(f"{_when(a.at, now)} {a.title}")
        more = f" ve {len(parts) - LIST_MAX} tane daha" if len(parts) > LIST_MAX else ""
        reply = f"Efendim, {len(parts)} hatırlatma var: " + "; ".join(parts[:LIST_MAX]) + more + "."
        return ToolOutcome(reply, "hatırlatmaları okudum.", [call], data="\n".join(parts))

    def reminder_cancel(self, title: str | None, now: datetime) -> ToolOutcome:
        items = self._upcoming(now)
        call = {"tool": "reminder.cancel", "args": {"title": title} if title else {}, "ok": False}
        if title:
            hits = [a for a in items if matches(title, a.title)]
        else:
            last = self.log.last()
            recent = last if last and last.get("kind") == "reminder" and self._recent(last) else None
            hits = [a for a in items if recent and a.uid == recent.get("uid")] or items[:1]
        if not hits:
            what = f"'{title}' için bir hatırlatma" if title else "kurulu bir hatırlatma"
            return ToolOutcome(f"Önümüzdeki bir hafta içinde {what} bulamadım efendim.", "iptal edilecek hatırlatmayı bulamadım.", [call])
        uids = {a.uid for a in hits}
        if len(uids) > 1:
            names = ", ".join(sorted({a.title for a in hits})[:3])
            return ToolOutcome(f"Birden çok hatırlatma var efendim: {names}. Hangisini iptal edeyim?", "hangi hatırlatma olduğunu sordum.", [call])
        a = hits[0]
        self.reminders.cancel(a)
        self._changed()
        call["ok"] = True
        every = " (tekrarlarıyla birlikte)" if a.recurring and a.ours else ""
        return ToolOutcome(f"Tamam efendim, '{a.title}' hatırlatması iptal edildi{every}.", f"'{a.title}' hatırlatmasını iptal ettim.", [call])

    def _recent(self, last: dict[str, Any]) -> bool:
        fired = last.get("fired_wall")
        return isinstance(fired, (int, float)) and 0 <= self.clock.wall() - fired <= self.cfg.snooze_window_s

    def snooze(self, duration: timedelta | None, now: datetime) -> ToolOutcome:
        last = self.log.last()
        call: dict[str, Any] = {"tool": "reminder.snooze", "args": {}, "ok": False}
        if not last or not self._recent(last):
            return ToolOutcome("Az önce çalan bir hatırlatma ya da zamanlayıcı yok efendim.", "ertelenecek bir şey yoktu.", [call])
        d = duration or timedelta(seconds=self.cfg.snooze_default_s)
        words = _duration_words(d.total_seconds())
        title = last.get("title")
        if last.get("kind") == "timer":
            self.timers.add(d.total_seconds(), title)
        else:
            uid = last.get("uid")
            if not uid:
                return ToolOutcome("Bu hatırlatmayı erteleyemiyorum efendim.", "hatırlatmayı erteleyemedim.", [call])
            self.reminders.snooze(uid, title or "Hatırlatma", now + d)
        self._changed()
        call = {"tool": "reminder.snooze", "args": {"seconds": d.total_seconds()}, "ok": True}
        return ToolOutcome(f"Tamam efendim, {words} sonra tekrar hatırlatacağım.", f"hatırlatmayı {words} erteledim.", [call])
