"""JSON schemas from Pydantic models, as llama.cpp grammars and as OpenAI ``response_format``,
and the most tokens an answer to a schema can take.

Pydantic models are the single source of every schema: ``Model.model_json_schema()``. A schema
an LLM answers to is bounded by construction: every string has a ``maxLength`` (and, for the
orchestrator's words, a pattern of the characters Turkish words need, repeated at most that
often), every array a ``maxItems``, no other free-form value; the grammar admits no whitespace
between JSON tokens. :func:`max_output_tokens` is then the longest answer the grammar admits, in
tokens, for any tokenizer: the decode's ``max_tokens`` (brain/structured.py), so a constrained
answer can neither be cut short nor run on.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel

# the longest JSON text of one character of a string without a pattern: the grammar's ``char``
# admits an escape, ``\uXXXX``
ESCAPED_CHAR_BYTES = 6
# a pattern the bound understands: one character class repeated a bounded number of times
_BOUNDED_PATTERN = re.compile(r"^\^\[((?:\\.|[^\]\\])+)\]\{(\d+),(\d+)\}\$$")


class UnboundedSchema(ValueError):
    """A schema admits answers of any length (a string without maxLength, an array without
    maxItems, a number, an open object): it cannot be a constrained answer's schema."""


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


# --- the longest answer -----------------------------------------------------------------------------
def _class_bytes(body: str) -> int:
    """The longest UTF-8 encoding of one character of a regex character class body."""
    if body.startswith("^"):
        return 4  # a negated class admits any character
    chars = re.sub(r"\\(.)", r"\1", body)
    return max(len(c.encode("utf-8")) for c in chars)


def _string_bytes(node: dict[str, Any], where: str) -> int:
    if "enum" in node or "const" in node:
        values = node.get("enum", [node.get("const")])
        return max(len(json.dumps(v, ensure_ascii=False).encode("utf-8")) for v in values)
    pattern = node.get("pattern")
    if pattern is not None:
        m = _BOUNDED_PATTERN.match(pattern)
        if m is None:
            raise UnboundedSchema(f"{where}: pattern {pattern!r} is not one bounded character class")
        return 2 + int(m.group(3)) * _class_bytes(m.group(1))
    if "maxLength" not in node:
        raise UnboundedSchema(f"{where}: a string without maxLength")
    return 2 + int(node["maxLength"]) * ESCAPED_CHAR_BYTES


def _node_bytes(node: dict[str, Any], defs: dict[str, Any], where: str) -> int:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _node_bytes(defs[name], defs, f"{where}->{name}")
    for key in ("anyOf", "oneOf"):
        if key in node:
            return max(_node_bytes(n, defs, where) for n in node[key])
    if "allOf" in node and len(node["allOf"]) == 1:
        return _node_bytes(node["allOf"][0], defs, where)
    if "enum" in node or "const" in node:
        values = node.get("enum", [node.get("const")])
        return max(len(json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) for v in values)
    kind = node.get("type")
    if kind == "string":
        return _string_bytes(node, where)
    if kind == "boolean":
        return len("false")
    if kind == "null":
        return len("null")
    if kind == "array":
        if "maxItems" not in node:
            raise UnboundedSchema(f"{where}: an array without maxItems")
        n = int(node["maxItems"])
        item = _node_bytes(node.get("items", {}), defs, f"{where}[]")
        return 2 + n * item + max(0, n - 1)
    if kind == "object":
        if node.get("additionalProperties", False) is not False:
            raise UnboundedSchema(f"{where}: an object that admits other properties")
        props = node.get("properties", {})
        size = 2 + max(0, len(props) - 1)  # braces and commas, every property present
        for name, sub in props.items():
            size += len(json.dumps(name, ensure_ascii=False).encode("utf-8")) + 1 + _node_bytes(sub, defs, f"{where}.{name}")
        return size
    raise UnboundedSchema(f"{where}: {kind or node!r} has no bound")


def max_output_bytes(model: type[BaseModel]) -> int:
    """The longest JSON text (UTF-8 bytes) the compact grammar of ``model`` admits; raises
    :class:`UnboundedSchema` when there is none."""
    schema = schema_of(model)
    return _node_bytes(schema, schema.get("$defs", {}), model.__name__)


def max_output_tokens(model: type[BaseModel]) -> int:
    """The most tokens a constrained answer to ``model`` can take, for any tokenizer: every token
    the grammar admits covers at least one byte (llama.cpp's grammar sampler rejects empty
    pieces), plus the end-of-sequence token."""
    return max_output_bytes(model) + 1
