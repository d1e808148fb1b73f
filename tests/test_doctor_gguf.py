"""The planner's llama.cpp (GGUF) backend: architecture numbers against the files' own metadata,
KV cache and compute buffer against llama.cpp's own log, one CUDA context per process, the
profiles, and commands that the pinned llama-cpp-python accepts."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bantz_voice.cli import main
from bantz_voice.doctor.catalog import GIB, MIB
from bantz_voice.doctor.gguf_catalog import ARCHITECTURES, GGUF_FILES, gguf_facts, read_gguf
from bantz_voice.doctor.vram import LLAMACPP_CONTEXT_BYTES, ROLES, SHIPPED_PROFILE, plan, profiles
from bantz_voice.models import entry, pull

SMALL = {"smollm2-135m-instruct": "smollm2-135m", "gemma-3-270m-q4_k_m": "gemma-3-270m"}


@pytest.fixture(scope="module")
def small_files() -> dict[str, Path]:
    out = {}
    for key in SMALL:
        try:
            out[key] = pull(key, allow_hub=False)
        except Exception as exc:
            pytest.skip(f"{key} not installed: {exc}")
    return out


def test_small_models_catalog_equals_their_gguf_metadata(small_files: dict[str, Path]) -> None:
    for key, path in small_files.items():
        meta = read_gguf(path)
        arch = ARCHITECTURES[SMALL[key]]
        for name in ("layers", "hidden", "intermediate", "heads", "kv_heads", "head_dim", "vocab", "sliding_window"):
            assert getattr(arch, name) == getattr(meta, name), (key, name)
        assert GGUF_FILES[key].size_bytes == meta.size_bytes == path.stat().st_size
        assert gguf_facts(key, path).size_bytes == path.stat().st_size


def test_published_sizes_agree_with_the_published_architectures() -> None:
    # a typo in a size or a parameter count shows as an impossible bits-per-weight
    expected = {"Q4_K_M": (4.5, 8.0), "IQ4_XS": (4.2, 5.0), "Q4_1": (4.5, 8.0)}  # small models: embeddings at 6-8 bits
    for g in GGUF_FILES.values():
        lo, hi = expected[g.quant]
        assert lo <= g.bits_per_weight <= hi, (g.key, g.bits_per_weight)
    for a in ARCHITECTURES.values():  # head_dim × heads = hidden for every model but Gemma 3
        assert a.head_dim * a.heads == a.hidden or a.key.startswith("gemma")


def test_kv_cache_formula() -> None:
    a = ARCHITECTURES["llama-3.1-8b"]
    # 32 layers × 8 KV heads × 128 × 2 (K, V) × 2 bytes × 4096 tokens = 512 MiB
    assert a.kv_bytes(4096, "f16") == 32 * 8 * 128 * 2 * 2 * 4096 == 512 * MIB
    # q8_0: 34 bytes per 32 values
    assert a.kv_bytes(4096, "q8_0") == 32 * 8 * 128 * 2 * 4096 * 34 // 32 == 272 * MIB
    assert ARCHITECTURES["qwen2.5-3b"].kv_bytes(2048, "q8_0") == 36 * 2 * 128 * 2 * 2048 * 34 // 32


_LOAD = """
import sys
from llama_cpp import Llama
path, n_ctx, ub, fa, kv = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
kw = {"type_k": 8, "type_v": 8} if kv == "q8_0" else {}
Llama(model_path=path, n_ctx=n_ctx, n_ubatch=ub, n_batch=max(ub, 512), flash_attn=fa, n_threads=1, verbose=True, **kw)
"""


@pytest.mark.slow
@pytest.mark.parametrize("n_ctx,n_ubatch,fa,kv", [(4096, 512, False, "f16"), (2048, 256, True, "q8_0")])
def test_memory_formulas_match_llama_cpps_own_log(small_files: dict[str, Path], n_ctx: int, n_ubatch: int, fa: bool,
                                                  kv: str) -> None:
    for key, path in small_files.items():
        log = subprocess.run([sys.executable, "-c", _LOAD, str(path), str(n_ctx), str(n_ubatch), "1" if fa else "0", kv],
                             capture_output=True, text=True, timeout=120).stderr
        kv_mib = sum(float(x) for x in re.findall(r"KV buffer size =\s+([\d.]+) MiB", log))
        compute_mib = float(re.search(r"compute buffer size =\s+([\d.]+) MiB", log).group(1))  # type: ignore[union-attr]
        arch = ARCHITECTURES[SMALL[key]]
        assert arch.kv_bytes(n_ctx, kv, n_ubatch) / MIB == pytest.approx(kv_mib, abs=0.01), key  # type: ignore[arg-type]
        est = arch.compute_bytes(n_ctx, n_ubatch, fa) / MIB
        assert compute_mib - 0.01 <= est <= compute_mib + 1.5, (key, est, compute_mib)


def test_one_cuda_context_per_process() -> None:
    req = profiles()[SHIPPED_PROFILE]
    p = plan(req)
    assert {s.request.backend for s in p.servers} == {"llamacpp"} and len(p.gpu_servers) == 2
    assert sum(s.context_bytes for s in p.gpu_servers) == LLAMACPP_CONTEXT_BYTES
    # the same two models as two processes (two llama.cpp servers) pay for two contexts
    apart = req.model_copy(update={"servers": [s.model_copy(update={"process": s.name}) for s in req.servers]})
    assert plan(apart).total_bytes == p.total_bytes + LLAMACPP_CONTEXT_BYTES
    s = p.gpu_servers[1]
    assert s.weights_bytes == s.request.gguf.size_bytes  # weights = the GGUF file


def test_the_split_fits_in_8gb_with_the_desktop_reserve_and_f16_does_not() -> None:
    p = plan(profiles()[SHIPPED_PROFILE])
    assert p.fits and p.reserve_bytes == 400 * MIB and p.whisper_bytes == 0
    roles = {r: p.request.role_server(r).model for r in ROLES}
    assert roles["router"] == roles["orchestrator"] == "qwen2.5-3b-instruct-q4_k_m"
    assert roles["chat"].startswith("llama-3.1-8b-instruct")
    assert not plan(profiles()["gguf-split-f16kv"]).fits
    assert plan(profiles()["router-cpu-8b"]).fits
    # the mixed profile's cost: the 3B on the CPU is several times slower than on the GPU
    mixed, gpu = plan(profiles()["router-cpu-8b"]).latency, p.latency
    assert mixed.role("router").total_ms > 3 * gpu.role("router").total_ms


def test_all_json_lists_every_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--vram", "--all", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["name"] for d in data} == set(profiles())
    for d in data:
        assert {"name", "backend", "roles", "total_gib", "fits"} <= set(d)
        assert set(d["roles"]) == set(ROLES) and all(isinstance(v, str) and "/" in v for v in d["roles"].values())
    by = {d["name"]: d for d in data}
    assert by[SHIPPED_PROFILE]["backend"] == "llamacpp" and by["router-cpu-8b"]["backend"] == "mixed"
    assert by[SHIPPED_PROFILE]["fits"] and by[SHIPPED_PROFILE]["total_gib"] <= by[SHIPPED_PROFILE]["budget_gib"]
    assert not any("int3" in v.lower() for d in data for v in d["roles"].values())


def test_text_plan_prints_numbers_flags_and_speeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--vram", "--profile", SHIPPED_PROFILE]) == 0
    out = capsys.readouterr().out
    assert "SIĞIYOR" in out and "CUDA bağlamı" in out and "paylaşılır" in out
    assert "n_gpu_layers: -1" in out and "kv_type: q8_0" in out and "--flash_attn true" in out
    chat = plan(profiles()[SHIPPED_PROFILE]).request.role_server("chat")
    bound = 272e9 / chat.bytes_read_per_token
    assert f"{bound:.0f} token/s" in out and "272" in out
    assert main(["doctor", "--vram", "--profile", "gguf-split-f16kv"]) == 3
    out = capsys.readouterr().out
    assert "SIĞMIYOR" in out and "--flash_attn" not in out


def test_printed_llama_cpp_server_commands_parse_with_the_pinned_version() -> None:
    pytest.importorskip("pydantic_settings")
    from llama_cpp.server.cli import add_args_from_model, parse_model_from_args
    from llama_cpp.server.settings import ModelSettings, ServerSettings, Settings

    for req in profiles().values():
        for s in plan(req).servers:
            if s.request.backend != "llamacpp":
                continue
            argv = s.flags()
            assert argv[:3] == ["python", "-m", "llama_cpp.server"]
            parser = argparse.ArgumentParser(exit_on_error=False)
            add_args_from_model(parser, Settings)
            args = parser.parse_args(argv[3:])
            ms = parse_model_from_args(ModelSettings, args)
            ss = parse_model_from_args(ServerSettings, args)
            r = s.request
            assert ms.n_ctx == r.max_model_len and ms.n_ubatch == r.n_ubatch and ms.flash_attn == r.flash_attn
            assert ms.n_gpu_layers == (-1 if r.device == "gpu" else 0)
            assert (ms.type_k, ms.type_v) == ((8, 8) if r.kv_type == "q8_0" else (None, None))
            assert ss.host == "127.0.0.1"


def test_manifest_hub_urls_are_the_catalogs_repo_and_file() -> None:
    for key in ("qwen2.5-3b-instruct-q4_k_m", "llama-3.1-8b-instruct-iq4_xs", "llama-3.1-8b-instruct-q4_k_m"):
        g, e = GGUF_FILES[key], entry(key)
        assert e.files == [g.file]
        assert e.hub is not None and e.hub.repo == g.repo
        assert abs(e.size_mb * 1e6 - g.size_bytes) / g.size_bytes < 0.01
    assert plan(profiles()[SHIPPED_PROFILE]).total_bytes < 8 * GIB
