"""Wiring: settings -> models -> :class:`~bantz_voice.pipeline.VoicePipeline`.

:func:`start_pipeline` is the one start-up of ``run``, ``once`` and the benchmarks (and
:func:`start_responder` of ``ask``, which has no audio): every configured model is loaded and every
LLM role's stable prompt prefix warmed (``Responder.warmup``) before the first turn, reporting
what is loading through ``progress``; Whisper, Piper and the language models load concurrently, and
the stalled-TTS apology is rendered in the reply thread then too (``VoicePipeline.warm_output``). A model that fails to load does not stop the start-up: the responder
names the role in ``degraded()`` and the turn that needs it apologises in Turkish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bantz_voice import cpu, sysmem
from bantz_voice.responder import EchoResponder, Progress, Responder

if TYPE_CHECKING:
    from bantz_voice.audio.player import AudioSink
    from bantz_voice.config import Settings
    from bantz_voice.pipeline import VoicePipeline
    from bantz_voice.tts.base import TextToSpeech
    from bantz_voice.voice.recognizer import SpeechToText

log = logging.getLogger(__name__)


def build_responder(settings: Settings, name: str | None = None, *, previous: Responder | None = None) -> Responder:
    """``echo`` or ``brain`` (``settings.brain.responder`` by default). ``previous``: the responder this
    one replaces (a reload); a brain reuses its loaded models instead of loading them a second time."""
    choice = name or settings.brain.responder
    if choice == "brain":
        from bantz_voice.brain import build_brain
        from bantz_voice.brain.cascade import Brain

        engines = previous.llm.engines if isinstance(previous, Brain) else None
        brain: Responder = build_brain(settings, engines=engines)
        return brain
    return EchoResponder()


def load_transcriber(settings: Settings, progress: Progress | None = None) -> SpeechToText:
    """Whisper, loaded and warmed (blocking: call it from a worker thread)."""
    from bantz_voice.asr import Transcriber

    if progress is not None:
        progress(f"konuşma tanıma modeli ({settings.asr.model})")
    return Transcriber(settings.asr)


def load_tts(settings: Settings, progress: Progress | None = None, *, warm_up: bool = True) -> TextToSpeech:
    """The Piper voice (blocking: call it from a worker thread). ``warm_up=False``: no synthesis
    here, because the caller's first synthesis follows (``start_pipeline``: the apology, rendered
    in the reply thread)."""
    from bantz_voice.tts.piper_tts import PiperTTS

    if progress is not None:
        progress(f"ses modeli ({settings.tts.voice})")
    return PiperTTS(settings.tts, warm_up=warm_up)


async def start_responder(
    settings: Settings, name: str | None = None, *, progress: Progress | None = None, previous: Responder | None = None
) -> Responder:
    """The responder, its models loaded and prompt prefixes warmed (``previous``: see build_responder)."""
    responder = build_responder(settings, name, previous=previous)
    await responder.warmup(progress)
    return responder


async def start_pipeline(
    settings: Settings,
    responder: Responder | None = None,
    *,
    transcriber: SpeechToText | None = None,
    tts: TextToSpeech | None = None,
    sink_factory: Callable[[], AudioSink] | None = None,
    progress: Progress | None = None,
) -> VoicePipeline:
    """The start-up every entry point shares. Whisper, Piper and the responder's models load at the
    same time, each in its own thread (faster-whisper, onnxruntime and llama.cpp release the GIL;
    the responder evaluates its prompt prefixes with half the CPUs, see ``Engine.warm``). Once
    Whisper and Piper are loaded, the reply thread renders the stalled-TTS apology (Piper's one
    warm-up synthesis) while the language model may still be warming. Returns a pipeline ready for
    its first turn: every model loaded and every role's prefix warmed. First of all, glibc's malloc
    thresholds are fixed (``sysmem.fix_malloc_thresholds``: a turn's large buffers stay their own
    mappings, so the RSS does not creep up over the turns) and numpy's BLAS computes on one thread
    (``cpu.single_threaded_blas``: its idle worker threads no longer spin after every small product)."""
    from bantz_voice.pipeline import VoicePipeline

    sysmem.fix_malloc_thresholds()
    cpu.single_threaded_blas()

    async def asr() -> SpeechToText:
        return transcriber if transcriber is not None else await asyncio.to_thread(load_transcriber, settings, progress)

    async def voice() -> TextToSpeech:
        return tts if tts is not None else await asyncio.to_thread(load_tts, settings, progress, warm_up=False)

    if responder is None:
        responder = await asyncio.to_thread(build_responder, settings)
    warming = asyncio.create_task(responder.warmup(progress))
    try:
        loaded_asr, loaded_tts = await asyncio.gather(asr(), voice())
        pipeline = VoicePipeline(settings, transcriber=loaded_asr, tts=loaded_tts, responder=responder,
                                 sink_factory=sink_factory)
        await pipeline.warm_output()
        await warming
    except BaseException:
        warming.cancel()
        raise
    await asyncio.to_thread(sysmem.release_freed_memory)  # what loading freed, before READY
    return pipeline
