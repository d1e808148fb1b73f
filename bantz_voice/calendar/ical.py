"""iCalendar plumbing shared by the ICS and CalDAV backends: parsing, expansion of recurring
events into :class:`Event` occurrences in the user's zone, and the edits (create/update/delete)
done on a ``VCALENDAR`` holding the components of one UID (CalDAV) or of the whole file (ICS)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

import icalendar
import recurring_ical_events

from bantz_voice.calendar.errors import CalendarError
from bantz_voice.calendar.model import DEFAULT_DURATION, Event

PRODID = "-//Bantz Voice//bantz-voice 0.1//TR"
EDITABLE = {"title", "start", "end", "all_day", "location", "description"}


# --- values ---------------------------------------------------------------------------------
def to_local(value: date | datetime, tz: tzinfo) -> datetime:
    """date -> local midnight; floating (naive) -> the user's zone; aware -> converted."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=tz)
        return value.astimezone(tz)
    return datetime(value.year, value.month, value.day, tzinfo=tz)


def _like(value: datetime, template: date | datetime) -> date | datetime:
    """``value`` (aware) expressed the way ``template`` is (date, floating or in its zone)."""
    if not isinstance(template, datetime):
        return value.date()
    if template.tzinfo is None:
        return value.replace(tzinfo=None)  # floating: the user's wall-clock time
    return value.astimezone(template.tzinfo)


def new_calendar() -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    return cal


def parse(data: bytes | str, source: str) -> icalendar.Calendar:
    """Parse and validate; any damage -> CalendarError (the caller leaves the file alone)."""
    try:
        cal = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and friends
        raise CalendarError(f"Takvim bozuk, okunamadı: {source} ({_short(exc)}).") from exc
    if not isinstance(cal, icalendar.Calendar) or cal.name != "VCALENDAR":
        raise CalendarError(f"Takvim bozuk: {source} bir VCALENDAR değil.")
    for comp in cal.walk():
        if comp.errors:
            prop, msg = comp.errors[0]
            raise CalendarError(f"Takvim bozuk: {source} içinde {comp.name} {prop} okunamadı ({_short(msg)}).")
    return cal


def _short(exc: object) -> str:
    text = " ".join(str(exc).split())
    return text[:120]


def uid_of(comp: icalendar.cal.Component) -> str | None:
    uid = comp.get("uid")
    return str(uid) if uid is not None else None


def events_of(cal: icalendar.Calendar) -> list[icalendar.Event]:
    return [c for c in cal.subcomponents if c.name == "VEVENT"]


def is_recurring_component(comp: icalendar.cal.Component) -> bool:
    return any(k in comp for k in ("RRULE", "RDATE", "RECURRENCE-ID"))


# --- reading --------------------------------------------------------------------------------
def _rrule_text(master: icalendar.cal.Component | None) -> str | None:
    if master is None or "RRULE" not in master:
        return None
    rule = master["RRULE"]
    rule = rule[0] if isinstance(rule, list) else rule
    return rule.to_ical().decode()


def occurrence_to_event(comp: icalendar.cal.Component, tz: tzinfo, masters: dict[str, Any]) -> Event | None:
    uid = uid_of(comp)
    if uid is None or "DTSTART" not in comp:
        return None
    raw_start = comp["DTSTART"].dt
    all_day = not isinstance(raw_start, datetime)
    start = to_local(raw_start, tz)
    if "DTEND" in comp:
        end = to_local(comp["DTEND"].dt, tz)
    elif "DURATION" in comp:
        end = start + comp["DURATION"].dt
    else:
        end = start + (timedelta(days=1) if all_day else timedelta(0))
    if end < start:
        end = start
    master = masters.get(uid)
    recurring = uid in masters
    rid = comp.get("RECURRENCE-ID")
    recurrence_id = to_local(rid.dt, tz) if (recurring and rid is not None) else (start if recurring else None)
    return Event(
        uid=uid,
        title=str(comp.get("SUMMARY", "")),
        start=start,
        end=end,
        all_day=all_day,
        recurring=recurring,
        rrule=_rrule_text(master),
        recurrence_id=recurrence_id,
        location=str(comp["LOCATION"]) if "LOCATION" in comp else None,
        description=str(comp["DESCRIPTION"]) if "DESCRIPTION" in comp else None,
    )


def recurring_masters(components: Iterable[icalendar.cal.Component]) -> dict[str, Any]:
    """uid -> master component (or None when only overrides exist) for every recurring UID."""
    out: dict[str, Any] = {}
    for comp in components:
        if comp.name != "VEVENT" or not is_recurring_component(comp):
            continue
        uid = uid_of(comp)
        if uid is None:
            continue
        if "RECURRENCE-ID" not in comp:
            out[uid] = comp
        else:
            out.setdefault(uid, None)
    return out


def expand(cal: icalendar.Calendar, start: datetime, end: datetime, tz: tzinfo) -> list[Event]:
    """Every occurrence overlapping [start, end), recurring events expanded, in ``tz``."""
    masters = recurring_masters(cal.subcomponents)
    try:
        occurrences = recurring_ical_events.of(cal, skip_bad_series=True).between(start, end)
    except Exception as exc:
        raise CalendarError(f"Takvimdeki bir tekrar kuralı okunamadı ({_short(exc)}).") from exc
    out = []
    for occ in occurrences:
        ev = occurrence_to_event(occ, tz, masters)
        if ev is not None and ev.overlaps(start, end):
            out.append(ev)
    out.sort(key=lambda e: (e.start, e.end, e.title))
    return out


# --- writing --------------------------------------------------------------------------------
def _stamp(comp: icalendar.cal.Component) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for key in ("DTSTAMP", "LAST-MODIFIED"):
        comp.pop(key, None)
        comp.add(key.lower(), now)


def normalize_times(
    start: datetime | date, end: datetime | date | None, all_day: bool, tz: tzinfo
) -> tuple[datetime, datetime]:
    """Validate and default the times of a new/changed event (aware, in ``tz``)."""
    if all_day:
        day = start.date() if isinstance(start, datetime) else start
        s = datetime(day.year, day.month, day.day, tzinfo=tz)
        if end is None:
            e = s + timedelta(days=1)
        else:
            last = end.date() if isinstance(end, datetime) else end
            e = datetime(last.year, last.month, last.day, tzinfo=tz)
            if e <= s:  # an inclusive end day was given
                e = s + timedelta(days=1)
        return s, e
    if not isinstance(start, datetime):
        raise CalendarError("Saatli bir etkinlik için başlangıç saati gerekli.")
    s = to_local(start, tz)
    e = s + DEFAULT_DURATION if end is None else to_local(end if isinstance(end, datetime) else datetime(end.year, end.month, end.day), tz)
    if e <= s:
        raise CalendarError("Etkinliğin bitişi başlangıcından sonra olmalı.")
    return s, e


def _set_times(comp: icalendar.cal.Component, start: datetime, end: datetime, all_day: bool) -> None:
    for key in ("DTSTART", "DTEND", "DURATION"):
        comp.pop(key, None)
    if all_day:
        comp.add("dtstart", start.date())
        comp.add("dtend", end.date())
    else:
        comp.add("dtstart", start)
        comp.add("dtend", end)


def build_event(
    title: str, start: datetime, end: datetime, all_day: bool, uid: str | None = None, rrule: str | None = None
) -> icalendar.Event:
    title = " ".join(title.split())
    if not title:
        raise CalendarError("Etkinliğin bir adı olmalı.")
    comp = icalendar.Event()
    comp.add("uid", uid or f"{uuid.uuid4()}@bantz-voice")
    comp.add("summary", title)
    _set_times(comp, start, end, all_day)
    if rrule:
        from dateutil.rrule import rrulestr

        text = rrule.strip().removeprefix("RRULE:")
        try:
            rrulestr(text, dtstart=start)  # the same rule engine that expands it later
            comp.add("rrule", icalendar.vRecur.from_ical(text))
        except Exception as exc:
            raise CalendarError(f"Tekrar kuralı anlaşılamadı: {rrule}.") from exc
    comp.add("sequence", 0)
    _stamp(comp)
    comp.pop("LAST-MODIFIED", None)
    comp.add("created", comp["DTSTAMP"].dt)
    return comp


def components_for(cal: icalendar.Calendar, uid: str) -> list[icalendar.cal.Component]:
    return [c for c in events_of(cal) if uid_of(c) == uid]


def _master(comps: list[icalendar.cal.Component]) -> icalendar.cal.Component | None:
    return next((c for c in comps if "RECURRENCE-ID" not in c), None)


def _override(comps: list[icalendar.cal.Component], rid: datetime, tz: tzinfo) -> icalendar.cal.Component | None:
    for c in comps:
        if "RECURRENCE-ID" in c and to_local(c["RECURRENCE-ID"].dt, tz) == rid:
            return c
    return None


LONG_TZ_FROM = date(2000, 1, 1)


def add_timezones(cal: icalendar.Calendar, compact: bool = False) -> None:
    """Add the VTIMEZONEs the events use. They describe the zone from a year before the earliest
    event (``compact``: one CalDAV object) or from 2000 at the latest (the shared .ics file)."""
    starts = [c["DTSTART"].dt for c in events_of(cal) if "DTSTART" in c]
    days = [d.date() if isinstance(d, datetime) else d for d in starts]
    first = (min(days) if days else date.today()) - timedelta(days=366)
    if not compact:
        first = min(first, LONG_TZ_FROM)
    try:
        cal.add_missing_timezones(first_date=first)
    except Exception:  # a zone icalendar cannot describe: TZID alone is still valid for most clients
        pass


def add_timezones_for(cal: icalendar.Calendar, uid: str, compact: bool = False) -> None:
    """Add the VTIMEZONEs that ``uid``'s components need and ``cal`` lacks (without scanning
    every event of a large file)."""
    have = {str(c.get("TZID")) for c in cal.subcomponents if c.name == "VTIMEZONE"}
    probe = new_calendar()
    for comp in components_for(cal, uid):
        probe.add_component(comp)
    add_timezones(probe, compact)
    for comp in probe.subcomponents:
        if comp.name == "VTIMEZONE" and str(comp.get("TZID")) not in have:
            cal.subcomponents.insert(0, comp)


def apply_update(
    cal: icalendar.Calendar, event: Event, fields: dict[str, Any], tz: tzinfo, series: bool = False, compact: bool = False
) -> None:
    unknown = set(fields) - EDITABLE
    if unknown:
        raise CalendarError(f"Değiştirilemeyen alan: {', '.join(sorted(unknown))}.")
    comps = components_for(cal, event.uid)
    if not comps:
        raise _not_found(event)
    master = _master(comps)
    occurrence = event.recurring and event.recurrence_id is not None and not series
    if occurrence:
        target = _override(comps, event.recurrence_id, tz)
        if target is None:
            if master is None:
                raise _not_found(event)
            target = icalendar.Event.from_ical(master.to_ical())
            for key in ("RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"):
                target.pop(key, None)
            target.add("recurrence-id", _like(event.recurrence_id, master["DTSTART"].dt))
            _set_times(target, event.start, event.end, event.all_day)
            cal.add_component(target)
    else:
        target = master if master is not None else comps[0]
    cur_all_day = not isinstance(target["DTSTART"].dt, datetime)
    cur_start = to_local(target["DTSTART"].dt, tz)
    if "DTEND" in target:
        cur_end = to_local(target["DTEND"].dt, tz)
    elif "DURATION" in target:
        cur_end = cur_start + target["DURATION"].dt
    else:
        cur_end = cur_start + (timedelta(days=1) if cur_all_day else DEFAULT_DURATION)
    if "title" in fields:
        title = " ".join(str(fields["title"]).split())
        if not title:
            raise CalendarError("Etkinliğin bir adı olmalı.")
        target.pop("SUMMARY", None)
        target.add("summary", title)
    for name, prop in (("location", "location"), ("description", "description")):
        if name in fields:
            target.pop(prop.upper(), None)
            if fields[name]:
                target.add(prop, str(fields[name]))
    if {"start", "end", "all_day"} & set(fields):
        all_day = bool(fields.get("all_day", cur_all_day))
        new_start: date | datetime = cur_start
        new_end: date | datetime | None
        moving_series = series and event.recurring and event.recurrence_id is not None and not occurrence
        if moving_series and isinstance(fields.get("start"), datetime) and all_day == cur_all_day:
            # "move the series": shift the first instance by the change asked for this occurrence
            asked = to_local(fields["start"], tz)
            new_start = cur_start + (asked - event.start)
            duration = (to_local(fields["end"], tz) - asked) if isinstance(fields.get("end"), datetime) else (cur_end - cur_start)
            new_end = new_start + duration
        else:
            if fields.get("start") is not None:
                new_start = fields["start"]
            if fields.get("end") is not None:
                new_end = fields["end"]
            elif all_day != cur_all_day:
                new_end = None
            else:
                new_end = to_local(new_start, tz) + (cur_end - cur_start)
        s, e = normalize_times(new_start, new_end, all_day, tz)
        _set_times(target, s, e, all_day)
        if moving_series and all_day == cur_all_day and s != cur_start:
            _shift_recurrence_keys(comps, target, s - cur_start)
    seq = int(target.get("SEQUENCE", 0)) + 1
    target.pop("SEQUENCE", None)
    target.add("sequence", seq)
    _stamp(target)
    add_timezones_for(cal, event.uid, compact)


def _shift_recurrence_keys(comps: list[icalendar.cal.Component], master: icalendar.cal.Component, delta: timedelta) -> None:
    """After the series moved by ``delta``, its EXDATEs and its overrides' RECURRENCE-IDs must
    move too, or removed occurrences come back and changed ones appear twice."""
    if "EXDATE" in master:
        props = master["EXDATE"] if isinstance(master["EXDATE"], list) else [master["EXDATE"]]
        values = [d.dt + delta for prop in props for d in prop.dts]
        master.pop("EXDATE")
        for value in values:
            master.add("exdate", value)
    for comp in comps:
        if comp is not master and "RECURRENCE-ID" in comp:
            rid = comp["RECURRENCE-ID"].dt + delta
            comp.pop("RECURRENCE-ID")
            comp.add("recurrence-id", rid)


def apply_delete(cal: icalendar.Calendar, event: Event, tz: tzinfo, series: bool = False) -> None:
    comps = components_for(cal, event.uid)
    if not comps:
        raise _not_found(event)
    master = _master(comps)
    one_occurrence = event.recurring and event.recurrence_id is not None and not series
    if one_occurrence and master is not None and ("RRULE" in master or "RDATE" in master):
        override = _override(comps, event.recurrence_id, tz)
        if override is not None:
            cal.subcomponents.remove(override)
        master.add("exdate", _like(event.recurrence_id, master["DTSTART"].dt))
        seq = int(master.get("SEQUENCE", 0)) + 1
        master.pop("SEQUENCE", None)
        master.add("sequence", seq)
        _stamp(master)
        return
    for c in comps:
        cal.subcomponents.remove(c)


def _not_found(event: Event) -> CalendarError:
    from bantz_voice.calendar.errors import EventNotFoundError

    return EventNotFoundError(f"'{event.title}' etkinliği takvimde bulunamadı; silinmiş ya da değişmiş olabilir.")


def uid_calendar(cal: icalendar.Calendar, uid: str) -> icalendar.Calendar | None:
    """A VCALENDAR with only ``uid``'s components (plus the time zones they use), or None."""
    comps = components_for(cal, uid)
    if not comps:
        return None
    out = new_calendar()
    for c in comps:
        out.add_component(c)
    add_timezones(out, compact=True)
    return out


def event_after_change(cal: icalendar.Calendar, event: Event, tz: tzinfo, series: bool = False) -> Event:
    """The changed event as it now stands (the override for a single occurrence)."""
    comps = components_for(cal, event.uid)
    if not comps:
        raise _not_found(event)
    masters = recurring_masters(comps)
    if event.recurring and event.recurrence_id is not None and not series:
        override = _override(comps, event.recurrence_id, tz)
        if override is not None:
            ev = occurrence_to_event(override, tz, masters)
            if ev is not None:
                return ev
    ev = occurrence_to_event(_master(comps) or comps[0], tz, masters)
    if ev is None:
        raise _not_found(event)
    return ev


def master_event(cal: icalendar.Calendar, uid: str, tz: tzinfo) -> Event | None:
    comps = components_for(cal, uid)
    if not comps:
        return None
    return occurrence_to_event(_master(comps) or comps[0], tz, recurring_masters(comps))
