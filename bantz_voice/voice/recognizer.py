"""The ASR stage of the voice loop: one worker thread, a bounded queue, speculative decodes.

:meth:`Recognizer.start` queues a Whisper decode of an utterance's samples and returns its
:class:`Speculation` (the future, its cancel event, the exact samples and window it decodes, and
whatever the responder prepared on its transcript). A decode started at a pause is valid for the
endpoint only if speech did not resume and the endpoint's audio is exactly those samples
(:meth:`Speculation.decodes`), so a transcript is a function of the utterance's audio alone."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from bantz_voice.stages import StageMonitor

if TYPE_CHECKING:
    from bantz_voice.asr import AsrResult
    from bantz_voice.responder import Prepared

log = logging.getLogger(__name__)


class SpeechToText(Protocol):
    """What the loop needs of a transcriber (:class:`bantz_voice.asr.Transcriber`)."""

    settings: Any  # AsrSettings: decoding options, applied live by a reload
    model_path: Path

    def transcribe(
        self, audio: np.ndarray, cancel: threading.Event | None = None, window: str | None = None
    ) -> AsrResult: ...


class Speculation:
    """One queued decode; ``prepared`` is what the responder started on its transcript."""

    def __init__(
        self, future: asyncio.Future[AsrResult], cancel: threading.Event, audio: np.ndarray, window: str,
        speech_start: float | None = None,
    ) -> None:
        self.future = future
        self.cancel = cancel
        self.audio = audio
        self.window = window
        self.prepared: Prepared | None = None
        self.speech_start = speech_start

    def decodes(self, audio: np.ndarray, window: str) -> bool:
        return window == self.window and np.array_equal(audio, self.audio)

    @property
    def live(self) -> bool:
        return not self.future.done() and not self.cancel.is_set()

    def drop(self) -> None:
        self.cancel.set()
        if self.prepared is not None:
            self.prepared.cancel()


class Recognizer:
    """Whisper in its own worker thread; at most ``max_queue`` live decodes (the oldest is dropped)."""

    def __init__(self, transcriber: SpeechToText, stages: StageMonitor, max_queue: int) -> None:
        self.transcriber = transcriber
        self.stages = stages
        self.max_queue = max_queue
        self.dropped = 0  # utterances dropped because the queue was full
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="bantz-asr")
        self._queue: collections.deque[Speculation] = collections.deque()

    def start(self, audio: np.ndarray, window: str, speech_start: float | None = None) -> Speculation:
        # A newer utterance matters more than an old one nobody waits for any more (an accepted
        # utterance cancels the turn before it anyway): a full queue drops its oldest decode (its
        # cancel event makes it return at once, or at its next cancel point).
        live = [x for x in self._queue if x.live]
        while len(live) >= self.max_queue:
            oldest = live.pop(0)
            oldest.drop()
            self.dropped += 1
            log.warning("ASR queue full (%d): the oldest utterance was dropped", self.max_queue)
        self._queue = collections.deque(live)
        cancel = threading.Event()
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self._pool, self.stages.run, "asr", self.transcriber.transcribe, audio, cancel, window)
        spec = Speculation(fut, cancel, audio, window, speech_start)
        self._queue.append(spec)
        return spec

    async def result(self, spec: Speculation) -> AsrResult:
        """The decode's result; :class:`~bantz_voice.stages.StageStalled` once the stage hangs."""
        return await self.stages.wait("asr", spec.future)

    def shutdown(self, wait: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)
