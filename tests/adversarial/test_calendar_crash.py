"""Calendar writes that do not finish: a writer process killed (SIGKILL) at random points over 500
writes — the file always parses and no acknowledged event is lost — and a disk that fills up
during a write (a small tmpfs in a private mount namespace, or a file-size limit where no
namespace can be made) — the change is refused in Turkish and the file is left as it was."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import icalendar
import pytest

REPO = Path(__file__).resolve().parents[2]
WRITES = 500

WRITER = textwrap.dedent(
    """
    import os, sys
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo
    from bantz_voice.calendar.ics import IcsCalendar

    path, ack, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tz = ZoneInfo("Europe/Istanbul")
    cal = IcsCalendar(path, tz)
    base = datetime(2026, 12, 1, 8, 0, tzinfo=tz)
    fd = os.open(ack, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    print("ready", flush=True)
    for i in range(start, start + 10_000):
        title = f"yazi-{i:05d}"
        cal.create(title, base + timedelta(minutes=15 * i))
        os.write(fd, (title + "\\n").encode())  # acknowledged only after create() returned
        os.fsync(fd)
    """
)


def _titles(path: Path) -> set[str]:
    cal = icalendar.Calendar.from_ical(path.read_bytes())  # raises on a torn file
    for comp in cal.walk():
        assert not comp.errors, comp.errors
    return {str(c["SUMMARY"]) for c in cal.walk("VEVENT")}


@pytest.mark.timeout(600)
def test_writer_killed_at_random_points_never_tears_the_file_nor_loses_an_event(tmp_path: Path) -> None:
    rng = random.Random(14)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    path, ack = tmp_path / "calendar.ics", tmp_path / "acked.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    kills = 0
    while True:
        acked = ack.read_text().split() if ack.exists() else []
        if len(acked) >= WRITES:
            break
        proc = subprocess.Popen(
            [sys.executable, str(script), str(path), str(ack), str(len(acked) + 1000 * kills)],
            stdout=subprocess.PIPE, env=env,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        target = len(acked) + rng.randint(5, 60)  # kill after a random number of writes…
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            n = len(ack.read_text().split()) if ack.exists() else 0
            if n >= target:
                break
            time.sleep(0.005)
        time.sleep(rng.random() * 0.02)  # …plus a random part of the next one
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        kills += 1
        assert proc.returncode == -signal.SIGKILL, "the writer stopped by itself"
        if path.exists():
            titles = _titles(path)
            missing = set(ack.read_text().split()) - titles
            assert not missing, f"acknowledged events lost after kill {kills}: {sorted(missing)[:5]}"
    titles = _titles(path)
    assert set(ack.read_text().split()) <= titles and len(titles) >= WRITES
    assert kills >= 10
    print(f"\n{kills} writers killed over {len(ack.read_text().split())} acknowledged writes; {len(titles)} events in the file")
    # the next writer cleans the temp files a killed one left behind
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bantz_voice.calendar.ics import IcsCalendar

    IcsCalendar(path, ZoneInfo("Europe/Istanbul")).create("son", datetime(2027, 1, 1, 9, 0))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


DISK_FULL = textwrap.dedent(
    """
    import json, os, sys
    from datetime import datetime
    from zoneinfo import ZoneInfo
    from bantz_voice.calendar import CalendarError
    from bantz_voice.calendar.ics import IcsCalendar

    d, mode = sys.argv[1], sys.argv[2]
    tz = ZoneInfo("Europe/Istanbul")
    cal = IcsCalendar(os.path.join(d, "calendar.ics"), tz)
    for h in range(8, 20):
        cal.create(f"Etkinlik {h}", datetime(2026, 11, 27, h, 0, tzinfo=tz))
    before = open(cal.path, "rb").read()
    filler = os.path.join(d, "filler")
    if mode == "tmpfs":
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)  # take the rest of the space
        for size in (4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"x" * size)
            except OSError:
                pass
        os.close(fd)
    else:  # no file may grow past the calendar's present size (+64 bytes): the next write cannot fit
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) + 64, hard))
    try:
        cal.create("Sığmayan etkinlik", datetime(2026, 11, 28, 9, 0, tzinfo=tz))
        error = None
    except CalendarError as exc:
        error = str(exc)
    after = open(cal.path, "rb").read()
    temps = [n for n in os.listdir(d) if n.endswith(".tmp")]
    if mode == "tmpfs":
        os.unlink(filler)
    else:
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    cal.create("Yer açılınca", datetime(2026, 11, 28, 10, 0, tzinfo=tz))
    titles = [e.title for e in cal.list(datetime(2026, 11, 27, tzinfo=tz), datetime(2026, 11, 29, tzinfo=tz))]
    print(json.dumps({"error": error, "same": before == after, "temps": temps, "titles": titles}))
    """
)


def _disk_full_command(script: Path, target: Path, kind: str) -> list[str]:
    """``tmpfs``: a 48 KiB tmpfs in a private mount namespace (skipped where none can be made);
    ``rlimit``: a file-size limit on the writer (set by the script itself)."""
    if kind == "tmpfs":
        if not shutil.which("unshare"):
            pytest.skip("no unshare")
        probe = subprocess.run(
            ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", f"mount -t tmpfs -o size=48k tmpfs {target}"],
            capture_output=True,
        )
        if probe.returncode != 0:
            pytest.skip(f"no private mount namespace here: {probe.stderr.decode().strip()}")
        inner = f"mount -t tmpfs -o size=48k tmpfs {target} && exec {sys.executable} {script} {target} tmpfs"
        return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", inner]
    return [sys.executable, str(script), str(target), "rlimit"]


@pytest.mark.parametrize("kind", ["tmpfs", "rlimit"])
def test_disk_full_during_a_write_leaves_the_file_as_it_was(tmp_path: Path, kind: str) -> None:
    script = tmp_path / "disk_full.py"
    script.write_text(DISK_FULL)
    target = tmp_path / "small"
    target.mkdir()
    cmd = _disk_full_command(script, target, kind)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["error"] is not None and out["error"].startswith("Takvim dosyası yazılamadı, değişiklik kaydedilmedi")
    if kind == "tmpfs":
        assert "disk dolu" in out["error"]
    assert out["same"] and out["temps"] == []
    assert "Sığmayan etkinlik" not in out["titles"] and "Yer açılınca" in out["titles"] and "Etkinlik 8" in out["titles"]
