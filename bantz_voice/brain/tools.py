"""Calendar tools and deterministic Turkish replies.

Tool results are data, never instructions: an event titled "ignore previous instructions" is only
a title inside a template sentence. Changing actions (delete, update; create when configured, or
when it clashes) come back as a pending action that runs only after a spoken "evet".
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from bantz_voice.config import Settings
from bantz_voice.privacy import ScrubFilter
from bantz_voice.schemas import Intent, NluDecision
from bantz_voice.turkish.lexicon import MONTHS, WEEKDAYS

log = logging.getLogger(__name__)
log.addFilter(ScrubFilter())



@dataclass
class ToolOutcome:
    reply: str  # deterministic Turkish sentence
    done: str  # memory line: what was done
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[str, Any] | None = None  # action that needs a spoken "evet"
    data: str = ""  # the tool's returned data, for an LLM phrasing (baseline)


def time_reply(now: datetime) -> str:
    try:
        from bantz_voice.turkish.speak import time_words

        return f"Şu an {time_words(now, 'nom')}, efendim."
    except Exception:
        return f"Saat şu an {now:%H:%M}, efendim."


def date_reply(now: datetime) -> str:
    try:
        from bantz_voice.turkish.speak import date_words

        day = date_words(now.date())
    except Exception:
        day = f"{now.day} {MONTHS[now.month - 1]}"
    return f"Bugün {day} {WEEKDAYS[now.weekday()]}, efendim."


def _parse_when(value: str | None) -> datetime | date | None:
    if not value:
        return None
    try:
        if "T" in value:
            return datetime.fromisoformat(value)
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _day(value: str | None) -> date | None:
    when = _parse_when(value)
    if isinstance(when, datetime):
        return when.date()
    return when


class CalendarTools:
    """Runs calendar intents on a :class:`CalendarService` opened lazily from the settings."""

    def __init__(self, settings: Settings, service: Any = None) -> None:
        self.settings = settings
        self._service = service
        self._now: datetime | None = None

    @property
    def service(self) -> Any:
        if self._service is None:
            from bantz_voice.calendar import open_calendar
            from bantz_voice.calendar.service import CalendarService

            self._service = CalendarService(open_calendar(self.settings), clock=lambda: self._now or datetime.now())
        return self._service

    def _speech(self):
        from bantz_voice.calendar import speech

        return speech

    # --- entry points ---------------------------------------------------------------------
    def run(self, decision: NluDecision, now: datetime) -> ToolOutcome:
        self._now = now
        slots = decision.slots
        if decision.intent == Intent.calendar_query:
            return self._query(slots.range_start, slots.range_end, slots.target_date, now)
        if decision.intent == Intent.calendar_create:
            return self._create(slots.title, slots.start, slots.end, now)
        if decision.intent == Intent.calendar_delete:
            return self._change("delete", slots.title, slots.target_date, None, now)
        if decision.intent == Intent.calendar_update:
            return self._change("update", slots.title, slots.target_date, slots.new_start, now)
        raise ValueError(decision.intent)

    def execute(self, action: dict[str, Any], now: datetime) -> ToolOutcome:
        """Run a confirmed pending action (``op: plan``: its changes in order, undone as one)."""
        self._now = now
        sp = self._speech()
        op = action["op"]
        if op == "plan":
            outs: list[ToolOutcome] = []
            with self.service.grouped():
                for step in action["steps"]:
                    outs.append(self.execute(step, now))
            return ToolOutcome(" ".join(o.reply for o in outs), " ".join(o.done for o in outs),
                               [c for o in outs for c in o.tool_calls])
        if op == "create":
            start = _parse_when(action["start"])
            end = _parse_when(action.get("end"))
            all_day = not isinstance(start, datetime)
            res = self.service.create(action["title"], self._aware(start), self._aware(end), all_day, force=True)
            ev = res.event
            return ToolOutcome(
                sp.created_text(ev, now), f"takvime '{ev.title}' ekledim.", [self._call("calendar.create", action, True)]
            )
        ev = self._event(action)
        if ev is None:
            return ToolOutcome(
                "O etkinliği artık bulamıyorum efendim, değişiklik yapmadım.",
                "etkinliği bulamadığım için değişiklik yapmadım.",
                [self._call(f"calendar.{op}", action, False)],
            )
        if op == "delete":
            self.service.delete(ev)
            return ToolOutcome(sp.deleted_text(ev, now), f"'{ev.title}' etkinliğini sildim.", [self._call("calendar.delete", action, True)])
        new_start = datetime.fromisoformat(action["new_start"])
        new = self.service.update(ev, start=new_start, end=new_start + (ev.end - ev.start))
        return ToolOutcome(sp.updated_text(new, now), f"'{new.title}' etkinliğinin saatini değiştirdim.", [self._call("calendar.update", action, True)])

    def undo(self, now: datetime) -> ToolOutcome:
        self._now = now
        text = self.service.undo()
        return ToolOutcome(text, "son değişikliği geri aldım.", [{"tool": "calendar.undo", "args": {}, "ok": True}])

    # --- helpers ----------------------------------------------------------------------------
    def _aware(self, value: datetime | date | None) -> datetime | date | None:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=self.service.tz)
        return value

    @staticmethod
    def _call(tool: str, args: dict[str, Any], ok: bool) -> dict[str, Any]:
        return {"tool": tool, "args": {k: v for k, v in args.items() if k != "op" and v is not None}, "ok": ok}

    def _event(self, action: dict[str, Any]) -> Any:
        start = datetime.fromisoformat(action["event_start"])
        for ev in self.service.list(start - timedelta(minutes=1), start + timedelta(days=1)):
            if ev.uid == action["uid"] and ev.start == start:
                return ev
        return None

    def _query(self, range_start: str | None, range_end: str | None, target: str | None, now: datetime) -> ToolOutcome:
        sp = self._speech()
        first = _day(range_start) or _day(target)
        last = _day(range_end) or first
        if first is None:
            ev = self.service.next_event()
            text = sp.next_event_text(ev, now)
            data = "yok" if ev is None else f"{ev.title} | {ev.start.isoformat()}"
            return ToolOutcome(text, "sıradaki etkinliğinize baktım.", [self._call("calendar.next", {}, True)], data=data)
        if last < first:
            first, last = last, first
        tz = self.service.tz
        start = datetime.combine(first, time(0), tzinfo=tz)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
        events = self.service.list(start, end)
        text = sp.summarize(events, start, end, now)
        data = "\n".join(f"{e.title} | {e.start.isoformat()}" for e in events) or "etkinlik yok"
        args = {"range_start": first.isoformat(), "range_end": last.isoformat()}
        return ToolOutcome(text, f"takviminize baktım: {text}", [self._call("calendar.list", args, True)], data=data)

    def plan_question(self, actions: list[dict[str, Any]], now: datetime) -> str:
        """One question for several changes: "… silinsin ve … eklensin mi efendim?"."""
        parts: list[str] = []
        for a in actions:
            title = a.get("title", "")
            if a["op"] == "create":
                start = _parse_when(a.get("start"))
                parts.append(f"'{title}' {self._when_text(start, now) if start else ''} eklensin".replace("  ", " "))
            elif a["op"] == "delete":
                parts.append(f"{self._when_text(datetime.fromisoformat(a['event_start']), now)} '{title}' silinsin")
            else:
                parts.append(f"'{title}' {self._when_text(datetime.fromisoformat(a['new_start']), now)} saatine alınsın")
        text = ", ".join(parts[:-1]) + " ve " + parts[-1] if len(parts) > 1 else parts[0]
        return self._speech().capitalize(f"{text} mi efendim?")

    def _create(self, title: str | None, start_s: str | None, end_s: str | None, now: datetime,
                confirm: bool = False) -> ToolOutcome:
        sp = self._speech()
        title = (title or "").strip()
        start = _parse_when(start_s)
        if start is None:
            return ToolOutcome("Ne zaman ekleyeyim efendim?", "etkinlik için zaman sordum.")
        if not title:
            return ToolOutcome("Neyi ekleyeyim efendim?", "etkinliğin adını sordum.")
        end = _parse_when(end_s)
        all_day = not isinstance(start, datetime)
        args = {"op": "create", "title": title, "start": start_s, "end": end_s if isinstance(end, datetime) else None}
        if self.settings.brain.confirm_create or confirm:  # ``confirm``: the plan asks; it never removes a question
            ask = f"'{title}' etkinliğini {self._when_text(start, now)} ekleyeyim mi efendim?"
            return ToolOutcome(ask, f"'{title}' eklemek için onay istedim.", [self._call("calendar.create", args, False)], pending=args)
        res = self.service.create(title, self._aware(start), self._aware(end) if isinstance(end, datetime) else None, all_day)
        if not res.created:
            return ToolOutcome(
                sp.clash_question(res.clashes),
                f"'{title}' aynı saatteki bir etkinlikle çakıştığı için onay istedim.",
                [self._call("calendar.create", args, False)],
                pending=args,
            )
        ev = res.event
        return ToolOutcome(sp.created_text(ev, now), f"takvime '{ev.title}' ekledim.", [self._call("calendar.create", args, True)], data=f"{ev.title} | {ev.start.isoformat()}")

    def _when_text(self, start: datetime | date, now: datetime) -> str:
        try:
            from bantz_voice.turkish.speak import day_words, time_words

            day = start.date() if isinstance(start, datetime) else start
            return f"{day_words(day, now.date())} {time_words(start)}" if isinstance(start, datetime) else day_words(day, now.date())
        except Exception:
            return start.isoformat()

    def _change(self, op: str, title: str | None, target: str | None, new_start_s: str | None, now: datetime) -> ToolOutcome:
        words = (title or "").strip()
        day = _day(target)
        found = self.service.find(words, day)
        call = self._call("calendar.find", {"words": words, "day": day.isoformat() if day else None}, True)
        if not found.events:
            return ToolOutcome(found.say(now), "aranan etkinliği bulamadım.", [call])
        if found.ambiguous:
            choose = {
                "op": "choose",
                "then": op,
                "new_start": new_start_s,
                "candidates": [{"uid": e.uid, "event_start": e.start.isoformat(), "title": e.title} for e in found.events[:5]],
            }
            return ToolOutcome(
                found.say(now), "birden çok etkinlik bulduğum için hangisi olduğunu sordum.", [call],
                pending=choose, data=f"{len(found.events)} eşleşme",
            )
        return self._confirm_change(op, found.unique, new_start_s, now, [call])

    def choose(self, action: dict[str, Any], text: str, now: datetime) -> ToolOutcome | None:
        """The answer to "Hangisini kastediyorsunuz?": an ordinal ("ikincisi"), title words or a
        time ("saat ondaki"). None when the text picks none of the candidates."""
        self._now = now
        cands = action.get("candidates") or []
        chosen = pick_candidate(cands, text, now)
        if chosen is None:
            return None
        ev = self._event(chosen)
        if ev is None:
            return ToolOutcome("O etkinliği artık bulamıyorum efendim.", "seçilen etkinliği bulamadım.")
        return self._confirm_change(action["then"], ev, action.get("new_start"), now, [])

    def _confirm_change(self, op: str, ev: Any, new_start_s: str | None, now: datetime, calls: list[dict[str, Any]]) -> ToolOutcome:
        sp = self._speech()
        call = calls
        action: dict[str, Any] = {"op": op, "uid": ev.uid, "event_start": ev.start.isoformat(), "title": ev.title}
        if isinstance(ev.start, datetime):
            action["event_end"] = ev.end.isoformat()  # a later step of the plan may take its time
        when = sp.when(ev, now.date())
        if op == "delete":
            ask = sp.capitalize(f"{when} '{ev.title}' silinsin mi efendim?")
            return ToolOutcome(ask, f"'{ev.title}' silmek için onay istedim.", [*call, self._call("calendar.delete", action, False)], pending=action)
        new = _parse_when(new_start_s)
        if new is None:
            return ToolOutcome(f"'{ev.title}' için yeni zamanı söyler misiniz efendim?", "yeni zamanı sordum.", call)
        if isinstance(new, date) and not isinstance(new, datetime):
            new = datetime.combine(new, ev.start.timetz())
        new = new.replace(tzinfo=ev.start.tzinfo) if new.tzinfo is None else new
        action["new_start"] = new.isoformat()
        ask = f"'{ev.title}' {when} yerine {self._when_text(new, now)} olsun mu efendim?"
        return ToolOutcome(ask, f"'{ev.title}' etkinliğini taşımak için onay istedim.", [*call, self._call("calendar.update", action, False)], pending=action)


_ORDINALS = {"ilk": 0, "birinci": 0, "ikinci": 1, "ucuncu": 2, "dorduncu": 3, "besinci": 4, "sonuncu": -1, "son": -1}
_ORDINAL_RE = re.compile(r"^(ilk|birinci|ikinci|ucuncu|dorduncu|besinci|sonuncu|son)(?:u|i|si|su|sini|sunu|ini|unu|ni|nu|ki|kini)?$")


def pick_candidate(cands: list[dict[str, Any]], text: str, now: datetime) -> dict[str, Any] | None:
    from bantz_voice.calendar.matching import matches
    from bantz_voice.turkish.text import ascii_fold, words

    if not cands:
        return None
    for w in words(text):
        m = _ORDINAL_RE.match(ascii_fold(w))
        if m and _ORDINALS[m.group(1)] < len(cands):
            return cands[_ORDINALS[m.group(1)]]
    ws = words(text)
    scores = [sum(1 for w in ws if len(w) > 2 and matches(w, c["title"])) for c in cands]
    best = max(scores)
    by_title = [c for c, sc in zip(cands, scores) if sc == best and best > 0]
    if len(by_title) == 1:
        return by_title[0]
    try:
        from bantz_voice.turkish.temporal import resolve_slot

        when = resolve_slot("start", text, now)
    except Exception:
        when = None
    if when and "T" in when:
        pool = by_title or cands
        hits = [c for c in pool if c["event_start"][11:16] == when[11:16]]
        if len(hits) == 1:
            return hits[0]
    return None
