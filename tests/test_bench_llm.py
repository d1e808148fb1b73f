"""scripts/bench_llm_orchestrator.py against the simulator: JSON shape, validity and accuracy scoring."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import bench_llm_orchestrator as bench  # noqa: E402
import vllm_mock_server as sim  # noqa: E402
from fixtures.simulator import serve_simulator  # noqa: E402


@pytest.fixture(scope="module")
def fast_sim() -> Iterator[str]:
    with serve_simulator([sim.ModelProfile("fast", ttft_ms=30, tok_s=2000), sim.ModelProfile("slow", ttft_ms=300, tok_s=500)]) as base:
        yield base


def test_json_report_shape_and_values(fast_sim: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    rows = [
        {"text": "yarın saat dörtte toplantı ekle", "route": "calendar"},  # the simulator guesses calendar: right
        {"text": "bana bir fıkra anlat", "route": "smalltalk"},  # right
        {"text": "saat kaç", "route": "calendar"},  # labeled wrong on purpose: the simulator says system
        {"text": "yarın hava nasıl", "route": "unknown"},  # right
    ]
    labels.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    rc = bench.main(["--base-url", fast_sim, "--router-model", "fast", "--orchestrator-model", "fast", "--chat-model", "slow",
                     "-n", "4", "--labels", str(labels), "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["simulator"] is True and out["prompts"].startswith("bantz_voice.brain")
    assert set(out["roles"]) == {"router", "orchestrator", "chat"}
    router, chat = out["roles"]["router"], out["roles"]["chat"]
    assert router["n"] == 4 and router["errors"] == 0
    assert router["json_valid"] == 1.0 and out["roles"]["orchestrator"]["json_valid"] == 1.0
    assert router["route_accuracy"] == 0.75
    assert chat["json_valid"] is None and chat["route_accuracy"] is None
    for key in ("ttft_ms", "total_ms"):
        assert set(router[key]) == {"p50", "p95", "p99"}
    # measured, not invented: the chat model was configured 10x slower to first token than the router's
    assert chat["ttft_ms"]["p50"] >= 290 and router["ttft_ms"]["p50"] < chat["ttft_ms"]["p50"]
    assert chat["total_ms"]["p50"] >= chat["ttft_ms"]["p50"]


def test_truncated_json_counts_as_invalid(fast_sim: str) -> None:
    specs, _ = bench.product_roles()
    spec = specs["router"]
    spec.max_tokens = 2  # the simulator stops at max_tokens like vLLM: the JSON is cut
    labels = [{"text": "saat kaç", "route": "system"}]

    async def go() -> bench.RoleReport:
        async with httpx.AsyncClient() as client:
            return await bench.bench_role(client, fast_sim, "fast", spec, labels, 3, "json_object")

    rep = asyncio.run(go())
    s = rep.summary()
    assert s["json_valid"] == 0.0 and s["route_accuracy"] == 0.0


def test_percentile() -> None:
    assert bench.percentile([], 50) is None
    assert bench.percentile([1, 2, 3, 4], 50) == 2.5
    assert bench.percentile([10, 20], 100) == 20
