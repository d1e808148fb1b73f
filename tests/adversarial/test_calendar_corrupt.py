"""One damaged component among valid ones: skipped for list/add/delete, written back byte for byte,
named by `doctor` — in the .ics file and as one bad object on a real Radicale server."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fixtures.radicale import RadicaleServer

from bantz_voice.calendar.caldav_backend import CaldavCalendar
from bantz_voice.calendar.ics import IcsCalendar
from bantz_voice.calendar.service import CalendarService
from bantz_voice.config import Settings
from bantz_voice.health import check_calendar

TZ = ZoneInfo("Europe/Istanbul")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=TZ)
HEAD = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//corrupt//TR\r\n"
TAIL = b"END:VCALENDAR\r\n"


def good(uid: str, title: str, hour: int) -> bytes:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART;TZID=Europe/Istanbul:20261127T{hour:02d}0000\r\n"
        f"DTEND;TZID=Europe/Istanbul:20261127T{hour:02d}3000\r\nSUMMARY:{title}\r\nEND:VEVENT\r\n"
    ).encode()


DAMAGED = {
    "bad-date": b"BEGIN:VEVENT\r\nUID:bozuk-1\r\nDTSTART:2026XX\r\nSUMMARY:Bozuk tarih\r\nEND:VEVENT\r\n",
    "bad-number": b"BEGIN:VEVENT\r\nUID:bozuk-2\r\nDTSTART:20261127T100000Z\r\nSEQUENCE:x\r\nGEO:bir;iki\r\nSUMMARY:Bozuk sayi\r\nEND:VEVENT\r\n",
    "line-without-colon": b"BEGIN:VEVENT\r\nUID:bozuk-3\r\nDTSTART:20261127T100000Z\r\nBU SATIRDA IKI NOKTA YOK\r\nSUMMARY:Bozuk satir\r\nEND:VEVENT\r\n",
    "bad-rrule": b"BEGIN:VEVENT\r\nUID:bozuk-4\r\nDTSTART:20261127T100000Z\r\nRRULE:FREQ=BAZEN;BYDAY=XX\r\nSUMMARY:Bozuk kural\r\nEND:VEVENT\r\n",
}


@pytest.fixture(params=sorted(DAMAGED))
def damaged(request: pytest.FixtureRequest) -> bytes:
    return DAMAGED[request.param]


def write_file(path: Path, damaged: bytes) -> bytes:
    body = HEAD + good("a", "Kahvaltı", 8) + damaged + good("b", "Toplantı", 11) + good("c", "Spor", 18) + TAIL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return body


def test_ics_list_add_delete_skip_the_damaged_event_and_keep_its_bytes(tmp_path: Path, damaged: bytes) -> None:
    path = tmp_path / "calendar.ics"
    write_file(path, damaged)
    cal = IcsCalendar(path, TZ)
    day = (NOW.replace(hour=0), NOW.replace(hour=0) + timedelta(days=1))
    assert [e.title for e in cal.list(*day)] == ["Kahvaltı", "Toplantı", "Spor"]
    assert len(cal.problems()) == 1 and "VEVENT" in cal.problems()[0] and "bozuk-" in cal.problems()[0]

    service = CalendarService(cal)
    service.create("Öğle yemeği", NOW.replace(hour=13), force=True)
    toplanti = next(e for e in cal.list(*day) if e.title == "Toplantı")
    service.delete(toplanti)
    data = path.read_bytes()
    assert damaged in data  # byte for byte, in place
    assert data.index(good("a", "Kahvaltı", 8)) < data.index(damaged) < data.index(good("c", "Spor", 18))
    assert [e.title for e in IcsCalendar(path, TZ).list(*day)] == ["Kahvaltı", "Öğle yemeği", "Spor"]
    service.undo()  # the delete is undone through the same write path
    assert [e.title for e in IcsCalendar(path, TZ).list(*day)] == ["Kahvaltı", "Toplantı", "Öğle yemeği", "Spor"]
    assert damaged in path.read_bytes()


def test_a_fresh_process_reads_the_cached_index_and_still_names_the_damage(tmp_path: Path) -> None:
    """With many events the index is cached (XDG cache dir); the damaged component is part of it."""
    from bantz_voice.calendar import ics as ics_mod

    path = tmp_path / "big.ics"
    events = b"".join(good(f"e{i}", f"Etkinlik {i}", 8 + i % 10) for i in range(ics_mod.CACHE_MIN_EVENTS + 5))
    path.write_bytes(HEAD + events + DAMAGED["bad-date"] + TAIL)
    first = IcsCalendar(path, TZ)
    n = len(first.list(NOW.replace(hour=0), NOW.replace(hour=23)))
    second = IcsCalendar(path, TZ)  # a new process: index from the cache, no full parse
    assert len(second.list(NOW.replace(hour=0), NOW.replace(hour=23))) == n == ics_mod.CACHE_MIN_EVENTS + 5
    assert second.problems() == first.problems() and len(second.problems()) == 1
    second.create("Yeni", NOW.replace(hour=22))  # the raw one-event write path
    assert DAMAGED["bad-date"] in path.read_bytes()


def test_doctor_names_the_damaged_component(damaged: bytes) -> None:
    settings = Settings()
    path = Path(os.environ["BANTZ_DATA_DIR"]) / "calendar.ics"
    write_file(path, damaged)
    check = check_calendar(settings)
    assert check.status == "uyarı"
    assert "1 bozuk bileşen atlandı" in check.message and "bozuk-" in check.message


def test_not_a_calendar_at_all_is_still_refused_and_never_written(tmp_path: Path) -> None:
    path = tmp_path / "calendar.ics"
    path.write_bytes(b"\x00\x01 bu bir takvim degil\r\n")
    cal = IcsCalendar(path, TZ)
    with pytest.raises(Exception, match="bozuk"):
        cal.list(NOW, NOW + timedelta(days=1))
    assert path.read_bytes() == b"\x00\x01 bu bir takvim degil\r\n"


def test_one_bad_object_on_a_caldav_server_is_skipped_and_left_alone(radicale: RadicaleServer) -> None:
    # Radicale refuses an object its own parser rejects, so the damage here is one only the
    # stricter iCalendar parser sees (a non-numeric SEQUENCE, a malformed GEO), written straight
    # into the server's storage as another client's sync could leave it
    url = radicale.new_calendar()
    dav = CaldavCalendar(radicale.url, radicale.username, radicale.password, TZ, url)
    try:
        dav.create("Kahvaltı", NOW.replace(hour=8))
        keep = dav.create("Toplantı", NOW.replace(hour=11))
        name = url.rstrip("/").rsplit("/", 1)[-1]
        folder = next(p for p in (radicale.root / "collections").rglob(name) if p.is_dir())
        bad = folder / "baska-istemci.ics"
        bad.write_bytes(HEAD + DAMAGED["bad-number"] + TAIL)
        day = (NOW.replace(hour=0), NOW.replace(hour=0) + timedelta(days=1))
        assert [e.title for e in dav.list(*day)] == ["Kahvaltı", "Toplantı"]
        assert dav.problems() == [f"baska-istemci.ics ({radicale.url.split('//')[1].rstrip('/')})"]
        dav.create("Öğle yemeği", NOW.replace(hour=13))
        dav.delete(keep)
        assert [e.title for e in dav.list(*day)] == ["Kahvaltı", "Öğle yemeği"]
        assert bad.read_bytes() == HEAD + DAMAGED["bad-number"] + TAIL
    finally:
        dav.close()
