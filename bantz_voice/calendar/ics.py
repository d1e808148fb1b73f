"""The embedded backend: one standard ``.ics`` file (any calendar app can import it).

Reads parse the file once and keep an index until the file changes (inode, mtime, size); writes
happen under a file lock on a freshly checked copy and replace the file atomically
(:class:`AtomicFile`). A file that does not parse is reported and never written over.

Components a write does not touch are written back byte for byte as they were read (which also
makes a write to a large file cheap: only the changed event is serialized again). An index of the
file (keyed by a hash of its content) is cached in the XDG cache dir, so a fresh process (the CLI)
can answer queries on a large file without parsing all of it, and can change one event by parsing
only that event's text (:mod:`rawfile`)."""

from __future__ import annotations

import bisect
import builtins
import dataclasses
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from bantz_voice.calendar import ical, rawfile
from bantz_voice.calendar.base import CalendarBackend, check_range
from bantz_voice.calendar.errors import CalendarError
from bantz_voice.calendar.model import Event
from bantz_voice.calendar.store import AtomicFile, StatKey

log = logging.getLogger(__name__)


@dataclass
class _Index:
    key: StatKey | None
    cal: icalendar.Calendar | None  # None: loaded from the index cache (parse before writing)
    plain: list[Event]  # non-recurring events, sorted by start
    recurring: icalendar.Calendar  # recurring masters + overrides (+ time zones), expanded per query
    blobs: dict[int, tuple[Any, bytes]]  # id(component) -> (component, its bytes in the file)
    recurring_uids: set[str | None]
    bad: list[str] = dataclasses.field(default_factory=list)  # damaged components, skipped (doctor names them)


_END = b"END:VCALENDAR\r\n"


def serialize(cal: icalendar.Calendar, blobs: dict[int, tuple[Any, bytes]]) -> tuple[bytes, dict[int, tuple[Any, bytes]]]:
    """The file's bytes, reusing the stored bytes of unchanged components."""
    parts: list[bytes] = []
    fresh: dict[int, tuple[Any, bytes]] = {}
    for comp in cal.subcomponents:
        hit = blobs.get(id(comp))
        raw = hit[1] if hit is not None and hit[0] is comp else comp.to_ical()
        fresh[id(comp)] = (comp, raw)
        parts.append(raw)
    subs = cal.subcomponents
    cal.subcomponents = []
    try:
        shell = cal.to_ical()
    finally:
        cal.subcomponents = subs
    if not shell.endswith(_END):  # pragma: no cover - icalendar always ends like this
        return cal.to_ical(), {}
    return shell[: -len(_END)] + b"".join(parts) + _END, fresh


def _build_index(
    cal: icalendar.Calendar,
    key: StatKey | None,
    tz: ZoneInfo,
    blobs: dict[int, tuple[Any, bytes]] | None = None,
    bad: list[str] | None = None,
) -> _Index:
    recurring_uids = {ical.uid_of(c) for c in ical.events_of(cal) if ical.is_recurring_component(c)}
    rec = ical.new_calendar()
    plain: list[Event] = []
    for comp in cal.subcomponents:
        if comp.name == "VTIMEZONE":
            rec.add_component(comp)
        elif comp.name == "VEVENT":
            if ical.uid_of(comp) in recurring_uids:
                rec.add_component(comp)
            else:
                ev = ical.occurrence_to_event(comp, tz, {})
                if ev is not None:
                    plain.append(ev)
    plain.sort(key=lambda e: (e.start, e.end, e.title))
    return _Index(key=key, cal=cal, plain=plain, recurring=rec, blobs=blobs or {}, recurring_uids=recurring_uids, bad=bad or [])


def _index_after_write(
    old: _Index,
    uid: str,
    mine: list[Any],
    zones: list[Any],
    tz: ZoneInfo,
    *,
    key: StatKey,
    cal: icalendar.Calendar | None,
    blobs: dict[int, tuple[Any, bytes]],
) -> _Index:
    """The index after a write that changed only ``uid``'s components, which are now ``mine``
    (both write paths: the parsed calendar and the raw file). The UID's events leave the index
    and its components join it again: as plain events, or — when the UID recurs — in the
    recurring set, with the time zones (``zones``: those the written calendar defines) that set
    does not hold yet. ``old.recurring`` is updated in place (the old index is not used again)."""
    plain = [e for e in old.plain if e.uid != uid]
    recurring, recurring_uids = old.recurring, set(old.recurring_uids)
    is_recurring = any(ical.is_recurring_component(c) for c in mine)
    if uid in recurring_uids or is_recurring:
        for c in ical.components_for(recurring, uid):
            recurring.subcomponents.remove(c)
        recurring_uids.discard(uid)
    if is_recurring:
        have = {str(c.get("TZID")) for c in recurring.subcomponents if c.name == "VTIMEZONE"}
        for z in zones:
            if str(z.get("TZID")) not in have:
                recurring.subcomponents.insert(0, z)
                have.add(str(z.get("TZID")))
        for c in mine:
            recurring.add_component(c)
        recurring_uids.add(uid)
    else:
        for c in mine:
            ev = ical.occurrence_to_event(c, tz, {})
            if ev is not None:
                bisect.insort(plain, ev, key=lambda e: (e.start, e.end, e.title))
    return _Index(key=key, cal=cal, plain=plain, recurring=recurring, blobs=blobs, recurring_uids=recurring_uids, bad=old.bad)


CACHE_VERSION = 2
CACHE_MIN_EVENTS = 200  # small files parse fast enough


def _cache_file(path: Path) -> Path:
    from bantz_voice import paths

    name = hashlib.blake2b(str(path.resolve()).encode(), digest_size=8).hexdigest()
    return paths.cache_dir() / "calendar" / f"index-{name}.json"


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def _save_cache(path: Path, data: bytes, idx: _Index, tz: ZoneInfo) -> None:
    """Best effort: a cache that cannot be written only costs speed."""
    try:
        body = json.dumps(
            {
                "version": CACHE_VERSION,
                "digest": _digest(data),
                "tz": tz.key,
                "plain": [e.model_dump(mode="json") for e in idx.plain],
                "recurring": idx.recurring.to_ical().decode(),
                "recurring_uids": sorted(u for u in idx.recurring_uids if u),
                "bad": idx.bad,
            },
            ensure_ascii=False,
        ).encode()
        target = _cache_file(path)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(body)
        os.replace(tmp, target)
    except Exception as exc:
        log.debug("calendar index cache not written: %s", exc)


def _load_cache(path: Path, data: bytes, key: StatKey | None, tz: ZoneInfo) -> _Index | None:
    try:
        raw = json.loads(_cache_file(path).read_bytes())
        if raw.get("version") != CACHE_VERSION or raw.get("tz") != tz.key or raw.get("digest") != _digest(data):
            return None
        plain = []
        for d in raw["plain"]:
            for k in ("start", "end", "recurrence_id"):
                if d.get(k):
                    d[k] = datetime.fromisoformat(d[k]).astimezone(tz)
            plain.append(Event(**d))
        recurring = icalendar.Calendar.from_ical(raw["recurring"])
        return _Index(
            key=key, cal=None, plain=plain, recurring=recurring, blobs={}, recurring_uids=set(raw["recurring_uids"]),
            bad=[str(b) for b in raw.get("bad", [])],
        )
    except FileNotFoundError:
        return None
    except Exception as exc:
        log.debug("calendar index cache ignored: %s", exc)
        return None


class IcsCalendar(CalendarBackend):
    keep_parsed = True  # False: after a write keep only the index (later edits work on raw text)

    def __init__(self, path: Path, tz: ZoneInfo, lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.tz = tz
        self.file = AtomicFile(self.path, lock_timeout=lock_timeout)
        self._index: _Index | None = None
        self._mutex = threading.RLock()

    # --- reading ----------------------------------------------------------------------------
    def _load(self, full: bool = False) -> _Index:
        """The index of the file as it is now; ``full`` also parses every component (writes)."""
        with self._mutex:
            key = self.file.stat_key()
            idx = self._index
            if idx is not None and idx.key == key and (idx.cal is not None or not full):
                return idx
            data, key = self.file.read()
            blobs: dict[int, tuple[Any, bytes]] = {}
            bad: list[str] = []
            if data is None or not data.strip():
                cal = ical.new_calendar()
            else:
                if not full:
                    cached = _load_cache(self.path, data, key, self.tz)
                    if cached is not None:
                        self._index = cached
                        return cached
                try:
                    cal, blobs, bad = ical.parse_components(data, str(self.path))
                except CalendarError as exc:
                    if self.file.backup.is_file():
                        raise CalendarError(f"{str(exc).rstrip('.')}. Önceki sürüm: {self.file.backup}") from exc
                    raise
                if bad:
                    log.warning("calendar %s: %d damaged component(s) skipped (kept as they are in the file)", self.path, len(bad))
            self._index = _build_index(cal, key, self.tz, blobs, bad)
            if data and len(self._index.plain) >= CACHE_MIN_EVENTS:
                _save_cache(self.path, data, self._index, self.tz)
            return self._index

    def problems(self) -> builtins.list[str]:
        return list(self._load().bad)

    def _cal(self) -> icalendar.Calendar:
        cal = self._load(full=True).cal
        assert cal is not None
        return cal

    def list(self, start: datetime, end: datetime) -> builtins.list[Event]:
        start, end = self.local(start), self.local(end)
        check_range(start, end)
        idx = self._load()
        out = [e for e in idx.plain if e.start <= end and e.overlaps(start, end)]
        if idx.recurring.subcomponents:
            out.extend(ical.expand(idx.recurring, start, end, self.tz))
        out.sort(key=lambda e: (e.start, e.end, e.title))
        return out

    def get(self, uid: str) -> Event | None:
        return ical.master_event(self._uid_view(uid), uid, self.tz)

    def snapshot(self, uid: str) -> str | None:
        sub = ical.uid_calendar(self._uid_view(uid), uid)
        return sub.to_ical().decode() if sub is not None else None

    # --- one UID without parsing the whole file ----------------------------------------------
    def _raw_state(self) -> tuple[_Index, rawfile.RawCalendar] | None:
        """The file as raw components plus its verified index, for a process that has not
        parsed the file (only its index cache). None: use the fully parsed calendar."""
        idx = self._index
        if idx is not None and idx.cal is not None:
            return None  # parsed already: working on the parsed calendar is cheap
        data, key = self.file.read()
        if not data:
            return None
        current = idx if idx is not None and idx.key == key else _load_cache(self.path, data, key, self.tz)
        raw = rawfile.split(data) if current is not None else None
        if current is None or raw is None:
            return None
        self._index = current
        return current, raw

    @staticmethod
    def _mini(raw: rawfile.RawCalendar, uid: str) -> tuple[icalendar.Calendar, builtins.list[int], set[str]]:
        """A small VCALENDAR with the time zones and ``uid``'s components, their chunk positions,
        and the TZIDs the file already defines."""
        zones = [c for c in raw.chunks if rawfile.kind(c) == "VTIMEZONE"]
        positions = [i for i, c in enumerate(raw.chunks) if rawfile.kind(c) == "VEVENT" and rawfile.uid(c) == uid]
        text = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + ical.PRODID.encode() + b"\r\n"
        text += b"".join(zones) + b"".join(raw.chunks[i] for i in positions) + rawfile.END
        mini = ical.parse(text, "takvim dosyası")
        have = {str(c.get("TZID")) for c in mini.subcomponents if c.name == "VTIMEZONE"}
        return mini, positions, have

    def _uid_view(self, uid: str) -> icalendar.Calendar:
        with self._mutex:
            state = self._raw_state()
            if state is None:
                return self._cal()
            return self._mini(state[1], uid)[0]

    def _change(self, uid: str, change: Callable[[icalendar.Calendar], Any]) -> icalendar.Calendar:
        """Apply ``change`` to ``uid``'s components and write the file; returns a calendar that
        holds ``uid``'s components as they are now."""
        with self._mutex:
            if self._raw_state() is not None:
                with self.file.locked():
                    state = self._raw_state()  # re-checked under the lock
                    if state is not None:
                        return self._change_raw(state[0], state[1], uid, change)
            return self._mutate(uid, change)

    def _change_raw(
        self, idx: _Index, raw: rawfile.RawCalendar, uid: str, change: Callable[[icalendar.Calendar], Any]
    ) -> icalendar.Calendar:
        mini, positions, had_zones = self._mini(raw, uid)
        change(mini)
        new_zones = [c.to_ical() for c in mini.subcomponents if c.name == "VTIMEZONE" and str(c.get("TZID")) not in had_zones]
        mine = ical.components_for(mini, uid)
        chunks: builtins.list[bytes] = []
        for i, chunk in enumerate(raw.chunks):
            if i in positions:
                if i == positions[0]:
                    chunks.extend(c.to_ical() for c in mine)
                continue
            chunks.append(chunk)
        if not positions:
            chunks.extend(c.to_ical() for c in mine)
        data = rawfile.RawCalendar(raw.head, new_zones + chunks).to_bytes()
        key = self.file.write(data)
        zones = [c for c in mini.subcomponents if c.name == "VTIMEZONE"]
        self._written(_index_after_write(idx, uid, mine, zones, self.tz, key=key, cal=None, blobs={}), data)
        log.debug("calendar written (one event re-serialized): %s", self.path)
        return mini

    def _written(self, idx: _Index, data: bytes) -> None:
        """Keep the index of what was just written, and cache it: always when it holds no parsed
        calendar (the next write works from the cache), else for a large file."""
        if idx.cal is None or len(idx.plain) >= CACHE_MIN_EVENTS:
            _save_cache(self.path, data, idx, self.tz)
            if not self.keep_parsed:
                idx = dataclasses.replace(idx, cal=None, blobs={})
        self._index = idx

    # --- writing ----------------------------------------------------------------------------
    def _mutate(self, uid: str, change: Callable[[icalendar.Calendar], Any]) -> icalendar.Calendar:
        """Apply ``change`` (which touches only ``uid``'s components) to the parsed calendar and
        write the file; returns a calendar holding ``uid``'s components as they are now."""
        with self._mutex:
            self._load(full=True)  # the slow parse happens before taking the lock
            with self.file.locked():
                return self._mutate_locked(uid, change)

    def _mutate_locked(self, uid: str, change: Callable[[icalendar.Calendar], Any]) -> icalendar.Calendar:
        """The read-modify-write itself; the caller holds the file lock."""
        idx = self._load(full=True)  # re-checked under the lock: another process may have written
        cal, blobs = idx.cal, idx.blobs
        assert cal is not None
        self._index = None  # the parsed calendar is about to change
        for comp in ical.components_for(cal, uid):
            blobs.pop(id(comp), None)
        change(cal)
        view = ical.new_calendar()
        view.subcomponents.extend(ical.components_for(cal, uid))
        data, blobs = serialize(cal, blobs)
        key = self.file.write(data)
        zones = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
        self._written(_index_after_write(idx, uid, view.subcomponents, zones, self.tz, key=key, cal=cal, blobs=blobs), data)
        log.debug("calendar written: %s (%d bytes)", self.path, len(data))
        return view

    def create(
        self, title: str, start: datetime | date, end: datetime | date | None = None, all_day: bool = False, *, rrule: str | None = None
    ) -> Event:
        s, e = ical.normalize_times(start, end, all_day, self.tz)
        comp = ical.build_event(title, s, e, all_day, rrule=rrule)

        def change(cal: icalendar.Calendar) -> None:
            cal.add_component(comp)
            ical.add_timezones_for(cal, ical.uid_of(comp) or "")

        ev = ical.occurrence_to_event(comp, self.tz, ical.recurring_masters([comp]))
        assert ev is not None
        self._change(ical.uid_of(comp) or "", change)
        return ev

    def update(self, event: Event, *, series: bool = False, **fields: Any) -> Event:
        cal = self._change(event.uid, lambda cal: ical.apply_update(cal, event, fields, self.tz, series=series))
        return ical.event_after_change(cal, event, self.tz, series)

    def delete(self, event: Event, *, series: bool = False) -> None:
        self._change(event.uid, lambda cal: ical.apply_delete(cal, event, self.tz, series=series))

    def restore(self, uid: str, data: str | None) -> None:
        new = ical.parse(data, "geri alma kaydı") if data is not None else None

        def change(cal: icalendar.Calendar) -> None:
            for c in ical.components_for(cal, uid):
                cal.subcomponents.remove(c)
            if new is not None:
                have = {str(c.get("TZID")) for c in cal.subcomponents if c.name == "VTIMEZONE"}
                for c in new.subcomponents:
                    if c.name == "VTIMEZONE" and str(c.get("TZID")) in have:
                        continue
                    cal.add_component(c)

        self._change(uid, change)


