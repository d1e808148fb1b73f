"""Control-socket messages (Wyoming-like): one JSON object per line, UTF-8.

A request is ``{"type": "<name>", "data": {...}, "id": <optional>}``; the reply echoes ``id`` and
has ``type`` ``"ok"`` (with ``data``) or ``"error"`` (with ``data.code`` and a Turkish
``data.message``). See ``docs/daemon.md``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from bantz_voice.daemon.wire import MAX_LINE_BYTES, encode_request  # noqa: F401 - the client's light side

MAX_SAY_CHARS = 2000

ErrorCode = Literal["bad_json", "too_large", "unknown_type", "bad_request", "unavailable", "internal"]


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _NoData(_Msg):
    pass


class PttData(_Msg):
    action: Literal["start", "stop", "toggle"]


class SayData(_Msg):
    text: str = Field(min_length=1, max_length=MAX_SAY_CHARS)


class _Request(_Msg):
    id: str | int | None = None


class _BareRequest(_Request):
    """A request that carries no data (an empty or missing ``data``)."""

    data: _NoData = Field(default_factory=_NoData)


class StatusRequest(_BareRequest):
    type: Literal["status"]


class PttRequest(_Request):
    type: Literal["ptt"]
    data: PttData


class MuteRequest(_BareRequest):
    type: Literal["mute"]


class UnmuteRequest(_BareRequest):
    type: Literal["unmute"]


class SayRequest(_Request):
    type: Literal["say"]
    data: SayData


class CancelRequest(_BareRequest):
    type: Literal["cancel"]


class ReloadRequest(_BareRequest):
    type: Literal["reload"]


class ShutdownRequest(_BareRequest):
    type: Literal["shutdown"]


Request = Annotated[
    StatusRequest | PttRequest | MuteRequest | UnmuteRequest | SayRequest | CancelRequest | ReloadRequest | ShutdownRequest,
    Field(discriminator="type"),
]
REQUEST_TYPES: tuple[str, ...] = ("status", "ptt", "mute", "unmute", "say", "cancel", "reload", "shutdown")
_REQUEST = TypeAdapter(Request)


class Reply(_Msg):
    type: Literal["ok", "error"]
    id: str | int | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def encode(self) -> bytes:
        return (json.dumps(self.model_dump(mode="json"), ensure_ascii=False) + "\n").encode("utf-8")

    @property
    def ok(self) -> bool:
        return self.type == "ok"


class ProtocolError(Exception):
    """A request that cannot be served; becomes an ``error`` reply."""

    def __init__(self, code: ErrorCode, message: str, request_id: str | int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id

    def reply(self) -> Reply:
        return error_reply(self.code, self.message, self.request_id)


def ok_reply(data: dict[str, Any] | None = None, request_id: str | int | None = None) -> Reply:
    return Reply(type="ok", id=request_id, data=data or {})


def error_reply(code: ErrorCode, message: str, request_id: str | int | None = None) -> Reply:
    return Reply(type="error", id=request_id, data={"code": code, "message": message})


def parse_request(line: bytes) -> Any:
    """One request line -> a request model. Raises :class:`ProtocolError` (never anything else)."""
    if len(line) > MAX_LINE_BYTES:
        raise ProtocolError("too_large", f"istek çok büyük (en fazla {MAX_LINE_BYTES} bayt)")
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProtocolError("bad_json", "istek geçerli bir JSON satırı değil") from None
    if not isinstance(obj, dict):
        raise ProtocolError("bad_request", "istek bir JSON nesnesi olmalı")
    rid = obj.get("id")
    if not isinstance(rid, (str, int)) or isinstance(rid, bool):
        rid = None
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_request", "istekte 'type' alanı eksik", rid)
    if kind not in REQUEST_TYPES:
        raise ProtocolError("unknown_type", f"bilinmeyen istek türü: {kind[:40]!r}", rid)
    try:
        return _REQUEST.validate_python(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"][1:]) or kind
        raise ProtocolError("bad_request", f"geçersiz istek ({where}): {err['msg']}", rid) from None


def parse_reply(line: bytes) -> Reply:
    return Reply.model_validate_json(line)


