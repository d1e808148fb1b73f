"""``bantz-voice doctor``: one line per area — audio devices, models, LLM endpoints, calendar, GPU.

Each check uses the owning area's API and degrades to a warning when that area or its hardware is
absent; no check raises. Messages are Turkish (they are shown to the user).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from bantz_voice.config import Settings
from bantz_voice.llm.apikey import is_remote_url, probe_headers

Status = Literal["ok", "uyarı", "hata"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    message: str

    def line(self) -> str:
        mark = {"ok": "✓", "uyarı": "!", "hata": "✗"}[self.status]
        return f"{mark} {self.name:12s} {self.message}"


def check_audio(settings: Settings, kind: Literal["input", "output"]) -> Check:
    name = "mikrofon" if kind == "input" else "hoparlör"
    device = settings.audio.input_device if kind == "input" else settings.audio.output_device
    try:
        from bantz_voice.audio.source import find_device
    except ImportError:
        return Check(name, "uyarı", "ses modülü yok")
    try:
        import sounddevice as sd

        idx = find_device(device, kind)
        info = sd.query_devices(idx, kind=kind) if idx is not None else sd.query_devices(kind=kind)
        return Check(name, "ok", f"{info['name']} ({int(info['default_samplerate'])} Hz)")
    except Exception as exc:  # AudioInputError, PortAudio errors
        hint = " — `bantz-voice once --wav` ile dosyadan çalışır" if kind == "input" else " — yanıtlar dosyaya yazılabilir (--out)"
        return Check(name, "uyarı", f"{exc}{hint}")


def _model_state(name: str) -> tuple[Status, str]:
    from bantz_voice.models import entry, is_present

    if Path(name).expanduser().exists():
        return "ok", f"{name} (dosya)"
    try:
        e = entry(name)
    except Exception as exc:
        return "hata", str(exc)
    if is_present(name):
        return "ok", name
    if e.fallback and is_present(e.fallback):
        return "uyarı", f"{name} yok → yedek {e.fallback}"
    pypi = any(s.pypi for s in e.sources)
    return ("uyarı" if pypi else "hata"), f"{name} indirilmemiş (bantz-voice models pull {name})"


def check_models(settings: Settings) -> Check:
    try:
        import bantz_voice.models  # noqa: F401
    except ImportError:
        return Check("modeller", "uyarı", "model yöneticisi yok")
    wanted = [settings.asr.model, settings.tts.voice]
    for ep in settings.models.endpoints.values():
        if ep.kind == "llamacpp" and ep.gguf and ep.gguf not in wanted:
            wanted.append(ep.gguf)
    states = [_model_state(n) for n in wanted]
    worst: Status = "hata" if any(s == "hata" for s, _ in states) else "uyarı" if any(s == "uyarı" for s, _ in states) else "ok"
    return Check("modeller", worst, "; ".join(m for _, m in states))


def _probe_openai(base_url: str, model: str | None, timeout: float) -> tuple[Status, str]:
    import httpx

    url = base_url.rstrip("/") + "/models"
    try:
        r = httpx.get(url, timeout=timeout, trust_env=is_remote_url(url), headers=probe_headers(url))
        r.raise_for_status()
        data = r.json().get("data", [])
    except (httpx.HTTPError, ValueError) as exc:
        return "hata", f"{base_url} erişilemiyor ({type(exc).__name__})"
    ids = [m.get("id") for m in data]
    sim = any(m.get("owned_by") == "bantz-simulator" for m in data)
    if model and model not in ids:
        return "hata", f"{base_url} çalışıyor ama '{model}' modeli yok (var: {', '.join(map(str, ids))})"
    note = " — SİMÜLATÖR (gerçek model değil)" if sim else ""
    return ("uyarı" if sim else "ok"), f"{base_url} ({model or ids[0] if ids else '?'}){note}"


_ROLE_TR = {"router": "yönlendirme", "orchestrator": "planlama", "chat": "sohbet"}


def _roles_of(settings: Settings, endpoint: str) -> str:
    roles = [r for r in ("router", "orchestrator", "chat") if getattr(settings.models, r).endpoint == endpoint]
    return ", ".join(_ROLE_TR[r] for r in roles) or "rol yok"


def check_endpoints(settings: Settings, timeout: float = 2.0) -> Check:
    parts: list[str] = []
    worst: Status = "ok"
    for name, ep in settings.models.endpoints.items():
        if ep.kind == "openai":
            if not ep.base_url:
                status, msg = "hata", "base_url yok"
            else:
                status, msg = _probe_openai(ep.base_url, ep.model, timeout)
        else:
            status, msg = "ok", "gömülü llama.cpp"
            try:
                import llama_cpp  # noqa: F401
            except Exception as exc:
                status, msg = "hata", f"llama-cpp-python yüklenemedi ({type(exc).__name__})"
            else:
                from bantz_voice.llm.llamacpp_engine import resolve_gguf

                try:  # the weights must be there (looked up, never loaded or downloaded here)
                    path, _note = resolve_gguf(ep.gguf)
                    msg = f"gömülü llama.cpp ({path.name})"
                except Exception as exc:
                    status, msg = "hata", f"{exc} — bu rollerin modeli yüklenemez: {_roles_of(settings, name)}"
        parts.append(f"{name}: {msg}")
        if status == "hata" or (status == "uyarı" and worst == "ok"):
            worst = status
    return Check("LLM", worst, "; ".join(parts))


def check_calendar(settings: Settings) -> Check:
    try:
        from bantz_voice.calendar import open_calendar
    except ImportError:
        return Check("takvim", "uyarı", "takvim modülü yok")
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
        return Check("takvim", "hata", f"{settings.calendar.backend}: {exc}")
    where = redact_url(settings.calendar.caldav_url or "") if settings.calendar.backend == "caldav" else getattr(cal, "path", "ics")
    summary = f"{settings.calendar.backend} ({where}): önümüzdeki 7 günde {len(events)} etkinlik"
    if bad:
        shown = "; ".join(bad[:5]) + (f"; … {len(bad) - 5} tane daha" if len(bad) > 5 else "")
        return Check("takvim", "uyarı", f"{summary}; {len(bad)} bozuk bileşen atlandı (dosyada olduğu gibi duruyor): {shown}")
    return Check("takvim", "ok", summary)


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
    degraded = st.get("degraded") or {}
    if degraded:
        roles = "; ".join(f"{_ROLE_TR.get(r, r)} ({r}): {why}" for r, why in degraded.items())
        return Check("servis", "hata", f"çalışıyor, ama dil modeli açılışta yüklenemedi — {roles}")
    return Check("servis", "ok", f"çalışıyor ({st.get('state')})")


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
    status: Status = "uyarı" if sel.needs_cuda_build else "ok"
    return Check("GPU", status, sel.reason)


CHECKS: tuple[Callable[[Settings], Check], ...] = (
    lambda s: check_audio(s, "input"),
    lambda s: check_audio(s, "output"),
    check_models,
    check_endpoints,
    check_calendar,
    check_daemon,
    check_gpu,
)


def run_checks(settings: Settings) -> list[Check]:
    out = []
    for fn in CHECKS:
        try:
            out.append(fn(settings))
        except Exception as exc:  # a check must never take doctor down
            out.append(Check("?", "hata", f"denetim çöktü: {type(exc).__name__}: {exc}"))
    return out
