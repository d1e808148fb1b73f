"""Time sources of the scheduler: the wall clock (what the user's calendar means) and the boot
clock (``CLOCK_BOOTTIME``: never jumps when the wall clock is set, and keeps counting while the
machine is suspended, unlike ``CLOCK_MONOTONIC`` which ``asyncio.sleep`` uses).

A timer's deadline is kept on the boot clock (exact, immune to clock changes) and on the wall clock
(used after a reboot, when the boot clock starts again). Reminders are wall-clock times."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path


class Clock:
    """The real clocks. Subclasses (tests: a fake clock) override all four methods."""

    def wall(self) -> float:
        """Seconds since the epoch (UTC)."""
        return time.time()

    def boot(self) -> float:
        """Seconds since boot, suspend included."""
        return time.clock_gettime(getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC))

    def boot_id(self) -> str:
        """Changes at every boot: a boot-clock value from another boot means nothing."""
        try:
            return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        except OSError:
            return "unknown"

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
