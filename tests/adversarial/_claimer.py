"""Child process for the atomic-claim race (kept light: spawned processes import only this)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def claim(db: str, created: float, barrier: Any, out: Any) -> None:
    from bantz_voice.brain.confirm import PendingStore
    from bantz_voice.brain.memory import connect

    store = PendingStore(connect(Path(db)))
    barrier.wait(60)
    out.put(store.claim(created) is not None)
