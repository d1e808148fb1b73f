"""The one small async interface every LLM backend implements.

``stream(messages, params, schema=None)`` yields text pieces as the model produces them (closing
or cancelling the iterator stops generation); with ``schema`` (a Pydantic model class) the output
is constrained to that model's JSON schema. ``count_tokens(messages)`` counts the full prompt
with the model's own tokenizer. ``warmup(prefixes)`` loads the model and warms the KV cache of
stable prompt prefixes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from pydantic import BaseModel

from bantz_voice.errors import BantzError

if TYPE_CHECKING:
    from bantz_voice.config import RoleSettings

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
T = TypeVar("T")


class LLMError(BantzError):
    """The model could not produce an answer (message is Turkish, one line)."""


class LLMUnavailable(LLMError):
    """The server is down / the model cannot be loaded."""


class LLMTimeout(LLMError):
    """The model did not answer in time."""


@dataclass(frozen=True)
class GenParams:
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 128
    timeout_s: float = 20.0

    @classmethod
    def from_role(cls, role: RoleSettings) -> GenParams:
        return cls(
            temperature=float(role.temperature),
            top_p=float(role.top_p),
            max_tokens=int(role.max_tokens),
            timeout_s=float(role.timeout_s),
        )


class LLMBackend(Protocol):
    name: str
    note: str | None  # e.g. "fallback model in use, Turkish replies need the real model"

    def stream(
        self, messages: list[Message], params: GenParams, schema: type[BaseModel] | None = None
    ) -> AsyncIterator[str]: ...

    async def count_tokens(self, messages: list[Message]) -> int: ...

    async def warmup(self, prefixes: list[list[Message]]) -> None: ...

    # Optional: ``async def prefill(prefix) -> int`` evaluates the next prompt's shared start while
    # the engine is idle (the embedded llama.cpp backend; a server's prefix cache needs no help).

    async def aclose(self) -> None: ...


async def complete(
    backend: LLMBackend, messages: list[Message], params: GenParams, schema: type[BaseModel] | None = None
) -> str:
    """The whole output of one generation, within ``params.timeout_s``."""
    parts: list[str] = []
    async for piece in with_deadline(backend.stream(messages, params, schema), params.timeout_s):
        parts.append(piece)
    return "".join(parts)


async def with_deadline(agen: AsyncIterator[T], timeout_s: float) -> AsyncIterator[T]:
    """Re-yield ``agen`` but raise :class:`LLMTimeout` (and close it) past ``timeout_s`` in total."""
    deadline = time.monotonic() + timeout_s
    it = agen.__aiter__()
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LLMTimeout("Model zamanında yanıt vermedi.")
            try:
                item = await asyncio.wait_for(it.__anext__(), left)
            except StopAsyncIteration:
                return
            except TimeoutError as exc:
                raise LLMTimeout("Model zamanında yanıt vermedi.") from exc
            yield item
    finally:
        aclose = getattr(it, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except Exception:
                pass
