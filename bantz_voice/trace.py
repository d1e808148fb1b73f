"""Per-turn timing trace: monotonic timestamps for every stage (``None`` = stage did not run)."""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STAGES: tuple[str, ...] = (
    "speech_start",
    "speech_end",
    "endpoint",
    "asr_done",
    "route_done",
    "plan_done",
    "llm_first_token",
    "first_chunk_text",
    "tts_first_audio",
    "playback_start",
    "turn_done",
)


@dataclass
class TurnTrace:
    """Stage timestamps in ``time.monotonic()`` seconds. ``origin`` is the start of the audio."""

    origin: float = field(default_factory=time.monotonic)
    speech_start: float | None = None
    speech_end: float | None = None
    endpoint: float | None = None
    asr_done: float | None = None
    route_done: float | None = None
    plan_done: float | None = None
    llm_first_token: float | None = None
    first_chunk_text: float | None = None
    tts_first_audio: float | None = None
    playback_start: float | None = None
    turn_done: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def mark(self, stage: str, at: float | None = None, *, first: bool = True) -> None:
        """Record ``stage`` now (or ``at``). With ``first`` an existing mark is kept."""
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        if first and getattr(self, stage) is not None:
            return
        setattr(self, stage, time.monotonic() if at is None else at)

    def ms(self) -> dict[str, float | None]:
        """Stages in milliseconds relative to ``origin``."""
        out: dict[str, float | None] = {}
        for name in STAGES:
            v = getattr(self, name)
            out[name] = None if v is None else round((v - self.origin) * 1000.0, 1)
        return out

    def _delta(self, a: str, b: str) -> float | None:
        va, vb = getattr(self, a), getattr(self, b)
        return None if va is None or vb is None else round((vb - va) * 1000.0, 1)

    @property
    def spoken_latency_ms(self) -> float | None:
        return self._delta("speech_end", "playback_start")

    @property
    def reply_latency_ms(self) -> float | None:
        return self._delta("endpoint", "playback_start")

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.ms(),
            "spoken_latency_ms": self.spoken_latency_ms,
            "reply_latency_ms": self.reply_latency_ms,
            "meta": dict(self.meta),
        }


class TraceLog:
    """Appends one JSON line per turn to ``<state dir>/traces.jsonl`` (no transcript text; every
    string in it, error messages included, PII-scrubbed).

    Bounded: once the file reaches ``max_bytes`` it becomes ``traces.jsonl.1`` (older ones shift
    up to ``.<keep>``, the oldest is deleted), so the traces never take more than about
    ``(keep + 1) * max_bytes``. An ``flock`` on the file serialises the daemon and CLI runs."""

    def __init__(self, path: Path, max_bytes: int = 5 * 1024 * 1024, keep: int = 3) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep

    def append(self, trace: TurnTrace, **extra: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        from bantz_voice.privacy import scrub_value

        record = scrub_value({"ts": time.time(), **trace.to_dict(), **extra})
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self.path.open("ab") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # released when the file closes
            st = os.fstat(fh.fileno())
            if st.st_size and st.st_size + len(line) > self.max_bytes and self._is_current(st):
                self._rotate()
                with self.path.open("ab") as fresh:
                    fresh.write(line)
                return
            fh.write(line)  # (a file another process just rotated away: the line lands in .1)

    def _is_current(self, st: os.stat_result) -> bool:
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return False
        return (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)

    def rotated(self) -> list[Path]:
        """The kept old files, newest first."""
        return [p for i in range(1, self.keep + 1) if (p := self._nth(i)).exists()]

    def _nth(self, i: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{i}")

    def _rotate(self) -> None:
        if self.keep <= 0:
            self.path.unlink(missing_ok=True)
            return
        self._nth(self.keep).unlink(missing_ok=True)
        for i in range(self.keep - 1, 0, -1):
            if self._nth(i).exists():
                os.replace(self._nth(i), self._nth(i + 1))
        os.replace(self.path, self._nth(1))
