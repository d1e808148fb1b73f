"""Every call into llama-cpp-python below its public ``Llama`` API, in one place.

The engine (:mod:`bantz_voice.llm.llamacpp_engine`) and the KV-cache policy
(:mod:`bantz_voice.llm.kvcache`) use the public ``Llama`` methods (``tokenize``, ``eval``,
``reset``, ``create_completion``) directly; what they need beyond that — the raw KV state of the
context, the thread counts of a live context, a token's text, llama-cpp-python's private
"re-evaluate" flag — goes through the functions here. A llama-cpp-python upgrade that renames
a private attribute breaks this module only (tests/test_llm_llamacpp.py exercises each function
with the real library).
"""

from __future__ import annotations

import ctypes
from typing import Any

from bantz_voice.llm.base import LLMError


def chat_formatter(llm: Any, template: str) -> Any:
    """A Jinja2 chat formatter for ``template`` with the model's own BOS/EOS token texts."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    eos = llm._model.token_get_text(llm.token_eos()) if llm.token_eos() != -1 else ""
    bos = llm._model.token_get_text(llm.token_bos()) if llm.token_bos() != -1 else ""
    return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)


def cached_tokens(llm: Any) -> list[int]:
    """The tokens whose KV state the context holds now (in order)."""
    return [int(t) for t in llm.input_ids[: llm.n_tokens]]


def keep_cached(llm: Any, n: int) -> None:
    """Keep only the first ``n`` tokens of the context's KV state (the next ``eval`` continues
    after them; llama.cpp drops the rest)."""
    llm.n_tokens = n


class KVState:
    """A copy of llama.cpp's own state of a context (a few MB). llama-cpp-python's ``save_state``
    would also copy its logits array (n_tokens x vocab floats, ~70 MB here), which a restore does
    not need: the tokens after it are evaluated afresh."""

    def __init__(self, buf: Any, size: int) -> None:
        self.buf = buf
        self.size = size

    @classmethod
    def save(cls, llm: Any) -> KVState:
        import llama_cpp

        size = llama_cpp.llama_state_get_size(llm.ctx)
        buf = (ctypes.c_uint8 * int(size))()
        n = llama_cpp.llama_state_get_data(llm.ctx, buf, size)
        return cls(buf, int(n))

    def load(self, llm: Any, tokens: list[int]) -> None:
        """Put this state back into ``llm``'s context, which then holds ``tokens``."""
        import llama_cpp

        if llama_cpp.llama_state_set_data(llm.ctx, self.buf, self.size) != self.size:
            raise LLMError("Dil modelinin önbelleği geri yüklenemedi.")
        n = len(tokens)
        llm.input_ids[:n] = tokens
        llm.n_tokens = n
        llm._requires_eval = True  # the logits of the last token are not in the restored state


def set_threads(llm: Any, n_threads: int, n_threads_batch: int) -> None:
    """Change the thread counts of a live context (generation, prompt evaluation)."""
    import llama_cpp

    llama_cpp.llama_set_n_threads(llm.ctx, n_threads, n_threads_batch)
