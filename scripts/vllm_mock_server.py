#!/usr/bin/env python3
"""SIMULATOR of a vLLM server (OpenAI-compatible), for measuring the pipeline at GPU speed on a
machine without a GPU. It is not a language model: replies are canned Turkish sentences and JSON
answers are instances built from the requested JSON schema, streamed with the configured timing.

* ``GET /v1/models`` (``owned_by: "bantz-simulator"``), ``GET /health``
* ``POST /v1/chat/completions`` — streaming (SSE like vLLM, ``data: [DONE]``, a final ``usage``
  chunk when ``stream_options.include_usage``) and non-streaming.
* ``response_format``: ``{"type": "json_schema", "json_schema": {"schema": …}}`` (vLLM/OpenAI),
  ``{"type": "json_object", "schema": …}`` (llama-cpp-python server) and vLLM's ``guided_json``;
  the output is a valid instance of the schema.
* Timing per model: time to first token, per-token delay, jitter. Defaults are the model
  strategy's RTX 4060 targets: ``bantz-sim-3b`` 85 ms + 120 tok/s, ``bantz-sim-8b`` 190 ms + 50 tok/s.

``make run`` never uses this; only ``scripts/bench_*.py`` and tests start it.

    python scripts/vllm_mock_server.py --port 8009 --model bantz-sim-3b=85:120:10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

OWNED_BY = "bantz-simulator"


# --- timing profiles -------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelProfile:
    name: str
    ttft_ms: float
    tok_s: float
    jitter_ms: float = 0.0

    @property
    def token_delay_s(self) -> float:
        return 1.0 / self.tok_s

    @classmethod
    def parse(cls, spec: str) -> ModelProfile:
        """``NAME=TTFT_MS:TOK_PER_S[:JITTER_MS]``."""
        try:
            name, timing = spec.split("=", 1)
            parts = [float(x) for x in timing.split(":")]
            if len(parts) not in (2, 3) or parts[0] < 0 or parts[1] <= 0:
                raise ValueError
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad --model {spec!r}: want NAME=TTFT_MS:TOK_PER_S[:JITTER_MS]") from None
        return cls(name.strip(), parts[0], parts[1], parts[2] if len(parts) == 3 else 0.0)


DEFAULT_PROFILES: tuple[ModelProfile, ...] = (
    ModelProfile("bantz-sim-3b", ttft_ms=85.0, tok_s=120.0, jitter_ms=8.0),
    ModelProfile("bantz-sim-8b", ttft_ms=190.0, tok_s=50.0, jitter_ms=15.0),
)


# --- JSON schema -> valid instance -----------------------------------------------------------
_ROUTE_WORDS: dict[str, tuple[str, ...]] = {
    "calendar": ("takvim", "randevu", "toplantı", "etkinlik", "ekle", "sil", "iptal", "ertele", "kaydır",
                 "ajanda", "program", "neler var", "ne var", "planla", "hatırlat", "oluştur", "taşı"),
    "system": ("saat kaç", "saati", "bugün günlerden", "tarih", "hangi gün", "ayın kaçı"),
    "unknown": ("hava", "müzik", "şarkı", "mesaj", "e-posta", "mail", "ışık", "dolar", "borsa", "trafik"),
}
_INTENT_OF_ROUTE = {"calendar": "calendar.query", "system": "system.time", "smalltalk": "smalltalk.chat",
                    "unknown": "unknown"}


def guess_route(text: str) -> str:
    """A crude keyword guess so that simulated router answers are plausible (not a model!)."""
    low = text.replace("İ", "i").replace("I", "ı").lower()
    for route in ("system", "calendar", "unknown"):
        if any(w in low for w in _ROUTE_WORDS[route]):
            return route
    return "smalltalk"


def guess_intent(text: str, route: str) -> str:
    low = text.lower()
    if route == "calendar":
        if any(w in low for w in ("sil", "iptal")):
            return "calendar.delete"
        if any(w in low for w in ("ertele", "kaydır", "taşı", "değiştir")):
            return "calendar.update"
        if any(w in low for w in ("ekle", "oluştur", "planla", "koy", "hatırlat")):
            return "calendar.create"
        return "calendar.query"
    if route == "system":
        return "system.date" if any(w in low for w in ("tarih", "gün", "ayın")) else "system.time"
    return _INTENT_OF_ROUTE[route]


_TOOLS_OF_INTENT: dict[str, tuple[str, ...]] = {
    "calendar.create": ("calendar.create",),
    "calendar.query": ("calendar.list",),
    "calendar.update": ("calendar.find", "calendar.update"),
    "calendar.delete": ("calendar.find", "calendar.delete"),
}
_TIME_WORDS = frozenset(["bugün", "yarın", "öbür", "saat", "sabah", "akşam", "öğle", "öğlen", "öğleden", "sonra", "gece", "bu", "hafta", "haftaya", "gelecek", "buçuk"])
_TIME_STEMS = ("pazartesi", "salı", "çarşamba", "perşembe", "cuma", "cumartesi", "pazar", "bir", "iki", "üç", "dört",
               "beş", "altı", "yedi", "sekiz", "dokuz", "on", "yarın", "bugün", "akşam", "sabah")
_TITLE_STOP = frozenset(
    ["yarın", "bugün", "saat", "sabah", "akşam", "öğleden", "sonra", "gece", "ekle", "oluştur", "planla", "iptal", "ertele", "bantz", "lütfen", "haftaya", "gelecek", "pazartesi", "salı", "çarşamba", "perşembe", "cuma", "cumartesi", "pazar", "buçukta", "randevusu", "toplantısı"]
)


class SchemaFaker:
    """Builds a value that validates against a JSON schema (the subset Pydantic emits, plus common
    keywords). ``hints`` steer well-known keys (route, intent, confidence…) to plausible values."""

    def __init__(self, root: dict[str, Any], text: str = "") -> None:
        self.root = root
        self.text = text
        self.route = guess_route(text)
        self.intent = guess_intent(text, self.route)

    # public
    def build(self) -> Any:
        return self._value(self.root, key=None, depth=0)

    # helpers
    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 32:
            ref = schema["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"unsupported $ref {ref}")
            node: Any = self.root
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            merged = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**node, **merged}
            seen += 1
        return schema

    def _hint(self, key: str | None, schema: dict[str, Any]) -> Any:
        """A plausible value for a well-known key, or ``_NO`` when the key is not known."""
        if key is None:
            return _NO
        k = key.lower()
        if k == "route":
            return self.route
        if k == "intent":
            return self.intent
        if k == "confidence":
            return 0.9
        if k in ("reasoning", "reason", "explanation", "thought"):
            return "Kullanıcı isteği anahtar sözcüklere göre sınıflandırıldı."
        if k == "requires_confirmation":
            return self.intent in ("calendar.delete", "calendar.update")
        if k in ("title", "baslik"):
            words = [w for w in re.findall(r"\w+", self.text) if len(w) > 3 and w.lower() not in _TITLE_STOP][:2]
            return " ".join(words) or "etkinlik"
        if k in ("reply", "text", "answer", "message"):
            return "Tamam efendim."
        if k in ("tools", "tool_calls"):
            return list(_TOOLS_OF_INTENT.get(self.intent, ()))
        if k in ("start", "new_start", "target_date", "range_start", "range_end"):
            wanted = {"start": ("calendar.create",), "new_start": ("calendar.update",),
                      "target_date": ("calendar.update", "calendar.delete"),
                      "range_start": ("calendar.query",), "range_end": ("calendar.query",)}[k]
            if self.intent in wanted:
                expr = " ".join(w for w in re.findall(r"[\w']+", self.text.lower()) if w in _TIME_WORDS or w[:1].isdigit()
                                or any(w.startswith(t) for t in _TIME_STEMS))
                return expr or "bugün"
            return _NO
        return _NO

    def _value(self, schema: Any, key: str | None, depth: int) -> Any:
        if schema is True or schema is None or schema == {}:
            hint = self._hint(key, {})
            return "tamam" if hint is _NO else hint
        schema = self._resolve(schema)
        if depth > 24:
            raise ValueError("schema too deep")
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self._pick_enum(schema["enum"], key)
        for comb in ("anyOf", "oneOf"):
            if comb in schema:
                return self._value(self._pick_branch(schema[comb], key), key, depth + 1)
        if "allOf" in schema:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for sub in schema["allOf"]:
                sub = self._resolve(sub)
                for k2, v2 in sub.items():
                    if k2 in ("properties",) and k2 in merged:
                        merged[k2] = {**merged[k2], **v2}
                    elif k2 == "required" and k2 in merged:
                        merged[k2] = list(dict.fromkeys([*merged[k2], *v2]))
                    else:
                        merged[k2] = v2
            return self._value(merged, key, depth + 1)
        typ = schema.get("type")
        if isinstance(typ, list):
            non_null = [t for t in typ if t != "null"]
            typ = non_null[0] if non_null else "null"
        if typ is None:
            typ = "object" if "properties" in schema else "array" if "items" in schema else "string"
        return getattr(self, f"_{typ}")(schema, key, depth)

    def _pick_enum(self, values: list[Any], key: str | None) -> Any:
        hint = self._hint(key, {})
        if hint is not _NO and hint in values:
            return hint
        if key and key.lower() == "confidence" and "high" in values:
            return "high"
        return values[0]

    def _pick_branch(self, branches: list[Any], key: str | None) -> Any:
        resolved = [self._resolve(b) if isinstance(b, dict) else b for b in branches]
        hint = self._hint(key, {})
        non_null = [b for b in resolved if not (isinstance(b, dict) and b.get("type") == "null")]
        if hint is _NO:
            # unknown optional key: null when allowed keeps answers short, like a model would
            if len(non_null) < len(resolved):
                return {"type": "null"}
            return non_null[0]
        for b in non_null:
            if isinstance(b, dict) and (
                ("enum" in b and hint in b["enum"])
                or (b.get("type") == "string" and isinstance(hint, str))
                or (b.get("type") in ("number", "integer") and isinstance(hint, (int, float)) and not isinstance(hint, bool))
                or (b.get("type") == "boolean" and isinstance(hint, bool))
            ):
                return b
        return non_null[0] if non_null else resolved[0]

    def _null(self, schema: dict[str, Any], key: str | None, depth: int) -> None:
        return None

    def _boolean(self, schema: dict[str, Any], key: str | None, depth: int) -> bool:
        hint = self._hint(key, schema)
        return hint if isinstance(hint, bool) else False

    def _number(self, schema: dict[str, Any], key: str | None, depth: int, integer: bool = False) -> float | int:
        import math

        hint = self._hint(key, schema)
        value: float = hint if isinstance(hint, (int, float)) and not isinstance(hint, bool) else 1.0
        lows = [(schema["minimum"], False)] if "minimum" in schema else []
        lows += [(schema["exclusiveMinimum"], True)] if "exclusiveMinimum" in schema else []
        highs = [(schema["maximum"], False)] if "maximum" in schema else []
        highs += [(schema["exclusiveMaximum"], True)] if "exclusiveMaximum" in schema else []

        def ok(v: float) -> bool:
            return all(v > b if ex else v >= b for b, ex in lows) and all(v < b if ex else v <= b for b, ex in highs)

        step = schema.get("multipleOf") or (1 if integer else None)
        if step is None and not ok(value):
            lo = max((b for b, _ in lows), default=None)
            hi = min((b for b, _ in highs), default=None)
            value = (lo + hi) / 2 if lo is not None and hi is not None else (lo + 1 if lo is not None else hi - 1)
        elif step is not None and not (ok(value) and float(value / step).is_integer()):
            lo = max((b for b, _ in lows), default=value - 10 * step)
            k = math.ceil(lo / step)
            value = k * step
            for _ in range(1000):
                if ok(value) and (not integer or float(value).is_integer()):
                    break
                k += 1
                value = k * step
            else:
                raise ValueError("no number satisfies the bounds")
            if not ok(value):
                raise ValueError("no number satisfies the bounds")
        return int(value) if integer else value

    def _integer(self, schema: dict[str, Any], key: str | None, depth: int) -> int:
        return int(self._number(schema, key, depth, integer=True))

    def _string(self, schema: dict[str, Any], key: str | None, depth: int) -> str:
        fmt = schema.get("format")
        hint = self._hint(key, schema)
        if fmt == "date-time":
            value = "2026-11-27T16:00:00+03:00"
        elif fmt == "date":
            value = "2026-11-27"
        elif fmt == "time":
            value = "16:00:00"
        elif fmt == "email":
            value = "kullanici@example.com"
        elif fmt in ("uri", "url"):
            value = "https://example.com/"
        elif fmt == "uuid":
            value = "00000000-0000-4000-8000-000000000000"
        elif isinstance(hint, str):
            value = hint
        else:
            value = "yarın saat dörtte" if key and any(s in key.lower() for s in ("time", "when", "zaman", "start", "date")) else "tamam"
        pattern = schema.get("pattern")
        if pattern and not re.search(pattern, value):
            value = _string_for_pattern(pattern)
        lo, hi = schema.get("minLength", 0), schema.get("maxLength")
        if len(value) < lo:
            value = value + "a" * (lo - len(value))
        if hi is not None and len(value) > hi:
            value = value[:hi]
        return value

    def _array(self, schema: dict[str, Any], key: str | None, depth: int) -> list[Any]:
        if "prefixItems" in schema:
            return [self._value(s, None, depth + 1) for s in schema["prefixItems"]]
        hint = self._hint(key, schema)
        items_schema = self._resolve(schema.get("items", {})) if isinstance(schema.get("items"), dict) else {}
        if isinstance(hint, list) and "enum" in items_schema and all(h in items_schema["enum"] for h in hint):
            lo_n, hi_n = schema.get("minItems", 0), schema.get("maxItems")
            if len(hint) >= lo_n and (hi_n is None or len(hint) <= hi_n):
                return list(hint)
        tool = self._resolve(items_schema.get("properties", {}).get("tool", {})) if items_schema else {}
        if isinstance(hint, list) and "enum" in tool and all(h in tool["enum"] for h in hint) \
                and set(items_schema.get("required", [])) <= {"tool"}:
            hi_n = schema.get("maxItems")
            return [{"tool": h} for h in hint][: hi_n if hi_n is not None else None]  # plan steps
        n = max(schema.get("minItems", 0), 1 if key and "step" in key.lower() else 0)
        if schema.get("maxItems") is not None:
            n = min(n, schema["maxItems"])
        items = schema.get("items", {})
        out = [self._value(items, None, depth + 1) for _ in range(n)]
        if schema.get("uniqueItems") and n > 1:
            raise ValueError("uniqueItems with minItems > 1 not supported")
        return out

    def _object(self, schema: dict[str, Any], key: str | None, depth: int) -> dict[str, Any]:
        props: dict[str, Any] = schema.get("properties", {})
        required = list(schema.get("required", []))
        out: dict[str, Any] = {}
        for name in required:
            out[name] = self._value(props.get(name, {}), name, depth + 1)
        for name, sub in props.items():
            if name in out:
                continue
            if self._hint(name, {}) is not _NO:  # plausible optional keys a model would fill
                value = self._value(sub, name, depth + 1)
                if value is not None:
                    out[name] = value
        min_props = schema.get("minProperties", 0)
        extra = 0
        while len(out) < min_props:
            out[f"alan{extra}"] = self._value(schema.get("additionalProperties", {}) or {}, None, depth + 1)
            extra += 1
        return out


class _NoHint:
    pass


_NO = _NoHint()

_SIMPLE_PATTERNS: dict[str, str] = {
    r"\d{4}-\d{2}-\d{2}": "2026-11-27",
    r"\d{2}:\d{2}": "16:00",
}


def _string_for_pattern(pattern: str) -> str:
    """A string for the patterns schemas use here (dates/times), else a small regex walker."""
    for frag, sample in (
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", "2026-11-27T16:00"),
        (r"\d{4}-\d{2}-\d{2}", "2026-11-27"),
        (r"\d{2}:\d{2}", "16:00"),
    ):
        if frag in pattern and re.search(pattern, sample):
            return sample
    body = pattern.removeprefix("^").removesuffix("$")
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"d": "1", "w": "a", "s": " "}.get(nxt, nxt))
            i += 2
        elif c == "[":
            j = body.index("]", i)
            cls = body[i + 1 : j].lstrip("^")
            out.append(cls[0] if cls else "a")
            i = j + 1
        elif c == "{":
            j = body.index("}", i)
            n = int(body[i + 1 : j].split(",")[0] or 1)
            out.extend(out[-1:] * (n - 1))
            i = j + 1
        elif c in "+*?()|.":
            if c == ".":
                out.append("a")
            i += 1
        else:
            out.append(c)
            i += 1
    sample = "".join(out)
    if not re.search(pattern, sample):
        raise ValueError(f"cannot build a string for pattern {pattern!r}")
    return sample


def instance_for_schema(schema: dict[str, Any], text: str = "") -> Any:
    return SchemaFaker(schema, text).build()


# --- canned Turkish replies ------------------------------------------------------------------
_CHAT_SENTENCES = (
    "Tabii efendim, hemen yardımcı olayım.",
    "Bugün sizin için her şey yolunda görünüyor.",
    "Kısa bir mola vermek size iyi gelebilir.",
    "Başka bir isteğiniz olursa buradayım.",
    "Takviminizi düzenli tutmak için elimden geleni yaparım.",
    "Güzel bir gün geçirmenizi dilerim efendim.",
)


def chat_text(messages: list[dict[str, Any]], rng: random.Random) -> str:
    n = rng.randint(2, 3)
    start = rng.randrange(len(_CHAT_SENTENCES))
    return " ".join(_CHAT_SENTENCES[(start + i) % len(_CHAT_SENTENCES)] for i in range(n))


def tokenize(text: str) -> list[str]:
    """Rough BPE-like pieces: a leading space stays with its word, long words split in ~4 chars."""
    pieces: list[str] = []
    for m in re.finditer(r"\s*\S+", text):
        word = m.group(0)
        while len(word) > 5:
            pieces.append(word[:4])
            word = word[4:]
        pieces.append(word)
    return pieces or [""]


def count_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    total = 0
    for m in messages:
        content = m.get("content") or ""
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        total += len(tokenize(str(content))) + 4
    return total


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            content = m.get("content") or ""
            if isinstance(content, list):
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            # prompts often wrap the utterance: prefer a quoted part or the last line
            text = str(content)
            quoted = re.findall(r"[\"“«](.+?)[\"”»]", text)
            return quoted[-1] if quoted else text.strip().splitlines()[-1] if text.strip() else ""
    return ""


def requested_schema(body: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """(wants_json, schema or None) from ``response_format`` / ``guided_json``."""
    if isinstance(body.get("guided_json"), (dict, str)):
        g = body["guided_json"]
        return True, json.loads(g) if isinstance(g, str) else g
    rf = body.get("response_format")
    if not isinstance(rf, dict):
        return False, None
    kind = rf.get("type")
    if kind == "json_schema":
        js = rf.get("json_schema") or {}
        schema = js.get("schema") if isinstance(js, dict) else None
        if not isinstance(schema, dict):
            raise ValueError("response_format.json_schema.schema is required")
        return True, schema
    if kind == "json_object":
        schema = rf.get("schema")
        return True, schema if isinstance(schema, dict) else None
    if kind in (None, "text"):
        return False, None
    raise ValueError(f"unsupported response_format type {kind!r}")


# --- the app ---------------------------------------------------------------------------------
def create_app(profiles: list[ModelProfile], seed: int | None = None) -> FastAPI:
    by_name = {p.name: p for p in profiles}
    rng = random.Random(seed)
    app = FastAPI(title="Bantz vLLM SIMULATOR")
    created = int(time.time())

    def err(status: int, message: str, typ: str = "BadRequestError") -> JSONResponse:
        return JSONResponse({"object": "error", "message": message, "type": typ, "param": None, "code": status},
                            status_code=status)

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({})

    @app.get("/v1/models")
    async def models() -> JSONResponse:
        return JSONResponse({
            "object": "list",
            "data": [
                {"id": p.name, "object": "model", "created": created, "owned_by": OWNED_BY, "root": p.name,
                 "max_model_len": 4096, "simulator": {"ttft_ms": p.ttft_ms, "tok_s": p.tok_s, "jitter_ms": p.jitter_ms}}
                for p in profiles
            ],
        })

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        try:
            body = await request.json()
        except Exception:
            return err(400, "invalid JSON body")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
            return err(400, "'messages' must be a non-empty list")
        model = body.get("model") or profiles[0].name
        profile = by_name.get(model)
        if profile is None:
            return err(404, f"The model `{model}` does not exist.", "NotFoundError")
        try:
            wants_json, schema = requested_schema(body)
        except (ValueError, json.JSONDecodeError) as exc:
            return err(400, str(exc))
        messages = body["messages"]
        user = last_user_text(messages)
        if wants_json:
            try:
                value = instance_for_schema(schema, user) if schema else {"yanit": "tamam"}
            except (ValueError, KeyError, TypeError) as exc:
                return err(400, f"unsupported schema: {exc}")
            text = json.dumps(value, ensure_ascii=False)
        else:
            text = chat_text(messages, rng)
        pieces = tokenize(text)
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
        finish = "stop"
        if isinstance(max_tokens, int) and max_tokens > 0 and len(pieces) > max_tokens:
            pieces, finish = pieces[:max_tokens], "length"
        prompt_tokens = count_prompt_tokens(messages)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(pieces),
                 "total_tokens": prompt_tokens + len(pieces)}
        cid = f"chatcmpl-{uuid.uuid4().hex}"

        def delay(base_s: float) -> float:
            j = profile.jitter_ms / 1000.0
            return max(0.0, base_s + (rng.uniform(-j, j) if j else 0.0))

        if not body.get("stream"):
            await asyncio.sleep(delay(profile.ttft_ms / 1000.0) + profile.token_delay_s * (len(pieces) - 1))
            return JSONResponse({
                "id": cid, "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(pieces)},
                             "logprobs": None, "finish_reason": finish}],
                "usage": usage,
            })

        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
            obj = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                   "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
            return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"

        async def events() -> AsyncIterator[str]:
            yield chunk({"role": "assistant", "content": ""})
            t0 = time.monotonic()
            due = t0 + delay(profile.ttft_ms / 1000.0)
            for piece in pieces:
                now = time.monotonic()
                if due > now:
                    await asyncio.sleep(due - now)
                yield chunk({"content": piece})
                due += delay(profile.token_delay_s)
            yield chunk({}, finish)
            if include_usage:
                obj = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                       "choices": [], "usage": usage}
                yield f"data: {json.dumps(obj)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def build_arg_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="SIMULATOR of an OpenAI-compatible vLLM server (GPU-speed timing, canned Turkish text, "
        "schema-valid JSON). For benchmarks on machines without a GPU; never used by `make run`.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8009)
    p.add_argument("--model", action="append", type=ModelProfile.parse, metavar="NAME=TTFT_MS:TOK_S[:JITTER_MS]",
                   help="a simulated model and its timing (repeatable). Default: bantz-sim-3b=85:120:8 and "
                   "bantz-sim-8b=190:50:15 (the strategy's RTX 4060 targets)")
    p.add_argument("--seed", type=int, default=None, help="seed for jitter and reply choice")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    profiles = args.model or list(DEFAULT_PROFILES)
    import uvicorn

    print(f"bantz vLLM SIMULATOR on http://{args.host}:{args.port}/v1 — models: "
          + ", ".join(f"{p.name} ({p.ttft_ms:.0f} ms, {p.tok_s:.0f} tok/s)" for p in profiles), file=sys.stderr, flush=True)
    uvicorn.run(create_app(profiles, args.seed), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
