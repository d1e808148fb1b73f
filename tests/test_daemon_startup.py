"""Warm start and a truthful reload.

- ``bantz-voice run`` (a subprocess, as systemd starts it) says ``starting`` and what it loads
  until every configured model is loaded and warmed, keeps systemd's start timeout extended while
  loading, then READY; a broken LLM model does not hold READY back: ``status`` and ``doctor`` name
  the role and its turn apologises in Turkish while the fast path answers.
- ``reload`` applies every changed key it lists as applied (a new brain swapped in between turns
  for brain/models/calendar; logging re-applied) and lists apart exactly the keys that need a restart.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fixtures.daemon import start_daemon

from bantz_voice.responder import Responder, TurnRequest
from bantz_voice.tts.base import TextToSpeech

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Europe/Istanbul"))


@pytest.mark.slow
@pytest.mark.timeout(900)  # a loaded 2-core machine took 150 s to load and warm SmolLM2's three prefixes
def test_run_says_starting_while_it_loads_and_is_ready_warm(tmp_path: Path) -> None:
    run = start_daemon(tmp_path, "brain", mic_wait_s=0.5)
    try:
        seen = run.statuses_until_ready(timeout=480)
        starting = [s for s in seen if not s["ready"]]
        assert starting, "status answered only after READY"  # the socket is up before the models load
        assert all(s["state"] == "starting" for s in starting)
        assert any(s["loading"] for s in starting), starting
        ready = seen[-1]
        assert ready["state"] != "starting" and ready["loading"] is None and ready["degraded"] == {}
        comps = ready["health"]["components"]
        assert comps["asr"]["ok"] and comps["tts"]["ok"]
        for role in ("router", "orchestrator", "chat"):  # every role's model loaded and its prefix warmed
            assert comps[f"role:{role}"]["ok"] and "ısıtıldı" in comps[f"role:{role}"]["detail"], comps
        msgs = run.notify.drain()
        kinds = [m.split("=", 1)[0] for m in msgs]
        first_ready = kinds.index("READY")
        assert "EXTEND_TIMEOUT_USEC" in kinds[:first_ready]  # systemd's start timeout kept ahead of loading
        assert any(m.startswith("STATUS=yükleniyor: ") for m in msgs[:first_ready]), msgs
        assert run.stop() == 0
    finally:
        run.close()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_broken_llm_model_degrades_its_role_but_not_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bantz_voice.config import load_settings
    from bantz_voice.health import check_daemon, check_endpoints

    broken = str(tmp_path / "missing-chat-model.gguf")
    run = start_daemon(tmp_path, "brain", mic_wait_s=0.5, BANTZ_MODELS__ENDPOINTS__CHAT__GGUF=broken)
    try:
        ready = run.statuses_until_ready(timeout=480)[-1]
        assert set(ready["degraded"]) == {"chat"}, ready["degraded"]
        comps = ready["health"]["components"]
        assert not comps["role:chat"]["ok"] and comps["role:router"]["ok"]
        assert any(m.startswith("READY=1") for m in run.notify.drain())
        # doctor names the role: from the running daemon and from the configuration
        for k in ("BANTZ_RUNTIME_DIR", "BANTZ_CONFIG_DIR", "BANTZ_MODELS__ENDPOINTS__CHAT__GGUF"):
            monkeypatch.setenv(k, run.env[k])
        settings = load_settings()
        d = check_daemon(settings)
        assert d.status == "hata" and "sohbet" in d.message, d
        e = check_endpoints(settings)
        assert e.status == "hata" and "sohbet" in e.message, e
        assert run.stop() == 0
    finally:
        run.close()


async def test_degraded_chat_apologises_and_the_fast_path_answers(smollm2_gguf: Path, tmp_path: Path) -> None:
    from fixtures.llama_server import brain_settings, embedded_models

    from bantz_voice.app import start_responder
    from bantz_voice.config import EndpointSettings

    s = brain_settings(embedded_models(smollm2_gguf), rules_only=True)  # only the chat model is loaded
    s.models.endpoints["chat"] = EndpointSettings(kind="llamacpp", gguf=str(tmp_path / "yok.gguf"))
    s.calendar.ics_path = tmp_path / "cal.ics"
    brain = await start_responder(s, "brain")
    try:
        assert set(brain.degraded()) == {"chat"} and not brain.health()["role:chat"]["ok"]
        req = TurnRequest(text="beni dinliyor musun", now=NOW)  # chat without the router
        reply = "".join([p async for p in brain.respond(req)])
        assert "sohbet için dil modeli açılışta yüklenemedi" in reply and req.result.error == "llm_unavailable"
        req = TurnRequest(text="saat kaç", now=NOW)  # the fast path needs no model
        reply = "".join([p async for p in brain.respond(req)])
        assert req.result.intent == "system.time" and "on" in reply and not req.result.error
    finally:
        await brain.aclose()


# --- reload --------------------------------------------------------------------------------
class _Silent(TextToSpeech):
    """Stands in for Whisper/Piper in the reload tests (the daemon only reads their settings)."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    def render(self, spoken: str) -> np.ndarray:
        return np.zeros(0, dtype=np.int16)


@pytest.fixture
async def daemon(isolated_dirs: Path, smollm2_gguf: Path):
    from bantz_voice.app import start_pipeline
    from bantz_voice.config import load_settings
    from bantz_voice.daemon.notify import Notifier
    from bantz_voice.daemon.runner import Daemon

    cfg = isolated_dirs / "config"
    models = (
        "endpoints:\n"
        f"  small: {{kind: llamacpp, gguf: '{smollm2_gguf}', n_ctx: 2048, n_threads: 1}}\n"
        f"  chat: {{kind: llamacpp, gguf: '{smollm2_gguf}', n_ctx: 2048, n_threads: 1}}\n"
    )
    (cfg / "model-settings.yaml").write_text(models, encoding="utf-8")
    (cfg / "bantz.yaml").write_text("brain:\n  rules_only: true\n", encoding="utf-8")
    settings = load_settings()
    d = Daemon(settings, notifier=Notifier(""))
    d.pipeline = await start_pipeline(settings, transcriber=_Silent(settings.asr), tts=_Silent(settings.tts))
    d.cfg = cfg  # type: ignore[attr-defined]
    yield d
    await d.pipeline.aclose()


def _write(d: Any, text: str) -> None:
    (d.cfg / "bantz.yaml").write_text("brain:\n  rules_only: true\n" + text, encoding="utf-8")


async def _ask(responder: Responder, text: str) -> TurnRequest:
    req = TurnRequest(text=text, now=NOW)
    [p async for p in responder.respond(req)]
    return req


async def test_reload_brain_section_takes_effect(daemon: Any) -> None:
    old = daemon.pipeline.responder
    req = await _ask(old, "yarın saat üçte doktor randevusu ekle")
    assert req.result.tool_calls and not req.result.requires_confirmation  # created at once
    _write(daemon, "brain:\n  rules_only: true\n  confirm_create: true\n")
    out = await daemon.reload()
    assert out["applied"] == ["brain.confirm_create"] and out["restart_needed"] == []
    new = daemon.pipeline.responder
    assert new is not old and new.settings.brain.confirm_create
    assert new.history == old.history  # the conversation goes on
    # the new brain uses the models the old one loaded (never two copies: an 8 GB GPU has room for
    # one), and the old brain's close (done by the reload) did not free them
    assert new.llm.engines is old.llm.engines
    assert new.llm.engines.loaded() and all(e.llm is not None for e in new.llm.engines.loaded())
    req = await _ask(new, "yarın saat beşte dişçi randevusu ekle")
    assert req.result.requires_confirmation and "?" in req.result.reply  # asked first now
    assert daemon.settings.brain.confirm_create


async def test_reload_models_and_calendar_sections_take_effect(daemon: Any, tmp_path: Path) -> None:
    (daemon.cfg / "model-settings.yaml").write_text(
        (daemon.cfg / "model-settings.yaml").read_text() + "chat:\n  endpoint: chat\n  max_tokens: 77\n", encoding="utf-8"
    )
    out = await daemon.reload()
    assert out["applied"] == ["models.chat.max_tokens"] and out["restart_needed"] == []
    assert daemon.pipeline.responder.llm.params("chat").max_tokens == 77
    ics = tmp_path / "other.ics"
    _write(daemon, f"calendar:\n  ics_path: '{ics}'\n")
    out = await daemon.reload()
    assert out["applied"] == ["calendar.ics_path"] and out["restart_needed"] == []
    req = await _ask(daemon.pipeline.responder, "yarın saat üçte doktor randevusu ekle")
    assert req.result.tool_calls and ics.is_file() and "doktor" in ics.read_text(encoding="utf-8").lower()


async def test_reload_logging_daemon_and_voice_sections(daemon: Any) -> None:
    brain = daemon.pipeline.responder
    level_before = logging.getLogger("bantz_voice").level
    _write(daemon, "logging:\n  level: DEBUG\n  traces: false\ndaemon:\n  follow_up_s: 3.5\n"
                   "vad:\n  hangover_ms: 650\ntts:\n  first_chunk_words: 5\n")
    out = await daemon.reload()
    assert sorted(out["applied"]) == ["daemon.follow_up_s", "logging.level", "logging.traces", "tts.first_chunk_words",
                                      "vad.hangover_ms"]
    assert out["restart_needed"] == []
    try:
        assert logging.getLogger("bantz_voice").level == logging.DEBUG and daemon.pipeline.trace_log is None
    finally:
        logging.getLogger("bantz_voice").setLevel(level_before)  # later tests see the logger as it was
    assert daemon.gate.follow_up_s == 3.5
    assert daemon.pipeline.settings.vad.hangover_ms == 650 and daemon.pipeline.settings.tts.first_chunk_words == 5
    assert daemon.pipeline.responder is brain  # nothing of the brain changed: not rebuilt


async def test_reload_lists_exactly_the_keys_that_need_a_restart(daemon: Any) -> None:
    _write(daemon, "asr:\n  model: whisper-small\n  beam_size: 2\naudio:\n  output_device: yok\ndaemon:\n  mic_wait_s: 3\n"
                   "reminders:\n  refresh_s: 120\n")
    out = await daemon.reload()
    assert sorted(out["restart_needed"]) == ["asr.model", "audio.output_device", "daemon.mic_wait_s", "reminders.refresh_s"]
    assert out["applied"] == ["asr.beam_size"]
    # what needs a restart keeps its running value (status and config never claim it is in effect)
    assert daemon.settings.asr.model == "whisper-base" and daemon.pipeline.settings.audio.output_device is None
    assert daemon.pipeline.settings.asr.beam_size == 2 and daemon.pipeline.transcriber.settings.beam_size == 2


async def test_a_new_responder_is_swapped_in_only_between_turns(voice_settings: Any) -> None:
    from bantz_voice.pipeline import VoicePipeline
    from bantz_voice.responder import EchoResponder
    from bantz_voice.voice.turn import Turn

    p = VoicePipeline(voice_settings, transcriber=None, tts=None, responder=EchoResponder())
    release = asyncio.Event()
    turn = Turn("text")

    async def reply_in_progress() -> None:
        await p.turns.claim(turn)
        await release.wait()
        turn.finish()

    running = asyncio.create_task(reply_in_progress())
    await asyncio.sleep(0)
    assert p.turns.current is turn
    new = EchoResponder()
    swap = asyncio.create_task(p.replace_responder(new))
    await asyncio.sleep(0)  # the swap is waiting for the turn
    for _ in range(3):
        await asyncio.sleep(0)
        assert not swap.done() and p.responder is not new
    release.set()
    old = await asyncio.wait_for(swap, 10)
    assert p.responder is new and old is not new
    await running
