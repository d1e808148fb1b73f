"""Client side of the control socket (used by the CLI). Light on purpose: no pydantic (see wire.py)."""

from __future__ import annotations

import os
import socket

from bantz_voice.daemon.wire import BadReply, ClientReply, encode_request, parse_reply
from bantz_voice.errors import BantzError


class DaemonNotRunning(BantzError):
    exit_code = 3


class DaemonError(BantzError):
    pass


def request(path: str | os.PathLike[str], kind: str, data: dict[str, object] | None = None, timeout: float = 10.0) -> ClientReply:
    """Send one request and return the reply. Raises :class:`DaemonNotRunning` when nobody listens."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        try:
            s.connect(os.fspath(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise DaemonNotRunning(
                "Bantz çalışmıyor (denetim soketi yok). Başlatmak için: bantz-voice run "
                "ya da systemctl --user start bantz-voice"
            ) from None
        except PermissionError:
            raise DaemonError(f"denetim soketine erişim izni yok: {path}") from None
        s.sendall(encode_request(kind, data))
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except TimeoutError:
        raise DaemonError(f"Bantz {timeout:g} saniyede yanıt vermedi") from None
    except (ConnectionResetError, BrokenPipeError):
        raise DaemonError("Bantz bağlantıyı yanıt vermeden kapattı") from None
    finally:
        s.close()
    if not buf.strip():
        raise DaemonError("Bantz bağlantıyı yanıt vermeden kapattı")
    try:
        return parse_reply(buf)
    except BadReply as exc:
        raise DaemonError(f"Bantz anlaşılmayan bir yanıt verdi ({exc})") from None


def call(
    path: str | os.PathLike[str], kind: str, data: dict[str, object] | None = None, timeout: float = 10.0
) -> dict[str, object]:
    """Like :func:`request` but an ``error`` reply raises :class:`DaemonError` with its message."""
    reply = request(path, kind, data, timeout)
    if not reply.ok:
        raise DaemonError(str(reply.data.get("message") or "bilinmeyen hata"))
    return reply.data
