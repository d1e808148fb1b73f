"""The control socket: an owner-only Unix stream socket serving newline-delimited JSON.

The socket lives in a 0700 directory and is itself 0600. Nothing listens on a network port.
Every request is answered; a malformed, oversized or unknown one gets an ``error`` reply and the
daemon carries on. A handler that raises becomes an ``internal`` error reply.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import stat
from pathlib import Path
from typing import Any, Awaitable, Callable

from bantz_voice.errors import BantzError
from bantz_voice.daemon.protocol import (
    MAX_LINE_BYTES,
    ProtocolError,
    Reply,
    error_reply,
    ok_reply,
    parse_request,
)
from bantz_voice.daemon.wire import SOCKET_NAME, default_socket_path, socket_path_from  # noqa: F401

log = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 30.0
MAX_CLIENTS = 16

Handler = Callable[[Any], Awaitable[dict[str, Any] | None]]


class DaemonAlreadyRunning(BantzError):
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


def prepare_socket_dir(path: Path) -> None:
    """Create the socket's directory 0700 (tightening an existing one we own)."""
    d = path.parent
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = d.stat()
    if st.st_uid != os.getuid():
        raise BantzError(f"{d}: bu klasör başka bir kullanıcıya ait; denetim soketi burada açılamaz")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(d, 0o700)


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
        self._clients: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        prepare_socket_dir(self.path)
        if self.path.exists() or self.path.is_symlink():
            if _socket_alive(self.path):
                raise DaemonAlreadyRunning(f"Bantz zaten çalışıyor (denetim soketi: {self.path})")
            self.path.unlink()  # stale socket from a crashed daemon
        old_umask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path), limit=MAX_LINE_BYTES + 1)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        log.info("control socket listening on %s", self.path)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._clients):
                task.cancel()
            await asyncio.gather(*self._clients, return_exceptions=True)
            try:
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - best effort at shutdown
                pass
            self._server = None
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self._clients) >= MAX_CLIENTS:
            writer.write(error_reply("unavailable", "çok fazla eşzamanlı bağlantı").encode())
            await self._close_writer(writer)
            return
        if task is not None:
            self._clients.add(task)
        try:
            await self._serve_lines(reader, writer)
        except asyncio.CancelledError:
            pass
        except (ConnectionError, OSError) as exc:
            log.debug("control client dropped: %s", exc)
        except Exception:  # noqa: BLE001 - a client must never hurt the daemon
            log.exception("control client failed")
        finally:
            if task is not None:
                self._clients.discard(task)
            await self._close_writer(writer)

    async def _serve_lines(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                line = await asyncio.wait_for(reader.readuntil(b"\n"), IDLE_TIMEOUT_S)
            except asyncio.TimeoutError:
                return
            except asyncio.IncompleteReadError as exc:
                if exc.partial.strip():  # last request without a newline
                    await self._answer(exc.partial, writer)
                return
            except asyncio.LimitOverrunError:
                writer.write(error_reply("too_large", f"istek çok büyük (en fazla {MAX_LINE_BYTES} bayt)").encode())
                await writer.drain()
                return  # cannot resynchronise cheaply: close this connection only
            if not line.strip():
                continue
            await self._answer(line, writer)

    async def _answer(self, line: bytes, writer: asyncio.StreamWriter) -> None:
        reply = await self.dispatch(line)
        writer.write(reply.encode())
        await writer.drain()

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
        except Exception as exc:  # noqa: BLE001
            log.exception("control request failed")
            return error_reply("internal", f"iç hata: {type(exc).__name__}", rid)

    @staticmethod
    async def _close_writer(writer: asyncio.StreamWriter) -> None:
        try:
            writer.close()
            await asyncio.wait_for(writer.wait_closed(), 1.0)
        except Exception:  # noqa: BLE001
            pass
