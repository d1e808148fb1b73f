"""``bantz-voice calendar list|add|rm``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bantz_voice import paths
from bantz_voice.cli import main

REPO = Path(__file__).resolve().parent.parent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["calendar", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def listed(capsys) -> list[dict]:
    code, out, _ = run(capsys, "list", "--from", "2026-11-01", "--to", "2026-11-30", "--json")
    assert code == 0
    return json.loads(out)


def test_add_list_rm(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "add", "Diş hekimi", "--start", "2026-11-27T14:00")
    assert code == 0 and out.startswith("eklendi: 2026-11-27 Cum 14:00–15:00 Diş hekimi")
    assert run(capsys, "add", "Bayram", "--start", "2026-11-28", "--all-day")[0] == 0
    assert run(capsys, "add", "Uzun", "--start", "2026-11-29T09:00", "--end", "2026-11-29T12:30")[0] == 0
    events = listed(capsys)
    assert [(e["title"], e["start"], e["end"], e["all_day"]) for e in events] == [
        ("Diş hekimi", "2026-11-27T14:00:00+03:00", "2026-11-27T15:00:00+03:00", False),
        ("Bayram", "2026-11-28", "2026-11-29", True),
        ("Uzun", "2026-11-29T09:00:00+03:00", "2026-11-29T12:30:00+03:00", False),
    ]
    code, out, _ = run(capsys, "list", "--from", "2026-11-28", "--to", "2026-11-28")
    assert code == 0 and out.splitlines() == [f"2026-11-28 Cmt tüm gün     Bayram  [{events[1]['uid']}]"]
    code, out, _ = run(capsys, "rm", events[0]["uid"])
    assert code == 0 and "silindi: Diş hekimi" in out
    assert [e["title"] for e in listed(capsys)] == ["Bayram", "Uzun"]
    assert (paths.data_dir() / "calendar.ics").is_file()


def test_clash_warns_but_adds(capsys) -> None:
    run(capsys, "add", "Ekip toplantısı", "--start", "2026-11-27T14:00")
    code, _, err = run(capsys, "add", "Diş hekimi", "--start", "2026-11-27T14:30")
    assert code == 0 and "uyarı: o saatte 'Ekip toplantısı' var" in err
    assert len(listed(capsys)) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "X", "--start", "2026-13-01T10:00"], "--start geçersiz"),
        (["add", "X", "--start", "2026-11-27T10:00", "--end", "2026-11-27T09:00"], "bitişi"),
        (["list", "--from", "27.11.2026"], "--from geçersiz"),
        (["list", "--from", "2026-11-27", "--to", "2026-11-01"], "önce olamaz"),
        (["rm", "yok-boyle-bir-uid"], "bulunamadı"),
    ],
)
def test_bad_input_is_one_turkish_line(capsys, argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("hata: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err


def test_corrupt_calendar_file_is_left_alone(capsys) -> None:
    path = paths.data_dir() / "calendar.ics"
    path.write_bytes(b"BEGIN:VCALENDAR\r\nkirik satir\r\n")
    code, _, err = run(capsys, "add", "X", "--start", "2026-11-27T10:00")
    assert code == 2 and "bozuk" in err
    assert path.read_bytes() == b"BEGIN:VCALENDAR\r\nkirik satir\r\n"


def test_uses_the_configured_caldav_calendar(capsys, radicale, monkeypatch) -> None:
    url = radicale.new_calendar()
    monkeypatch.setenv("BANTZ_TEST_CALDAV_PW", radicale.password)
    (paths.config_dir() / "bantz.yaml").write_text(
        "calendar:\n"
        "  backend: caldav\n"
        f"  caldav_url: {radicale.url}\n"
        f"  caldav_username: {radicale.username}\n"
        "  caldav_password_env: BANTZ_TEST_CALDAV_PW\n"
        f"  caldav_calendar: {url}\n",
        encoding="utf-8",
    )
    assert run(capsys, "add", "Sunucuda", "--start", "2026-11-27T10:00")[0] == 0
    assert [e["title"] for e in listed(capsys)] == ["Sunucuda"]
    assert not (paths.data_dir() / "calendar.ics").exists()


def test_real_subprocess(tmp_path: Path) -> None:
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "bantz_voice", "calendar"]
    add = subprocess.run([*cmd, "add", "Annemle yemek", "--start", "2026-11-27T19:00"], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert add.returncode == 0, add.stderr
    out = subprocess.run([*cmd, "list", "--from", "2026-11-27", "--to", "2026-11-27", "--json"], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and [e["title"] for e in json.loads(out.stdout)] == ["Annemle yemek"]
    bad = subprocess.run([*cmd, "rm", "nope"], env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.startswith("hata: ") and "Traceback" not in bad.stderr
