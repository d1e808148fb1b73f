"""The brain's tool table: every intent a tool answers, in one list.

Adding a tool is one new module with a :class:`~bantz_voice.brain.tool.Tool` subclass (its
``intents`` and ``run(decision, ctx)``) plus one line in :func:`build_tools`. Intents no tool lists
go to the chat model.
"""

from __future__ import annotations

from bantz_voice.brain.calendar_tool import CalendarTool
from bantz_voice.brain.system_tools import SystemDate, SystemTime, Unsupported
from bantz_voice.brain.tool import Tool, ToolTable
from bantz_voice.config import Settings
from bantz_voice.timers.tools import AlarmTools


def build_tools(settings: Settings, calendar: CalendarTool) -> ToolTable:
    """The table the brain dispatches through. ``calendar`` is shared: confirmations and undo
    use it directly, the reminders write their alarms into its backend."""
    tools: list[Tool] = [
        SystemTime(),
        SystemDate(),
        Unsupported(),
        calendar,
        AlarmTools(settings, backend_of=lambda: calendar.service.backend),
    ]
    return ToolTable(tools)


__all__ = ["build_tools"]
