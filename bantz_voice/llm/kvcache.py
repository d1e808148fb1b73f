"""Which KV state an embedded model's context starts a prompt from: the KV-cache policy.

Two kinds of snapshot are kept per engine (:class:`KVCache`):

- **warm prefixes** (``snapshots``): the KV state right after each role's stable prompt prefix
  (system prompt and few-shot examples), taken once at start-up (``add_prefix``);
- **the recent conversation** (``recent``): the state after the last free-text (chat) prompt and
  its reply, or after the idle prefill of the next prompt's start (``remember``), so the next turn
  of the conversation starts from there even when router and orchestrator prompts used the engine
  in between.

Before a generation, :meth:`KVCache.prepare` restores the snapshot with the longest common prefix
when it beats what the context already holds, so time to first token covers only the new tokens.
The raw state is copied in and out through :mod:`bantz_voice.llm.llamacpp_native`.
"""

from __future__ import annotations

import logging
from typing import Any

from bantz_voice.llm import llamacpp_native as native

log = logging.getLogger(__name__)

# One kept conversation state per engine. A brain's next chat prompt continues its last reply or
# the idle prefill after it, never an older state (its history has moved on: a cut-back history
# or a re-tokenised reply shares only the start with it), and a process has one brain at a time
# (a reload's new brain takes over the engines). A second slot held such a stale state: up to
# n_ctx x the KV bytes per token (23 KB for SmolLM2-135M at f16, 128 KB for an 8B), ~10 MB of the
# daemon's RSS growth after READY in the bench (issue 11).
RECENT_SLOTS = 1


def common_prefix(a: list[int], b: list[int]) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class Snapshot:
    """The KV state of a context that held exactly ``tokens``."""

    def __init__(self, tokens: list[int], state: native.KVState) -> None:
        self.tokens = tokens
        self.state = state

    @classmethod
    def take(cls, llm: Any, tokens: list[int]) -> Snapshot:
        return cls(list(tokens), native.KVState.save(llm))

    def restore(self, llm: Any) -> None:
        self.state.load(llm, self.tokens)


class KVCache:
    """The snapshots of one engine and the policy that picks among them. Called with the engine's
    lock held (one thread at a time)."""

    def __init__(self) -> None:
        self.enabled = True  # False: every prompt starts from an empty context (benchmarks' "cold")
        self.snapshots: list[Snapshot] = []  # warm prefixes
        self.recent: list[Snapshot] = []  # the last free-text prompts + replies, newest last
        self.last_reuse = (0, 0)  # (prompt tokens, tokens taken from the KV cache) of the last prompt

    def has_prefix(self, stable: list[int]) -> bool:
        return any(common_prefix(s.tokens, stable) == len(stable) for s in self.snapshots)

    def add_prefix(self, llm: Any, stable: list[int]) -> None:
        """Evaluate ``stable`` from an empty context and keep its state as a warm prefix."""
        llm.reset()
        llm.eval(stable)
        self.snapshots.append(Snapshot.take(llm, stable))

    def prepare(self, llm: Any, tokens: list[int]) -> None:
        """Before a generation of ``tokens``: restore the best snapshot, or start cold when disabled."""
        if not self.enabled:
            llm.reset()
            return
        have = common_prefix(native.cached_tokens(llm), tokens)
        best, best_len = None, have
        for snap in self.snapshots:  # a warm prefix must match whole
            n = common_prefix(snap.tokens, tokens)
            if n == len(snap.tokens) and n > best_len:
                best, best_len = snap, n
        for snap in self.recent:  # a partial match is fine: llama.cpp drops the rest of the KV
            n = common_prefix(snap.tokens, tokens)
            if n > best_len:
                best, best_len = snap, n
        if best is not None:
            best.restore(llm)
        self.last_reuse = (len(tokens), best_len)
        log.debug("prompt %d tokens, %d from the KV cache", len(tokens), best_len)

    def remember(self, llm: Any) -> None:
        """After a free-text generation (or a prefill): keep the state of what the context holds.
        The last RECENT_SLOTS states are kept (a few MB each); a kept state this one continues is
        superseded by it."""
        if not self.enabled or llm.n_tokens == 0:
            return
        snap = Snapshot.take(llm, native.cached_tokens(llm))
        kept = [r for r in self.recent if common_prefix(r.tokens, snap.tokens) < len(r.tokens)]
        self.recent = (kept + [snap])[-RECENT_SLOTS:]
