"""``bantz-voice audio setup-echo-cancel``: the sound server's own echo canceller, set up for Bantz.

PulseAudio and PipeWire (pipewire-pulse) both ship ``module-echo-cancel``; with
``aec_method=webrtc`` it runs the WebRTC audio processing's echo canceller between a new source
(the microphone with the speaker's sound removed) and a new sink (play into it: that is the
canceller's reference). This module loads it through ``pactl`` on the user's running sound server
and changes nothing else: the defaults change only when asked (``make_default``), and every change
is reported with the command that undoes it. A loaded module lasts until the sound server
restarts (nothing is written to the user's configuration).
"""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

from bantz_voice.errors import BantzError

MODULE = "module-echo-cancel"
SOURCE_NAME = "bantz_echo_cancel_source"
SINK_NAME = "bantz_echo_cancel_sink"
MARK = f"source_name={SOURCE_NAME}"  # how our module is recognised in `pactl list short modules`


class EchoCancelError(BantzError):
    pass


@dataclass
class SetupReport:
    module_id: str
    already: bool = False
    lines: list[str] = field(default_factory=list)  # what was done (Turkish)
    undo: list[str] = field(default_factory=list)  # commands that undo it


def _pactl(args: Sequence[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=15, env=env)
    except FileNotFoundError:
        raise EchoCancelError(
            "pactl bulunamadı: PulseAudio/PipeWire araçları kurulu değil (Debian/Ubuntu: sudo apt-get install "
            "pulseaudio-utils). Hiçbir şey değiştirilmedi."
        ) from None
    except subprocess.TimeoutExpired:
        raise EchoCancelError("pactl yanıt vermedi (ses sunucusu takılmış olabilir). Hiçbir şey değiştirilmedi.") from None


def _check_pactl() -> None:
    if shutil.which("pactl") is None:
        _pactl([])  # raises the Turkish refusal


def _server_info(env: dict[str, str] | None) -> dict[str, str]:
    res = _pactl(["info"], env)
    if res.returncode != 0:
        raise EchoCancelError(
            f"ses sunucusuna bağlanılamadı ({(res.stderr or res.stdout).strip() or 'pactl info başarısız'}). "
            "Hiçbir şey değiştirilmedi."
        )
    info: dict[str, str] = {}
    for line in res.stdout.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            info[k.strip()] = v.strip()
    return info


def loaded_module(env: dict[str, str] | None = None, module: str = MODULE) -> str | None:
    """The id of Bantz's echo-cancel module on the server, if loaded."""
    res = _pactl(["list", "short", "modules"], env)
    for line in res.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1] == module and MARK in parts[2]:
            return parts[0]
    return None


def _devices(kind: str, env: dict[str, str] | None) -> list[dict[str, object]] | None:
    """``pactl --format=json list sinks|sources`` (PulseAudio 16+), or None when it cannot tell."""
    res = _pactl(["--format=json", "list", kind], env)
    if res.returncode != 0:
        return None
    try:
        rows = json.loads(res.stdout)
    except ValueError:
        return None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else None


def shared_device(source: str, sink: str, env: dict[str, str] | None = None) -> str | None:
    """The device both ``source`` and ``sink`` are built on, when they share one, else None.

    On PulseAudio a filter source or sink (remap, ladspa, another echo canceller:
    ``device.master_device``) runs in its master's IO thread, and a monitor source in its sink's.
    ``module-echo-cancel`` asks its sink side for a latency snapshot with a synchronous message
    from its source side's thread ("Doing resync", as the streams start): when both sides are on
    one device's thread that thread waits for itself and the whole sound server stops answering
    (seen with PulseAudio 16.1). Separate devices (a USB microphone and the speakers, or one card's
    ALSA capture and playback, which run in two threads) are not affected. None when it cannot tell.
    """
    sinks, sources = _devices("sinks", env), _devices("sources", env)
    if sinks is None or sources is None:
        return None

    def master(row: dict[str, object]) -> str | None:
        props = row.get("properties")
        value = props.get("device.master_device") if isinstance(props, dict) else None
        return value if isinstance(value, str) and value else None

    sink_rows = {str(r.get("name")): r for r in sinks}
    source_rows = {str(r.get("name")): r for r in sources}
    monitor_of = {str(r.get("monitor_source")): name for name, r in sink_rows.items() if r.get("monitor_source")}

    def root(name: str, is_sink: bool) -> str:
        seen: set[tuple[str, bool]] = set()
        while (name, is_sink) not in seen:
            seen.add((name, is_sink))
            if not is_sink and name in monitor_of:
                name, is_sink = monitor_of[name], True
                continue
            row = (sink_rows if is_sink else source_rows).get(name)
            up = master(row) if row is not None else None
            if up is None:
                break
            name = up  # a filter source's master is a source, a filter sink's a sink
        return name

    a, b = root(source, False), root(sink, True)
    return a if a == b else None


def _module_file_missing(info: dict[str, str], module: str) -> bool:
    """True when a plain PulseAudio server has no such module file (PipeWire: cannot tell)."""
    if "PipeWire" in info.get("Server Name", ""):
        return False
    return not glob.glob(f"/usr/lib*/pulse-*/modules/{module}.so") and not glob.glob(
        f"/usr/lib/*/pulse-*/modules/{module}.so"
    )


def setup(
    *,
    source_master: str | None = None,
    sink_master: str | None = None,
    make_default: bool = False,
    env: dict[str, str] | None = None,
    module: str = MODULE,
) -> SetupReport:
    """Load the echo canceller (once); with ``make_default`` make its source and sink the defaults."""
    _check_pactl()
    info = _server_info(env)
    existing = loaded_module(env, module)
    report: SetupReport
    if existing is not None:
        report = SetupReport(existing, already=True)
        report.lines.append(f"Yankı giderme zaten yüklü: {module} (modül #{existing}); yeniden yüklenmedi.")
        report.undo.append(f"pactl unload-module {existing}")
    else:
        src = source_master or info.get("Default Source", "")
        snk = sink_master or info.get("Default Sink", "")
        if src.endswith(".monitor"):
            raise EchoCancelError(f"varsayılan kaynak bir monitör ({src}), mikrofon değil: --source-master ile mikrofonu verin.")
        same = None if "PipeWire" in info.get("Server Name", "") or not (src and snk) else shared_device(src, snk, env)
        if same is not None:
            raise EchoCancelError(
                f"mikrofon ({src}) ve hoparlör ({snk}) aynı ses aygıtının ({same}) üzerinde: PulseAudio'nun "
                f"{module} modülü bu durumda ses sunucusunu kilitler (mikrofon açılamaz). Ayrı bir mikrofon ya da "
                "hoparlör seçin (--source-master / --sink-master). Hiçbir şey değiştirilmedi."
            )
        args = [
            "load-module", module, "aec_method=webrtc", f"source_name={SOURCE_NAME}", f"sink_name={SINK_NAME}",
            "source_properties=device.description=Bantz_yanki_giderilmis_mikrofon",
            "sink_properties=device.description=Bantz_yanki_giderici_hoparlor",
        ]
        if src:
            args.append(f"source_master={src}")
        if snk:
            args.append(f"sink_master={snk}")
        res = _pactl(args, env)
        if res.returncode != 0:
            why = (res.stderr or res.stdout).strip()
            if _module_file_missing(info, module):
                raise EchoCancelError(
                    f"{module} ses sunucunuzda yok ({info.get('Server Name', '?')}): yankı giderme kurulamadı. "
                    "PulseAudio'da pulseaudio paketiyle, PipeWire'da pipewire-pulse ile gelir. Hiçbir şey değiştirilmedi."
                )
            raise EchoCancelError(f"{module} yüklenemedi ({why or 'pactl hata verdi'}). Hiçbir şey değiştirilmedi.")
        mid = res.stdout.strip()
        report = SetupReport(mid)
        report.lines.append(
            f"Yüklendi: {module} aec_method=webrtc (modül #{mid}): mikrofon {src or 'varsayılan'} → kaynak {SOURCE_NAME}, "
            f"hoparlör {snk or 'varsayılan'} ← çıkış {SINK_NAME}."
        )
        report.undo.append(f"pactl unload-module {mid}")
    if make_default:
        old_src, old_snk = info.get("Default Source", ""), info.get("Default Sink", "")
        for kind, name, old in (("source", SOURCE_NAME, old_src), ("sink", SINK_NAME, old_snk)):
            if old == name:
                continue
            res = _pactl([f"set-default-{kind}", name], env)
            if res.returncode != 0:
                raise EchoCancelError(f"varsayılan {kind} {name} yapılamadı: {(res.stderr or res.stdout).strip()}")
            report.lines.append(f"Varsayılan {'kaynak' if kind == 'source' else 'çıkış'}: {old or '?'} → {name}.")
            if old:
                report.undo.insert(0, f"pactl set-default-{kind} {old}")
    else:
        report.lines.append(
            "Varsayılanlar değiştirilmedi. Bantz'ın bunları kullanması için --default ile yeniden çalıştırın "
            f"ya da servisi PULSE_SOURCE={SOURCE_NAME} PULSE_SINK={SINK_NAME} ortamıyla başlatın."
        )
    return report


def undo(env: dict[str, str] | None = None, module: str = MODULE) -> str | None:
    """Unload Bantz's echo-cancel module; returns its id, or None when it was not loaded."""
    _check_pactl()
    _server_info(env)
    mid = loaded_module(env, module)
    if mid is None:
        return None
    res = _pactl(["unload-module", mid], env)
    if res.returncode != 0:
        raise EchoCancelError(f"modül #{mid} kaldırılamadı: {(res.stderr or res.stdout).strip()}")
    return mid
