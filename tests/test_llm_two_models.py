"""Two different GGUF models in one process (the split's shape, on the CPU): SmolLM2-135M for the
router/orchestrator, Gemma 3 270M for chat (both from PyPI packages through the model manager).
Each file loads once, each model keeps its own warm prefixes and conversation state, and a
router call neither waits for nor evicts the chat model."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bantz_voice.brain.schemas import RouterOutput
from bantz_voice.config import EndpointSettings, ModelSettings
from bantz_voice.llm import Backends, GenParams, complete
from bantz_voice.llm.llamacpp_backend import LlamaCppBackend
from bantz_voice.models import pull

pytestmark = pytest.mark.slow

SYSTEM = [{"role": "system", "content": "You are a helpful assistant. Answer briefly."}]


def _paths() -> tuple[Path, Path]:
    try:
        return pull("smollm2-135m-instruct", allow_hub=False), pull("gemma-3-270m-q4_k_m", allow_hub=False)
    except Exception as exc:
        pytest.skip(f"the PyPI-carried models are not installed: {exc}")


def _ep(path: Path, n_ctx: int = 2048) -> EndpointSettings:
    return EndpointSettings(kind="llamacpp", gguf=str(path), n_ctx=n_ctx, n_threads=1, n_threads_batch=1, n_ubatch=128)


@pytest.fixture(scope="module")
def llm() -> Backends:
    small, chat = _paths()
    return Backends(ModelSettings(profile={"select": "cpu"}, endpoints={"small": _ep(small), "chat": _ep(chat)}))


async def test_each_file_loads_once_and_distinct_files_are_distinct_models(llm: Backends) -> None:
    router, orch, chat = (llm.for_role(r) for r in ("router", "orchestrator", "chat"))
    assert router is orch
    await router.load()
    await chat.load()
    small_eng, chat_eng = router._get_engine(), chat._get_engine()
    assert small_eng is not chat_eng and small_eng.llm is not chat_eng.llm
    assert small_eng.llm.n_vocab() != chat_eng.llm.n_vocab()  # really two models (49152 vs 262144 tokens)
    # another endpoint naming the same file (another context size) shares the loaded instance
    again = LlamaCppBackend(_ep(Path(small_eng.path), n_ctx=1024), engines=llm.engines)
    assert again._get_engine() is small_eng
    ours = [e for e in llm.engines.loaded() if e.path in (small_eng.path, chat_eng.path)]
    assert len(ours) == 2
    # the registry is the owner's, not the process's: another owner loads its own copy
    other = LlamaCppBackend(_ep(Path(small_eng.path)))
    assert other._get_engine() is not small_eng and other._get_engine().llm is None


async def test_each_model_keeps_its_own_warm_prefixes(llm: Backends) -> None:
    router, chat = llm.for_role("router"), llm.for_role("chat")
    r_prefix = [{"role": "system", "content": "You classify requests into routes. " * 12}]
    c_prefix = [{"role": "system", "content": "Sen kısa konuşan bir asistansın. " * 12}]
    await router.warmup([r_prefix])
    await chat.warmup([c_prefix])
    small_eng, chat_eng = router._get_engine(), chat._get_engine()
    r_stable, c_stable = small_eng.stable_prefix(r_prefix), chat_eng.stable_prefix(c_prefix)
    assert any(s.tokens == r_stable for s in small_eng.cache.snapshots)
    assert any(s.tokens == c_stable for s in chat_eng.cache.snapshots)
    assert not any(s.tokens == c_stable for s in small_eng.cache.snapshots)
    assert not any(s.tokens == r_stable for s in chat_eng.cache.snapshots)
    # each restores its own snapshot for its own prompt
    with chat_eng.lock:
        tokens = chat_eng.tokens(c_prefix + [{"role": "user", "content": "merhaba"}])
        chat_eng.prepare(tokens)
        assert chat_eng.cache.last_reuse[1] >= len(c_stable)


async def test_router_calls_do_not_evict_the_chat_conversation(llm: Backends) -> None:
    router, chat = llm.for_role("router"), llm.for_role("chat")
    chat_eng = chat._get_engine()
    turn1 = SYSTEM + [{"role": "user", "content": "My cat is called Pamuk. " * 6 + "Say hello."}]
    reply = await complete(chat, turn1, GenParams(max_tokens=8, timeout_s=120))
    await asyncio.wrap_future(chat_eng.executor.submit(lambda: None))  # the state is kept after the reply
    kept = chat_eng.llm.n_tokens
    assert chat_eng.cache.recent and kept >= len(chat_eng.tokens(turn1))
    for text in ("route this please", "and this one"):  # JSON calls on the other model
        await complete(router, SYSTEM + [{"role": "user", "content": text}], GenParams(max_tokens=16, timeout_s=120), RouterOutput)
    assert chat_eng.llm.n_tokens == kept  # the chat model's KV cache was not touched
    turn2 = turn1 + [{"role": "assistant", "content": reply}, {"role": "user", "content": "What is my cat called?"}]
    await complete(chat, turn2, GenParams(max_tokens=4, timeout_s=120))
    total, reused = chat_eng.cache.last_reuse
    assert reused >= len(chat_eng.tokens(turn1)) - 2 and total - reused < 30


async def test_a_router_call_does_not_wait_for_the_chat_model(llm: Backends) -> None:
    router, chat = llm.for_role("router"), llm.for_role("chat")
    await router.load()
    chat_eng = chat._get_engine()
    with chat_eng.lock:  # the chat model is busy (a reply or a prefill holds its lock)
        out = await asyncio.wait_for(
            complete(router, SYSTEM + [{"role": "user", "content": "hi"}], GenParams(max_tokens=40, timeout_s=120), RouterOutput),
            timeout=120,
        )
    assert RouterOutput.model_validate_json(out)  # answered while the chat model's lock was held


async def test_per_role_prefill_and_preemption(llm: Backends) -> None:
    router, chat = llm.for_role("router"), llm.for_role("chat")
    await chat.load()
    small_eng, chat_eng = router._get_engine(), chat._get_engine()
    prefix = SYSTEM + [{"role": "user", "content": "Remember these words: " + "apple pear plum " * 50}]
    stopped = threading.Event()
    stopped.set()
    assert chat_eng.prefill(prefix, stopped) == 0
    # a router request does not cancel the chat model's prefill: only requests on the same model do
    task = asyncio.create_task(chat.prefill(prefix))
    await asyncio.sleep(0)
    ev = chat_eng.prefill_cancel
    await complete(router, SYSTEM + [{"role": "user", "content": "hi"}], GenParams(max_tokens=4, timeout_s=120))
    assert not ev.is_set()
    assert await task > 0
    assert chat_eng.cache.recent[-1].tokens == chat_eng.stable_prefix(prefix)  # it ran to the end
    assert small_eng.prefill_cancel is not chat_eng.prefill_cancel
    # a chat request preempts a chat prefill at a chunk boundary
    longer = prefix + [{"role": "assistant", "content": "OK."}, {"role": "user", "content": "More: " + "kiwi lime fig " * 60}]
    task = asyncio.create_task(chat.prefill(longer))
    await asyncio.sleep(0)
    ev = chat_eng.prefill_cancel
    await complete(chat, SYSTEM + [{"role": "user", "content": "hi"}], GenParams(max_tokens=2, timeout_s=120))
    assert ev.is_set()
    done = await task
    assert done % 32 == 0 and done < len(chat_eng.stable_prefix(longer))
