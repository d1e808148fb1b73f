"""Which LLM endpoints run: the CPU defaults, or the GPU profile on an NVIDIA card with >= 8 GB.

``models.profile.select: auto`` (default) asks ``nvidia-smi`` once per process for the cards'
memory; when one has at least ``min_vram_mib`` and llama-cpp-python is a CUDA build, the endpoints
still at their CPU defaults become those of the planner's shipped profile
(:data:`bantz_voice.doctor.vram.SHIPPED_PROFILE`: Qwen2.5-3B router/orchestrator + Llama-3.1-8B
chat, both in the embedded llama.cpp on the GPU). Endpoints the user configured are never touched.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

from bantz_voice.config import EndpointSettings, ModelSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gpu:
    name: str
    total_mib: int


def detect_nvidia(timeout_s: float = 5.0) -> list[Gpu]:
    """The NVIDIA GPUs ``nvidia-smi`` reports (none when it is missing or fails)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=timeout_s, check=True).stdout
    except (subprocess.SubprocessError, OSError) as exc:
        log.info("nvidia-smi failed: %s", exc)
        return []
    gpus = []
    for line in out.splitlines():
        name, _, mib = line.rpartition(",")
        try:
            gpus.append(Gpu(name.strip(), int(float(mib.strip()))))
        except ValueError:
            continue
    return gpus


def gpu_offload_supported() -> bool:
    """Whether the installed llama-cpp-python can put layers on a GPU (a CUDA build)."""
    try:
        import llama_cpp
    except Exception:
        return False
    return bool(llama_cpp.llama_supports_gpu_offload())


def gpu_endpoints() -> dict[str, EndpointSettings]:
    """The shipped GPU profile as model-settings endpoints (from the planner: one source)."""
    from bantz_voice.doctor.vram import SHIPPED_PROFILE, endpoint_settings, profiles

    req = profiles()[SHIPPED_PROFILE]
    return {s.name: EndpointSettings.model_validate(endpoint_settings(s)) for s in req.servers}


@dataclass(frozen=True)
class Selection:
    profile: str  # "cpu" or the GPU profile's name
    gpu: Gpu | None
    reason: str  # Turkish, for doctor
    needs_cuda_build: bool = False  # a GPU that fits, but llama-cpp-python was built without CUDA


def select(models: ModelSettings) -> Selection:
    from bantz_voice.doctor.vram import SHIPPED_PROFILE

    want = models.profile.select
    if want == "cpu":
        return Selection("cpu", None, "ayarlarda CPU seçili (models.profile.select: cpu)")
    gpus = detect_nvidia()
    big = max(gpus, key=lambda g: g.total_mib, default=None)
    if big is None:
        return Selection("cpu", None, "NVIDIA GPU yok (nvidia-smi bulunamadı)")
    if big.total_mib < models.profile.min_vram_mib and want == "auto":
        return Selection("cpu", big, f"{big.name} {big.total_mib} MiB: 8 GB'tan az, LLM CPU'da")
    if not gpu_offload_supported():
        return Selection("cpu", big, f"{big.name} var ama llama-cpp-python CUDA'sız derlenmiş: CUDA araç takımıyla "
                         "(nvcc) scripts/setup.sh yeniden derler", needs_cuda_build=True)
    return Selection(SHIPPED_PROFILE, big, f"{big.name} {big.total_mib} MiB → GPU profili {SHIPPED_PROFILE}")


@lru_cache(maxsize=4)
def _cached_select(models_json: str) -> Selection:
    return select(ModelSettings.model_validate_json(models_json))


def effective_models(models: ModelSettings) -> ModelSettings:
    """``models`` with the GPU profile's endpoints in place of the CPU defaults when selected."""
    if models.profile.select == "cpu":
        return models
    sel = _cached_select(models.model_dump_json())
    if sel.profile == "cpu":
        return models
    defaults = ModelSettings().endpoints
    endpoints = dict(models.endpoints)
    changed = False
    for name, ep in gpu_endpoints().items():
        if endpoints.get(name) == defaults.get(name):
            endpoints[name] = ep
            changed = True
    if not changed:
        return models
    log.info("LLM profile %s (%s)", sel.profile, sel.gpu.name if sel.gpu else "?")
    return models.model_copy(update={"endpoints": endpoints})
