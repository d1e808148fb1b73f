"""Control commands: the fast path (no argparse, pydantic, YAML or platformdirs) reaches the same
socket with the same request as the full path, and hands over whenever it cannot be sure."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bantz_voice.cli import fast, main
from bantz_voice.daemon.wire import default_socket_path, plain_socket_path

REPO = Path(__file__).resolve().parent.parent


class OneShotDaemon:
    """A control socket that answers each request with ``reply`` and records the requests."""

    def __init__(self, path: Path, reply: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(4)
        self.reply = reply
        self.requests: list[dict] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                buf = b""
                while not buf.endswith(b"\n"):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                self.requests.append(json.loads(buf))
                conn.sendall((json.dumps(self.reply) + "\n").encode())

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("BANTZ_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("BANTZ_DAEMON__SOCKET_PATH", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    return tmp_path / "run" / "bantz" / "control.sock"


def test_fast_socket_path_is_the_full_paths_one(runtime: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert plain_socket_path(os.environ) == str(default_socket_path()) == str(runtime)
    monkeypatch.setenv("BANTZ_RUNTIME_DIR", str(tmp_path / "own"))
    assert plain_socket_path(os.environ) == str(default_socket_path())


def test_fast_config_files_are_the_layers_load_settings_reads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bantz_voice import paths
    from bantz_voice.config_layers import DEFAULTS_DIR, MAIN_FILE

    for own in (True, False):
        if not own:
            monkeypatch.delenv("BANTZ_CONFIG_DIR", raising=False)
            monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
        assert fast._config_files(os.environ) == [str(DEFAULTS_DIR / MAIN_FILE), str(paths.config_dir() / MAIN_FILE)]


def test_ptt_toggle_fast_path_sends_the_request(runtime: Path, capsys: pytest.CaptureFixture[str]) -> None:
    daemon = OneShotDaemon(runtime, {"type": "ok", "data": {"ptt_active": True}})
    try:
        assert fast.run(["ptt", "toggle"]) == 0  # handled here, not handed over
        assert main(["mute"]) == 0
    finally:
        daemon.close()
    assert daemon.requests == [{"type": "ptt", "data": {"action": "toggle"}}, {"type": "mute"}]
    assert capsys.readouterr().out.splitlines() == [fast.PTT_LISTENING, fast.DONE["mute"]]


def test_error_reply_and_no_daemon(runtime: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ptt", "toggle"]) == 3
    assert "Bantz çalışmıyor" in capsys.readouterr().err
    daemon = OneShotDaemon(runtime, {"type": "error", "data": {"code": "unavailable", "message": "henüz hazır değil"}})
    try:
        assert main(["cancel"]) == 2
    finally:
        daemon.close()
    assert "henüz hazır değil" in capsys.readouterr().err


def test_socket_path_in_user_config_hands_over_to_the_full_path(
    runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere.sock"
    cfg = Path(os.environ["BANTZ_CONFIG_DIR"])
    (cfg / "bantz.yaml").write_text(f"daemon:\n  socket_path: {elsewhere}\n")
    assert fast.run(["ptt", "toggle"]) is None
    daemon = OneShotDaemon(elsewhere, {"type": "ok", "data": {"ptt_active": False}})
    try:
        assert main(["ptt", "toggle"]) == 0
    finally:
        daemon.close()
    assert daemon.requests == [{"type": "ptt", "data": {"action": "toggle"}}]
    assert capsys.readouterr().out.strip() == fast.PTT_DONE
    monkeypatch.setenv("BANTZ_DAEMON__SOCKET_PATH", str(elsewhere))
    assert fast.run(["mute"]) is None


def test_options_and_other_commands_use_the_full_parser(runtime: Path) -> None:
    for argv in (["ptt", "toggle", "--timeout", "1"], ["ptt", "--help"], ["status"], ["ptt", "sideways"], ["mute", "-v"]):
        assert fast.run(argv) is None


def test_fast_path_imports_nothing_heavy(runtime: Path) -> None:
    code = (
        "import sys; from bantz_voice.cli import main; rc = main(['ptt', 'toggle']); "
        "print([m for m in ('argparse', 'pydantic', 'yaml', 'platformdirs', 'bantz_voice.config') if m in sys.modules])"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert res.stdout.strip() == "[]" and "Bantz çalışmıyor" in res.stderr
