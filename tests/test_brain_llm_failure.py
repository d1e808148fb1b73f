"""What the user hears when the LLM router or orchestrator fails and the Turkish fast path's guess is
unsure (brain/turn.py ``RouteAndAct.on_llm_error``): a guess that changes nothing (a calendar
question, chat) goes ahead; a guess that would change data is asked for first (the calendar's
pending action, confirmed by "evet") or apologised for, never carried out; the router's error stays
in the turn's result; a confident fast path never meets the router at all.

The router fails three ways over real HTTP and the product's OpenAI-compatible backend: it hangs
(``timeout``: a scripted server that never answers, tests/adversarial/scripted_llm.py, a test
double), answers garbage (``garbage``: text that is no JSON, also after the repair) or is not there
(``down``: a closed loopback port). The chat model is the scripted server (or a model file that is
not there: a degraded role). The calendar is the real ICS file in the test's private data dir."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from adversarial.scripted_llm import ScriptedLLM, role_of
from fixtures.llama_server import brain_settings, free_port

from bantz_voice.brain.cascade import REPLY_INVALID, REPLY_LLM_DOWN, REPLY_LLM_SLOW, Brain
from bantz_voice.brain.tool import Tool, ToolTable
from bantz_voice.brain.turn import degraded_reply
from bantz_voice.config import EndpointSettings, ModelSettings, Settings
from bantz_voice.responder import TurnRequest
from bantz_voice.schemas import Intent

TZ = ZoneInfo("Europe/Istanbul")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
ROUTER_TIMEOUT_S = 1.0  # the hanging router never answers: this only bounds the test's wait

FAILURES = ("timeout", "garbage", "down")
ERROR = {"timeout": "llm_timeout", "garbage": "invalid_output", "down": "llm_unavailable"}
APOLOGY = {"timeout": REPLY_LLM_SLOW, "garbage": REPLY_INVALID, "down": REPLY_LLM_DOWN}
CHAT_REPLY = "Geçmiş olsun efendim, biraz dinlenmek iyi gelebilir."

# the fast path's unsure guesses (confidence below brain.fast_path_min_confidence, 0.8)
READ_GUESS = "toplantım ne zamandı"  # calendar.query 0.70: the next event
CREATE_GUESS = "dokuzda toplantı ekle"  # calendar.create 0.75 (nine in the morning or evening?)
CHAT_GUESS = "kedim bugün çok tuhaf davranıyor"  # smalltalk.chat 0.30, "bugün" sends it to the router
NO_QUESTION_GUESSES = (
    "dokuzda ilacımı hatırlat",  # reminder.create 0.75: the alarm tool cannot ask first
    "eşime geç kalacağımı yaz",  # unknown 0.60: "I cannot do that" would be a guess too
)


class Script:
    """The scripted server's answers: the router per ``mode``, the chat model ``CHAT_REPLY``."""

    def __init__(self) -> None:
        self.mode = "garbage"
        self.router = ""  # "calendar": the router answers, the orchestrator then fails (garbage)
        self.released = threading.Event()

    def __call__(self, role: str, body: dict[str, Any]) -> str | bytes:
        if role == "chat":
            return CHAT_REPLY
        if role == "router" and self.router:
            return json.dumps({"route": self.router, "confidence": "high"})
        if self.mode == "timeout":
            self.released.wait(60)  # set at the end of the test: the server's thread ends
            return b""
        return "Tabii efendim, hemen bakıyorum."  # no JSON at all


@pytest.fixture
def server() -> Iterator[tuple[ScriptedLLM, Script]]:
    script = Script()
    llm = ScriptedLLM(script).start()
    yield llm, script
    script.released.set()
    llm.stop()


def _endpoint(url: str) -> EndpointSettings:
    return EndpointSettings(kind="openai", base_url=url, model="scripted", connect_retries=0, timeout_s=30.0)


def settings_for(failure: str, url: str, *, chat: str = "up", parallel_chat: str = "off") -> Settings:
    """The router (and orchestrator) on the scripted server, or on a closed port (``down``); the
    chat role on the scripted server (``up``), on a model file that is not there (``degraded``) or
    on the router's own endpoint (``router's``)."""
    router_url = f"http://127.0.0.1:{free_port()}/v1" if failure == "down" else url
    endpoints = {"small": _endpoint(router_url)}
    if chat == "degraded":
        endpoints["chat"] = EndpointSettings(kind="llamacpp", gguf="/nonexistent/model.gguf")
    elif chat == "up":
        endpoints["chat"] = _endpoint(url)
    models = ModelSettings(endpoints=endpoints)
    if chat == "router's":
        models.chat.endpoint = "small"
    models.router.timeout_s = ROUTER_TIMEOUT_S if failure == "timeout" else 30.0
    models.orchestrator.timeout_s = 30.0
    models.chat.timeout_s = 60.0
    return brain_settings(models, parallel_chat=parallel_chat, speculate=False, prefill_next=False)


@pytest.fixture
async def brains() -> AsyncIterator[list[Brain]]:
    made: list[Brain] = []
    yield made
    for b in made:
        await b.aclose()


def make(brains: list[Brain], settings: Settings) -> Brain:
    b = Brain(settings)
    brains.append(b)
    return b


async def turn(brain: Brain, text: str) -> TurnRequest:
    req = TurnRequest(text=text, now=NOW)
    reply = "".join([p async for p in brain.respond(req)])
    assert reply == req.result.reply and reply.strip()
    return req


def roles_asked(llm: ScriptedLLM) -> list[str]:
    return [role_of(json.loads(r.body)) for r in llm.requests if r.path.endswith("/chat/completions")]


def titles(brain: Brain) -> list[str]:
    start = NOW.replace(hour=0)
    return sorted(e.title for e in brain.calendar.service.list(start, start + timedelta(days=8)))


# --- a guess that changes nothing goes ahead ----------------------------------------------------
@pytest.mark.parametrize("failure", FAILURES)
async def test_an_unsure_read_only_guess_is_answered(failure: str, server, brains) -> None:
    llm, script = server
    script.mode = failure
    b = make(brains, settings_for(failure, llm.base_url))
    b.calendar.service.create("Diş hekimi", NOW + timedelta(days=1, hours=4), NOW + timedelta(days=1, hours=5), False)
    req = await turn(b, READ_GUESS)
    res = req.result
    assert res.error is None and res.recovered_error == ERROR[failure]  # answered: recorded, not failed
    assert res.intent == Intent.calendar_query.value and res.source == "rules"
    assert req.trace.meta["on_llm_error"] == "guess"
    assert "Diş hekimi" in res.reply and res.reply not in APOLOGY.values()
    assert [c["tool"] for c in res.tool_calls] == ["calendar.next"] and res.tool_calls[0]["ok"]
    assert titles(b) == ["Diş hekimi"]
    if failure != "down":
        assert roles_asked(llm)[:1] == ["router"]  # the router was asked and failed: not skipped


@pytest.mark.parametrize("parallel_chat", ["off", "on"])
@pytest.mark.parametrize("failure", FAILURES)
async def test_an_unsure_chat_guess_gets_the_chat_models_reply(failure: str, parallel_chat: str, server, brains) -> None:
    llm, script = server
    script.mode = failure
    b = make(brains, settings_for(failure, llm.base_url, parallel_chat=parallel_chat))
    req = await turn(b, CHAT_GUESS)
    res = req.result
    assert res.reply == CHAT_REPLY and res.intent == Intent.smalltalk_chat.value
    assert res.error is None and res.recovered_error == ERROR[failure] and req.trace.meta["on_llm_error"] == "chat"
    assert roles_asked(llm).count("chat") == 1


# --- a guess that would change data is not carried out ------------------------------------------
@pytest.mark.parametrize("failure", FAILURES)
async def test_an_unsure_change_is_asked_for_and_done_only_after_evet(failure: str, server, brains) -> None:
    llm, script = server
    script.mode = failure
    b = make(brains, settings_for(failure, llm.base_url))
    req = await turn(b, CREATE_GUESS)
    res = req.result
    assert res.error is None and res.recovered_error == ERROR[failure] and res.intent == Intent.calendar_create.value
    assert req.trace.meta["on_llm_error"] == "ask"
    assert titles(b) == []  # nothing added on a guess
    assert res.requires_confirmation and b.pending.waiting()
    assert "'toplantı'" in res.reply and res.reply.endswith("ekleyeyim mi efendim?")
    assert [(c["tool"], c["ok"]) for c in res.tool_calls] == [("calendar.create", False)]
    asked = len(llm.requests)
    yes = await turn(b, "evet")
    assert yes.result.source == "confirmation" and yes.result.error is None
    assert titles(b) == ["toplantı"] and not b.pending.waiting()
    assert len(llm.requests) == asked  # "evet" needs no model


@pytest.mark.parametrize("failure", FAILURES)
async def test_an_unsure_change_that_cannot_be_asked_for_is_an_apology(failure: str, server, brains) -> None:
    llm, script = server
    script.mode = failure
    b = make(brains, settings_for(failure, llm.base_url))
    for text in NO_QUESTION_GUESSES:
        req = await turn(b, text)
        res = req.result
        assert res.reply == APOLOGY[failure] and res.error == ERROR[failure] and res.recovered_error is None, text
        assert req.trace.meta["on_llm_error"] == "apology" and res.tool_calls == [] and not res.requires_confirmation
    assert titles(b) == []  # no reminder (an event with a VALARM) was written
    assert "chat" not in roles_asked(llm)


async def test_no_on_the_question_changes_nothing(server, brains) -> None:
    llm, script = server
    b = make(brains, settings_for("garbage", llm.base_url))
    req = await turn(b, CREATE_GUESS)
    assert req.result.requires_confirmation
    await turn(b, "hayır")
    assert titles(b) == [] and not b.pending.waiting()


# --- the chat role cannot answer either: the apology as before ----------------------------------
@pytest.mark.parametrize("failure", FAILURES)
async def test_a_chat_guess_with_the_chat_role_degraded_is_an_apology(failure: str, server, brains) -> None:
    llm, script = server
    script.mode = failure
    b = make(brains, settings_for(failure, llm.base_url, chat="degraded"))
    await b.warmup()  # the chat model file is not there: the role is degraded, the daemon still starts
    assert "chat" in b.degraded()
    llm.requests.clear()
    req = await turn(b, CHAT_GUESS)
    res = req.result
    assert res.reply == degraded_reply("chat") and res.error == ERROR[failure]
    assert req.trace.meta["on_llm_error"] == "apology"
    assert "chat" not in roles_asked(llm)
    read = await turn(b, READ_GUESS)  # a read-only guess still goes ahead
    assert read.result.error is None and read.result.recovered_error == ERROR[failure]
    assert read.trace.meta["on_llm_error"] == "guess"


async def test_a_chat_guess_on_the_routers_own_dead_backend_is_an_apology(server, brains) -> None:
    llm, _ = server
    b = make(brains, settings_for("down", llm.base_url, chat="router's"))
    req = await turn(b, CHAT_GUESS)
    assert req.result.reply == REPLY_LLM_DOWN and req.result.error == "llm_unavailable"
    assert req.trace.meta["on_llm_error"] == "apology"  # not asked again: the Chat step never ran


async def test_a_guess_the_router_contradicts_is_an_apology(server, brains) -> None:
    """The router says calendar, the orchestrator after it answers garbage: the fast path's chat
    guess is not what the router heard, so neither chat nor a calendar tool runs."""
    llm, script = server
    script.router = "calendar"
    b = make(brains, settings_for("garbage", llm.base_url))
    req = await turn(b, CHAT_GUESS)
    res = req.result
    assert res.reply == REPLY_INVALID and res.error == "invalid_output"
    assert req.trace.meta["on_llm_error"] == "apology" and res.tool_calls == []
    assert roles_asked(llm)[:2] == ["router", "orchestrator"] and "chat" not in roles_asked(llm)


# --- a confident fast path never meets the failing router ---------------------------------------
@pytest.mark.parametrize("failure", FAILURES)
async def test_a_confident_fast_path_is_unaffected(failure: str, server, brains) -> None:
    llm, script = server
    script.mode = failure
    b = make(brains, settings_for(failure, llm.base_url))
    req = await turn(b, "yarın saat üçte doktor randevusu ekle")
    res = req.result
    assert res.error is None and res.source == "rules" and "on_llm_error" not in req.trace.meta
    assert res.tool_calls[0]["tool"] == "calendar.create" and res.tool_calls[0]["ok"] and not res.requires_confirmation
    assert titles(b) == ["doktor randevusu"]
    req = await turn(b, "saat kaç")
    assert req.result.error is None and req.result.intent == Intent.system_time.value
    assert roles_asked(llm) == []


# --- the typed property --------------------------------------------------------------------------
def test_a_tool_cannot_call_an_intent_it_does_not_serve_read_only() -> None:
    class Confused(Tool):
        intents = frozenset({Intent.timer_set})
        read_only = frozenset({Intent.timer_query})

    with pytest.raises(ValueError, match="read_only"):
        ToolTable([Confused()])
