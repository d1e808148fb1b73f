"""Embedded llama.cpp (``llama-cpp-python``) with a GGUF model: the async backend.

:class:`LlamaCppBackend` is the :class:`bantz_voice.llm.base.LLMBackend` of one endpoint. It gets
its :class:`~bantz_voice.llm.llamacpp_engine.Engine` (the loaded model) from the
:class:`~bantz_voice.llm.llamacpp_engine.EngineRegistry` its factory (:class:`bantz_voice.llm.Backends`)
holds, so every endpoint naming the same file shares one copy of the weights. Generation runs in
the engine's worker thread; each token is handed to the event loop and a cancel flag is checked
per token, so cancelling the consuming task stops generation within one token.

Warm prefix cache: ``warmup(prefixes)`` evaluates each role's stable prompt prefix (system prompt
and few-shot examples) once and keeps a snapshot of the KV state (:mod:`bantz_voice.llm.kvcache`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from bantz_voice.config import EndpointSettings
from bantz_voice.llm.base import GenParams, LLMError, Message
from bantz_voice.llm.grammar import grammar_for
from bantz_voice.llm.llamacpp_engine import Engine, EngineRegistry, resolve_gguf
from bantz_voice.voice.bridge import ThreadBridge

log = logging.getLogger(__name__)

T = TypeVar("T")


class LlamaCppBackend:
    def __init__(self, endpoint: EndpointSettings, name: str = "llamacpp", *, engines: EngineRegistry | None = None) -> None:
        """``engines``: the registry shared with the other backends of the same owner (a new
        one, owned by this backend alone, when not given)."""
        self.name = name
        self.endpoint = endpoint
        self.note: str | None = None
        self.engines = engines if engines is not None else EngineRegistry()
        self._engine: Engine | None = None

    def _get_engine(self) -> Engine:
        if self._engine is None:
            path, note = resolve_gguf(self.endpoint.gguf)
            self.note = note
            self._engine = self.engines.engine_for(path, self.endpoint)
        return self._engine

    @property
    def prefix_cache(self) -> bool:
        return self._get_engine().cache.enabled

    @prefix_cache.setter
    def prefix_cache(self, on: bool) -> None:
        self._get_engine().cache.enabled = on

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        eng = self._get_engine()
        return await asyncio.get_running_loop().run_in_executor(eng.executor, fn, *args)

    async def load(self) -> None:
        await self._in_thread(self._get_engine().load)

    async def count_tokens(self, messages: list[Message]) -> int:
        eng = self._get_engine()
        if eng.llm is None:
            await self.load()
        return len(eng.tokens(messages))

    async def warmup(self, prefixes: list[list[Message]]) -> None:
        eng = await asyncio.to_thread(self._get_engine)  # finding the file may try a download: off the loop

        def work() -> None:
            with eng.lock:
                eng.warm(prefixes)

        await self._in_thread(work)

    async def stream(
        self, messages: list[Message], params: GenParams, schema: type[BaseModel] | None = None
    ) -> AsyncIterator[str]:
        eng = self._get_engine()
        if eng.llm is None:
            await self.load()
        eng.prefill_cancel.set()  # a prefill still running yields at its next chunk
        tokens = eng.tokens(messages)
        grammar = grammar_for(schema) if schema is not None else None
        bridge: ThreadBridge[tuple[str, Any]] = ThreadBridge()
        cancel = threading.Event()

        def put(kind: str, value: Any) -> None:
            if not bridge.put((kind, value)):  # the loop is gone: the consumer has left
                cancel.set()

        def work() -> None:
            try:
                eng.generate(tokens, params, grammar, lambda t: put("tok", t), cancel)
                put("end", None)
            except BaseException as exc:
                put("err", exc)
                return
            if grammar is None:  # a chat reply (after "end": off the reply's path)
                try:
                    eng.remember()
                except Exception as exc:
                    log.warning("could not keep the conversation's KV state: %s", exc)

        eng.executor.submit(work)
        try:
            while True:
                kind, value = await bridge.get()
                if kind == "tok":
                    yield value
                elif kind == "end":
                    return
                else:
                    if isinstance(value, LLMError):
                        raise value
                    raise LLMError("Dil modeli yanıt üretirken hata oluştu.") from value
        finally:
            cancel.set()

    async def prefill(self, prefix: list[Message]) -> int:
        """Evaluate ``prefix`` (the next chat prompt less its user turn) into the KV cache while
        nothing else needs the engine; any request cancels it between chunks."""
        eng = self._get_engine()
        if eng.llm is None:
            await self.load()
        cancel = eng.prefill_cancel = threading.Event()
        return await self._in_thread(eng.prefill, prefix, cancel)

    async def aclose(self) -> None:
        return None  # the engine belongs to the registry: its owner closes it
