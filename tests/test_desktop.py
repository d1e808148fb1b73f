"""Desktop integration over a private session D-Bus (a real dbus-daemon) with a test notification
server and test MPRIS players implemented on jeepney; and the daemon's alarm hook end to end."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from fixtures.dbus_session import MprisPlayer, NotificationServer

from bantz_voice.config import Settings
from bantz_voice.daemon.desktop import Desktop
from bantz_voice.schemas import Intent, NluDecision, Slots
from bantz_voice.timers.tools import AlarmTools
from bantz_voice.voice.events import AgentStateChanged


def test_notification_reaches_the_notification_server(notification_server: NotificationServer, session_bus: str) -> None:
    desktop = Desktop()
    try:
        nid = desktop.notes.notify("Hatırlatma", "ilacım")
        assert isinstance(nid, int) and nid > 0
        assert notification_server.notes.get(timeout=5) == ("Bantz", "Hatırlatma", "ilacım")
    finally:
        desktop.close()


def test_only_players_that_were_playing_are_paused_and_resumed(session_bus: str) -> None:
    music = MprisPlayer(session_bus, "music", "Playing")
    podcast = MprisPlayer(session_bus, "podcast", "Paused")  # the user paused it: not ours to start
    video = MprisPlayer(session_bus, "video", "Playing")
    for p in (music, podcast, video):
        p.start()
    desktop = Desktop()
    try:
        paused = desktop.media.pause()
        assert sorted(paused) == ["org.mpris.MediaPlayer2.music", "org.mpris.MediaPlayer2.video"]
        assert (music.status, podcast.status, video.status) == ("Paused", "Paused", "Paused")
        assert desktop.media.pause() == []  # a second pause (listening -> speaking) changes nothing
        video.status = "Stopped"  # the user stopped the video meanwhile: it stays stopped
        resumed = desktop.media.resume()
        assert resumed == ["org.mpris.MediaPlayer2.music"]
        assert (music.status, podcast.status, video.status) == ("Playing", "Paused", "Stopped")
        assert desktop.media.resume() == []
    finally:
        desktop.close()
        for p in (music, podcast, video):
            p.stop()


def test_without_a_session_bus_everything_is_a_quiet_no_op(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    desktop = Desktop()
    assert desktop.notes.notify("x", "y") is None
    assert desktop.media.pause() == [] and desktop.media.resume() == []
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'nobody'}")  # a bus that is not there
    desktop = Desktop()
    assert desktop.notes.notify("x", "y") is None and desktop.bus.warned


class SpeakerStandIn:
    """Stands in for the voice pipeline's speaker (the spoken alarm itself is tested with the real
    sound server elsewhere): records what it was asked to say."""

    state = "idle"
    user_state = "listening"
    ptt_active = False

    def __init__(self) -> None:
        self.said: asyncio.Queue[str] = asyncio.Queue()

    async def speak(self, text: str) -> None:
        self.said.put_nowait(text)


async def test_daemon_fires_a_timer_with_a_notification_pauses_media_and_tamam_stops_it(
    session_bus: str, notification_server: NotificationServer, tmp_path: Path
) -> None:
    from bantz_voice.daemon.runner import Daemon

    settings = Settings()
    settings.daemon.earcons = False
    settings.reminders.timers_path = tmp_path / "timers.json"
    settings.reminders.state_path = tmp_path / "alarms.json"
    settings.calendar.ics_path = tmp_path / "cal.ics"
    settings.reminders.ring_repeats = 5
    settings.reminders.ring_interval_s = 2
    player = MprisPlayer(session_bus, "music", "Playing")
    player.start()
    daemon = Daemon(settings, notifier=None)
    daemon.pipeline = SpeakerStandIn()
    daemon.state = "idle"
    task = asyncio.create_task(daemon.alarms.run())
    try:
        tools = AlarmTools(settings)
        d = NluDecision(route="timer", intent=Intent.timer_set, slots=Slots(duration="PT1S", name="çay"), confidence=0.9)
        tools.run(d, datetime.now().astimezone())
        said = await asyncio.wait_for(daemon.pipeline.said.get(), 20)
        assert said == "Efendim, çay zamanlayıcısı doldu."
        app, summary, body = await asyncio.to_thread(notification_server.notes.get, True, 10)
        assert (app, summary, body) == ("Bantz", "Zamanlayıcı", "çay zamanlayıcısı doldu.")
        assert daemon.alarms.scheduler is not None and daemon.alarms.scheduler.ringing is not None
        from bantz_voice.audio.vad import Utterance

        now = time.monotonic()
        heard = Utterance(np.zeros(1600, np.int16), start_t=now - 0.5, speech_start=now - 0.4, speech_end=now)
        assert daemon.voice_gate.gate(heard, "tamam").text is None  # said to the ringing alarm: no turn
        for _ in range(500):
            if daemon.alarms.scheduler.ringing is None:
                break
            await asyncio.sleep(0.01)
        assert daemon.alarms.scheduler.ringing is None
        assert daemon.pipeline.said.empty()  # it did not ring again
        for _ in range(500):
            if player.status == "Playing":
                break
            await asyncio.sleep(0.01)
        assert player.status == "Playing"
        commands = [m for m, _ in list(player.calls.queue) if m != "Get"]
        assert commands == ["Pause", "Play"]  # paused for the announcement, resumed after it
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        player.stop()


async def test_daemon_pauses_media_for_a_request_and_notifies_a_lost_microphone(
    session_bus: str, notification_server: NotificationServer, tmp_path: Path
) -> None:
    from bantz_voice.daemon.runner import Daemon

    settings = Settings()
    settings.daemon.earcons = False
    settings.reminders.enabled = False
    player = MprisPlayer(session_bus, "music", "Playing")
    player.start()
    daemon = Daemon(settings, notifier=None)
    daemon.state = "idle"
    try:
        daemon.on_agent_state(AgentStateChanged("listening", "thinking"))  # a request is being answered
        await asyncio.to_thread(player.changed.wait, 10)
        assert player.status == "Paused"
        player.changed.clear()
        daemon.on_agent_state(AgentStateChanged("thinking", "speaking"))
        daemon.on_agent_state(AgentStateChanged("speaking", "idle"))  # the reply ended
        await asyncio.to_thread(player.changed.wait, 10)
        assert player.status == "Playing"
        daemon._on_mic_status(True, "pulse")
        daemon._on_mic_status(False, "cihaz çıkarıldı")
        app, summary, body = await asyncio.to_thread(notification_server.notes.get, True, 10)
        assert (app, summary) == ("Bantz", "Mikrofon bulunamadı") and "cihaz çıkarıldı" in body
    finally:
        player.stop()
        daemon.alarms.desktop.close()


async def test_a_missing_model_is_shown_once(session_bus: str, notification_server: NotificationServer, tmp_path: Path) -> None:
    from bantz_voice.config import EndpointSettings, ModelSettings
    from bantz_voice.daemon.runner import Daemon

    settings = Settings()
    settings.reminders.enabled = False
    ep = EndpointSettings(kind="llamacpp", gguf=str(tmp_path / "yok.gguf"))
    settings.models = ModelSettings(endpoints={"small": ep, "chat": ep})
    settings.calendar.ics_path = tmp_path / "cal.ics"
    daemon = Daemon(settings, notifier=None)
    await daemon.health.refresh()  # the daemon's own health checks: the model file is not there
    daemon.alarms.health_every_s = 0.05
    task = asyncio.create_task(daemon.alarms.run())
    try:
        notes = [await asyncio.to_thread(notification_server.notes.get, True, 10) for _ in range(2)]
        assert [n[2].split(":")[0:2] for n in notes] == [["llm", "chat"], ["llm", "small"]]  # both roles' endpoints
        assert all(n[1] == "Bantz: bir bileşen çalışmıyor" and "model bulunamadı" in n[2] and "yok.gguf" in n[2] for n in notes)
        await asyncio.sleep(0.3)  # several more checks: still bad, not shown again
        assert notification_server.notes.empty()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
