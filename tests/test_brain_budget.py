"""Input budgets, counted with the model's own tokenizer; fixed drop order; user words never cut."""

from __future__ import annotations

import random

import pytest
from fixtures.llama_server import embedded_models

from bantz_voice.brain.budget import BudgetExceeded, PromptParts, fit
from bantz_voice.brain.chat import chat_parts
from bantz_voice.brain.orchestrator import orchestrator_parts
from bantz_voice.brain.router import router_parts
from bantz_voice.llm import Backends

WORDS = ["yarın", "sabah", "toplantı", "doktor", "randevusu", "ekle", "sil", "saat", "kaç", "merhaba", "efendim", "takvim", "hafta", "cuma", "akşam"]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


@pytest.fixture(scope="module")
def backend(smollm2_gguf):
    return Backends(embedded_models(smollm2_gguf)).for_role("chat")


async def test_fits_and_drops_in_order(backend) -> None:
    rng = random.Random(1)
    parts = PromptParts(
        system="Sen Bantz'sın.",
        user="yarın saat üçte doktor randevusu ekle lütfen",
        few_shots=tuple((sentence(rng, 8), sentence(rng, 8)) for _ in range(4)),
        summary=tuple(f"{i}: " + sentence(rng, 12) for i in range(6)),
        history=tuple((sentence(rng, 10), sentence(rng, 10)) for _ in range(3)),
    )
    full = await backend.count_tokens(parts.messages())
    # a budget that only needs the few-shot examples gone keeps the whole summary and history
    no_shots = await backend.count_tokens(PromptParts(parts.system, parts.user, (), parts.summary, parts.history).messages())
    got = await fit(parts, no_shots, backend.count_tokens)
    assert got.dropped == {"few_shots": 4} and got.tokens == no_shots
    # tighter: the oldest summary lines go next, history last
    got = await fit(parts, no_shots - 20, backend.count_tokens)
    assert got.dropped.get("few_shots") == 4 and got.dropped.get("summary", 0) >= 1 and "history" not in got.dropped
    assert got.messages[-1]["content"].endswith(parts.user)
    assert any("5: " in m["content"] for m in got.messages)  # newest summary line kept
    assert full > no_shots


@pytest.mark.parametrize("seed", range(12))
async def test_never_over_budget(backend, seed: int) -> None:
    rng = random.Random(seed)
    budget = rng.randint(80, 600)
    parts = PromptParts(
        system="Sen Bantz'sın, kısa ve sıcak konuşursun.",
        user=sentence(rng, rng.randint(1, 20)),
        few_shots=tuple((sentence(rng, 6), sentence(rng, 6)) for _ in range(rng.randint(0, 6))),
        summary=tuple(sentence(rng, 15) for _ in range(rng.randint(0, 12))),
        history=tuple((sentence(rng, 12), sentence(rng, 12)) for _ in range(rng.randint(0, 4))),
    )
    try:
        got = await fit(parts, budget, backend.count_tokens)
    except BudgetExceeded:
        bare = PromptParts(parts.system, parts.user)
        assert await backend.count_tokens(bare.messages()) > budget
        return
    assert await backend.count_tokens(got.messages) <= budget
    assert parts.user in got.messages[-1]["content"]


async def test_user_words_are_never_cut(backend) -> None:
    long_user = "çok uzun bir istek " * 200
    with pytest.raises(BudgetExceeded) as exc:
        await fit(PromptParts("sistem", long_user, (("a", "b"),)), 100, backend.count_tokens)
    assert "efendim" in str(exc.value)


async def test_role_prompts_fit_their_budgets(backend) -> None:
    rng = random.Random(7)
    summary = [sentence(rng, 20) for _ in range(25)]  # a full memory
    history = [(sentence(rng, 25), sentence(rng, 25)) for _ in range(3)]
    text = "yarın akşam yedide annemle yemek ekle"
    for parts, budget in ((router_parts(text), 600), (orchestrator_parts(text, summary), 1500), (chat_parts(text, summary, history), 1200)):
        got = await fit(parts, budget, backend.count_tokens)
        assert got.tokens <= budget and await backend.count_tokens(got.messages) == got.tokens
