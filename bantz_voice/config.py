"""Settings: Pydantic models are the single source of truth.

Load order (later wins): built-in defaults -> package data ``bantz_voice/data/config/*.yaml`` -> the user's copies in
the XDG config dir (or ``$BANTZ_CONFIG_DIR``) -> ``BANTZ_<SECTION>__<KEY>`` environment variables.
``bantz.yaml`` holds :class:`Settings` minus ``models``; ``model-settings.yaml`` holds
:class:`ModelSettings` (layers read by :mod:`bantz_voice.config_layers`).

Each section belongs to one part of the pipeline; add fields to your own section only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bantz_voice import config_layers
from bantz_voice.config_layers import (  # noqa: F401 - the public names stay importable from here
    DEFAULTS_DIR,
    ENV_PREFIX,
    MAIN_FILE,
    MODELS_FILE,
    config_sources,
    env_overrides,
)
from bantz_voice.config_layers import (
    deep_merge as _deep_merge,
)
from bantz_voice.errors import ConfigError
from bantz_voice.turkish.lexicon import WAKE_WORDS

REPO_CONFIG_DIR = DEFAULTS_DIR  # package data: the defaults (the name predates the move)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# --- audio path (issue 2) -------------------------------------------------------------------
class AudioSettings(_Section):
    input_device: str | int | None = None
    output_device: str | int | None = None
    sample_rate: Literal[16000] = 16000
    frame_ms: Literal[10, 20, 30] = 30
    reconnect_initial_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(10.0, gt=0)
    barge_in: bool = True
    barge_in_min_ms: int = Field(300, ge=60)
    # echo guard (audio/bargein.py): the reply's own audio found in the microphone (loudspeakers
    # without echo cancellation) switches barge-in off until echo_clear_s of playback without it
    echo_guard: bool = True
    echo_threshold: float = Field(0.3, gt=0, lt=1)  # normalised correlation of mic and reply that means echo
    echo_max_delay_ms: int = Field(600, ge=50, le=2000)  # speaker -> microphone delays searched
    echo_clear_s: float = Field(3.0, gt=0, le=60)


class VadSettings(_Section):
    aggressiveness: int = Field(2, ge=0, le=3)
    preroll_ms: int = Field(300, ge=300)
    hangover_ms: int = Field(400, ge=90, le=2000)
    min_speech_ms: int = Field(250, ge=0)
    max_utterance_s: float = Field(15.0, gt=0)
    speculative_asr: bool = True
    # push-to-talk without a release (a lost key-up) is closed and decoded after this long
    max_ptt_s: float = Field(30.0, gt=0, le=600)
    # Turn ends that understand Turkish (issue 15; turkish/turn_end.py, needs speculative_asr): the
    # speculative transcript of a pause ends the turn after turn_end_early_ms of silence when the
    # fast path is sure it is a complete command or question, holds it up to turn_end_extended_ms
    # when it stops on an unfinished phrase ("ve", "saat", a number without its unit, no verb) or
    # while it is still being decoded, up to turn_end_fragment_ms when it stops without a verb on
    # words the policy does not know (a fragment, or a garbled transcript), and keeps hangover_ms
    # otherwise. On by default: file sources
    # (audio/source.py FileSource) append the silence the longest hold needs.
    turn_end: bool = True
    turn_end_early_ms: int = Field(180, ge=30, le=2000)
    turn_end_extended_ms: int = Field(1200, ge=90, le=5000)
    turn_end_fragment_ms: int = Field(800, ge=90, le=5000)
    turn_end_min_confidence: float = Field(0.8, ge=0, le=1)


class AsrSettings(_Section):
    model: str = "whisper-base"
    device: str = "cpu"
    compute_type: str = "int8"
    beam_size: int = Field(1, ge=1)
    language: str = "tr"
    initial_prompt: str = "Bantz, takvim ve randevular."  # a word list leaks into short transcripts
    # a transcript dropped as an echo of the prompt or as unsure is decoded once more with
    # ``retry_prompt`` instead: the wake word alone keeps "Bantz" spelled (without any prompt Whisper
    # writes "Bant"/"Banz" and the wake gate ignores the user), and a prompt of one word cannot be
    # echoed as a transcript. "" retries without a prompt.
    retry_without_prompt: bool = True
    retry_prompt: str = "Bantz"
    pad_ms: int = Field(400, ge=0, le=1000)
    # Whisper's encoder always sees a 30 s window; "fit" cuts it to the utterance plus window_pad_s
    # of silence (3x faster on a CPU, same accuracy on short commands; docs/benchmarks.md), "full"
    # keeps the 30 s window Whisper was trained on.
    window: Literal["fit", "full"] = "fit"
    window_pad_s: float = Field(6.0, ge=1.0, le=30.0)
    max_tokens_per_s: float = Field(12.0, gt=0)  # decoder cap: stops a repetition loop early
    cpu_threads: int = Field(0, ge=0)
    no_speech_threshold: float = Field(0.6, ge=0, le=1)
    logprob_threshold: float = -1.0
    # utterances waiting for (or in) the decoder; a newer one beyond this drops the oldest (logged)
    max_queue: int = Field(3, ge=1, le=32)
    # one decode running longer than this is a hung stage: the turn apologises, `status` shows it
    # and the watchdog stops (systemd restarts the service)
    deadline_s: float = Field(60.0, gt=0, le=600)


class TtsSettings(_Section):
    voice: str = "tr_TR-fahrettin-medium"
    fallback_voice: str | None = "en_US-joe-medium"
    # the first TTS chunk ends at a clause boundary or after this many words: 4 puts plain chat's
    # reply latency under 300 ms at the 3B+8B split's speeds (6: 451 ms, 4: 282 ms, 3: 215 ms p50;
    # docs/benchmarks.md), while the first chunk's audio still covers the next chunk's synthesis
    first_chunk_words: int = Field(4, ge=1)
    length_scale: float | None = None
    target_rms_dbfs: float = -20.0
    early_first_chunk: bool = True  # False = baseline: synthesize the whole reply at once
    max_piece_chars: int = Field(200, ge=40)  # a longer run-on sentence is spoken in pieces (bounds Piper's memory)
    # a voice of another language (the offline English fallback) reads with espeak-ng's Turkish
    # phonemes when its phoneme map has every one of them (tts/piper_tts.py). Off: measured with
    # Whisper as the listener the English voice was understood better with its own phonemes
    # (scripts/bench_tts_intelligibility.py, docs/benchmarks.md)
    turkish_phonemes: bool = False
    deadline_s: float = Field(30.0, gt=0, le=600)  # one synthesis running longer is a hung stage (as asr.deadline_s)


# --- Turkish layer / brain (issues 3, 4) ----------------------------------------------------
class BrainSettings(_Section):
    responder: Literal["brain", "echo"] = "brain"
    timezone: str = "Europe/Istanbul"
    rules_only: bool = False
    fast_path_min_confidence: float = Field(0.8, ge=0, le=1)
    # An unsure chat guess with no calendar, time or action word goes to chat without the LLM
    # router (it could only say chat; turkish/nlu.py has_tool_cue).
    chat_without_cue: bool = True
    confirm_create: bool = False
    confirmation_timeout_s: float = Field(30.0, gt=0)
    # A spoken "evet" confirms only from a transcript at least this confident (Whisper's average
    # log-probability) of an utterance that began after the question; typed text is not affected.
    confirm_min_logprob: float = Field(-0.6, le=0)
    memory_max_tokens: int = Field(500, gt=0)
    # Start the side-effect-free part of a turn (route, plan) on the speculative transcript, during
    # the VAD hangover; the turn claims it when the final text is the same.
    speculate: bool = True
    # Start the chat reply beside the LLM router, cancelled when the router picks a tool route.
    # auto = on when the chat model is on a server (vLLM batches both), off for the embedded model
    # (one CPU engine would run them one after the other and delay the router).
    parallel_chat: Literal["auto", "on", "off"] = "auto"
    # After each turn, evaluate the next chat prompt's start (system prompt, summary, history) while
    # the reply plays: an embedded model then reads only the new words of a chat turn.
    prefill_next: bool = True
    # The orchestrator also writes one line of reasoning (debugging only: it is generated on the
    # critical path, ~15 tokens before the turn can act; see docs/benchmarks.md).
    debug_reasoning: bool = False

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"bilinmeyen saat dilimi {value!r} (ör. Europe/Istanbul)") from None
        return value


# --- calendar (issue 5) ---------------------------------------------------------------------
class CalendarSettings(_Section):
    backend: Literal["ics", "caldav"] = "ics"
    ics_path: Path | None = None  # default: <XDG data dir>/calendar.ics
    caldav_url: str | None = Field(None, repr=False)  # may embed a password: shown only through redact_url()
    caldav_username: str | None = None
    caldav_password_env: str = "BANTZ_CALDAV_PASSWORD"
    caldav_calendar: str | None = None
    timeout_s: float = Field(10.0, gt=0)


# --- daemon (issue 6) -----------------------------------------------------------------------
class DaemonSettings(_Section):
    hands_free: bool = True
    push_to_talk: bool = True
    # spellings of the name (turkish/wake.py always knows lexicon.WAKE_WORDS; add more here)
    wake_words: list[str] = Field(default_factory=lambda: list(WAKE_WORDS))
    follow_up_s: float = Field(8.0, ge=0)
    earcons: bool = True
    socket_path: Path | None = None  # default: $XDG_RUNTIME_DIR/bantz/control.sock
    evdev_key: str | None = None  # e.g. "KEY_RIGHTCTRL"
    watchdog: bool = True
    # READY is sent when the microphone opens, or after this long without one (the service then
    # runs for `ask` and `say`, and keeps looking for the microphone)
    mic_wait_s: float = Field(10.0, ge=0)


# --- timers, reminders, desktop (issue 18) ----------------------------------------------------
class RemindersSettings(_Section):
    enabled: bool = True  # the daemon fires timers and calendar alarms
    timers_path: Path | None = None  # default: <XDG state dir>/timers.json
    state_path: Path | None = None  # what has fired: <XDG state dir>/alarms.json
    refresh_s: float = Field(60.0, ge=5)  # how often the calendar's alarms are read again
    max_sleep_s: float = Field(5.0, gt=0, le=60)  # longest wait between checks (late by at most this after a resume)
    late_s: float = Field(90.0, ge=5)  # fired later than this: announced as missed
    missed_limit_s: float = Field(6 * 3600.0, ge=0)  # a missed one older than this is not announced
    snooze_window_s: float = Field(15 * 60.0, gt=0)  # "beş dakika ertele" works this long after it fired
    snooze_default_s: float = Field(5 * 60.0, gt=0)  # "ertele" without a length
    default_hour: int = Field(9, ge=0, le=23)  # "yarın ilacımı hatırlat": at 09:00
    ring_repeats: int = Field(3, ge=1, le=20)  # an alarm is said this many times unless "tamam"/"sustur"
    ring_interval_s: float = Field(20.0, ge=2)


class DesktopSettings(_Section):
    notifications: bool = True  # org.freedesktop.Notifications on the session bus
    pause_media: bool = True  # MPRIS players that play are paused while Bantz listens and speaks
    bus_timeout_s: float = Field(2.0, gt=0)


# --- wake-word stage in front of Whisper (issue 15) ------------------------------------------
def _k_within_n(k: int, n: int) -> None:
    """The k-of-n wake rule's check, shared by the main model and each agreement model."""
    if k > n:
        raise ValueError(f"confirm_k ({k}) must not exceed confirm_n ({n})")


class WakeModelSettings(_Section):
    # a further keyword model for the agreement rule: a packaged model's name
    # (bantz_voice/data/wake/<name>.onnx) or a path to an .onnx file, with its own rule
    model: str
    threshold: float = Field(0.5, gt=0, lt=1)
    confirm_k: int = Field(1, ge=1, le=17)
    confirm_n: int = Field(1, ge=1, le=17)

    @model_validator(mode="after")
    def _check_rule(self) -> WakeModelSettings:
        _k_within_n(self.confirm_k, self.confirm_n)
        return self


class WakeSettings(_Section):
    # model: a small ONNX keyword model decides on "Bantz" from audio before any Whisper decode
    # (bantz_voice/wake); transcript: every utterance is transcribed and the transcript decides.
    # Either way the transcript match stays the second stage; follow-up window and PTT bypass both.
    engine: Literal["model", "transcript"] = "model"
    # k-of-n rule: the model fires when at least confirm_k of some confirm_n consecutive 1 s windows
    # (100 ms apart) score at or above the threshold; 1 of 1 = any single window. The packaged
    # model (retrained with hard negatives) alone takes 1 of 1 at 0.41 (held-out recall 99.2 %,
    # 1.23 false wakes/h); in the agreement below (the default) it takes 0.24: the pair was tuned
    # together on the tuning split (docs/benchmarks.md, wake-word stage; held-out recall 98.6 %,
    # 0.82 false wakes/h, 0 of 200 sound-alike openings). With agree: [] set 0.41 again.
    threshold: float = Field(0.24, gt=0, lt=1)
    confirm_k: int = Field(1, ge=1, le=17)
    confirm_n: int = Field(1, ge=1, le=17)
    scan_s: float = Field(1.6, ge=0, le=5)  # where the name may start within the utterance
    model_path: Path | None = None  # default: the packaged bantz_voice/data/wake/bantz.onnx
    # agreement rule: with further models here, the stage fires only when the model above and
    # every one of these fire (each at its own threshold and k-of-n rule) within agree_within
    # windows of each other (0: the same 1 s window; 9: overlapping windows; 16: anywhere in the
    # scan). Empty: the model above alone decides.
    # Default: the first packaged model (bantz_v1, no hard negatives) at 0.51 in the same window:
    # the two models' false wakes are different sentences and cancel.
    agree: list[WakeModelSettings] = Field(default_factory=lambda: [WakeModelSettings(model="bantz_v1", threshold=0.51)])
    agree_within: int = Field(0, ge=0, le=17)

    @model_validator(mode="after")
    def _check_rule(self) -> WakeSettings:
        _k_within_n(self.confirm_k, self.confirm_n)
        return self


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    traces: bool = True
    # <state dir>/traces.jsonl is rotated past this size; this many old files are kept
    traces_max_bytes: int = Field(5 * 1024 * 1024, ge=4096)
    traces_keep: int = Field(3, ge=0, le=50)


# --- models (data/config/model-settings.yaml) ----------------------------------------------------
class EndpointSettings(_Section):
    kind: Literal["openai", "llamacpp"] = "llamacpp"
    # openai-compatible server
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    schema_style: Literal["json_schema", "json_object"] = "json_schema"
    timeout_s: float = Field(30.0, gt=0)
    connect_retries: int = Field(2, ge=0)
    # embedded llama.cpp
    gguf: str | None = None  # manifest name or path
    n_ctx: int = Field(4096, ge=256)
    n_threads: int = Field(0, ge=0)  # 0 = half the logical CPUs (leaves room for ASR/TTS)
    n_threads_batch: int = Field(0, ge=0)  # prompt evaluation; 0 = every logical CPU
    n_gpu_layers: int = Field(0, ge=-1)  # layers offloaded to a CUDA build's GPU; -1 = all
    n_ubatch: int = Field(512, ge=32)  # micro-batch: sizes llama.cpp's compute buffer
    flash_attn: bool = False  # needed for kv_type q8_0 (quantized V cache)
    kv_type: Literal["f16", "q8_0"] = "f16"  # KV cache element type


class ModelsProfile(_Section):
    """Which endpoints ``auto`` picks by hardware: on an NVIDIA GPU with at least ``min_vram_mib``
    and a CUDA build of llama.cpp, the endpoints still at their CPU defaults become the GPU
    profile's (bantz-voice doctor --vram --profile gguf-split); endpoints you set stay yours."""

    select: Literal["auto", "cpu", "gpu"] = "auto"
    min_vram_mib: int = Field(7800, gt=0)  # an "8 GB" card reports ~8188 MiB


class RoleSettings(_Section):
    endpoint: str
    temperature: float = Field(0.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    # chat: the reply's cap; router/orchestrator answer JSON whose longest form their schema bounds
    # (llm/grammar.py max_output_tokens): that bound is their decode's cap, not this value
    max_tokens: int = Field(128, gt=0)
    input_budget: int = Field(600, gt=0)
    timeout_s: float = Field(20.0, gt=0)  # the whole call (a JSON role's repair included)


class ModelSettings(_Section):
    profile: ModelsProfile = Field(default_factory=ModelsProfile)
    endpoints: dict[str, EndpointSettings] = Field(
        default_factory=lambda: {
            "small": EndpointSettings(kind="llamacpp", gguf="qwen2.5-3b-instruct-q4_k_m"),
            "chat": EndpointSettings(kind="llamacpp", gguf="qwen2.5-3b-instruct-q4_k_m"),
        }
    )
    # router/orchestrator timeouts: past them the fast path's plan (or a Turkish apology) answers;
    # a 3B on a desktop CPU plans in ~2 s, the SmolLM2 fallback on a loaded 2-core VM in ~3 s
    # (docs/benchmarks.md, "The orchestrator's bounded decode")
    router: RoleSettings = Field(
        default_factory=lambda: RoleSettings(endpoint="small", max_tokens=128, input_budget=600, timeout_s=5.0)
    )
    orchestrator: RoleSettings = Field(
        default_factory=lambda: RoleSettings(endpoint="small", max_tokens=256, input_budget=1500, timeout_s=6.0)
    )
    chat: RoleSettings = Field(
        default_factory=lambda: RoleSettings(endpoint="chat", temperature=0.2, top_p=0.9, max_tokens=200, input_budget=1200)
    )


class Settings(_Section):
    audio: AudioSettings = Field(default_factory=AudioSettings)
    vad: VadSettings = Field(default_factory=VadSettings)
    asr: AsrSettings = Field(default_factory=AsrSettings)
    tts: TtsSettings = Field(default_factory=TtsSettings)
    brain: BrainSettings = Field(default_factory=BrainSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    reminders: RemindersSettings = Field(default_factory=RemindersSettings)
    desktop: DesktopSettings = Field(default_factory=DesktopSettings)
    wake: WakeSettings = Field(default_factory=WakeSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)


# --- loading (the layers: bantz_voice/config_layers.py) -----------------------------------
def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    return env_overrides(environ, Settings.model_fields)


def _has_path(data: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    node: Any = data
    for part in loc:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def load_settings(config_dir: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    layers = config_layers.layers(config_dir, environ, Settings.model_fields)
    merged: dict[str, Any] = {}
    for _, data in layers:
        merged = _deep_merge(merged, data)
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        origin = next((src for src, data in reversed(layers) if _has_path(data, loc)), None)
        if origin is None:  # error on a parent (e.g. unknown key): find the deepest existing prefix
            for cut in range(len(loc) - 1, 0, -1):
                origin = next((src for src, data in reversed(layers) if _has_path(data, loc[:cut])), None)
                if origin:
                    break
        key = ".".join(str(p) for p in loc)
        raise ConfigError(f"{origin or 'ayarlar'}: '{key}' geçersiz: {err['msg']}") from exc


def redact_url(url: str) -> str:
    """``https://ali:sifre@host/dav`` -> ``https://ali:***@host/dav`` (for output and logs)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    if parts.password is None and "@" not in parts.netloc:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[-1]
    cred = f"{user}:***" if parts.password is not None else (user or "***")
    return urlunsplit((parts.scheme, f"{cred}@{host}", parts.path, parts.query, parts.fragment))


def redacted_dump(settings: Settings) -> dict[str, Any]:
    """Settings as JSON-ready data with credentials hidden (``config show``)."""
    data = settings.model_dump(mode="json")
    url = data.get("calendar", {}).get("caldav_url")
    if url:
        data["calendar"]["caldav_url"] = redact_url(url)
    return data


def dump_settings(settings: Settings, redact: bool = True) -> str:
    data = redacted_dump(settings) if redact else settings.model_dump(mode="json")
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
