"""LLM backends behind one small async interface (see :mod:`bantz_voice.llm.base`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bantz_voice.config import EndpointSettings, ModelSettings
from bantz_voice.errors import ConfigError
from bantz_voice.llm.base import (
    GenParams,
    LLMBackend,
    LLMError,
    LLMTimeout,
    LLMUnavailable,
    Message,
    complete,
    with_deadline,
)

if TYPE_CHECKING:
    from bantz_voice.llm.llamacpp_engine import EngineRegistry

ROLES = ("router", "orchestrator", "chat")


def make_backend(endpoint: EndpointSettings, name: str, engines: EngineRegistry) -> LLMBackend:
    """The backend of one endpoint; embedded models come from (and stay in) ``engines``."""
    if endpoint.kind == "openai":
        from bantz_voice.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(endpoint, name)
    from bantz_voice.llm.llamacpp_backend import LlamaCppBackend

    return LlamaCppBackend(endpoint, name, engines=engines)


class Backends:
    """One backend per configured endpoint, created lazily; roles map onto endpoints.

    The embedded models live in ``engines`` (one per file, however many endpoints name it). A
    ``Backends`` that created its registry owns it and frees the models in :meth:`aclose`; pass
    ``engines`` to share loaded models with another owner (e.g. a brain rebuilt by a reload),
    which then closes them."""

    def __init__(self, models: ModelSettings, engines: EngineRegistry | None = None) -> None:
        from bantz_voice.llm.llamacpp_engine import EngineRegistry
        from bantz_voice.llm.profiles import effective_models

        self.models = effective_models(models)  # the GPU profile on an NVIDIA card with >= 8 GB
        self._owns_engines = engines is None
        self.engines = engines if engines is not None else EngineRegistry()
        self._by_endpoint: dict[str, LLMBackend] = {}

    def for_role(self, role: str) -> LLMBackend:
        if role not in ROLES:
            raise ValueError(role)
        ep_name = getattr(self.models, role).endpoint
        if ep_name not in self.models.endpoints:
            raise ConfigError(f"'{role}' rolü için tanımsız uç nokta: {ep_name}")
        if ep_name not in self._by_endpoint:
            self._by_endpoint[ep_name] = make_backend(self.models.endpoints[ep_name], ep_name, self.engines)
        return self._by_endpoint[ep_name]

    def params(self, role: str) -> GenParams:
        return GenParams.from_role(getattr(self.models, role))

    def budget(self, role: str) -> int:
        return int(getattr(self.models, role).input_budget)

    async def aclose(self) -> None:
        for backend in self._by_endpoint.values():
            await backend.aclose()
        self._by_endpoint.clear()
        if self._owns_engines:
            import asyncio

            await asyncio.to_thread(self.engines.close)  # waits for a generation in progress to stop


__all__ = [
    "Backends",
    "GenParams",
    "LLMBackend",
    "LLMError",
    "LLMTimeout",
    "LLMUnavailable",
    "Message",
    "ROLES",
    "complete",
    "make_backend",
    "with_deadline",
]
