"""``bantz-voice service install|uninstall|status``: the systemd user units.

Units go to ``$XDG_CONFIG_HOME/systemd/user/`` (``~/.config/systemd/user``). ``install`` writes
``bantz-voice.service`` with ``ExecStart`` pointing at this installation, enables it for the
session (the ``default.target.wants`` link that ``systemctl --user enable`` makes) and, when a
user manager is running, reloads it and starts the service. ``--with-vllm`` also installs the vLLM
units shipped as package data in ``bantz_voice/data/systemd/`` (GPU machines).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bantz_voice.errors import BantzError

REPO_SYSTEMD_DIR = Path(__file__).resolve().parent.parent / "data" / "systemd"  # package data: unit templates
MAIN_UNIT = "bantz-voice.service"
WANTS = "default.target.wants"


class ServiceError(BantzError):
    pass


def user_unit_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def exec_command(*args: str) -> list[str]:
    """How systemd should run this installation's ``bantz-voice ARGS`` (default: ``run``)."""
    args = args or ("run",)
    script = Path(sys.executable).parent / "bantz-voice"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script), *args]
    return [str(Path(sys.executable).absolute()), "-m", "bantz_voice", *args]


def render_main_unit(template: Path | None = None) -> str:
    src = template or REPO_SYSTEMD_DIR / MAIN_UNIT
    try:
        text = src.read_text(encoding="utf-8")
    except OSError as exc:
        raise ServiceError(f"birim şablonu okunamadı: {src} ({exc.strerror})") from exc
    replace = {
        "ExecStart=": "ExecStart=" + shlex.join(exec_command()),
        # the template's own arguments (reload --timeout N), run by this installation
        "ExecReload=": "ExecReload=" + shlex.join(exec_command(*_template_args(text, "ExecReload="))),
        "ReadWritePaths=": "ReadWritePaths=" + " ".join(_unit_path(p) for p in writable_dirs()),
    }
    lines = [next((new for key, new in replace.items() if ln.startswith(key)), ln) for ln in text.splitlines()]
    # no WorkingDirectory: the defaults, manifest and unit templates are package data
    return "\n".join(lines) + "\n"


def _template_args(text: str, key: str) -> list[str]:
    """The arguments after ``bantz-voice`` on the template's ``key`` line (``ExecReload=/usr/bin/env
    bantz-voice reload --timeout 280`` -> ``["reload", "--timeout", "280"]``)."""
    line = next((ln for ln in text.splitlines() if ln.startswith(key)), "")
    words = shlex.split(line[len(key):])
    return words[words.index("bantz-voice") + 1:] if "bantz-voice" in words else []


def render_vllm_unit(template: Path, key_file: Path) -> str:
    """The vLLM unit with ``EnvironmentFile=`` naming the key file that was generated."""
    text = template.read_text(encoding="utf-8")
    lines = [f"EnvironmentFile={_unit_path(key_file)}" if ln.startswith("EnvironmentFile=") else ln for ln in text.splitlines()]
    return "\n".join(lines) + "\n"


def writable_dirs() -> list[Path]:
    """What the sandboxed daemon may write: its data (calendar, models), state (memory, traces) and
    cache dirs, the models directory (when it is not inside the data dir), the calendar file's
    directory and the control socket's, as the settings resolve them now. Created (0700) by
    ``install`` so the unit can start."""
    from bantz_voice import paths

    dirs = [paths.data_dir(), paths.state_dir(), paths.cache_dir()]
    try:
        # Where the models are: a source checkout keeps them in its models/cache, outside the data
        # dir. Loading a model takes a lock file beside it and may set up a PyPI-packaged one there;
        # read-only, the sandboxed daemon failed at start (found under a real user manager).
        from bantz_voice.models.manager import models_dir

        mdir = models_dir().expanduser().absolute()
        if not mdir.is_relative_to(paths.data_dir().expanduser().absolute()):
            dirs.append(mdir)
    except Exception:
        pass
    try:
        from bantz_voice.calendar import default_ics_path
        from bantz_voice.config import load_settings
        from bantz_voice.daemon.wire import socket_path_from

        settings = load_settings()
        dirs.append(default_ics_path(settings).parent)
        sock_dir = socket_path_from(settings.daemon.socket_path).parent
        if sock_dir != paths.runtime_dir():  # the default one is RuntimeDirectory=bantz
            dirs.append(sock_dir)
    except Exception:
        pass
    out: list[Path] = []
    for d in dirs:
        d = d.expanduser().absolute()
        if d not in out:
            out.append(d)
    return out


PRIVATE_TMP_DIRS = (Path("/tmp"), Path("/var/tmp"))  # PrivateTmp=yes gives the unit empty ones


def hidden_by_private_tmp(paths: list[Path] | None = None) -> list[Path]:
    """The paths the unit needs (its interpreter, this package, the writable dirs) that lie under
    /tmp or /var/tmp: the sandbox's ``PrivateTmp=yes`` replaces those with empty directories, so a
    service started from there exits at once (226/NAMESPACE)."""
    need = paths if paths is not None else [Path(sys.executable), Path(__file__).resolve().parent.parent, *writable_dirs()]
    out: list[Path] = []
    for p in need:
        p = p.expanduser().absolute()
        if any(p == d or p.is_relative_to(d) for d in PRIVATE_TMP_DIRS) and p not in out:
            out.append(p)
    return out


def _unit_path(path: Path) -> str:
    """A path for a unit file: specifier and space safe ('%' doubled, quoted when needed)."""
    text = str(path).replace("%", "%%")
    return f'"{text}"' if any(ch.isspace() for ch in text) else text


def vllm_units() -> list[Path]:
    return sorted(REPO_SYSTEMD_DIR.glob("bantz-vllm-*.service"))


def _manager_available() -> bool:
    if not shutil.which("systemctl"):
        return False
    try:
        res = subprocess.run(
            ["systemctl", "--user", "is-system-running"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.stdout.strip() in ("running", "degraded", "starting", "initializing")


def _systemctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True, timeout=30)


@dataclass
class ServiceReport:
    unit_dir: Path
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    manager: bool = False
    messages: list[str] = field(default_factory=list)


def _units(with_vllm: bool) -> list[tuple[str, str]]:
    units: list[tuple[str, str]] = [(MAIN_UNIT, render_main_unit())]
    if with_vllm:
        found = vllm_units()
        if not found:
            raise ServiceError(f"vLLM birim dosyaları bulunamadı: {REPO_SYSTEMD_DIR}/bantz-vllm-*.service")
        from bantz_voice.llm.apikey import key_path

        units += [(p.name, render_vllm_unit(p, key_path())) for p in found]
    return units


def planned_units(with_vllm: bool = False, unit_dir: Path | None = None) -> list[tuple[Path, str]]:
    """(path, text) of every unit ``install`` would write; writes nothing (``--dry-run``)."""
    target = unit_dir or user_unit_dir()
    return [(target / name, text) for name, text in _units(with_vllm)]


def install(with_vllm: bool = False, start: bool = True, unit_dir: Path | None = None) -> ServiceReport:
    target = unit_dir or user_unit_dir()
    report = ServiceReport(unit_dir=target)
    units = _units(with_vllm)
    hidden = hidden_by_private_tmp()
    if hidden:
        report.messages.append(
            "uyarı: servisin ihtiyaç duyduğu şu yollar /tmp altında ve korumalı alanın özel /tmp dizini "
            "bunları gizler, servis başlayamaz: " + ", ".join(str(p) for p in hidden)
            + " (Bantz Voice'u /tmp dışına kurun)"
        )
    for d in writable_dirs():  # the sandbox can only make writable what exists
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
    if with_vllm:
        from bantz_voice.llm.apikey import ensure_key

        key_file = ensure_key()
        report.messages.append(f"vLLM API anahtarı: {key_file} (yalnızca sizin okuyabileceğiniz bir dosya)")
    target.mkdir(parents=True, exist_ok=True)
    wants = target / WANTS
    wants.mkdir(exist_ok=True)
    for name, text in units:
        path = target / name
        path.write_text(text, encoding="utf-8")
        report.written.append(path)
        link = wants / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(Path("..") / name)
    report.manager = _manager_available()
    if report.manager:
        _systemctl("daemon-reload")
        if start:
            res = _systemctl("restart", *[n for n, _ in units])
            if res.returncode != 0:
                report.messages.append(f"servis başlatılamadı: {res.stderr.strip()}")
            else:
                report.messages.append("servis başlatıldı")
    else:
        report.messages.append(
            "kullanıcı systemd yöneticisi bulunamadı; birimler yazıldı ve etkinleştirildi, "
            "bir sonraki oturumda başlar (hemen başlatmak için: systemctl --user start bantz-voice)"
        )
    return report


def uninstall(unit_dir: Path | None = None) -> ServiceReport:
    target = unit_dir or user_unit_dir()
    report = ServiceReport(unit_dir=target)
    names = [MAIN_UNIT] + [p.name for p in target.glob("bantz-vllm-*.service")]
    report.manager = _manager_available()
    if report.manager:
        _systemctl("disable", "--now", *names)
    for name in names:
        for path in (target / WANTS / name, target / name):
            if path.is_symlink() or path.exists():
                path.unlink()
                report.removed.append(path)
    if report.manager:
        _systemctl("daemon-reload")
    if not report.removed:
        report.messages.append("kurulu bir Bantz servisi yoktu")
    return report


@dataclass
class UnitStatus:
    name: str
    installed: bool
    enabled: bool
    active: str  # "active" | "inactive" | "failed" | ... | "bilinmiyor" (no user manager)
    path: Path


def status(unit_dir: Path | None = None) -> list[UnitStatus]:
    target = unit_dir or user_unit_dir()
    names = [MAIN_UNIT] + sorted(p.name for p in target.glob("bantz-vllm-*.service"))
    manager = _manager_available()
    out = []
    for name in names:
        path = target / name
        active = "bilinmiyor"
        if manager:
            active = _systemctl("is-active", name).stdout.strip() or "bilinmiyor"
        out.append(
            UnitStatus(
                name=name,
                installed=path.is_file(),
                enabled=(target / WANTS / name).is_symlink(),
                active=active,
                path=path,
            )
        )
    return out
