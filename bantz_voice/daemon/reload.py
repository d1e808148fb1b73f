"""What a reload changes: the settings keys that differ, which of them need a restart, and the
settings the running daemon then uses (the new ones, with the restart-only keys kept as they are
running, so that ``status`` and the pipeline never claim what is not in effect).

Everything else is applied live by ``Daemon.reload``: ``daemon.*`` to the gate and earcons,
``audio``/``vad``/``asr``/``tts`` decoding options to the pipeline (``apply_settings``),
``brain``/``models``/``calendar`` by building and warming a new brain and swapping it in between
turns (``VoicePipeline.replace_responder``), ``logging`` by re-applying the log level and traces.
"""

from __future__ import annotations

from typing import Any

from bantz_voice.config import Settings

# Loaded models and opened devices/sockets: only a restart changes them.
RESTART_KEYS = frozenset({
    "asr.model", "asr.device", "asr.compute_type", "asr.cpu_threads",
    "tts.voice", "tts.fallback_voice",
    "audio.input_device", "audio.output_device", "audio.frame_ms", "audio.sample_rate",
    "daemon.socket_path", "daemon.evdev_key", "daemon.watchdog",
    "daemon.mic_wait_s",  # read once, before READY
})
# Built once at start-up (the alarm scheduler and the desktop bus of daemon/alarm_hook.py).
RESTART_SECTIONS = frozenset({"reminders", "desktop"})
REBUILD_SECTIONS = frozenset({"brain", "models", "calendar"})  # a new brain, swapped in between turns


def _flat(data: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(data, dict) and data:
        for key, value in data.items():
            _flat(value, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = data


def changed_keys(old: Settings, new: Settings) -> list[str]:
    """Dotted keys whose value differs (``models.endpoints.chat.gguf``, ``brain.confirm_create``)."""
    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    _flat(old.model_dump(mode="json"), "", a)
    _flat(new.model_dump(mode="json"), "", b)
    return sorted(k for k in a.keys() | b.keys() if a.get(k, _MISSING) != b.get(k, _MISSING))


_MISSING = object()


def needs_restart(key: str) -> bool:
    return key in RESTART_KEYS or key.split(".", 1)[0] in RESTART_SECTIONS


def effective(old: Settings, new: Settings, restart: list[str]) -> Settings:
    """``new`` with every key in ``restart`` kept at its running (``old``) value."""
    data = new.model_dump()
    running = old.model_dump()
    for key in restart:
        *parents, leaf = key.split(".")
        src, dst = running, data
        for p in parents:
            src, dst = src[p], dst[p]
        dst[leaf] = src[leaf]
    return Settings.model_validate(data)


def sections(keys: list[str]) -> set[str]:
    return {k.split(".", 1)[0] for k in keys}
