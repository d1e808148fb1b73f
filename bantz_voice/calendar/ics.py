"""The embedded backend: one standard ``.ics`` file (any calendar app can import it).

Reads parse the file once and keep an index until the file changes (inode, mtime, size); writes
happen under a file lock on a freshly checked copy and replace the file atomically
(:class:`AtomicFile`). A file that does not parse is reported and never written over.

Components a write does not touch are written back byte for byte as they were read (which also
makes a write to a large file cheap: only the changed event is serialized again). A read-only
index of the file (keyed by a hash of its content) is cached in the XDG cache dir, so a fresh
process (the CLI) can answer queries on a large file without parsing all of it."""

from __future__ import annotations

import bisect
import builtins
import hashlib
import json
import os
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import icalendar

from bantz_voice.calendar import ical
from bantz_voice.calendar.base import CalendarBackend, check_range
from bantz_voice.calendar.errors import CalendarError
from bantz_voice.calendar.model import Event
from bantz_voice.calendar.store import AtomicFile, StatKey

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class _Index:
    key: StatKey | None
    cal: icalendar.Calendar | None  # None: loaded from the index cache (parse before writing)
    plain: list[Event]  # non-recurring events, sorted by start
    recurring: icalendar.Calendar  # recurring masters + overrides (+ time zones), expanded per query
    blobs: dict[int, tuple[Any, bytes]]  # id(component) -> (component, its bytes in the file)
    recurring_uids: set[str | None]


_END = b"END:VCALENDAR\r\n"


def split_components(data: bytes) -> list[bytes]:
    """The raw text of each top-level component of a VCALENDAR, lines ending in CRLF."""
    chunks: list[bytes] = []
    current: list[bytes] | None = None
    depth = 0
    for line in data.splitlines():
        head = line[:6].upper()
        if head.startswith(b"BEGIN:"):
            depth += 1
            if depth == 2:
                current = []
        if current is not None:
            current.append(line + b"\r\n")
        if head.startswith(b"END:"):
            if depth == 2 and current is not None:
                chunks.append(b"".join(current))
                current = None
            depth -= 1
    return chunks


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
    cal: icalendar.Calendar, key: StatKey | None, tz: ZoneInfo, blobs: dict[int, tuple[Any, bytes]] | None = None
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
    return _Index(key=key, cal=cal, plain=plain, recurring=rec, blobs=blobs or {}, recurring_uids=recurring_uids)


def _reindex(old: _Index, cal: icalendar.Calendar, uid: str, key: StatKey, tz: ZoneInfo, blobs: dict[int, tuple[Any, bytes]]) -> _Index:
    """The index after a write that touched only ``uid`` (full rebuild when recurrence is involved)."""
    comps = ical.components_for(cal, uid)
    if uid in old.recurring_uids or any(ical.is_recurring_component(c) for c in comps):
        return _build_index(cal, key, tz, blobs)
    plain = [e for e in old.plain if e.uid != uid]
    for comp in comps:
        ev = ical.occurrence_to_event(comp, tz, {})
        if ev is not None:
            bisect.insort(plain, ev, key=lambda e: (e.start, e.end, e.title))
    return _Index(key=key, cal=cal, plain=plain, recurring=old.recurring, blobs=blobs, recurring_uids=old.recurring_uids)


CACHE_VERSION = 1
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
            },
            ensure_ascii=False,
        ).encode()
        target = _cache_file(path)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(body)
        os.replace(tmp, target)
    except Exception as exc:  # noqa: BLE001
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
        return _Index(key=key, cal=None, plain=plain, recurring=recurring, blobs={}, recurring_uids=set(raw["recurring_uids"]))
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged cache is ignored
        log.debug("calendar index cache ignored: %s", exc)
        return None


class IcsCalendar(CalendarBackend):
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
            if data is None or not data.strip():
                cal = ical.new_calendar()
            else:
                if not full:
                    cached = _load_cache(self.path, data, key, self.tz)
                    if cached is not None:
                        self._index = cached
                        return cached
                try:
                    cal = ical.parse(data, str(self.path))
                except CalendarError as exc:
                    if self.file.backup.is_file():
                        raise CalendarError(f"{str(exc).rstrip('.')}. Önceki sürüm: {self.file.backup}") from exc
                    raise
                chunks = split_components(data)
                if len(chunks) == len(cal.subcomponents):
                    blobs = {id(c): (c, raw) for c, raw in zip(cal.subcomponents, chunks)}
            self._index = _build_index(cal, key, self.tz, blobs)
            if data and len(self._index.plain) >= CACHE_MIN_EVENTS:
                _save_cache(self.path, data, self._index, self.tz)
            return self._index

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
        return ical.master_event(self._cal(), uid, self.tz)

    def snapshot(self, uid: str) -> str | None:
        sub = ical.uid_calendar(self._cal(), uid)
        return sub.to_ical().decode() if sub is not None else None

    # --- writing ----------------------------------------------------------------------------
    def _mutate(self, uid: str, change: Callable[[icalendar.Calendar], T]) -> T:
        """Apply ``change`` (which touches only ``uid``'s components) and write the file."""
        with self._mutex:
            self._load(full=True)  # the slow parse happens before taking the lock
            with self.file.locked():
                return self._mutate_locked(uid, change)

    def _mutate_locked(self, uid: str, change: Callable[[icalendar.Calendar], T]) -> T:
        """The read-modify-write itself; the caller holds the file lock."""
        idx = self._load(full=True)  # re-checked under the lock: another process may have written
        cal, blobs = idx.cal, idx.blobs
        assert cal is not None
        self._index = None  # the parsed calendar is about to change
        for comp in ical.components_for(cal, uid):
            blobs.pop(id(comp), None)
        result = change(cal)
        data, blobs = serialize(cal, blobs)
        key = self.file.write(data)
        self._index = _reindex(idx, cal, uid, key, self.tz, blobs)
        if len(self._index.plain) >= CACHE_MIN_EVENTS:
            _save_cache(self.path, data, self._index, self.tz)
        log.debug("calendar written: %s (%d bytes)", self.path, len(data))
        return result

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
        if not rrule and self._append_without_parsing(comp, ev):
            return ev
        self._mutate(ical.uid_of(comp) or "", change)
        return ev

    def _append_without_parsing(self, comp: icalendar.Event, ev: Event) -> bool:
        """Fast create for a process that has not parsed a large file (only its cached index):
        append the new event's text to the hash-verified file instead of parsing all of it.
        False: not possible here (no valid index cache, small file), use the normal path."""
        with self._mutex:
            idx = self._index
            if idx is not None and idx.cal is not None:
                return False  # fully parsed already: the normal path is cheap
            with self.file.locked():
                data, key = self.file.read()
                if idx is not None and idx.key == key:
                    current: _Index | None = idx  # unchanged since the cache was verified
                else:  # another process wrote: its cache entry must match the new content
                    current = _load_cache(self.path, data, key, self.tz) if data else None
                body = data.rstrip() if data else b""
                if current is None or not body.upper().endswith(_END.strip()):
                    return False
                vtimezones = b""
                if not ev.all_day and f"TZID:{self.tz.key}".encode() not in data:
                    probe = ical.new_calendar()
                    probe.add_component(comp)
                    ical.add_timezones(probe)
                    vtimezones = b"".join(c.to_ical() for c in probe.subcomponents if c.name == "VTIMEZONE")
                new = body[: -len(_END.strip())] + vtimezones + comp.to_ical() + _END
                key = self.file.write(new)
                plain = list(current.plain)
                bisect.insort(plain, ev, key=lambda e: (e.start, e.end, e.title))
                self._index = _Index(
                    key=key, cal=None, plain=plain, recurring=current.recurring, blobs={}, recurring_uids=current.recurring_uids
                )
                _save_cache(self.path, new, self._index, self.tz)
                log.debug("calendar appended: %s", self.path)
                return True

    def update(self, event: Event, *, series: bool = False, **fields: Any) -> Event:
        self._mutate(event.uid, lambda cal: ical.apply_update(cal, event, fields, self.tz, series=series))
        return ical.event_after_change(self._cal(), event, self.tz, series)

    def delete(self, event: Event, *, series: bool = False) -> None:
        self._mutate(event.uid, lambda cal: ical.apply_delete(cal, event, self.tz, series=series))

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

        self._mutate(uid, change)


