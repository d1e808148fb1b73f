"""The brain (issue 4): router -> orchestrator -> chat on an OpenAI-compatible server (vLLM) or
embedded llama.cpp, with strict JSON, memory-lite and spoken confirmations.

Public API: :func:`build_brain` (the voice loop's responder), :class:`Decider` and :func:`decide`
(the NLU decision for the CLI and the evaluation: fast path first, LLM when it is not confident).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bantz_voice.config import Settings
from bantz_voice.schemas import NluDecision

if TYPE_CHECKING:
    from bantz_voice.brain.cascade import Brain
    from bantz_voice.llm import Backends
    from bantz_voice.llm.llamacpp_engine import EngineRegistry


def build_brain(settings: Settings, engines: EngineRegistry | None = None) -> Brain:
    """The responder the voice loop uses by default. Cheap to call ``respond`` many times:
    models load once (``await brain.warmup()`` at start-up loads them and warms prefix caches)."""
    from bantz_voice.brain.cascade import Brain

    return Brain(settings, engines=engines)


class Decider:
    """Decides utterances one after the other with one set of model clients: created (and their
    prefixes warmed) on first use and closed by :meth:`aclose`, unless given (the caller's, e.g. a
    warmed-up brain's). Model failures fall back to the fast path's best guess."""

    def __init__(self, settings: Settings, llm: Backends | None = None) -> None:
        self.settings = settings
        self._llm = llm
        self._owned = llm is None
        self._warm = llm is not None

    async def __call__(self, text: str, now: datetime) -> NluDecision:
        from bantz_voice.brain.router import route

        llm = None if self.settings.brain.rules_only else await self._backends()
        routed = await route(text, now, self.settings, llm)
        return routed.decision

    async def _backends(self) -> Backends:
        from bantz_voice.llm import Backends

        if self._llm is None:
            self._llm = Backends(self.settings.models)
        if not self._warm:
            self._warm = True
            await _warm(self._llm)
        return self._llm

    async def aclose(self) -> None:
        if self._owned and self._llm is not None:
            await self._llm.aclose()
        self._llm = None


async def decide(text: str, now: datetime, settings: Settings, llm: Backends | None = None) -> NluDecision:
    """One decision (see :class:`Decider`; pass ``llm`` to reuse loaded models)."""
    decider = Decider(settings, llm)
    try:
        return await decider(text, now)
    finally:
        await decider.aclose()


async def _warm(llm: Backends) -> None:
    """Warm the router and orchestrator prefixes (failures: the fast path stands)."""
    from bantz_voice.brain.orchestrator import orchestrator_parts
    from bantz_voice.brain.router import router_parts
    from bantz_voice.errors import BantzError

    for role, parts in (("router", router_parts("")), ("orchestrator", orchestrator_parts(""))):
        try:
            await llm.for_role(role).warmup([parts.stable_prefix()])
        except (BantzError, OSError):
            return


__all__ = ["Decider", "build_brain", "decide"]
