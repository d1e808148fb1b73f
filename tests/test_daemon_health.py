"""Health reporting: an LLM endpoint going down and coming back, an unreachable calendar."""

from __future__ import annotations

import http.server
import socket
import threading
from pathlib import Path

import pytest

from bantz_voice.config import load_settings
from bantz_voice.health import HealthMonitor


class _Models(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"object": "list", "data": [{"id": "m"}]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(port: int) -> http.server.ThreadingHTTPServer:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Models)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def test_llm_endpoint_down_and_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    port = _free_port()
    monkeypatch.setenv("BANTZ_MODELS__ENDPOINTS__CHAT__KIND", "openai")
    monkeypatch.setenv("BANTZ_MODELS__ENDPOINTS__CHAT__BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("BANTZ_CALENDAR__ICS_PATH", str(tmp_path / "cal.ics"))
    mon = HealthMonitor(load_settings())

    res = await mon.refresh()
    assert res["llm:chat"]["ok"] is False and "erişilemiyor" in res["llm:chat"]["detail"]
    assert res["calendar"]["ok"] is True

    srv = _serve(port)
    try:
        res = await mon.refresh()
        assert res["llm:chat"] == {"ok": True, "detail": f"http://127.0.0.1:{port}/v1 yanıt veriyor"}
    finally:
        srv.shutdown()
        srv.server_close()
    res = await mon.refresh()
    assert res["llm:chat"]["ok"] is False
    snap = mon.snapshot()
    assert snap["checked_at"] and snap["components"]["llm:chat"]["ok"] is False


async def test_calendar_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    monkeypatch.setenv("BANTZ_CALENDAR__BACKEND", "caldav")
    monkeypatch.setenv("BANTZ_CALENDAR__CALDAV_URL", f"http://127.0.0.1:{port}/dav/")
    monkeypatch.setenv("BANTZ_CALENDAR__TIMEOUT_S", "2")
    mon = HealthMonitor(load_settings(), check_timeout_s=10)
    res = await mon.refresh()
    assert res["calendar"]["ok"] is False
    assert res["calendar"]["detail"]


async def test_status_and_doctor_give_the_same_verdict(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """One health package: the daemon's component and the doctor's LLM line come from the same check."""
    from bantz_voice.health import check_endpoints

    port = _free_port()
    monkeypatch.setenv("BANTZ_MODELS__ENDPOINTS__CHAT__KIND", "openai")
    monkeypatch.setenv("BANTZ_MODELS__ENDPOINTS__CHAT__BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("BANTZ_MODELS__ENDPOINTS__SMALL__GGUF", str(tmp_path / "yok.gguf"))
    monkeypatch.setenv("BANTZ_CALENDAR__ICS_PATH", str(tmp_path / "cal.ics"))
    settings = load_settings()
    res = await HealthMonitor(settings).refresh()
    doctor = check_endpoints(settings)
    assert doctor.status == "hata"
    for name in ("chat", "small"):
        assert res[f"llm:{name}"]["ok"] is False and res[f"llm:{name}"]["detail"] in doctor.message
    assert "yok.gguf" in res["llm:small"]["detail"] and "erişilemiyor" in res["llm:chat"]["detail"]
