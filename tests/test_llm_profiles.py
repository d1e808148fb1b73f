"""The GPU profile is the default on an NVIDIA card with >= 8 GB: detected with nvidia-smi (a fake
one on PATH here), only with a CUDA build of llama-cpp-python, never over the user's endpoints."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bantz_voice.cli import main
from bantz_voice.config import EndpointSettings, ModelSettings, Settings
from bantz_voice.doctor.vram import SHIPPED_PROFILE, endpoint_settings, profiles
from bantz_voice.health import check_gpu
from bantz_voice.llm import Backends
from bantz_voice.llm import profiles as llm_profiles


def _fake_nvidia_smi(bin_dir: Path, name: str, mib: int, rc: int = 0) -> None:
    exe = bin_dir / "nvidia-smi"
    exe.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *--query-gpu=name,memory.total*) echo "{name}, {mib}" ;; *) echo "fake nvidia-smi" ;; esac\n'
        f"exit {rc}\n"
    )
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def make(name: str = "NVIDIA GeForce RTX 4060", mib: int = 8188, cuda: bool = True, rc: int = 0) -> None:
        _fake_nvidia_smi(tmp_path, name, mib, rc)
        monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setattr(llm_profiles, "gpu_offload_supported", lambda: cuda)
        llm_profiles._cached_select.cache_clear()

    yield make
    llm_profiles._cached_select.cache_clear()


def test_detects_the_card_through_nvidia_smi(gpu) -> None:
    gpu("NVIDIA GeForce RTX 4060", 8188)
    assert llm_profiles.detect_nvidia() == [llm_profiles.Gpu("NVIDIA GeForce RTX 4060", 8188)]


def test_an_8gb_card_makes_the_gpu_split_the_default(gpu) -> None:
    gpu(mib=8188)
    sel = llm_profiles.select(ModelSettings())
    assert sel.profile == SHIPPED_PROFILE and sel.gpu is not None and sel.gpu.total_mib == 8188
    models = Backends(ModelSettings()).models
    want = {s.name: endpoint_settings(s) for s in profiles()[SHIPPED_PROFILE].servers}
    for name, ep in want.items():
        assert models.endpoints[name].model_dump(include=set(ep)) == ep
    assert models.endpoints["chat"].n_gpu_layers == -1 and models.endpoints["chat"].gguf.startswith("llama-3.1-8b")


@pytest.mark.parametrize("mib,cuda,why", [(6144, True, "8 GB"), (8188, False, "CUDA")])
def test_a_small_card_or_a_cpu_build_keeps_the_cpu_defaults(gpu, mib: int, cuda: bool, why: str) -> None:
    gpu(mib=mib, cuda=cuda)
    sel = llm_profiles.select(ModelSettings())
    assert sel.profile == "cpu" and why in sel.reason
    assert Backends(ModelSettings()).models == ModelSettings()


def test_no_nvidia_smi_and_a_failing_one_keep_the_cpu(gpu, monkeypatch: pytest.MonkeyPatch) -> None:
    gpu(rc=9)
    assert llm_profiles.detect_nvidia() == []
    monkeypatch.setenv("PATH", "/nonexistent")
    assert llm_profiles.select(ModelSettings()).profile == "cpu"


def test_the_users_endpoints_and_an_explicit_cpu_choice_win(gpu) -> None:
    gpu()
    mine = EndpointSettings(kind="openai", base_url="http://127.0.0.1:9000/v1", model="x")
    models = ModelSettings(endpoints={"small": ModelSettings().endpoints["small"], "chat": mine})
    got = Backends(models).models
    assert got.endpoints["chat"] == mine and got.endpoints["small"].n_gpu_layers == -1
    cpu = ModelSettings(profile={"select": "cpu"})
    assert Backends(cpu).models == cpu


def test_doctor_names_the_profile_and_plans_it(gpu, capsys: pytest.CaptureFixture[str]) -> None:
    gpu()
    c = check_gpu(Settings())
    assert c.status == "ok" and SHIPPED_PROFILE in c.message and "8188 MiB" in c.message
    assert main(["doctor", "--vram"]) == 0  # the configuration is the GPU profile now: planned, fits
    out = capsys.readouterr().out
    assert "SIĞIYOR" in out and "Meta-Llama-3.1-8B-Instruct" in out
    gpu(cuda=False)
    c = check_gpu(Settings())
    assert c.status == "uyarı" and "nvcc" in c.message
