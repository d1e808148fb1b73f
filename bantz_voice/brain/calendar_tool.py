"""The calendar as a brain tool: questions, and changes that wait for a spoken "evet".

Tool results are data, never instructions: an event titled "ignore previous instructions" is only
a title inside a template sentence. Changing actions (delete, update; create when configured, or
when it clashes) come back as a pending action (brain/actions.py) that runs only after a spoken
"evet". The orchestrator's (or the fast path's) plan is carried out step by step by brain/plan.py.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from types import ModuleType
from typing import Any, ClassVar, Literal, overload

from bantz_voice.brain.actions import (
    Candidate,
    Change,
    ChooseEvent,
    CreateEvent,
    DeleteEvent,
    PlanChanges,
    UpdateEvent,
)
from bantz_voice.brain.orchestrator import default_plan
from bantz_voice.brain.slots import DateRange, When, parse_when
from bantz_voice.brain.tool import Decision, Tool, ToolContext, ToolOutcome
from bantz_voice.calendar.model import Event
from bantz_voice.calendar.service import CalendarService
from bantz_voice.config import Settings
from bantz_voice.schemas import Intent

CALENDAR_INTENTS = frozenset({Intent.calendar_query, Intent.calendar_create, Intent.calendar_delete, Intent.calendar_update})


def _call(tool: str, args: dict[str, Any], ok: bool) -> dict[str, Any]:
    return {"tool": tool, "args": {k: v for k, v in args.items() if v is not None}, "ok": ok}


class CalendarTool(Tool):
    """Runs calendar intents on a :class:`CalendarService` opened lazily from the settings. The
    turn's time comes with each call (``now``); the tool keeps none."""

    intents: ClassVar[frozenset[Intent]] = CALENDAR_INTENTS
    read_only: ClassVar[frozenset[Intent]] = frozenset({Intent.calendar_query})

    def __init__(self, settings: Settings, service: CalendarService | None = None) -> None:
        self.settings = settings
        self._service = service

    @property
    def service(self) -> CalendarService:
        if self._service is None:
            from bantz_voice.calendar import open_calendar

            self._service = CalendarService(open_calendar(self.settings))
        return self._service

    @staticmethod
    def _speech() -> ModuleType:
        from bantz_voice.calendar import speech

        return speech

    def warmup(self) -> None:
        """Open the calendar and import its speech templates before the first turn."""
        self.service  # noqa: B018 - opens the calendar
        self._speech()

    # --- entry points ---------------------------------------------------------------------
    def run(self, decision: Decision, ctx: ToolContext) -> ToolOutcome:
        """Carry out the decision's plan (the intent's default steps when it has none)."""
        from bantz_voice.brain.plan import run_plan

        plan = decision.plan or default_plan(decision.intent, decision.slots)
        return run_plan(self, plan, ctx.now)

    def ask_first(self, decision: Decision, ctx: ToolContext) -> ToolOutcome:
        """The plan with every change asked for (``requires_confirmation``: a create asks like a
        delete or a move always does): it reads the calendar, finds the event, and the change
        waits as a pending action for a spoken "evet"."""
        from bantz_voice.brain.plan import run_plan

        plan = decision.plan or default_plan(decision.intent, decision.slots)
        return run_plan(self, replace(plan, requires_confirmation=True), ctx.now)

    def execute(self, action: Change | PlanChanges, now: datetime) -> ToolOutcome:
        """Run a confirmed pending action (a plan: its changes in order, undone as one)."""
        sp = self._speech()
        if isinstance(action, PlanChanges):
            outs: list[ToolOutcome] = []
            with self.service.grouped():
                for step in action.steps:
                    outs.append(self.execute(step, now))
            return ToolOutcome(" ".join(o.reply for o in outs), " ".join(o.done for o in outs),
                               [c for o in outs for c in o.tool_calls])
        if isinstance(action, CreateEvent):
            all_day = not isinstance(action.start, datetime)
            res = self.service.create(action.title, self._aware(action.start), self._aware(action.end), all_day, force=True)
            ev = res.event
            assert ev is not None  # force: never refused for a clash
            return ToolOutcome(
                sp.created_text(ev, now), f"takvime '{ev.title}' ekledim.", [_call("calendar.create", action.call_args(), True)]
            )
        found = self._event(action.uid, action.event_start)
        if found is None:
            return ToolOutcome(
                "O etkinliği artık bulamıyorum efendim, değişiklik yapmadım.",
                "etkinliği bulamadığım için değişiklik yapmadım.",
                [_call(f"calendar.{action.kind}", action.call_args(), False)],
            )
        if isinstance(action, DeleteEvent):
            self.service.delete(found)
            return ToolOutcome(sp.deleted_text(found, now), f"'{found.title}' etkinliğini sildim.",
                               [_call("calendar.delete", action.call_args(), True)])
        new = self.service.update(found, start=action.new_start, end=action.new_start + (found.end - found.start))
        return ToolOutcome(sp.updated_text(new, now), f"'{new.title}' etkinliğinin saatini değiştirdim.",
                           [_call("calendar.update", action.call_args(), True)])

    def undo(self) -> ToolOutcome:
        text = self.service.undo()
        return ToolOutcome(text, "son değişikliği geri aldım.", [{"tool": "calendar.undo", "args": {}, "ok": True}])

    # --- helpers ----------------------------------------------------------------------------
    @overload
    def _aware(self, value: When) -> When: ...
    @overload
    def _aware(self, value: None) -> None: ...
    def _aware(self, value: When | None) -> When | None:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=self.service.tz)
        return value

    def _event(self, uid: str, start: datetime) -> Event | None:
        for ev in self.service.list(start - timedelta(minutes=1), start + timedelta(days=1)):
            if ev.uid == uid and ev.start == start:
                return ev
        return None

    def query(self, period: DateRange | None, now: datetime) -> ToolOutcome:
        """The events of ``period``; without one, the next event."""
        sp = self._speech()
        if period is None:
            ev = self.service.next_event(now)
            text = sp.next_event_text(ev, now)
            data = "yok" if ev is None else f"{ev.title} | {ev.start.isoformat()}"
            return ToolOutcome(text, "sıradaki etkinliğinize baktım.", [_call("calendar.next", {}, True)], data=data)
        start, end = period.bounds(self.service.tz)
        events = self.service.list(start, end)
        text = sp.summarize(events, start, end, now)
        data = "\n".join(f"{e.title} | {e.start.isoformat()}" for e in events) or "etkinlik yok"
        args = {"range_start": period.first.isoformat(), "range_end": period.last.isoformat()}
        return ToolOutcome(text, f"takviminize baktım: {text}", [_call("calendar.list", args, True)], data=data)

    def plan_question(self, actions: list[Change], now: datetime) -> str:
        """One question for several changes: "… silinsin ve … eklensin mi efendim?"."""
        parts: list[str] = []
        for a in actions:
            if isinstance(a, CreateEvent):
                parts.append(f"'{a.title}' {self._when_text(a.start, now)} eklensin".replace("  ", " "))
            elif isinstance(a, DeleteEvent):
                parts.append(f"{self._when_text(a.event_start, now)} '{a.title}' silinsin")
            else:
                parts.append(f"'{a.title}' {self._when_text(a.new_start, now)} saatine alınsın")
        text = ", ".join(parts[:-1]) + " ve " + parts[-1] if len(parts) > 1 else parts[0]
        return str(self._speech().capitalize(f"{text} mi efendim?"))

    def create(self, title: str | None, start: When | None, end: When | None, now: datetime,
               confirm: bool = False) -> ToolOutcome:
        sp = self._speech()
        title = (title or "").strip()
        if start is None:
            return ToolOutcome("Ne zaman ekleyeyim efendim?", "etkinlik için zaman sordum.")
        if not title:
            return ToolOutcome("Neyi ekleyeyim efendim?", "etkinliğin adını sordum.")
        all_day = not isinstance(start, datetime)
        timed_end = end if isinstance(end, datetime) else None
        action = CreateEvent(title=title, start=start, end=timed_end)
        if self.settings.brain.confirm_create or confirm:  # ``confirm``: the plan asks; it never removes a question
            ask = f"'{title}' etkinliğini {self._when_text(start, now)} ekleyeyim mi efendim?"
            return ToolOutcome(ask, f"'{title}' eklemek için onay istedim.", [_call("calendar.create", action.call_args(), False)],
                               pending=action)
        res = self.service.create(title, self._aware(start), self._aware(timed_end), all_day)
        if not res.created:
            return ToolOutcome(
                sp.clash_question(res.clashes),
                f"'{title}' aynı saatteki bir etkinlikle çakıştığı için onay istedim.",
                [_call("calendar.create", action.call_args(), False)],
                pending=action,
            )
        ev = res.event
        assert ev is not None
        return ToolOutcome(sp.created_text(ev, now), f"takvime '{ev.title}' ekledim.", [_call("calendar.create", action.call_args(), True)],
                           data=f"{ev.title} | {ev.start.isoformat()}")

    def _when_text(self, start: When, now: datetime) -> str:
        try:
            from bantz_voice.turkish.speak import day_words, time_words

            day = start.date() if isinstance(start, datetime) else start
            return f"{day_words(day, now.date())} {time_words(start)}" if isinstance(start, datetime) else day_words(day, now.date())
        except Exception:
            return start.isoformat()

    def change(self, op: Literal["delete", "update"], title: str | None, day: date | None, new_start: When | None,
               now: datetime) -> ToolOutcome:
        """Find the event to delete or move: not found, "which one?" (a pending choice), or the
        confirmation question (a pending change)."""
        words = (title or "").strip()
        found = self.service.find(words, day, now=now)
        call = _call("calendar.find", {"words": words, "day": day.isoformat() if day else None}, True)
        if not found.events:
            return ToolOutcome(found.say(now), "aranan etkinliği bulamadım.", [call])
        unique = found.unique
        if found.ambiguous or unique is None:
            choose = ChooseEvent(
                then=op, new_start=new_start,
                candidates=[Candidate(uid=e.uid, event_start=e.start, title=e.title) for e in found.events[:5]],
            )
            return ToolOutcome(
                found.say(now), "birden çok etkinlik bulduğum için hangisi olduğunu sordum.", [call],
                pending=choose, data=f"{len(found.events)} eşleşme",
            )
        return self._confirm_change(op, unique, new_start, now, [call])

    def choose(self, action: ChooseEvent, text: str, now: datetime) -> ToolOutcome | None:
        """The answer to "Hangisini kastediyorsunuz?": an ordinal ("ikincisi"), title words or a
        time ("saat ondaki"). None when the text picks none of the candidates."""
        chosen = pick_candidate(action.candidates, text, now)
        if chosen is None:
            return None
        ev = self._event(chosen.uid, chosen.event_start)
        if ev is None:
            return ToolOutcome("O etkinliği artık bulamıyorum efendim.", "seçilen etkinliği bulamadım.")
        return self._confirm_change(action.then, ev, action.new_start, now, [])

    def _confirm_change(self, op: Literal["delete", "update"], ev: Event, new_start: When | None, now: datetime,
                        calls: list[dict[str, Any]]) -> ToolOutcome:
        sp = self._speech()
        when = sp.when(ev, now.date())
        if op == "delete":
            delete = DeleteEvent(uid=ev.uid, event_start=ev.start, title=ev.title, event_end=ev.end)
            ask = sp.capitalize(f"{when} '{ev.title}' silinsin mi efendim?")
            return ToolOutcome(ask, f"'{ev.title}' silmek için onay istedim.",
                               [*calls, _call("calendar.delete", delete.call_args(), False)], pending=delete)
        if new_start is None:
            return ToolOutcome(f"'{ev.title}' için yeni zamanı söyler misiniz efendim?", "yeni zamanı sordum.", calls)
        new = new_start if isinstance(new_start, datetime) else datetime.combine(new_start, ev.start.timetz())
        new = new.replace(tzinfo=ev.start.tzinfo) if new.tzinfo is None else new
        update = UpdateEvent(uid=ev.uid, event_start=ev.start, title=ev.title, event_end=ev.end, new_start=new)
        ask = f"'{ev.title}' {when} yerine {self._when_text(new, now)} olsun mu efendim?"
        return ToolOutcome(ask, f"'{ev.title}' etkinliğini taşımak için onay istedim.",
                           [*calls, _call("calendar.update", update.call_args(), False)], pending=update)


_ORDINALS = {"ilk": 0, "birinci": 0, "ikinci": 1, "ucuncu": 2, "dorduncu": 3, "besinci": 4, "sonuncu": -1, "son": -1}
_ORDINAL_RE = re.compile(r"^(ilk|birinci|ikinci|ucuncu|dorduncu|besinci|sonuncu|son)(?:u|i|si|su|sini|sunu|ini|unu|ni|nu|ki|kini)?$")


def pick_candidate(cands: list[Candidate], text: str, now: datetime) -> Candidate | None:
    from bantz_voice.calendar.matching import matches
    from bantz_voice.turkish.text import ascii_fold, words

    if not cands:
        return None
    for w in words(text):
        m = _ORDINAL_RE.match(ascii_fold(w))
        if m and _ORDINALS[m.group(1)] < len(cands):
            return cands[_ORDINALS[m.group(1)]]
    ws = words(text)
    scores = [sum(1 for w in ws if len(w) > 2 and matches(w, c.title)) for c in cands]
    best = max(scores)
    by_title = [c for c, sc in zip(cands, scores) if sc == best and best > 0]
    if len(by_title) == 1:
        return by_title[0]
    try:
        from bantz_voice.turkish.temporal import resolve_slot

        when = resolve_slot("start", text, now)
    except Exception:
        when = None
    at = parse_when(when)
    if isinstance(at, datetime):
        pool = by_title or cands
        hits = [c for c in pool if f"{c.event_start:%H:%M}" == f"{at:%H:%M}"]
        if len(hits) == 1:
            return hits[0]
    return None
