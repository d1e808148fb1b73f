"""The alarm scheduler of the daemon: fires timers and calendar alarms when they are due.

At the due time: the firing is recorded first (``alarms.json`` / the timer's ``fired_wall``: a
restart never fires it twice), a desktop notification is shown, then — once no reply is playing
and nobody is talking to Bantz (queued until then) — an earcon and the Turkish sentence, repeated
``reminders.ring_repeats`` times ``ring_interval_s`` apart unless "tamam"/"sustur" stops it.

Time: each pass compares the wall clock with the due times of everything since the previous pass,
so an alarm that fell into a suspend (or a wall-clock jump) is found on the first pass after it;
the scheduler never sleeps longer than ``max_sleep_s`` (``asyncio.sleep`` runs on
``CLOCK_MONOTONIC``, which stops while the machine sleeps). One fired more than ``late_s`` late
(the machine slept, the daemon was down) is announced once as missed if it is not older than
``missed_limit_s``; older ones are recorded silently. Reminders are wall-clock moments in the
user's zone (a daily 08:00 stays 08:00 across a DST change); timers count real elapsed time."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bantz_voice import paths
from bantz_voice.config import Settings
from bantz_voice.timers.clock import Clock
from bantz_voice.timers.reminders import AlarmDue, CalendarReminders
from bantz_voice.timers.state import JsonState
from bantz_voice.timers.store import TimerStore

log = logging.getLogger(__name__)

ALIVE_EVERY_S = 60.0  # how often "the scheduler was running at" is written
JUMP_S = 30.0  # wall clock moved this much more (or less) than the boot clock: re-read everything
KEEP_FIRED_S = 3 * 86400.0


def timers_path(settings: Settings) -> Path:
    p = settings.reminders.timers_path
    return Path(p).expanduser() if p else paths.state_dir() / "timers.json"


def state_path(settings: Settings) -> Path:
    p = settings.reminders.state_path
    return Path(p).expanduser() if p else paths.state_dir() / "alarms.json"


@dataclass
class Firing:
    kind: Literal["timer", "reminder"]
    key: str
    title: str | None
    due_wall: float
    missed: bool = False
    timer_id: str | None = None
    duration_s: float | None = None
    alarm: AlarmDue | None = None


class Announcer:
    """Where a firing goes. The daemon's speaks and shows notifications; the defaults do nothing."""

    def busy(self) -> bool:
        """True while a reply plays or a request is being heard or answered."""
        return False

    async def earcon(self) -> None:
        return None

    async def speak(self, text: str) -> None:
        return None

    def notify(self, title: str, body: str) -> None:
        return None


class AlarmLog:
    """``alarms.json``: keys of fired alarms (pruned after a few days), the last firing (for
    snooze), when the scheduler last ran, and a change counter the tools bump."""

    def __init__(self, path: Path) -> None:
        self.state = JsonState(path)

    def read(self) -> dict[str, Any]:
        return self.state.read()

    def fired_keys(self) -> set[str]:
        fired = self.read().get("fired")
        return set(fired) if isinstance(fired, dict) else set()

    def record(self, keys: list[str], now: float, last: dict[str, Any] | None) -> list[str]:
        """Record ``keys`` as fired; returns those not recorded before (the ones to fire)."""

        def change(data: dict[str, Any]) -> list[str]:
            old = data.get("fired")
            fired = {k: v for k, v in (old if isinstance(old, dict) else {}).items() if isinstance(v, (int, float)) and now - v < KEEP_FIRED_S}
            new = [k for k in keys if k not in fired]
            for k in new:
                fired[k] = now
            data["fired"] = fired
            if last is not None and new:
                data["last"] = last
            data["alive"] = now
            return new

        return self.state.update(change)

    def alive(self, now: float) -> None:
        self.state.update(lambda data: data.__setitem__("alive", now))

    def changed(self) -> None:
        """The tools changed a reminder: a running scheduler reads the calendar again."""
        self.state.update(lambda data: data.__setitem__("generation", int(data.get("generation", 0)) + 1))

    def last(self) -> dict[str, Any] | None:
        last = self.read().get("last")
        return last if isinstance(last, dict) else None


def _duration_words(seconds: float) -> str:
    secs = int(round(seconds))
    h, rest = divmod(secs, 3600)
    m, s = divmod(rest, 60)
    parts = [f"{h} saat" if h else "", f"{m} dakika" if m else "", f"{s} saniye" if s else ""]
    return " ".join(p for p in parts if p) or "0 saniye"


def _lik(words: str) -> str:
    """"5 dakika" -> "5 dakikalık", "1 saat" -> "1 saatlik", "45 saniye" -> "45 saniyelik"."""
    return words + ("lık" if words.endswith("dakika") else "lik")


def _at(when: datetime) -> str:
    try:
        from bantz_voice.turkish.speak import time_words

        return time_words(when, "loc")  # "sabah sekizde"
    except Exception:
        return f"saat {when:%H:%M}"


def firing_text(f: Firing, tz: ZoneInfo) -> str:
    """The Turkish sentence said (and shown) for a firing."""
    when = datetime.fromtimestamp(f.due_wall, tz)
    if f.kind == "timer":
        what = f"{f.title} zamanlayıcısı" if f.title else f"{_lik(_duration_words(f.duration_s or 0))} zamanlayıcı"
        if f.missed:
            return f"Efendim, {what} ben kapalıyken {_at(when)} doldu."
        return f"Efendim, {what} doldu."
    a = f.alarm
    title = (f.title or "").strip() or "hatırlatma"
    if f.missed:
        return f"Efendim, kaçırılan hatırlatma: {_at(when)}, {title}."
    if a is not None and a.lead is not None and a.lead > timedelta(0):
        return f"Efendim, {_duration_words(a.lead.total_seconds())} sonra: {title}."
    if a is not None and a.ours:
        return f"Efendim, hatırlatma: {title}."
    return f"Efendim, şimdi: {title}."


@dataclass
class _Seen:
    wall: float = 0.0
    boot: float = 0.0


class AlarmScheduler:
    def __init__(
        self,
        settings: Settings,
        announcer: Announcer | None = None,
        *,
        clock: Clock | None = None,
        timers: TimerStore | None = None,
        reminders: CalendarReminders | None = None,
        alarm_log: AlarmLog | None = None,
    ) -> None:
        self.settings = settings
        self.cfg = settings.reminders
        self.tz = ZoneInfo(settings.brain.timezone)
        self.clock = clock or Clock()
        self.announcer = announcer or Announcer()
        self.timers = timers or TimerStore(timers_path(settings), self.clock)
        self._reminders = reminders
        self.log = alarm_log or AlarmLog(state_path(settings))
        self.fired: list[Firing] = []  # what this process fired (status, tests)
        self.spoken: list[str] = []
        self.ringing: Firing | None = None
        self._wake = asyncio.Event()
        self._stop_ring = asyncio.Event()
        self._cache: list[AlarmDue] = []
        self._cache_at: float | None = None
        self._generation: Any = None
        self._since: float | None = None
        self._seen = _Seen()
        self._alive_at = 0.0
        self._queue: asyncio.Queue[list[Firing]] = asyncio.Queue()
        self.passes = 0
        self.pass_done = asyncio.Event()  # set after every pass (tests wait on it)

    # --- sources -----------------------------------------------------------------------------
    @property
    def reminders(self) -> CalendarReminders | None:
        if self._reminders is None:
            try:
                from bantz_voice.calendar import open_calendar

                self._reminders = CalendarReminders(open_calendar(self.settings))
            except Exception as exc:
                log.warning("calendar alarms unavailable: %s", exc)
                return None
        return self._reminders

    def poke(self) -> None:
        """Something changed (a timer or reminder was set): look again now."""
        self._cache_at = None
        self._wake.set()

    def stop_ringing(self) -> bool:
        """"tamam"/"sustur": stop a ringing alarm. False when nothing rings."""
        if self.ringing is None:
            return False
        self._stop_ring.set()
        return True

    # --- one pass ----------------------------------------------------------------------------
    async def check(self) -> list[Firing]:
        """Find what is due now, record it and queue it for announcing; returns it."""
        now = self.clock.wall()
        boot = self.clock.boot()
        cfg = self.cfg
        if self._since is None:  # first pass: what fell due while the daemon was down
            alive = self.log.read().get("alive")
            start = float(alive) if isinstance(alive, (int, float)) else now
            self._since = max(min(start, now), now - cfg.missed_limit_s)
        elif abs((now - self._seen.wall) - (boot - self._seen.boot)) > JUMP_S:
            log.info("wall clock moved by %.0f s against the boot clock", (now - self._seen.wall) - (boot - self._seen.boot))
            self._cache_at = None
            self._since = max(min(self._since, now), now - cfg.missed_limit_s)
        self._seen = _Seen(now, boot)
        since = self._since
        due: list[Firing] = []
        for t in self.timers.all():
            if t.fired:
                continue
            left = t.remaining(self.clock)
            if left <= 0:
                due_wall = now + left
                due.append(Firing("timer", f"timer|{t.id}", t.name, due_wall, now - due_wall > cfg.late_s, t.id, t.duration_s))
        await self._refresh(now)
        fired = self.log.fired_keys()
        for a in self._cache:
            at = a.at.timestamp()
            if since - 1.0 <= at <= now and a.key not in fired:
                due.append(Firing("reminder", a.key, a.title, at, now - at > cfg.late_s, alarm=a))
        self._since = now
        if now - self._alive_at >= ALIVE_EVERY_S:
            self._alive_at = now
            await asyncio.to_thread(self.log.alive, now)
        out = await asyncio.to_thread(self._record, due, now)
        if out:
            self.fired.extend(out)
            self._queue.put_nowait(out)
        self.passes += 1
        self.pass_done.set()
        return out

    def _record(self, due: list[Firing], now: float) -> list[Firing]:
        out: list[Firing] = []
        for f in due:
            if f.kind == "timer" and f.timer_id and self.timers.mark_fired(f.timer_id):
                out.append(f)
        reminders = [f for f in due if f.kind == "reminder"]
        if reminders or out:
            last_f = (out + reminders)[-1]
            last = {
                "kind": last_f.kind,
                "key": last_f.key,
                "title": last_f.title,
                "uid": last_f.alarm.uid if last_f.alarm else None,
                "ours": bool(last_f.alarm and last_f.alarm.ours),
                "fired_wall": now,
                "duration_s": last_f.duration_s,
            }
            new = set(self.log.record([f.key for f in reminders], now, last))
            out += [f for f in reminders if f.key in new]
        # a missed one older than the limit is recorded, never said; of several missed
        # occurrences of one event only the latest is said
        keep: list[Firing] = []
        latest: dict[str, Firing] = {}
        for f in out:
            if f.missed and now - f.due_wall > self.cfg.missed_limit_s:
                log.info("missed alarm too old to announce (%.0f s)", now - f.due_wall)
                continue
            uid = f.alarm.uid if f.alarm else f.key
            if f.missed and (uid not in latest or latest[uid].due_wall < f.due_wall):
                latest[uid] = f
            elif not f.missed:
                keep.append(f)
        return sorted(keep + list(latest.values()), key=lambda f: f.due_wall)

    async def _refresh(self, now: float) -> None:
        gen = self.log.read().get("generation")
        changed = gen != self._generation or self._cache_at is None
        if gen != self._generation:
            self._generation = gen
            self._cache_at = None
        if self._cache_at is not None and now - self._cache_at < self.cfg.refresh_s:
            return
        rem = self.reminders
        if rem is None:
            return
        if changed:
            rem.forget()  # a reminder was set, snoozed or cancelled (maybe by another process)
        assert self._since is not None
        start = datetime.fromtimestamp(min(self._since, now) - 1.0, UTC)
        end = datetime.fromtimestamp(now + self.cfg.refresh_s + self.cfg.max_sleep_s + 1.0, UTC)
        try:
            self._cache = await asyncio.to_thread(rem.alarms, start, end)
            self._cache_at = now
        except Exception as exc:
            log.warning("calendar alarms not read: %s", exc)
            self._cache_at = now  # try again after refresh_s

    def next_wait(self) -> float:
        """Seconds until the next check: the next due time, at most ``max_sleep_s``."""
        now = self.clock.wall()
        wait = self.cfg.max_sleep_s
        for t in self.timers.running():
            wait = min(wait, t.remaining(self.clock))
        for a in self._cache:
            at = a.at.timestamp()
            if at > now:
                wait = min(wait, at - now)
        if self._cache_at is not None:
            wait = min(wait, self._cache_at + self.cfg.refresh_s - now)
        return max(0.05, wait)

    # --- the loops ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Check, announce and sleep until cancelled."""
        speaker = asyncio.create_task(self._announce_loop(), name="alarm-announce")
        try:
            while True:
                try:
                    await self.check()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("alarm check failed")
                self._wake.clear()
                sleep = asyncio.ensure_future(self.clock.sleep(self.next_wait()))
                woke = asyncio.ensure_future(self._wake.wait())
                try:
                    await asyncio.wait({sleep, woke}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    sleep.cancel()
                    woke.cancel()
        finally:
            speaker.cancel()
            await asyncio.gather(speaker, return_exceptions=True)
            try:
                await asyncio.to_thread(self.log.alive, self.clock.wall())
            except Exception:
                pass

    async def _announce_loop(self) -> None:
        while True:
            batch = await self._queue.get()
            try:
                await self._announce(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("announcing an alarm failed")

    async def _wait_quiet(self) -> None:
        while self.announcer.busy():
            await asyncio.sleep(0.2)

    async def _announce(self, batch: list[Firing]) -> None:
        texts = [firing_text(f, self.tz) for f in batch]
        for f, text in zip(batch, texts):
            title = "Zamanlayıcı" if f.kind == "timer" else ("Kaçırılan hatırlatma" if f.missed else "Hatırlatma")
            self.announcer.notify(title, text.removeprefix("Efendim, "))
        text = " ".join(texts)
        self.ringing = batch[-1]
        self._stop_ring.clear()
        repeats = 1 if all(f.missed for f in batch) else self.cfg.ring_repeats
        try:
            for n in range(repeats):
                await self._wait_quiet()  # never in the middle of another reply
                if self._stop_ring.is_set():
                    break
                await self.announcer.earcon()
                await self.announcer.speak(text)
                self.spoken.append(text)
                if n + 1 < repeats:
                    try:
                        await asyncio.wait_for(self._stop_ring.wait(), self.cfg.ring_interval_s)
                        break
                    except TimeoutError:
                        pass
        finally:
            self.ringing = None
