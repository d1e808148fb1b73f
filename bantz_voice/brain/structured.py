"""Schema-constrained LLM calls: validate every output, one repair attempt, then give up."""

from __future__ import annotations

import logging
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from bantz_voice.brain.budget import PromptParts, fit
from bantz_voice.errors import BantzError
from bantz_voice.llm.base import GenParams, LLMBackend, complete
from bantz_voice.privacy import scrub_cut

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


class InvalidOutput(BantzError):
    """The model's output did not validate, also after one repair attempt."""


async def structured(
    backend: LLMBackend, params: GenParams, parts: PromptParts, budget: int, model: type[M]
) -> tuple[M, dict[str, int]]:
    """Ask for ``model`` (constrained decoding); returns (validated output, stats)."""
    fitted = await fit(parts, budget, backend.count_tokens)
    stats = {"prompt_tokens": fitted.tokens, "repairs": 0}
    raw = await complete(backend, fitted.messages, params, model)
    try:
        return model.model_validate_json(raw), stats
    except ValidationError as exc:
        error = exc.errors()[0]
        log.info("invalid %s output, repairing: %s", model.__name__, error.get("msg"))
    stats["repairs"] = 1
    repair = fitted.messages + [
        {"role": "assistant", "content": scrub_cut(raw, 400)},
        {
            "role": "user",
            "content": f"That output was invalid ({error.get('msg')}). Answer again with one complete, "
            "short JSON object that matches the schema.",
        },
    ]
    raw = await complete(backend, repair, params, model)
    try:
        return model.model_validate_json(raw), stats
    except ValidationError as exc:
        raise InvalidOutput("Model geçerli bir yanıt üretemedi.") from exc
