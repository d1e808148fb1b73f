"""The health checks: audio devices, models, LLM endpoints, calendar, the running daemon, the GPU.

Each check uses the owning area's API, returns a :class:`Check` and never raises for a missing
device, file or server (that is what it reports). Messages are Turkish (the user reads them, in
``bantz-voice doctor`` and in ``status``). :func:`run_checks` is the doctor's list;
:class:`bantz_voice.health.monitor.HealthMonitor` runs the endpoint and calendar checks in the
background for the daemon's ``status``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from bantz_voice.config import EndpointSettings, Settings
from bantz_voice.llm.apikey import is_remote_url, probe_headers

Status = Literal["ok", "uyarı", "hata"]
ROLES = ("router", "orchestrator", "chat")
ROLE_TR = {"router": "yönlendirme", "orchestrator": "planlama", "chat": "sohbet"}


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    message: str

    @property
    def ok(self) -> bool:
        """Usable (a warning is usable): what ``status`` reports per component."""
        return self.status != "hata"

    def line(self) -> str:
        mark = {"ok": "✓", "uyarı": "!", "hata": "✗"}[self.status]
        return f"{mark} {self.name:12s} {self.message}"

    def component(self) -> dict[str, Any]:
        """The daemon's ``status`` form: ``{"ok": bool, "detail": str}``."""
        return {"ok": self.ok, "detail": self.message}


def _worst(statuses: list[Status]) -> Status:
    return "hata" if "hata" in statuses else "uyarı" if "uyarı" in statuses else "ok"


# --- audio ----------------------------------------------------------------------------------------
def check_audio(settings: Settings, kind: Literal["input", "output"]) -> Check:
    from bantz_voice.audio.source import find_device

    name = "mikrofon" if kind == "input" else "hoparlör"
    device = settings.audio.input_device if kind == "input" else settings.audio.output_device
    try:
        import sounddevice as sd

        idx = find_device(device, kind)
        info = sd.query_devices(idx, kind=kind) if idx is not None else sd.query_devices(kind=kind)
        return Check(name, "ok", f"{info['name']} ({int(info['default_samplerate'])} Hz)")
    except Exception as exc:  # AudioInputError, PortAudio errors, no PortAudio library
        hint = " — `bantz-voice once --wav` ile dosyadan çalışır" if kind == "input" else " — yanıtlar dosyaya yazılabilir (--out)"
        return Check(name, "uyarı", f"{exc}{hint}")


# --- models ---------------------------------------------------------------------------------------
def model_state(name: str) -> tuple[Status, str]:
    """Whether a model (a manifest name or a file) is on disk; looked up, never loaded or downloaded."""
    from bantz_voice.models import entry, is_present

    path = Path(name).expanduser()
    if path.is_file():
        return "ok", f"{name} (dosya)"
    if os.sep in name or name.endswith(".gguf"):
        return "hata", f"dosya yok: {name}"
    try:
        e = entry(name)
    except Exception as exc:
        return "hata", str(exc)
    if is_present(name):
        return "ok", name
    if e.fallback and is_present(e.fallback):
        return "uyarı", f"{name} yok → yedek {e.fallback}"
    pypi = any(s.pypi for s in e.sources)  # set up from an installed package on first use
    return ("uyarı" if pypi else "hata"), f"{name} indirilmemiş (bantz-voice models pull {name})"


def check_models(settings: Settings) -> Check:
    wanted = [settings.asr.model, settings.tts.voice]
    for ep in settings.models.endpoints.values():
        if ep.kind == "llamacpp" and ep.gguf and ep.gguf not in wanted:
            wanted.append(ep.gguf)
    states = [model_state(n) for n in wanted]
    return Check("modeller", _worst([s for s, _ in states]), "; ".join(m for _, m in states))


def check_model_pins(settings: Settings) -> Check:
    """Whether the hub downloads of the configured models are pinned to a commit (the manifest's
    ``hub.revision``); an unpinned one names its branch or tag and why (docs/models.md)."""
    from bantz_voice.models import entry
    from bantz_voice.models.manager import used_by

    loose: list[str] = []
    for name in used_by(settings):
        e = entry(name)
        if e.hub is not None and not e.hub.pinned:
            loose.append(f"{name} ({e.hub.repo}@{e.hub.revision})")
    if loose:
        return Check("sürümler", "uyarı",
                     "commit'e sabitlenmemiş: " + ", ".join(loose) + " — indirilen, o anki sürümdür; hub'ın bildirdiği "
                     "hash denetlenip .pin.yaml'a yazılır (neden: bantz-voice models list, docs/models.md)")
    return Check("sürümler", "ok", "kullanılan modellerin hub sürümleri commit'e sabit")


# --- LLM endpoints --------------------------------------------------------------------------------
def _probe_openai(ep: EndpointSettings, timeout: float) -> tuple[Status, str]:
    import httpx

    assert ep.base_url
    url = ep.base_url.rstrip("/") + "/models"
    try:
        r = httpx.get(url, timeout=timeout, trust_env=is_remote_url(url), headers=probe_headers(url))
    except httpx.HTTPError as exc:
        return "hata", f"{ep.base_url} erişilemiyor ({type(exc).__name__})"
    if r.status_code >= 400:
        return "hata", f"{ep.base_url} hata döndürdü (HTTP {r.status_code})"
    try:
        data = r.json().get("data", [])
        ids = [m.get("id") for m in data]
    except (ValueError, AttributeError):
        return "hata", f"{ep.base_url} bir OpenAI uyumlu sunucu değil (model listesi okunamadı)"
    if ep.model and ep.model not in ids:
        return "hata", f"{ep.base_url} çalışıyor ama '{ep.model}' modeli yok (var: {', '.join(map(str, ids))})"
    served = f" ({ep.model})" if ep.model else ""
    if any(m.get("owned_by") == "bantz-simulator" for m in data):
        return "uyarı", f"{ep.base_url} yanıt veriyor{served} — SİMÜLATÖR (gerçek model değil)"
    return "ok", f"{ep.base_url} yanıt veriyor{served}"


def _embedded(ep: EndpointSettings) -> tuple[Status, str]:
    if not ep.gguf:
        return "hata", "gguf modeli ayarlanmamış"
    try:
        import llama_cpp  # noqa: F401 - the native library loads (a broken CUDA build fails here)
    except Exception as exc:
        return "hata", f"llama-cpp-python yüklenemedi ({type(exc).__name__})"
    status, msg = model_state(ep.gguf)
    if status == "hata":
        return "hata", f"model bulunamadı ({msg})"
    return status, f"gömülü llama.cpp: {msg}"


def check_endpoint(ep: EndpointSettings, timeout: float = 2.0) -> tuple[Status, str]:
    """One endpoint: an OpenAI-compatible server answers and serves the configured model, or the
    embedded model's file is on disk (never loaded or downloaded here)."""
    if ep.kind == "openai":
        if not ep.base_url:
            return "hata", "base_url ayarlanmamış"
        return _probe_openai(ep, timeout)
    return _embedded(ep)


def roles_of(settings: Settings, endpoint: str) -> list[str]:
    return [r for r in ROLES if getattr(settings.models, r).endpoint == endpoint]


def check_endpoints(settings: Settings, timeout: float = 2.0) -> Check:
    """Every configured endpoint (doctor); a failing one names the roles that lose their model."""
    parts: list[str] = []
    statuses: list[Status] = []
    for name, ep in settings.models.endpoints.items():
        status, msg = check_endpoint(ep, timeout)
        if status == "hata":
            roles = ", ".join(ROLE_TR[r] for r in roles_of(settings, name)) or "rol yok"
            msg = f"{msg} — bu rollerin modeli yüklenemez: {roles}"
        parts.append(f"{name}: {msg}")
        statuses.append(status)
    return Check("LLM", _worst(statuses), "; ".join(parts))


# --- calendar -------------------------------------------------------------------------------------
def check_calendar(settings: Settings) -> Check:
    from bantz_voice.calendar import default_ics_path, open_calendar
    from bantz_voice.config import redact_url

    try:
        cal = open_calendar(settings)
        try:
            now = datetime.now(cal.tz)
            events = cal.list(now, now + timedelta(days=7))
            bad = cal.problems()
        finally:
            cal.close()
    except Exception as exc:  # CalendarError carries a Turkish message
        return Check("takvim", "hata", f"{settings.calendar.backend}: {str(exc) or type(exc).__name__}")
    if settings.calendar.backend == "caldav":
        where = redact_url(settings.calendar.caldav_url or "")
    else:
        where = str(default_ics_path(settings))
    summary = f"{settings.calendar.backend} ({where}): önümüzdeki 7 günde {len(events)} etkinlik"
    if bad:
        shown = "; ".join(bad[:5]) + (f"; … {len(bad) - 5} tane daha" if len(bad) > 5 else "")
        return Check("takvim", "uyarı", f"{summary}; {len(bad)} bozuk bileşen atlandı (dosyada olduğu gibi duruyor): {shown}")
    return Check("takvim", "ok", summary)


# --- the running daemon ---------------------------------------------------------------------------
def check_daemon(settings: Settings) -> Check:
    """The running daemon's own view: LLM roles whose model did not load at its start-up."""
    from bantz_voice.daemon.client import DaemonNotRunning, call
    from bantz_voice.daemon.control import socket_path_from

    try:
        st = call(socket_path_from(settings.daemon.socket_path), "status", timeout=3.0)
    except DaemonNotRunning:
        return Check("servis", "ok", "çalışmıyor")
    except Exception as exc:
        return Check("servis", "uyarı", f"durum alınamadı: {exc}")
    if st.get("state") == "starting":
        return Check("servis", "uyarı", f"başlıyor; yükleniyor: {st.get('loading') or '?'}")
    degraded = st.get("degraded")
    if isinstance(degraded, dict) and degraded:
        roles = "; ".join(f"{ROLE_TR.get(r, r)} ({r}): {why}" for r, why in degraded.items())
        return Check("servis", "hata", f"çalışıyor, ama dil modeli açılışta yüklenemedi — {roles}")
    return Check("servis", "ok", f"çalışıyor ({st.get('state')})")


# --- GPU ------------------------------------------------------------------------------------------
def check_gpu(settings: Settings | None = None) -> Check:
    """The NVIDIA GPU (nvidia-smi) and the LLM profile ``models.profile`` picks for it."""
    from bantz_voice.config import ModelSettings
    from bantz_voice.llm.profiles import select

    models = settings.models if settings is not None else ModelSettings()
    if not shutil.which("nvidia-smi"):
        return Check("GPU", "ok", "yok — LLM gömülü llama.cpp ile CPU'da çalışır (GPU planı: bantz-voice doctor --vram)")
    sel = select(models)
    if sel.gpu is None:
        try:
            subprocess.run(["nvidia-smi"], capture_output=True, timeout=5, check=True)
        except (subprocess.SubprocessError, OSError) as exc:
            return Check("GPU", "uyarı", f"nvidia-smi çalışmadı ({type(exc).__name__})")
        return Check("GPU", "ok", sel.reason)
    return Check("GPU", "uyarı" if sel.needs_cuda_build else "ok", sel.reason)


def _check_microphone(settings: Settings) -> Check:
    return check_audio(settings, "input")


def _check_speaker(settings: Settings) -> Check:
    return check_audio(settings, "output")


CHECKS: tuple[Callable[[Settings], Check], ...] = (
    _check_microphone,
    _check_speaker,
    check_models,
    check_model_pins,
    check_endpoints,
    check_calendar,
    check_daemon,
    check_gpu,
)


def run_checks(settings: Settings, checks: tuple[Callable[[Settings], Check], ...] = CHECKS) -> list[Check]:
    """``bantz-voice doctor``: one :class:`Check` per area, in order; a check that crashes
    becomes an error line (it never takes the doctor down)."""
    out = []
    for fn in checks:
        try:
            out.append(fn(settings))
        except Exception as exc:
            out.append(Check("?", "hata", f"denetim çöktü: {type(exc).__name__}: {exc}"))
    return out
