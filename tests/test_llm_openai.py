"""The OpenAI-compatible backend against a real ``python -m llama_cpp.server`` on loopback:
streaming, cancellation mid-stream, schema-constrained JSON, server killed mid-turn, server down."""

from __future__ import annotations

import asyncio
import time

import pytest
from fixtures.llama_server import TEST_ROLE_TIMEOUT_S as LOADED_S
from fixtures.llama_server import free_port, openai_models

from bantz_voice.brain.schemas import RouterOutput
from bantz_voice.config import EndpointSettings
from bantz_voice.errors import ConfigError
from bantz_voice.llm import Backends, GenParams, LLMError, LLMUnavailable, complete
from bantz_voice.llm.openai_backend import OpenAIBackend
from bantz_voice.privacy import PHONE

MSGS = [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Write a long story about a dog."}]


@pytest.fixture
async def backend(llama_server):
    b = Backends(openai_models(llama_server.base_url)).for_role("chat")
    yield b
    await b.aclose()


async def test_streams_incrementally(backend) -> None:
    stamps: list[float] = []
    text = ""
    async for piece in backend.stream(MSGS, GenParams(timeout_s=LOADED_S, max_tokens=24)):
        stamps.append(time.monotonic())
        text += piece
    assert len(stamps) >= 5 and text.strip()
    assert stamps[-1] > stamps[0]  # pieces arrive over time, not in one block


async def test_schema_json_object_style(backend) -> None:
    msgs = [{"role": "system", "content": "Route the request."}, {"role": "user", "content": "what time is it"}]
    raw = await complete(backend, msgs, GenParams(max_tokens=64, timeout_s=120), RouterOutput)
    RouterOutput.model_validate_json(raw)


async def test_json_schema_style_is_what_llamacpp_server_rejects(llama_server) -> None:
    ep = EndpointSettings(kind="openai", base_url=llama_server.base_url, schema_style="json_schema", connect_retries=0)
    b = OpenAIBackend(ep, "vllm-style")
    try:
        with pytest.raises(LLMError):
            await complete(b, [{"role": "user", "content": "hi"}], GenParams(timeout_s=LOADED_S, max_tokens=8), RouterOutput)
    finally:
        await b.aclose()


async def test_cancel_mid_stream_frees_the_server(backend) -> None:
    got: list[float] = []

    async def consume() -> None:
        async for _ in backend.stream(MSGS, GenParams(timeout_s=LOADED_S, max_tokens=600, temperature=0.8)):
            got.append(time.monotonic())

    task = asyncio.create_task(consume())
    while len(got) < 6:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    per_token = (got[-1] - got[0]) / (len(got) - 1)
    # the server handles one request at a time: if generation had not stopped, the next request
    # would wait for the ~590 remaining tokens
    t0 = time.monotonic()
    await complete(backend, [{"role": "user", "content": "hi"}], GenParams(timeout_s=LOADED_S, max_tokens=1))
    assert time.monotonic() - t0 < per_token * 590 / 3


async def test_server_killed_mid_turn(llama_server_factory) -> None:
    server = llama_server_factory()
    b = Backends(openai_models(server.base_url, retries=0)).for_role("chat")
    try:
        with pytest.raises(LLMUnavailable):
            async for _ in b.stream(MSGS, GenParams(timeout_s=LOADED_S, max_tokens=600)):
                if server.proc.poll() is None:
                    server.kill()
        with pytest.raises(LLMUnavailable):  # and it stays down: a clear error, no hang
            await complete(b, MSGS, GenParams(timeout_s=LOADED_S, max_tokens=4))
    finally:
        await b.aclose()


async def test_server_down_retries_then_unavailable() -> None:
    port = free_port()
    b = Backends(openai_models(f"http://127.0.0.1:{port}/v1", retries=2)).for_role("chat")
    t0 = time.monotonic()
    try:
        with pytest.raises(LLMUnavailable) as exc:
            await complete(b, MSGS, GenParams(timeout_s=LOADED_S, max_tokens=4))
    finally:
        await b.aclose()
    assert time.monotonic() - t0 >= 0.25 + 0.5  # two back-offs
    assert "bağlanılamadı" in str(exc.value)


async def test_token_count_from_server_tokenizer(backend, smollm2_gguf) -> None:
    from fixtures.llama_server import embedded_models

    exact = await Backends(embedded_models(smollm2_gguf)).for_role("chat").count_tokens(MSGS)
    n = await backend.count_tokens(MSGS)
    assert backend._count_mode == "llamacpp"
    assert abs(n - exact) <= 2


def test_text_is_scrubbed_for_remote_and_loopback() -> None:
    # loopback is not private: another local user can hold the port (issue 14)
    remote = OpenAIBackend(EndpointSettings(kind="openai", base_url="https://llm.example.com/v1"), "remote")
    local = OpenAIBackend(EndpointSettings(kind="openai", base_url="http://127.0.0.1:9/v1"), "local")
    msgs = [{"role": "user", "content": "beni 0532 123 45 67 numarasından ara"}]
    assert PHONE in remote._outgoing(msgs)[0]["content"]
    assert "0532" not in local._outgoing(msgs)[0]["content"] and PHONE in local._outgoing(msgs)[0]["content"]


def test_api_key_never_over_plain_http_to_a_remote_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_LLM_KEY", "sk-secret-123")
    with pytest.raises(ConfigError) as exc:
        OpenAIBackend(EndpointSettings(kind="openai", base_url="http://10.1.2.3:8000/v1", api_key_env="TEST_LLM_KEY"), "lan")
    assert "sk-secret" not in str(exc.value)
    ok = OpenAIBackend(EndpointSettings(kind="openai", base_url="https://llm.example.com", api_key_env="TEST_LLM_KEY"), "tls")
    assert ok.base_url == "https://llm.example.com/v1"
    assert ok._client.headers["authorization"] == "Bearer sk-secret-123"
