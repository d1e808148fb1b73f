"""VRAM planner: memory arithmetic, fit/refuse, offered alternatives, flags = shipped units."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from bantz_voice.cli import main
from bantz_voice.config import load_settings
from bantz_voice.doctor.catalog import GB, GIB, MIB, MODELS, find_model
from bantz_voice.doctor.report import request_from_settings
from bantz_voice.doctor.vram import SHIPPED_PROFILE, VLLM_PROFILE, plan, profiles

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("key", [k for k, m in MODELS.items() if m.disk_gb])
def test_weights_match_checkpoint_size_on_disk(key: str) -> None:
    m = MODELS[key]
    assert abs(m.weight_bytes / GB - m.disk_gb) / m.disk_gb < 0.03


def test_kv_cache_formula() -> None:
    req = profiles(max_model_len=4096, max_num_seqs=4)["single-7b"]
    p = plan(req)
    # 28 layers × 4 KV heads × 128 head dim × 2 (K and V) × 2 bytes × 4096 tokens × 4 sequences
    assert p.servers[0].kv_bytes == 28 * 4 * 128 * 2 * 2 * 4096 * 4
    fp8 = req.model_copy(update={"servers": [req.servers[0].model_copy(update={"kv_cache_dtype": "fp8"})]})
    assert plan(fp8).servers[0].kv_bytes == p.servers[0].kv_bytes // 2


def test_strategy_split_does_not_fit_and_says_why() -> None:
    p = plan(profiles()["strategy-split"])
    assert not p.fits
    # the two checkpoints alone nearly fill the card before any KV cache or CUDA context
    assert p.weights_bytes > 7.5 * GIB
    assert p.total_bytes > p.budget_bytes + 1 * GIB
    # even the smallest useful context does not rescue it
    tiny = plan(profiles(max_model_len=1024, max_num_seqs=1)["strategy-split"])
    assert not tiny.fits
    assert not plan(profiles()["strategy-split-8b"]).fits


def test_offered_alternatives_fit_and_shipped_one_is_among_them() -> None:
    plans = {name: plan(req) for name, req in profiles().items()}
    fitting = {n for n, p in plans.items() if p.fits}
    assert SHIPPED_PROFILE in fitting
    assert {"single-7b", "single-3b", "router-cpu", "router-cpu-8b", "gguf-split"} <= fitting
    assert plans["router-cpu"].latency.role("router").device == "cpu"
    # the router on the CPU is the slow option; one 3B for all roles is the fast one
    assert plans["router-cpu"].latency.role("router").total_ms > plans["single-3b"].latency.role("router").total_ms
    assert plans["single-3b"].latency.role("chat").first_token_ms < plans["single-7b"].latency.role("chat").first_token_ms


def test_longer_context_is_refused_when_the_kv_cache_no_longer_fits() -> None:
    assert plan(profiles(max_model_len=4096, max_num_seqs=4)["single-7b"]).fits
    big = plan(profiles(max_model_len=32768, max_num_seqs=4)["single-7b"])
    assert not big.fits and big.servers[0].kv_bytes > 3 * GIB


def test_gpu_memory_utilization_covers_what_vllm_allocates() -> None:
    for req in profiles().values():
        p = plan(req)
        for s in p.gpu_servers:
            if s.request.backend != "vllm":
                continue
            granted = s.gpu_memory_utilization * req.gpu.total_mib * MIB
            assert s.inside_util_bytes <= granted < s.inside_util_bytes + 0.01 * req.gpu.total_mib * MIB + 1


def _exec_start_flags(unit: Path) -> list[str]:
    line = next(ln for ln in unit.read_text().splitlines() if ln.startswith("ExecStart="))
    argv = shlex.split(line.split("=", 1)[1])
    return argv[argv.index("serve") - 1 :]


def test_the_shipped_vllm_unit_uses_the_planners_flags() -> None:
    # `bantz-voice service install --with-vllm` installs every bantz_voice/data/systemd/bantz-vllm-*.service: only the
    # shipped profile's server may be there (two servers would not fit in 8 GB together)
    units = sorted(p.name for p in (ROOT / "bantz_voice" / "data" / "systemd").glob("bantz-vllm-*.service"))
    assert units == ["bantz-vllm-main.service"]
    unit = units[0]
    p = plan(profiles()[VLLM_PROFILE])
    flags = p.gpu_servers[0].flags()
    assert _exec_start_flags(ROOT / "bantz_voice" / "data" / "systemd" / unit)[1:] == flags[1:]  # the vllm binary path differs


def test_cli_refuses_a_config_that_does_not_fit(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["doctor", "--vram", "--profile", "strategy-split"])
    out, err = capsys.readouterr()
    assert rc != 0
    assert "SIĞMIYOR" in out and "GiB" in out and "sığmıyor" in err
    assert "single-3b" in out and "router-cpu" in out and SHIPPED_PROFILE in out  # the alternatives that fit
    assert "--gpu-memory-utilization" not in out  # no flags for a refused plan


def test_cli_prints_vllm_flags_for_a_config_that_fits(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--vram", "--profile", VLLM_PROFILE]) == 0
    out = capsys.readouterr().out
    util = plan(profiles()[VLLM_PROFILE]).servers[0].gpu_memory_utilization
    for flag in (f"--gpu-memory-utilization {util:.2f}", "--max-model-len 4096", "--max-num-seqs 4", "--enable-prefix-caching"):
        assert flag in out
    assert "SIĞIYOR" in out


def test_cli_all_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--vram", "--all", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_name = {d["name"]: d for d in data}
    assert by_name["strategy-split"]["fits"] is False and by_name[SHIPPED_PROFILE]["fits"] is True
    assert by_name["single-7b"]["servers"][0]["flags"][:3] == ["vllm", "serve", "Qwen/Qwen2.5-7B-Instruct-AWQ"]


def _write_models(tmp_config: Path, small: str, chat: str, chat_port: int = 8000) -> None:
    (tmp_config / "model-settings.yaml").write_text(
        "endpoints:\n"
        f"  small: {{kind: openai, base_url: 'http://127.0.0.1:8000/v1', model: {small}, n_ctx: 4096}}\n"
        f"  chat: {{kind: openai, base_url: 'http://127.0.0.1:{chat_port}/v1', model: {chat}, n_ctx: 4096}}\n"
    )


def test_configured_models_are_planned(isolated_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = isolated_dirs / "config"
    _write_models(cfg, "Qwen/Qwen2.5-7B-Instruct-AWQ", "qwen2.5-7b-instruct-awq")
    req = request_from_settings(load_settings())
    assert req is not None and len(req.servers) == 1 and req.servers[0].roles == ["router", "orchestrator", "chat"]
    assert main(["doctor", "--vram"]) == 0
    _write_models(cfg, "qwen2.5-3b-instruct-awq", "qwen2.5-7b-instruct-awq", chat_port=8001)
    capsys.readouterr()
    assert main(["doctor", "--vram"]) == 3
    assert "SIĞMIYOR" in capsys.readouterr().out


def test_default_cpu_config_needs_no_gpu(capsys: pytest.CaptureFixture[str]) -> None:
    assert request_from_settings(load_settings()) is None
    assert main(["doctor", "--vram"]) == 0
    assert "GPU'da çalışan model yok" in capsys.readouterr().out


def test_unknown_configured_model_is_a_one_line_error(isolated_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_models(isolated_dirs / "config", "some/unknown-model", "some/unknown-model")
    assert main(["doctor", "--vram"]) == 2
    assert capsys.readouterr().err.startswith("hata: ")


def test_find_model_accepts_hub_ids_and_keys() -> None:
    assert find_model("Qwen/Qwen2.5-3B-Instruct-AWQ") is MODELS["qwen2.5-3b-instruct-awq"]
    assert find_model("QWEN2.5-7B-INSTRUCT-AWQ") is MODELS["qwen2.5-7b-instruct-awq"]
    assert find_model("nope") is None
