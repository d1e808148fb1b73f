"""Text → speech, once: replies, ``say``, the CLI and the no-microphone demo all play through
:meth:`SpeechOutput.play`.

The stages, each explicit: a stream of text pieces → :class:`~bantz_voice.tts.chunker.TextChunker`
(the first chunk cut early) → the Turkish normalizer (``tts.normalize``) → the synthesizer
(``tts.render``, in one worker thread watched by the ``tts`` stage deadline) → the sink, synthesis
of the next chunk overlapped with playback of the one before. The reply's first chunk starts at its
first sound (:func:`~bantz_voice.tts.base.lead_trimmed`), and while it is synthesized the embedded
LLM waits between tokens (:data:`bantz_voice.cpu.foreground`). Cancelling the task that plays
(``turn.cancel()``) silences the sink within one block and stops the text stream (LLM generation
included).

When the ``tts`` stage hangs (:class:`~bantz_voice.stages.StageStalled`), the user still hears a
Turkish apology: it is rendered to PCM once at start-up (:meth:`warmup`) and written straight to
the sink."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import numpy as np

from bantz_voice import cpu
from bantz_voice.audio.player import AudioSink, WavSink
from bantz_voice.errors import BantzError
from bantz_voice.stages import StageMonitor, StageStalled
from bantz_voice.tts.base import TextToSpeech, lead_trimmed
from bantz_voice.tts.chunker import TextChunker
from bantz_voice.voice.turn import Turn

log = logging.getLogger(__name__)

REPLY_TTS_STALLED = "Kusura bakmayın efendim, ses üretimi şu an yanıt vermiyor; biraz sonra tekrar dener misiniz?"


async def text_once(text: str) -> AsyncIterator[str]:
    """A fixed text as a text stream (``say``, apologies)."""
    yield text


class SpeechOutput:
    def __init__(self, tts: TextToSpeech, tts_settings: Any, stages: StageMonitor) -> None:
        self.tts = tts
        self.settings = tts_settings  # first_chunk_words, early_first_chunk (a reload replaces it)
        self.stages = stages
        self.apology: np.ndarray | None = None  # REPLY_TTS_STALLED as PCM (warmup)
        self.apologies = 0  # apologies played because the tts stage hung
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="bantz-tts")

    async def warmup(self) -> None:
        """Render the stalled-synthesizer apology now, while the synthesizer works, in the thread
        replies are synthesized in (its first synthesis, and what it allocates, happen before READY)."""
        if self.apology is None:
            loop = asyncio.get_running_loop()
            self.apology = await loop.run_in_executor(self._pool, self.tts.synthesize, REPLY_TTS_STALLED)

    def _speak(self, text: str) -> np.ndarray:
        spoken = self.tts.normalize(text)  # the normalizer: digits, dates, abbreviations → words
        return self.tts.render(spoken)

    async def synthesize(self, text: str) -> np.ndarray:
        """One chunk through the normalizer and the synthesizer (the ``tts`` stage's worker)."""
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self._pool, self.stages.run, "tts", self._speak, text)
        return await self.stages.wait("tts", fut)

    async def play(
        self,
        text_stream: AsyncIterator[str],
        turn: Turn,
        sink: AudioSink,
        *,
        on_speaking: Callable[[], None] | None = None,
        on_written: Callable[[], None] | None = None,
    ) -> None:
        """Speak ``text_stream`` for ``turn`` on ``sink``. Never raises for a failed reply: the
        turn records it (``turn.error``, ``turn.interrupted``). ``on_speaking``: the first audio
        was written; ``on_written``: everything was synthesized and is playing."""
        trace = turn.trace
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[str | None] = asyncio.Queue()
        begin_task = loop.create_task(sink.begin(self.tts.sample_rate))
        turn.on_stop_audio(sink.stop)
        s = self.settings

        async def produce() -> None:
            chunker = TextChunker(s.first_chunk_words, early=s.early_first_chunk)
            try:
                async for piece in text_stream:
                    if not piece:
                        continue
                    trace.mark("llm_first_token")
                    for c in chunker.push(piece):
                        await chunks.put(c)
            finally:
                if isinstance(text_stream, AsyncGenerator):  # closed here: generation stops
                    await text_stream.aclose()
            for c in chunker.flush():
                await chunks.put(c)
            await chunks.put(None)

        producer = loop.create_task(produce())
        begun = False
        try:
            while True:
                text = await chunks.get()
                if text is None:
                    break
                trace.mark("first_chunk_text")
                if begun:
                    audio = await self.synthesize(text)
                else:
                    with cpu.foreground.hold():  # the first chunk is the latency: the LLM waits for it
                        audio = await self.synthesize(text)
                trace.mark("tts_first_audio")
                if audio.size == 0:
                    continue
                if not begun:
                    audio = lead_trimmed(audio, self.tts.sample_rate)  # its leading silence is only latency
                    await begin_task
                    begun = True
                sink.write(audio)
                if on_speaking is not None:
                    on_speaking()
            await producer  # re-raise responder errors
            if not begun:
                await begin_task
                begun = True
            if on_written is not None:
                on_written()
            await sink.drain()
        except asyncio.CancelledError:
            turn.interrupted = True
            sink.stop()
        except StageStalled as exc:
            turn.error = str(exc)
            sink.stop()
            log.error("TTS stalled: %s", exc)
            if exc.stage == "tts":
                await self._apologise(sink, turn)
        except BantzError as exc:
            turn.error = str(exc)
            sink.stop()
        except Exception as exc:  # one failing turn never kills the loop
            log.exception("turn failed")
            turn.error = f"tur başarısız: {exc.__class__.__name__}: {exc}"
            sink.stop()
            sink.fail()  # a kept-open speaker stream is reopened at the next reply
        finally:
            turn.on_stop_audio(None)
            for t in (producer, begin_task):
                if not t.done():
                    t.cancel()
            await asyncio.gather(producer, begin_task, return_exceptions=True)
            if sink.started_at is not None:
                trace.mark("playback_start", sink.started_at)
            try:
                await asyncio.shield(sink.end())
            except asyncio.CancelledError:
                pass
            except BantzError as exc:
                turn.error = turn.error or str(exc)
            if isinstance(sink, WavSink):
                turn.reply_audio = sink.audio
                turn.reply_rate = sink.rate

    async def _apologise(self, sink: AudioSink, turn: Turn) -> None:
        """The synthesizer hangs: the apology rendered at start-up, straight to the sink."""
        if self.apology is None or self.apology.size == 0:
            log.error("no pre-rendered apology (warmup did not run): the stalled turn stays silent")
            return
        self.apologies += 1
        turn.trace.meta["apology"] = "tts_stalled"
        turn.on_stop_audio(sink.stop)
        try:
            await sink.begin(self.tts.sample_rate)
            sink.write(self.apology)
            await sink.drain()
        except asyncio.CancelledError:
            turn.interrupted = True
            sink.stop()
        except BantzError as exc:
            log.error("the apology could not be played: %s", exc)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
