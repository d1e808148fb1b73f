"""Timers: "beş dakikalık zamanlayıcı kur", "makarna için on iki dakika"; several at once, named,
kept in a state file (``$XDG_STATE_HOME/bantz/timers.json``) so they survive a daemon restart and
are seen by every process (the daemon fires them; ``ask`` may set them).

A timer's deadline is stored on the boot clock (used while the machine has not rebooted: immune to
wall-clock changes, counts suspend) and on the wall clock (used after a reboot)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bantz_voice.errors import BantzError
from bantz_voice.timers.clock import Clock
from bantz_voice.timers.state import JsonState

MAX_TIMERS = 20  # running at once
KEEP_FIRED_S = 3600.0  # a fired timer is kept this long (snooze, "ne kadar kaldı" says it rang)


class TimerLimit(BantzError):
    pass


@dataclass
class Timer:
    id: str
    name: str | None
    duration_s: float
    started_wall: float
    deadline_wall: float
    boot_id: str
    deadline_boot: float
    fired_wall: float | None = None

    def remaining(self, clock: Clock) -> float:
        """Seconds left (negative once due), on the boot clock when it is still this boot's."""
        if self.boot_id == clock.boot_id():
            return self.deadline_boot - clock.boot()
        return self.deadline_wall - clock.wall()

    def due_wall(self, clock: Clock) -> float:
        """The wall-clock moment it is due, as the clocks stand now."""
        return clock.wall() + self.remaining(clock)

    @property
    def fired(self) -> bool:
        return self.fired_wall is not None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Timer | None:
        try:
            return cls(
                id=str(data["id"]),
                name=data.get("name") or None,
                duration_s=float(data["duration_s"]),
                started_wall=float(data["started_wall"]),
                deadline_wall=float(data["deadline_wall"]),
                boot_id=str(data.get("boot_id", "")),
                deadline_boot=float(data.get("deadline_boot", 0.0)),
                fired_wall=float(data["fired_wall"]) if data.get("fired_wall") is not None else None,
            )
        except (KeyError, TypeError, ValueError):
            return None


class TimerStore:
    def __init__(self, path: Path, clock: Clock | None = None) -> None:
        self.state = JsonState(path)
        self.clock = clock or Clock()

    @property
    def path(self) -> Path:
        return self.state.path

    @staticmethod
    def _timers(data: dict[str, Any]) -> list[Timer]:
        raw = data.get("timers")
        timers = [Timer.from_json(t) for t in raw] if isinstance(raw, list) else []
        return [t for t in timers if t is not None]

    def _prune(self, timers: list[Timer]) -> list[Timer]:
        now = self.clock.wall()
        return [t for t in timers if t.fired_wall is None or now - t.fired_wall < KEEP_FIRED_S]

    def all(self) -> list[Timer]:
        """Every timer, running ones first by time left."""
        timers = self._prune(self._timers(self.state.read()))
        return sorted(timers, key=lambda t: (t.fired, t.remaining(self.clock)))

    def running(self) -> list[Timer]:
        return [t for t in self.all() if not t.fired]

    def add(self, duration_s: float, name: str | None = None) -> Timer:
        c = self.clock
        boot = c.boot()
        wall = c.wall()
        timer = Timer(
            id=uuid.uuid4().hex[:8],
            name=" ".join(name.split()) if name else None,
            duration_s=float(duration_s),
            started_wall=wall,
            deadline_wall=wall + duration_s,
            boot_id=c.boot_id(),
            deadline_boot=boot + duration_s,
        )

        def change(data: dict[str, Any]) -> None:
            timers = self._prune(self._timers(data))
            if sum(not t.fired for t in timers) >= MAX_TIMERS:
                raise TimerLimit(f"En fazla {MAX_TIMERS} zamanlayıcı aynı anda çalışabilir efendim.")
            timers.append(timer)
            data["timers"] = [asdict(t) for t in timers]

        self.state.update(change)
        return timer

    def remove(self, ids: set[str]) -> list[Timer]:
        """Remove the timers with these ids; returns the removed ones."""

        def change(data: dict[str, Any]) -> list[Timer]:
            timers = self._timers(data)
            gone = [t for t in timers if t.id in ids]
            data["timers"] = [asdict(t) for t in self._prune(timers) if t.id not in ids]
            return gone

        return self.state.update(change)

    def mark_fired(self, timer_id: str) -> bool:
        """Record that a timer rang; False when it was gone or had rung already (no double fire)."""
        now = self.clock.wall()

        def change(data: dict[str, Any]) -> bool:
            timers = self._timers(data)
            hit = False
            for t in timers:
                if t.id == timer_id and t.fired_wall is None:
                    t.fired_wall = now
                    hit = True
            data["timers"] = [asdict(t) for t in self._prune(timers)]
            return hit

        return self.state.update(change)
