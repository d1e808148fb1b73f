"""JSON schemas from Pydantic models, as llama.cpp grammars and as OpenAI ``response_format``.

Pydantic models are the single source of every schema: ``Model.model_json_schema()``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def gbnf_for(model: type[BaseModel]) -> str:
    """GBNF text for ``model``'s schema, compact: no optional whitespace between JSON tokens
    (every space is a generated token, and it buys nothing)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    gbnf = json_schema_to_gbnf(json.dumps(schema_of(model)))
    return re.sub(r"(?m)^space ::= .*$", 'space ::= ""', gbnf)


@lru_cache(maxsize=64)
def _grammar(model: type[BaseModel]) -> Any:
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(gbnf_for(model), verbose=False)


def grammar_for(model: type[BaseModel]) -> Any:
    """A ``llama_cpp.LlamaGrammar`` that only admits JSON valid for ``model``'s schema (cached)."""
    return _grammar(model)


def response_format(model: type[BaseModel], style: Literal["json_schema", "json_object"]) -> dict[str, Any]:
    """``response_format`` for an OpenAI-compatible server.

    vLLM (and OpenAI) take ``{"type": "json_schema", "json_schema": {"name", "schema"}}``;
    llama-cpp-python's server rejects that and takes ``{"type": "json_object", "schema": ...}``.
    """
    schema = schema_of(model)
    if style == "json_object":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": model.__name__, "schema": schema, "strict": True}}
