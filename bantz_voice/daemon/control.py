"""The control socket: an owner-only Unix stream socket serving newline-delimited JSON.

The socket lives in a 0700 directory and is itself 0600. Nothing listens on a network port.
Every request is answered; a malformed, oversized or unknown one gets an ``error`` reply and the
daemon carries on. A handler that raises becomes an ``internal`` error reply.

Bounded per client (docs/security.md): a request line (``MAX_LINE_BYTES``), the wait for the next
line (``IDLE_TIMEOUT_S``), the time a reply may wait for the client to read it
(``WRITE_TIMEOUT_S``) and the replies buffered for it (``MAX_OUTPUT_BYTES``): past either it is
disconnected. At most ``MAX_CLIENTS`` connections; when all are taken, the one idle the longest
(no request being handled, quiet for ``EVICT_IDLE_S``) makes room for the newcomer, so clients
that connect and never read or write cannot lock everyone out.

Start-up never removes anything but a dead socket, and never changes the mode of a directory
that is not Bantz's own (see :func:`socket_path_from`).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import socket
import stat
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bantz_voice import paths
from bantz_voice.daemon.protocol import (
    MAX_LINE_BYTES,
    ProtocolError,
    Reply,
    error_reply,
    ok_reply,
    parse_request,
)
from bantz_voice.daemon.wire import SOCKET_NAME, default_socket_path, own_socket_dir, socket_path_from  # noqa: F401
from bantz_voice.errors import BantzError

log = logging.getLogger(__name__)

LOCK_NAME = "daemon.lock"
IDLE_TIMEOUT_S = 30.0
WRITE_TIMEOUT_S = 5.0  # a reply the client does not read within this long: it is disconnected
MAX_OUTPUT_BYTES = 1024 * 1024  # replies buffered for one client that does not read them
WRITE_HIGH_WATER = 64 * 1024
MAX_CLIENTS = 16
EVICT_IDLE_S = 2.0  # when full, a client idle at least this long makes room for a newcomer
ADMIT_WAIT_S = 3.0  # when full, a newcomer waits this long for a slot before it is refused ...
MAX_WAITING = 64  # ... and at most this many wait (more are refused at once)

Handler = Callable[[Any], Awaitable[dict[str, Any] | None]]


class DaemonAlreadyRunning(BantzError):
    pass


class NotASocket(BantzError):
    pass


def _socket_alive(path: Path) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


def prepare_socket_dir(path: Path) -> Path:
    """Create the socket's directory 0700 and return the socket path to bind (see
    :func:`socket_path_from`). Only Bantz's own directory is ever tightened."""
    path = socket_path_from(path)
    d = path.parent
    existed = d.exists()
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = d.stat()
    if st.st_uid != os.getuid():
        raise BantzError(f"{d}: bu klasör başka bir kullanıcıya ait; denetim soketi burada açılamaz")
    if stat.S_IMODE(st.st_mode) & 0o077:
        if existed and not own_socket_dir(d):  # socket_path_from never picks such a dir; be sure anyway
            raise BantzError(f"{d}: klasör başkalarınca okunabiliyor ve Bantz'ın değil; denetim soketi burada açılmadı")
        os.chmod(d, 0o700)
    return path


def clear_stale_socket(path: Path) -> None:
    """Remove ``path`` only when it is a socket nobody answers on (a crashed daemon's)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        kind = "bağlantı (symlink)" if stat.S_ISLNK(st.st_mode) else "klasör" if stat.S_ISDIR(st.st_mode) else "dosya"
        raise NotASocket(
            f"{path}: burada bir {kind} var, denetim soketi değil; dokunulmadı. "
            "daemon.socket_path ayarını değiştirin ya da onu kendiniz kaldırın"
        )
    if _socket_alive(path):
        raise DaemonAlreadyRunning(f"Bantz zaten çalışıyor (denetim soketi: {path})")
    path.unlink()  # stale socket from a crashed daemon


class InstanceLock:
    """One daemon per user: an ``flock`` on ``<runtime dir>/daemon.lock`` held for the process's
    life (the kernel drops it when the process dies, so a crash never leaves it stuck)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.runtime_dir() / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        paths.ensure(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                other = os.pread(fd, 32, 0).decode(errors="replace").strip()
            except OSError:
                other = ""
            os.close(fd)
            who = f" (pid {other})" if other.isdigit() else ""
            raise DaemonAlreadyRunning(
                f"Bantz zaten çalışıyor{who}; ikinci bir kopya başlatılmadı. "
                "Durdurmak için: bantz-voice shutdown ya da systemctl --user stop bantz-voice"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # the lock goes with the descriptor; the file stays (harmless)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


@dataclass(eq=False)
class _Client:
    writer: asyncio.StreamWriter
    task: asyncio.Task[None] | None
    last: float = field(default_factory=time.monotonic)
    busy: bool = False  # a request is being handled

    def evict(self) -> None:
        self.writer.transport.abort()
        if self.task is not None:
            self.task.cancel()


class ControlServer:
    """Serves requests on ``path``, dispatching each parsed request to ``handler``.

    ``handler(request)`` returns the reply's ``data`` (or None). It may raise
    :class:`ProtocolError` (that error goes back) or :class:`BantzError` (an ``unavailable``
    error with its Turkish message); anything else becomes ``internal``.
    """

    def __init__(self, path: Path, handler: Handler) -> None:
        self.path = path
        self.handler = handler
        self._server: asyncio.base_events.Server | None = None
        self._clients: dict[asyncio.Task[None], _Client] = {}
        self._bound: tuple[int, int] | None = None  # (st_dev, st_ino) of the socket we created
        self._left = asyncio.Event()  # set whenever a client leaves
        self._waiting = 0
        self.dropped_slow = 0  # clients disconnected for not reading their replies
        self.refused = 0  # newcomers told "too many connections"
        self.evicted_idle = 0  # idle clients that made room for a newcomer

    async def start(self) -> None:
        self.path = prepare_socket_dir(self.path)
        clear_stale_socket(self.path)
        old_umask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path), limit=MAX_LINE_BYTES + 1)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        st = os.lstat(self.path)
        self._bound = (st.st_dev, st.st_ino)
        log.info("control socket listening on %s", self.path)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for client in list(self._clients.values()):
                client.evict()
            await asyncio.gather(*self._clients, return_exceptions=True)
            try:
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            except (TimeoutError, Exception):
                pass
            self._server = None
        if self._bound is not None:  # only the socket we bound, never a file someone put there since
            try:
                st = os.lstat(self.path)
                if (st.st_dev, st.st_ino) == self._bound:
                    self.path.unlink()
            except FileNotFoundError:
                pass
            self._bound = None

    def stats(self) -> dict[str, int]:
        return {"clients": len(self._clients), "dropped_slow": self.dropped_slow, "evicted_idle": self.evicted_idle,
                "refused": self.refused}

    async def _admit(self) -> bool:
        """A slot for a newcomer: free, made by evicting an idle client, or freed within
        ADMIT_WAIT_S (a burst of short requests queues briefly instead of failing)."""
        if len(self._clients) < MAX_CLIENTS or self._make_room():
            return True
        if self._waiting >= MAX_WAITING:
            return False
        self._waiting += 1
        try:
            deadline = time.monotonic() + ADMIT_WAIT_S
            while time.monotonic() < deadline:
                self._left.clear()
                try:
                    await asyncio.wait_for(self._left.wait(), min(0.25, max(0.0, deadline - time.monotonic())))
                except TimeoutError:
                    pass
                if len(self._clients) < MAX_CLIENTS or self._make_room():
                    return True
            return False
        finally:
            self._waiting -= 1

    def _make_room(self) -> bool:
        """At the limit: evict the client idle the longest (not handling a request, quiet for
        EVICT_IDLE_S: a client that just connected gets to send its request). False when none
        qualifies; the newcomer then gets an ``unavailable`` reply."""
        quiet_since = time.monotonic() - EVICT_IDLE_S
        idle = [c for c in self._clients.values() if not c.busy and c.last <= quiet_since]
        if not idle:
            return False
        oldest = min(idle, key=lambda c: c.last)
        self._clients.pop(oldest.task, None)  # type: ignore[arg-type]
        oldest.evict()
        self._left.set()
        self.evicted_idle += 1
        log.info("control socket full: dropped the client idle for %.1f s", time.monotonic() - oldest.last)
        return True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        writer.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        if not await self._admit():
            self.refused += 1
            writer.write(error_reply("unavailable", "çok fazla eşzamanlı bağlantı").encode())
            await self._close_writer(writer)
            return
        client = _Client(writer, task)
        if task is not None:
            self._clients[task] = client
        try:
            await self._serve_lines(reader, writer, client)
        except asyncio.CancelledError:
            pass
        except (ConnectionError, OSError) as exc:
            log.debug("control client dropped: %s", exc)
        except Exception:
            log.exception("control client failed")
        finally:
            if task is not None:
                self._clients.pop(task, None)
            self._left.set()
            await self._close_writer(writer)

    async def _serve_lines(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client: _Client) -> None:
        while True:
            try:
                line = await asyncio.wait_for(reader.readuntil(b"\n"), IDLE_TIMEOUT_S)
            except TimeoutError:
                return
            except asyncio.IncompleteReadError as exc:
                if exc.partial.strip():  # last request without a newline
                    await self._answer(exc.partial, writer, client)
                return
            except asyncio.LimitOverrunError:
                await self._send(writer, error_reply("too_large", f"istek çok büyük (en fazla {MAX_LINE_BYTES} bayt)"))
                return  # cannot resynchronise cheaply: close this connection only
            client.last = time.monotonic()
            if not line.strip():
                continue
            if not await self._answer(line, writer, client):
                return

    async def _answer(self, line: bytes, writer: asyncio.StreamWriter, client: _Client) -> bool:
        client.busy = True
        try:
            reply = await self.dispatch(line)
        finally:
            client.busy = False
            client.last = time.monotonic()
        return await self._send(writer, reply)

    async def _send(self, writer: asyncio.StreamWriter, reply: Reply) -> bool:
        """Write one reply; False (and the connection aborted) when the client does not read:
        more than MAX_OUTPUT_BYTES waiting, or no progress within WRITE_TIMEOUT_S."""
        transport = writer.transport
        if transport.is_closing():
            return False
        data = reply.encode()
        if transport.get_write_buffer_size() + len(data) > MAX_OUTPUT_BYTES:
            self._drop_slow(writer, "output buffer full")
            return False
        writer.write(data)
        try:
            await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT_S)
        except TimeoutError:
            self._drop_slow(writer, f"no read for {WRITE_TIMEOUT_S:g} s")
            return False
        return True

    def _drop_slow(self, writer: asyncio.StreamWriter, why: str) -> None:
        self.dropped_slow += 1
        log.info("control client disconnected: it does not read its replies (%s)", why)
        writer.transport.abort()

    async def dispatch(self, line: bytes) -> Reply:
        rid = None
        try:
            request = parse_request(line)
            rid = request.id
            data = await self.handler(request)
            return ok_reply(data, rid)
        except ProtocolError as exc:
            return error_reply(exc.code, exc.message, exc.request_id if exc.request_id is not None else rid)
        except BantzError as exc:
            return error_reply("unavailable", str(exc), rid)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("control request failed")
            return error_reply("internal", f"iç hata: {type(exc).__name__}", rid)

    @staticmethod
    async def _close_writer(writer: asyncio.StreamWriter) -> None:
        try:
            if writer.transport.get_write_buffer_size():  # unread replies: do not wait for them
                writer.transport.abort()
            writer.close()
            await asyncio.wait_for(writer.wait_closed(), 1.0)
        except Exception:
            pass
