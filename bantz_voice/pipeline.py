"""The voice loop, composed: microphone → :class:`~bantz_voice.voice.listener.Listener` (VAD,
push-to-talk, mute, barge-in) → :class:`~bantz_voice.voice.recognizer.Recognizer` (speculative
ASR) → the :class:`~bantz_voice.voice.gate.Gate` → a :class:`~bantz_voice.voice.turn.Turn` run by
the :class:`~bantz_voice.voice.runner.TurnRunner` (one active turn) → the responder →
:class:`~bantz_voice.voice.output.SpeechOutput` (chunker → normalizer → TTS → sink). One code path
for the microphone, ``once``, ``say`` and the benchmarks (build it with ``app.start_pipeline``).

API (used by the daemon, ``once``, ``ask`` and the benchmarks)::

    p = VoicePipeline(settings, transcriber=..., tts=..., responder=...)   # or app.start_pipeline
    p.gate = MyGate()               # a voice.gate.Gate: hears (wake-word audio stage), gate, peek;
                                    # default OpenGate (everything passes). PTT and WAV turns skip it
    p.observer = MyObserver()       # a voice.events.VoiceObserver: UserStateChanged,
                                    # AgentStateChanged, TurnStarted, TurnFinished
    p.turn_end.on_verdict = fn      # (turn_end.VerdictReport) -> None: each turn-end verdict (vad.turn_end)
    await p.listen(source, on_event=None)   # runs until the source ends (FileSource) or is cancelled;
                                    # on_event(VadEvent) sees the endpointer's raw events
    p.ptt_begin(); p.ptt_end()      # push-to-talk: the audio between them is the utterance
    p.mute(); p.unmute()            # muted: frames are dropped
    p.cancel_speech()               # cancel the active turn (its speech stops within one block)
    await p.speak(text) -> Turn     # ``say``: a turn of its own through the same speech output
    await p.text_turn(text) -> Turn # a typed request through the same turn path, without ASR
    await p.run_turn_from_wav(path, out_wav=None, fast=False) -> Turn
                                    # the WAV goes through FileSource into the same listen() loop

``p.state`` is the assistant's state (idle/listening/thinking/speaking/muted), ``p.user_state``
the user's (listening/speaking/silent). ``settings.vad.speculative_asr`` and
``settings.tts.early_first_chunk`` set False give the baseline design. ``p.last_frame_at``
(monotonic) lets a watchdog see that audio keeps flowing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bantz_voice import paths, sysmem
from bantz_voice.audio.bargein import BargeInDetector
from bantz_voice.audio.player import AudioSink, Player, WavSink
from bantz_voice.audio.source import AudioSource, FileSource
from bantz_voice.audio.vad import Utterance, VadEvent, longest_pause_ms
from bantz_voice.errors import AudioInputError, BantzError
from bantz_voice.responder import Heard, Progress, Responder, TurnRequest
from bantz_voice.stages import StageMonitor, StageStalled
from bantz_voice.trace import TraceLog, TurnTrace
from bantz_voice.tts.base import TextToSpeech
from bantz_voice.turn_end import TurnEndHook
from bantz_voice.voice.events import (
    AgentState,
    AgentStateChanged,
    TurnFinished,
    TurnStarted,
    UserState,
    UserStateChanged,
    VoiceEvent,
    VoiceObserver,
)
from bantz_voice.voice.gate import Gate, GateDecision, OpenGate
from bantz_voice.voice.listener import Listener
from bantz_voice.voice.output import REPLY_TTS_STALLED, SpeechOutput
from bantz_voice.voice.recognizer import Recognizer, Speculation, SpeechToText
from bantz_voice.voice.runner import TurnRunner
from bantz_voice.voice.turn import Turn, TurnKind

if TYPE_CHECKING:
    from bantz_voice.asr import AsrResult
    from bantz_voice.config import Settings

__all__ = ["REPLY_STAGE_STALLED", "REPLY_TTS_STALLED", "Turn", "VoicePipeline"]

log = logging.getLogger(__name__)

REPLY_STAGE_STALLED = "Kusura bakmayın efendim, ses tanıma şu an yanıt vermiyor; biraz sonra tekrar dener misiniz?"


class VoicePipeline:
    def __init__(
        self,
        settings: Settings,
        *,
        transcriber: SpeechToText,
        tts: TextToSpeech,
        responder: Responder,
        sink_factory: Callable[[], AudioSink] | None = None,
        trace_log: TraceLog | None = None,
        gate: Gate | None = None,
        observer: VoiceObserver | None = None,
    ) -> None:
        self.settings = settings
        self.responder = responder
        self.gate: Gate = gate or OpenGate()
        self.observer: VoiceObserver = observer or VoiceObserver()
        # the loop's speaker: one output stream kept open between replies (no open on the latency path)
        self.sink_factory: Callable[[], AudioSink] = sink_factory or self._speaker
        if trace_log is None and settings.logging.traces:
            trace_log = TraceLog(
                paths.state_dir() / "traces.jsonl", settings.logging.traces_max_bytes, settings.logging.traces_keep
            )
        self.trace_log = trace_log
        # hardening (docs/security.md): hung ASR/TTS calls, a bounded ASR queue, capped PTT
        self.stages = StageMonitor({"asr": settings.asr.deadline_s, "tts": settings.tts.deadline_s})
        self.listener = Listener(settings, on_user_state=self._user_state_changed)
        self.recognizer = Recognizer(transcriber, self.stages, settings.asr.max_queue)
        self.output = SpeechOutput(tts, settings.tts, self.stages)
        self.turns = TurnRunner()
        self.state: AgentState = "idle"
        self.last_frame_at: float | None = None
        self._listening = False
        self._sink: AudioSink | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._origin_from_source: float | None = None
        self._use_gate = True
        self._collect: list[Turn] | None = None
        self._trim: asyncio.Future[bool] | None = None  # freed heap handed back after a turn
        self._stall_apologised = False  # until a decode completes again
        self.turn_end = TurnEndHook()  # issue #15: the speculative transcript's verdict drives the endpointer

    def _speaker(self) -> AudioSink:
        a = self.settings.audio
        return Player(a.output_device, keep_open=True, reconnect_initial_s=a.reconnect_initial_s,
                      reconnect_max_s=a.reconnect_max_s)

    # ---------------------------------------------------------------- parts
    @property
    def transcriber(self) -> SpeechToText:
        return self.recognizer.transcriber

    @property
    def tts(self) -> TextToSpeech:
        return self.output.tts

    @property
    def user_state(self) -> UserState:
        return self.listener.user_state

    @property
    def asr_dropped(self) -> int:
        return self.recognizer.dropped

    @property
    def ptt_capped(self) -> int:
        return self.listener.ptt_capped

    @property
    def barge_in(self) -> BargeInDetector:
        """Barge-in's echo guard: ``status()`` is what ``bantz-voice status`` shows."""
        return self.listener.barge_in

    @property
    def muted(self) -> bool:
        return self.listener.muted

    @property
    def ptt_active(self) -> bool:
        return self.listener.ptt_active

    async def warmup(self, progress: Progress | None = None) -> None:
        """Warm the responder (models, prompt prefixes) and the speech output, one after the other
        (``app.start_pipeline`` overlaps the two with the models' loading)."""
        await self.responder.warmup(progress)
        await self.warm_output()
        await asyncio.to_thread(sysmem.release_freed_memory)  # what loading freed, before READY

    async def warm_output(self) -> None:
        """Render the stalled-TTS apology in the reply thread: the synthesizer's first synthesis
        there, and what it allocates, happen before READY."""
        try:
            await self.output.warmup()
        except Exception as exc:  # the apology is a fallback: never a reason not to start
            log.error("could not pre-render the stalled-TTS apology: %s", exc)

    def health(self) -> dict[str, dict[str, Any]]:
        """Model health for ``status`` (the daemon merges it into its own)."""
        tts_detail = f"yüklü: {self.tts.voice_name}"
        if self.tts.note:
            tts_detail += f" ({self.tts.note})"
        out: dict[str, dict[str, Any]] = {
            "asr": {"ok": True, "detail": f"yüklü: {Path(str(self.transcriber.model_path)).name}"},
            "tts": {"ok": True, "detail": tts_detail},
        }
        for stage, seconds in self.stages.stalled().items():
            out[stage] = {"ok": False, "detail": str(StageStalled(stage, seconds))}
        return out

    def apply_settings(self, settings: Settings) -> None:
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
        self.transcriber.settings = settings.asr
        self.recognizer.max_queue = settings.asr.max_queue
        self.tts.reconfigure(settings.tts)
        self.output.settings = settings.tts
        self.listener.reconfigure(settings)  # at the next frame outside an utterance

    async def replace_responder(self, responder: Responder) -> Responder:
        """Swap the responder between turns (a reload that rebuilt the brain): a reply being spoken
        finishes with the old one, the next turn uses the new one. Returns the old one (not closed)."""
        await self.turns.idle()
        old, self.responder = self.responder, responder
        responder.take_over(old)
        return old

    # ---------------------------------------------------------------- events & state
    def _publish(self, event: VoiceEvent) -> None:
        o = self.observer
        try:
            if isinstance(event, UserStateChanged):
                o.on_user_state(event)
            elif isinstance(event, AgentStateChanged):
                o.on_agent_state(event)
            elif isinstance(event, TurnStarted):
                o.on_turn_started(event)
            else:
                o.on_turn_finished(event)
        except Exception:
            log.exception("observer failed on %s", type(event).__name__)

    def _set_state(self, state: AgentState) -> None:
        if state == self.state:
            return
        old, self.state = self.state, state
        self._publish(AgentStateChanged(old, state))

    def _user_state_changed(self, event: UserStateChanged) -> None:
        self._publish(event)

    def _idle_state(self) -> AgentState:
        if not self._listening:
            return "idle"
        return "muted" if self.listener.muted else "listening"

    # ---------------------------------------------------------------- control
    def mute(self) -> None:
        """Stop listening (frames are dropped); a reply being spoken finishes unless cancelled."""
        self.listener.mute()
        if self.state not in ("thinking", "speaking"):
            self._set_state("muted")

    def unmute(self) -> None:
        self.listener.unmute()
        if self.state == "muted":
            self._set_state(self._idle_state())

    def cancel_speech(self) -> bool:
        """Cancel the active turn: its speech stops now, its generation too. True when one ran."""
        return self.turns.cancel()

    def cue(self, samples: np.ndarray, rate: int) -> bool:
        """Play a short sound (an earcon, int16 at ``rate``) on the speaker stream replies play on,
        while the loop listens (:meth:`AudioSink.cue`). False: no such stream is open."""
        sink = self._sink
        return sink is not None and sink.cue(samples, rate)

    def ptt_begin(self) -> None:
        """Start a push-to-talk utterance now (pre-roll included); stops any reply being spoken."""
        if self.listener.ptt_active:
            return
        self.cancel_speech()
        self.listener.ptt_begin()

    def ptt_end(self) -> bool:
        """Release: the collected audio becomes an utterance. False when there was nothing to send."""
        if not self._listening:
            self.listener.ptt_cancel()
            return False
        utt = self.listener.ptt_end()
        if utt is None:
            return False
        self._spawn(self._handle_utterance(utt, None))
        return True

    def ptt_cancel(self) -> None:
        self.listener.ptt_cancel()

    # ---------------------------------------------------------------- the loop
    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            assert exc is not None
            log.error("utterance could not be handled", exc_info=(type(exc), exc, exc.__traceback__))
            if self.state in ("thinking", "speaking") and not self.turns.busy:
                self._set_state(self._idle_state())

    async def listen(
        self,
        source: AudioSource,
        on_event: Callable[[VadEvent], None] | None = None,
        *,
        sink: AudioSink | None = None,
        use_filter: bool = True,
    ) -> None:
        """Run the loop over ``source`` (``frames()``: an async iterator of frames) until it
        ends (then finish pending turns) or is cancelled. ``use_filter=False``: no gate (WAV turns)."""
        if self._listening:
            raise BantzError("dinleme döngüsü zaten çalışıyor")
        own_sink = sink is None
        self._sink = used = sink if sink is not None else self.sink_factory()
        self._use_gate = use_filter
        self._origin_from_source = None
        self.listener.start()
        self._listening = True
        self._set_state(self._idle_state())
        if own_sink:  # open the speaker now, off the first reply's latency path (failures: retried per reply)
            self._spawn(self._prepare_sink(used))
        spec: Speculation | None = None
        barged: Turn | None = None  # the turn a barge-in already cancelled
        if isinstance(source, FileSource):  # a file ends: its tail must outlast the longest hold
            source.hold_pauses_up_to(longest_pause_ms(self.settings.vad))
        try:
            async for frame in source.frames():
                self.last_frame_at = frame.t
                if self._origin_from_source is None and isinstance(source, FileSource):
                    self._origin_from_source = source.origin
                if self.listener.muted and spec is not None:
                    spec.drop()
                    spec = None
                heard = self.listener.feed(
                    frame, playing=self.state == "speaking", echo_level=used.level, reference=used.reference
                )
                if heard.barge_in and self.turns.current is not barged:
                    barged = self.turns.current
                    log.info("barge-in: the user spoke over the reply; reply stopped")
                    self.cancel_speech()
                for ev in heard.events:
                    if on_event is not None:
                        try:
                            on_event(ev)
                        except Exception:
                            log.exception("on_event hook failed")
                    s = self.settings
                    if ev.kind == "pause" and s.vad.speculative_asr and ev.utterance is not None \
                            and self._hears(ev.utterance, final=False):
                        if spec is not None:
                            spec.drop()
                        spec = self._speculate(ev.utterance)
                        # -- turn-end policy hook (issue #15): the pause's transcript may end it early or hold it
                        self.turn_end.on_pause(self.listener.endpointer, spec.future, spec.cancel, s.vad, len(ev.utterance.audio))
                    elif ev.kind == "resume" and spec is not None:
                        spec.drop()
                        spec = None
                if heard.utterance is not None:
                    if heard.utterance.ptt:
                        self._spawn(self._handle_utterance(heard.utterance, None))
                    else:
                        self._spawn(self._handle_utterance(heard.utterance, spec))
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
            self.listener.reset()
            self._sink = None
            if own_sink:
                await _close_sink(used)
            self._set_state("idle")

    async def _prepare_sink(self, sink: AudioSink) -> None:
        await sink.prepare(self.tts.sample_rate)

    def _hears(self, utt: Utterance, *, final: bool) -> bool:
        if utt.ptt or not self._use_gate:
            return True
        try:
            return self.gate.hears(utt, final=final)
        except Exception:
            log.exception("the gate's audio stage failed")
            return True  # fail open: the transcript stage still decides

    def _speculate(self, utt: Utterance) -> Speculation:
        spec = self.recognizer.start(utt.audio, self.settings.asr.window, utt.speech_start)
        spec.future.add_done_callback(lambda f: self._prepare(spec, utt, f))
        return spec

    def _prepare(self, spec: Speculation, utt: Utterance, fut: asyncio.Future[AsrResult]) -> None:
        """A speculative transcript arrived during the hangover: the responder may start the
        side-effect-free part of the turn (routing) now. The gate is asked without side effects."""
        if spec.cancel.is_set() or fut.cancelled() or fut.exception() is not None:
            return
        text = fut.result().text
        if text and self._use_gate:
            try:
                decision = self.gate.peek(utt, text)
            except Exception:
                log.exception("the gate's peek failed")
                return
            text = decision.text or "" if decision is not None else ""
        if not text:
            return
        try:
            spec.prepared = self.responder.prepare(TurnRequest(text=text))
        except Exception:
            log.exception("responder.prepare failed")

    # ---------------------------------------------------------------- one utterance → one turn
    def _trace(self, utt: Utterance) -> TurnTrace:
        origin = self._origin_from_source if self._origin_from_source is not None else utt.start_t
        trace = TurnTrace(origin=origin)
        trace.mark("speech_start", utt.speech_start)
        trace.mark("speech_end", utt.speech_end)
        trace.mark("endpoint", utt.endpoint or time.monotonic())
        trace.meta.update(utterance_ms=round(len(utt.audio) / self.settings.audio.sample_rate * 1000), ptt=utt.ptt)
        return trace

    async def _handle_utterance(self, utt: Utterance, spec: Speculation | None) -> None:
        kind: TurnKind = "ptt" if utt.ptt else ("voice" if self._use_gate else "wav")
        turn = Turn(kind, trace=self._trace(utt), utterance=utt)
        trace = turn.trace
        gated = kind == "voice"
        if self.state in ("listening", "idle", "muted"):
            self._set_state("thinking")
        if spec is not None and not spec.decodes(utt.audio, self.settings.asr.window):
            spec.drop()  # decoded from other samples or another window: not this utterance's transcript
            spec = None
        speculative = spec is not None
        if spec is None and not self._hears(utt, final=True):
            trace.meta["wake_gate"] = "rejected"  # no wake word heard: no Whisper decode
            turn.ignored = True
            self._finish(turn)
            return
        if spec is None:
            spec = self.recognizer.start(utt.audio, self.settings.asr.window, utt.speech_start)
        turn.speculation = spec
        try:
            asr = await self.recognizer.result(spec)
            if speculative and asr.dropped == "cancelled":  # stopped early: decode these samples after all
                spec = turn.speculation = self.recognizer.start(utt.audio, self.settings.asr.window, utt.speech_start)
                speculative = False
                asr = await self.recognizer.result(spec)
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
            turn.interrupted = True
            turn.finish()
            raise
        except StageStalled as exc:
            spec.cancel.set()
            log.error("ASR stalled: %s", exc)
            turn.error = f"konuşma tanıma takıldı: {exc}"
            if utt.ptt or not self._stall_apologised:
                # once per stall (not for every background utterance), always for push-to-talk
                self._stall_apologised = True
                turn.decision = GateDecision(REPLY_STAGE_STALLED, "apology")
                await self._run(turn, self._static_reply(turn, REPLY_STAGE_STALLED))
            else:  # quietly: `status` and the watchdog already report the stall
                turn.ignored = True
                self._finish(turn)
            return
        except Exception as exc:
            log.exception("speech recognition failed")
            turn.error = f"konuşma tanıma hatası: {exc}"
            self._finish(turn)
            return
        turn.asr = asr
        turn.transcript = asr.text
        turn.decision = self._decide(turn, asr.text, gated)
        if not turn.request_text:
            if spec.prepared is not None:
                spec.prepared.cancel()
            turn.ignored = True
            self._finish(turn)
            return
        await self._run(turn, self._respond(turn))

    def _decide(self, turn: Turn, transcript: str, gated: bool) -> GateDecision:
        if not transcript:
            return GateDecision(None, "no_speech")
        if not gated:
            return GateDecision(transcript, turn.kind)
        assert turn.utterance is not None
        try:
            return self.gate.gate(turn.utterance, transcript)
        except Exception:
            log.exception("the gate failed")
            return GateDecision(None, "error")

    # ---------------------------------------------------------------- running a turn
    async def _respond(self, turn: Turn) -> AsyncIterator[str]:
        assert turn.request_text is not None
        heard = Heard.of(turn.asr, turn.speech_start)
        request = TurnRequest(text=turn.request_text, trace=turn.trace, result=turn.result, heard=heard)
        stream = self.responder.respond(request)
        try:
            async for piece in stream:
                yield piece
        finally:
            await _aclose(stream)

    @staticmethod
    async def _static_reply(turn: Turn, text: str) -> AsyncIterator[str]:
        r = turn.result
        r.route = r.route or "say"
        r.source = "say"
        r.reply = text
        yield text

    async def _run(self, turn: Turn, text_stream: AsyncIterator[str]) -> None:
        """Make ``turn`` the active one (the one before is cancelled) and speak its reply."""
        started = False
        own_sink = False
        sink: AudioSink | None = None
        try:
            await self.turns.claim(turn)
            own_sink = self._sink is None
            if own_sink:
                self._sink = self.sink_factory()
            sink = self._sink
            assert sink is not None
            self._set_state("thinking")
            self._publish(TurnStarted(turn))
            started = True
            await self.output.play(
                text_stream, turn, sink, on_speaking=self._speaking, on_written=self._responder_idle
            )
        except asyncio.CancelledError:
            turn.interrupted = True
            raise
        finally:
            if not started:
                await _aclose(text_stream)
            self._finish(turn, publish=started)
            self.turns.release(turn)
            if own_sink and sink is not None and not self._listening:
                self._sink = None
                await asyncio.shield(_close_sink(sink))

    def _speaking(self) -> None:
        if self.state != "speaking":
            self._set_state("speaking")

    def _responder_idle(self) -> None:
        try:
            self.responder.idle()
        except Exception:
            log.exception("responder.idle failed")

    def _finish(self, turn: Turn, *, publish: bool = True) -> None:
        trace = turn.trace
        trace.mark("turn_done")
        trace.meta.update(interrupted=turn.interrupted, ignored=turn.ignored)
        if turn.failed:
            trace.meta["error"] = turn.failed
        if self.trace_log is not None and not turn.ignored:
            try:
                r = turn.result
                self.trace_log.append(trace, route=r.route, intent=r.intent, source=r.source, error=turn.failed)
            except OSError:
                log.warning("could not write the trace log")
        turn.finish()
        if self._collect is not None:
            self._collect.append(turn)
        if publish:
            self._publish(TurnFinished(turn))
        if self.turns.current is None or self.turns.current is turn or not self.turns.busy:
            self._set_state(self._idle_state())
            self._release_memory()

    def _release_memory(self) -> None:
        """After a turn, with none running: the heap a turn freed goes back to the system, in a worker
        thread (off the latency path). Without it the RSS climbs by a third over the first turns and
        stays there (bantz_voice/sysmem.py, docs/benchmarks.md)."""
        if self._trim is not None and not self._trim.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._trim = loop.run_in_executor(None, sysmem.release_freed_memory)

    # ---------------------------------------------------------------- turns without a microphone
    async def run_turn_from_wav(self, path: str | Path, out_wav: str | Path | None = None, fast: bool = False) -> Turn:
        """One turn from a WAV fed through :class:`FileSource` into :meth:`listen` (no devices)."""
        s = self.settings
        source = FileSource(path, rate=s.audio.sample_rate, frame_ms=s.audio.frame_ms, fast=fast)
        turns: list[Turn] = []
        self._collect = turns
        try:
            await self.listen(source, sink=WavSink(out_wav), use_filter=False)
        finally:
            self._collect = None
        if not turns:
            raise AudioInputError(f"{path}: dosyada konuşma algılanmadı")
        answered = [t for t in turns if not t.ignored and not t.interrupted]
        if answered:
            return answered[-1]
        heard = [t for t in turns if not t.ignored]
        if heard:
            return heard[-1]
        failed = [t.error for t in turns if t.error]
        if failed:
            raise BantzError(failed[0])
        raise AudioInputError(f"{path}: konuşma anlaşılamadı (tanınan metin yok)")

    async def speak(self, text: str) -> Turn | None:
        """Speak ``text`` as a turn of its own (the socket's ``say``); ``cancel_speech`` stops it."""
        text = text.strip()
        if not text:
            return None
        turn = Turn("say", decision=GateDecision(text, "say"))
        await self._run(turn, self._static_reply(turn, text))
        return turn

    async def text_turn(self, text: str) -> Turn | None:
        """A typed request through the same turn path as speech (responder → speech output),
        without ASR; the soak test and benchmarks drive the loop with it."""
        text = text.strip()
        if not text:
            return None
        turn = Turn("text", decision=GateDecision(text, "text"))
        await self._run(turn, self._respond(turn))
        return turn

    async def aclose(self) -> None:
        self.cancel_speech()
        if not self._listening:
            sink, self._sink = self._sink, None
            if sink is not None:
                await _close_sink(sink)
        try:
            await self.responder.aclose()
        finally:
            self.recognizer.shutdown()
            self.output.shutdown()


async def _aclose(stream: AsyncIterator[str]) -> None:
    if isinstance(stream, AsyncGenerator):
        await stream.aclose()


async def _close_sink(sink: AudioSink) -> None:
    """Close a kept-open speaker stream (the loop or ``speak`` created it and is done with it)."""
    try:
        await sink.close()
    except Exception:
        log.debug("closing the speaker failed", exc_info=True)

