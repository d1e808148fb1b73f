"""Per-turn timing trace: monotonic timestamps for every stage (``None`` = stage did not run)."""

from __future__ import annotations

import json
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
    string in it, error messages included, PII-scrubbed)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, trace: TurnTrace, **extra: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        from bantz_voice.privacy import scrub_value

        line = json.dumps(scrub_value({"ts": time.time(), **trace.to_dict(), **extra}), ensure_ascii=False)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


