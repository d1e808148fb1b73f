"""Facts the VRAM planner computes with: model architectures, quantization, the GPU.

Weights in memory = non-embedding parameters × effective bits / 8 + embedding parameters × 2 bytes ×
the number of embedding matrices the checkpoint stores (input embedding and lm_head are both kept
in fp16 by AWQ/GPTQ). For the AWQ checkpoints this matches their size on disk (``disk_gb``) within
a few percent (tested). Architecture numbers are from the models' ``config.json``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

GB = 1_000_000_000
GIB = 1024**3
MIB = 1024**2


class ModelSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    hf_id: str
    nonembed_params_b: float = Field(gt=0, description="parameters outside the embeddings, billions")
    embed_params_b: float = Field(ge=0, description="one embedding matrix (vocab × hidden), billions")
    embed_copies: int = Field(2, ge=1, le=2, description="embedding matrices stored (embed + lm_head)")
    bits: float = Field(gt=0, le=16, description="effective bits per linear weight incl. scales")
    quantization: str | None = None  # vLLM --quantization
    layers: int
    hidden: int
    intermediate: int
    kv_heads: int
    head_dim: int
    disk_gb: float | None = None  # size of the checkpoint on disk, for reference
    revision: str | None = Field(None, pattern=r"^[0-9a-f]{40}$")  # the pinned commit (vllm serve --revision)
    pinned_from: str | None = None  # the public source of that commit
    unpinned: str | None = None  # why there is no commit (then vLLM takes the repository's main)

    @model_validator(mode="after")
    def _pinned_or_reason(self) -> ModelSpec:
        if self.revision is None and not (self.unpinned and self.unpinned.strip()):
            raise ValueError(f"{self.hf_id}: no pinned revision and no 'unpinned' reason")
        if self.revision is not None and (self.unpinned or not self.pinned_from):
            raise ValueError(f"{self.hf_id}: a pinned revision needs 'pinned_from' and no 'unpinned'")
        return self

    @property
    def weight_bytes(self) -> int:
        nonembed = self.nonembed_params_b * 1e9
        return int(nonembed * self.bits / 8 + self.embed_params_b * 1e9 * 2 * self.embed_copies)

    @property
    def flops_per_token(self) -> float:
        """Forward FLOPs per token: 2 × (linear weights + lm_head)."""
        return 2 * (self.nonembed_params_b + self.embed_params_b) * 1e9

    @property
    def bytes_read_per_token(self) -> int:
        """Bytes a decode step streams from memory: all linear weights + lm_head, not the input table."""
        return self.weight_bytes - int(self.embed_params_b * 1e9 * 2 * (self.embed_copies - 1))

    def kv_bytes_per_token(self, kv_bytes: int = 2) -> int:
        return self.layers * self.kv_heads * self.head_dim * 2 * kv_bytes

    def activation_bytes(self, batched_tokens: int) -> int:
        """Peak activations of one forward pass over ``batched_tokens`` (vLLM's profiling run)."""
        return batched_tokens * (self.hidden * 12 + self.intermediate * 4)


_Q25_3B = dict(nonembed_params_b=2.77, embed_params_b=0.311, layers=36, hidden=2048, intermediate=11008, kv_heads=2, head_dim=128)
_Q25_7B = dict(nonembed_params_b=6.53, embed_params_b=0.545, layers=28, hidden=3584, intermediate=18944, kv_heads=4, head_dim=128)
_Q25_15B = dict(nonembed_params_b=1.31, embed_params_b=0.233, layers=28, hidden=1536, intermediate=8960, kv_heads=2, head_dim=128)
_L31_8B = dict(nonembed_params_b=6.98, embed_params_b=0.525, layers=32, hidden=4096, intermediate=14336, kv_heads=8, head_dim=128)

_SNAPSHOTS = ("public projects' Hugging Face cache paths (models--<org>--<repo>/snapshots/<commit>) and "
              "pinned --revision values for this repository (several agree); docs/models.md")
MODELS: dict[str, ModelSpec] = {
    m.key: m
    for m in (
        ModelSpec(key="qwen2.5-3b-instruct-awq", hf_id="Qwen/Qwen2.5-3B-Instruct-AWQ", bits=4.25,
                  quantization="awq_marlin", disk_gb=2.69, revision="3559b226e8ce77211e2c1bd7ddfb7686fec4d6dd",
                  pinned_from=_SNAPSHOTS, **_Q25_3B),
        ModelSpec(key="qwen2.5-7b-instruct-awq", hf_id="Qwen/Qwen2.5-7B-Instruct-AWQ", bits=4.25,
                  quantization="awq_marlin", disk_gb=5.58, revision="b25037543e9394b818fdfca67ab2a00ecc7dd641",
                  pinned_from=_SNAPSHOTS, **_Q25_7B),
        ModelSpec(key="llama-3.1-8b-instruct-awq", hf_id="hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4",
                  bits=4.25, quantization="awq_marlin", disk_gb=5.73, revision="db1f81ad4b8c7e39777509fac66c652eb0a52f91",
                  pinned_from=_SNAPSHOTS + " (one dates the commit 2024-08-07)", **_L31_8B),
        ModelSpec(key="qwen2.5-1.5b-instruct-awq", hf_id="Qwen/Qwen2.5-1.5B-Instruct-AWQ", bits=4.25,
                  quantization="awq_marlin",
                  unpinned="no public source found that names this repository with a commit (the one candidate "
                  "names no repository); no profile uses it", **_Q25_15B),
    )
}


class WhisperSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    gpu_bytes: int  # CTranslate2 int8_float16 weights + work buffers + its own CUDA context
    gpu_ms: float  # a 3 s command, greedy (estimate)
    cpu_ms: float  # a 3 s command on this project's 2-core VM, int8 greedy (issue 7: base ≈ 0.6 s)


WHISPER: dict[str, WhisperSpec] = {
    w.key: w
    for w in (
        WhisperSpec(key="whisper-base", gpu_bytes=int(0.45 * GIB), gpu_ms=60, cpu_ms=600),
        WhisperSpec(key="whisper-small", gpu_bytes=int(0.70 * GIB), gpu_ms=110, cpu_ms=1500),
    )
}


class GpuSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = "NVIDIA GeForce RTX 4060 (8 GB)"
    total_mib: int = Field(8188, gt=0)  # what nvidia-smi reports for an 8 GB card
    bandwidth_gbs: float = 272.0
    fp16_tflops: float = 20.0  # effective for prefill (estimate)


def find_model(name: str) -> ModelSpec | None:
    """Look a model up by catalog key or Hugging Face id (case-insensitive, organisation optional)."""
    low = name.strip().lower()
    for spec in MODELS.values():
        if low in (spec.key, spec.hf_id.lower(), spec.hf_id.lower().split("/")[-1]):
            return spec
    return None
