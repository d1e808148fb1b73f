"""The embedded llama.cpp backend with the real SmolLM2 GGUF: streaming, grammar-constrained JSON,
cancellation, exact token counts, warm prefix snapshots."""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import contextmanager

import pytest
from fixtures.llama_server import TEST_ROLE_TIMEOUT_S as LOADED_S
from fixtures.llama_server import embedded_models

from bantz_voice.brain.schemas import OrchestratorOutput, RouterOutput
from bantz_voice.config import EndpointSettings
from bantz_voice.llm import Backends, GenParams, LLMUnavailable, complete
from bantz_voice.llm.llamacpp_backend import LlamaCppBackend

SYSTEM = [{"role": "system", "content": "You are a helpful assistant. Answer briefly."}]


@contextmanager
def _cold(backend):
    """Requests inside start from an empty KV cache (the reference a cached answer must equal)."""
    backend.prefix_cache = False
    try:
        yield
    finally:
        backend.prefix_cache = True


@pytest.fixture(scope="module")
def backend(smollm2_gguf):
    return Backends(embedded_models(smollm2_gguf)).for_role("router")


async def test_streams_pieces(backend) -> None:
    pieces = [p async for p in backend.stream(SYSTEM + [{"role": "user", "content": "Name three colors."}], GenParams(timeout_s=LOADED_S, max_tokens=24))]
    assert len(pieces) >= 3 and "".join(pieces).strip()


async def test_grammar_json(backend) -> None:
    msgs = SYSTEM + [{"role": "user", "content": "Plan: add a dentist appointment tomorrow at three."}]
    raw = await complete(backend, msgs, GenParams(max_tokens=256, timeout_s=120), OrchestratorOutput)
    out = OrchestratorOutput.model_validate_json(raw)
    assert len(out.tools) <= 3 and all(step.slots is None or step.slots.title is None or len(step.slots.title) <= 40 for step in out.tools)


async def test_cancel_stops_generation(backend) -> None:
    got: list[str] = []

    async def consume() -> None:
        async for piece in backend.stream(SYSTEM + [{"role": "user", "content": "Write a very long story about a cat."}], GenParams(timeout_s=LOADED_S, max_tokens=400, temperature=0.7)):
            got.append(piece)

    task = asyncio.create_task(consume())
    while len(got) < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    eng = backend._get_engine()
    t0 = time.monotonic()
    while eng.lock.locked() and time.monotonic() - t0 < 10:
        await asyncio.sleep(0.01)
    assert not eng.lock.locked()
    n_at_cancel = len(got)
    await asyncio.sleep(0.2)
    assert len(got) == n_at_cancel < 400


async def test_token_count_is_exact(backend) -> None:
    msgs = SYSTEM + [{"role": "user", "content": "merhaba efendim, yarın toplantı var mı?"}]
    eng = backend._get_engine()
    n = await backend.count_tokens(msgs)
    assert n == len(eng.tokens(msgs))
    longer = await backend.count_tokens(msgs + [{"role": "assistant", "content": "evet"}])
    assert longer > n


async def test_warm_prefix_snapshot_restores_and_matches_cold(backend) -> None:
    prefix = [{"role": "system", "content": "You classify requests into routes. " * 20}]
    await backend.warmup([prefix])
    eng = backend._get_engine()
    msgs = prefix + [{"role": "user", "content": "what time is it"}]
    full = eng.tokens(msgs)
    stable = max((s.tokens for s in eng.cache.snapshots if full[: len(s.tokens)] == s.tokens), key=len)
    assert len(stable) > 100
    # another prompt evicts the prefix from the context; the snapshot brings it back
    await complete(backend, SYSTEM + [{"role": "user", "content": "hi"}], GenParams(timeout_s=LOADED_S, max_tokens=2))
    tokens = eng.tokens(msgs)
    with eng.lock:
        eng.prepare(tokens)
        assert eng.llm.n_tokens == len(stable)
    warm = await complete(backend, msgs, GenParams(timeout_s=LOADED_S, max_tokens=40), RouterOutput)
    with _cold(backend):
        with eng.lock:
            eng.prepare(tokens)
            assert eng.llm.n_tokens == 0
        cold = await complete(backend, msgs, GenParams(timeout_s=LOADED_S, max_tokens=40), RouterOutput)
    assert RouterOutput.model_validate_json(warm) == RouterOutput.model_validate_json(cold)


async def test_a_warm_prefix_serves_a_prompt_with_the_conversation_summary_after_it(backend) -> None:
    """After the first turn a role's prompt carries the conversation summary, a system message right
    after the few-shot examples: the warm prefix taken at start-up still serves it, so only the
    summary and the request are evaluated (it used to end in the ``user`` role's tokens and match no
    such prompt: every orchestrator plan after the first turn evaluated ~1250 tokens again)."""
    from bantz_voice.brain.orchestrator import orchestrator_parts

    await backend.warmup([orchestrator_parts("").stable_prefix()])
    eng = backend._get_engine()
    for summary in (["'yarın saat üçte toplantı ekle' dediniz; takvime 'toplantı' ekledim."], []):
        # another prompt evicts the prefix from the context: only the snapshot can bring it back
        await complete(backend, SYSTEM + [{"role": "user", "content": "hi"}], GenParams(timeout_s=LOADED_S, max_tokens=2))
        tokens = eng.tokens(orchestrator_parts("yarın saat onda doktor randevusu ekle", summary).messages())
        with eng.lock:
            eng.prepare(tokens)
            total, reused = eng.cache.last_reuse
        assert total == len(tokens) and reused > 500 and total - reused < 120, (summary, total, reused)


async def test_kept_conversation_states_stay_bounded_over_many_turns(backend) -> None:
    """Every chat reply keeps its KV state (a few MB each: part of the daemon's RSS after READY,
    issue 11), but only the last RECENT_SLOTS of them: after many different conversations the engine
    holds exactly the states, and the bytes, of the last RECENT_SLOTS replies — not one per turn."""
    from bantz_voice.llm.kvcache import RECENT_SLOTS

    eng = backend._get_engine()
    newest: list[tuple[list[int], int]] = []  # (tokens, state bytes) of each reply's kept state
    for i in range(RECENT_SLOTS + 2):
        msgs = SYSTEM + [{"role": "user", "content": f"Conversation {i}: " + "tell me about the sea. " * (1 + i)}]
        await complete(backend, msgs, GenParams(timeout_s=LOADED_S, max_tokens=4))
        await asyncio.wrap_future(eng.executor.submit(lambda: None))  # remember() ran after the reply
        assert len(eng.cache.recent) <= RECENT_SLOTS
        newest.append((eng.cache.recent[-1].tokens, eng.cache.recent[-1].state.size))
    kept = eng.cache.recent
    assert [s.tokens for s in kept] == [t for t, _ in newest[-RECENT_SLOTS:]]
    assert sum(s.state.size for s in kept) == sum(n for _, n in newest[-RECENT_SLOTS:])
    assert sum(n for _, n in newest) > sum(s.state.size for s in kept)  # the older ones were let go


async def test_conversation_state_survives_other_prompts_and_matches_cold(backend) -> None:
    """A chat reply's KV state is kept: the next turn of the same conversation, asked after a JSON
    prompt used the engine, starts from it (only its new tail is evaluated) and says the same."""
    turn1 = SYSTEM + [{"role": "user", "content": "My cat is called Pamuk. " * 8 + "Say hello."}]
    reply = await complete(backend, turn1, GenParams(timeout_s=LOADED_S, max_tokens=12))
    eng = backend._get_engine()
    await asyncio.wrap_future(eng.executor.submit(lambda: None))  # it is kept after the reply ended
    assert eng.cache.recent and eng.cache.recent[-1].tokens[: len(eng.tokens(turn1))] == eng.tokens(turn1)
    await complete(backend, SYSTEM + [{"role": "user", "content": "route this"}], GenParams(timeout_s=LOADED_S, max_tokens=20), RouterOutput)
    assert eng.cache.recent[-1].tokens[: len(eng.tokens(turn1))] == eng.tokens(turn1)  # JSON calls do not replace it
    turn2 = turn1 + [{"role": "assistant", "content": reply}, {"role": "user", "content": "What is my cat called?"}]
    tokens = eng.tokens(turn2)
    with eng.lock:
        eng.prepare(tokens)
        reused = eng.llm.n_tokens
    assert reused > len(eng.tokens(turn1)) - 5  # the whole first turn is already in the KV cache
    warm = await complete(backend, turn2, GenParams(timeout_s=LOADED_S, max_tokens=16))
    with _cold(backend):
        cold = await complete(backend, turn2, GenParams(timeout_s=LOADED_S, max_tokens=16))
    assert warm == cold


async def test_prefill_evaluates_the_next_prompt_start_and_matches_cold(backend) -> None:
    """``prefill(prefix)`` leaves the prefix's KV state behind: the request that continues it
    evaluates only its own tail, after other prompts used the engine, and says the same as cold."""
    prefix = SYSTEM + [
        {"role": "user", "content": "My dog is called Karabaş. " * 10},
        {"role": "assistant", "content": "Nice to meet Karabaş."},
    ]
    n = await backend.prefill(prefix)
    eng = backend._get_engine()
    assert n > 50 and eng.cache.recent[-1].tokens == eng.stable_prefix(prefix)
    await complete(backend, SYSTEM + [{"role": "user", "content": "route this"}], GenParams(timeout_s=LOADED_S, max_tokens=20), RouterOutput)
    msgs = prefix + [{"role": "user", "content": "What is my dog called?"}]
    warm = await complete(backend, msgs, GenParams(timeout_s=LOADED_S, max_tokens=16))
    total, reused = eng.cache.last_reuse
    assert reused == len(eng.stable_prefix(prefix)) and total - reused < 20
    assert await backend.prefill(prefix) == 0  # already there: nothing to evaluate
    with _cold(backend):
        cold = await complete(backend, msgs, GenParams(timeout_s=LOADED_S, max_tokens=16))
    assert warm == cold


async def test_a_request_preempts_a_prefill(backend) -> None:
    import threading

    prefix = SYSTEM + [{"role": "user", "content": "Remember these words: " + "apple pear plum " * 60}]
    await backend.load()  # loaded: the prefill's first await is the engine thread
    eng = backend._get_engine()
    stopped = threading.Event()
    stopped.set()
    assert eng.prefill(prefix, stopped) == 0  # a cancelled prefill evaluates nothing
    task = asyncio.create_task(backend.prefill(prefix))
    await asyncio.sleep(0)  # submitted: its cancel event is the engine's now
    ev = eng.prefill_cancel
    reply = await complete(backend, SYSTEM + [{"role": "user", "content": "hi"}], GenParams(timeout_s=LOADED_S, max_tokens=4))
    assert ev.is_set() and reply is not None  # the request asked the prefill to yield
    done = await task
    assert done % 32 == 0 and done < len(eng.stable_prefix(prefix))  # stopped at a chunk boundary


async def test_missing_model_is_unavailable() -> None:
    b = LlamaCppBackend(EndpointSettings(kind="llamacpp", gguf="/nonexistent/x.gguf"))
    with pytest.raises(LLMUnavailable):
        await complete(b, SYSTEM, GenParams(timeout_s=LOADED_S, max_tokens=4))


async def test_models_load_once(smollm2_gguf) -> None:
    a = Backends(embedded_models(smollm2_gguf))
    assert a.for_role("router") is not a.for_role("chat")  # two endpoints ...
    assert a.for_role("router")._get_engine() is a.for_role("chat")._get_engine()  # ... one model file, one engine
    b = Backends(embedded_models(smollm2_gguf), engines=a.engines)  # a second owner sharing the loaded models
    assert a.for_role("router")._get_engine() is b.for_role("chat")._get_engine()
    eng = a.for_role("chat")._get_engine()
    await b.for_role("chat").load()
    await b.aclose()  # b does not own the registry: the model stays loaded
    assert eng.llm is not None
    await a.aclose()  # a owns it: the model is freed
    assert eng.llm is None


async def test_background_prefill_evaluates_with_the_generation_threads_then_restores_batch_threads(backend) -> None:
    """The idle prefill is background work: it evaluates with ``n_threads`` (not every CPU, whose
    spin barriers collapse under load and kept a core busy after the turns), and requests get the
    batch thread count back."""
    import llama_cpp

    await backend.load()
    eng = backend._get_engine()
    ctx = eng.llm._ctx.ctx
    seen: list[tuple[int, int]] = []
    real_eval = eng.llm.eval

    def eval_and_look(chunk):
        seen.append((llama_cpp.llama_n_threads(ctx), llama_cpp.llama_n_threads_batch(ctx)))
        real_eval(chunk)

    eng.llm.eval = eval_and_look
    try:
        prefix = SYSTEM + [{"role": "user", "content": "A note about the garden: " + "roses tulips " * 20}]
        assert await backend.prefill(prefix) > 0
    finally:
        del eng.llm.eval
    assert seen and all(s == (eng.n_threads, eng.n_threads) for s in seen)
    assert llama_cpp.llama_n_threads_batch(ctx) == eng.n_threads_batch


class _CancelAfter(threading.Event):
    """A cancel flag that reads as set from its ``n``-th look on (a timeout that fires while the
    prompt is being evaluated, without depending on how fast this machine evaluates it)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.looks, self.n = 0, n

    def is_set(self) -> bool:
        self.looks += 1
        return self.looks >= self.n or super().is_set()


async def test_a_cancelled_request_stops_within_one_chunk_of_its_long_prompt(backend) -> None:
    """A request cancelled (timed out) while its long uncached prompt is evaluated leaves the
    engine within one chunk: the next request does not wait for the rest of that prompt."""
    from bantz_voice.llm.llamacpp_engine import REQUEST_CHUNK

    await backend.load()
    eng = backend._get_engine()
    msgs = SYSTEM + [{"role": "user", "content": "Remember this list: " + "river stone cloud " * 300}]
    tokens = eng.tokens(msgs)
    assert len(tokens) > 4 * REQUEST_CHUNK
    emitted: list[str] = []
    cancel = _CancelAfter(3)  # the look before generating, then two chunks
    await asyncio.wrap_future(eng.executor.submit(eng.generate, tokens, GenParams(timeout_s=LOADED_S, max_tokens=8),
                                                  None, emitted.append, cancel))
    assert emitted == []  # nothing generated
    assert eng.llm.n_tokens < len(tokens) - REQUEST_CHUNK  # stopped long before the end of the prompt
    # and a request that is not cancelled evaluates the whole prompt and answers
    reply = await complete(backend, msgs, GenParams(timeout_s=LOADED_S, max_tokens=4))
    assert reply is not None and eng.llm.n_tokens >= len(tokens)


async def test_decoding_waits_between_tokens_while_a_first_synthesis_holds_the_cpu(backend) -> None:
    """While :data:`bantz_voice.cpu.foreground` is held (a reply's first chunk being synthesized),
    the embedded engine emits the token it has and decodes the next one only once it is released."""
    from bantz_voice import cpu

    got: list[str] = []
    first = asyncio.Event()

    async def consume() -> None:
        async for piece in backend.stream(SYSTEM + [{"role": "user", "content": "Name five colors."}], GenParams(timeout_s=LOADED_S, max_tokens=24)):
            got.append(piece)
            first.set()

    with cpu.foreground.hold():
        task = asyncio.create_task(consume())
        await asyncio.wait_for(first.wait(), LOADED_S)
        deadline = time.monotonic() + LOADED_S
        while cpu.foreground.waiting == 0:  # the engine's thread waits for the foreground now
            assert time.monotonic() < deadline and not task.done()
            await asyncio.sleep(0.005)
        held_tokens = len(got)
        assert held_tokens == 1 and not task.done()
    await asyncio.wait_for(task, LOADED_S)
    assert len(got) > held_tokens and cpu.foreground.waiting == 0
