"""Schema-constrained LLM calls: validate every output, one repair attempt, then give up.

The answer's length is bounded by its schema: ``max_tokens`` is the longest answer the schema
admits (:func:`bantz_voice.llm.grammar.max_output_tokens`), never the role's free-text cap, so a
constrained decode is never cut short into invalid JSON. The role's ``timeout_s`` covers the whole
call, the repair included: a slow model costs at most that, then the caller falls back."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from bantz_voice.brain.budget import PromptParts, fit
from bantz_voice.errors import BantzError
from bantz_voice.llm.base import GenParams, LLMBackend, LLMTimeout, complete
from bantz_voice.llm.grammar import max_output_tokens
from bantz_voice.privacy import scrub_cut

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


class InvalidOutput(BantzError):
    """The model's output did not validate, also after one repair attempt."""


def constrained_params(params: GenParams, model: type[BaseModel]) -> GenParams:
    """``params`` for a decode constrained to ``model``: ``max_tokens`` is the schema's worst case."""
    return replace(params, max_tokens=max_output_tokens(model))


async def structured(
    backend: LLMBackend, params: GenParams, parts: PromptParts, budget: int, model: type[M]
) -> tuple[M, dict[str, int]]:
    """Ask for ``model`` (constrained decoding); returns (validated output, stats)."""
    deadline = time.monotonic() + params.timeout_s
    params = constrained_params(params, model)
    fitted = await fit(parts, budget, backend.count_tokens)
    stats = {"prompt_tokens": fitted.tokens, "repairs": 0}
    raw = await complete(backend, fitted.messages, replace(params, timeout_s=max(0.0, deadline - time.monotonic())), model)
    try:
        return model.model_validate_json(raw), stats
    except ValidationError as exc:
        error = exc.errors()[0]
        log.info("invalid %s output, repairing: %s", model.__name__, error.get("msg"))
    stats["repairs"] = 1
    left = deadline - time.monotonic()
    if left <= 0:
        raise LLMTimeout("Model zamanında yanıt vermedi.")
    repair = fitted.messages + [
        {"role": "assistant", "content": scrub_cut(raw, 400)},
        {
            "role": "user",
            "content": f"That output was invalid ({error.get('msg')}). Answer again with one complete, "
            "short JSON object that matches the schema.",
        },
    ]
    raw = await complete(backend, repair, replace(params, timeout_s=left), model)
    try:
        return model.model_validate_json(raw), stats
    except ValidationError as exc:
        raise InvalidOutput("Model geçerli bir yanıt üretemedi.") from exc
