"""Health of the model backends and the calendar, checked in the background for ``status``.

Each check returns ``{"ok": bool, "detail": str}`` (detail in Turkish). Checks are cheap (a
file look-up, an HTTP GET with a short timeout) and run off the event loop, so an unreachable
endpoint or calendar is reported without blocking the daemon, and reported healthy again as
soon as it is back — no restart needed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bantz_voice.config import EndpointSettings, Settings
from bantz_voice.llm.apikey import is_remote_url, probe_headers

log = logging.getLogger(__name__)

Check = dict[str, Any]


def _ok(detail: str) -> Check:
    return {"ok": True, "detail": detail}


def _bad(detail: str) -> Check:
    return {"ok": False, "detail": detail}


def check_endpoint(ep: EndpointSettings, timeout: float = 2.0) -> Check:
    if ep.kind == "openai":
        if not ep.base_url:
            return _bad("base_url ayarlanmamış")
        import httpx

        url = ep.base_url.rstrip("/") + "/models"
        try:
            res = httpx.get(url, timeout=timeout, trust_env=is_remote_url(url), headers=probe_headers(url))
        except httpx.HTTPError as exc:
            return _bad(f"{ep.base_url} erişilemiyor ({type(exc).__name__})")
        if res.status_code >= 500:
            return _bad(f"{ep.base_url} hata döndürdü (HTTP {res.status_code})")
        return _ok(f"{ep.base_url} yanıt veriyor")
    # embedded llama.cpp: the weights must be on disk (never downloaded by a health check)
    if not ep.gguf:
        return _bad("gguf modeli ayarlanmamış")
    path = Path(ep.gguf).expanduser()
    if path.is_file():
        return _ok(f"gömülü model hazır: {path.name}")
    try:
        from bantz_voice.models.manager import entry, is_present

        if is_present(ep.gguf):
            return _ok(f"gömülü model hazır: {ep.gguf}")
        fallback = entry(ep.gguf).fallback
        if fallback and is_present(fallback):
            return _ok(f"{ep.gguf} indirilmemiş; yedek model kullanılıyor: {fallback}")
    except Exception as exc:
        return _bad(f"model bulunamadı: {ep.gguf} ({exc})")
    return _bad(f"model indirilmemiş: {ep.gguf} (bantz-voice models pull {ep.gguf})")


def check_calendar(settings: Settings) -> Check:
    try:
        from bantz_voice.calendar import open_calendar  # type: ignore[attr-defined]
    except ImportError:
        return _bad("takvim modülü yok")
    try:
        cal = open_calendar(settings)
        cal.next_event(datetime.now(UTC))
    except Exception as exc:
        return _bad(str(exc) or type(exc).__name__)
    return _ok(f"takvim erişilebilir ({settings.calendar.backend})")


class HealthMonitor:
    """Runs the checks every ``interval_s`` in a worker thread; ``snapshot()`` is the latest result."""

    def __init__(
        self,
        settings: Settings,
        interval_s: float = 30.0,
        extra: Callable[[], dict[str, Check]] | None = None,
        check_timeout_s: float = 8.0,
    ) -> None:
        self.settings = settings
        self.interval_s = interval_s
        self.extra = extra
        self.check_timeout_s = check_timeout_s
        self._results: dict[str, Check] = {}
        self._checked_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def _run_checks(self) -> dict[str, Check]:
        out: dict[str, Check] = {}
        seen: set[str] = set()
        for role in ("router", "orchestrator", "chat"):
            name = getattr(self.settings.models, role).endpoint
            if name in seen:
                continue
            seen.add(name)
            ep = self.settings.models.endpoints.get(name)
            out[f"llm:{name}"] = check_endpoint(ep) if ep else _bad(f"uç nokta tanımlı değil: {name}")
        out["calendar"] = check_calendar(self.settings)
        return out

    async def refresh(self) -> dict[str, Check]:
        try:
            results = await asyncio.wait_for(asyncio.to_thread(self._run_checks), self.check_timeout_s)
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
