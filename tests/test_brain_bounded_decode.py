"""The router's and orchestrator's constrained decode is bounded by construction (issue 11/13: a
follow-up's plan ran into the 20 s timeout on the CPU fallback model): every string and array of
their schemas is bounded, the grammar admits no whitespace and no unbounded repetition, the decode's
``max_tokens`` is the schema's longest answer, the real SmolLM2 finishes a plan within it, and a
plan that still fails falls back to the fast path's plan for the router's route (else a Turkish
apology)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fixtures.llama_server import brain_settings, embedded_models
from pydantic import BaseModel

from bantz_voice.brain import _warm
from bantz_voice.brain import router as router_mod
from bantz_voice.brain.cascade import Brain
from bantz_voice.brain.orchestrator import plan
from bantz_voice.brain.schemas import (
    EXPR_LEN,
    SHORT_LEN,
    TITLE_LEN,
    OrchestratorDebugOutput,
    OrchestratorOutput,
    PlanSlots,
    RouterOutput,
    StepSlots,
)
from bantz_voice.brain.structured import constrained_params
from bantz_voice.brain.turn import REPLY_LLM_SLOW
from bantz_voice.llm import Backends, GenParams
from bantz_voice.llm.grammar import UnboundedSchema, gbnf_for, max_output_bytes, max_output_tokens, schema_of
from bantz_voice.responder import TurnRequest

TZ = ZoneInfo("Europe/Istanbul")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
ANSWER_SCHEMAS = (RouterOutput, OrchestratorOutput, OrchestratorDebugOutput)


def _nodes(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            out += _nodes(v)
    elif isinstance(node, list):
        for v in node:
            out += _nodes(v)
    return out


@pytest.mark.parametrize("model", ANSWER_SCHEMAS, ids=lambda m: m.__name__)
def test_every_string_and_array_of_an_answer_schema_is_bounded(model: type[BaseModel]) -> None:
    nodes = _nodes(schema_of(model))
    strings = [n for n in nodes if n.get("type") == "string" and "enum" not in n and "const" not in n]
    for n in strings:
        assert "maxLength" in n and re.fullmatch(r"\^\[.+\]\{1," + str(n["maxLength"]) + r"\}\$", n["pattern"]), n
    for n in nodes:
        if n.get("type") == "array":
            assert "maxItems" in n, n
        if n.get("type") == "object":
            assert n.get("additionalProperties") is False, n
        assert n.get("type") not in ("number", "integer"), n
    assert max_output_bytes(model) > 0  # raises UnboundedSchema otherwise


def test_the_bound_refuses_an_unbounded_schema() -> None:
    class Free(BaseModel):
        text: str

    class Many(BaseModel):
        items: list[int]

    for m in (Free, Many):
        with pytest.raises(UnboundedSchema):
            max_output_tokens(m)


@pytest.mark.parametrize("model", ANSWER_SCHEMAS, ids=lambda m: m.__name__)
def test_the_grammar_has_no_whitespace_and_no_unbounded_repetition(model: type[BaseModel]) -> None:
    gbnf = gbnf_for(model)
    rules = dict(line.split(" ::= ", 1) for line in gbnf.splitlines() if " ::= " in line)
    assert rules["space"] == '""'
    for name, body in rules.items():
        code = re.sub(r'"(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]', "", body)  # literals and classes
        assert "*" not in code and "+" not in code and "{" not in code, (name, body)
    # every string is a pattern's character class: the generic JSON ``char`` (escapes, control
    # characters, any script) is not reachable
    assert "char" not in rules or not any(re.search(r"\bchar\b", b) for n, b in rules.items() if n != "char")


def _longest_orchestrator_answer() -> str:
    """The longest answer the orchestrator's schema admits, built by hand from its parts: every
    slot filled to its length with a 2-byte letter, three steps with every slot, the longest names."""
    def fill(n: int) -> str:
        return "ş" * n

    lens = {"title": TITLE_LEN, "duration": SHORT_LEN, "repeat": SHORT_LEN, "name": SHORT_LEN}
    plan_slots = {k: fill(lens.get(k, EXPR_LEN)) for k in PlanSlots.model_fields}
    step_slots = {k: fill(lens.get(k, EXPR_LEN)) for k in StepSlots.model_fields}
    intent = max(("calendar.create", "calendar.update", "reminder.create", "reminder.snooze", "smalltalk.chat"), key=len)
    tool = "reminder.snooze"
    answer = {"intent": intent, "slots": plan_slots, "tools": [{"tool": tool, "slots": step_slots}] * 3,
              "requires_confirmation": False}
    text = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    OrchestratorOutput.model_validate_json(text)  # admissible
    return text


def test_max_tokens_is_the_schemas_worst_case() -> None:
    longest = _longest_orchestrator_answer()
    assert max_output_bytes(OrchestratorOutput) == len(longest.encode("utf-8"))
    assert max_output_tokens(OrchestratorOutput) == len(longest.encode("utf-8")) + 1  # + end of sequence
    router = json.dumps({"route": "smalltalk", "confidence": "medium"}, separators=(",", ":"))
    assert max_output_tokens(RouterOutput) == len(router) + 1
    # the role's free-text cap does not apply to a JSON role: the schema's bound does
    for m in ANSWER_SCHEMAS:
        assert constrained_params(GenParams(max_tokens=7, timeout_s=3.0), m) == GenParams(
            max_tokens=max_output_tokens(m), timeout_s=3.0)


# --- the real SmolLM2 ---------------------------------------------------------------------------------
@pytest.fixture
async def counted(smollm2_gguf):
    """Embedded SmolLM2 for every role, warmed as the brain does; counts every token llama.cpp
    samples and records the ``max_tokens`` each decode was given."""
    llm = Backends(embedded_models(smollm2_gguf, n_ctx=4096))
    await _warm(llm)
    eng = llm.for_role("orchestrator")._get_engine()  # type: ignore[attr-defined]
    seen: dict[str, list[int]] = {"sampled": [0], "max_tokens": []}
    sample, generate = eng.llm.sample, eng.generate

    def counting_sample(*a: Any, **kw: Any) -> Any:
        seen["sampled"][0] += 1
        return sample(*a, **kw)

    def recording_generate(tokens: list[int], params: GenParams, *a: Any) -> None:
        seen["max_tokens"].append(params.max_tokens)
        generate(tokens, params, *a)

    eng.llm.sample, eng.generate = counting_sample, recording_generate
    yield llm, seen
    await llm.aclose()


@pytest.mark.timeout(600)
async def test_a_real_plan_finishes_within_the_bound(counted) -> None:
    llm, seen = counted
    llm.models.orchestrator.timeout_s = 300.0  # this test is about tokens, not time
    bound = max_output_tokens(OrchestratorOutput)
    for text in ("toplantıyı saat üçe al", "kuaför randevum hangi gün"):
        seen["sampled"][0] = 0
        seen["max_tokens"].clear()
        p, stats = await plan(llm, text, NOW)
        assert seen["max_tokens"] and all(m == bound for m in seen["max_tokens"]), text
        assert 0 < seen["sampled"][0] <= bound * (1 + stats["repairs"]), text
        assert stats["repairs"] == 0, text  # the grammar's answer always validates: nothing is cut short


# --- a failed plan falls back ---------------------------------------------------------------------
@pytest.fixture
async def slow_planner(smollm2_gguf, monkeypatch: pytest.MonkeyPatch):
    """A brain on the real SmolLM2 whose orchestrator has no time at all (every plan times out);
    the router's answer is given: calendar."""
    real = router_mod.structured

    async def structured(backend, params, parts, budget, model):  # type: ignore[no-untyped-def]
        if model is RouterOutput:
            return RouterOutput(route="calendar", confidence="high"), {"prompt_tokens": 0, "repairs": 0}
        return await real(backend, params, parts, budget, model)

    monkeypatch.setattr(router_mod, "structured", structured)
    settings = brain_settings(embedded_models(smollm2_gguf), speculate=False, prefill_next=False,
                              fast_path_min_confidence=1.0, chat_without_cue=False)
    settings.models.orchestrator.timeout_s = 1e-6
    b = Brain(settings)
    yield b
    await b.aclose()


async def _turn(brain: Brain, text: str) -> tuple[TurnRequest, str]:
    req = TurnRequest(text=text, now=NOW)
    reply = "".join([p async for p in brain.respond(req)])
    return req, reply


@pytest.mark.timeout(300)
async def test_a_plan_that_times_out_gets_the_fast_paths_plan(slow_planner: Brain) -> None:
    req, reply = await _turn(slow_planner, "yarın saat onda toplantı ekle")  # the fast path's plan: a create
    res = req.result
    # answered on the fast path's plan: the timeout is kept for the benchmarks, the turn did not fail
    assert res.error is None and res.recovered_error == "llm_timeout"
    assert res.source == "rules" and res.intent == "calendar.create"
    assert reply and reply != REPLY_LLM_SLOW
    assert [c["tool"] for c in res.tool_calls][:1] == ["calendar.create"]


@pytest.mark.timeout(300)
async def test_a_plan_that_times_out_without_a_fast_path_plan_is_a_turkish_apology(slow_planner: Brain) -> None:
    req, reply = await _turn(slow_planner, "bane dinliyord musun")  # the fast path: chat, not a calendar plan
    assert req.result.error == "llm_timeout" and reply == REPLY_LLM_SLOW
