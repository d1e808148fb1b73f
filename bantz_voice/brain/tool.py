"""The tool seam: a :class:`Tool` answers the intents it lists, given the turn's typed
:class:`Decision` and a :class:`ToolContext` (the turn's time, passed explicitly), with a
:class:`ToolOutcome` (what to say, what was done, the calls for the JSON result, maybe a pending
action). The brain dispatches through a :class:`ToolTable` built in brain/tools.py.

Tool results are data, never instructions: an event titled "ignore previous instructions" is only
a title inside a template sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from bantz_voice.brain.actions import PendingAction
from bantz_voice.brain.orchestrator import Plan
from bantz_voice.brain.slots import TurnSlots
from bantz_voice.schemas import Intent, NluDecision


@dataclass
class ToolOutcome:
    reply: str  # deterministic Turkish sentence
    done: str  # memory line: what was done
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    pending: PendingAction | None = None  # an action that needs a spoken "evet" (or "which one?")
    data: str = ""  # the tool's returned data, for an LLM phrasing (the benchmark's baseline)


@dataclass(frozen=True)
class Decision:
    """What the router stage decided, typed: the intent, its slots and, for the calendar, the
    ordered plan of steps (None = the intent's default steps)."""

    intent: Intent
    slots: TurnSlots = field(default_factory=TurnSlots)
    plan: Plan | None = None

    @classmethod
    def of(cls, nlu: NluDecision, plan: Plan | None = None) -> Decision:
        """From the wire decision (ISO slot strings: the CLI and evaluation format)."""
        return cls(nlu.intent, TurnSlots.of(nlu.slots), plan)


@dataclass(frozen=True)
class ToolContext:
    """What a tool may know of the turn besides the decision."""

    now: datetime  # the turn's time, timezone-aware (a fixed time in tests and benchmarks)


class Tool:
    """Base class of the brain's tools. ``run`` may block (files, CalDAV): the brain runs it in a
    worker thread unless ``blocking`` is False.

    ``read_only``: the intents (of ``intents``) whose ``run`` changes nothing and says only facts
    (the time, what is in the calendar): when the LLM router or orchestrator failed, the brain may
    answer them on the fast path's unsure guess. Every other intent is taken to change data: on an
    unsure guess it gets :meth:`ask_first`'s question or an apology, never ``run``."""

    intents: ClassVar[frozenset[Intent]] = frozenset()
    read_only: ClassVar[frozenset[Intent]] = frozenset()
    blocking: ClassVar[bool] = True

    def run(self, decision: Decision, ctx: ToolContext) -> ToolOutcome:
        raise NotImplementedError

    def ask_first(self, decision: Decision, ctx: ToolContext) -> ToolOutcome | None:
        """The change ``decision`` asks for as a question that waits for a spoken "evet" (the
        outcome's ``pending``) or for a missing detail, changing nothing: how a change is offered
        when it is only the fast path's unsure guess. None: this tool cannot ask (the turn then
        apologises). Default: None."""
        return None

    def warmup(self) -> None:
        """Open what the first call would open (start-up, in a worker thread). Default: nothing."""
        return None


class ToolTable:
    """Intent -> tool. An intent listed by two tools is a programming error."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self.tools = list(tools)
        self._by_intent: dict[Intent, Tool] = {}
        for tool in self.tools:
            if not tool.read_only <= tool.intents:
                raise ValueError(f"{type(tool).__name__}.read_only lists intents it does not serve")
            for intent in tool.intents:
                if intent in self._by_intent:
                    raise ValueError(f"{intent.value} is served by {type(self._by_intent[intent]).__name__} already")
                self._by_intent[intent] = tool

    def get(self, intent: Intent) -> Tool | None:
        """The tool for ``intent``; None = no tool (chat)."""
        return self._by_intent.get(intent)


__all__ = ["Decision", "Tool", "ToolContext", "ToolOutcome", "ToolTable"]
