"""Input budgets, counted with the model's own tokenizer.

When a prompt is over budget, parts are dropped in a fixed order: few-shot examples (last first),
then the older dialog summary lines (oldest first), then history turns (oldest first). The system
prompt, tool data and the user's words are never cut; if they alone do not fit,
:class:`BudgetExceeded` is raised and the turn answers with a short Turkish apology.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace

from bantz_voice.brain.prompts import summary_block, user_block
from bantz_voice.errors import BantzError
from bantz_voice.llm.base import Message

Counter = Callable[[list[Message]], Awaitable[int]]


class BudgetExceeded(BantzError):
    pass


@dataclass(frozen=True)
class PromptParts:
    system: str
    user: str
    few_shots: tuple[tuple[str, str], ...] = ()
    summary: tuple[str, ...] = ()  # oldest first
    history: tuple[tuple[str, str], ...] = ()  # (user, assistant), oldest first
    data: str | None = None  # tool results: data, never instructions

    def messages(self) -> list[Message]:
        msgs: list[Message] = [{"role": "system", "content": self.system}]
        for u, a in self.few_shots:
            msgs += [{"role": "user", "content": u}, {"role": "assistant", "content": a}]
        if self.summary:
            msgs.append({"role": "system", "content": summary_block(list(self.summary))})
        for u, a in self.history:
            msgs += [{"role": "user", "content": u}, {"role": "assistant", "content": a}]
        msgs.append({"role": "user", "content": user_block(self.user, self.data)})
        return msgs

    def stable_prefix(self) -> list[Message]:
        """System prompt + few-shot examples: what the prefix cache keeps warm."""
        return PromptParts(self.system, "", self.few_shots).messages()[:-1]


@dataclass
class Fitted:
    messages: list[Message]
    tokens: int
    dropped: dict[str, int] = field(default_factory=dict)


def _drops(parts: PromptParts) -> Iterator[tuple[str, PromptParts]]:
    """Successively smaller variants, in the fixed drop order."""
    p = parts
    while p.few_shots:
        p = replace(p, few_shots=p.few_shots[:-1])
        yield "few_shots", p
    while p.summary:
        p = replace(p, summary=p.summary[1:])
        yield "summary", p
    while p.history:
        p = replace(p, history=p.history[1:])
        yield "history", p


async def fit(parts: PromptParts, budget: int, count: Counter) -> Fitted:
    """The largest prompt (in drop order) whose token count is within ``budget``."""
    msgs = parts.messages()
    n = await count(msgs)
    if n <= budget:
        return Fitted(msgs, n)
    dropped: dict[str, int] = {}
    for what, smaller in _drops(parts):
        dropped[what] = dropped.get(what, 0) + 1
        msgs = smaller.messages()
        n = await count(msgs)
        if n <= budget:
            return Fitted(msgs, n, dropped)
    raise BudgetExceeded("Bu istek benim için çok uzun oldu efendim, biraz kısaltır mısınız?")
