"""Start-up of the control socket as an unlucky user or a hostile file would have it: whatever
sits at ``socket_path`` that is not a dead socket is left alone, a directory that is not Bantz's
own is never chmodded (``$HOME`` above all), and a second daemon is refused by the instance lock."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bantz_voice.daemon import client
from bantz_voice.daemon.control import ControlServer, DaemonAlreadyRunning, InstanceLock, NotASocket, socket_path_from


async def handler(request):
    return {"echo": request.type}


@pytest.mark.parametrize("kind", ["file", "symlink", "dir", "fifo"])
async def test_whatever_is_at_the_socket_path_is_not_deleted(tmp_path: Path, kind: str) -> None:
    d = tmp_path / "bantz"
    d.mkdir(mode=0o700)
    sock = d / "control.sock"
    precious = tmp_path / "precious.txt"
    precious.write_text("kullanıcının verisi")
    if kind == "file":
        sock.write_text("kullanıcının verisi")
    elif kind == "symlink":
        sock.symlink_to(precious)
    elif kind == "dir":
        sock.mkdir()
    else:
        os.mkfifo(sock)
    with pytest.raises(NotASocket, match="dokunulmadı"):
        await ControlServer(sock, handler).start()
    assert os.path.lexists(sock)
    assert precious.read_text() == "kullanıcının verisi"
    if kind == "file":
        assert sock.read_text() == "kullanıcının verisi"
    if kind == "symlink":
        assert sock.is_symlink()


async def test_live_socket_is_kept_and_stale_one_replaced(tmp_path: Path) -> None:
    sock = tmp_path / "rt" / "control.sock"
    first = ControlServer(sock, handler)
    await first.start()
    try:
        with pytest.raises(DaemonAlreadyRunning):
            await ControlServer(sock, handler).start()
        assert (await asyncio.to_thread(client.call, sock, "status")) == {"echo": "status"}
    finally:
        await first.close()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock))
    stale.close()  # a socket nobody listens on (crashed daemon): replaced
    server = ControlServer(sock, handler)
    await server.start()
    try:
        assert (await asyncio.to_thread(client.call, sock, "status")) == {"echo": "status"}
    finally:
        await server.close()


async def test_socket_in_a_shared_dir_goes_into_a_private_subdir(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(home, 0o755)  # like $HOME
    configured = home / "bantz.sock"
    server = ControlServer(configured, handler)
    await server.start()
    try:
        assert stat.S_IMODE(home.stat().st_mode) == 0o755  # never chmodded
        assert server.path == home / "bantz" / "bantz.sock"
        assert stat.S_IMODE(server.path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(server.path.stat().st_mode) == 0o600
        # clients resolve the same configured path to the same socket
        assert socket_path_from(configured) == server.path
        assert (await asyncio.to_thread(client.call, socket_path_from(configured), "status")) == {"echo": "status"}
    finally:
        await server.close()
    assert stat.S_IMODE(home.stat().st_mode) == 0o755


async def test_close_removes_only_its_own_socket(tmp_path: Path) -> None:
    sock = tmp_path / "rt" / "control.sock"
    server = ControlServer(sock, handler)
    await server.start()
    sock.unlink()
    sock.write_text("başkasının dosyası")  # put there while we ran
    await server.close()
    assert sock.read_text() == "başkasının dosyası"


def test_instance_lock_is_exclusive_and_names_the_holder(tmp_path: Path) -> None:
    lock = tmp_path / "daemon.lock"
    first = InstanceLock(lock)
    first.acquire()
    try:
        # another process cannot take it
        code = (
            "import sys\nfrom pathlib import Path\n"
            "from bantz_voice.daemon.control import InstanceLock, DaemonAlreadyRunning\n"
            f"try:\n    InstanceLock(Path({str(lock)!r})).acquire()\nexcept DaemonAlreadyRunning as e:\n"
            "    print(e); sys.exit(3)\n"
        )
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert res.returncode == 3, res.stderr
        assert f"pid {os.getpid()}" in res.stdout and "zaten çalışıyor" in res.stdout
        with pytest.raises(DaemonAlreadyRunning):
            InstanceLock(lock).acquire()  # nor another open file in this process
    finally:
        first.release()
    again = InstanceLock(lock)
    again.acquire()  # released: free again (a crash releases it the same way)
    again.release()
