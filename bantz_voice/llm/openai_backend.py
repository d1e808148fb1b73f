"""OpenAI-compatible chat completions over HTTP(S): vLLM in production, also llama.cpp's server
or Ollama. SSE streaming, per-call timeouts, retry with back-off on connection errors (only
before the first token), schema-constrained output in the style the endpoint understands.

Text leaving the machine (a non-loopback host) is PII-scrubbed first. The API key comes from the
environment variable named by ``api_key_env`` and is never logged; it is never sent over plain
HTTP to a non-loopback host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import os
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel

from bantz_voice.config import EndpointSettings
from bantz_voice.errors import ConfigError
from bantz_voice.llm.base import GenParams, LLMError, LLMTimeout, LLMUnavailable, Message
from bantz_voice.llm.grammar import response_format
from bantz_voice.privacy import ScrubFilter, scrub

log = logging.getLogger(__name__)
log.addFilter(ScrubFilter())

BACKOFF_S = 0.25


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
        )
        self._count_mode: str | None = None  # "vllm" | "llamacpp" | "estimate"

    # -- helpers ---------------------------------------------------------------------------
    def _outgoing(self, messages: list[Message]) -> list[Message]:
        if not self.remote:
            return [dict(m) for m in messages]
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
                        detail = (await resp.aread()).decode("utf-8", "replace")[:200]
                        log.warning("endpoint %s answered HTTP %s: %s", self.name, resp.status_code, detail)
                        if resp.status_code in (502, 503, 504) and attempt + 1 < attempts:
                            await asyncio.sleep(BACKOFF_S * 2**attempt)
                            continue
                        raise LLMError(f"Dil modeli sunucusu isteği reddetti (HTTP {resp.status_code}).")
                    async for line in resp.aiter_lines():
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            return
                        try:
                            obj = json.loads(data)
                        except json.JSONDecodeError:
                            continue
                        choices = obj.get("choices") or []
                        if not choices:
                            continue
                        piece = (choices[0].get("delta") or {}).get("content")
                        if piece:
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
