"""The daemon: wires the voice pipeline, wake-word/PTT gating, the control socket, sd_notify,
the watchdog, health checks and signals.

Start-up order: control socket (refuses a second daemon) -> models, loaded and warmed through
``app.start_pipeline`` (``status`` says ``starting`` and what is loading; ``EXTEND_TIMEOUT_USEC``
keeps systemd's start timeout ahead of a slow disk) -> microphone (or ``daemon.mic_wait_s`` without
one) -> READY=1. A model that fails to load does not stop READY: ``status`` names the degraded role. The audio loop beats a heartbeat on every frame (and on every reconnect
attempt); the watchdog pings systemd only while that heartbeat is fresh, so a stuck loop gets
restarted. One failing turn is logged, reported in ``status`` and forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bantz_voice import paths
from bantz_voice.config import Settings, load_settings
from bantz_voice.daemon.alarm_hook import AlarmHook
from bantz_voice.daemon.control import ControlServer, InstanceLock, socket_path_from
from bantz_voice.daemon.earcons import EarconPlayer
from bantz_voice.daemon.health import HealthMonitor
from bantz_voice.daemon.notify import Heartbeat, Notifier, watchdog_interval_s
from bantz_voice.daemon.protocol import ProtocolError
from bantz_voice.daemon.wakeword import WakeGate
from bantz_voice.errors import AudioInputError, BantzError, ConfigError
from bantz_voice.pipeline import VoicePipeline
from bantz_voice.wake import WakeDetector, build_wake_detector

log = logging.getLogger("bantz_voice.daemon")

STATES = ("starting", "idle", "listening", "thinking", "speaking", "muted", "stopping")
_STATE_ALIASES = {"ready": "idle", "waiting": "idle", "recording": "listening", "speech": "listening",
                  "transcribing": "thinking", "responding": "thinking", "playing": "speaking"}
LAST_TURNS = 10
EXTEND_TIMEOUT_S = 30.0  # while loading, systemd's start timeout is kept at least this far ahead ...
EXTEND_EVERY_S = 10.0  # ... renewed this often
HEARTBEAT_STALE_S = 20.0  # < WatchdogSec (30 s): a stuck loop is restarted within ~50 s
SHUTDOWN_BUDGET_S = 1.5


def _norm_state(value: Any) -> str:
    raw = getattr(value, "value", value)
    s = str(raw or "idle").lower()
    s = s.rsplit(".", 1)[-1]
    s = _STATE_ALIASES.get(s, s)
    return s if s in STATES else "idle"


class HeartbeatSource:
    """Wraps an audio source: beats the heartbeat on every frame the listening loop pulls."""

    def __init__(self, inner: Any, heartbeat: Heartbeat) -> None:
        self.inner = inner
        self.heartbeat = heartbeat
        self.frames_seen = 0

    def __getattr__(self, name: str) -> Any:  # rate, frame_ms, origin, connected, ...
        return getattr(self.inner, name)

    async def frames(self) -> AsyncIterator[Any]:
        async for frame in self.inner.frames():
            self.heartbeat.beat()
            self.frames_seen += 1
            yield frame


def _make_responder(settings: Settings, kind: str | None) -> Any:
    kind = kind or settings.brain.responder
    if kind == "echo":
        from bantz_voice.responder import EchoResponder

        return EchoResponder()
    return None  # build_pipeline picks the brain from the settings


def _make_wake_detector(settings: Settings) -> WakeDetector:
    try:
        return build_wake_detector(settings.wake)
    except Exception as exc:  # a missing/broken model must not stop the daemon: Whisper decides
        log.error("wake-word model unavailable (%s); every utterance goes to Whisper", exc)
        return WakeDetector()


class Daemon:
    def __init__(self, settings: Settings, responder: str | None = None, notifier: Notifier | None = None) -> None:
        self.settings = settings
        self.responder_kind = responder
        if responder:
            self.settings.brain.responder = responder  # type: ignore[assignment]
        d = settings.daemon
        self.notifier = notifier or Notifier()
        self.gate = WakeGate(d.wake_words, d.follow_up_s, hands_free=d.hands_free)
        self.wake = _make_wake_detector(settings)  # first stage (audio); the gate is the second
        self.wake_rejected = 0  # utterances the wake-word stage kept from Whisper
        self.earcons = EarconPlayer(d.earcons, settings.audio.output_device)
        self.heartbeat = Heartbeat(HEARTBEAT_STALE_S)
        self.socket_path = socket_path_from(d.socket_path)
        self.control = ControlServer(self.socket_path, self.handle)
        self.instance = InstanceLock()  # one daemon per user (runtime dir)
        self.health = HealthMonitor(settings, extra=self._pipeline_health)
        self.pipeline: Any = None
        self.source: HeartbeatSource | None = None
        self.started_at = time.monotonic()
        self.state = "starting"
        self.loading: str | None = None  # what start-up is loading now (status)
        self.muted = False
        self.ready = False
        self.turns = 0
        self.turns_failed = 0
        self.ignored = 0
        self.utterances = 0  # end-pointed hands-free utterances (answered or not)
        self.last_turns: deque[dict[str, Any]] = deque(maxlen=LAST_TURNS)
        self.last_error: str | None = None
        self.mic_ok = False
        self.mic_detail = "açılmadı"
        self._mic_open = asyncio.Event()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._pending_mode: str | None = None
        self._say_task: asyncio.Task[Any] | None = None
        self.hotkey: Any = None
        self._speech_since: float | None = None
        self._utterance_started_at: float | None = None
        self.alarms = AlarmHook(self)  # issue 18: timers/reminders firing, notifications, media pause

    # --- pipeline callbacks ---------------------------------------------------------------
    def transcript_filter(self, text: str) -> str | None:
        """Hands-free gate (the pipeline skips it for PTT utterances). Ignored text is not kept."""
        if self.alarms.intercept(text):  # "tamam"/"sustur" to a ringing alarm
            return None
        decision = self.gate.decide(text, started_at=self._gate_start())
        if decision.text is None:
            if decision.reason == "bare_wake_word":
                self.earcons.play("wake")
            else:
                self.ignored += 1
            return None
        self._pending_mode = decision.reason
        if decision.reason == "wake_word":
            self.earcons.play("wake")
        return decision.text

    def audio_gate(self, audio: Any, started_at: float | None, final: bool = True) -> bool:
        """Wake-word stage before Whisper (the pipeline skips it for PTT): inside the follow-up
        window everything passes; otherwise only an utterance in which the model hears "Bantz".
        ``final``: the end-pointed utterance (counted when rejected), not a speculative pause."""
        if not self.gate.hands_free or self.gate.in_follow_up(started_at):
            return True
        if self.wake.detect(audio).fired:
            return True
        if final:
            self.ignored += 1
            self.wake_rejected += 1
        return False

    def transcript_peek(self, text: str) -> str | None:
        """What :meth:`transcript_filter` would pass, without its side effects (speculation)."""
        return self.gate.decide(text, started_at=self._gate_start(), commit=False).text

    def _gate_start(self) -> float | None:
        """When the utterance being gated began: the pipeline says (the last speech_start may
        already belong to a newer utterance, e.g. a TV that keeps talking)."""
        at = self.pipeline.gate_started_at if isinstance(self.pipeline, VoicePipeline) else None
        return at if at is not None else self._utterance_started_at

    def on_state(self, state: Any, *_: Any) -> None:
        if self.state not in ("starting", "stopping"):
            self.state = _norm_state(state)
            self.alarms.on_state(self.state)
        self.heartbeat.beat()

    def on_turn_done(self, *args: Any) -> None:
        """``(trace, outcome)`` of every turn that ran (ignored utterances never reach here)."""
        outcome = next((a for a in args if hasattr(a, "ignored")), None)
        if outcome is None:
            return
        error = getattr(outcome, "error", None) or getattr(getattr(outcome, "result", None), "error", None)
        trace = getattr(outcome, "trace", None)
        if getattr(trace, "meta", {}).get("say"):
            mode = "say"
        else:
            mode = "ptt" if getattr(outcome, "ptt", False) else (self._pending_mode or "hands_free")
            self._pending_mode = None
        if getattr(outcome, "ignored", False) and not error:
            return
        record = {
            "ts": round(time.time(), 3),
            "mode": mode,
            "interrupted": bool(getattr(outcome, "interrupted", False)),
            "route": getattr(getattr(outcome, "result", None), "route", None),
            "error": error,
            "trace": trace.to_dict() if hasattr(trace, "to_dict") else {},
        }
        self.turns += 1
        self.last_turns.append(record)
        if error:
            self.turns_failed += 1
            self.last_error = str(error)
            self.earcons.play("error")
            self.alarms.on_error(str(error))
        # the reply (an apology too) has been played: the follow-up window starts now
        reply = getattr(getattr(outcome, "result", None), "reply", None) or ""
        played = getattr(trace, "playback_start", None) is not None
        self.gate.after_turn(reply, played=played, interrupted=record["interrupted"])
        self.heartbeat.beat()

    def on_event(self, event: Any, *_: Any) -> None:
        kind = getattr(event, "kind", None)
        if kind == "speech_start":
            self._speech_since = time.monotonic()
            self._utterance_started_at = getattr(event, "t", None) or self._speech_since
        elif kind == "endpoint":
            self._speech_since = None
            self.utterances += 1
        self.heartbeat.beat()

    def _on_mic_status(self, connected: bool, message: str) -> None:
        self.heartbeat.beat()  # the reconnect loop is alive
        changed = connected != self.mic_ok
        self.mic_ok = connected
        self.mic_detail = message
        if connected:
            self._mic_open.set()
        if changed:
            self.notifier.status("dinliyor" if connected else f"mikrofon yok: {message}")
            self.alarms.on_mic(connected, message)

    def _pipeline_health(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {
            "microphone": {"ok": self.mic_ok, "detail": self.mic_detail},
            "audio_loop": {
                "ok": self.heartbeat.fresh,
                "detail": f"son ses çerçevesi {self.heartbeat.age_s():.1f} sn önce",
            },
        }
        missing = _missing_models(self.settings)
        if missing:  # never downloaded here (systemd's start timeout): the user runs models pull
            out["models"] = {"ok": False, "detail": f"indirilmemiş: {', '.join(missing)} (bantz-voice models pull)"}
        p = self.pipeline
        if p is None:
            out.setdefault("models", {"ok": False, "detail": f"yükleniyor: {self.loading}" if self.loading else "modeller yükleniyor"})
            return out
        out.update(p.responder.health())  # role:<role>: loaded and warmed, or why not
        for name, attr in (("asr", "transcriber"), ("tts", "tts")):
            obj = getattr(p, attr, None) or getattr(p, f"{attr}_engine", None)
            if obj is not None:
                detail = str(getattr(obj, "model_path", "") or getattr(obj, "voice_name", "") or "yüklü")
                out[name] = {"ok": True, "detail": f"yüklü: {Path(detail).name if os.sep in detail else detail}"}
        extra = getattr(p, "health", None)
        if callable(extra):
            try:
                out.update(extra())
            except Exception as exc:
                out["pipeline"] = {"ok": False, "detail": f"durum alınamadı: {type(exc).__name__}"}
        return out

    # --- state ----------------------------------------------------------------------------
    def degraded(self) -> dict[str, str]:
        """LLM roles whose model did not load at start-up: role -> reason."""
        return self.pipeline.responder.degraded() if self.pipeline is not None else {}

    def current_state(self) -> str:
        if self.state in ("starting", "stopping"):
            return self.state
        if self.muted:
            return "muted"
        p = self.pipeline
        s = _norm_state(getattr(p, "state", None) or self.state) if p is not None else self.state
        if s in ("idle", "listening"):
            # "listening" while capturing an utterance (speech detected or PTT held), else idle
            capturing = self._speech_since is not None and (
                time.monotonic() - self._speech_since < self.settings.vad.max_utterance_s + 1
            )
            return "listening" if (capturing or self.ptt_active) else "idle"
        return s

    def status(self) -> dict[str, Any]:
        return {
            "state": self.current_state(),
            "uptime_s": round(time.monotonic() - self.started_at, 1),
            "pid": os.getpid(),
            "ready": self.ready,
            "loading": self.loading,
            "degraded": self.degraded(),
            "muted": self.muted,
            "ptt_active": self.ptt_active,
            "hands_free": self.gate.hands_free,
            "push_to_talk": self.settings.daemon.push_to_talk,
            "follow_up_open": self.gate.follow_up_open,
            "follow_up_s": self.gate.follow_up_s,
            "follow_up_left_s": round(self.gate.follow_up_left_s(), 1),
            "responder": self.settings.brain.responder,
            "turns": self.turns,
            "turns_failed": self.turns_failed,
            "ignored_utterances": self.ignored,
            "wake": {"engine": self.wake.engine, "rejected_before_asr": self.wake_rejected},
            "utterances": self.utterances,
            "last_error": self.last_error,
            "microphone": {
                "ok": self.mic_ok,
                "detail": self.mic_detail,
                "reconnects": getattr(getattr(self.source, "inner", None), "reconnects", 0),
            },
            "last_turns": list(self.last_turns),
            "health": self.health.snapshot(),
            "rss_mb": _rss_mb(),
            "stalled_stages": {k: round(v, 1) for k, v in self.stalled_stages().items()},
            "asr_dropped": self.pipeline.asr_dropped if isinstance(self.pipeline, VoicePipeline) else 0,
            "ptt_capped": self.pipeline.ptt_capped if isinstance(self.pipeline, VoicePipeline) else 0,
            # barge-in on/off and why (the echo guard: audio/bargein.py), a Turkish detail line
            "barge_in": self.pipeline.barge_in.status() if isinstance(self.pipeline, VoicePipeline) else None,
            "socket": str(self.socket_path),
            "alarms": self.alarms.status(),
            "control": self.control.stats(),
        }

    # --- control requests -----------------------------------------------------------------
    async def handle(self, request: Any) -> dict[str, Any] | None:
        kind = request.type
        if kind == "status":
            return self.status()
        if kind == "shutdown":
            asyncio.get_running_loop().call_later(0.05, self.request_stop)
            return {"state": "stopping"}
        if kind == "reload":
            return await self.reload()
        if self.pipeline is None:
            raise BantzError("Bantz henüz hazır değil (modeller yükleniyor)")
        if kind == "ptt":
            return self.ptt(request.data.action)
        if kind == "mute":
            self.set_muted(True)
            return {"muted": True}
        if kind == "unmute":
            self.set_muted(False)
            return {"muted": False}
        if kind == "cancel":
            self.cancel()
            return {"cancelled": True}
        if kind == "say":
            return await self.say(request.data.text)
        raise ProtocolError("unknown_type", f"bilinmeyen istek türü: {kind}")

    @property
    def ptt_active(self) -> bool:
        return bool(getattr(self.pipeline, "ptt_active", False))

    def ptt(self, action: str) -> dict[str, Any]:
        if not self.settings.daemon.push_to_talk:
            self.earcons.play("error")
            raise BantzError("bas-konuş ayarlarda kapalı (daemon.push_to_talk)")
        if self.muted:
            self.earcons.play("error")
            raise BantzError("mikrofon kapalı; önce: bantz-voice unmute")
        start = (not self.ptt_active) if action == "toggle" else action == "start"
        if start and not self.ptt_active:
            self.earcons.play("ptt_start")
            _call(self.pipeline, "ptt_begin")
        elif not start and self.ptt_active:
            _call(self.pipeline, "ptt_end")
        return {"ptt_active": self.ptt_active}

    def set_muted(self, muted: bool) -> None:
        if muted == self.muted:
            return
        self.muted = muted
        if muted:
            _call(self.pipeline, "mute")  # drops frames (and a PTT in progress)
        else:
            _call(self.pipeline, "unmute")
        self.notifier.status("sessizde" if muted else "dinliyor")

    def cancel(self) -> None:
        self.alarms.cancel()
        if self._say_task is not None and not self._say_task.done():
            self._say_task.cancel()
        _call(self.pipeline, "cancel_speech")

    async def _speak(self, text: str) -> None:
        """Speak ``text`` on the pipeline's speaker: chunked, synthesis overlapped with playback."""
        from bantz_voice.tts.chunker import TextChunker

        p = self.pipeline
        chunker = TextChunker(self.settings.tts.first_chunk_words)
        pieces = [*chunker.push(text), *chunker.flush()]
        sink = p.sink_factory()
        began = False
        try:
            for piece in pieces:
                audio = await asyncio.to_thread(p.tts.synthesize, piece)
                if audio.size == 0:
                    continue
                if not began:
                    await sink.begin(p.tts.sample_rate)
                    began = True
                sink.write(audio)
            if began:
                await sink.drain()
        except asyncio.CancelledError:
            sink.stop()
            raise
        finally:
            if began:
                await asyncio.shield(sink.end())

    async def say(self, text: str) -> dict[str, Any]:
        speak = getattr(self.pipeline, "speak", None) or self._speak
        if self._say_task is not None and not self._say_task.done():
            self._say_task.cancel()

        async def _run() -> None:
            try:
                result = speak(text)
                if asyncio.iscoroutine(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = f"say: {type(exc).__name__}: {exc}"
                log.exception("say failed")

        self._say_task = asyncio.create_task(_run(), name="say")
        return {"speaking": True}

    async def reload(self) -> dict[str, Any]:
        """Re-read the config and apply every changed key that a running daemon can apply; the
        reply lists those (``applied``) and, apart, the keys that need a restart (kept as running).
        A brain/models/calendar change builds and warms a new brain, swapped in between turns."""
        from bantz_voice.daemon import reload as rl

        if self.pipeline is None:
            raise BantzError("Bantz henüz hazır değil (modeller yükleniyor); ayarlar sonra yeniden yüklenebilir")
        self.notifier.reloading()
        try:
            new = await asyncio.to_thread(load_settings)
        except ConfigError as exc:
            self.notifier.ready("dinliyor")
            self.last_error = str(exc)
            raise BantzError(f"ayarlar yeniden yüklenemedi, eskileri kullanılıyor: {exc}") from None
        if self.responder_kind:
            new.brain.responder = self.responder_kind  # type: ignore[assignment]
        changed = rl.changed_keys(self.settings, new)
        restart = [k for k in changed if rl.needs_restart(k)]
        applied = [k for k in changed if k not in restart]
        new = rl.effective(self.settings, new, restart)
        try:
            self._apply(new, rl.sections(applied))
            if rl.sections(applied) & rl.REBUILD_SECTIONS:
                await self._rebuild_responder(new)
        finally:
            self.notifier.ready("dinliyor")
        log.info("settings reloaded: %d key(s) applied; restart needed for: %s", len(applied), ", ".join(restart) or "nothing")
        return {"reloaded": True, "applied": applied, "restart_needed": restart}

    def _apply(self, new: Settings, sections: set[str]) -> None:
        d = new.daemon
        self.gate.matcher.__init__(d.wake_words)  # type: ignore[misc]
        self.gate.follow_up_s = d.follow_up_s
        self.gate.hands_free = d.hands_free
        self.earcons.enabled = d.earcons
        self.settings = new
        self.health.update_settings(new)
        self.pipeline.apply_settings(new)  # audio/vad/asr/tts options (restart-only keys are unchanged)
        if "logging" in sections:
            _configure_logging(new)
        if "wake" in sections:
            self.wake = _make_wake_detector(new)  # e.g. a threshold from `bantz-voice wake enroll`

    async def _rebuild_responder(self, new: Settings) -> None:
        from bantz_voice.app import start_responder

        responder = await start_responder(new, self.responder_kind or new.brain.responder, progress=self._loading)
        self.loading = None
        old = await self.pipeline.replace_responder(responder)
        await old.aclose()

    def request_stop(self) -> None:
        self._stop.set()

    # --- lifecycle ------------------------------------------------------------------------
    async def _watchdog(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            # before READY the start-up timeout guards us; afterwards only a live audio loop pings
            stalled = self.stalled_stages()
            if not self.ready or (self.heartbeat.fresh and not stalled):
                self.notifier.watchdog()
            elif stalled:  # a hung ASR/TTS thread cannot be killed: let systemd restart us
                log.error("stage stalled (%s); not pinging the watchdog",
                          ", ".join(f"{k} {v:.0f} s" for k, v in stalled.items()))
            else:
                log.error("audio loop stalled for %.0f s; not pinging the watchdog", self.heartbeat.age_s())

    def stalled_stages(self) -> dict[str, float]:
        """ASR/TTS calls running past their deadline (stage -> seconds so far)."""
        stages = getattr(self.pipeline, "stages", None)
        return stages.stalled() if stages is not None else {}

    async def _listen(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                await self.pipeline.listen(self.source, on_event=self.on_event)
                log.warning("listening loop ended; restarting it")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = f"dinleme döngüsü: {type(exc).__name__}: {exc}"
                log.exception("listening loop failed; restarting in %.0f s", backoff)
            self.heartbeat.beat()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        loop.add_signal_handler(signal.SIGINT, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self._reload_from_signal()))

    async def _reload_from_signal(self) -> None:
        try:
            result = await self.reload()
            log.warning("ayarlar yeniden yüklendi (SIGHUP)%s", "" if not result["restart_needed"] else
                        f"; yeniden başlatma gereken bölümler: {', '.join(result['restart_needed'])}")
        except BantzError as exc:
            log.error("%s", exc)

    def _loading(self, what: str) -> None:
        self.loading = what
        self.notifier.status(f"yükleniyor: {what}")
        log.info("loading: %s", what)

    async def _extend_start_timeout(self) -> None:
        """Until READY: keep systemd's start timeout ahead of the model loading (a slow disk)."""
        while not self.ready:
            self.notifier.extend_timeout(EXTEND_TIMEOUT_S)
            await asyncio.sleep(EXTEND_EVERY_S)

    async def _start_pipeline(self) -> Any:
        """The shared start-up (``app.start_pipeline``: every model loaded, every role warmed)."""
        from bantz_voice.app import start_pipeline

        loop = asyncio.get_running_loop()

        def progress(what: str) -> None:  # also called from the loading thread
            loop.call_soon_threadsafe(self._loading, what)

        pipeline = await start_pipeline(
            self.settings, _make_responder(self.settings, self.responder_kind), progress=progress
        )
        self.loading = None
        for role, why in pipeline.responder.degraded().items():
            log.error("%s role degraded: its model did not load (%s)", role, why)
        pipeline.transcript_filter = self.transcript_filter
        pipeline.audio_gate = self.audio_gate
        pipeline.transcript_peek = self.transcript_peek
        pipeline.on_state_change = self.on_state
        pipeline.on_turn_done = self.on_turn_done
        return pipeline

    def _make_source(self) -> HeartbeatSource:
        from bantz_voice.audio.source import MicSource

        mic = MicSource.from_settings(self.settings.audio, on_status=self._on_mic_status)
        return HeartbeatSource(mic, self.heartbeat)

    def _start_hotkey(self) -> None:
        key = self.settings.daemon.evdev_key
        if not key or not self.settings.daemon.push_to_talk:
            return
        from bantz_voice.daemon.hotkey import HoldToTalkKey

        try:
            self.hotkey = HoldToTalkKey(key, lambda: self._safe_ptt("start"), lambda: self._safe_ptt("stop"))
            self.hotkey.start()
        except BantzError as exc:
            self.hotkey = None
            log.warning("%s", exc)
            print(f"uyarı: {exc}", file=sys.stderr)

    def _safe_ptt(self, action: str) -> None:
        try:
            self.ptt(action)
        except BantzError as exc:
            log.warning("%s", exc)

    async def run(self) -> int:
        """Serve until SIGTERM/SIGINT/``shutdown``. Returns the exit status."""
        self.instance.acquire()  # a second daemon stops here with a clear message
        try:
            await self.control.start()
        except BaseException:
            self.instance.release()
            raise
        self.socket_path = self.control.path
        self._install_signals()
        interval = watchdog_interval_s() if self.settings.daemon.watchdog else None
        if interval:
            self._tasks.append(asyncio.create_task(self._watchdog(interval), name="watchdog"))
        self.notifier.status("modeller yükleniyor")
        extend = asyncio.create_task(self._extend_start_timeout(), name="extend-start-timeout")
        self._tasks.append(extend)
        try:
            load = asyncio.create_task(self._start_pipeline())
            stop = asyncio.create_task(self._stop.wait())
            await asyncio.wait({load, stop}, return_when=asyncio.FIRST_COMPLETED)
            if self._stop.is_set():
                load.cancel()
                return 0
            stop.cancel()
            self.pipeline = load.result()
            self.source = self._make_source()
            self._tasks.append(asyncio.create_task(self._listen(), name="listen"))
            self.health.start()
            self._tasks.append(asyncio.create_task(self.alarms.run(), name="alarms"))
            self._start_hotkey()
            self.notifier.status("mikrofon bekleniyor")
            mic = asyncio.create_task(self._mic_open.wait())
            stop = asyncio.create_task(self._stop.wait())
            await asyncio.wait({mic, stop}, timeout=self.settings.daemon.mic_wait_s, return_when=asyncio.FIRST_COMPLETED)
            mic.cancel()
            stop.cancel()
            if not self._stop.is_set():
                self.ready = True
                extend.cancel()
                self.state = "idle"
                self.heartbeat.beat()
                degraded = self.degraded()
                if degraded:
                    self.notifier.status(f"eksik dil modeli: {', '.join(degraded)}")
                if self._mic_open.is_set():
                    self.notifier.ready("dinliyor" + (f" (eksik: {', '.join(degraded)})" if degraded else ""))
                    log.warning("Bantz hazır: dinliyorum (denetim soketi %s)", self.socket_path)
                else:  # up without a microphone: ask and say work; it keeps looking
                    self.notifier.ready(f"mikrofon yok: {self.mic_detail or 'bulunamadı'}; aranıyor")
                    log.warning("Bantz hazır, ama mikrofon yok (%s); mikrofon aranıyor", self.mic_detail or "bulunamadı")
                await self._stop.wait()
            return 0
        finally:
            await self.shutdown()

    async def shutdown(self) -> None:
        self.state = "stopping"
        self.notifier.stopping()
        try:
            await asyncio.wait_for(self._shutdown_parts(), SHUTDOWN_BUDGET_S)
        except (TimeoutError, Exception) as exc:
            log.warning("shutdown incomplete: %s", type(exc).__name__)
        self.notifier.close()

    async def _shutdown_parts(self) -> None:
        t0 = time.monotonic()
        if self.pipeline is not None:
            _call(self.pipeline, "cancel_speech")
        if self._say_task is not None:
            self._say_task.cancel()
        await self.control.close()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        log.debug("shutdown: tasks stopped after %.2f s", time.monotonic() - t0)
        if self.hotkey is not None:
            await self.hotkey.stop()
        await self.health.stop()
        log.debug("shutdown: health stopped after %.2f s", time.monotonic() - t0)
        aclose = getattr(self.pipeline, "aclose", None) or getattr(self.pipeline, "close", None)
        if callable(aclose):
            res = aclose()
            if asyncio.iscoroutine(res):
                await res
        self.instance.release()  # (process exit releases it too, should shutdown run out of time)


def _call(obj: Any, name: str, *args: Any) -> Any:
    fn = getattr(obj, name, None)
    if not callable(fn):
        raise BantzError(f"ses hattı bu işlemi desteklemiyor: {name}")
    return fn(*args)


def _rss_mb() -> float | None:
    try:
        import psutil

        return round(psutil.Process().memory_info().rss / 2**20, 1)
    except Exception:
        return None


# --- no-microphone demo -------------------------------------------------------------------
def _demo_wav(explicit: Path | None) -> Path:
    if explicit:
        if not explicit.is_file():
            raise BantzError(f"WAV dosyası bulunamadı: {explicit}")
        return explicit
    assets = Path(__file__).resolve().parent.parent / "assets"
    wavs = sorted(assets.glob("*.wav"))
    if not wavs:
        raise BantzError(f"örnek Türkçe WAV bulunamadı ({assets})")
    preferred = [w for w in wavs if "demo" in w.name or "ornek" in w.name]
    return (preferred or wavs)[0]


def _field(result: Any, *names: str) -> Any:
    for n in names:
        if isinstance(result, dict) and n in result:
            return result[n]
        if hasattr(result, n):
            return getattr(result, n)
    return None


async def run_demo(settings: Settings, responder: str | None, wav: Path | None) -> int:
    from bantz_voice.app import start_pipeline

    src = _demo_wav(wav)
    out_dir = paths.ensure(paths.cache_dir())
    out = out_dir / "demo-yanit.wav"
    if responder:
        settings.brain.responder = responder  # type: ignore[assignment]
    pipeline = await start_pipeline(settings, _make_responder(settings, responder))
    result = await pipeline.run_turn_from_wav(src, out_wav=out, fast=False)
    transcript = _field(result, "transcript", "text") or ""
    reply = _field(result, "reply")
    if reply is None:
        res = _field(result, "result")
        reply = _field(res, "reply") if res is not None else ""
    print(f"Örnek kayıt: {src}")
    print(f"Duyulan: {transcript}")
    print(f"Yanıt: {reply}")
    if out.is_file():
        print(f"Sesli yanıt: {out}")
    aclose = getattr(pipeline, "aclose", None)
    if callable(aclose):
        res2 = aclose()
        if asyncio.iscoroutine(res2):
            await res2
    return 0


def microphone_problem(settings: Settings) -> str | None:
    """Why there is no usable microphone (Turkish), or None when there is one."""
    from bantz_voice.audio.source import find_device

    try:
        find_device(settings.audio.input_device, "input")
        return None
    except AudioInputError as exc:
        return str(exc)


def _missing_models(settings: Settings) -> list[str]:
    """Configured models not on disk (a fallback may stand in): reported by status, not fetched."""
    from bantz_voice.models.manager import is_present, used_by

    try:
        return [n for n in used_by(settings) if not is_present(n)]
    except BantzError:
        return []


def _configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    if not root.handlers:  # the CLI's main() has set it up (journald-aware: bantz_voice.logsetup)
        from bantz_voice import logsetup

        logsetup.configure(root.level)
    logging.getLogger("bantz_voice").setLevel(settings.logging.level)


def run_foreground(responder: str | None = None, demo_wav: Path | None = None) -> int:
    """``bantz-voice run``. Without a microphone (and not under systemd) runs the demo turn."""
    settings = load_settings()
    under_systemd = bool(os.environ.get("NOTIFY_SOCKET"))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        problem = None if under_systemd else microphone_problem(settings)
        if problem is not None:
            print(f"Mikrofon yok ({problem}); örnek Türkçe kayıtla bir deneme turu yapılıyor.")
            return loop.run_until_complete(run_demo(settings, responder, demo_wav))
        _configure_logging(settings)
        daemon = Daemon(settings, responder)
        code = loop.run_until_complete(daemon.run())
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    # Do not wait for worker threads (a Whisper decode may still be running): everything of ours
    # is closed, so leave now to keep SIGTERM -> exit well under 2 s.
    logging.shutdown()
    os._exit(code)
