"""The benchmark's baseline (bantz_voice/bench/baseline.py): the original sequential design asks the
router, the orchestrator and the chat model in that order for every request and yields the reply
whole; the product's brain answers the same fast-path request with no model at all. LLM = the vLLM
simulator (scripts/vllm_mock_server.py) in-process, a SIMULATOR, so the requests are real HTTP."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import vllm_mock_server as sim
from fixtures.llama_server import brain_settings, free_port, openai_models
from fixtures.simulator import serve_simulator

from bantz_voice.bench.baseline import BaselineResponder
from bantz_voice.brain.cascade import REPLY_LLM_DOWN, Brain
from bantz_voice.brain.memory import Memory
from bantz_voice.config import EndpointSettings, ModelSettings
from bantz_voice.responder import TurnRequest
from bantz_voice.schemas import ROUTE_OF_INTENT, Intent

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Europe/Istanbul"))


@pytest.fixture(scope="module")
def sim_url():
    with serve_simulator([sim.ModelProfile("r", ttft_ms=20, tok_s=2000), sim.ModelProfile("c", ttft_ms=20, tok_s=500)]) as base:
        yield base


def _record(brain: Brain) -> list[str]:
    """The kinds of LLM request the brain makes, in order ("RouterOutput", …, "chat")."""
    kinds: list[str] = []
    for role in ("router", "chat"):
        backend = brain.llm.for_role(role)
        orig = backend.stream

        def stream(messages: Any, params: Any, schema: Any = None, _orig: Any = orig) -> Any:
            kinds.append(schema.__name__ if schema else "chat")
            return _orig(messages, params, schema)

        backend.stream = stream
    return kinds


async def _turn(responder: Brain, text: str) -> tuple[TurnRequest, list[str]]:
    req = TurnRequest(text=text, now=NOW)
    pieces = [p async for p in responder.respond(req)]
    return req, pieces


async def test_baseline_asks_every_model_in_order_the_brain_none(sim_url: str, tmp_path: Path) -> None:
    s = brain_settings(ModelSettings(endpoints={
        "small": EndpointSettings(kind="openai", base_url=sim_url, model="r"),
        "chat": EndpointSettings(kind="openai", base_url=sim_url, model="c"),
    }))
    base = BaselineResponder(s, memory=Memory(path=tmp_path / "baseline.sqlite3"))
    brain = Brain(s)
    try:
        kinds = _record(base)
        req, pieces = await _turn(base, "saat kaç")
        assert kinds == ["RouterOutput", "OrchestratorOutput", "chat"]
        r = req.result
        assert r.source == "llm" and r.route == ROUTE_OF_INTENT[Intent(r.intent)].value
        assert len(pieces) == 1 and pieces[0].strip() == r.reply and r.error is None
        t = req.trace
        assert t.route_done is not None and t.route_done <= t.plan_done <= t.llm_first_token
        assert req.trace.meta["speculative_route"] is False and base.prepare("saat kaç") is None

        kinds = _record(brain)
        req, pieces = await _turn(brain, "saat kaç")
        assert kinds == [] and req.result.source == "rules" and req.result.intent == "system.time"
    finally:
        await base.aclose()
        await brain.aclose()


async def test_baseline_apologises_when_the_model_is_down_the_brain_answers(tmp_path: Path) -> None:
    s = brain_settings(openai_models(f"http://127.0.0.1:{free_port()}/v1", timeout_s=5, retries=0))
    base = BaselineResponder(s, memory=Memory(path=tmp_path / "baseline.sqlite3"))
    brain = Brain(s)
    try:
        req, pieces = await _turn(base, "saat kaç")
        assert pieces == [REPLY_LLM_DOWN] and req.result.error == "llm_unavailable"
        req, _ = await _turn(brain, "saat kaç")  # confident fast path: no model needed
        assert req.result.intent == "system.time" and req.result.error is None and "efendim" in req.result.reply
    finally:
        await base.aclose()
        await brain.aclose()
