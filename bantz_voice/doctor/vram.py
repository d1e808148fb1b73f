"""VRAM planner: does a set of vLLM servers (and Whisper) fit on one GPU, and with which flags?

Per vLLM server: CUDA context (outside ``--gpu-memory-utilization``) + inside it: weights + KV cache
(layers × kv_heads × head_dim × 2 × bytes × max_model_len × max_num_seqs) + activations of the
profiling pass + CUDA graphs and a safety margin. Plus Whisper when it runs on the GPU and what the
desktop itself holds (compositor, browser). Every number is an estimate from the architecture; the
formulae are in ``catalog.py`` and here, not hidden.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bantz_voice.doctor.catalog import GIB, MIB, MODELS, WHISPER, GpuSpec, ModelSpec

Role = Literal["router", "orchestrator", "chat"]
ROLES: tuple[Role, ...] = ("router", "orchestrator", "chat")

CUDA_CONTEXT_BYTES = int(0.45 * GIB)  # per process: CUDA context, cuBLAS/NCCL workspaces
GRAPHS_AND_MARGIN_BYTES = int(0.20 * GIB)  # CUDA graphs for small batches + safety margin
BATCHED_TOKENS = 2048  # vLLM's --max-num-batched-tokens on small GPUs (profiling pass)


class ServerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    model: str  # catalog key
    roles: list[Role]
    device: Literal["gpu", "cpu"] = "gpu"
    max_model_len: int = Field(4096, ge=256)
    max_num_seqs: int = Field(4, ge=1)
    kv_cache_dtype: Literal["auto", "fp8"] = "auto"
    port: int = 8000

    @property
    def spec(self) -> ModelSpec:
        return MODELS[self.model]


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    servers: list[ServerRequest]
    whisper: str = "whisper-small"
    whisper_device: Literal["gpu", "cpu"] = "cpu"
    gpu: GpuSpec = Field(default_factory=GpuSpec)
    reserve_mib: int = Field(400, ge=0)  # what the desktop itself keeps on the card

    def role_server(self, role: Role) -> ServerRequest:
        for s in self.servers:
            if role in s.roles:
                return s
        raise ValueError(f"no server for role {role}")


class ServerPlan(BaseModel):
    request: ServerRequest
    weights_bytes: int
    kv_bytes: int
    activation_bytes: int
    graphs_margin_bytes: int
    context_bytes: int
    gpu_memory_utilization: float

    @property
    def inside_util_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes + self.activation_bytes + self.graphs_margin_bytes

    @property
    def total_bytes(self) -> int:
        return self.context_bytes + self.inside_util_bytes

    def flags(self) -> list[str]:
        r = self.request
        out = ["vllm", "serve", r.spec.hf_id, "--served-model-name", r.model]
        if r.spec.quantization:
            out += ["--quantization", r.spec.quantization]
        out += [
            "--gpu-memory-utilization", f"{self.gpu_memory_utilization:.2f}",
            "--max-model-len", str(r.max_model_len),
            "--max-num-seqs", str(r.max_num_seqs),
            "--enable-prefix-caching",
        ]
        if r.kv_cache_dtype == "fp8":
            out += ["--kv-cache-dtype", "fp8"]
        out += ["--host", "127.0.0.1", "--port", str(r.port)]
        return out


class RoleLatency(BaseModel):
    role: Role
    device: str
    first_token_ms: float
    tok_s: float
    output_tokens: int
    total_ms: float  # first token + the rest of a typical answer (chat: the first TTS chunk only)


class LatencyEstimate(BaseModel):
    roles: list[RoleLatency]
    asr_ms: float
    asr_device: str

    def role(self, role: Role) -> RoleLatency:
        return next(r for r in self.roles if r.role == role)

    @property
    def llm_routed_ms(self) -> float:
        """LLM time of a turn the fast path could not route: router + orchestrator + chat first chunk."""
        return sum(r.total_ms for r in self.roles)

    @property
    def fast_path_chat_ms(self) -> float:
        """A smalltalk turn routed by the Turkish fast path: only the chat model's first chunk."""
        return self.role("chat").total_ms


class Plan(BaseModel):
    request: PlanRequest
    servers: list[ServerPlan]
    whisper_bytes: int
    reserve_bytes: int
    budget_bytes: int
    latency: LatencyEstimate

    @property
    def gpu_servers(self) -> list[ServerPlan]:
        return [s for s in self.servers if s.request.device == "gpu"]

    @property
    def weights_bytes(self) -> int:
        return sum(s.weights_bytes for s in self.gpu_servers)

    @property
    def total_bytes(self) -> int:
        return sum(s.total_bytes for s in self.gpu_servers) + self.whisper_bytes + self.reserve_bytes

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.budget_bytes

    @property
    def over_bytes(self) -> int:
        return self.total_bytes - self.budget_bytes


# --- latency model (estimates) ---------------------------------------------------------------
GPU_EFFICIENCY = 0.8  # share of memory bandwidth a 4-bit decode step reaches (Marlin kernels)
GPTQ_EFFICIENCY = 0.5  # the non-Marlin GPTQ kernel (3-bit) is slower
SERVER_OVERHEAD_MS = 25.0  # HTTP + scheduling + detokenizing per request
CPU_BANDWIDTH_GBS = 35.0  # effective, dual-channel desktop DDR4/DDR5 (estimate)
CPU_PREFILL_TFLOPS = 1.0  # llama.cpp prefill on an 8-core desktop CPU (estimate)
NEW_PROMPT_TOKENS = {"router": 64, "orchestrator": 96, "chat": 160}  # after the cached prefix
OUTPUT_TOKENS = {"router": 24, "orchestrator": 60, "chat": 10}  # chat: the first TTS chunk


def _role_latency(role: Role, server: ServerRequest, gpu: GpuSpec) -> RoleLatency:
    spec = server.spec
    new_tokens = NEW_PROMPT_TOKENS[role]
    if server.device == "gpu":
        eff = GPTQ_EFFICIENCY if spec.quantization == "gptq" else GPU_EFFICIENCY
        step_ms = spec.bytes_read_per_token / (gpu.bandwidth_gbs * 1e9 * eff) * 1000
        prefill_ms = max(new_tokens * spec.flops_per_token / (gpu.fp16_tflops * 1e12) * 1000, step_ms)
        overhead = SERVER_OVERHEAD_MS
    else:
        step_ms = spec.bytes_read_per_token / (CPU_BANDWIDTH_GBS * 1e9) * 1000
        prefill_ms = new_tokens * spec.flops_per_token / (CPU_PREFILL_TFLOPS * 1e12) * 1000
        overhead = 5.0
    first = overhead + prefill_ms + step_ms
    n = OUTPUT_TOKENS[role]
    return RoleLatency(role=role, device=server.device, first_token_ms=round(first, 1), tok_s=round(1000 / step_ms, 1),
                       output_tokens=n, total_ms=round(first + (n - 1) * step_ms, 1))


def estimate_latency(req: PlanRequest) -> LatencyEstimate:
    roles = [_role_latency(role, req.role_server(role), req.gpu) for role in ROLES]
    w = WHISPER[req.whisper]
    return LatencyEstimate(roles=roles, asr_ms=w.gpu_ms if req.whisper_device == "gpu" else w.cpu_ms,
                           asr_device=req.whisper_device)


# --- memory ----------------------------------------------------------------------------------
def _util(inside_bytes: int, total_bytes: int) -> float:
    return math.ceil(inside_bytes / total_bytes * 100) / 100


def plan_server(req: ServerRequest, gpu: GpuSpec) -> ServerPlan:
    spec = req.spec
    if req.device == "cpu":
        return ServerPlan(request=req, weights_bytes=0, kv_bytes=0, activation_bytes=0, graphs_margin_bytes=0,
                          context_bytes=0, gpu_memory_utilization=0.0)
    kv = spec.kv_bytes_per_token(1 if req.kv_cache_dtype == "fp8" else 2) * req.max_model_len * req.max_num_seqs
    act = spec.activation_bytes(min(BATCHED_TOKENS, max(req.max_model_len, 1)))
    inside = spec.weight_bytes + kv + act + GRAPHS_AND_MARGIN_BYTES
    return ServerPlan(request=req, weights_bytes=spec.weight_bytes, kv_bytes=kv, activation_bytes=act,
                      graphs_margin_bytes=GRAPHS_AND_MARGIN_BYTES, context_bytes=CUDA_CONTEXT_BYTES,
                      gpu_memory_utilization=_util(inside, gpu.total_mib * MIB))


def plan(req: PlanRequest) -> Plan:
    for s in req.servers:
        if s.model not in MODELS:
            raise ValueError(f"unknown model {s.model}")
    for role in ROLES:
        req.role_server(role)
    servers = [plan_server(s, req.gpu) for s in req.servers]
    whisper = WHISPER[req.whisper].gpu_bytes if req.whisper_device == "gpu" else 0
    return Plan(request=req, servers=servers, whisper_bytes=whisper, reserve_bytes=req.reserve_mib * MIB,
                budget_bytes=req.gpu.total_mib * MIB, latency=estimate_latency(req))


# --- the candidate configurations ------------------------------------------------------------
def _srv(name: str, model: str, roles: list[Role], port: int, device: Literal["gpu", "cpu"] = "gpu",
         **kw: int | str) -> ServerRequest:
    return ServerRequest(name=name, model=model, roles=roles, port=port, device=device, **kw)  # type: ignore[arg-type]


SHIPPED_PROFILE = "single-3b"  # same model family as the embedded CPU default; room for Whisper on the GPU


def profiles(max_model_len: int = 4096, max_num_seqs: int = 4) -> dict[str, PlanRequest]:
    """Named configurations. ``strategy-*`` are the original split; the rest are the ones offered."""
    kw = {"max_model_len": max_model_len, "max_num_seqs": max_num_seqs}
    small_roles: list[Role] = ["router", "orchestrator"]
    every: list[Role] = list(ROLES)
    items = [
        PlanRequest(name="strategy-split", description="Stratejinin bölüşümü: 3B router/orkestratör + 7B sohbet, Whisper GPU'da",
                    servers=[_srv("small", "qwen2.5-3b-instruct-awq", small_roles, 8001, **kw),
                             _srv("chat", "qwen2.5-7b-instruct-awq", ["chat"], 8002, **kw)],
                    whisper_device="gpu"),
        PlanRequest(name="strategy-split-8b", description="Stratejinin bölüşümü, sohbet Llama-3.1-8B, Whisper CPU'da",
                    servers=[_srv("small", "qwen2.5-3b-instruct-awq", small_roles, 8001, **kw),
                             _srv("chat", "llama-3.1-8b-instruct-awq", ["chat"], 8002, **kw)]),
        PlanRequest(name="split-lowbit-chat", description="3B router + 3-bit 7B sohbet modeli, Whisper CPU'da",
                    servers=[_srv("small", "qwen2.5-3b-instruct-awq", small_roles, 8001, **kw),
                             _srv("chat", "qwen2.5-7b-instruct-gptq-int3", ["chat"], 8002, **kw)]),
        PlanRequest(name="single-7b", description="Tek model (Qwen2.5-7B-AWQ) her rolde, Whisper CPU'da",
                    servers=[_srv("main", "qwen2.5-7b-instruct-awq", every, 8000, **kw)]),
        PlanRequest(name="single-7b-lowbit", description="Tek 3-bit 7B model her rolde, Whisper GPU'da",
                    servers=[_srv("main", "qwen2.5-7b-instruct-gptq-int3", every, 8000, **kw)], whisper_device="gpu"),
        PlanRequest(name="single-3b", description="Tek model (Qwen2.5-3B-AWQ) her rolde, Whisper GPU'da",
                    servers=[_srv("main", "qwen2.5-3b-instruct-awq", every, 8000, **kw)], whisper_device="gpu"),
        PlanRequest(name="router-cpu", description="Router/orkestratör 3B CPU'da (llama.cpp), sohbet 7B-AWQ GPU'da",
                    servers=[_srv("small", "qwen2.5-3b-instruct-awq", small_roles, 0, device="cpu", **kw),
                             _srv("chat", "qwen2.5-7b-instruct-awq", ["chat"], 8000, **kw)]),
    ]
    return {p.name: p for p in items}
