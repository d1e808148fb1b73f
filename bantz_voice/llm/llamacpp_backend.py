"""Embedded llama.cpp (``llama-cpp-python``) with a GGUF model.

One :class:`_Engine` per model file is shared by every role that uses it (the weights are loaded
once, with the largest context any of those roles asked for before the load); distinct files are
distinct engines in the same process, each with its own prefix snapshots, kept conversation states,
worker thread and prefill, so a router model and a chat model do not evict each other. Generation runs in the engine's worker thread; each token is handed to
the event loop and a cancel flag is checked per token, so cancelling the consuming task stops
generation within one token.

Warm prefix cache: ``warmup(prefixes)`` evaluates each role's stable prompt prefix (system prompt
and few-shot examples) once and keeps a snapshot of the KV state. Before a generation, the
snapshot with the longest common prefix is restored when it beats what the context already holds,
so time to first token covers only the new tokens (dialog summary, history, the user's words).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bantz_voice.config import EndpointSettings
from bantz_voice.llm.base import GenParams, LLMError, LLMUnavailable, Message
from bantz_voice.llm.grammar import grammar_for
from bantz_voice.privacy import ScrubFilter

log = logging.getLogger(__name__)
log.addFilter(ScrubFilter())

_ENGINES: dict[str, _Engine] = {}
_ENGINES_LOCK = threading.Lock()


RECENT_SLOTS = 2
PREFILL_CHUNK = 32  # tokens per llama_decode of a prefill: how soon a real request takes over


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class _Snapshot:
    """The KV state right after a stable prompt prefix. Only llama.cpp's own state is kept (a few
    MB); llama-cpp-python's ``save_state`` would also copy its logits array (n_tokens x vocab
    floats, ~70 MB here), which a restore does not need: the suffix is evaluated afresh."""

    def __init__(self, tokens: list[int], buf: Any, size: int) -> None:
        self.tokens = tokens
        self.buf = buf
        self.size = size

    @classmethod
    def take(cls, llm: Any, tokens: list[int]) -> _Snapshot:
        import ctypes

        import llama_cpp

        size = llama_cpp.llama_state_get_size(llm._ctx.ctx)
        buf = (ctypes.c_uint8 * int(size))()
        n = llama_cpp.llama_state_get_data(llm._ctx.ctx, buf, size)
        return cls(list(tokens), buf, int(n))

    def restore(self, llm: Any) -> None:
        import llama_cpp

        if llama_cpp.llama_state_set_data(llm._ctx.ctx, self.buf, self.size) != self.size:
            raise LLMError("Dil modelinin önbelleği geri yüklenemedi.")
        n = len(self.tokens)
        llm.input_ids[:n] = self.tokens
        llm.n_tokens = n
        llm._requires_eval = True


def default_threads() -> int:
    """Half the logical CPUs (about the physical cores), at least 1. ASR and TTS run at the same
    time as decoding; when llama.cpp's threads outnumber free cores its spin barriers collapse
    throughput (measured here: 20 tokens in 0.5 s with 1 thread vs 5 s with 2 on a busy 2-core VM)."""
    return max(1, (os.cpu_count() or 2) // 2)


def default_batch_threads() -> int:
    """Every logical CPU for prompt evaluation: it runs between ASR and TTS, and even beside a
    Whisper decode it stays faster than one thread (measured here: a 300-token prompt takes 945 ms
    alone and 1289 ms beside Whisper with 2 threads, 1760/1836 ms with 1)."""
    return max(1, os.cpu_count() or 1)


class _Engine:
    """One loaded model + context, used by one thread at a time."""

    def __init__(self, path: Path, n_ctx: int, n_threads: int, n_threads_batch: int = 0,
                 endpoint: EndpointSettings | None = None) -> None:
        self.path = path
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.n_threads_batch = n_threads_batch or default_batch_threads()
        self.endpoint = endpoint or EndpointSettings(n_ctx=n_ctx)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")
        self.lock = threading.Lock()
        self.llm: Any = None
        self.formatter: Any = None
        self.snapshots: list[_Snapshot] = []
        self.recent: list[_Snapshot] = []  # the last free-text (chat) prompts + replies, newest last
        self.prefix_cache = True
        self.last_reuse = (0, 0)  # (prompt tokens, tokens taken from the KV cache) of the last request
        self.prefill_cancel = threading.Event()  # set by every request: a running prefill yields
        self.stop: list[str] = []  # end-of-turn marks that are not the model's EOS token

    # called in the worker thread ------------------------------------------------------------
    def load(self) -> None:
        if self.llm is not None:
            return
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise LLMUnavailable("llama-cpp-python kurulu değil.") from exc
        try:
            llm = Llama(
                model_path=str(self.path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads_batch,
                **llama_options(self.endpoint),
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise LLMUnavailable(f"Dil modeli yüklenemedi: {self.path.name}") from exc
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:  # a GGUF without its template: the architecture's own turn format
            template, self.stop = _TEMPLATES.get(llm.metadata.get("general.architecture", ""), (_CHATML, []))
        eos = llm._model.token_get_text(llm.token_eos()) if llm.token_eos() != -1 else ""
        bos = llm._model.token_get_text(llm.token_bos()) if llm.token_bos() != -1 else ""
        self.formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        self.llm = llm

    def tokens(self, messages: list[Message]) -> list[int]:
        self.load()
        rendered = self.formatter(messages=messages)
        return self.llm.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)

    def warm(self, prefixes: list[list[Message]]) -> None:
        """Snapshot the KV state after each stable prefix (the tokens two different user turns share)."""
        self.load()
        for prefix in prefixes:
            stable = self.stable_prefix(prefix)
            if not stable or any(_common_prefix(s.tokens, stable) == len(stable) for s in self.snapshots):
                continue
            self.llm.reset()
            self.llm.eval(stable)
            self.snapshots.append(_Snapshot.take(self.llm, stable))

    def prepare(self, tokens: list[int]) -> None:
        """Before a generation: restore the best prefix snapshot, or start cold when disabled."""
        llm = self.llm
        if not self.prefix_cache:
            llm.reset()
            return
        have = _common_prefix(list(llm._input_ids[: llm.n_tokens]), tokens)
        best, best_len = None, have
        for snap in self.snapshots:
            n = _common_prefix(snap.tokens, tokens)
            if n == len(snap.tokens) and n > best_len:
                best, best_len = snap, n
        for snap in self.recent:  # a partial match is fine: llama.cpp drops the rest of the KV
            n = _common_prefix(snap.tokens, tokens)
            if n > best_len:
                best, best_len = snap, n
        if best is not None:
            best.restore(llm)
        self.last_reuse = (len(tokens), best_len)
        log.debug("prompt %d tokens, %d from the KV cache", len(tokens), best_len)

    def stable_prefix(self, prefix: list[Message]) -> list[int]:
        """The tokens every next user turn after ``prefix`` starts with (the chat template may
        render the end of one message together with the start of the next)."""
        a = self.tokens(prefix + [{"role": "user", "content": "merhaba"}])
        b = self.tokens(prefix + [{"role": "user", "content": "saat kaç acaba"}])
        return a[: _common_prefix(a, b)]

    def prefill(self, prefix: list[Message], cancel: threading.Event) -> int:
        """Evaluate the conversation prefix the next chat prompt will start with, PREFILL_CHUNK
        tokens at a time, stopping at a chunk boundary when ``cancel`` is set (a request came in:
        what is evaluated so far is still a valid prefix). Keeps the state like a chat reply.
        Returns the tokens evaluated."""
        with self.lock:
            if cancel.is_set() or not self.prefix_cache:
                return 0
            tokens = self.stable_prefix(prefix)
            if len(tokens) >= self.n_ctx:
                return 0
            self.prepare(tokens)
            before = _common_prefix(list(self.llm._input_ids[: self.llm.n_tokens]), tokens)
            self.eval_prompt(tokens, cancel)
            done = self.llm.n_tokens - before
        if done:
            self.remember()
        return done

    def eval_prompt(self, tokens: list[int], cancel: threading.Event) -> None:
        """Background evaluation (the idle prefill) of what of ``tokens`` the KV cache does not
        hold yet, PREFILL_CHUNK tokens per ``llama_decode``, stopping at a chunk boundary when
        ``cancel`` is set (what is evaluated stays a valid prefix). It runs with ``n_threads``
        (half the CPUs), not the batch thread count (every CPU) that a request's prompt gets:
        with every CPU, llama.cpp's spin barriers compete with the listening loop, Whisper and
        Piper, and under load (issue 11, bench_daemon) the prefill after a turn kept a core busy
        for 10-20 s of silence; one thread did the same evaluation in a third of the time here."""
        llm = self.llm
        llm.n_tokens = _common_prefix(list(llm._input_ids[: llm.n_tokens]), tokens)
        self._set_threads(self.n_threads, self.n_threads)
        try:
            for i in range(llm.n_tokens, len(tokens), PREFILL_CHUNK):
                if cancel.is_set():
                    return
                llm.eval(tokens[i : i + PREFILL_CHUNK])
        finally:
            self._set_threads(self.n_threads, self.n_threads_batch)

    def _set_threads(self, n_threads: int, n_threads_batch: int) -> None:
        import llama_cpp

        ctx = getattr(getattr(self.llm, "_ctx", None), "ctx", None)
        if ctx is not None:
            llama_cpp.llama_set_n_threads(ctx, n_threads, n_threads_batch)

    def remember(self) -> None:
        """After a free-text generation: keep the KV state of its prompt and reply. The next turn
        of the conversation repeats that prompt's history, so it starts from here even when router
        and orchestrator prompts used the engine in between. RECENT_SLOTS conversations are kept
        (a few MB each), so two brains sharing one model do not evict each other."""
        with self.lock:
            llm = self.llm
            if llm is None or not self.prefix_cache or llm.n_tokens == 0:
                return
            snap = _Snapshot.take(llm, [int(t) for t in llm._input_ids[: llm.n_tokens]])
            # a state this one continues is superseded by it
            kept = [r for r in self.recent if _common_prefix(r.tokens, snap.tokens) < len(r.tokens)]
            self.recent = (kept + [snap])[-RECENT_SLOTS:]

    def generate(self, tokens: list[int], params: GenParams, grammar: Any, emit, cancel: threading.Event) -> None:
        with self.lock:
            if cancel.is_set():
                return
            if len(tokens) + params.max_tokens > self.n_ctx:
                raise LLMError("İstem modelin bağlam penceresine sığmıyor.")
            self.prepare(tokens)
            stream = self.llm.create_completion(
                prompt=tokens,
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                grammar=grammar,
                stop=self.stop or None,
                stream=True,
            )
            try:
                for chunk in stream:
                    if cancel.is_set():
                        break
                    text = chunk["choices"][0]["text"]
                    if text:
                        emit(text)
            finally:
                stream.close()


_CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


# Gemma's turn format (the Gemma 3 GGUF of the tests carries no template): system text goes at the
# start of the next user turn; turns end with <end_of_turn>, which is not the EOS token.
_GEMMA = (
    "{{ bos_token }}{% set ns = namespace(sys='') %}{% for m in messages %}"
    "{% if m['role'] == 'system' %}{% set ns.sys = ns.sys + m['content'] + '\n\n' %}"
    "{% else %}{{ '<start_of_turn>' + ('model' if m['role'] == 'assistant' else 'user') + '\n' }}"
    "{% if m['role'] != 'assistant' %}{{ ns.sys }}{% set ns.sys = '' %}{% endif %}"
    "{{ m['content'] + '<end_of_turn>\n' }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
)
_TEMPLATES: dict[str, tuple[str, list[str]]] = {"gemma3": (_GEMMA, ["<end_of_turn>"]), "gemma": (_GEMMA, ["<end_of_turn>"])}


def resolve_gguf(name_or_path: str | None) -> tuple[Path, str | None]:
    """A GGUF path for ``name_or_path`` (a file, or a manifest name through the model manager,
    which falls back to the PyPI-carried SmolLM2 with a Turkish note)."""
    if not name_or_path:
        raise LLMUnavailable("Gömülü dil modeli ayarlanmamış (endpoints.*.gguf).")
    p = Path(name_or_path).expanduser()
    if p.is_file():
        return p, None
    from bantz_voice.errors import BantzError
    from bantz_voice.models import resolve_with_fallback

    try:
        resolved = resolve_with_fallback(name_or_path, role="llm")
    except BantzError as exc:
        raise LLMUnavailable(f"Dil modeli bulunamadı: {exc}") from exc
    path = Path(resolved.path)
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        if not ggufs:
            raise LLMUnavailable(f"'{name_or_path}' içinde GGUF dosyası yok.")
        path = ggufs[0]
    return path, getattr(resolved, "note", None)


@atexit.register
def _close_engines() -> None:
    """Free the models before interpreter teardown (llama-cpp-python's __del__ fails after it)."""
    with _ENGINES_LOCK:
        for eng in _ENGINES.values():
            if eng.llm is not None:
                try:
                    eng.llm.close()
                except Exception:
                    pass
                eng.llm = None
        _ENGINES.clear()


GGML_TYPE_Q8_0 = 8  # ggml.h enum ggml_type (llama_cpp.GGML_TYPE_Q8_0)


def llama_options(ep: EndpointSettings) -> dict[str, Any]:
    """``Llama(...)`` keyword arguments for an endpoint's GPU, micro-batch and KV cache settings."""
    opts: dict[str, Any] = {"n_gpu_layers": ep.n_gpu_layers, "n_ubatch": ep.n_ubatch,
                            "n_batch": max(ep.n_ubatch, 512), "flash_attn": ep.flash_attn}
    if ep.kv_type == "q8_0":
        opts["type_k"] = opts["type_v"] = GGML_TYPE_Q8_0
    return opts


def engine_for(path: Path, n_ctx: int, n_threads: int, n_threads_batch: int = 0,
               endpoint: EndpointSettings | None = None) -> _Engine:
    """The one engine of a model file (same path = same weights in memory, whatever the role)."""
    key = str(path.resolve())
    with _ENGINES_LOCK:
        eng = _ENGINES.get(key)
        if eng is None:
            eng = _ENGINES[key] = _Engine(path, n_ctx, n_threads, n_threads_batch, endpoint)
        elif n_ctx > eng.n_ctx:
            if eng.llm is None:
                eng.n_ctx = n_ctx
                eng.endpoint = eng.endpoint.model_copy(update={"n_ctx": n_ctx})
            else:
                log.warning("%s is loaded with n_ctx %d; %d was asked for later", path.name, eng.n_ctx, n_ctx)
        return eng


def loaded_engines() -> list[_Engine]:
    """Every engine of this process (benchmarks and tests: one per distinct file)."""
    with _ENGINES_LOCK:
        return list(_ENGINES.values())


class LlamaCppBackend:
    def __init__(self, endpoint: EndpointSettings, name: str = "llamacpp") -> None:
        self.name = name
        self.endpoint = endpoint
        self.note: str | None = None
        self._engine: _Engine | None = None

    def _get_engine(self) -> _Engine:
        if self._engine is None:
            path, note = resolve_gguf(self.endpoint.gguf)
            self.note = note
            ep = self.endpoint
            self._engine = engine_for(path, ep.n_ctx, ep.n_threads, ep.n_threads_batch, ep)
        return self._engine

    @property
    def prefix_cache(self) -> bool:
        return self._get_engine().prefix_cache

    @prefix_cache.setter
    def prefix_cache(self, on: bool) -> None:
        self._get_engine().prefix_cache = on

    async def _in_thread(self, fn, *args):
        eng = self._get_engine()
        return await asyncio.get_running_loop().run_in_executor(eng.executor, fn, *args)

    async def load(self) -> None:
        await self._in_thread(self._get_engine().load)

    async def count_tokens(self, messages: list[Message]) -> int:
        eng = self._get_engine()
        if eng.llm is None:
            await self.load()
        return len(eng.tokens(messages))

    async def warmup(self, prefixes: list[list[Message]]) -> None:
        eng = await asyncio.to_thread(self._get_engine)  # finding the file may try a download: off the loop

        def work() -> None:
            with eng.lock:
                eng.warm(prefixes)

        await self._in_thread(work)

    async def stream(
        self, messages: list[Message], params: GenParams, schema: type[BaseModel] | None = None
    ) -> AsyncIterator[str]:
        eng = self._get_engine()
        if eng.llm is None:
            await self.load()
        eng.prefill_cancel.set()  # a prefill still running yields at its next chunk
        tokens = eng.tokens(messages)
        grammar = grammar_for(schema) if schema is not None else None
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        cancel = threading.Event()

        def put(kind: str, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the loop is gone: the consumer has left
                cancel.set()

        def work() -> None:
            try:
                eng.generate(tokens, params, grammar, lambda t: put("tok", t), cancel)
                put("end", None)
            except BaseException as exc:
                put("err", exc)
                return
            if grammar is None:  # a chat reply (after "end": off the reply's path)
                try:
                    eng.remember()
                except Exception as exc:
                    log.warning("could not keep the conversation's KV state: %s", exc)

        eng.executor.submit(work)
        try:
            while True:
                kind, value = await queue.get()
                if kind == "tok":
                    yield value
                elif kind == "end":
                    return
                else:
                    if isinstance(value, LLMError):
                        raise value
                    raise LLMError("Dil modeli yanıt üretirken hata oluştu.") from value
        finally:
            cancel.set()

    async def prefill(self, prefix: list[Message]) -> int:
        """Evaluate ``prefix`` (the next chat prompt less its user turn) into the KV cache while
        nothing else needs the engine; any request cancels it between chunks."""
        eng = self._get_engine()
        if eng.llm is None:
            await self.load()
        cancel = eng.prefill_cancel = threading.Event()
        return await self._in_thread(eng.prefill, prefix, cancel)

    async def aclose(self) -> None:
        return None  # engines are shared and live for the process
