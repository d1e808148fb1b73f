"""iCalendar plumbing shared by the ICS and CalDAV backends: parsing, expansion of recurring
events into :class:`Event` occurrences in the user's zone, and the edits (create/update/delete)
done on a ``VCALENDAR`` holding the components of one UID (CalDAV) or of the whole file (ICS)."""

from __future__ import annotations

import builtins
import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events
from icalendar.prop import vDDDLists, vDDDTypes

from bantz_voice.calendar.errors import CalendarError
from bantz_voice.calendar.model import DEFAULT_DURATION, Event

log = logging.getLogger(__name__)
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


def _time_prop(comp: icalendar.cal.Component, name: str) -> vDDDTypes:
    prop = comp[name]
    if not isinstance(prop, vDDDTypes):  # e.g. the property given twice
        raise CalendarError(f"Takvim bileşeninin {name} alanı okunamadı.")
    return prop


def time_of(comp: icalendar.cal.Component, name: str = "DTSTART") -> date:
    """The date or date-time (a :class:`datetime` is a :class:`date`) of DTSTART, DTEND,
    RECURRENCE-ID or DTSTAMP; :class:`CalendarError` when it is something else."""
    value = _time_prop(comp, name).dt
    if not isinstance(value, date):
        raise CalendarError(f"Takvim bileşeninin {name} alanı bir tarih değil.")
    return value


def duration_of(comp: icalendar.cal.Component) -> timedelta:
    """The DURATION of ``comp``; :class:`CalendarError` when it is not a duration."""
    value = _time_prop(comp, "DURATION").dt
    if not isinstance(value, timedelta):
        raise CalendarError("Takvim bileşeninin DURATION alanı bir süre değil.")
    return value


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


UNREADABLE = "X-BANTZ-UNREADABLE"  # placeholder for a component kept as the raw text it was read as


def parse_components(
    data: bytes, source: str
) -> tuple[icalendar.Calendar, dict[int, tuple[Any, bytes]], builtins.list[str]]:
    """Parse a whole calendar, skipping damaged components instead of failing on them.

    Returns (calendar, raw, bad): ``raw`` maps id(component) -> (component, its bytes in ``data``)
    when the components could be matched to their text (empty otherwise); ``bad`` names each
    damaged component. A damaged component stays in the calendar as an ``X-BANTZ-UNREADABLE``
    placeholder whose raw bytes a writer puts back unchanged. Raises CalendarError only when the
    text is not a calendar at all."""
    from bantz_voice.calendar import rawfile

    try:
        cal = parse(data, source)
    except CalendarError as exc:
        first_error = exc
    else:
        chunks = rawfile.components(data)
        blobs = {id(c): (c, r) for c, r in zip(cal.subcomponents, chunks)} if len(chunks) == len(cal.subcomponents) else {}
        return cal, blobs, []
    split = rawfile.split(data, strict=False)
    if split is None or not split.chunks:
        raise first_error
    try:
        head = split.head if split.head[:15].upper() == b"BEGIN:VCALENDAR" else b"BEGIN:VCALENDAR\r\n" + split.head
        cal = parse(head + rawfile.END, source)
    except CalendarError:
        raise first_error from None
    shell = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + PRODID.encode() + b"\r\n"
    raw: dict[int, tuple[Any, bytes]] = {}
    bad: builtins.list[str] = []
    for position, chunk in enumerate(split.chunks, 1):
        comp: Any = None
        try:
            one = parse(shell + chunk + rawfile.END, source)
            if len(one.subcomponents) == 1 and one.subcomponents[0].name == rawfile.kind(chunk):
                comp = one.subcomponents[0]
        except CalendarError:
            comp = None
        if comp is None:
            comp = icalendar.cal.Component()
            comp.name = UNREADABLE
            bad.append(describe_chunk(chunk, position))
        cal.subcomponents.append(comp)
        raw[id(comp)] = (comp, chunk)
    return cal, raw, bad


def describe_chunk(chunk: bytes, position: int | None = None) -> str:
    """A damaged component named for the user: kind, position, UID and title when they can be read."""
    from bantz_voice.calendar import rawfile

    parts = [rawfile.kind(chunk) or "bileşen"]
    if position is not None:
        parts.append(f"{position}. bileşen")
    uid = rawfile.uid(chunk)
    if uid:
        parts.append(f"UID {uid[:80]}")
    for line in chunk.split(b"\r\n"):
        if line[:8].upper() == b"SUMMARY:" or line[:8].upper() == b"SUMMARY;":
            parts.append("'" + line.split(b":", 1)[1].decode("utf-8", "replace")[:60] + "'")
            break
    return ", ".join(parts)


def _short(exc: object) -> str:
    text = " ".join(str(exc).split())
    return text[:120]


def uid_of(comp: icalendar.cal.Component) -> str | None:
    uid = comp.get("uid")
    return str(uid) if uid is not None else None


def events_of(cal: icalendar.Calendar) -> list[icalendar.cal.Component]:
    return [c for c in cal.subcomponents if c.name == "VEVENT"]


def is_recurring_component(comp: icalendar.cal.Component) -> bool:
    return any(k in comp for k in ("RRULE", "RDATE", "RECURRENCE-ID"))


# --- reading --------------------------------------------------------------------------------
def _rrule_text(master: icalendar.cal.Component | None) -> str | None:
    if master is None or "RRULE" not in master:
        return None
    rule = master["RRULE"]
    rule = rule[0] if isinstance(rule, list) else rule
    text = rule.to_ical()
    return text.decode() if isinstance(text, bytes) else str(text)


def occurrence_to_event(comp: icalendar.cal.Component, tz: tzinfo, masters: dict[str, Any]) -> Event | None:
    uid = uid_of(comp)
    if uid is None or "DTSTART" not in comp:
        return None
    raw_start = time_of(comp, "DTSTART")
    all_day = not isinstance(raw_start, datetime)
    start = to_local(raw_start, tz)
    if "DTEND" in comp:
        end = to_local(time_of(comp, "DTEND"), tz)
    elif "DURATION" in comp:
        end = start + duration_of(comp)
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


# --- bounded expansion ------------------------------------------------------------------------
# A shared or imported calendar can hold a rule like FREQ=SECONDLY without an end: expanded over
# the year that a spoken "delete X" searches, that is ~3*10^7 occurrences. Every series is sized
# before it is expanded (rule steps from its first instance to the window's end), series that step
# finer than a day are first moved forward to just before the window (same grid: the occurrences
# in the window are unchanged), and a series, a query and the time spent have hard limits.
MAX_STEPS_PER_EVENT = 50_000  # rule steps one series may take to reach the end of the window
MAX_STEPS_PER_QUERY = 200_000
MAX_OCCURRENCES = 2_000  # occurrences one answer may hold
EXPAND_DEADLINE_S = 3.0

_PERIOD_S = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": 86400, "WEEKLY": 7 * 86400,
             "MONTHLY": 28 * 86400, "YEARLY": 365 * 86400}
_FIXED = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY")  # a period of fixed wall-clock length
_FINER = {  # BY parts that add occurrences within one period of the frequency: (part, size of its range)
    "SECONDLY": (),
    "MINUTELY": ("BYSECOND",),
    "HOURLY": ("BYSECOND", "BYMINUTE"),
    "DAILY": ("BYSECOND", "BYMINUTE", "BYHOUR"),
    "WEEKLY": ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY"),
    "MONTHLY": ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY"),
    "YEARLY": ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH"),
}
_BYDAY_PER_PERIOD = {"MONTHLY": 5, "YEARLY": 53}  # BYDAY=MO in a month: up to 5 Mondays


class CalendarTooLarge(CalendarError):
    """A query would expand more recurring occurrences than the limits allow."""


def _too_large(comp: icalendar.cal.Component | None) -> CalendarTooLarge:
    title = " ".join(str(comp.get("SUMMARY", "")).split())[:60] if comp is not None else ""
    named = f" '{title}' etkinliği çok sık tekrarlanıyor;" if title else ""
    return CalendarTooLarge(
        f"Takvim çok büyük:{named} bu aralıktaki tekrarları sayılamayacak kadar çok. "
        "Daha kısa bir aralık sorun ya da o tekrar kuralını takvim uygulamanızdan düzeltin."
    )


def _rules(comp: icalendar.cal.Component) -> list[Any]:
    rule = comp.get("RRULE")
    if rule is None:
        return []
    return list(rule) if isinstance(rule, list) else [rule]


def _rule_steps(rule: Any, first: datetime, end: datetime) -> tuple[float, str, int]:
    """(rule steps from ``first`` to ``end``, FREQ, INTERVAL) — an upper estimate."""
    freq = str((rule.get("FREQ") or ["DAILY"])[0]).upper()
    try:
        interval = max(1, int((rule.get("INTERVAL") or [1])[0]))
    except (TypeError, ValueError):
        interval = 1
    period = _PERIOD_S.get(freq, 86400) * interval
    stop = end
    until = rule.get("UNTIL")
    if until:
        try:
            stop = min(stop, to_local(until[0], end.tzinfo or UTC))
        except (TypeError, ValueError):
            pass
    span = (stop - first).total_seconds()
    if span < 0:
        return 0.0, freq, interval
    steps = span / period + 1
    for part in _FINER.get(freq, ()):
        values = rule.get(part)
        if values:
            steps *= len(values) * (_BYDAY_PER_PERIOD.get(freq, 1) if part == "BYDAY" else 1)
    count = rule.get("COUNT")
    if count:
        try:
            steps = min(steps, float(int(count[0])))
        except (TypeError, ValueError):
            pass
    return steps, freq, interval


def _duration(comp: icalendar.cal.Component) -> timedelta:
    try:
        if "DTEND" in comp:
            return abs(to_local(time_of(comp, "DTEND"), UTC) - to_local(time_of(comp, "DTSTART"), UTC))
        if "DURATION" in comp:
            return abs(duration_of(comp))
    except Exception:
        pass
    return timedelta(days=1)


def _forwarded(master: icalendar.cal.Component, start: datetime, tz: tzinfo) -> icalendar.cal.Component:
    """A copy of ``master`` whose DTSTART (and DTEND) moved forward by whole rule periods to just
    before ``start``, for a rule with a fixed period and without BYSETPOS (its occurrences then
    stay exactly the same within the window); with COUNT only for a rule without BY parts (each
    period is one occurrence: COUNT goes down by the periods skipped). Unchanged otherwise."""
    rules = _rules(master)
    if len(rules) != 1 or "DTSTART" not in master:
        return master
    rule = rules[0]
    freq = str((rule.get("FREQ") or [""])[0]).upper()
    by_parts = [k for k in rule if str(k).upper().startswith("BY")]
    if freq in ("MONTHLY", "YEARLY"):
        return _forwarded_calendar(master, rule, freq, start, tz)
    if freq not in _FIXED or rule.get("BYSETPOS") or (rule.get("COUNT") and by_parts):
        return master
    interval = _interval(rule)
    if interval is None:
        return master
    raw = time_of(master, "DTSTART")
    period = timedelta(seconds=_PERIOD_S[freq] * interval)
    margin = _duration(master) + 2 * period + timedelta(hours=3)  # overlap, one step, DST
    lag = start - to_local(raw, tz) - margin
    if lag <= period:
        return master
    if not isinstance(raw, datetime) and period < timedelta(days=1):
        return master
    periods = int(lag / period)
    shift = period * periods
    copy = icalendar.Event.from_ical(master.to_ical())
    if rule.get("COUNT"):
        try:
            left = int(rule["COUNT"][0]) - periods
        except (TypeError, ValueError):
            return master
        if left < 1:
            return master  # the series ended before the window: walking it is bounded by COUNT
        new_rule = copy["RRULE"]
        if not isinstance(new_rule, icalendar.vRecur):  # more than one RRULE: not moved
            return master
        new_rule["COUNT"] = [left]
    for key in ("DTSTART", "DTEND"):
        if key in copy:
            _readd(copy, key, time_of(copy, key) + shift)
    return copy


def _readd(comp: icalendar.cal.Component, key: str, value: date) -> None:
    """Replace ``comp``'s date/time property ``key`` by ``value``, keeping its parameters."""
    params = _time_prop(comp, key).params
    comp.pop(key)
    if params:
        comp.add(key.lower(), value, parameters=params)
    else:
        comp.add(key.lower(), value)


def _interval(rule: Any) -> int | None:
    """The rule's INTERVAL (at least 1), or None when it is not a number."""
    try:
        return max(1, int((rule.get("INTERVAL") or [1])[0]))
    except (TypeError, ValueError):
        return None


def _forwarded_calendar(master: icalendar.cal.Component, rule: Any, freq: str, start: datetime, tz: tzinfo) -> icalendar.cal.Component:
    """MONTHLY/YEARLY: moved forward by whole months or years (wall clock kept), when the first
    instance's day exists in every month and the rule has no COUNT, BYSETPOS, BYWEEKNO or
    BYYEARDAY (whose meaning depends on where the series starts)."""
    from dateutil.relativedelta import relativedelta

    if any(rule.get(k) for k in ("COUNT", "BYSETPOS", "BYWEEKNO", "BYYEARDAY")):
        return master
    interval = _interval(rule)
    if interval is None:
        return master
    raw = time_of(master, "DTSTART")
    if raw.day > 28:
        return master
    months = interval * (12 if freq == "YEARLY" else 1)
    first = to_local(raw, tz)
    before = start - _duration(master) - timedelta(days=62 + 31 * months)
    gap = (before.year - first.year) * 12 + before.month - first.month
    periods = gap // months
    if periods < 1:
        return master
    shift = relativedelta(months=periods * months)
    copy = icalendar.Event.from_ical(master.to_ical())
    for key in ("DTSTART", "DTEND"):
        if key in copy:
            _readd(copy, key, time_of(copy, key) + shift)
    return copy


def expand(
    cal: icalendar.Calendar, start: datetime, end: datetime, tz: tzinfo, deadline: float | None = None
) -> list[Event]:
    """Every occurrence overlapping [start, end), recurring events expanded, in ``tz``.

    Raises :class:`CalendarTooLarge` (a Turkish message) when a series or the query would take
    more than the limits above; never runs past ``deadline`` (monotonic; default
    EXPAND_DEADLINE_S from now) between series."""
    import time

    deadline = time.monotonic() + EXPAND_DEADLINE_S if deadline is None else deadline
    masters = recurring_masters(cal.subcomponents)
    zones = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
    by_uid: dict[str | None, list[icalendar.cal.Component]] = {}
    for comp in cal.subcomponents:
        if comp.name == "VEVENT":
            by_uid.setdefault(uid_of(comp), []).append(comp)
    total_steps = 0.0
    out: list[Event] = []
    for uid, comps in by_uid.items():
        if time.monotonic() > deadline:
            raise _too_large(None)
        if not any(is_recurring_component(c) for c in comps):  # plain events: nothing to expand
            for comp in comps:
                ev = occurrence_to_event(comp, tz, masters)
                if ev is not None and ev.overlaps(start, end):
                    out.append(ev)
            if len(out) > MAX_OCCURRENCES * 50:  # a plain event is cheap; this bounds memory only
                raise _too_large(None)
            continue
        master = next((c for c in comps if "RECURRENCE-ID" not in c), None)
        series = list(comps)
        if master is not None and "DTSTART" in master:
            try:
                forwarded = _forwarded(master, start, tz)
                first = to_local(time_of(forwarded, "DTSTART"), tz)
            except Exception:
                forwarded, first = master, None
            if first is not None:
                steps = sum(_rule_steps(rule, first, end)[0] for rule in _rules(forwarded))
                rdate = forwarded.get("RDATE")
                steps += sum(len(getattr(p, "dts", [])) for p in (rdate if isinstance(rdate, list) else [rdate] if rdate else []))
                # occurrences inside the window alone (what the answer would hold): checked before
                # anything is expanded, so a refused query costs next to nothing
                inside = sum(_rule_steps(rule, max(first, start), end)[0] for rule in _rules(forwarded))
                if steps > MAX_STEPS_PER_EVENT or inside > MAX_OCCURRENCES + 1:
                    raise _too_large(master)
                total_steps += steps
                if total_steps > MAX_STEPS_PER_QUERY:
                    raise _too_large(None)
            series = [forwarded if c is master else c for c in comps]
        one = new_calendar()
        one.subcomponents.extend(zones)
        one.subcomponents.extend(series)
        before = len(out)
        try:
            occurrences = recurring_ical_events.of(one, skip_bad_series=True).between(start, end)
        except Exception as exc:
            log.warning("recurring event %s skipped: %s", uid, _short(exc))
            continue
        for occ in occurrences:
            ev = occurrence_to_event(occ, tz, masters)
            if ev is not None and ev.overlaps(start, end):
                out.append(ev)
        if len(out) > MAX_OCCURRENCES:
            raise _too_large(master if master is not None and len(out) - before > MAX_OCCURRENCES // 2 else None)
    out.sort(key=lambda e: (e.start, e.end, e.title))
    return out


# --- writing --------------------------------------------------------------------------------
def _stamp(comp: icalendar.cal.Component) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
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
    comp.add("created", time_of(comp, "DTSTAMP"))
    return comp


def components_for(cal: icalendar.Calendar, uid: str) -> list[icalendar.cal.Component]:
    return [c for c in events_of(cal) if uid_of(c) == uid]


def _master(comps: list[icalendar.cal.Component]) -> icalendar.cal.Component | None:
    return next((c for c in comps if "RECURRENCE-ID" not in c), None)


def _override(comps: list[icalendar.cal.Component], rid: datetime, tz: tzinfo) -> icalendar.cal.Component | None:
    for c in comps:
        if "RECURRENCE-ID" in c and to_local(time_of(c, "RECURRENCE-ID"), tz) == rid:
            return c
    return None


LONG_TZ_FROM = date(2000, 1, 1)


def add_timezones(cal: icalendar.Calendar, compact: bool = False) -> None:
    """Add the VTIMEZONEs the events use. They describe the zone from a year before the earliest
    event (``compact``: one CalDAV object) or from 2000 at the latest (the shared .ics file)."""
    starts = [time_of(c, "DTSTART") for c in events_of(cal) if "DTSTART" in c]
    days = [d.date() if isinstance(d, datetime) else d for d in starts]
    first = (min(days) if days else date.today()) - timedelta(days=366)
    if not compact:
        first = min(first, LONG_TZ_FROM)
    try:
        cal.add_missing_timezones(first_date=first)
    except Exception:  # a zone icalendar cannot describe: TZID alone is still valid for most clients
        pass


def _zones_used(comps: list[icalendar.cal.Component]) -> set[str]:
    out: set[str] = set()
    for comp in comps:
        for key in ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE"):
            props = comp.get(key)
            for prop in props if isinstance(props, list) else [props] if props is not None else []:
                tzid = getattr(prop, "params", {}).get("TZID")
                if tzid:
                    out.add(str(tzid))
                    continue
                dt = getattr(prop, "dt", None)
                zone = getattr(getattr(dt, "tzinfo", None), "key", None)
                if zone and zone != "UTC":
                    out.add(zone)
    return out


def add_timezones_for(cal: icalendar.Calendar, uid: str, compact: bool = False) -> None:
    """Add the VTIMEZONEs that ``uid``'s components need and ``cal`` lacks (without scanning
    every event of a large file)."""
    have = {str(c.get("TZID")) for c in cal.subcomponents if c.name == "VTIMEZONE"}
    comps = components_for(cal, uid)
    if _zones_used(comps) <= have:
        return  # describing a zone takes ~0.2 s: not again when the file has it
    probe = new_calendar()
    for comp in comps:
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
    rid = event.recurrence_id if event.recurring and not series else None
    occurrence = rid is not None
    if rid is not None:
        target = _override(comps, rid, tz)
        if target is None:
            if master is None:
                raise _not_found(event)
            target = icalendar.Event.from_ical(master.to_ical())
            for key in ("RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"):
                target.pop(key, None)
            target.add("recurrence-id", _like(rid, time_of(master, "DTSTART")))
            _set_times(target, event.start, event.end, event.all_day)
            cal.add_component(target)
    else:
        target = master if master is not None else comps[0]
    cur_all_day = not isinstance(time_of(target, "DTSTART"), datetime)
    cur_start = to_local(time_of(target, "DTSTART"), tz)
    if "DTEND" in target:
        cur_end = to_local(time_of(target, "DTEND"), tz)
    elif "DURATION" in target:
        cur_end = cur_start + duration_of(target)
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
        values: list[date] = []
        for prop in props:
            if not isinstance(prop, vDDDLists):
                raise CalendarError("Takvim bileşeninin EXDATE alanı okunamadı.")
            for d in prop.dts:
                if not isinstance(d.dt, date):
                    raise CalendarError("Takvim bileşeninin EXDATE alanı bir tarih değil.")
                values.append(d.dt + delta)
        master.pop("EXDATE")
        for value in values:
            master.add("exdate", value)
    for comp in comps:
        if comp is not master and "RECURRENCE-ID" in comp:
            rid = time_of(comp, "RECURRENCE-ID") + delta
            comp.pop("RECURRENCE-ID")
            comp.add("recurrence-id", rid)


def apply_delete(cal: icalendar.Calendar, event: Event, tz: tzinfo, series: bool = False) -> None:
    comps = components_for(cal, event.uid)
    if not comps:
        raise _not_found(event)
    master = _master(comps)
    rid = event.recurrence_id if event.recurring and not series else None
    if rid is not None and master is not None and ("RRULE" in master or "RDATE" in master):
        override = _override(comps, rid, tz)
        if override is not None:
            cal.subcomponents.remove(override)
        master.add("exdate", _like(rid, time_of(master, "DTSTART")))
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
