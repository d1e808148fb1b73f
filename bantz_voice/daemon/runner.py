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

import numpy as np

# imported here, not in the functions that use them: a `status` call must never wait on the import
# lock of a module the loading thread is importing (a start-up deadlock seen under load)
from bantz_voice import logsetup, paths
from bantz_voice.audio.source import AudioSource, MicSource
from bantz_voice.audio.vad import Frame, Utterance
from bantz_voice.config import Settings, load_settings
from bantz_voice.daemon import reload as rl
from bantz_voice.daemon.alarm_hook import AlarmHook
from bantz_voice.daemon.control import ControlServer, InstanceLock
from bantz_voice.daemon.earcons import EarconPlayer
from bantz_voice.daemon.notify import Heartbeat, Notifier, watchdog_interval_s
from bantz_voice.daemon.protocol import ProtocolError
from bantz_voice.daemon.wakeword import WakeGate
from bantz_voice.daemon.wire import socket_path_from
from bantz_voice.errors import AudioInputError, BantzError, ConfigError
from bantz_voice.health import HealthMonitor
from bantz_voice.models.manager import is_present, used_by
from bantz_voice.pipeline import VoicePipeline
from bantz_voice.responder import Responder
from bantz_voice.voice.bridge import call_soon
from bantz_voice.voice.events import AgentStateChanged, TurnFinished, UserStateChanged, VoiceObserver
from bantz_voice.voice.gate import Gate, GateDecision
from bantz_voice.voice.turn import Turn
from bantz_voice.wake import WakeDetector, build_wake_detector

log = logging.getLogger("bantz_voice.daemon")

STATES = ("starting", "idle", "listening", "thinking", "speaking", "muted", "stopping")
LAST_TURNS = 10
EXTEND_TIMEOUT_S = 30.0  # while loading, systemd's start timeout is kept at least this far ahead ...
EXTEND_EVERY_S = 10.0  # ... renewed this often
HEARTBEAT_STALE_S = 20.0  # < WatchdogSec (30 s): a stuck loop is restarted within ~50 s
SHUTDOWN_BUDGET_S = 1.5


class HeartbeatSource:
    """Wraps the microphone: beats the heartbeat on every frame the listening loop pulls."""

    def __init__(self, inner: MicSource, heartbeat: Heartbeat) -> None:
        self.inner = inner
        self.heartbeat = heartbeat
        self.frames_seen = 0
        self.rate = inner.rate
        self.frame_ms = inner.frame_ms

    async def frames(self) -> AsyncIterator[Frame]:
        async for frame in self.inner.frames():
            self.heartbeat.beat()
            self.frames_seen += 1
            yield frame


def _make_responder(settings: Settings, kind: str | None) -> Responder | None:
    kind = kind or settings.brain.responder
    if kind == "echo":
        from bantz_voice.responder import EchoResponder

        return EchoResponder()
    return None  # start_pipeline picks the brain from the settings


def _make_wake_detector(settings: Settings) -> WakeDetector:
    try:
        return build_wake_detector(settings.wake)
    except Exception as exc:  # a missing/broken model must not stop the daemon: Whisper decides
        log.error("wake-word model unavailable (%s); every utterance goes to Whisper", exc)
        return WakeDetector()


class DaemonGate(Gate):
    """The daemon's hands-free gate (the pipeline skips it for push-to-talk): a ringing alarm's
    "tamam" first, then the wake-word model before Whisper (:meth:`hears`) and the wake word or
    the follow-up window on the transcript (:class:`WakeGate`). Every check is against the
    utterance's own speech start. Ignored text is not kept."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def hears(self, utterance: Utterance, *, final: bool) -> bool:
        """Inside the follow-up window everything passes; otherwise only an utterance in which the
        model hears "Bantz". ``final``: the end-pointed utterance (counted when rejected)."""
        d = self.daemon
        if not d.gate.hands_free or d.gate.in_follow_up(utterance.speech_start):
            return True
        if d.wake.fires(utterance.audio):
            return True
        if final:
            d.ignored += 1
            d.wake_rejected += 1
        return False

    def gate(self, utterance: Utterance, transcript: str) -> GateDecision:
        d = self.daemon
        if d.alarms.intercept(transcript):  # "tamam"/"sustur" to a ringing alarm
            return GateDecision(None, "intercepted")
        decision = d.gate.gate(utterance, transcript)
        if decision.text is None:
            if decision.mode == "bare_wake_word":
                d.earcons.play("wake")
            else:
                d.ignored += 1
        elif decision.mode == "wake_word":
            d.earcons.play("wake")
        return decision

    def peek(self, utterance: Utterance, transcript: str) -> GateDecision | None:
        return self.daemon.gate.gate(utterance, transcript, commit=False)


def turn_mode(turn: Turn) -> str:
    """``status``' mode of a turn: say, ptt, wake_word, follow_up or hands_free."""
    if turn.kind == "voice":
        return turn.mode if turn.mode in ("wake_word", "follow_up") else "hands_free"
    return turn.kind


class Daemon(VoiceObserver):
    def __init__(self, settings: Settings, responder: str | None = None, notifier: Notifier | None = None) -> None:
        self.settings = settings
        self.responder_kind = responder
        if responder:
            self.settings.brain.responder = responder  # type: ignore[assignment]
        d = settings.daemon
        self.notifier = notifier or Notifier()
        self.gate = WakeGate(d.wake_words, d.follow_up_s, hands_free=d.hands_free)
        self.voice_gate = DaemonGate(self)
        self.wake = _make_wake_detector(settings)  # first stage (audio); the gate is the second
        self.wake_rejected = 0  # utterances the wake-word stage kept from Whisper
        self.earcons = EarconPlayer(d.earcons, settings.audio.output_device, cue=self._cue)
        self.heartbeat = Heartbeat(HEARTBEAT_STALE_S)
        self.socket_path = socket_path_from(d.socket_path)
        self.control = ControlServer(self.socket_path, self.handle)
        self.instance = InstanceLock()  # one daemon per user (runtime dir)
        self.health = HealthMonitor(settings, extra=self._pipeline_health)
        self.pipeline: VoicePipeline | None = None
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
        self._say_task: asyncio.Task[Any] | None = None
        self.hotkey: Any = None
        self.alarms = AlarmHook(self)  # issue 18: timers/reminders firing, notifications, media pause

    def attach(self, pipeline: VoicePipeline) -> VoicePipeline:
        """Make ``pipeline`` the daemon's: its gate and its observer are the daemon's."""
        pipeline.gate = self.voice_gate
        pipeline.observer = self
        self.pipeline = pipeline
        return pipeline

    def _cue(self, samples: np.ndarray, rate: int) -> bool:
        """The earcons' way onto the speaker: the listening loop's open reply stream."""
        return self.pipeline is not None and self.pipeline.cue(samples, rate)

    def _voice(self) -> VoicePipeline:
        if self.pipeline is None:
            raise BantzError("Bantz henüz hazır değil (modeller yükleniyor)")
        return self.pipeline

    # --- the voice loop's events ----------------------------------------------------------
    def on_agent_state(self, event: AgentStateChanged) -> None:
        if self.state not in ("starting", "stopping"):
            self.state = event.new
            self.alarms.on_state(self.state)
        self.heartbeat.beat()

    def on_user_state(self, event: UserStateChanged) -> None:
        u = event.utterance
        if event.new == "listening" and u is not None and not u.ptt:
            self.utterances += 1  # an endpoint
        self.heartbeat.beat()

    def on_turn_finished(self, event: TurnFinished) -> None:
        """Every turn that ran (ignored utterances are counted by the gate, not here)."""
        turn = event.turn
        if turn.ignored:
            return
        error = turn.failed
        record = {
            "ts": round(time.time(), 3),
            "mode": turn_mode(turn),
            "interrupted": turn.interrupted,
            "route": turn.result.route,
            "error": error,
            "trace": turn.trace.to_dict(),
        }
        self.turns += 1
        self.last_turns.append(record)
        if error:
            self.turns_failed += 1
            self.last_error = str(error)
            self.earcons.play("error")
            self.alarms.on_error(str(error))
        # the reply (an apology too) has been played: the follow-up window starts now
        played = turn.trace.playback_start is not None
        self.gate.after_turn(turn.result.reply, played=played, interrupted=turn.interrupted)
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
        try:
            out.update(p.health())  # asr, tts, stalled stages
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
        if p is None:
            return self.state
        s: str = p.state
        if s in ("idle", "listening"):
            # "listening" while capturing an utterance (the user speaks or holds PTT), else idle
            return "listening" if (p.user_state != "listening" or p.ptt_active) else "idle"
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
            "wake": {"engine": self.wake.engine, "models": [m.model_path.name for m in self.wake.models],
                     "rejected_before_asr": self.wake_rejected},
            "utterances": self.utterances,
            "last_error": self.last_error,
            "microphone": {
                "ok": self.mic_ok,
                "detail": self.mic_detail,
                "reconnects": self.source.inner.reconnects if self.source is not None else 0,
            },
            "last_turns": list(self.last_turns),
            "health": self.health.snapshot(),
            "rss_mb": _rss_mb(),
            "stalled_stages": {k: round(v, 1) for k, v in self.stalled_stages().items()},
            "asr_dropped": self.pipeline.asr_dropped if self.pipeline is not None else 0,
            "ptt_capped": self.pipeline.ptt_capped if self.pipeline is not None else 0,
            # barge-in on/off and why (the echo guard: audio/bargein.py), a Turkish detail line
            "barge_in": self.pipeline.barge_in.status() if self.pipeline is not None else None,
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
        return self.pipeline is not None and self.pipeline.ptt_active

    def ptt(self, action: str) -> dict[str, Any]:
        if not self.settings.daemon.push_to_talk:
            self.earcons.play("error")
            raise BantzError("bas-konuş ayarlarda kapalı (daemon.push_to_talk)")
        if self.muted:
            self.earcons.play("error")
            raise BantzError("mikrofon kapalı; önce: bantz-voice unmute")
        start = (not self.ptt_active) if action == "toggle" else action == "start"
        if start and not self.ptt_active:
            self._voice().ptt_begin()  # stops a reply first: the earcon is not cut with it
            self.earcons.play("ptt_start")
        elif not start and self.ptt_active:
            self._voice().ptt_end()
        return {"ptt_active": self.ptt_active}

    def set_muted(self, muted: bool) -> None:
        if muted == self.muted:
            return
        self.muted = muted
        if muted:
            self._voice().mute()  # drops frames (and a PTT in progress)
        else:
            self._voice().unmute()
        self.notifier.status("sessizde" if muted else "dinliyor")

    def cancel(self) -> None:
        self.alarms.cancel()
        if self._say_task is not None and not self._say_task.done():
            self._say_task.cancel()
        self._voice().cancel_speech()

    async def say(self, text: str) -> dict[str, Any]:
        pipeline = self._voice()
        if self._say_task is not None and not self._say_task.done():
            self._say_task.cancel()

        async def _run() -> None:
            try:
                await pipeline.speak(text)
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
            responder_keys = [k for k in applied if rl.sections([k]) & rl.REBUILD_SECTIONS]
            if responder_keys and self._voice().responder.reconfigure(new, responder_keys).refused:
                await self._rebuild_responder(new)  # what the responder cannot apply live: a new one
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
        self._voice().apply_settings(new)  # audio/vad/asr/tts options (restart-only keys are unchanged)
        if "logging" in sections:
            _configure_logging(new)
        if "wake" in sections:
            self.wake = _make_wake_detector(new)  # e.g. a threshold from `bantz-voice wake enroll`

    async def _rebuild_responder(self, new: Settings) -> None:
        from bantz_voice.app import start_responder

        responder = await start_responder(
            new, self.responder_kind or new.brain.responder, progress=self._loading, previous=self._voice().responder
        )
        self.loading = None
        old = await self._voice().replace_responder(responder)
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
        return self.pipeline.stages.stalled() if self.pipeline is not None else {}

    async def _listen(self, source: AudioSource) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                await self._voice().listen(source)
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
            log.warning("settings reloaded (SIGHUP)%s", "" if not result["restart_needed"] else
                        f"; restart needed for: {', '.join(result['restart_needed'])}")
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

    async def _start_pipeline(self) -> VoicePipeline:
        """The shared start-up (``app.start_pipeline``: every model loaded, every role warmed)."""
        from bantz_voice.app import start_pipeline

        loop = asyncio.get_running_loop()

        def progress(what: str) -> None:  # also called from the loading thread
            call_soon(loop, self._loading, what)

        pipeline = await start_pipeline(
            self.settings, _make_responder(self.settings, self.responder_kind), progress=progress
        )
        self.loading = None
        try:  # the wake-word model's first inference, before READY (it allocates its arena then)
            await asyncio.to_thread(self.wake.warmup)
        except Exception as exc:  # a broken model is found by the first utterance, as before
            log.warning("wake-word model warm-up failed: %s", exc)
        for role, why in pipeline.responder.degraded().items():
            log.error("%s role degraded: its model did not load (%s)", role, why)
        return self.attach(pipeline)

    def _make_source(self) -> HeartbeatSource:
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
            self.pipeline = load.result()  # attached to the daemon by _start_pipeline
            self.source = self._make_source()
            self._tasks.append(asyncio.create_task(self._listen(self.source), name="listen"))
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
                    log.warning("Bantz ready: listening (control socket %s)", self.socket_path)
                else:  # up without a microphone: ask and say work; it keeps looking
                    self.notifier.ready(f"mikrofon yok: {self.mic_detail or 'bulunamadı'}; aranıyor")
                    log.warning("Bantz ready, but no microphone (%s); still looking for one", self.mic_detail or "not found")
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
            self.pipeline.cancel_speech()
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
        if self.pipeline is not None:
            await self.pipeline.aclose()
        self.instance.release()  # (process exit releases it too, should shutdown run out of time)


def _rss_mb() -> float | None:
    try:
        import psutil

        return round(float(psutil.Process().memory_info().rss) / 2**20, 1)
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


async def run_demo(settings: Settings, responder: str | None, wav: Path | None) -> int:
    from bantz_voice.app import start_pipeline

    src = _demo_wav(wav)
    out_dir = paths.ensure(paths.cache_dir())
    out = out_dir / "demo-yanit.wav"
    if responder:
        settings.brain.responder = responder  # type: ignore[assignment]
    pipeline = await start_pipeline(settings, _make_responder(settings, responder))
    try:
        turn = await pipeline.run_turn_from_wav(src, out_wav=out, fast=False)
    finally:
        await pipeline.aclose()
    print(f"Örnek kayıt: {src}")
    print(f"Duyulan: {turn.transcript}")
    print(f"Yanıt: {turn.result.reply}")
    if out.is_file():
        print(f"Sesli yanıt: {out}")
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
    try:
        return [n for n in used_by(settings) if not is_present(n)]
    except BantzError:
        return []


def _configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    if not root.handlers:  # the CLI's main() has set it up (journald-aware: bantz_voice.logsetup)
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
