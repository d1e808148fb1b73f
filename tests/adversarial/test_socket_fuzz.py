"""Socket fuzzing against the real daemon (``run --responder echo``): random bytes, JSON bombs,
10 MB lines, half-open clients, clients that never read, idle clients holding every slot, 100
concurrent clients and a second daemon. After each, the daemon still answers ``status``, and
once the clients are gone it holds no more file descriptors than before."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fixtures.daemon import REPO, RunningDaemon

from bantz_voice.daemon import client
from bantz_voice.daemon.control import EVICT_IDLE_S, MAX_CLIENTS

pytestmark = pytest.mark.slow

STATUS = b'{"type": "status"}\n'


def exchange(path: Path, payload: bytes, timeout: float = 20.0) -> tuple[list[bytes], bool]:
    """Send ``payload``, close our writing side, read until the daemon closes. Returns the reply
    lines and whether the daemon cut the connection while we were still sending."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(path))
    cut = False
    try:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        cut = True
    buf = b""
    try:
        while chunk := s.recv(65536):
            buf += chunk
    except ConnectionResetError:
        cut = True
    finally:
        s.close()
    return [ln for ln in buf.split(b"\n") if ln.strip()], cut


def assert_error_replies(lines: list[bytes]) -> None:
    for ln in lines:
        reply = json.loads(ln)
        assert reply["type"] == "error", reply
        assert reply["data"]["code"] in ("bad_json", "bad_request", "unknown_type", "too_large", "unavailable")
        assert reply["data"]["message"]


def wait_clients_gone(d: RunningDaemon, deadline_s: float = 60.0) -> dict:
    """Wait until the only client left is the one asking (the status request itself)."""
    deadline = time.monotonic() + deadline_s
    while True:
        st = d.status_when_possible()
        if st["control"]["clients"] <= 1:
            return st
        assert time.monotonic() < deadline, st["control"]
        time.sleep(0.2)


@pytest.fixture(scope="module")
def baseline(echo_daemon: RunningDaemon) -> dict[str, int]:
    wait_clients_gone(echo_daemon)
    return echo_daemon.stats()


def test_random_bytes_and_json_bombs(echo_daemon: RunningDaemon, baseline: dict[str, int]) -> None:
    rng = random.Random(1414)
    payloads = [rng.randbytes(rng.choice([1, 17, 300, 5000, 40000])) + (b"\n" if rng.random() < 0.6 else b"")
                for _ in range(120)]
    payloads += [
        b"[" * 100_000 + b"\n",  # nesting bomb, bigger than a line
        b"[" * 60_000 + b"\n",  # nesting bomb within the line limit (RecursionError in json)
        b'{"type": "status", "id": ' + b"9" * 50_000 + b"}\n",  # an integer past Python's digit limit
        b'{"type": "say", "data": {"text": "' + "ş".encode() * 2001 + b'"}}\n',  # over MAX_SAY_CHARS
        b'{"type": "say", "data": {"text": "\\ud800"}}\n',  # lone surrogate
        b'{"type": "ptt", "data": {"action": "start", "extra": 1}}\n',
        b"\xff\xfe" + '{"type":"status"}'.encode("utf-16-le") + b"\n",
        b"\x00" * 1000 + b"\n",
        b"\n" * 10_000,  # empty lines only: nothing to answer
    ]
    for payload in payloads:
        lines, _ = exchange(echo_daemon.socket, payload)
        assert_error_replies(lines)
    assert echo_daemon.alive()
    assert echo_daemon.call("status")["ready"]


@pytest.mark.parametrize("newline", [False, True])
def test_ten_megabyte_line(echo_daemon: RunningDaemon, newline: bool) -> None:
    payload = b'{"type": "say", "data": {"text": "' + b"a" * (10 * 2**20) + b'"}}' + (b"\n" if newline else b"")
    lines, cut = exchange(echo_daemon.socket, payload)
    assert lines or cut  # an error reply (too_large), or the daemon hung up on the rest
    assert_error_replies(lines)
    assert all(json.loads(ln)["data"]["code"] == "too_large" for ln in lines)
    assert echo_daemon.call("status")["ready"]


def test_half_open_clients(echo_daemon: RunningDaemon) -> None:
    # request then our side closed: answered anyway
    lines, _ = exchange(echo_daemon.socket, STATUS * 3)
    assert [json.loads(ln)["type"] for ln in lines] == ["ok"] * 3
    # a request cut in the middle, then closed: one bad_json reply, no hang
    lines, _ = exchange(echo_daemon.socket, b'{"type": "sta')
    assert [json.loads(ln)["data"]["code"] for ln in lines] == ["bad_json"]
    # connect and vanish, many times; and clients that stop reading but keep writing
    for _ in range(50):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(echo_daemon.socket))
        s.close()
    for _ in range(5):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(echo_daemon.socket))
        s.shutdown(socket.SHUT_RD)
        try:
            s.sendall(STATUS * 50)
        except OSError:
            pass
        s.close()
    assert echo_daemon.call("status")["ready"]


def _flood(path: Path, result: list[str], deadline_s: float = 120.0) -> None:
    """Send status requests and never read a reply, until the daemon hangs up."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(deadline_s)
    s.connect(str(path))
    end = time.monotonic() + deadline_s
    try:
        while time.monotonic() < end:
            s.sendall(STATUS * 2000)
        result.append("never cut")
    except (BrokenPipeError, ConnectionResetError):
        result.append("cut")
    except TimeoutError:
        result.append("timeout")
    finally:
        s.close()


def test_clients_that_never_read_are_dropped(echo_daemon: RunningDaemon, baseline: dict[str, int]) -> None:
    before = echo_daemon.call("status")["control"]
    results: list[str] = []
    t0 = time.monotonic()
    floods = [threading.Thread(target=_flood, args=(echo_daemon.socket, results)) for _ in range(MAX_CLIENTS + 4)]
    for t in floods:
        t.start()
    # while they flood, a well-behaved client is still served (an idle flooder makes room)
    assert echo_daemon.status_when_possible()["ready"]
    for t in floods:
        t.join(180)
    assert not any(t.is_alive() for t in floods)
    assert results == ["cut"] * len(floods), results
    st = wait_clients_gone(echo_daemon)
    dropped = st["control"]["dropped_slow"] - before["dropped_slow"]
    evicted = st["control"]["evicted_idle"] - before["evicted_idle"]
    refused = st["control"]["refused"] - before["refused"]
    assert dropped + evicted + refused >= len(floods), st["control"]  # each one ended one of these ways
    assert dropped + evicted >= 1
    print(f"\nfigures: {len(floods)} non-reading clients cut after {time.monotonic() - t0:.1f} s "
          f"(dropped {dropped}, evicted {evicted}, refused {refused})")
    assert echo_daemon.stats()["fds"] <= baseline["fds"] + 2


def test_idle_clients_cannot_lock_everyone_out(echo_daemon: RunningDaemon) -> None:
    before = echo_daemon.call("status")["control"]["evicted_idle"]
    idle = []
    for _ in range(MAX_CLIENTS + 8):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(echo_daemon.socket))
        idle.append(s)
    try:
        # the idle connections hold every slot; after EVICT_IDLE_S the oldest gives way
        st = echo_daemon.status_when_possible(deadline_s=EVICT_IDLE_S + 20)
        assert st["ready"] and st["control"]["evicted_idle"] > before
    finally:
        for s in idle:
            s.close()


def test_hundred_concurrent_clients(echo_daemon: RunningDaemon, baseline: dict[str, int]) -> None:
    n = 100
    barrier = threading.Barrier(n)
    replies: list[client.Reply | BaseException] = []
    lock = threading.Lock()

    def one() -> None:
        barrier.wait(60)
        try:
            r: client.Reply | BaseException = client.request(echo_daemon.socket, "status", timeout=60)
        except BaseException as exc:
            r = exc
        with lock:
            replies.append(r)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert len(replies) == n
    errors = [r for r in replies if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    ok = [r for r in replies if r.ok]
    refused = [r for r in replies if not r.ok]
    assert len(ok) >= MAX_CLIENTS  # at least a full house served at once; the rest told why
    assert all(r.data["code"] == "unavailable" and "bağlantı" in r.data["message"] for r in refused)
    print(f"\nfigures: {n} concurrent clients: {len(ok)} served, {len(refused)} refused with a reason")
    wait_clients_gone(echo_daemon)
    assert echo_daemon.stats()["fds"] <= baseline["fds"] + 2


def test_second_daemon_refused(echo_daemon: RunningDaemon, tmp_path: Path) -> None:
    env = dict(echo_daemon.env)
    env["BANTZ_DAEMON__SOCKET_PATH"] = str(tmp_path / "other" / "control.sock")  # even on another socket
    res = subprocess.run([sys.executable, "-m", "bantz_voice", "run", "--responder", "echo"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0
    assert "zaten çalışıyor" in res.stderr and f"pid {echo_daemon.proc.pid}" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "other" / "control.sock").exists()
    assert echo_daemon.call("status")["pid"] == echo_daemon.proc.pid


def test_many_requests_do_not_grow_the_daemon(echo_daemon: RunningDaemon, baseline: dict[str, int]) -> None:
    for _ in range(300):
        echo_daemon.call("status")
    after = echo_daemon.stats()
    print(f"\nfigures: daemon before {baseline}, after the suite {after}")
    assert after["fds"] <= baseline["fds"] + 2
    assert after["threads"] <= baseline["threads"] + 2
    assert after["rss_kb"] < baseline["rss_kb"] * 1.10
