"""Daemon commands: ``run``, ``status``, ``ptt``, ``mute``, ``unmute``, ``say``, ``cancel``,
``reload``, ``shutdown`` and ``service install|uninstall|status``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bantz_voice.cli import fast
from bantz_voice.cli.argtypes import seconds

STATE_TR = {
    "idle": "boşta (dinlemeye hazır)",
    "listening": "dinliyor",
    "thinking": "düşünüyor",
    "speaking": "konuşuyor",
    "muted": "sessizde (mikrofon kapalı)",
    "starting": "başlıyor",
    "stopping": "kapanıyor",
}


def _socket(args: argparse.Namespace) -> Path:
    # the raw setting, not load_settings(): a control command must not wait for pydantic
    from bantz_voice.config_layers import peek
    from bantz_voice.daemon.wire import socket_path_from

    if getattr(args, "socket", None):
        return socket_path_from(Path(args.socket))
    raw = peek("daemon", "socket_path")
    return socket_path_from(raw if isinstance(raw, (str, Path)) else None)  # a bad value: the daemon's validation names it


def _call(args: argparse.Namespace, kind: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    from bantz_voice.daemon.client import call

    return call(_socket(args), kind, data, timeout=args.timeout)


def _duration(seconds: float) -> str:
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{h} sa {m} dk"
    if m:
        return f"{m} dk {s} sn"
    return f"{s} sn"


def _run(args: argparse.Namespace) -> int:
    from bantz_voice.daemon.runner import run_foreground
    from bantz_voice.errors import ConfigError, DaemonConfigError

    try:
        return run_foreground(responder=args.responder, demo_wav=args.demo_wav)
    except DaemonConfigError:
        raise
    except ConfigError as exc:  # exit EX_CONFIG: systemd must not restart a daemon whose settings are wrong
        raise DaemonConfigError(str(exc)) from None


def _status(args: argparse.Namespace) -> int:
    data = _call(args, "status")
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    modes = []
    if data.get("hands_free"):
        modes.append("uyandırma sözcüğü")
    if data.get("push_to_talk"):
        modes.append("bas-konuş")
    print(f"Durum: {STATE_TR.get(data.get('state', ''), data.get('state'))}")
    print(f"Dinleme: {', '.join(modes) or 'kapalı'}" + (" · takip penceresi açık" if data.get("follow_up_open") else ""))
    print(f"Çalışma süresi: {_duration(float(data.get('uptime_s', 0)))} · tamamlanan tur: {data.get('turns', 0)}")
    mic = data.get("microphone") or {}
    if mic:
        print(f"Mikrofon: {'açık' if mic.get('ok') else 'yok'}" + (f" ({mic.get('detail')})" if mic.get("detail") else ""))
    barge = data.get("barge_in") or {}
    if barge:
        print(f"Araya girme: {barge.get('detail', '')}")
    health = (data.get("health") or {}).get("components") or {}
    if health:
        print("Bileşenler:")
        for name, check in health.items():
            mark = "✓" if check.get("ok") else "✗"
            print(f"  {mark} {name}: {check.get('detail', '')}")
    last = (data.get("last_turns") or [])[-1:] or []
    for t in last:
        lat = t.get("trace", {}).get("spoken_latency_ms")
        extra = f", konuşma gecikmesi {lat:.0f} ms" if isinstance(lat, (int, float)) else ""
        print(f"Son tur: {t.get('mode', '?')}{extra}" + (f" · hata: {t['error']}" if t.get("error") else ""))
    if data.get("last_error"):
        print(f"Son hata: {data['last_error']}")
    return 0


def _simple(kind: str):
    def handler(args: argparse.Namespace) -> int:
        _call(args, kind)
        print(fast.DONE[kind])
        return 0

    return handler


def _ptt(args: argparse.Namespace) -> int:
    data = _call(args, "ptt", {"action": args.action})
    print(fast.PTT_LISTENING if data.get("ptt_active") else fast.PTT_DONE)
    return 0


def _say(args: argparse.Namespace) -> int:
    _call(args, "say", {"text": args.text})
    print("Söylüyorum.")
    return 0


def _service(args: argparse.Namespace) -> int:
    from bantz_voice.daemon import service

    action = args.service_command
    if action == "install" and args.dry_run:
        for path, text in service.planned_units(with_vllm=args.vllm):
            print(f"# {path} (yazılmadı: --dry-run)")
            print(text, end="")
        return 0
    if action == "install":
        report = service.install(with_vllm=args.vllm, start=not args.no_start)
        for p in report.written:
            print(f"kuruldu: {p}")
        for m in report.messages:
            print(m)
        return 0
    if action == "uninstall":
        report = service.uninstall()
        for p in report.removed:
            print(f"kaldırıldı: {p}")
        for m in report.messages:
            print(m)
        return 0
    rows = service.status()
    for st in rows:
        installed = "kurulu" if st.installed else "kurulu değil"
        enabled = "etkin" if st.enabled else "etkin değil"
        print(f"{st.name}: {installed}, {enabled}, çalışma: {st.active} ({st.path})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    def client_parser(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--socket", help="denetim soketi (varsayılan: $XDG_RUNTIME_DIR/bantz/control.sock)")
        p.add_argument("--timeout", type=seconds, default=10.0, help="yanıt bekleme süresi (sn, 0 < süre <= 3600)")
        return p

    run = sub.add_parser("run", help="asistanı ön planda çalıştır (servis olarak da bu çalışır)")
    run.add_argument("--responder", choices=["echo", "brain"], default=None, help="yanıtlayıcı (varsayılan: ayardaki)")
    run.add_argument("--demo-wav", type=Path, default=None, help="mikrofon yokken deneme turunda kullanılacak WAV (varsayılan: paketteki örnek)")
    run.set_defaults(func=_run)

    st = client_parser("status", "asistanın durumu")
    st.add_argument("--json", action="store_true", help="makine için JSON")
    st.set_defaults(func=_status)

    ptt = client_parser("ptt", "bas-konuş (masaüstü kısayoluna 'ptt toggle' atayın)")
    ptt.add_argument("action", choices=fast.PTT_ACTIONS, help="start: başla, stop: bitir, toggle: aç/kapa")
    ptt.set_defaults(func=_ptt)

    client_parser("mute", "mikrofonu kapat").set_defaults(func=_simple("mute"))
    client_parser("unmute", "mikrofonu aç").set_defaults(func=_simple("unmute"))
    client_parser("cancel", "konuşmayı hemen durdur").set_defaults(func=_simple("cancel"))
    client_parser("reload", "ayarları yeniden yükle").set_defaults(func=_simple("reload"))
    client_parser("shutdown", "asistanı kapat").set_defaults(func=_simple("shutdown"))
    if "say" not in sub.choices:  # the voice loop's `say` (issue 2) wins when present
        say = client_parser("say", "çalışan asistana bir metin söylet")
        say.add_argument("text", help="söylenecek metin")
        say.set_defaults(func=_say)

    svc = sub.add_parser("service", help="systemd kullanıcı servisi")
    ssub = svc.add_subparsers(dest="service_command", metavar="ALT", required=True)
    inst = ssub.add_parser("install", help="kur, etkinleştir ve (mümkünse) başlat")
    inst.add_argument("--with-vllm", "--vllm", dest="vllm", action="store_true", help="vLLM sunucu birimlerini de kur (GPU'lu makineler)")
    inst.add_argument("--no-start", action="store_true", help="yalnız kur, başlatma")
    inst.add_argument("--dry-run", action="store_true", help="hiçbir şey yazmadan, yazılacak birimleri göster")
    ssub.add_parser("uninstall", help="durdur ve kaldır")
    ssub.add_parser("status", help="kurulu mu, çalışıyor mu")
    svc.set_defaults(func=_service)
