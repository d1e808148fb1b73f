"""Wiring: settings -> models -> :class:`~bantz_voice.pipeline.VoicePipeline`."""

from __future__ import annotations

import logging

from bantz_voice.responder import EchoResponder, Responder

log = logging.getLogger(__name__)


def build_responder(settings, name: str | None = None) -> Responder:
    """``echo`` or ``brain`` (``settings.brain.responder`` by default). ``brain`` falls back to echo
    only while the brain package does not exist yet."""
    choice = name or settings.brain.responder
    if choice == "brain":
        try:
            from bantz_voice.brain import build_brain
        except ImportError as exc:
            if exc.name and exc.name.startswith("bantz_voice.brain"):
                log.warning("beyin modülü yok (%s); yankı yanıtlayıcısı kullanılıyor", exc)
                return EchoResponder()
            raise
        return build_brain(settings)
    return EchoResponder()


def build_pipeline(settings, responder: Responder | None = None, *, transcriber=None, tts=None, sink_factory=None):
    """Load Whisper and Piper once (warmed up) and return a ready :class:`VoicePipeline`."""
    from bantz_voice.asr import Transcriber
    from bantz_voice.pipeline import VoicePipeline
    from bantz_voice.tts.piper_tts import PiperTTS

    if transcriber is None:
        transcriber = Transcriber(settings.asr)
    if tts is None:
        tts = PiperTTS(settings.tts)
    if responder is None:
        responder = build_responder(settings)
    return VoicePipeline(settings, transcriber=transcriber, tts=tts, responder=responder, sink_factory=sink_factory)
