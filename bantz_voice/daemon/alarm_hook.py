"""What the daemon adds for issue 18, behind a handful of one-line hooks in :mod:`runner`:

- runs the :class:`~bantz_voice.timers.scheduler.AlarmScheduler` and speaks its alarms through the
  daemon's speaker (earcon first, only when no reply plays and nobody is talking to Bantz);
- while an alarm rings, "tamam" / "sustur" (no wake word needed) stops it, and the follow-up
  window is open so "beş dakika ertele" works without "Bantz";
- desktop notifications (alarms, timers, "microphone lost", a failed turn, a component whose
  health check turns bad such as a missing model) and the MPRIS media pause around requests and
  replies (:mod:`bantz_voice.daemon.desktop`)."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from bantz_voice.daemon.desktop import Desktop
from bantz_voice.timers.scheduler import AlarmScheduler, Announcer
from bantz_voice.turkish.text import ascii_fold

log = logging.getLogger(__name__)

STOP_WORDS = re.compile(r"^(?:bantz\W*)?(?:tamam|sustur|sus|yeter|kapat|durdur|dur|anladim|tamamdir|ok(?:ey)?)\W*(?:bantz)?\W*$")
BUSY_STATES = ("listening", "thinking", "speaking")
HEALTH_EVERY_S = 15.0
NOT_NOTIFIED = {"microphone", "audio_loop", "models"}  # the microphone has its own note; the others are start-up states
ALARM_EARCON_S = 0.9


class DaemonAnnouncer(Announcer):
    def __init__(self, hook: AlarmHook) -> None:
        self.hook = hook

    def busy(self) -> bool:
        d = self.hook.daemon
        say = getattr(d, "_say_task", None)
        return d.current_state() in BUSY_STATES or (say is not None and not say.done())

    async def earcon(self) -> None:
        self.hook.daemon.earcons.play("alarm")
        await asyncio.sleep(ALARM_EARCON_S)

    async def speak(self, text: str) -> None:
        d = self.hook.daemon
        self.hook.daemon.gate.open_follow_up()  # "beş dakika ertele" without the wake word
        paused = await asyncio.to_thread(self.hook.desktop.media.pause) if self.hook.desktop.media.enabled else []
        try:
            if d.pipeline is not None:
                await d.pipeline.speak(text)
        finally:
            if paused and d.current_state() not in BUSY_STATES:
                await asyncio.to_thread(self.hook.desktop.media.resume)
            d.gate.open_follow_up()

    def notify(self, title: str, body: str) -> None:
        self.hook.notify(title, body)


class AlarmHook:
    def __init__(self, daemon: Any, desktop: Desktop | None = None) -> None:
        self.daemon = daemon
        settings = daemon.settings
        self.desktop = desktop or Desktop.from_settings(settings)
        self.scheduler: AlarmScheduler | None = AlarmScheduler(settings, DaemonAnnouncer(self)) if settings.reminders.enabled else None
        self._bad: set[str] = set()
        self._state = "idle"
        self.health_every_s = HEALTH_EVERY_S

    # --- hooks the daemon calls ---------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        s = self.scheduler
        return {
            "enabled": s is not None,
            "ringing": s is not None and s.ringing is not None,
            "fired": len(s.fired) if s else 0,
            "spoken": len(s.spoken) if s else 0,
            "notifications": len(self.desktop.notes.sent),
        }

    def intercept(self, text: str) -> bool:
        """True when ``text`` was for a ringing alarm ("tamam", "sustur"): stopped, not a turn."""
        if self.scheduler is None or self.scheduler.ringing is None:
            return False
        folded = ascii_fold(text.strip().lower())
        if STOP_WORDS.match(folded):
            self.scheduler.stop_ringing()
            return True
        if "ertele" in folded:  # "beş dakika ertele": stops it and goes on to the brain
            self.scheduler.stop_ringing()
        return False

    def on_state(self, state: str) -> None:
        """Media pause: players pause when a request is being handled or a reply plays, resume at idle."""
        if not self.desktop.media.enabled or state == self._state:
            return
        self._state = state
        if state in ("thinking", "speaking") or (state == "listening" and self.daemon.ptt_active):
            self._spawn(self.desktop.media.pause)
        elif state in ("idle", "muted"):
            self._spawn(self.desktop.media.resume)

    def on_mic(self, connected: bool, message: str) -> None:
        if not connected:
            self.notify("Mikrofon bulunamadı", f"Bantz sizi duyamıyor: {message}")

    def on_error(self, error: str) -> None:
        self.notify("Bantz bir hata verdi", f"Son istek tamamlanamadı ({error}).")

    def cancel(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop_ringing()

    def notify(self, title: str, body: str) -> None:
        if self.desktop.notes.enabled:
            self._spawn(self.desktop.notes.notify, title, body)

    def _spawn(self, fn: Any, *args: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called from a worker thread: run it there
            try:
                fn(*args)
            except Exception as exc:
                log.debug("desktop call failed: %s", exc)
            return
        fut = loop.run_in_executor(None, fn, *args)
        fut.add_done_callback(lambda f: f.exception())  # errors are logged by the callee

    # --- the task -----------------------------------------------------------------------------
    async def run(self) -> None:
        tasks = [asyncio.create_task(self._watch_health(), name="health-notify")]
        if self.scheduler is not None:
            tasks.append(asyncio.create_task(self.scheduler.run(), name="alarms"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.to_thread(self.desktop.media.resume)
            self.desktop.close()

    async def _watch_health(self) -> None:
        """A component whose check turns bad (a missing model, an unreachable calendar) is shown
        once as a notification; it is shown again only after it was fine in between."""
        while True:
            await asyncio.sleep(self.health_every_s)
            try:
                comps = self.daemon.health.snapshot().get("components", {})
            except Exception:
                continue
            bad = {name for name, c in comps.items() if isinstance(c, dict) and not c.get("ok", True) and name not in NOT_NOTIFIED}
            for name in sorted(bad - self._bad):
                self.notify("Bantz: bir bileşen çalışmıyor", f"{name}: {comps[name].get('detail', '')}")
            self._bad = bad
