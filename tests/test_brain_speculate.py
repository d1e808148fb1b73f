"""Speculation: the brain starts routing on a speculative transcript (``Brain.prepare``) and, with a
server backend, the chat reply beside the LLM router; the real turn claims or discards that work.
LLM = the vLLM simulator (scripts/vllm_mock_server.py) in-process, so the requests are real HTTP."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import vllm_mock_server as sim
from fixtures.llama_server import brain_settings
from fixtures.simulator import serve_simulator

from bantz_voice.brain import build_brain
from bantz_voice.brain.actions import DeleteEvent
from bantz_voice.brain.cascade import Brain
from bantz_voice.brain.speculate import DeferredTrace, Speculation
from bantz_voice.config import EndpointSettings, ModelSettings
from bantz_voice.responder import TurnRequest
from bantz_voice.trace import TurnTrace

CHAT = "kedim bugün çok tuhaf davranıyor"  # not confident on the fast path: the LLM router runs
CHAT2 = "köpeğim bugün hasta"  # the same, another sentence
PLAIN_CHAT = "beni dinliyor musun"  # no calendar, time or action word: chat without the router
CALENDAR = "toplantılarımı bir göster bakalım"  # the simulator's router says calendar


@pytest.fixture(scope="module")
def sim_url():
    with serve_simulator([sim.ModelProfile("r", ttft_ms=120, tok_s=400), sim.ModelProfile("c", ttft_ms=60, tok_s=25)]) as base:
        yield base


def _models(url: str) -> ModelSettings:
    return ModelSettings(
        endpoints={
            "small": EndpointSettings(kind="openai", base_url=url, model="r"),
            "chat": EndpointSettings(kind="openai", base_url=url, model="c"),
        }
    )


class Calls:
    """Records every LLM request the brain makes: (kind, start, end), with ``closed_ev`` set when its
    stream closed. Requests of a kind in ``hold`` ("chat", "RouterOutput") when they start stop after their first piece until the
    test calls ``release()``, so a cancellation lands mid-way whatever the machine's speed;
    ``router_waits_for_chat`` holds each router request until a chat stream has started (a chat
    started beside the router is then seen without comparing clocks). ``started(kind)`` is set
    when a request of that kind began."""

    def __init__(self, brain: Brain) -> None:
        self.log: list[dict[str, Any]] = []
        self.hold: set[str] = set()
        self.router_waits_for_chat = False
        self._started: dict[str, asyncio.Event] = {}
        self._release = asyncio.Event()
        for role in ("router", "chat"):
            backend = brain.llm.for_role(role)
            if getattr(backend, "_counted", False):
                continue
            backend._counted = True
            orig = backend.stream

            def stream(messages, params, schema=None, _orig=orig):
                kind = schema.__name__ if schema else "chat"
                rec = {"kind": kind, "start": time.monotonic(), "end": None, "closed": False, "closed_ev": asyncio.Event(),
                       "held": kind in self.hold}
                self.log.append(rec)
                self.started(kind).set()

                async def gen():
                    try:
                        if kind != "chat" and self.router_waits_for_chat:
                            await asyncio.wait_for(self.started("chat").wait(), 30)
                        first = True
                        async for piece in _orig(messages, params, schema):
                            yield piece
                            if first and rec["held"]:
                                await self._release.wait()
                            first = False
                        rec["end"] = time.monotonic()
                    finally:
                        rec["closed"] = True
                        rec["closed_ev"].set()

                return gen()

            backend.stream = stream

    def kinds(self) -> list[str]:
        return [r["kind"] for r in self.log]

    def started(self, kind: str) -> asyncio.Event:
        return self._started.setdefault(kind, asyncio.Event())

    def reset(self) -> None:
        self.log.clear()
        self._started.clear()

    def release(self) -> None:
        self._release.set()

    async def wait_started(self, kind: str) -> None:
        await asyncio.wait_for(self.started(kind).wait(), 30)

    async def closed(self, recs: list[dict[str, Any]] | None = None) -> None:
        """Until every stream in ``recs`` (default: all) has closed (a cancellation reaches the HTTP
        stream on a later loop turn); a stream that never closes fails the test after 30 s."""
        recs = self.log if recs is None else recs
        await asyncio.wait_for(asyncio.gather(*(r["closed_ev"].wait() for r in recs)), 30)


@pytest.fixture
async def brain(sim_url, tmp_path):
    s = brain_settings(_models(sim_url))
    s.calendar.ics_path = tmp_path / "cal.ics"
    b = build_brain(s)
    yield b
    await b.aclose()


async def _respond(brain: Brain, text: str) -> TurnRequest:
    req = TurnRequest(text=text)
    req.trace = TurnTrace()
    [p async for p in brain.respond(req)]
    return req


async def test_prepared_route_is_claimed_by_the_same_text(brain):
    calls = Calls(brain)
    spec = brain.prepare(CHAT)
    assert spec is not None
    await spec.routed()  # the router answered during the "hangover"
    t_turn = time.monotonic()
    req = await _respond(brain, CHAT)
    assert req.trace.meta["speculative_route"] is True
    assert calls.kinds().count("RouterOutput") == 1  # not asked again
    assert req.result.route == "smalltalk" and req.result.reply
    # the stage ends no earlier than the turn that used it began
    assert req.trace.route_done is not None and req.trace.route_done >= t_turn


async def test_other_text_or_changed_conversation_discards_it(brain):
    calls = Calls(brain)
    calls.hold = {"RouterOutput"}  # the stale router request cannot finish before it is cancelled
    brain.prepare(CHAT)
    await calls.wait_started("RouterOutput")  # its router request is in flight
    calls.hold = set()
    req = await _respond(brain, CHAT2)
    assert req.trace.meta["speculative_route"] is False
    routers = [r for r in calls.log if r["kind"] == "RouterOutput"]
    assert len(routers) == 2
    assert routers[0]["closed"] and routers[0]["end"] is None  # the stale one was cancelled mid-way
    # same text, but a turn happened in between: the memory/history it was computed on changed
    spec = brain.prepare(CHAT)
    await _respond(brain, "nasılsın bakalım")
    req = await _respond(brain, CHAT)
    assert req.trace.meta["speculative_route"] is False
    with pytest.raises(asyncio.CancelledError):
        await spec.routed()


async def test_no_prepare_for_turns_that_do_not_route(brain):
    assert brain.prepare("") is None
    assert brain.prepare("geri al") is None  # undo
    assert brain.prepare("az önce ne yaptık") is None  # recall
    brain.pending.put(DeleteEvent(uid="x", event_start=datetime(2026, 11, 27, 10, 0, tzinfo=UTC), title="t"), 30)
    assert brain.prepare(CHAT) is None  # a yes/no is awaited
    brain.pending.clear()
    brain.settings.brain.speculate = False
    assert brain.prepare(CHAT) is None


async def test_parallel_chat_starts_beside_the_router_and_is_dropped_for_a_tool_route(brain):
    assert brain._parallel_chat()  # auto: the chat model is on a server
    calls = Calls(brain)
    calls.router_waits_for_chat = True  # the router answers only once the chat stream has started
    req = await _respond(brain, CHAT)
    router = next(r for r in calls.log if r["kind"] == "RouterOutput")
    chat = next(r for r in calls.log if r["kind"] == "chat")
    assert chat["start"] < router["end"]  # it did not wait for the route
    assert len([r for r in calls.log if r["kind"] == "chat"]) == 1 and req.result.route == "smalltalk"
    calls.reset()
    calls.hold = {"chat"}  # the chat reply cannot end before the router's decision
    req = await _respond(brain, CALENDAR)
    assert req.result.route == "calendar"
    chats = [r for r in calls.log if r["kind"] == "chat"]
    assert len(chats) == 1
    await calls.closed(chats)
    assert chats[0]["end"] is None  # cancelled mid-way
    assert "chat" not in req.result.reply.lower()


async def test_rules_chat_reply_starts_during_prepare(brain):
    """A sentence the rules send to chat (no LLM router) starts its reply on the speculative
    transcript, parallel chat or not; the turn claims the stream instead of asking again."""
    brain.settings.brain.parallel_chat = "off"  # as with the embedded model
    calls = Calls(brain)
    spec = brain.prepare(PLAIN_CHAT)
    assert spec is not None
    routed = await spec.routed()
    assert routed.source == "rules" and routed.llm_calls == [] and routed.decision.route.value == "smalltalk"
    await calls.wait_started("chat")
    assert calls.kinds() == ["chat"]  # started before the turn, no router request
    t_turn = time.monotonic()
    req = await _respond(brain, PLAIN_CHAT)
    assert req.trace.meta["speculative_route"] is True
    assert calls.kinds() == ["chat"] and calls.log[0]["start"] < t_turn
    assert req.result.route == "smalltalk" and req.result.reply
    # a different final text cancels the early reply mid-way and routes afresh
    calls.reset()
    calls.hold = {"chat"}
    brain.prepare("günaydın")  # confident chat on the fast path: its reply starts too
    await calls.wait_started("chat")
    req = await _respond(brain, "saat kaç")
    await calls.closed()
    assert calls.kinds() == ["chat"] and calls.log[0]["end"] is None and calls.log[0]["closed"]
    assert req.result.intent == "system.time"


async def test_chat_without_a_tool_cue_skips_the_llm_router(brain):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bantz_voice.brain.router import route

    now = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Europe/Istanbul"))
    calls = Calls(brain)
    s = brain.settings
    r = await route(PLAIN_CHAT, now, s, brain.llm)
    assert r.source == "rules" and r.llm_calls == [] and r.decision.route.value == "smalltalk"
    assert r.plan.reasoning.startswith("no calendar or time word")
    r = await route(CHAT, now, s, brain.llm)  # "bugün": the router decides
    assert r.source == "llm" and r.llm_calls == ["router"]
    s.brain.chat_without_cue = False
    r = await route(PLAIN_CHAT, now, s, brain.llm)
    assert r.source == "llm" and calls.kinds() == ["RouterOutput", "RouterOutput"]
    s.brain.rules_only = True  # no router at all: the fast path's guess, named as such
    r = await route(CHAT, now, s, brain.llm)
    assert r.source == "rules" and r.plan.reasoning == "fast path" and len(calls.log) == 2


async def test_fast_path_and_embedded_chat_start_no_parallel_chat(sim_url, tmp_path):
    s = brain_settings(_models(sim_url))
    s.calendar.ics_path = tmp_path / "cal.ics"
    b = build_brain(s)
    try:
        calls = Calls(b)
        req = await _respond(b, "saat kaç")
        assert req.result.source == "rules" and calls.log == []  # no LLM at all
    finally:
        await b.aclose()
    emb = brain_settings()  # embedded llama.cpp endpoints: one CPU engine, no parallel chat
    b = Brain(emb)
    try:
        assert not b._parallel_chat()
        emb.brain.parallel_chat = "on"
        assert b._parallel_chat()
    finally:
        await b.aclose()


async def test_unclaimed_speculation_expires_and_deferred_marks_are_clamped():
    started: list[float] = []

    async def slow_route(trace: DeferredTrace):
        trace.mark("route_done")
        started.append(time.monotonic())
        await asyncio.sleep(10)

    from datetime import datetime

    spec = Speculation(("k",), datetime.now(), slow_route, expire_s=0.05)
    await asyncio.sleep(0.2)
    with pytest.raises(asyncio.CancelledError):
        await spec.routed()
    dt = DeferredTrace()
    dt.mark("route_done")
    early = time.monotonic()
    await asyncio.sleep(0.01)
    trace = TurnTrace()
    dt.adopt(trace)
    assert trace.route_done is not None and trace.route_done > early
    dt.mark("llm_first_token")
    assert trace.llm_first_token >= trace.route_done
