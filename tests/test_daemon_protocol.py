"""Control socket: real Unix socket, permissions, malformed/oversized/unknown requests."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
from pathlib import Path

import pytest
from fixtures.control import raw_exchange

from bantz_voice.daemon import client
from bantz_voice.daemon.control import ControlServer, DaemonAlreadyRunning
from bantz_voice.daemon.protocol import MAX_LINE_BYTES, ProtocolError, parse_request
from bantz_voice.errors import BantzError


def test_parse_valid_requests() -> None:
    r = parse_request(b'{"type": "ptt", "data": {"action": "toggle"}, "id": 7}')
    assert r.type == "ptt" and r.data.action == "toggle" and r.id == 7
    assert parse_request(b'{"type": "status"}').type == "status"
    assert parse_request('{"type": "say", "data": {"text": "merhaba dünya"}}'.encode()).data.text == "merhaba dünya"


@pytest.mark.parametrize(
    "line, code",
    [
        (b"not json", "bad_json"),
        (b"\xff\xfe", "bad_json"),
        (b"[1, 2]", "bad_request"),
        (b'{"data": {}}', "bad_request"),
        (b'{"type": "format_disk"}', "unknown_type"),
        (b'{"type": "ptt", "data": {"action": "hold"}}', "bad_request"),
        (b'{"type": "ptt"}', "bad_request"),
        (b'{"type": "say", "data": {"text": ""}}', "bad_request"),
        (b'{"type": "status", "data": {"x": 1}}', "bad_request"),
        (b"[" * 100000, "too_large"),
    ],
)
def test_parse_rejects(line: bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_request(line)
    assert info.value.code == code
    assert info.value.message  # Turkish one-liner for the user


class Recorder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, request):
        self.seen.append(request.type)
        if request.type == "say" and request.data.text == "boom":
            raise RuntimeError("handler bug")
        if request.type == "reload":
            raise BantzError("ayar dosyası bozuk")
        return {"echo": request.type}


async def test_server_permissions_and_replies(tmp_path: Path) -> None:
    sock = tmp_path / "rt" / "bantz" / "control.sock"
    handler = Recorder()
    server = ControlServer(sock, handler)
    await server.start()
    try:
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        assert stat.S_ISSOCK(sock.stat().st_mode)

        lines = (
            b'{"type": "status", "id": "a"}\n'
            b"garbage\n"
            b'{"type": "launch_missiles", "id": 3}\n'
            b'{"type": "say", "data": {"text": "boom"}}\n'
            b'{"type": "reload"}\n'
            b"\n"
            b'{"type": "mute"}'  # last line without newline still answered
        )
        replies = await asyncio.to_thread(raw_exchange, sock, lines)
        assert [r["type"] for r in replies] == ["ok", "error", "error", "error", "error", "ok"]
        assert replies[0] == {"type": "ok", "id": "a", "data": {"echo": "status"}}
        assert replies[1]["data"]["code"] == "bad_json"
        assert replies[2]["data"]["code"] == "unknown_type" and replies[2]["id"] == 3
        assert replies[3]["data"]["code"] == "internal"
        assert replies[4]["data"] == {"code": "unavailable", "message": "ayar dosyası bozuk"}

        # oversized: error reply, connection closed, server still serves the next client
        big = b'{"type": "say", "data": {"text": "' + b"a" * (MAX_LINE_BYTES + 10) + b'"}}\n'
        replies = await asyncio.to_thread(raw_exchange, sock, big)
        assert replies == [{"type": "error", "id": None, "data": {"code": "too_large", "message": replies[0]["data"]["message"]}}]

        reply = await asyncio.to_thread(client.call, sock, "ptt", {"action": "start"})
        assert reply == {"echo": "ptt"}
        assert handler.seen.count("say") == 1 and "ptt" in handler.seen

        # a second daemon on the same socket is refused, the first keeps its socket
        with pytest.raises(DaemonAlreadyRunning):
            await ControlServer(sock, handler).start()
        assert (await asyncio.to_thread(client.call, sock, "status")) == {"echo": "status"}
    finally:
        await server.close()
    assert not sock.exists()


async def test_stale_socket_replaced_and_loose_dir_tightened(tmp_path: Path) -> None:
    d = tmp_path / "bantz"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    sock = d / "control.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock))
    stale.close()  # a socket file nobody listens on (crashed daemon)
    server = ControlServer(sock, Recorder())
    await server.start()
    try:
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
        assert (await asyncio.to_thread(client.call, sock, "status")) == {"echo": "status"}
    finally:
        await server.close()


def test_client_without_daemon(tmp_path: Path) -> None:
    with pytest.raises(client.DaemonNotRunning) as info:
        client.call(tmp_path / "none.sock", "status")
    assert "Bantz çalışmıyor" in str(info.value)


async def test_client_error_reply_raises(tmp_path: Path) -> None:
    sock = tmp_path / "b" / "c.sock"
    server = ControlServer(sock, Recorder())
    await server.start()
    try:
        with pytest.raises(client.DaemonError, match="ayar dosyası bozuk"):
            await asyncio.to_thread(client.call, sock, "reload")
    finally:
        await server.close()


async def test_cli_commands_against_real_socket(tmp_path: Path) -> None:
    import sys

    seen: list[tuple[str, object]] = []

    async def handler(request):
        seen.append((request.type, getattr(request.data, "action", None) or getattr(request.data, "text", None)))
        if request.type == "status":
            return {
                "state": "speaking", "uptime_s": 3725, "hands_free": True, "push_to_talk": True,
                "follow_up_open": True, "turns": 4, "microphone": {"ok": False, "detail": "mikrofon kayboldu"},
                "health": {"components": {"calendar": {"ok": False, "detail": "takvime ulaşılamıyor"}}},
                "last_turns": [{"mode": "ptt", "trace": {"spoken_latency_ms": 812.0}, "error": None}],
            }
        if request.type == "ptt":
            return {"ptt_active": request.data.action != "stop"}
        if request.type == "reload":
            raise BantzError("ayar dosyası bozuk: bantz.yaml")
        return {}

    sock = tmp_path / "rt" / "control.sock"
    server = ControlServer(sock, handler)
    await server.start()

    async def cli(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bantz_voice", *args[:1], "--socket", str(sock), *args[1:],
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        return proc.returncode, out.decode(), err.decode()

    try:
        code, out, _ = await cli("status")
        assert code == 0
        assert "Durum: konuşuyor" in out and "1 sa 2 dk" in out and "✗ calendar: takvime ulaşılamıyor" in out
        assert "Mikrofon: yok (mikrofon kayboldu)" in out and "812 ms" in out
        code, out, _ = await cli("status", "--json")
        assert code == 0 and json.loads(out)["turns"] == 4
        code, out, _ = await cli("ptt", "toggle")
        assert code == 0 and "dinliyorum" in out
        for cmd in ("mute", "unmute", "cancel", "shutdown"):
            code, out, _ = await cli(cmd)
            assert code == 0 and out.strip(), cmd
        code, out, err = await cli("reload")
        assert code != 0 and err.strip() == "hata: ayar dosyası bozuk: bantz.yaml"
        assert [s[0] for s in seen] == ["status", "status", "ptt", "mute", "unmute", "cancel", "shutdown", "reload"]
        assert seen[2] == ("ptt", "toggle")
    finally:
        await server.close()
    code, out, err = await cli("status")
    assert code != 0 and "Bantz çalışmıyor" in err and "Traceback" not in err
