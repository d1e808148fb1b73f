"""The client's side of the control-socket wire format, without pydantic.

The daemon validates every request with the pydantic models of :mod:`bantz_voice.daemon.protocol`
(the single source of truth for the messages). A control command (``bantz-voice ptt toggle`` runs
on every key press) only has to write one JSON line and read one back, so it uses this module and
never imports pydantic: that keeps it within a few tens of milliseconds (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False  # typing is not imported: see the module docstring
if TYPE_CHECKING:
    from pathlib import Path

MAX_LINE_BYTES = 64 * 1024
SOCKET_NAME = "control.sock"


def default_socket_path() -> Path:
    from bantz_voice import paths

    return paths.runtime_dir() / SOCKET_NAME


def own_socket_dir(d: Path) -> bool:
    """A directory Bantz may create and tighten: the runtime dir or one named ``bantz``."""
    from bantz_voice import paths

    return d.name == paths.APP or d == paths.runtime_dir()


def socket_path_from(configured: Path | str | None) -> Path:
    """The socket the daemon serves and clients dial (both call this, so they agree).

    A configured path stays as it is when its directory is Bantz's own (the runtime dir or a
    ``bantz`` dir), does not exist yet (the daemon creates it 0700) or is already private to the
    user. Otherwise (``~/bantz.sock``, ``/tmp/x.sock``) the socket goes into a private ``bantz``
    subdirectory of it: the daemon never chmods a directory it does not own, ``$HOME`` above all
    (docs/security.md).
    """
    from pathlib import Path

    if not configured:
        return default_socket_path()
    p = Path(configured).expanduser()
    d = p.parent
    if own_socket_dir(d):
        return p
    try:
        st = os.stat(d)
    except OSError:
        return p  # missing: the daemon creates it 0700; unreadable: reported when it is used
    private = st.st_uid == os.getuid() and not st.st_mode & 0o077
    return p if private else d / "bantz" / p.name


def plain_socket_path(environ: dict[str, str] | os._Environ[str]) -> str | None:
    """The default socket path from the environment alone (``$BANTZ_RUNTIME_DIR``, else
    ``$XDG_RUNTIME_DIR/bantz`` as platformdirs gives it on Linux), or None when neither is set.
    For the control commands' fast path (bantz_voice/cli/fast.py): no pathlib, no platformdirs."""
    own = environ.get("BANTZ_RUNTIME_DIR")
    if own:
        return os.path.join(own, SOCKET_NAME)
    xdg = environ.get("XDG_RUNTIME_DIR")
    return os.path.join(xdg, "bantz", SOCKET_NAME) if xdg else None


def encode_request(kind: str, data: dict[str, object] | None = None, request_id: str | int | None = None) -> bytes:
    msg: dict[str, object] = {"type": kind}
    if data:
        msg["data"] = data
    if request_id is not None:
        msg["id"] = request_id
    return (json.dumps(msg, ensure_ascii=False) + "\n").encode("utf-8")


class BadReply(ValueError):
    """A reply line that is not ``{"type": "ok"|"error", "data": {...}}``."""


class ClientReply:
    """One reply as the client reads it (a plain class: dataclasses costs an import)."""

    __slots__ = ("type", "id", "data")

    def __init__(self, type: str, id: str | int | None = None, data: dict[str, object] | None = None) -> None:
        self.type = type
        self.id = id
        self.data = data if data is not None else {}

    @property
    def ok(self) -> bool:
        return self.type == "ok"


def parse_reply(line: bytes) -> ClientReply:
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadReply(f"not a JSON line: {exc}") from None
    if not isinstance(obj, dict) or obj.get("type") not in ("ok", "error"):
        raise BadReply("reply without type ok/error")
    data = obj.get("data", {})
    if not isinstance(data, dict):
        raise BadReply("reply data is not an object")
    rid = obj.get("id")
    return ClientReply(type=obj["type"], id=rid if isinstance(rid, (str, int)) else None, data=data)
