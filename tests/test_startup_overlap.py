"""The shared start-up (``app.start_pipeline``): Whisper, Piper and the responder's models load at
the same time, Piper synthesizes once before READY (the stalled-TTS apology, in the reply thread),
a model that fails to load stops the start-up without leaving the warm-up running, and the
language model's prefix warm-up runs on half the CPUs and gives the context its thread counts back.

The overlap is asserted with a barrier, not a clock: each loader waits until the other two have
started, so a start-up that ran them one after the other would break the barrier instead of
passing slowly."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bantz_voice import app
from bantz_voice.config import Settings
from bantz_voice.errors import ModelMissingError
from bantz_voice.responder import Progress, Responder, TurnRequest
from bantz_voice.tts.base import TextToSpeech

BARRIER_S = 120.0  # how long a loader waits for the other two (only a serial start-up runs into it)


class _Model(TextToSpeech):
    """Stands in for Whisper and Piper (the start-up only loads them and, for Piper, synthesizes)."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.model_path = Path("<stand-in>")
        self.rendered: list[tuple[str, str]] = []  # (text, thread)

    def render(self, spoken: str) -> np.ndarray:
        self.rendered.append((spoken, threading.current_thread().name))
        return np.zeros(160, dtype=np.int16)


class _WarmingResponder(Responder):
    def __init__(self, barrier: threading.Barrier | None) -> None:
        self.barrier = barrier
        self.warmed = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def warmup(self, progress: Progress | None = None) -> None:
        try:
            if self.barrier is not None:
                await asyncio.to_thread(self.barrier.wait)
            else:
                await asyncio.Event().wait()  # a warm-up that only ends when it is cancelled
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        self.warmed.set()

    async def respond(self, request: TurnRequest):  # type: ignore[override]
        yield "tamam"


async def test_whisper_piper_and_the_responder_load_at_the_same_time(monkeypatch: pytest.MonkeyPatch) -> None:
    barrier = threading.Barrier(3, timeout=BARRIER_S)
    built: dict[str, Any] = {}

    def load_transcriber(settings: Settings, progress: Progress | None = None) -> Any:
        barrier.wait()  # raises BrokenBarrierError unless Piper and the responder are loading too
        built["asr"] = _Model(settings.asr)
        return built["asr"]

    def load_tts(settings: Settings, progress: Progress | None = None, *, warm_up: bool = True) -> TextToSpeech:
        barrier.wait()
        built["tts"] = _Model(settings.tts)
        if warm_up:
            built["tts"].synthesize("Hazır.")
        return built["tts"]

    monkeypatch.setattr(app, "load_transcriber", load_transcriber)
    monkeypatch.setattr(app, "load_tts", load_tts)
    responder = _WarmingResponder(barrier)
    pipeline = await app.start_pipeline(Settings(), responder)
    try:
        assert responder.warmed.is_set() and not barrier.broken
        assert pipeline.transcriber is built["asr"] and pipeline.tts is built["tts"]
        # Piper's only synthesis before READY: the apology, in the thread that synthesizes replies
        rendered = built["tts"].rendered
        assert len(rendered) == 1, rendered
        assert rendered[0][1].startswith("bantz-tts")
        assert pipeline.output.apology is not None
    finally:
        await pipeline.aclose()


async def test_a_model_that_fails_to_load_stops_the_start_and_its_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    def load_transcriber(settings: Settings, progress: Progress | None = None) -> Any:
        raise ModelMissingError("Whisper modeli bulunamadı: /yok")

    monkeypatch.setattr(app, "load_transcriber", load_transcriber)
    responder = _WarmingResponder(None)  # never finishes warming on its own
    with pytest.raises(ModelMissingError):
        await app.start_pipeline(Settings(), responder, tts=_Model(Settings().tts))
    await asyncio.wait_for(responder.cancelled.wait(), BARRIER_S)  # not left running behind the error


@pytest.mark.slow
async def test_the_prefix_warm_up_runs_on_half_the_cpus_and_restores_the_batch_threads(smollm2_gguf: Path) -> None:
    import llama_cpp
    from fixtures.llama_server import embedded_models

    from bantz_voice.llm import Backends
    from bantz_voice.llm.llamacpp_backend import LlamaCppBackend

    backends = Backends(embedded_models(smollm2_gguf))
    backend = backends.for_role("router")
    assert isinstance(backend, LlamaCppBackend)
    eng = backend._get_engine()
    eng.n_threads, eng.n_threads_batch = 1, 2
    await backend.load()
    seen: list[tuple[int, int]] = []
    add_prefix = eng.cache.add_prefix

    def spy(llm: Any, stable: list[int]) -> None:
        seen.append((llama_cpp.llama_n_threads(llm.ctx), llama_cpp.llama_n_threads_batch(llm.ctx)))
        add_prefix(llm, stable)

    eng.cache.add_prefix = spy  # type: ignore[method-assign]
    prefix = [{"role": "system", "content": "You classify requests into routes. " * 10}]
    try:
        await backend.warmup([prefix])
        assert seen == [(1, 1)]  # evaluated with n_threads while the other models load
        assert (llama_cpp.llama_n_threads(eng.llm.ctx), llama_cpp.llama_n_threads_batch(eng.llm.ctx)) == (1, 2)
        assert eng.cache.has_prefix(eng.stable_prefix(prefix))
    finally:
        await backends.aclose()
