"""Desktop integration over the session D-Bus (``jeepney``; no hand-written protocol):

- :class:`Notifications`: ``org.freedesktop.Notifications.Notify`` for reminders, timers,
  "model missing", "microphone lost" and errors (``desktop.notifications``);
- :class:`MediaPauser`: MPRIS players (``org.mpris.MediaPlayer2.*``) that are *Playing* are paused
  while Bantz listens to a request and speaks, and only those are resumed after
  (``desktop.pause_media``).

Both are optional and best effort: without a session bus (a headless box, a system service) every
call is a logged no-op and the daemon runs as before. Calls are short blocking round trips with a
timeout (``desktop.bus_timeout_s``), made from a worker thread, never the event loop."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

APP_NAME = "Bantz"
NOTIFY_PATH = "/org/freedesktop/Notifications"
NOTIFY_NAME = "org.freedesktop.Notifications"
MPRIS_PREFIX = "org.mpris.MediaPlayer2."
MPRIS_PATH = "/org/mpris/MediaPlayer2"
MPRIS_PLAYER = "org.mpris.MediaPlayer2.Player"
RETRY_S = 30.0  # after a failed connection, try the bus again this much later


class SessionBus:
    """One lazily opened blocking connection to the session bus, shared and locked; reopened after
    a failure (at most every :data:`RETRY_S`)."""

    def __init__(self, timeout_s: float = 2.0, address: str | None = None) -> None:
        self.timeout_s = timeout_s
        self.address = address
        self._conn: Any = None
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self.warned = False

    @property
    def available(self) -> bool:
        return bool(self.address or os.environ.get("DBUS_SESSION_BUS_ADDRESS"))

    def _open(self) -> Any:
        if self._conn is not None:
            return self._conn
        if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_S:
            return None
        if not self.available:
            return None
        try:
            from jeepney.io.blocking import open_dbus_connection

            self._conn = open_dbus_connection(bus=self.address or "SESSION")
            self._failed_at = None
        except Exception as exc:
            self._failed_at = time.monotonic()
            if not self.warned:
                self.warned = True
                log.warning("session D-Bus unavailable, no notifications or media pause: %s", exc)
            return None
        return self._conn

    def call(self, msg: Any) -> Any:
        """Send a method call and return the reply's body (None on any failure)."""
        with self._lock:
            conn = self._open()
            if conn is None:
                return None
            try:
                reply = conn.send_and_get_reply(msg, timeout=self.timeout_s)
            except Exception as exc:
                log.debug("D-Bus call %s failed: %s", getattr(msg.header, "fields", {}), exc)
                if isinstance(exc, (OSError, ConnectionError, EOFError)):
                    self._drop()
                return None
            return reply.body

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def close(self) -> None:
        with self._lock:
            self._drop()


class Notifications:
    def __init__(self, bus: SessionBus, enabled: bool = True) -> None:
        self.bus = bus
        self.enabled = enabled
        self.sent: list[tuple[str, str]] = []

    def notify(self, summary: str, body: str = "", *, urgency: int = 1, timeout_ms: int = -1) -> int | None:
        """Show a desktop notification; returns its id (None when not shown)."""
        if not self.enabled:
            return None
        from jeepney import DBusAddress, new_method_call

        addr = DBusAddress(NOTIFY_PATH, bus_name=NOTIFY_NAME, interface=NOTIFY_NAME)
        hints = {"urgency": ("y", urgency), "desktop-entry": ("s", "bantz-voice")}
        msg = new_method_call(addr, "Notify", "susssasa{sv}i", (APP_NAME, 0, "", summary, body, [], hints, timeout_ms))
        out = self.bus.call(msg)
        if out is None:
            return None
        self.sent.append((summary, body))
        del self.sent[:-32]
        return int(out[0])


class MediaPauser:
    """Pause the MPRIS players that are playing; resume exactly those afterwards."""

    def __init__(self, bus: SessionBus, enabled: bool = True) -> None:
        self.bus = bus
        self.enabled = enabled
        self.paused: list[str] = []  # bus names Bantz paused and has not resumed
        self._lock = threading.Lock()

    def _players(self) -> list[str]:
        from jeepney import new_method_call
        from jeepney.bus_messages import message_bus

        out = self.bus.call(new_method_call(message_bus, "ListNames"))
        return sorted(n for n in (out[0] if out else []) if n.startswith(MPRIS_PREFIX))

    def _status(self, name: str) -> str | None:
        from jeepney import DBusAddress, Properties

        out = self.bus.call(Properties(DBusAddress(MPRIS_PATH, bus_name=name, interface=MPRIS_PLAYER)).get("PlaybackStatus"))
        if not out:
            return None
        sig, value = out[0]
        return str(value) if sig == "s" else None

    def _command(self, name: str, method: str) -> bool:
        from jeepney import DBusAddress, new_method_call

        return self.bus.call(new_method_call(DBusAddress(MPRIS_PATH, bus_name=name, interface=MPRIS_PLAYER), method)) is not None

    def pause(self) -> list[str]:
        """Pause every player that is playing (and not already paused by us); returns them."""
        if not self.enabled or not self.bus.available:
            return []
        with self._lock:
            newly = []
            for name in self._players():
                if name in self.paused:
                    continue
                if self._status(name) == "Playing" and self._command(name, "Pause"):
                    newly.append(name)
            self.paused.extend(newly)
            if newly:
                log.info("paused %d media player(s)", len(newly))
            return newly

    def resume(self) -> list[str]:
        """Play again the players Bantz paused, unless the user has started or stopped them since
        (only one still *Paused* is resumed)."""
        with self._lock:
            names, self.paused = self.paused, []
            resumed = []
            for name in names:
                if self._status(name) == "Paused" and self._command(name, "Play"):
                    resumed.append(name)
            return resumed


class Desktop:
    """The daemon's handle on both (built from ``settings.desktop``)."""

    def __init__(self, notifications: bool = True, pause_media: bool = True, timeout_s: float = 2.0, address: str | None = None) -> None:
        self.bus = SessionBus(timeout_s, address)
        self.notes = Notifications(self.bus, notifications)
        self.media = MediaPauser(self.bus, pause_media)

    @classmethod
    def from_settings(cls, settings: Any) -> Desktop:
        d = settings.desktop
        return cls(d.notifications, d.pause_media, d.bus_timeout_s)

    def close(self) -> None:
        self.bus.close()
