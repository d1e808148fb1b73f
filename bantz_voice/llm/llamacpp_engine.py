"""One loaded GGUF model with its context (:class:`Engine`) and the registry that loads each file
once (:class:`EngineRegistry`).

An engine is shared by every role and endpoint of its owner that names the same file (the weights
are loaded once, with the largest context any of them asked for before the load); distinct files
are distinct engines, each with its own KV cache (:mod:`bantz_voice.llm.kvcache`), worker thread and
prefill, so a router model and a chat model do not evict each other. Everything here runs in the
engine's worker thread (:attr:`Engine.executor`), one call at a time under :attr:`Engine.lock`;
the async side is :mod:`bantz_voice.llm.llamacpp_backend`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bantz_voice import cpu
from bantz_voice.config import EndpointSettings
from bantz_voice.llm import llamacpp_native as native
from bantz_voice.llm.base import GenParams, LLMError, LLMUnavailable, Message
from bantz_voice.llm.kvcache import KVCache, common_prefix

log = logging.getLogger(__name__)

PREFILL_CHUNK = 32  # tokens per llama_decode of a prefill: how soon a real request takes over
# A request's own prompt is evaluated in chunks of this many tokens when its uncached part is
# longer, so a request that is cancelled or timed out stops within one chunk instead of holding
# the engine (and the next request) until the whole prompt is in. Shorter remainders (the usual
# case: the warm prefix is cached) go in one piece, as before.
REQUEST_CHUNK = 128
GGML_TYPE_Q8_0 = 8  # ggml.h enum ggml_type (llama_cpp.GGML_TYPE_Q8_0)


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


def llama_options(ep: EndpointSettings) -> dict[str, Any]:
    """``Llama(...)`` keyword arguments for an endpoint's GPU, micro-batch and KV cache settings."""
    opts: dict[str, Any] = {"n_gpu_layers": ep.n_gpu_layers, "n_ubatch": ep.n_ubatch,
                            "n_batch": max(ep.n_ubatch, 512), "flash_attn": ep.flash_attn}
    if ep.kv_type == "q8_0":
        opts["type_k"] = opts["type_v"] = GGML_TYPE_Q8_0
    return opts


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
    return path, resolved.note


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


class Engine:
    """One loaded model + context, used by one thread at a time."""

    def __init__(self, path: Path, endpoint: EndpointSettings) -> None:
        self.path = path
        self.endpoint = endpoint
        self.n_ctx = endpoint.n_ctx
        self.n_threads = endpoint.n_threads or default_threads()
        self.n_threads_batch = endpoint.n_threads_batch or default_batch_threads()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")
        self.lock = threading.Lock()
        self.llm: Any = None
        self.formatter: Any = None
        self.cache = KVCache()
        self.prefill_cancel = threading.Event()  # set by every request: a running prefill yields
        self.stop: list[str] = []  # end-of-turn marks that are not the model's EOS token

    # called in the worker thread ------------------------------------------------------------
    def load(self) -> None:
        if self.llm is not None:
            return
        try:
            from llama_cpp import Llama
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
        self.formatter = native.chat_formatter(llm, template)
        self.llm = llm

    def close(self) -> None:
        """Free the model (waits for a generation or prefill in progress to finish)."""
        self.prefill_cancel.set()
        with self.lock:
            if self.llm is not None:
                try:
                    self.llm.close()
                except Exception as exc:
                    log.debug("closing %s: %s", self.path.name, exc)
                self.llm = None
        self.executor.shutdown(wait=False)

    def tokens(self, messages: list[Message]) -> list[int]:
        self.load()
        rendered = self.formatter(messages=messages)
        tokens: list[int] = self.llm.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)
        return tokens

    def warm(self, prefixes: list[list[Message]]) -> None:
        """Snapshot the KV state after each stable prefix (the tokens two different user turns share).
        Start-up work that overlaps Whisper's and Piper's loading (``app.start_pipeline``), so it
        runs with ``n_threads`` (half the CPUs), like the idle prefill (:meth:`eval_prompt`): with
        every CPU, llama.cpp's spin barriers would compete with those loads."""
        self.load()
        with self._batches_on_n_threads():
            for prefix in prefixes:
                stable = self.stable_prefix(prefix)
                if stable and not self.cache.has_prefix(stable):
                    self.cache.add_prefix(self.llm, stable)

    def prepare(self, tokens: list[int]) -> None:
        """Before a generation: restore the best snapshot of the KV cache (or start cold)."""
        self.cache.prepare(self.llm, tokens)

    def stable_prefix(self, prefix: list[Message]) -> list[int]:
        """The tokens every prompt that continues ``prefix`` starts with: a next user turn, or the
        conversation summary (a system message) that a role's prompt puts right after its few-shot
        examples once there has been a turn (``PromptParts.messages``). The chat template may render
        the end of one message together with the start of the next, so the prefix ends before the
        next message's role: a warm prefix that took the ``user`` role's tokens along matched no
        prompt with a summary, and every orchestrator plan after the first turn evaluated its whole
        prompt again (~1250 tokens, ~5 s with SmolLM2 on 2 cores; issue 11)."""
        a = self.tokens(prefix + [{"role": "user", "content": "merhaba"}])
        b = self.tokens(prefix + [{"role": "user", "content": "saat kaç acaba"}])
        n = common_prefix(a, b)
        try:
            c = self.tokens(prefix + [{"role": "system", "content": "özet"}, {"role": "user", "content": "merhaba"}])
        except Exception as exc:  # a template that allows no system message there (jinja2's raise_exception)
            log.debug("%s: no system message after the prefix (%s)", self.path.name, exc)
        else:
            n = min(n, common_prefix(a, c))
        return a[:n]

    def prefill(self, prefix: list[Message], cancel: threading.Event) -> int:
        """Evaluate the conversation prefix the next chat prompt will start with, PREFILL_CHUNK
        tokens at a time, stopping at a chunk boundary when ``cancel`` is set (a request came in:
        what is evaluated so far is still a valid prefix). Keeps the state like a chat reply.
        Returns the tokens evaluated."""
        with self.lock:
            if cancel.is_set() or not self.cache.enabled:
                return 0
            tokens = self.stable_prefix(prefix)
            if len(tokens) >= self.n_ctx:
                return 0
            self.prepare(tokens)
            before = common_prefix(native.cached_tokens(self.llm), tokens)
            self.eval_prompt(tokens, cancel)
            done: int = self.llm.n_tokens - before
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
        native.keep_cached(llm, common_prefix(native.cached_tokens(llm), tokens))
        with self._batches_on_n_threads():
            self._eval_chunks(tokens, cancel, PREFILL_CHUNK)

    @contextlib.contextmanager
    def _batches_on_n_threads(self) -> Iterator[None]:
        """Prompt batches evaluated with ``n_threads`` (half the CPUs) instead of ``n_threads_batch``
        while the block runs: work beside other loads (start-up, the idle prefill)."""
        native.set_threads(self.llm, self.n_threads, self.n_threads)
        try:
            yield
        finally:
            native.set_threads(self.llm, self.n_threads, self.n_threads_batch)

    def _eval_chunks(self, tokens: list[int], cancel: threading.Event, chunk: int) -> None:
        """Evaluate ``tokens`` after the cached ones, ``chunk`` tokens per ``llama_decode``,
        stopping at a chunk boundary when ``cancel`` is set (what is evaluated stays a valid prefix)."""
        llm = self.llm
        for i in range(llm.n_tokens, len(tokens), chunk):
            if cancel.is_set():
                return
            llm.eval(tokens[i : i + chunk])

    def eval_request_prompt(self, tokens: list[int], cancel: threading.Event) -> None:
        """A request's prompt before its generation: when more than REQUEST_CHUNK of its tokens
        are not cached, evaluate all but the last in chunks, checking ``cancel`` between them
        (``create_completion`` then finds them cached and evaluates only the rest). Runs with the
        batch thread count, like llama.cpp's own prompt evaluation."""
        llm = self.llm
        head = tokens[:-1]
        native.keep_cached(llm, common_prefix(native.cached_tokens(llm), head))
        if len(head) - llm.n_tokens > REQUEST_CHUNK:
            self._eval_chunks(head, cancel, REQUEST_CHUNK)

    def remember(self) -> None:
        """After a free-text generation: keep the KV state of its prompt and reply (the next
        turn of the conversation repeats that prompt's history; :meth:`KVCache.remember`)."""
        with self.lock:
            if self.llm is not None:
                self.cache.remember(self.llm)

    def generate(
        self, tokens: list[int], params: GenParams, grammar: Any, emit: Callable[[str], None], cancel: threading.Event
    ) -> None:
        with self.lock:
            if cancel.is_set():
                return
            max_tokens = params.max_tokens
            if len(tokens) + max_tokens > self.n_ctx:
                if grammar is None or len(tokens) >= self.n_ctx:
                    raise LLMError("İstem modelin bağlam penceresine sığmıyor.")
                # a constrained answer's bound is its schema's longest answer (llm/grammar.py), far
                # longer than the answers a model writes: the room left in the context is the bound
                max_tokens = self.n_ctx - len(tokens)
                log.debug("constrained decode bounded by the context: %d of %d tokens", max_tokens, params.max_tokens)
            self.prepare(tokens)
            self.eval_request_prompt(tokens, cancel)
            if cancel.is_set():
                return
            stream = self.llm.create_completion(
                prompt=tokens,
                max_tokens=max_tokens,
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
                    cpu.foreground.wait()  # a reply's first synthesis has the CPU: the next token waits
            finally:
                stream.close()


def _close_all(engines: dict[str, Engine], lock: threading.Lock) -> None:
    with lock:
        for eng in engines.values():
            eng.close()
        engines.clear()


class EngineRegistry:
    """The loaded models of one owner (:class:`bantz_voice.llm.Backends`): one :class:`Engine` per
    model file, whatever role or endpoint names it. Closing it (or the interpreter's exit, before
    llama-cpp-python's own teardown would fail) frees every model."""

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _close_all, self._engines, self._lock)

    def engine_for(self, path: Path, endpoint: EndpointSettings) -> Engine:
        """The one engine of a model file (same path = same weights in memory, whatever the role)."""
        key = str(path.resolve())
        with self._lock:
            eng = self._engines.get(key)
            if eng is None:
                eng = self._engines[key] = Engine(path, endpoint)
            elif endpoint.n_ctx > eng.n_ctx:
                if eng.llm is None:
                    eng.n_ctx = endpoint.n_ctx
                    eng.endpoint = eng.endpoint.model_copy(update={"n_ctx": endpoint.n_ctx})
                else:
                    log.warning("%s is loaded with n_ctx %d; %d was asked for later", path.name, eng.n_ctx, endpoint.n_ctx)
            return eng

    def loaded(self) -> list[Engine]:
        """Every engine of this registry (benchmarks and tests: one per distinct file)."""
        with self._lock:
            return list(self._engines.values())

    def close(self) -> None:
        self._finalizer()
