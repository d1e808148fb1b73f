"""The vLLM simulator (scripts/vllm_mock_server.py): schema-valid JSON and the OpenAI/vLLM protocol."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from pydantic import BaseModel, Field, create_model

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import vllm_mock_server as sim  # noqa: E402

from bantz_voice.schemas import NluDecision, Route  # noqa: E402


# --- schema -> instance ----------------------------------------------------------------------
class Colour(str, Enum):
    red = "kırmızı"
    blue = "mavi"


def _random_field(rng: random.Random, depth: int) -> tuple[Any, Any]:
    kind = rng.choice(["str", "int", "float", "bool", "literal", "enum", "optional", "list", "nested", "pattern", "dict"])
    if kind == "str":
        lo = rng.randint(0, 5)
        return str, Field(min_length=lo, max_length=lo + rng.randint(0, 30))
    if kind == "int":
        lo = rng.randint(-50, 50)
        return int, Field(ge=lo, le=lo + rng.randint(3, 20), multiple_of=rng.choice([None, 1, 3]))
    if kind == "float":
        lo = rng.uniform(-5, 5)
        return float, Field(gt=lo, lt=lo + rng.uniform(0.01, 3))
    if kind == "bool":
        return bool, ...
    if kind == "literal":
        return Literal["a", "b", "ç"], ...
    if kind == "enum":
        return Colour, ...
    if kind == "pattern":
        return str, Field(pattern=rng.choice([r"^\d{4}-\d{2}-\d{2}$", r"^\d{2}:\d{2}$", r"^[A-Z]{3}-\d+$"]))
    if kind == "dict":
        return dict[str, int], Field(min_length=rng.randint(0, 2))
    if kind == "optional":
        inner, _ = _random_field(rng, depth + 1)
        return inner | None, None
    if kind == "list":
        inner, _ = _random_field(rng, depth + 1) if depth < 2 else (str, None)
        lo = rng.randint(0, 3)
        return list[inner], Field(min_length=lo, max_length=lo + 2)  # type: ignore[valid-type]
    if depth >= 2:
        return str, ...
    return _random_model(rng, depth + 1), ...


def _random_model(rng: random.Random, depth: int = 0) -> type[BaseModel]:
    fields = {f"f{i}": _random_field(rng, depth) for i in range(rng.randint(1, 6))}
    return create_model(f"M{rng.randrange(10**9)}", **fields)  # type: ignore[call-overload]


def test_instances_validate_for_many_random_schemas() -> None:
    rng = random.Random(7)
    for _ in range(300):
        model = _random_model(rng)
        value = sim.instance_for_schema(model.model_json_schema(), "yarın saat dörtte toplantı ekle")
        model.model_validate(value)  # raises on an invalid instance


def test_router_like_schema_gets_plausible_values() -> None:
    schema = NluDecision.model_json_schema()
    cal = NluDecision.model_validate(sim.instance_for_schema(schema, "yarın saat dörtte kuaför randevusu ekle"))
    assert cal.route is Route.calendar and cal.intent.value == "calendar.create"
    chat = NluDecision.model_validate(sim.instance_for_schema(schema, "bana bir fıkra anlatır mısın"))
    assert chat.route is Route.smalltalk
    sys_ = NluDecision.model_validate(sim.instance_for_schema(schema, "saat kaç"))
    assert sys_.route is Route.system


def test_unsupported_schema_is_an_error_not_garbage() -> None:
    with pytest.raises(ValueError):
        sim.instance_for_schema({"$ref": "http://example.com/x.json"})


# --- protocol against the real script --------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Any:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "vllm_mock_server.py"), "--port", str(port), "--seed", "1",
         "--model", "fast=150:100:0", "--model", "bantz-sim-8b=20:200"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=0.5).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("simulator did not start: " + proc.stderr.read().decode())
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def _stream(base: str, body: dict[str, Any]) -> tuple[list[dict[str, Any]], list[float], float]:
    events: list[dict[str, Any]] = []
    arrivals: list[float] = []
    t0 = time.monotonic()
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=10) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for ln in r.iter_lines():
            if not ln:
                continue
            assert ln.startswith("data: ")
            payload = ln[len("data: "):]
            if payload == "[DONE]":
                events.append({"done": True})
                continue
            events.append(json.loads(payload))
            arrivals.append(time.monotonic())
    return events, arrivals, t0


def test_help_and_models_say_simulator(server: str) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "vllm_mock_server.py"), "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "SIMULATOR" in out
    data = httpx.get(f"{server}/v1/models").json()["data"]
    assert [m["id"] for m in data] == ["fast", "bantz-sim-8b"]
    assert all(m["owned_by"] == "bantz-simulator" for m in data)


def test_streaming_chat_is_turkish_sse_with_usage_and_timing(server: str) -> None:
    body = {"model": "fast", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "system", "content": "Sen Bantz'sın."}, {"role": "user", "content": "merhaba"}]}
    events, arrivals, t0 = _stream(server, body)
    assert events[-1] == {"done": True}
    usage_chunk = events[-2]
    assert usage_chunk["choices"] == [] and usage_chunk["usage"]["completion_tokens"] > 3
    chunks = events[:-2]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    pieces = [c["choices"][0]["delta"].get("content", "") for c in chunks]
    text = "".join(pieces)
    assert any(ch in text for ch in "çğıöşüÇĞİÖŞÜ") and text.rstrip().endswith(".")
    n_content = sum(1 for p in pieces if p)
    assert n_content == usage_chunk["usage"]["completion_tokens"]
    first_content = next(a for a, p in zip(arrivals, pieces) if p)
    assert first_content - t0 >= 0.14  # configured time to first token: 150 ms, no jitter
    # 100 tok/s: the remaining tokens cannot arrive faster than 10 ms apart on average
    assert arrivals[-2] - first_content >= (n_content - 1) * 0.01 * 0.9


def test_no_usage_chunk_unless_asked(server: str) -> None:
    events, _, _ = _stream(server, {"model": "bantz-sim-8b", "stream": True, "messages": [{"role": "user", "content": "selam"}]})
    assert all("usage" not in e for e in events)


@pytest.mark.parametrize("style", ["json_schema", "json_object", "guided_json"])
def test_json_styles_give_valid_instances(server: str, style: str) -> None:
    schema = NluDecision.model_json_schema()
    body: dict[str, Any] = {"model": "bantz-sim-8b", "messages": [{"role": "user", "content": "yarın toplantı ekle"}]}
    if style == "json_schema":
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "nlu", "schema": schema, "strict": True}}
    elif style == "json_object":
        body["response_format"] = {"type": "json_object", "schema": schema}
    else:
        body["guided_json"] = schema
    r = httpx.post(f"{server}/v1/chat/completions", json=body, timeout=10)
    assert r.status_code == 200
    msg = r.json()["choices"][0]["message"]["content"]
    decision = NluDecision.model_validate_json(msg)
    assert decision.route is Route.calendar
    # streamed, the concatenated pieces are the same kind of valid JSON
    events, _, _ = _stream(server, {**body, "stream": True})
    streamed = "".join(e["choices"][0]["delta"].get("content", "") for e in events if e.get("choices"))
    NluDecision.model_validate_json(streamed)


def test_max_tokens_truncates_with_length(server: str) -> None:
    body = {"model": "bantz-sim-8b", "max_tokens": 3, "messages": [{"role": "user", "content": "merhaba"}]}
    r = httpx.post(f"{server}/v1/chat/completions", json=body, timeout=10).json()
    assert r["choices"][0]["finish_reason"] == "length" and r["usage"]["completion_tokens"] == 3


def test_errors_are_openai_shaped(server: str) -> None:
    r = httpx.post(f"{server}/v1/chat/completions", json={"model": "nope", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 404 and "does not exist" in r.json()["message"]
    r = httpx.post(f"{server}/v1/chat/completions", json={"model": "fast", "messages": []})
    assert r.status_code == 400
    r = httpx.post(f"{server}/v1/chat/completions", json={"model": "fast", "messages": [{"role": "user", "content": "x"}],
                                                          "response_format": {"type": "json_schema", "json_schema": {}}})
    assert r.status_code == 400
