"""VRAM planner: does a set of LLM processes (and Whisper) fit on one GPU, and with which flags?

Two backends. vLLM, one server per model: CUDA context (outside ``--gpu-memory-utilization``) +
inside it: weights + KV cache (layers × kv_heads × head_dim × 2 × bytes × max_model_len ×
max_num_seqs) + activations of the profiling pass + CUDA graphs and a safety margin. llama.cpp
(GGUF, CUDA build), any number of models in one process: weights = the GGUF file's size, KV cache
from the model's own architecture (layers × KV heads × head dim × 2 × bytes per element (f16 or
q8_0) × context), llama.cpp's compute buffer, and ONE CUDA context per process however many models
it holds. Plus Whisper when it runs on the GPU and what the desktop itself holds (compositor,
browser). Estimates are labelled as such; the formulae are in ``catalog.py``, ``gguf_catalog.py``
and here, not hidden.
"""

from __future__ import annotations

import math
from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from bantz_voice.doctor.catalog import GIB, MIB, MODELS, WHISPER, GpuSpec, ModelSpec
from bantz_voice.doctor.gguf_catalog import GGUF_FILES, GgufFile, KvType, gguf_facts

Role = Literal["router", "orchestrator", "chat"]
ROLES: tuple[Role, ...] = ("router", "orchestrator", "chat")

CUDA_CONTEXT_BYTES = int(0.45 * GIB)  # per vLLM process: CUDA context, cuBLAS/NCCL workspaces
LLAMACPP_CONTEXT_BYTES = int(0.35 * GIB)  # per llama.cpp process: CUDA context + cuBLAS workspace (estimate)
GRAPHS_AND_MARGIN_BYTES = int(0.20 * GIB)  # CUDA graphs for small batches + safety margin
BATCHED_TOKENS = 2048  # vLLM's --max-num-batched-tokens on small GPUs (profiling pass)


Backend = Literal["vllm", "llamacpp"]


class ServerRequest(BaseModel):
    """One model in one process. vLLM: a server per model. llama.cpp: models whose ``process``
    is the same share one CUDA context (the daemon's embedded llama.cpp holds both)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    model: str  # catalog key (vLLM: catalog.MODELS; llama.cpp: gguf_catalog.GGUF_FILES)
    roles: list[Role]
    device: Literal["gpu", "cpu"] = "gpu"
    backend: Backend = "vllm"
    process: str = ""  # processes sharing a CUDA context; "" = its own
    max_model_len: int = Field(4096, ge=256)  # llama.cpp: n_ctx
    max_num_seqs: int = Field(4, ge=1)  # llama.cpp: 1 (one sequence per model)
    kv_cache_dtype: Literal["auto", "fp8", "f16", "q8_0"] = "auto"
    n_ubatch: int = Field(512, ge=32)  # llama.cpp micro-batch: sizes the compute buffer
    flash_attn: bool = True  # llama.cpp: needed for a q8_0 V cache; no n_ctx × n_ubatch score matrix
    port: int = 8000

    @property
    def spec(self) -> ModelSpec:
        return MODELS[self.model]

    @property
    def gguf(self) -> GgufFile:
        return gguf_facts(self.model)

    @property
    def kv_type(self) -> KvType:
        return "q8_0" if self.kv_cache_dtype in ("q8_0", "fp8") else "f16"

    @property
    def process_key(self) -> str:
        return self.process or self.name

    @property
    def hf_id(self) -> str:
        return f"{self.gguf.repo}/{self.gguf.file}" if self.backend == "llamacpp" else self.spec.hf_id

    @property
    def revision(self) -> str | None:
        """The pinned commit of the checkpoint (llama.cpp: the manifest entry's hub source; vLLM: the
        catalog's), or None where it is not pinned (``unpinned_reason`` says why)."""
        if self.backend == "llamacpp":
            from bantz_voice.models import load_manifest

            e = load_manifest().models.get(self.model)
            hub = e.hub if e is not None else None
            return hub.revision if hub is not None and hub.pinned else None
        return self.spec.revision

    @property
    def unpinned_reason(self) -> str | None:
        if self.revision is not None:
            return None
        if self.backend == "llamacpp":
            from bantz_voice.models import load_manifest

            e = load_manifest().models.get(self.model)
            if e is None or e.hub is None:
                return "not a hub download (a PyPI package's file)"
            return e.unpinned_reason
        return self.spec.unpinned

    @property
    def bytes_read_per_token(self) -> int:
        return self.gguf.bytes_read_per_token if self.backend == "llamacpp" else self.spec.bytes_read_per_token

    @property
    def flops_per_token(self) -> float:
        return self.gguf.flops_per_token if self.backend == "llamacpp" else self.spec.flops_per_token


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
    activation_bytes: int  # llama.cpp: its compute buffer
    graphs_margin_bytes: int
    context_bytes: int  # 0 for the second model of a llama.cpp process (the context is shared)
    gpu_memory_utilization: float

    @property
    def inside_util_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes + self.activation_bytes + self.graphs_margin_bytes

    @property
    def total_bytes(self) -> int:
        return self.context_bytes + self.inside_util_bytes

    def flags(self) -> list[str]:
        r = self.request
        if r.backend == "llamacpp":
            return llamacpp_server_flags(r)
        out = ["vllm", "serve", r.spec.hf_id]
        if r.spec.revision:
            out += ["--revision", r.spec.revision]
        out += ["--served-model-name", r.model]
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
EMBEDDED_OVERHEAD_MS = 5.0  # llama.cpp in the daemon's process: no HTTP (grammar set-up, detokenizing)
CPU_BANDWIDTH_GBS = 35.0  # effective, dual-channel desktop DDR4/DDR5 (estimate)
CPU_PREFILL_TFLOPS = 1.0  # llama.cpp prefill on an 8-core desktop CPU (estimate)
NEW_PROMPT_TOKENS = {"router": 64, "orchestrator": 96, "chat": 160}  # after the cached prefix
OUTPUT_TOKENS = {"router": 24, "orchestrator": 60, "chat": 10}  # chat: the first TTS chunk


def _role_latency(role: Role, server: ServerRequest, gpu: GpuSpec) -> RoleLatency:
    new_tokens = NEW_PROMPT_TOKENS[role]
    read, flops = server.bytes_read_per_token, server.flops_per_token
    if server.device == "gpu":
        eff = GPTQ_EFFICIENCY if server.backend == "vllm" and server.spec.quantization == "gptq" else GPU_EFFICIENCY
        step_ms = read / (gpu.bandwidth_gbs * 1e9 * eff) * 1000
        prefill_ms = max(new_tokens * flops / (gpu.fp16_tflops * 1e12) * 1000, step_ms)
        overhead = SERVER_OVERHEAD_MS if server.backend == "vllm" else EMBEDDED_OVERHEAD_MS
    else:
        step_ms = read / (CPU_BANDWIDTH_GBS * 1e9) * 1000
        prefill_ms = new_tokens * flops / (CPU_PREFILL_TFLOPS * 1e12) * 1000
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
    if req.device == "cpu":
        return ServerPlan(request=req, weights_bytes=0, kv_bytes=0, activation_bytes=0, graphs_margin_bytes=0,
                          context_bytes=0, gpu_memory_utilization=0.0)
    if req.backend == "llamacpp":
        g = req.gguf
        a = g.architecture
        return ServerPlan(request=req, weights_bytes=g.size_bytes, kv_bytes=a.kv_bytes(req.max_model_len, req.kv_type, req.n_ubatch),
                          activation_bytes=a.compute_bytes(req.max_model_len, req.n_ubatch, req.flash_attn),
                          graphs_margin_bytes=0, context_bytes=LLAMACPP_CONTEXT_BYTES, gpu_memory_utilization=0.0)
    spec = req.spec
    kv = spec.kv_bytes_per_token(1 if req.kv_cache_dtype == "fp8" else 2) * req.max_model_len * req.max_num_seqs
    act = spec.activation_bytes(min(BATCHED_TOKENS, max(req.max_model_len, 1)))
    inside = spec.weight_bytes + kv + act + GRAPHS_AND_MARGIN_BYTES
    return ServerPlan(request=req, weights_bytes=spec.weight_bytes, kv_bytes=kv, activation_bytes=act,
                      graphs_margin_bytes=GRAPHS_AND_MARGIN_BYTES, context_bytes=CUDA_CONTEXT_BYTES,
                      gpu_memory_utilization=_util(inside, gpu.total_mib * MIB))


CPU_TOKENIZER_BYTES_PER_TOKEN = 200  # llama.cpp's vocabulary tables per token (estimate)
CPU_MODEL_OVERHEAD_BYTES = 8 * MIB  # llama.cpp context, graph metadata, threads (estimate)
CPU_PROMPT_BATCH = 512  # the longest prompt chunk evaluated at once (a warm prefix, a whole prompt)


def cpu_rss_bytes(req: ServerRequest) -> int:
    """Resident memory one llama.cpp model adds to a process on the CPU. Counted: the GGUF file
    (mapped and read in full), the KV cache (llama.cpp clears it: resident), the output buffer,
    the vocabulary tables and the part of the compute buffer a prompt chunk of
    CPU_PROMPT_BATCH tokens touches (its hidden states, FFN activations and attention scores over
    at most 512 cached tokens, one row of logits). Not counted: the rest of the reserved compute
    buffer and llama-cpp-python's n_batch × vocab ``scores`` array — allocated, never written,
    so not resident on the CPU (unlike cudaMalloc'ed memory on a GPU) — and the prefix
    snapshots / kept conversation states (a few MB each). scripts/bench_two_models.py measures it."""
    g = req.gguf
    a = g.architecture
    batch = min(req.n_ubatch, CPU_PROMPT_BATCH)
    n_kv = min(req.max_model_len, 512)
    touched = batch * (3 * a.intermediate + 8 * a.hidden) * 4 + batch * n_kv * a.heads * 4 + a.output_bytes()
    return (g.size_bytes + a.kv_bytes(req.max_model_len, req.kv_type, req.n_ubatch) + touched
            + a.vocab * CPU_TOKENIZER_BYTES_PER_TOKEN + CPU_MODEL_OVERHEAD_BYTES)


def plan(req: PlanRequest) -> Plan:
    for s in req.servers:
        if s.model not in (GGUF_FILES if s.backend == "llamacpp" else MODELS):
            raise ValueError(f"unknown model {s.model}")
    for role in ROLES:
        req.role_server(role)
    servers = [plan_server(s, req.gpu) for s in req.servers]
    seen: set[str] = set()
    for sp in servers:  # one CUDA context per process: a second model in it adds none
        if sp.request.device != "gpu":
            continue
        if sp.request.process_key in seen:
            sp.context_bytes = 0
        seen.add(sp.request.process_key)
    whisper = WHISPER[req.whisper].gpu_bytes if req.whisper_device == "gpu" else 0
    return Plan(request=req, servers=servers, whisper_bytes=whisper, reserve_bytes=req.reserve_mib * MIB,
                budget_bytes=req.gpu.total_mib * MIB, latency=estimate_latency(req))


def llamacpp_server_flags(r: ServerRequest) -> list[str]:
    """The same model as one llama-cpp-python server (``python -m llama_cpp.server``; every flag is
    a field of llama_cpp.server.settings.ModelSettings of the pinned version, tested)."""
    from bantz_voice.doctor.gguf_catalog import local_file

    g = r.gguf
    path = local_file(g.key)
    out = ["python", "-m", "llama_cpp.server", "--model", str(path) if path else f"models/cache/{g.key}/{g.file}",
           "--model_alias", g.key, "--n_gpu_layers", "-1" if r.device == "gpu" else "0",
           "--n_ctx", str(r.max_model_len), "--n_ubatch", str(r.n_ubatch), "--n_batch", str(max(r.n_ubatch, 512)),
           "--flash_attn", "true" if r.flash_attn else "false"]
    if r.kv_type == "q8_0":
        out += ["--type_k", str(GGML_TYPE_Q8_0), "--type_v", str(GGML_TYPE_Q8_0)]
    out += ["--host", "127.0.0.1", "--port", str(r.port)]
    return out


GGML_TYPE_Q8_0 = 8  # ggml.h enum ggml_type


def endpoint_settings(r: ServerRequest) -> dict[str, object]:
    """The model-settings.yaml endpoint that runs ``r`` in the daemon's embedded llama.cpp."""
    return {"kind": "llamacpp", "gguf": r.model, "n_ctx": r.max_model_len,
            "n_gpu_layers": -1 if r.device == "gpu" else 0, "n_ubatch": r.n_ubatch,
            "flash_attn": r.flash_attn, "kv_type": r.kv_type}


# --- the candidate configurations ------------------------------------------------------------
class VllmSizes(TypedDict):
    max_model_len: int
    max_num_seqs: int


def _srv(name: str, model: str, roles: list[Role], port: int, *, max_model_len: int, max_num_seqs: int,
         kv_cache_dtype: Literal["auto", "fp8"] = "auto") -> ServerRequest:
    """A vLLM server on the GPU."""
    return ServerRequest(name=name, model=model, roles=roles, port=port, max_model_len=max_model_len,
                         max_num_seqs=max_num_seqs, kv_cache_dtype=kv_cache_dtype)


SHIPPED_PROFILE = "gguf-split"  # the default on an NVIDIA GPU with >= 8 GB (llm/profiles.py)
VLLM_PROFILE = "single-3b"  # the one vLLM server shipped as a systemd unit (bantz_voice/data/systemd/bantz-vllm-main.service)
CPU_PROFILE = "cpu"  # no GPU: the embedded llama.cpp on the CPU (bantz_voice/data/config/model-settings.yaml)
DAEMON = "bantz-voice"  # the process of the embedded llama.cpp models


def _gguf(name: str, model: str, roles: list[Role], n_ctx: int, *, device: Literal["gpu", "cpu"] = "gpu",
          kv: Literal["f16", "q8_0"] = "q8_0", n_ubatch: int = 256, flash_attn: bool = True) -> ServerRequest:
    port = 8002 if "chat" in roles else 8001  # only used by the printed llama_cpp.server alternative
    return ServerRequest(name=name, model=model, roles=roles, device=device, backend="llamacpp", process=DAEMON, port=port,
                         max_model_len=n_ctx, max_num_seqs=1, kv_cache_dtype=kv, n_ubatch=n_ubatch, flash_attn=flash_attn)


def profiles(max_model_len: int = 4096, max_num_seqs: int = 4) -> dict[str, PlanRequest]:
    """Named configurations. ``strategy-*`` are the original split on vLLM (they do not fit);
    ``gguf-*`` run both models in the daemon's embedded llama.cpp (one CUDA context)."""
    vllm = VllmSizes(max_model_len=max_model_len, max_num_seqs=max_num_seqs)  # every vLLM server
    small_roles: list[Role] = ["router", "orchestrator"]
    every: list[Role] = list(ROLES)
    router_ctx = min(max_model_len, 2048)  # router/orchestrator prompts: input budget 1000 + 256 out
    items = [
        PlanRequest(name="gguf-split", description="3B Q4_K_M router/orkestratör + Llama-3.1-8B IQ4_XS sohbet, ikisi "
                    "gömülü llama.cpp'de (CUDA, tek süreç), q8_0 KV, Whisper CPU'da",
                    servers=[_gguf("small", "qwen2.5-3b-instruct-q4_k_m", small_roles, router_ctx),
                             _gguf("chat", "llama-3.1-8b-instruct-iq4_xs", ["chat"], max_model_len)]),
        PlanRequest(name="gguf-split-q4km", description="Aynı bölüşüm, sohbet Llama-3.1-8B Q4_K_M (sınırda)",
                    servers=[_gguf("small", "qwen2.5-3b-instruct-q4_k_m", small_roles, router_ctx),
                             _gguf("chat", "llama-3.1-8b-instruct-q4_k_m", ["chat"], max_model_len)]),
        PlanRequest(name="gguf-split-qwen7b", description="3B Q4_K_M + Qwen2.5-7B Q4_K_M sohbet, gömülü llama.cpp (CUDA)",
                    servers=[_gguf("small", "qwen2.5-3b-instruct-q4_k_m", small_roles, router_ctx),
                             _gguf("chat", "qwen2.5-7b-instruct-q4_k_m", ["chat"], max_model_len)]),
        PlanRequest(name="gguf-split-f16kv", description="3B + 8B Q4_K_M, f16 KV, n_ubatch 512, flash attention yok",
                    servers=[_gguf("small", "qwen2.5-3b-instruct-q4_k_m", small_roles, max_model_len, kv="f16",
                                   n_ubatch=512, flash_attn=False),
                             _gguf("chat", "llama-3.1-8b-instruct-q4_k_m", ["chat"], max_model_len, kv="f16",
                                   n_ubatch=512, flash_attn=False)]),
        PlanRequest(name="strategy-split", description="Stratejinin bölüşümü: 3B router/orkestratör + 7B sohbet, Whisper GPU'da",
                    servers=[_srv("small", "qwen2.5-3b-instruct-awq", small_roles, 8001, **vllm),
                             _srv("chat", "qwen2.5-7b-instruct-awq", ["chat"], 8002, **vllm)],
                    whisper_device="gpu"),
        PlanRequest(name="strategy-split-8b", description="Stratejinin bölüşümü, sohbet Llama-3.1-8B, Whisper CPU'da",
                    servers=[_srv("small", "qwen2.5-3b-instruct-awq", small_roles, 8001, **vllm),
                             _srv("chat", "llama-3.1-8b-instruct-awq", ["chat"], 8002, **vllm)]),
        PlanRequest(name="router-cpu-8b", description="Karma: sohbet Llama-3.1-8B-AWQ vLLM'de (GPU, fp8 KV), router/orkestratör "
                    "3B Q4_K_M CPU'da (llama.cpp)",
                    servers=[_gguf("small", "qwen2.5-3b-instruct-q4_k_m", small_roles, router_ctx, device="cpu", kv="f16",
                                   n_ubatch=512, flash_attn=False),
                             _srv("chat", "llama-3.1-8b-instruct-awq", ["chat"], 8000, kv_cache_dtype="fp8", **vllm)]),
        PlanRequest(name="single-7b", description="Tek model (Qwen2.5-7B-AWQ) her rolde, Whisper CPU'da",
                    servers=[_srv("main", "qwen2.5-7b-instruct-awq", every, 8000, **vllm)]),
        PlanRequest(name="single-3b", description="Tek model (Qwen2.5-3B-AWQ) her rolde, Whisper GPU'da",
                    servers=[_srv("main", "qwen2.5-3b-instruct-awq", every, 8000, **vllm)], whisper_device="gpu"),
        PlanRequest(name="router-cpu", description="Router/orkestratör 3B CPU'da (llama.cpp), sohbet 7B-AWQ GPU'da",
                    servers=[_gguf("small", "qwen2.5-3b-instruct-q4_k_m", small_roles, router_ctx, device="cpu", kv="f16",
                                   n_ubatch=512, flash_attn=False),
                             _srv("chat", "qwen2.5-7b-instruct-awq", ["chat"], 8000, **vllm)]),
    ]
    return {p.name: p for p in items}
