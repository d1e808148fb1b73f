"""The voice loop: microphone → VAD → (speculative) ASR → transcript gate → responder →
chunker → TTS overlapped with playback → speaker, with barge-in. One code path for the mic,
``once`` and the benchmarks.

API (used by the daemon, ``once`` and ``scripts/bench_pipeline.py``)::

    p = VoicePipeline(settings, transcriber=..., tts=..., responder=...)   # or app.build_pipeline
    p.transcript_filter = fn        # str -> str | None: None ignores the utterance (no wake word),
                                    # a string is the request text (wake word stripped). PTT bypasses it.
    p.transcript_peek = fn          # the same answer without side effects (no filter: not needed); with
                                    # it, a speculative transcript goes to responder.prepare(text) during
                                    # the hangover (the brain starts routing; see brain/speculate.py)
    p.on_state_change = fn          # (state: str) -> None; state in idle/listening/thinking/speaking/muted
    p.on_turn_done = fn             # (TurnTrace, TurnOutcome) -> None for every turn that ran, failed
                                    # ones included (trace.meta["error"]); not for ignored utterances
    await p.listen(source, on_event=None)   # runs until the source ends (FileSource) or is cancelled;
                                    # on_event(VadEvent) sees speech_start/pause/resume/endpoint
    p.ptt_begin(); p.ptt_end()      # push-to-talk: the audio between them is the utterance (call
                                    # from the event loop); release = endpoint; no wake word needed
    p.mute(); p.unmute()            # muted: frames are dropped
    p.cancel_speech()               # stop playback now and cancel the turn (generation included)
    await p.speak(text)             # say a text through the same TTS/playback path (cancel_speech stops it)
    await p.run_turn_from_wav(path, out_wav=None, fast=False) -> TurnOutcome
                                    # the WAV goes through FileSource into the same listen() loop

``settings.vad.speculative_asr`` (ASR starts at the first silent frame, during the hangover) and
``settings.tts.early_first_chunk`` (first TTS chunk cut early) set False give the baseline design.
``p.last_frame_at`` (monotonic) lets a watchdog see that audio keeps flowing.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import webrtcvad

from bantz_voice import paths
from bantz_voice.asr import AsrResult
from bantz_voice.audio.bargein import BargeInDetector
from bantz_voice.audio.player import AudioSink, Player, WavSink
from bantz_voice.audio.source import FileSource
from bantz_voice.audio.vad import Endpointer, Frame, Utterance, VadEvent, frame_is_speech
from bantz_voice.errors import AudioInputError, BantzError
from bantz_voice.responder import Heard, Responder, TurnRequest, TurnResult
from bantz_voice.stages import StageMonitor, StageStalled
from bantz_voice.trace import TraceLog, TurnTrace
from bantz_voice.tts.chunker import TextChunker

log = logging.getLogger(__name__)

STATES = ("idle", "listening", "thinking", "speaking", "muted")
REPLY_STAGE_STALLED = "Kusura bakmayın efendim, ses tanıma şu an yanıt vermiyor; biraz sonra tekrar dener misiniz?"


@dataclass
class TurnOutcome:
    transcript: str
    request_text: str | None
    result: TurnResult
    trace: TurnTrace
    asr: AsrResult | None = None
    ignored: bool = False  # no transcript, or transcript_filter said no
    interrupted: bool = False  # barge-in / cancel_speech / a newer utterance
    error: str | None = None
    ptt: bool = False
    reply_audio: np.ndarray | None = field(default=None, repr=False)
    reply_rate: int = 0

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "transcript": self.transcript,
            "request": self.request_text,
            "route": r.route,
            "intent": r.intent,
            "slots": r.slots,
            "tool_calls": r.tool_calls,
            "requires_confirmation": r.requires_confirmation,
            "source": r.source,
            "reply": r.reply,
            "ignored": self.ignored,
            "interrupted": self.interrupted,
            "error": self.error or r.error,
            "asr": None
            if self.asr is None
            else {
                "seconds": self.asr.seconds,
                "avg_logprob": self.asr.avg_logprob,
                "no_speech_prob": self.asr.no_speech_prob,
                "dropped": self.asr.dropped,
                "speculative": self.asr.meta.get("speculative", False),
            },
            "trace": self.trace.to_dict(),
        }


class _Speculation:
    """ASR started at a pause; valid for the endpoint only if speech did not resume. ``prepared``
    is what the responder started on its transcript (``responder.prepare``), cancelled with it.
    ``audio`` and ``window`` are what it decodes: an utterance uses it only for exactly those
    samples with the same window, so the transcript is a function of the utterance's audio alone."""

    def __init__(
        self, future: asyncio.Future, cancel: threading.Event, audio: np.ndarray, window: str,
        speech_start: float | None = None,
    ) -> None:
        self.future = future
        self.cancel = cancel
        self.audio = audio
        self.window = window
        self.prepared: Any = None
        self.speech_start = speech_start

    def decodes(self, audio: np.ndarray, window: str) -> bool:
        return window == self.window and np.array_equal(audio, self.audio)

    def drop(self) -> None:
        self.cancel.set()
        if self.prepared is not None:
            self.prepared.cancel()


class _StaticResponder(Responder):
    def __init__(self, text: str) -> None:
        self.text = text

    async def respond(self, request: TurnRequest):
        request.result.route = request.result.route or "say"
        request.result.source = "say"
        request.result.reply = self.text
        yield self.text


class VoicePipeline:
    def __init__(
        self,
        settings,
        *,
        transcriber,
        tts,
        responder: Responder,
        sink_factory: Callable[[], AudioSink] | None = None,
        trace_log: TraceLog | None = None,
    ) -> None:
        self.settings = settings
        self.transcriber = transcriber
        self.tts = tts
        self.responder = responder
        # the loop's speaker: one output stream kept open between replies (no open on the latency path)
        self.sink_factory = sink_factory or (
            lambda: Player(
                self.settings.audio.output_device, keep_open=True,
                reconnect_initial_s=self.settings.audio.reconnect_initial_s,
                reconnect_max_s=self.settings.audio.reconnect_max_s,
            )
        )
        if trace_log is None and settings.logging.traces:
            trace_log = TraceLog(
                paths.state_dir() / "traces.jsonl", settings.logging.traces_max_bytes, settings.logging.traces_keep
            )
        self.trace_log = trace_log
        self.transcript_filter: Callable[[str], str | None] | None = None
        # the same decision without side effects: lets the responder start on a speculative transcript
        self.transcript_peek: Callable[[str], str | None] | None = None
        # the wake-word stage before Whisper: (utterance audio, speech start, final) -> decode it?
        # ``final``: at the endpoint (else a speculative pause). Not asked for PTT utterances or runs
        # without the filter; False means no ASR decode at all
        self.audio_gate: Callable[[np.ndarray, float, bool], bool] | None = None
        self.on_state_change: Callable[[str], None] | None = None
        self.on_turn_done: Callable[[TurnTrace, TurnOutcome], None] | None = None
        self.state = "idle"
        self.last_frame_at: float | None = None
        self._asr_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="bantz-asr")
        self._tts_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="bantz-tts")
        self._muted = False
        self._listening = False
        self._sink: AudioSink | None = None
        self._turn_task: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._endpointer: Endpointer | None = None
        self._ring: collections.deque[Frame] = collections.deque(maxlen=10)
        self._ptt_frames: list[Frame] | None = None
        self._ptt_begin_t = 0.0
        self._ptt_voiced: list[float] = []
        self._ptt_vad = webrtcvad.Vad(settings.vad.aggressiveness)
        self._origin_from_source: float | None = None
        self._use_filter = True
        self._collect: Callable[[TurnOutcome], None] | None = None
        self._reconfigure = False
        # hardening (docs/security.md): hung ASR/TTS calls, a bounded ASR queue, capped PTT
        self.stages = StageMonitor({"asr": settings.asr.deadline_s, "tts": settings.tts.deadline_s})
        self._asr_queue: collections.deque[_Speculation] = collections.deque()
        self.asr_dropped = 0  # utterances dropped because the ASR queue was full
        self.ptt_capped = 0  # push-to-talk utterances closed at vad.max_ptt_s
        # the speech start (monotonic) of the utterance being gated, while transcript_filter or
        # transcript_peek runs: the follow-up window counts utterances that *start* inside it
        self.gate_started_at: float | None = None
        self._stall_apologised = False  # until a decode completes again
        # barge-in: voice over the reply, never the reply's own echo (audio/bargein.py; `status`)
        self.barge_in = BargeInDetector(lambda: self.settings.audio)

    @property
    def asr(self):
        return self.transcriber

    def health(self) -> dict[str, dict[str, Any]]:
        """Model health for ``status`` (the daemon merges it into its own)."""
        tts_detail = f"yüklü: {getattr(self.tts, 'voice_name', '?')}"
        note = getattr(self.tts, "note", None)
        if note:
            tts_detail += f" ({note})"
        out = {
            "asr": {"ok": True, "detail": f"yüklü: {Path(str(getattr(self.transcriber, 'model_path', '?'))).name}"},
            "tts": {"ok": True, "detail": tts_detail},
        }
        for stage, seconds in self.stages.stalled().items():
            out[stage] = {"ok": False, "detail": str(StageStalled(stage, seconds))}
        return out

    def apply_settings(self, settings) -> None:
        """Apply reloaded settings live (VAD, barge-in, ASR decoding options, chunking, loudness).
        Raises :class:`BantzError` when a model or device changed: that needs a restart."""
        old = self.settings
        need_restart = [
            name
            for name, a, b in (
                ("asr.model", old.asr.model, settings.asr.model),
                ("asr.device", old.asr.device, settings.asr.device),
                ("asr.compute_type", old.asr.compute_type, settings.asr.compute_type),
                ("asr.cpu_threads", old.asr.cpu_threads, settings.asr.cpu_threads),
                ("tts.voice", old.tts.voice, settings.tts.voice),
                ("tts.fallback_voice", old.tts.fallback_voice, settings.tts.fallback_voice),
                ("audio.input_device", old.audio.input_device, settings.audio.input_device),
                ("audio.output_device", old.audio.output_device, settings.audio.output_device),
                ("audio.frame_ms", old.audio.frame_ms, settings.audio.frame_ms),
            )
            if a != b
        ]
        if need_restart:
            raise BantzError(f"bu ayarlar için yeniden başlatma gerekir: {', '.join(need_restart)}")
        self.settings = settings
        if settings.logging.traces and self.trace_log is None:
            self.trace_log = TraceLog(paths.state_dir() / "traces.jsonl")
        elif not settings.logging.traces:
            self.trace_log = None
        self.stages.deadlines.update(asr=settings.asr.deadline_s, tts=settings.tts.deadline_s)
        if hasattr(self.transcriber, "settings"):
            self.transcriber.settings = settings.asr
        if hasattr(self.tts, "settings"):
            self.tts.settings = settings.tts
            if hasattr(self.tts, "syn_config"):
                self.tts.syn_config.length_scale = settings.tts.length_scale
        self._reconfigure = True

    async def replace_responder(self, responder: Responder) -> Responder:
        """Swap the responder between turns (a reload that rebuilt the brain): a reply being spoken
        finishes with the old one, the next turn uses the new one. Returns the old one (not closed)."""
        while self._turn_task is not None and not self._turn_task.done():
            await asyncio.gather(self._turn_task, return_exceptions=True)
        old, self.responder = self.responder, responder
        responder.take_over(old)
        return old

    # ---------------------------------------------------------------- state & control
    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        if self.on_state_change:
            try:
                self.on_state_change(state)
            except Exception:
                log.exception("on_state_change hook failed")

    def _idle_state(self) -> str:
        if not self._listening:
            return "idle"
        return "muted" if self._muted else "listening"

    def mute(self) -> None:
        """Stop listening (frames are dropped); a reply being spoken finishes unless cancelled."""
        self._muted = True
        self.ptt_cancel()
        if self.state not in ("thinking", "speaking"):
            self._set_state("muted")

    def unmute(self) -> None:
        self._muted = False
        if self.state == "muted":
            self._set_state(self._idle_state())

    @property
    def muted(self) -> bool:
        return self._muted

    def cancel_speech(self) -> bool:
        """Stop playback now and cancel the running turn. True when something was cancelled."""
        cancelled = False
        if self._sink is not None and self.state == "speaking":
            self._sink.stop()
            cancelled = True
        task = self._turn_task
        if task is not None and not task.done():
            if self._sink is not None:
                self._sink.stop()
            task.cancel()
            cancelled = True
        return cancelled

    def ptt_begin(self) -> None:
        """Start a push-to-talk utterance now (pre-roll included); stops any reply being spoken."""
        if self._ptt_frames is not None:
            return
        self.cancel_speech()
        self._ptt_frames = list(self._ring)
        self._ptt_begin_t = time.monotonic()
        self._ptt_voiced = []
        if self._endpointer is not None:
            self._endpointer.reset()

    def ptt_end(self) -> bool:
        """Release: the collected audio becomes an utterance. False when there was nothing to send."""
        frames, self._ptt_frames = self._ptt_frames, None
        if not frames or not self._listening:
            return False
        now = time.monotonic()
        audio = np.frombuffer(b"".join(f.pcm for f in frames), dtype=np.int16).copy()
        start_t = frames[0].t - len(frames[0].pcm) / 2 / self.settings.audio.sample_rate
        voiced = self._ptt_voiced
        utt = Utterance(
            audio=audio,
            start_t=start_t,
            speech_start=voiced[0] if voiced else self._ptt_begin_t,
            speech_end=voiced[-1] if voiced else now,
            endpoint=now,
            ptt=True,
        )
        self._spawn(self._handle_utterance(utt, None))
        return True

    def ptt_cancel(self) -> None:
        self._ptt_frames = None

    @property
    def ptt_active(self) -> bool:
        return self._ptt_frames is not None

    # ---------------------------------------------------------------- the loop
    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("konuşma işlenemedi", exc_info=(type(exc), exc, exc.__traceback__))
            if self.state in ("thinking", "speaking") and (self._turn_task is None or self._turn_task.done()):
                self._set_state(self._idle_state())

    def _barge_in_speech(self, frame: Frame) -> bool | None:
        """While speaking: is ``frame`` the user talking over the reply? None: barge-in is off (the
        setting, or the echo guard heard the reply in the microphone): ignore the microphone."""
        sink = self._sink
        return self.barge_in.decide(frame, sink.level if sink else 0.0, sink.reference if sink else None)

    async def listen(
        self,
        source,
        on_event: Callable[[VadEvent], None] | None = None,
        *,
        sink: AudioSink | None = None,
        use_filter: bool = True,
    ) -> None:
        """Run the loop over ``source`` until it ends (then finish pending turns) or is cancelled."""
        if self._listening:
            raise BantzError("dinleme döngüsü zaten çalışıyor")
        s = self.settings
        ep = Endpointer.from_settings(s.vad, frame_ms=s.audio.frame_ms, rate=s.audio.sample_rate)
        self._endpointer = ep
        self._ring = collections.deque(maxlen=ep.preroll_frames)
        own_sink = sink is None
        self._sink = sink if sink is not None else self.sink_factory()
        self._use_filter = use_filter
        self._origin_from_source = None
        self._listening = True
        self._set_state(self._idle_state())
        prepare = getattr(self._sink, "prepare", None)
        rate = getattr(self.tts, "sample_rate", None)
        if own_sink and prepare is not None and rate:
            # open the speaker now, off the first reply's latency path (failures: logged, retried per reply)
            self._spawn(prepare(rate))
        spec: _Speculation | None = None
        barged: asyncio.Task | None = None  # the turn a barge-in already cancelled
        barge_min = s.audio.barge_in_min_ms
        try:
            async for frame in source.frames():
                self.last_frame_at = frame.t
                if self._reconfigure and not ep.in_speech:
                    self._reconfigure = False
                    s = self.settings
                    ep = Endpointer.from_settings(s.vad, frame_ms=s.audio.frame_ms, rate=s.audio.sample_rate)
                    self._endpointer = ep
                    barge_min = s.audio.barge_in_min_ms
                if self._origin_from_source is None and isinstance(source, FileSource):
                    self._origin_from_source = source.origin
                if self._muted:
                    if ep.in_speech:
                        ep.reset()
                    if spec is not None:
                        spec.drop()
                        spec = None
                    continue
                self._ring.append(frame)
                if self._ptt_frames is not None:
                    self._ptt_frames.append(frame)
                    if frame_is_speech(self._ptt_vad, frame.pcm, s.audio.sample_rate):
                        self._ptt_voiced.append(frame.t)
                    if len(self._ptt_frames) * s.audio.frame_ms >= s.vad.max_ptt_s * 1000:
                        # no release (a lost key-up): the utterance is closed and decoded now
                        self.ptt_capped += 1
                        log.warning("push-to-talk held for %.0f s without a release: utterance closed", s.vad.max_ptt_s)
                        self.ptt_end()
                    continue
                speaking = self.state == "speaking"
                override: bool | None = None
                if speaking:
                    override = self._barge_in_speech(frame)
                    if override is None:  # barge-in off (setting or echo): the mic is ignored while speaking
                        if ep.in_speech:
                            ep.reset()
                        continue
                events = ep.process(frame, override)
                if speaking and ep.speech_ms >= barge_min and self._turn_task is not barged:
                    barged = self._turn_task
                    log.info("barge-in: yanıt sırasında kullanıcı konuştu, yanıt durduruldu")
                    self.cancel_speech()
                for ev in events:
                    if on_event is not None:
                        try:
                            on_event(ev)
                        except Exception:
                            log.exception("on_event hook failed")
                    if ev.kind == "pause" and s.vad.speculative_asr and ev.utterance is not None and self._audio_gate_passes(ev.utterance):
                        if spec is not None:
                            spec.drop()
                        spec = self._start_asr(ev.utterance.audio, prepare=True, speech_start=ev.utterance.speech_start)
                    elif ev.kind == "resume" and spec is not None:
                        spec.drop()
                        spec = None
                    elif ev.kind == "endpoint" and ev.utterance is not None:
                        self._spawn(self._handle_utterance(ev.utterance, spec))
                        spec = None
            # the source ended (a file): let the turns in flight finish
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
        finally:
            if spec is not None:
                spec.drop()
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            self._listening = False
            self._endpointer = None
            self._ptt_frames = None
            sink_used, self._sink = self._sink, None
            if own_sink:
                await _close_sink(sink_used)
            self._set_state("idle")

    def _start_asr(self, audio: np.ndarray, *, prepare: bool = False, speech_start: float | None = None) -> _Speculation:
        # Bounded queue: a newer utterance matters more than an old one nobody waits for any more
        # (an accepted utterance cancels the turn before it anyway), so a full queue drops its
        # oldest decode (its cancel event makes it return at once, or at its next cancel point).
        q = self._asr_queue
        while q and (q[0].future.done() or q[0].cancel.is_set()):
            q.popleft()
        live = [x for x in q if not x.future.done() and not x.cancel.is_set()]
        while len(live) >= self.settings.asr.max_queue:
            oldest = live.pop(0)
            oldest.drop()
            self.asr_dropped += 1
            log.warning("ASR queue full (%d): the oldest utterance was dropped", self.settings.asr.max_queue)
        q.clear()
        q.extend(live)
        cancel = threading.Event()
        loop = asyncio.get_running_loop()
        window = self.settings.asr.window
        fut = loop.run_in_executor(self._asr_pool, self.stages.run, "asr", self.transcriber.transcribe, audio, cancel, window)
        spec = _Speculation(fut, cancel, audio, window, speech_start)
        q.append(spec)
        if prepare:
            fut.add_done_callback(lambda f: self._prepare(spec, f))
        return spec

    def _prepare(self, spec: _Speculation, fut: asyncio.Future) -> None:
        """A speculative transcript arrived during the hangover: the responder may start the
        side-effect-free part of the turn (routing) now. The gate is asked without side effects."""
        if spec.cancel.is_set() or fut.cancelled() or fut.exception() is not None:
            return
        text = fut.result().text
        if text and self._use_filter and self.transcript_filter is not None:
            if self.transcript_peek is None:
                return  # a filter that cannot be asked twice: no speculation
            self.gate_started_at = spec.speech_start
            try:
                text = self.transcript_peek(text) or ""
            except Exception:
                log.exception("transcript_peek hata verdi")
                return
            finally:
                self.gate_started_at = None
        if not text:
            return
        try:
            spec.prepared = self.responder.prepare(text)
        except Exception:
            log.exception("responder.prepare hata verdi")

    def _audio_gate_passes(self, utt: Utterance, final: bool = False) -> bool:
        if utt.ptt or not self._use_filter or self.audio_gate is None:
            return True
        try:
            return bool(self.audio_gate(utt.audio, utt.speech_start, final))
        except Exception:
            log.exception("audio_gate hata verdi")
            return True  # fail open: the transcript stage still decides

    # ---------------------------------------------------------------- one utterance / turn
    async def _handle_utterance(self, utt: Utterance, spec: _Speculation | None) -> None:
        origin = self._origin_from_source if self._origin_from_source is not None else utt.start_t
        trace = TurnTrace(origin=origin)
        trace.mark("speech_start", utt.speech_start)
        trace.mark("speech_end", utt.speech_end)
        trace.mark("endpoint", utt.endpoint or time.monotonic())
        trace.meta.update(utterance_ms=round(len(utt.audio) / self.settings.audio.sample_rate * 1000), ptt=utt.ptt)
        if self.state in ("listening", "idle", "muted"):
            self._set_state("thinking")
        if spec is not None and not spec.decodes(utt.audio, self.settings.asr.window):
            spec.drop()  # decoded from other samples or another window: not this utterance's transcript
            spec = None
        speculative = spec is not None
        if spec is None and not self._audio_gate_passes(utt, final=True):
            trace.meta["wake_gate"] = "rejected"  # no wake word heard: no Whisper decode
            self._finish(TurnOutcome("", None, TurnResult(), trace, None, ignored=True, ptt=utt.ptt))
            return
        try:
            if spec is None:
                spec = self._start_asr(utt.audio, speech_start=utt.speech_start)
            asr = await self.stages.wait("asr", spec.future)
            if speculative and asr.dropped == "cancelled":  # stopped early: decode these samples after all
                spec = self._start_asr(utt.audio, speech_start=utt.speech_start)
                speculative = False
                asr = await self.stages.wait("asr", spec.future)
            self._stall_apologised = False
            done_at = time.monotonic()
            if speculative:
                # the transcript is usable at the endpoint at the earliest
                done_at = max(done_at, trace.endpoint or done_at)
            trace.mark("asr_done", done_at)
            asr.meta["speculative"] = speculative
            trace.meta.update(asr_ms=round(asr.seconds * 1000, 1), speculative_asr=speculative)
        except asyncio.CancelledError:
            spec.cancel.set()
            raise
        except StageStalled as exc:
            spec.cancel.set()
            log.error("ASR stalled: %s", exc)
            error = f"konuşma tanıma takıldı: {exc}"
            if utt.ptt or not self._stall_apologised:
                # once per stall (not for every background utterance), always for push-to-talk
                self._stall_apologised = True
                await self._stalled_turn(trace, error, utt.ptt)
            else:  # quietly: `status` and the watchdog already report the stall
                self._finish(TurnOutcome("", None, TurnResult(), trace, None, ignored=True, error=error, ptt=utt.ptt))
            return
        except Exception as exc:
            log.exception("konuşma tanıma başarısız")
            self._finish(TurnOutcome("", None, TurnResult(), trace, None, error=f"konuşma tanıma hatası: {exc}", ptt=utt.ptt))
            return
        transcript = asr.text
        request_text: str | None = transcript or None
        if request_text and self._use_filter and self.transcript_filter is not None and not utt.ptt:
            self.gate_started_at = utt.speech_start
            try:
                request_text = self.transcript_filter(transcript)
            except Exception:
                log.exception("transcript_filter hata verdi")
                request_text = None
            finally:
                self.gate_started_at = None
        if not request_text:
            if spec.prepared is not None:
                spec.prepared.cancel()
            self._finish(TurnOutcome(transcript, None, TurnResult(), trace, asr, ignored=True, ptt=utt.ptt))
            return
        await self._claim_turn()  # an accepted utterance replaces whatever turn is still running
        try:
            await self._run_turn(transcript, request_text, trace, asr, utt.ptt)
        finally:
            if self._turn_task is asyncio.current_task():
                self._turn_task = None

    async def _claim_turn(self) -> None:
        """Make the calling task the single active turn: a turn still running is cancelled (its
        speech stopped) and awaited first."""
        previous = self._turn_task
        if previous is not None and not previous.done():
            self.cancel_speech()
            await asyncio.gather(previous, return_exceptions=True)
        self._turn_task = asyncio.current_task()

    async def _stalled_turn(self, trace: TurnTrace, error: str, ptt: bool) -> None:
        """ASR is hung: say so in Turkish (TTS still works) instead of waiting forever."""
        await self._claim_turn()
        try:
            await self._run_turn("", REPLY_STAGE_STALLED, trace, None, ptt, _StaticResponder(REPLY_STAGE_STALLED), error=error)
        finally:
            if self._turn_task is asyncio.current_task():
                self._turn_task = None

    async def _run_turn(
        self, transcript: str, request_text: str, trace: TurnTrace, asr: AsrResult | None, ptt: bool,
        responder: Responder | None = None, error: str | None = None,
    ) -> None:
        s = self.settings
        request = TurnRequest(text=request_text, trace=trace, heard=Heard.of(asr, trace.speech_start))
        sink = self._sink
        assert sink is not None
        self._set_state("thinking")
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[str | None] = asyncio.Queue()
        outcome = TurnOutcome(transcript, request_text, request.result, trace, asr, ptt=ptt, error=error)
        begin_task = loop.create_task(sink.begin(self.tts.sample_rate))

        async def produce() -> None:
            chunker = TextChunker(s.tts.first_chunk_words, early=s.tts.early_first_chunk)
            agen = (responder or self.responder).respond(request)
            try:
                async for piece in agen:
                    if not piece:
                        continue
                    trace.mark("llm_first_token")
                    for c in chunker.push(piece):
                        await chunks.put(c)
            finally:
                await agen.aclose()
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
                audio = await self.stages.wait(
                    "tts", loop.run_in_executor(self._tts_pool, self.stages.run, "tts", self.tts.synthesize, text)
                )
                trace.mark("tts_first_audio")
                if audio.size == 0:
                    continue
                if not begun:
                    await begin_task
                    begun = True
                sink.write(audio)
                if self.state != "speaking":
                    self._set_state("speaking")
            await producer  # re-raise responder errors
            if not begun:
                await begin_task
                begun = True
            self._responder_idle()  # the reply is written out and playing: no more work for the turn
            await sink.drain()
        except asyncio.CancelledError:
            outcome.interrupted = True
            sink.stop()
        except BantzError as exc:
            outcome.error = str(exc)
            sink.stop()
            if isinstance(exc, StageStalled):
                log.error("TTS stalled: %s", exc)
        except Exception as exc:  # one failing turn never kills the loop
            log.exception("tur başarısız")
            outcome.error = f"tur başarısız: {exc.__class__.__name__}: {exc}"
            sink.stop()
            if hasattr(sink, "fail"):
                sink.fail()  # a kept-open speaker stream is reopened at the next reply
        finally:
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
                outcome.error = outcome.error or str(exc)
            if isinstance(sink, WavSink):
                outcome.reply_audio = sink.audio
                outcome.reply_rate = sink.rate
            self._finish(outcome)

    def _responder_idle(self) -> None:
        try:
            self.responder.idle()
        except Exception:
            log.exception("responder.idle hata verdi")

    def _finish(self, outcome: TurnOutcome) -> None:
        trace = outcome.trace
        trace.mark("turn_done")
        trace.meta.update(interrupted=outcome.interrupted, ignored=outcome.ignored)
        if outcome.error or outcome.result.error:
            trace.meta["error"] = outcome.error or outcome.result.error
        if self.trace_log is not None and not outcome.ignored:
            try:
                r = outcome.result
                self.trace_log.append(trace, route=r.route, intent=r.intent, source=r.source, error=outcome.error or r.error)
            except OSError:
                log.warning("iz günlüğü yazılamadı")
        if self._collect is not None:
            self._collect(outcome)
        if self.on_turn_done is not None and not outcome.ignored:
            try:
                self.on_turn_done(trace, outcome)
            except Exception:
                log.exception("turn-done hook failed")
        if self._turn_task is None or self._turn_task is asyncio.current_task() or self._turn_task.done():
            self._set_state(self._idle_state())

    # ---------------------------------------------------------------- one turn from a file
    async def run_turn_from_wav(self, path: str | Path, out_wav: str | Path | None = None, fast: bool = False) -> TurnOutcome:
        """One turn from a WAV fed through :class:`FileSource` into :meth:`listen` (no devices)."""
        s = self.settings
        source = FileSource(
            path, rate=s.audio.sample_rate, frame_ms=s.audio.frame_ms, fast=fast,
            tail_s=s.vad.hangover_ms / 1000 + 0.6,
        )
        sink = WavSink(out_wav)
        outcomes: list[TurnOutcome] = []
        self._collect = outcomes.append
        try:
            await self.listen(source, sink=sink, use_filter=False)
        finally:
            self._collect = None
        if not outcomes:
            raise AudioInputError(f"{path}: dosyada konuşma algılanmadı")
        answered = [o for o in outcomes if not o.ignored and not o.interrupted]
        if answered:
            return answered[-1]
        heard = [o for o in outcomes if not o.ignored]
        if heard:
            return heard[-1]
        if any(o.error for o in outcomes):
            raise BantzError(next(o.error for o in outcomes if o.error))
        raise AudioInputError(f"{path}: konuşma anlaşılamadı (tanınan metin yok)")

    async def speak(self, text: str) -> TurnOutcome | None:
        """Speak ``text`` as a turn of its own (the socket's ``say``); ``cancel_speech`` stops it."""
        return await self._text_turn(text, _StaticResponder(text.strip()), say=True)

    async def text_turn(self, text: str) -> TurnOutcome | None:
        """A typed request through the same turn path as speech (responder -> chunker -> TTS ->
        sink), without ASR; the soak test and benchmarks drive the loop with it."""
        return await self._text_turn(text, None, say=False)

    async def _text_turn(self, text: str, responder: Responder | None, *, say: bool) -> TurnOutcome | None:
        text = text.strip()
        if not text:
            return None
        await self._claim_turn()
        own_sink = self._sink is None
        if own_sink:
            self._sink = self.sink_factory()
        outcomes: list[TurnOutcome] = []
        collect, self._collect = self._collect, outcomes.append
        try:
            trace = TurnTrace()
            trace.meta["say"] = say
            await self._run_turn("", text, trace, None, False, responder)
        finally:
            self._collect = collect
            if self._turn_task is asyncio.current_task():
                self._turn_task = None
            if own_sink and not self._listening:
                sink, self._sink = self._sink, None
                await asyncio.shield(_close_sink(sink))
        return outcomes[0] if outcomes else None

    async def aclose(self) -> None:
        self.cancel_speech()
        if not self._listening:
            sink, self._sink = self._sink, None
            await _close_sink(sink)
        try:
            await self.responder.aclose()
        finally:
            self._asr_pool.shutdown(wait=False, cancel_futures=True)
            self._tts_pool.shutdown(wait=False, cancel_futures=True)


async def _close_sink(sink) -> None:
    """Close a kept-open speaker stream (the loop or ``speak`` created it and is done with it)."""
    close = getattr(sink, "close", None)
    if close is None:
        return
    try:
        await close()
    except Exception:
        log.debug("closing the speaker failed", exc_info=True)
