"""Carrying out a plan: its steps run in order, dispatched through a table of tools.

A step is a tool name and its slots (brain/orchestrator.py :class:`Step`; the fast path plans the
same structure). Read-only steps (list, next) answer at once. Changing steps (create, update,
delete) follow the code's confirmation rules — delete and update always ask, a create asks when
``brain.confirm_create`` is set or it clashes — and the plan's ``requires_confirmation`` can only
add a question, never remove one. When a plan has more than one changing step, every change is
asked for ONCE as one pending action (:class:`~bantz_voice.brain.actions.PlanChanges`), carried
out in order on "evet" and undone as one ("geri al" restores the calendar to before the whole plan).

Binding between steps: a create after a step that found an event ("yarınki toplantıyı iptal et ve
cuma aynı saate yenisini koy") takes that event's title when it has none and, when its start is a
day without a time, that event's time of day and duration.

Plan steps register with :func:`register`: a step function gets the calendar tool, the step and
the plan's state and returns a :class:`StepResult`. (A new kind of request is a new brain tool
instead: brain/tool.py, registered in brain/tools.py.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from bantz_voice.brain.actions import Change, CreateEvent, DeleteEvent, PendingAction, PlanChanges, UpdateEvent
from bantz_voice.brain.orchestrator import Plan, Step, default_tools
from bantz_voice.brain.slots import TurnSlots
from bantz_voice.brain.tool import ToolOutcome

if TYPE_CHECKING:
    from bantz_voice.brain.calendar_tool import CalendarTool

log = logging.getLogger(__name__)

REPLY_UNKNOWN_TOOL = "Bu adımı nasıl yapacağımı bilmiyorum efendim, hiçbir şeyi değiştirmedim."


@dataclass
class PlanState:
    now: datetime
    ask: bool  # every change waits for a spoken "evet" (the plan's requires_confirmation)
    gather: bool  # more than one change: collect them and ask once
    found: DeleteEvent | UpdateEvent | None = None  # the event an earlier step found
    actions: list[Change] = field(default_factory=list)


@dataclass
class StepResult:
    outcome: ToolOutcome
    action: Change | None = None  # a change waiting for confirmation (gathered or pending)
    stop: bool = False  # a question the user must answer first (not found, which one, what time)


StepFn = Callable[["CalendarTool", Step, PlanState], StepResult]
TOOLS: dict[str, StepFn] = {}
CHANGES = {"calendar.create", "calendar.update", "calendar.delete"}


def register(name: str, *, changes: bool = False) -> Callable[[StepFn], StepFn]:
    """Add a step to the table (``changes``: it alters state and follows the confirmation rules)."""

    def deco(fn: StepFn) -> StepFn:
        TOOLS[name] = fn
        if changes:
            CHANGES.add(name)
        return fn

    return deco


@register("calendar.list")
def _list(tools: CalendarTool, step: Step, st: PlanState) -> StepResult:
    return StepResult(tools.query(step.slots.period(), st.now))


@register("calendar.next")
def _next(tools: CalendarTool, step: Step, st: PlanState) -> StepResult:
    return StepResult(tools.query(None, st.now))


@register("calendar.find")
def _find(tools: CalendarTool, step: Step, st: PlanState) -> StepResult:
    """On its own: what is on that day (a following update/delete does its own search)."""
    return StepResult(tools.query(step.slots.period(), st.now))


def _change(op: Literal["delete", "update"]) -> StepFn:
    kind = DeleteEvent if op == "delete" else UpdateEvent

    def run(tools: CalendarTool, step: Step, st: PlanState) -> StepResult:
        s = step.slots
        out = tools.change(op, s.title, s.target_date, s.new_start if op == "update" else None, st.now)
        action = out.pending
        if not isinstance(action, kind):  # not found, which one, or what new time
            return StepResult(out, stop=True)
        st.found = action
        return StepResult(out, action)

    return run


register("calendar.delete")(_change("delete"))
register("calendar.update")(_change("update"))


def _bind(step: Step, st: PlanState) -> TurnSlots:
    """A create after a found event: its title when none was said, its time when only a day was."""
    s = step.slots
    found = st.found
    if found is None:
        return s
    title = s.title or found.title
    start, end = s.start, s.end
    if isinstance(s.start, date) and not isinstance(s.start, datetime):
        at = found.event_start.time()
        start = datetime.combine(s.start, at)
        if found.event_end is not None:
            end = start + (found.event_end - found.event_start)
    return replace(s, title=title, start=start, end=end)


@register("calendar.create")
def _create(tools: CalendarTool, step: Step, st: PlanState) -> StepResult:
    s = _bind(step, st)
    out = tools.create(s.title, s.start, s.end, st.now, confirm=st.ask or st.gather)
    action = out.pending
    if action is None and not out.tool_calls:  # asked for the missing title or time
        return StepResult(out, stop=True)
    return StepResult(out, action if isinstance(action, CreateEvent) else None)


def plan_steps(plan: Plan) -> list[Step]:
    steps = list(plan.steps) or [Step(t, plan.slots) for t in default_tools(plan.intent, plan.slots)]
    # a find right before the update/delete it serves is that step's own search
    return [s for i, s in enumerate(steps)
            if not (s.tool == "calendar.find" and i + 1 < len(steps) and steps[i + 1].tool in ("calendar.update", "calendar.delete"))]


def run_plan(tools: CalendarTool, plan: Plan, now: datetime) -> ToolOutcome:
    """Carry out ``plan`` step by step at the turn's time ``now``; returns what to say (and at
    most one pending action)."""
    steps = plan_steps(plan)
    changing = [s for s in steps if s.tool in CHANGES]
    st = PlanState(now, ask=plan.requires_confirmation, gather=len(changing) > 1)
    replies: list[str] = []
    done: list[str] = []
    calls: list[dict[str, Any]] = []
    data: list[str] = []
    pending: PendingAction | None = None
    for i, step in enumerate(steps):
        fn = TOOLS.get(step.tool)
        if fn is None:
            log.warning("plan step with an unknown tool: %s", step.tool)
            replies.append(REPLY_UNKNOWN_TOOL)
            break
        res = fn(tools, step, st)
        calls += res.outcome.tool_calls
        if res.outcome.data:
            data.append(res.outcome.data)
        if res.stop:
            replies.append(res.outcome.reply)
            done.append(res.outcome.done)
            pending = res.outcome.pending  # e.g. "which one?" — the steps after it are not run
            if i + 1 < len(steps):
                replies.append("Sonraki adımı bundan sonra yeniden söyler misiniz efendim?")
            break
        if res.action is not None and st.gather:
            st.actions.append(res.action)
            continue
        replies.append(res.outcome.reply)
        done.append(res.outcome.done)
        if res.outcome.pending is not None:
            pending = res.outcome.pending
    if st.actions:
        # one change alone when the other stopped with a question
        pending = st.actions[0] if len(st.actions) == 1 else PlanChanges(steps=st.actions)
        replies.append(tools.plan_question(st.actions, now))
        done.append(f"{len(st.actions)} değişiklik için bir kez onay istedim.")
    reply = " ".join(r for r in replies if r)
    return ToolOutcome(reply, " ".join(done) or "planı yürüttüm.", calls, pending=pending, data="\n".join(data))
