"""The brain's seams: the tool table (dispatch by intent, one registration), the turn's time passed
to tools explicitly, typed slots parsed once at the router (and back to the wire format unchanged),
and pending actions persisted through their models. No language model: the fast path decides."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest
from fixtures.llama_server import brain_settings

from bantz_voice.brain.actions import Candidate, ChooseEvent, CreateEvent, DeleteEvent, PlanChanges
from bantz_voice.brain.calendar_tool import CalendarTool
from bantz_voice.brain.cascade import Brain
from bantz_voice.brain.confirm import PendingStore
from bantz_voice.brain.memory import connect
from bantz_voice.brain.router import fast_path
from bantz_voice.brain.slots import DateRange, TurnSlots
from bantz_voice.brain.system_tools import SystemTime
from bantz_voice.brain.tool import Decision, Tool, ToolContext, ToolOutcome, ToolTable
from bantz_voice.brain.tools import build_tools
from bantz_voice.responder import TurnRequest
from bantz_voice.schemas import Intent, Slots

TZ = ZoneInfo("Europe/Istanbul")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)  # days before the machine's clock: a tool must not read it
CORPUS = Path(__file__).parent / "data" / "nlu_corpus.jsonl"


async def turn(brain: Brain, text: str, now: datetime = NOW) -> TurnRequest:
    req = TurnRequest(text=text, now=now)
    async for _ in brain.respond(req):
        pass
    return req


def test_every_intent_but_chat_has_exactly_one_tool() -> None:
    table = build_tools(brain_settings(), CalendarTool(brain_settings()))
    assert [i for i in Intent if table.get(i) is None] == [Intent.smalltalk_chat]  # no tool: the chat model
    with pytest.raises(ValueError, match="system.time"):
        ToolTable([SystemTime(), SystemTime()])


class Recorder(Tool):
    """A tool added by one registration: answers the time, records what it was given."""

    intents: ClassVar[frozenset[Intent]] = frozenset({Intent.system_time})

    def __init__(self) -> None:
        self.calls: list[tuple[Decision, ToolContext]] = []

    def run(self, decision: Decision, ctx: ToolContext) -> ToolOutcome:
        self.calls.append((decision, ctx))
        return ToolOutcome(f"Kayıt {ctx.now:%H.%M}, efendim.", "kaydettim.", [{"tool": "test.recorder", "args": {}, "ok": True}])


async def test_a_registered_tool_answers_its_intent_with_the_turns_time() -> None:
    b = Brain(brain_settings(rules_only=True))
    rec = Recorder()
    b.tools = ToolTable([rec, *(t for t in b.tools.tools if Intent.system_time not in t.intents)])
    try:
        r = await turn(b, "saat kaç")
        assert r.result.reply == "Kayıt 10.00, efendim." and r.result.tool_calls[0]["tool"] == "test.recorder"
        (decision, ctx), = rec.calls
        assert decision.intent == Intent.system_time and ctx.now == NOW
        r = await turn(b, "bugünün tarihi ne")  # the other tools are untouched
        assert r.result.intent == "system.date" and "yirmi altı Kasım Perşembe" in r.result.reply and len(rec.calls) == 1
    finally:
        await b.aclose()


async def test_calendar_tools_use_the_turns_time_not_the_clock() -> None:
    """"Sıradaki etkinlik" at NOW (before the machine's date) finds the event of the day after
    NOW; with the wall clock it would be in the past."""
    b = Brain(brain_settings(rules_only=True))
    try:
        r = await turn(b, "yarın saat onda proje toplantısı ekle")
        assert r.result.tool_calls[0]["ok"]
        r = await turn(b, "sıradaki etkinliğim ne")
        assert r.result.tool_calls[0]["tool"] == "calendar.next" and "proje toplantısı" in r.result.reply
        later = NOW + timedelta(days=2)
        r = await turn(b, "sıradaki etkinliğim ne", later)
        assert "proje toplantısı" not in r.result.reply
    finally:
        await b.aclose()


def test_typed_slots_round_trip_to_the_wire_format() -> None:
    """Every fast-path decision of the NLU corpus: parsed once into typed slots, written back
    unchanged (the CLI, the evaluation and the turn's JSON result see the same strings)."""
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    seen: set[str] = set()
    for text in texts:
        wire = fast_path(text, NOW).slots
        typed = TurnSlots.of(wire)
        assert typed.wire() == wire, text
        seen.update(k for k, v in wire.compact().items())
        for key in ("start", "end", "new_start"):
            value = getattr(typed, key)
            assert value is None or isinstance(value, date)
    assert {"start", "target_date", "duration", "range_start"} <= seen  # the corpus exercises the typed kinds


def test_period_of_a_calendar_question() -> None:
    assert TurnSlots().period() is None
    assert TurnSlots(target_date=date(2026, 11, 27)).period() == DateRange(date(2026, 11, 27), date(2026, 11, 27))
    back = TurnSlots(range_start=date(2026, 11, 30), range_end=date(2026, 11, 27)).period()
    assert back == DateRange(date(2026, 11, 27), date(2026, 11, 30))  # said backwards: still in order
    start, end = back.bounds(TZ)
    assert (start, end) == (datetime(2026, 11, 27, tzinfo=TZ), datetime(2026, 12, 1, tzinfo=TZ))
    assert TurnSlots.of(Slots(start="2026-13-01T10:00")).start is None  # a malformed value is no value


def test_pending_actions_persist_through_their_models(tmp_path: Path) -> None:
    db = tmp_path / "brain.sqlite3"
    event = datetime(2026, 11, 27, 10, 0, tzinfo=TZ)
    actions = [
        PlanChanges(steps=[
            DeleteEvent(uid="a", event_start=event, title="toplantı", event_end=event + timedelta(hours=1)),
            CreateEvent(title="toplantı", start=datetime(2026, 11, 30, 10, 0), end=datetime(2026, 11, 30, 11, 0)),
            CreateEvent(title="bayram", start=date(2026, 12, 1)),
        ]),
        ChooseEvent(then="update", new_start=date(2026, 11, 30),
                    candidates=[Candidate(uid="a", event_start=event, title="toplantı"),
                                Candidate(uid="b", event_start=event + timedelta(hours=4), title="toplantı")]),
    ]
    for action in actions:
        PendingStore(connect(db)).put(action, 30)
        other = PendingStore(connect(db))  # another process (`ask`) reads it back, typed
        got = other.current()
        assert got is not None and got.action == action and not got.expired
        claimed = other.claim(got.created)
        assert claimed is not None and claimed[0] == action and other.current() is None


def test_an_unreadable_pending_row_is_dropped_not_run(tmp_path: Path) -> None:
    db = tmp_path / "brain.sqlite3"
    store = PendingStore(connect(db))
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO pending (id, created, expires, payload) VALUES (1, 1.0, 9e9, ?)",
                 (json.dumps({"op": "delete", "uid": "x"}),))  # an older version's dict
    conn.commit()
    assert store.waiting()
    assert store.current() is None and not store.waiting()


def test_brain_log_lines_are_scrubbed_by_the_one_installer() -> None:
    """The brain installs no log filter itself: the start-up's installer (logsetup.configure, as
    every CLI command and the daemon call it) scrubs its lines like every other module's."""
    import io
    import logging

    from bantz_voice import logsetup
    from bantz_voice.privacy import PHONE, install_log_scrubbing

    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        logsetup.configure("WARNING", stream=stream, environ={})
        install_log_scrubbing()
        for name in ("bantz_voice.brain.turn", "bantz_voice.brain.cascade", "bantz_voice.timers.tools"):
            assert not logging.getLogger(name).filters
            logging.getLogger(name).warning("turn failed: ara 0532 123 45 67")
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved:
            root.addHandler(h)
        root.setLevel(level)
    out = stream.getvalue()
    assert out.count(PHONE) == 3 and "0532" not in out
