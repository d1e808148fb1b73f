"""What the brain's stages mark a turn's timings on: the turn's :class:`~bantz_voice.trace.TurnTrace`,
or a speculation's stand-in for it (brain/speculate.py ``DeferredTrace``)."""

from __future__ import annotations

from typing import Protocol


class Marks(Protocol):
    def mark(self, stage: str, at: float | None = None, *, first: bool = True) -> None: ...


__all__ = ["Marks"]
