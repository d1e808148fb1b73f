"""The sandboxed units (systemd-analyze verify and security), the vLLM API key, the exit code
that stops restarts on a configuration error, and CalDAV credentials (http:// refused for remote
hosts, passwords redacted in `config show`, `doctor` and reprs)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bantz_voice import paths
from bantz_voice.daemon import service
from bantz_voice.errors import EXIT_CONFIG

needs_analyze = pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze missing")
SANDBOX = (
    "UMask=0077", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=read-only", "PrivateTmp=yes",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK", "MemoryMax=", "RuntimeDirectory=bantz",
    "RuntimeDirectoryMode=0700", "RestartPreventExitStatus=78", "LimitCORE=0", "SystemCallFilter=@system-service",
)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setattr(service, "_manager_available", lambda: False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    report = service.install(with_vllm=True, start=False)
    return {p.name: p for p in report.written}


def _analyze(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    home, rt = tmp_path / "home", tmp_path / "rt"
    home.mkdir(exist_ok=True)
    rt.mkdir(mode=0o700, exist_ok=True)
    vllm = home / ".local/share/bantz/vllm/bin/vllm"  # the unit's ExecStart (vLLM lives in its own venv)
    vllm.parent.mkdir(parents=True, exist_ok=True)
    vllm.write_text("#!/bin/sh\n")
    vllm.chmod(0o755)
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(rt), "SYSTEMD_LOG_LEVEL": "notice"}
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, env=env, cwd=tmp_path)


def test_main_unit_is_sandboxed_and_may_write_only_its_own_dirs(installed: dict[str, Path]) -> None:
    text = installed["bantz-voice.service"].read_text()
    for line in SANDBOX:
        assert line in text, line
    rw = next(ln for ln in text.splitlines() if ln.startswith("ReadWritePaths="))
    dirs = rw.split("=", 1)[1].split()
    assert dirs[:3] == [str(paths.data_dir()), str(paths.state_dir()), str(paths.cache_dir())]
    assert str(paths.config_dir()) not in dirs  # settings are read-only for the daemon
    for d in dirs:
        assert Path(d).is_dir() and stat.S_IMODE(Path(d).stat().st_mode) & 0o077 == 0


@needs_analyze
def test_installed_units_verify(installed: dict[str, Path], tmp_path: Path) -> None:
    for unit in installed.values():
        res = _analyze(tmp_path, "verify", "--user", str(unit))
        assert res.returncode == 0, res.stderr
        assert "Unknown key" not in res.stderr and "Unknown lvalue" not in res.stderr, res.stderr


@needs_analyze
def test_security_exposure_scores(installed: dict[str, Path], tmp_path: Path) -> None:
    """`systemd-analyze security` (offline) score: lower is better; 10 is no sandbox at all."""
    limits = {"bantz-voice.service": 5.0, "bantz-vllm-main.service": 6.5}
    for name, unit in installed.items():
        res = _analyze(tmp_path, "security", "--offline=yes", "--user", str(unit))
        if res.returncode != 0 and "offline" in res.stderr:
            pytest.skip("systemd-analyze without --offline")
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", res.stdout)
        assert m, res.stdout[-500:] + res.stderr
        assert float(m.group(1)) <= limits[name], (name, m.group(1))


def test_vllm_key_generated_private_and_kept_out_of_the_command_line(installed: dict[str, Path]) -> None:
    from bantz_voice.llm.apikey import key_path, local_key

    key_file = key_path()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = local_key()
    assert key and len(key) >= 32
    unit = installed["bantz-vllm-main.service"].read_text()
    assert f"EnvironmentFile={key_file}" in unit and key not in unit
    exec_line = next(ln for ln in unit.splitlines() if ln.startswith("ExecStart="))
    assert "--api-key" not in exec_line and "--host 127.0.0.1" in exec_line
    for line in ("ProtectSystem=strict", "ProtectHome=read-only", "PrivateTmp=yes", "NoNewPrivileges=yes", "UMask=0077"):
        assert line in unit
    service.install(with_vllm=True, start=False)
    assert local_key() == key  # a second install keeps the key the running server uses


def test_config_error_exits_with_ex_config(tmp_path: Path) -> None:
    env = {**os.environ, "BANTZ_VAD__AGGRESSIVENESS": "9", "NOTIFY_SOCKET": str(tmp_path / "none")}
    res = subprocess.run([sys.executable, "-m", "bantz_voice", "run"], capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == EXIT_CONFIG == 78, res.stderr
    assert res.stderr.startswith("hata: ") and "vad.aggressiveness" in res.stderr and "Traceback" not in res.stderr
    unit = (service.REPO_SYSTEMD_DIR / service.MAIN_UNIT).read_text()
    assert f"RestartPreventExitStatus={EXIT_CONFIG}" in unit


def test_caldav_http_to_a_remote_host_is_refused_in_turkish() -> None:
    from zoneinfo import ZoneInfo

    from bantz_voice.calendar import CalendarError
    from bantz_voice.calendar.caldav_backend import CaldavCalendar

    tz = ZoneInfo("Europe/Istanbul")
    with pytest.raises(CalendarError, match=r"şifresiz http:// ile bağlanmıyorum.*https://") as info:
        CaldavCalendar("http://ayse:gizli-parola@dav.example.com/cal", None, None, tz)
    assert "gizli-parola" not in str(info.value)
    for url in ("http://127.0.0.1:5232/", "http://localhost:5232/", "http://[::1]:5232/", "https://dav.example.com/"):
        CaldavCalendar(url, "ayse", "x", tz)  # allowed: loopback, or TLS


def test_password_in_caldav_url_is_redacted_everywhere(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bantz_voice.cli import main
    from bantz_voice.config import load_settings
    from bantz_voice.health import check_calendar

    secret = "S3cr3t-parola"
    monkeypatch.setenv("BANTZ_CALENDAR__BACKEND", "caldav")
    monkeypatch.setenv("BANTZ_CALENDAR__CALDAV_URL", f"https://ayse:{secret}@dav.example.invalid/cal/")
    monkeypatch.setenv("BANTZ_CALENDAR__TIMEOUT_S", "1")
    assert main(["config", "show"]) == 0
    yaml_out = capsys.readouterr().out
    assert main(["config", "show", "--json"]) == 0
    json_out = capsys.readouterr().out
    assert secret not in yaml_out and secret not in json_out
    assert json.loads(json_out)["calendar"]["caldav_url"] == "https://ayse:***@dav.example.invalid/cal/"
    settings = load_settings()
    assert secret not in repr(settings) and secret not in str(settings)
    check = check_calendar(settings)
    assert secret not in check.message
