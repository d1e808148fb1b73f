"""A scripted OpenAI-compatible server on loopback (a test double standing in for a hostile or
broken vLLM: it answers what the test scripts, and records every request it gets).

``script(role, body)`` returns what to send for one chat completion: a ``str`` (streamed as SSE
content pieces), ``bytes`` (sent raw as the whole response body), or an iterable of ``bytes``
(sent as they come). ``role`` is "router", "orchestrator" or "chat", told apart by the JSON
schema the request carries."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | bytes | Iterable[bytes]


def role_of(body: dict[str, Any]) -> str:
    fmt = body.get("response_format") or {}
    schema = json.dumps(fmt)
    if '"route"' in schema:
        return "router"
    if '"intent"' in schema:
        return "orchestrator"
    return "chat"


def sse(text: str, piece: int = 16) -> bytes:
    chunks = [text[i : i + piece] for i in range(0, len(text), piece)] or [""]
    lines = [
        "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": c}}]}, ensure_ascii=False) + "\n\n" for c in chunks
    ]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class ScriptedLLM:
    script: Callable[[str, dict[str, Any]], Reply]
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ScriptedLLM:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection closes

            def log_message(self, *args: Any) -> None:
                pass

            def _record(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                owner.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                return body

            def do_GET(self) -> None:
                self._record()
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"data": [{"id": "scripted", "owned_by": "test"}]}).encode(), "application/json")
                else:
                    self._send(404, b"{}", "application/json")

            def do_POST(self) -> None:
                raw = self._record()
                if not self.path.endswith("/chat/completions"):
                    self._send(404, b"{}", "application/json")
                    return
                body = json.loads(raw)
                reply = owner.script(role_of(body), body)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                try:
                    if isinstance(reply, str):
                        self.wfile.write(sse(reply))
                    elif isinstance(reply, bytes):
                        self.wfile.write(reply)
                    else:
                        for chunk in reply:
                            self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: what a bounded client does

            def _send(self, code: int, data: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def bodies(self) -> str:
        return "\n".join(r.body.decode("utf-8", "replace") for r in self.requests)


def configure(monkeypatch: Any, base_url: str, timeout_s: float = 20.0) -> None:
    """Point every role at ``base_url`` through the environment, as a user's settings would."""
    for ep in ("SMALL", "CHAT"):
        monkeypatch.setenv(f"BANTZ_MODELS__ENDPOINTS__{ep}__KIND", "openai")
        monkeypatch.setenv(f"BANTZ_MODELS__ENDPOINTS__{ep}__BASE_URL", base_url)
        monkeypatch.setenv(f"BANTZ_MODELS__ENDPOINTS__{ep}__MODEL", "scripted")
        monkeypatch.setenv(f"BANTZ_MODELS__ENDPOINTS__{ep}__CONNECT_RETRIES", "0")
        monkeypatch.setenv(f"BANTZ_MODELS__ENDPOINTS__{ep}__TIMEOUT_S", str(timeout_s))
    for role in ("ROUTER", "ORCHESTRATOR", "CHAT"):
        monkeypatch.setenv(f"BANTZ_MODELS__{role}__TIMEOUT_S", str(timeout_s))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
