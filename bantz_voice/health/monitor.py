"""The daemon's background health checks, reported by ``status``.

:class:`HealthMonitor` runs the endpoint and calendar checks of :mod:`bantz_voice.health.checks`
(the same ones ``bantz-voice doctor`` prints) every ``interval_s`` off the event loop, so an
unreachable endpoint or calendar is reported without blocking the daemon, and reported healthy
again as soon as it is back — no restart needed. Each component is ``{"ok": bool, "detail": str}``
(detail in Turkish).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from bantz_voice.config import Settings
from bantz_voice.health.checks import ROLES, check_calendar, check_endpoint

log = logging.getLogger(__name__)

Component = dict[str, Any]


def _bad(detail: str) -> Component:
    return {"ok": False, "detail": detail}


def component_checks(settings: Settings) -> dict[str, Component]:
    """``llm:<endpoint>`` for each endpoint a role uses, and ``calendar``."""
    out: dict[str, Component] = {}
    for role in ROLES:
        name = getattr(settings.models, role).endpoint
        if f"llm:{name}" in out:
            continue
        ep = settings.models.endpoints.get(name)
        if ep is None:
            out[f"llm:{name}"] = _bad(f"uç nokta tanımlı değil: {name}")
        else:
            status, detail = check_endpoint(ep)
            out[f"llm:{name}"] = {"ok": status != "hata", "detail": detail}
    out["calendar"] = check_calendar(settings).component()
    return out


class HealthMonitor:
    """Runs the checks every ``interval_s`` in a worker thread; ``snapshot()`` is the latest result."""

    def __init__(
        self,
        settings: Settings,
        interval_s: float = 30.0,
        extra: Callable[[], dict[str, Component]] | None = None,
        check_timeout_s: float = 8.0,
    ) -> None:
        self.settings = settings
        self.interval_s = interval_s
        self.extra = extra
        self.check_timeout_s = check_timeout_s
        self._results: dict[str, Component] = {}
        self._checked_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def refresh(self) -> dict[str, Component]:
        try:
            results = await asyncio.wait_for(asyncio.to_thread(component_checks, self.settings), self.check_timeout_s)
        except TimeoutError:
            results = {k: _bad("denetim zaman aşımına uğradı") for k in self._results} or {
                "checks": _bad("denetim zaman aşımına uğradı")
            }
        except Exception as exc:
            log.warning("health check failed: %s", exc)
            results = {"checks": _bad(f"denetim başarısız: {type(exc).__name__}")}
        self._results = results
        self._checked_at = time.time()
        return results

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.extra is not None:
            try:
                out.update(self.extra())
            except Exception as exc:
                out["pipeline"] = _bad(f"durum alınamadı: {type(exc).__name__}")
        out.update(self._results)
        return {"checked_at": self._checked_at, "components": out}

    def update_settings(self, settings: Settings) -> None:
        self.settings = settings
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            await self.refresh()
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
            except TimeoutError:
                pass

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="health")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
