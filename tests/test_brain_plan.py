"""The orchestrator's plan is carried out: ordered steps from a table of tools, a compound request
confirmed once and undone as one, requires_confirmation adds a question but never removes one,
reasoning only with the debug flag, and the fast path plans the same structure.

The model's answers are given (``_answers``: what the router and orchestrator return, already
schema-valid) — everything after them is the real brain: routing, slot resolution, the plan
executor, the confirmation store, the ICS calendar and its undo journal."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fixtures.llama_server import brain_settings

from bantz_voice.brain import orchestrator as orch_mod
from bantz_voice.brain import plan as plan_mod
from bantz_voice.brain import router as router_mod
from bantz_voice.brain.cascade import Brain
from bantz_voice.brain.orchestrator import Step, orchestrator_parts, to_plan
from bantz_voice.brain.schemas import OrchestratorDebugOutput, OrchestratorOutput, RouterOutput
from bantz_voice.brain.slots import TurnSlots
from bantz_voice.brain.tool import ToolOutcome
from bantz_voice.calendar import open_calendar
from bantz_voice.responder import TurnRequest
from bantz_voice.schemas import Intent

TZ = ZoneInfo("Europe/Istanbul")
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=TZ)  # a Thursday
TOMORROW = datetime(2026, 11, 27, tzinfo=TZ)  # Friday
MONDAY = datetime(2026, 11, 30, tzinfo=TZ)
COMPOUND = "yarınki toplantıyı iptal et ve pazartesi aynı saate yenisini koy"


def _slots(**kw: str | None) -> dict:
    keys = ("title", "start", "end", "range_start", "range_end", "target_date", "new_start", "duration", "repeat", "name")
    return {k: kw.get(k) for k in keys}


def _answer(intent: str, tools: list, confirm: bool, **slots: str | None) -> dict:
    steps = [{"tool": t, "slots": None} if isinstance(t, str) else {"tool": t[0], "slots": t[1]} for t in tools]
    return {"intent": intent, "slots": _slots(**slots), "tools": steps, "requires_confirmation": confirm}


ANSWERS = {
    COMPOUND: _answer("calendar.delete", ["calendar.find", "calendar.delete",
                                          ("calendar.create", {"start": "pazartesi aynı saate"})],
                      True, title="toplantı", target_date="yarın"),
    "yarın akşam yedide sinemayı ekle ama önce bana sor": _answer(
        "calendar.create", ["calendar.create"], True, title="sinema", start="yarın akşam yedide"),
    "yarınki toplantıyı kaldır gitsin": _answer(
        "calendar.delete", ["calendar.find", "calendar.delete"], False, title="toplantı", target_date="yarın"),
}


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[type]:
    """The router says calendar; the orchestrator answers ANSWERS[text]. Records the schemas asked for."""
    asked: list[type] = []

    async def structured(backend, params, parts, budget, model):
        asked.append(model)
        if model is RouterOutput:
            return RouterOutput(route="calendar", confidence="high"), {"prompt_tokens": 0, "repairs": 0}
        data = dict(ANSWERS[parts.user])
        if model is OrchestratorDebugOutput:
            data["reasoning"] = "iki adım"
        return model.model_validate(data), {"prompt_tokens": 0, "repairs": 0}

    monkeypatch.setattr(router_mod, "structured", structured)
    monkeypatch.setattr(orch_mod, "structured", structured)
    return asked


async def turn(brain: Brain, text: str) -> TurnRequest:
    req = TurnRequest(text=text, now=NOW)
    async for _ in brain.respond(req):
        pass
    return req


def events(settings, day: datetime) -> list[tuple[str, str, str]]:
    cal = open_calendar(settings)
    return [(e.title, f"{e.start:%H:%M}", f"{e.end:%H:%M}") for e in cal.list(day, day + timedelta(days=1))]


@pytest.fixture
async def brain(answers):
    settings = brain_settings(speculate=False, prefill_next=False)
    b = Brain(settings)
    r = await turn(b, "yarın saat onda toplantı ekle")  # the fast path, confident: no model
    assert r.result.source == "rules" and events(settings, TOMORROW) == [("toplantı", "10:00", "11:00")]
    settings.brain.fast_path_min_confidence = 1.0  # from here on every request goes to the (given) model
    yield b
    await b.aclose()


async def test_a_compound_request_is_two_steps_confirmed_once_and_undone_as_one(brain: Brain) -> None:
    s = brain.settings
    r = await turn(brain, COMPOUND)
    assert r.result.source == "llm" and r.result.requires_confirmation
    reply = r.result.reply
    assert reply.count("mi efendim") == 1 and "silinsin" in reply and "eklensin" in reply
    assert events(s, TOMORROW) == [("toplantı", "10:00", "11:00")] and events(s, MONDAY) == []  # nothing yet
    r = await turn(brain, "evet")
    assert [c["tool"] for c in r.result.tool_calls] == ["calendar.delete", "calendar.create"]
    assert events(s, TOMORROW) == []
    assert events(s, MONDAY) == [("toplantı", "10:00", "11:00")]  # "aynı saate": the deleted one's time
    r = await turn(brain, "geri al")
    assert events(s, TOMORROW) == [("toplantı", "10:00", "11:00")] and events(s, MONDAY) == []
    assert "Geri aldım" in r.result.reply


async def test_no_to_the_compound_changes_nothing(brain: Brain) -> None:
    await turn(brain, COMPOUND)
    await turn(brain, "hayır")
    assert events(brain.settings, TOMORROW) == [("toplantı", "10:00", "11:00")] and events(brain.settings, MONDAY) == []


async def test_requires_confirmation_adds_a_question_to_a_create(brain: Brain) -> None:
    assert not brain.settings.brain.confirm_create
    r = await turn(brain, "yarın akşam yedide sinemayı ekle ama önce bana sor")
    assert r.result.source == "llm" and r.result.requires_confirmation and "ekleyeyim mi" in r.result.reply
    assert [t for t, *_ in events(brain.settings, TOMORROW)] == ["toplantı"]
    await turn(brain, "evet")
    assert [t for t, *_ in events(brain.settings, TOMORROW)] == ["toplantı", "sinema"]


async def test_requires_confirmation_false_never_removes_the_delete_question(brain: Brain) -> None:
    r = await turn(brain, "yarınki toplantıyı kaldır gitsin")
    assert r.result.source == "llm" and r.result.requires_confirmation and "silinsin mi" in r.result.reply
    assert events(brain.settings, TOMORROW) == [("toplantı", "10:00", "11:00")]


async def test_reasoning_is_asked_for_only_with_the_debug_flag(brain: Brain, answers: list[type]) -> None:
    await turn(brain, "yarınki toplantıyı kaldır gitsin")
    assert OrchestratorOutput in answers and OrchestratorDebugOutput not in answers
    assert "reasoning" not in OrchestratorOutput.model_fields
    assert "reasoning" not in "".join(m["content"] for m in orchestrator_parts("x").messages())
    assert "reasoning" in "".join(m["content"] for m in orchestrator_parts("x", reasoning=True).messages())
    brain.settings.brain.debug_reasoning = True
    answers.clear()
    await turn(brain, "hayır")
    await turn(brain, "yarınki toplantıyı kaldır gitsin")
    assert OrchestratorDebugOutput in answers


def test_the_fast_path_plans_the_same_structure() -> None:
    settings = brain_settings(rules_only=True)
    text = "yarın saat üçte doktor randevusu ekle"
    import asyncio

    routed = asyncio.run(router_mod.route(text, NOW, settings, None))
    assert routed.source == "rules"
    llm = to_plan(OrchestratorOutput.model_validate(
        _answer("calendar.create", ["calendar.create"], False, title="doktor randevusu", start="yarın saat üçte")), NOW)
    assert [s.tool for s in routed.plan.steps] == [s.tool for s in llm.steps] == ["calendar.create"]
    assert routed.plan.steps[0].slots == llm.steps[0].slots
    delete = asyncio.run(router_mod.route("yarınki doktor randevusunu sil", NOW, settings, None))
    assert [s.tool for s in delete.plan.steps] == ["calendar.find", "calendar.delete"] and delete.plan.requires_confirmation


def test_steps_dispatch_through_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from bantz_voice.brain.calendar_tool import CalendarTool
    from bantz_voice.brain.orchestrator import Plan

    seen: list[str] = []

    def echo(tools, step, st):
        seen.append(step.slots.title or "")
        return plan_mod.StepResult(ToolOutcome(f"{step.slots.title} tamam.", "denedim.", [{"tool": "test.echo", "ok": True}]))

    monkeypatch.setitem(plan_mod.TOOLS, "test.echo", echo)
    tools = CalendarTool(brain_settings())
    p = Plan(Intent.calendar_query, TurnSlots(), [], False, "",
             [Step("test.echo", TurnSlots(title="bir")), Step("test.echo", TurnSlots(title="iki"))])
    out = plan_mod.run_plan(tools, p, NOW)
    assert seen == ["bir", "iki"] and out.reply == "bir tamam. iki tamam."
    unknown = plan_mod.run_plan(tools, Plan(Intent.calendar_query, TurnSlots(), [], False, "", [Step("nope.tool", TurnSlots())]), NOW)
    assert unknown.reply == plan_mod.REPLY_UNKNOWN_TOOL and unknown.pending is None
