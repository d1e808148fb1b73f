"""Wiring: settings -> models -> :class:`~bantz_voice.pipeline.VoicePipeline`.

:func:`start_pipeline` is the one start-up of ``run``, ``once`` and the benchmarks (and
:func:`start_responder` of ``ask``, which has no audio): every configured model is loaded and every
LLM role's stable prompt prefix warmed (``Responder.warmup``) before the first turn, reporting
what is loading through ``progress``; the stalled-TTS apology is rendered then too
(``VoicePipeline.warmup``). A model that fails to load does not stop the start-up: the responder
names the role in ``degraded()`` and the turn that needs it apologises in Turkish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bantz_voice import sysmem
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


def build_pipeline(
    settings: Settings,
    responder: Responder | None = None,
    *,
    transcriber: SpeechToText | None = None,
    tts: TextToSpeech | None = None,
    sink_factory: Callable[[], AudioSink] | None = None,
    progress: Progress | None = None,
) -> VoicePipeline:
    """Load Whisper and Piper once (warmed up) and return a :class:`VoicePipeline` whose responder
    is not warmed yet (:func:`start_pipeline` does both; this part runs in a worker thread)."""
    from bantz_voice.asr import Transcriber
    from bantz_voice.pipeline import VoicePipeline
    from bantz_voice.tts.piper_tts import PiperTTS

    def say(what: str) -> None:
        if progress is not None:
            progress(what)

    if transcriber is None:
        say(f"konuşma tanıma modeli ({settings.asr.model})")
        transcriber = Transcriber(settings.asr)
    if tts is None:
        say(f"ses modeli ({settings.tts.voice})")
        tts = PiperTTS(settings.tts)
    if responder is None:
        responder = build_responder(settings)
    return VoicePipeline(settings, transcriber=transcriber, tts=tts, responder=responder, sink_factory=sink_factory)


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
    """The start-up every entry point shares: Whisper and Piper loaded (in a worker thread), then
    the responder's models loaded and warmed. Returns a pipeline ready for its first turn.
    First of all, glibc's malloc thresholds are fixed (``sysmem.fix_malloc_thresholds``: a turn's
    large buffers stay their own mappings, so the RSS does not creep up over the turns)."""
    sysmem.fix_malloc_thresholds()
    pipeline = await asyncio.to_thread(
        build_pipeline, settings, responder, transcriber=transcriber, tts=tts, sink_factory=sink_factory, progress=progress
    )
    await pipeline.warmup(progress)
    return pipeline
