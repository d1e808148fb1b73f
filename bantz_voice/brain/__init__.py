"""The brain (issue 4): router -> orchestrator -> chat on an OpenAI-compatible server (vLLM) or
embedded llama.cpp, with strict JSON, memory-lite and spoken confirmations.

Public API: :func:`build_brain` (the voice loop's responder) and :func:`decide` (NLU decision,
fast path first, LLM when the fast path is not confident).
"""

from __future__ import annotations

from datetime import datetime

from bantz_voice.config import Settings
from bantz_voice.schemas import NluDecision

_DECIDE_LLM: dict[str, object] = {}


def build_brain(settings: Settings):
    """The responder the voice loop uses by default. Cheap to call ``respond`` many times:
    models load once (``await brain.warmup()`` at start-up loads them and warms prefix caches)."""
    from bantz_voice.brain.cascade import Brain

    return Brain(settings)


async def decide(text: str, now: datetime, settings: Settings) -> NluDecision:
    """Fast path first; the LLM router (+ orchestrator for slots) when it is not confident.
    Model failures fall back to the fast path's best guess."""
    from bantz_voice.brain.router import route
    from bantz_voice.llm import Backends

    llm = None
    if not settings.brain.rules_only:
        key = settings.models.model_dump_json()
        llm = _DECIDE_LLM.get(key)
        if llm is None:
            llm = _DECIDE_LLM[key] = Backends(settings.models)
            await _warm(llm)
    routed = await route(text, now, settings, llm, baseline=settings.brain.baseline)  # type: ignore[arg-type]
    return routed.decision


async def _warm(llm) -> None:
    """Warm the router and orchestrator prefixes once per process (failures: the fast path stands)."""
    from bantz_voice.brain.orchestrator import orchestrator_parts
    from bantz_voice.brain.router import router_parts
    from bantz_voice.errors import BantzError

    for role, parts in (("router", router_parts("")), ("orchestrator", orchestrator_parts(""))):
        try:
            await llm.for_role(role).warmup([parts.stable_prefix()])
        except (BantzError, OSError):
            return


__all__ = ["build_brain", "decide"]
