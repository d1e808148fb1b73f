"""sd_notify against a real notify socket, unit files (systemd-analyze verify), service install."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bantz_voice.daemon import service
from bantz_voice.daemon.notify import Heartbeat, Notifier, watchdog_interval_s

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_user_manager(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never touch a real systemd user manager from the tests (a developer's machine has one)."""
    monkeypatch.setattr(service, "_manager_available", lambda: False)
    rt = tmp_path / "no-manager-runtime"
    rt.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(rt))  # subprocesses: `systemctl --user` finds no bus
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
needs_analyze = pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze missing")


def _recv_all(sock: socket.socket) -> list[str]:
    out = []
    sock.settimeout(0.5)
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except TimeoutError:
        return out


@pytest.mark.parametrize("abstract", [False, True])
def test_notifier_real_socket(tmp_path: Path, abstract: bool) -> None:
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = f"bantz-test-{os.getpid()}"
        srv.bind(b"\0" + name.encode())
        addr = "@" + name
    else:
        addr = str(tmp_path / "notify.sock")
        srv.bind(addr)
    n = Notifier(addr)
    assert n.ready("hazır") and n.watchdog() and n.reloading() and n.stopping()
    msgs = _recv_all(srv)
    srv.close()
    assert msgs[0].splitlines()[:2] == ["READY=1", "STATUS=hazır"]
    assert f"MAINPID={os.getpid()}" in msgs[0]
    assert msgs[1] == "WATCHDOG=1"
    assert msgs[2].startswith("RELOADING=1\nMONOTONIC_USEC=")
    assert msgs[3] == "STOPPING=1"


def test_notifier_extends_the_timeout_and_never_blocks_on_a_full_queue(tmp_path: Path) -> None:
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    addr = str(tmp_path / "notify.sock")
    srv.bind(addr)
    n = Notifier(addr)
    assert n.extend_timeout(30)
    assert _recv_all(srv) == ["EXTEND_TIMEOUT_USEC=30000000"]
    # nobody reads any more: the queue fills and a send gives up instead of stalling the daemon
    sent = 0
    while n.status("yükleniyor") and sent < 100_000:
        sent += 1
    assert 0 < sent < 100_000
    assert not n.status("yükleniyor")  # and again, without hanging
    srv.close()
    n.close()


def test_notifier_without_socket_is_noop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    n = Notifier()
    assert not n.enabled and not n.ready()


def test_watchdog_interval() -> None:
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval_s({}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "x"}) is None


def test_heartbeat_goes_stale() -> None:
    t = [0.0]
    hb = Heartbeat(2.0, clock=lambda: t[0])
    assert hb.fresh
    t[0] = 2.5
    assert not hb.fresh
    hb.beat()
    assert hb.fresh


def _stub_home_executables(unit: Path, home: Path) -> None:
    """ExecStart binaries under %h (the vLLM venv on GPU machines) get an executable stand-in."""
    for line in unit.read_text().splitlines():
        if line.startswith("ExecStart=%h/"):
            exe = home / line.split("=", 1)[1].split()[0][len("%h/"):]
            exe.parent.mkdir(parents=True, exist_ok=True)
            exe.write_text("#!/bin/sh\nexit 0\n")
            exe.chmod(0o755)


def _verify(unit: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    rt = tmp_path / "xdg-runtime"
    rt.mkdir(mode=0o700, exist_ok=True)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    _stub_home_executables(unit, home)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(rt), "HOME": str(home), "SYSTEMD_LOG_LEVEL": "notice"}
    return subprocess.run(
        ["systemd-analyze", "verify", "--user", str(unit)], capture_output=True, text=True, env=env, cwd=tmp_path
    )


@needs_analyze
def test_verify_catches_broken_unit(tmp_path: Path) -> None:
    bad = tmp_path / "broken.service"
    bad.write_text("[Service]\nType=notify\nExecStart=/nonexistent/bantz run\n")
    assert _verify(bad, tmp_path).returncode != 0


@needs_analyze
@pytest.mark.parametrize("unit", sorted((REPO / "bantz_voice" / "data" / "systemd").glob("*.service")), ids=lambda p: p.name)
def test_shipped_units_verify(unit: Path, tmp_path: Path) -> None:
    res = _verify(unit, tmp_path)
    assert res.returncode == 0, res.stderr
    if unit.name == "bantz-voice.service":
        text = unit.read_text()
        for line in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "StandardOutput=journal", "ExecReload="):
            assert line in text
        assert "Unknown key" not in res.stderr, res.stderr


@needs_analyze
def test_service_install_status_uninstall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    report = service.install()
    unit = tmp_path / "cfg" / "systemd" / "user" / "bantz-voice.service"
    assert report.written == [unit]
    text = unit.read_text()
    exec_line = next(ln for ln in text.splitlines() if ln.startswith("ExecStart="))
    assert "/usr/bin/env" not in exec_line and exec_line.rstrip().endswith("run")
    assert Path(exec_line.split("=", 1)[1].split()[0]).is_file()
    # reload is this installation's `reload` over the control socket (it returns once applied),
    # within the start timeout that bounds ExecReload
    reload_line = next(ln for ln in text.splitlines() if ln.startswith("ExecReload="))
    words = reload_line.split("=", 1)[1].split()
    assert words[0] == exec_line.split("=", 1)[1].split()[0] and "kill" not in reload_line
    assert words[-3:-1] == ["reload", "--timeout"]
    start_timeout = int(next(ln for ln in text.splitlines() if ln.startswith("TimeoutStartSec=")).split("=")[1])
    assert 0 < float(words[-1]) < start_timeout
    link = unit.parent / "default.target.wants" / "bantz-voice.service"
    assert link.is_symlink() and link.resolve() == unit.resolve()
    res = _verify(unit, tmp_path)
    assert res.returncode == 0, res.stderr

    st = {s.name: s for s in service.status()}["bantz-voice.service"]
    assert st.installed and st.enabled

    service.install()  # idempotent
    assert link.is_symlink()

    removed = service.uninstall()
    assert unit in removed.removed and not unit.exists() and not link.is_symlink()
    st = {s.name: s for s in service.status()}["bantz-voice.service"]
    assert not st.installed and not st.enabled
    assert service.uninstall().messages  # "nothing installed" is said, not an error


def test_paths_under_tmp_are_named_because_the_sandbox_hides_them() -> None:
    hidden = service.hidden_by_private_tmp([Path("/tmp/clone/.venv/bin/python"), Path("/home/u/.local/share/bantz"),
                                            Path("/var/tmp/models"), Path("/tmpfoo/x")])
    assert hidden == [Path("/tmp/clone/.venv/bin/python"), Path("/var/tmp/models")]


def test_install_from_under_tmp_warns_in_turkish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setattr(service, "_manager_available", lambda: False)
    monkeypatch.setattr(service.sys, "executable", "/tmp/clone/.venv/bin/python")
    report = service.install(start=False)
    warning = [m for m in report.messages if "/tmp/clone/.venv/bin/python" in m]
    assert warning and "başlayamaz" in warning[0]
    monkeypatch.setattr(service.sys, "executable", "/opt/bantz/.venv/bin/python")
    monkeypatch.setattr(service, "hidden_by_private_tmp", lambda: [])
    assert not any("başlayamaz" in m for m in service.install(start=False).messages)


def test_service_cli(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "bantz_voice", "service", *a], capture_output=True, text=True, env=env, cwd=REPO
    )
    res = run("install")
    assert res.returncode == 0, res.stderr
    assert "bantz-voice.service" in res.stdout
    res = run("status")
    assert res.returncode == 0 and "kurulu" in res.stdout
    if service.vllm_units():
        res = run("install", "--with-vllm", "--no-start")
        assert res.returncode == 0 and "bantz-vllm-" in res.stdout, res.stderr
    res = run("uninstall")
    assert res.returncode == 0 and not (tmp_path / "cfg/systemd/user/bantz-voice.service").exists()



@needs_analyze
def test_service_install_with_vllm_units(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not service.vllm_units():
        pytest.skip("no vLLM units shipped")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    report = service.install(with_vllm=True, start=False)
    names = sorted(p.name for p in report.written)
    assert names == sorted(["bantz-voice.service", *(p.name for p in service.vllm_units())])
    for unit in report.written:
        assert (unit.parent / "default.target.wants" / unit.name).is_symlink()
        res = _verify(unit, tmp_path)
        assert res.returncode == 0, res.stderr
    assert {s.name for s in service.status()} == set(names)
    removed = service.uninstall()
    assert all(not p.exists() for p in report.written) and len(removed.removed) == 2 * len(names)
