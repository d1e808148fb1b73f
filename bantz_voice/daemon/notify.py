"""sd_notify (READY/WATCHDOG/STATUS/EXTEND_TIMEOUT_USEC/RELOADING/STOPPING) over ``$NOTIFY_SOCKET``, and the watchdog.

Implemented on a plain datagram socket (abstract "@…" addresses included) so that it behaves
the same under systemd and in tests that bind their own notify socket. Without
``NOTIFY_SOCKET`` every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

SEND_TIMEOUT_S = 0.5


class Notifier:
    def __init__(self, address: str | None = None) -> None:
        self.address = address if address is not None else os.environ.get("NOTIFY_SOCKET")
        self._sock: socket.socket | None = None
        self.sent: list[str] = []  # for status/debugging: the kinds of messages sent

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def _addr(self) -> str | bytes:
        assert self.address
        if self.address.startswith("@"):
            return b"\0" + self.address[1:].encode()
        return self.address

    def send(self, message: str) -> bool:
        if not self.address:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                # a receiver that does not read (its queue full) must not stall the event loop
                self._sock.settimeout(SEND_TIMEOUT_S)
            self._sock.sendto(message.encode("utf-8"), self._addr())
            self.sent.append(message.split("=", 1)[0])
            del self.sent[:-32]
            return True
        except OSError as exc:
            log.warning("sd_notify failed: %s", exc)
            return False

    def ready(self, status: str | None = None) -> bool:
        msg = "READY=1" + (f"\nSTATUS={status}" if status else "") + f"\nMAINPID={os.getpid()}"
        return self.send(msg)

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def extend_timeout(self, seconds: float) -> bool:
        """Ask systemd for ``seconds`` more before the start (or stop) timeout fires."""
        return self.send(f"EXTEND_TIMEOUT_USEC={int(seconds * 1_000_000)}")

    def reloading(self) -> bool:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send(f"RELOADING=1\nMONOTONIC_USEC={usec}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def watchdog_interval_s(environ: dict[str, str] | None = None) -> float | None:
    """Half of ``WATCHDOG_USEC`` (how often to ping), or None when no watchdog is asked for."""
    env = os.environ if environ is None else environ
    raw = env.get("WATCHDOG_USEC")
    if not raw:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    try:
        usec = int(raw)
    except ValueError:
        return None
    return usec / 2e6 if usec > 0 else None


class Heartbeat:
    """The audio loop ``beat()``s as it makes progress; the watchdog only pings while beats are fresh.

    A stuck audio loop therefore stops the WATCHDOG=1 pings and systemd restarts the service.
    """

    def __init__(self, stale_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stale_after_s = stale_after_s
        self.clock = clock
        self.last = clock()

    def beat(self) -> None:
        self.last = self.clock()

    @property
    def fresh(self) -> bool:
        return self.clock() - self.last <= self.stale_after_s

    def age_s(self) -> float:
        return self.clock() - self.last
