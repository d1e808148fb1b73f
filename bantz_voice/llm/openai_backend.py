"""OpenAI-compatible chat completions over HTTP(S): vLLM in production, also llama.cpp's server
or Ollama. SSE streaming, per-call timeouts, retry with back-off on connection errors (only
before the first token), schema-constrained output in the style the endpoint understands.

Every prompt is PII-scrubbed before it is sent, to a loopback port too: another local user can take
the port first, and a proxy can carry it elsewhere. A loopback URL never goes through a proxy
(``HTTP(S)_PROXY``/``ALL_PROXY`` are ignored for it). The API key comes from the environment
variable named by ``api_key_env`` (or, for the vLLM unit that ``service install --with-vllm``
writes, from its key file) and is never logged; it is never sent over plain HTTP to a non-loopback
host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel

from bantz_voice.config import EndpointSettings
from bantz_voice.errors import ConfigError
from bantz_voice.llm.base import GenParams, LLMError, LLMTimeout, LLMUnavailable, Message
from bantz_voice.llm.grammar import response_format
from bantz_voice.privacy import scrub, scrub_cut

log = logging.getLogger(__name__)

BACKOFF_S = 0.25
ERROR_BODY_MAX = 4096  # bytes of an error body read (and scrubbed) for the log
LINE_MAX = 1 << 20  # one SSE line; a server that sends more without a newline is cut off
CHARS_PER_TOKEN_MAX = 16  # a reply longer than max_tokens * this is cut: the server ignored max_tokens
STREAM_MIN_CHARS = 4096


async def _read_at_most(resp: httpx.Response, limit: int) -> bytes:
    out = b""
    async for chunk in resp.aiter_bytes():
        out += chunk
        if len(out) >= limit:
            break
    return out[:limit]


async def _sse_lines(resp: httpx.Response) -> AsyncIterator[str]:
    """The response's lines, none longer than LINE_MAX (httpx's own line reader buffers any
    length, so a server that never sends a newline would fill the memory)."""
    buf = ""
    async for text in resp.aiter_text():
        buf += text
        if "\n" not in buf and "\r" not in buf:
            if len(buf) > LINE_MAX:
                raise LLMError("Dil modeli sunucusu bozuk bir yanıt gönderdi.")
            continue
        lines = buf.splitlines(keepends=True)
        buf = lines.pop() if not lines[-1].endswith(("\n", "\r")) else ""
        for line in lines:
            yield line.rstrip("\r\n")
        if len(buf) > LINE_MAX:
            raise LLMError("Dil modeli sunucusu bozuk bir yanıt gönderdi.")
    if buf:
        yield buf


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class OpenAIBackend:
    def __init__(self, endpoint: EndpointSettings, name: str = "openai") -> None:
        if not endpoint.base_url:
            raise ConfigError(f"'{name}' uç noktası için base_url gerekli.")
        self.name = name
        self.note: str | None = None
        self.endpoint = endpoint
        base = endpoint.base_url.rstrip("/")
        if not base.endswith("/v1"):
            base += "/v1"
        self.base_url = base
        self.root_url = base[: -len("/v1")]
        parts = urlsplit(base)
        self.remote = not is_loopback(parts.hostname)
        headers: dict[str, str] = {}
        key = os.environ.get(endpoint.api_key_env) if endpoint.api_key_env else None
        if not key and not self.remote:
            from bantz_voice.llm.apikey import local_key

            key = local_key(parts.port)
        if key:
            if self.remote and parts.scheme != "https":
                raise ConfigError(f"'{name}': API anahtarı şifresiz HTTP üzerinden gönderilmez; https:// kullanın.")
            headers["Authorization"] = f"Bearer {key}"
        elif self.remote and parts.scheme != "https":
            log.warning("endpoint %s is remote and not TLS-protected", name)
        self.model = endpoint.model or "default"
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(endpoint.timeout_s, connect=min(5.0, endpoint.timeout_s)),
            trust_env=self.remote,  # no proxy (nor .netrc) for a loopback server
        )
        self._count_mode: str | None = None  # "vllm" | "llamacpp" | "estimate"

    # -- helpers ---------------------------------------------------------------------------
    def _outgoing(self, messages: list[Message]) -> list[Message]:
        return [{**m, "content": scrub(m["content"])} for m in messages]

    # -- interface -------------------------------------------------------------------------
    async def stream(
        self, messages: list[Message], params: GenParams, schema: type[BaseModel] | None = None
    ) -> AsyncIterator[str]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": self._outgoing(messages),
            "stream": True,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
        }
        if schema is not None:
            body["response_format"] = response_format(schema, self.endpoint.schema_style)
        url = f"{self.base_url}/chat/completions"
        attempts = self.endpoint.connect_retries + 1
        for attempt in range(attempts):
            try:
                async with self._client.stream("POST", url, json=body) as resp:
                    if resp.status_code >= 400:
                        detail = scrub_cut((await _read_at_most(resp, ERROR_BODY_MAX)).decode("utf-8", "replace"), 200)
                        log.warning("endpoint %s answered HTTP %s: %s", self.name, resp.status_code, detail)
                        if resp.status_code in (502, 503, 504) and attempt + 1 < attempts:
                            await asyncio.sleep(BACKOFF_S * 2**attempt)
                            continue
                        raise LLMError(f"Dil modeli sunucusu isteği reddetti (HTTP {resp.status_code}).")
                    budget = max(STREAM_MIN_CHARS, params.max_tokens * CHARS_PER_TOKEN_MAX)
                    async for line in _sse_lines(resp):
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            return
                        try:
                            obj = json.loads(data)
                        except json.JSONDecodeError:
                            continue
                        choices = obj.get("choices") if isinstance(obj, dict) else None
                        if not choices:
                            continue
                        first = choices[0] if isinstance(choices, list) and isinstance(choices[0], dict) else {}
                        delta = first.get("delta")
                        piece = delta.get("content") if isinstance(delta, dict) else None
                        if isinstance(piece, str) and piece:
                            budget -= len(piece)
                            if budget < 0:
                                log.warning("endpoint %s sent more than max_tokens allows; reply cut", self.name)
                                return
                            yield piece
                    return
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt + 1 >= attempts:
                    raise LLMUnavailable("Dil modeli sunucusuna bağlanılamadı.") from exc
                await asyncio.sleep(BACKOFF_S * 2**attempt)
            except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout) as exc:
                raise LLMTimeout("Dil modeli sunucusu zamanında yanıt vermedi.") from exc
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                raise LLMUnavailable("Dil modeli sunucusuyla bağlantı koptu.") from exc

    async def count_tokens(self, messages: list[Message]) -> int:
        """Prompt tokens by the server's tokenizer (vLLM ``/tokenize`` with messages, llama.cpp's
        ``/extras/tokenize``); a conservative estimate when the server has neither."""
        msgs = self._outgoing(messages)
        if self._count_mode in (None, "vllm"):
            try:
                r = await self._client.post(f"{self.root_url}/tokenize", json={"model": self.model, "messages": msgs})
                if r.status_code == 200 and "count" in r.json():
                    self._count_mode = "vllm"
                    return int(r.json()["count"])
            except (httpx.HTTPError, ValueError):
                pass
        if self._count_mode in (None, "llamacpp"):
            try:
                total = 0
                for m in msgs:
                    r = await self._client.post(f"{self.root_url}/extras/tokenize", json={"input": m["content"]})
                    if r.status_code != 200:
                        raise ValueError(r.status_code)
                    total += len(r.json()["tokens"]) + 5  # role header + end-of-turn markers
                self._count_mode = "llamacpp"
                return total + 3  # generation prompt
            except (httpx.HTTPError, ValueError, KeyError):
                pass
        self._count_mode = "estimate"
        return estimate_tokens(msgs)

    async def warmup(self, prefixes: list[list[Message]]) -> None:
        """Send each stable prefix once so the server's prefix cache holds it (vLLM
        ``--enable-prefix-caching``, llama.cpp's slot cache). Errors are only logged."""
        for prefix in prefixes:
            try:
                async for _ in self.stream(prefix + [{"role": "user", "content": "merhaba"}], GenParams(max_tokens=1)):
                    pass
            except LLMError as exc:
                log.warning("warm-up of %s failed: %s", self.name, exc)
                return

    async def aclose(self) -> None:
        await self._client.aclose()


def estimate_tokens(messages: list[Message]) -> int:
    """Upper-side estimate: one token per 2 UTF-8 bytes plus template overhead per message."""
    return sum(math.ceil(len(m["content"].encode("utf-8")) / 2) + 5 for m in messages) + 3
