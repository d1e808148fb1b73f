"""The embedded .ics backend: CRUD, recurrence, time zones, and never losing data."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bantz_voice import paths
from bantz_voice.calendar import CalendarError, open_calendar
from bantz_voice.calendar.ics import IcsCalendar
from bantz_voice.config import Settings

TZ = ZoneInfo("Europe/Istanbul")
REPO = Path(__file__).resolve().parent.parent


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture(params=["small-file", "index-cache"])
def cal(request, monkeypatch: pytest.MonkeyPatch) -> IcsCalendar:
    """Every test runs twice: as a small file (parsed each time) and with the index cache and the
    append-only fast path on (what large files use)."""
    if request.param == "index-cache":
        from bantz_voice.calendar import ics

        monkeypatch.setattr(ics, "CACHE_MIN_EVENTS", 0)
        monkeypatch.setattr(IcsCalendar, "keep_parsed", False)
    backend = open_calendar(Settings())
    assert isinstance(backend, IcsCalendar)
    return backend


def test_default_path_is_in_data_dir_and_configurable(tmp_path: Path) -> None:
    assert open_calendar(Settings()).path == paths.data_dir() / "calendar.ics"
    custom = tmp_path / "x" / "my.ics"
    settings = Settings()
    settings.calendar.ics_path = custom
    backend = open_calendar(settings)
    backend.create("Deneme", at(27, 10))
    assert custom.is_file()


def test_create_list_update_delete(cal: IcsCalendar) -> None:
    ev = cal.create("Diş hekimi", at(27, 14))
    assert ev.end - ev.start == timedelta(minutes=60)
    assert ev.start.tzinfo is not None and ev.start.utcoffset() == timedelta(hours=3)
    got = cal.list(at(27, 0), at(28, 0))
    assert [(e.uid, e.title, e.start) for e in got] == [(ev.uid, "Diş hekimi", at(27, 14))]
    assert cal.list(at(28, 0), at(29, 0)) == []

    moved = cal.update(ev, start=at(27, 16), title="Diş hekimi kontrolü")
    assert (moved.start, moved.end, moved.title) == (at(27, 16), at(27, 17), "Diş hekimi kontrolü")
    assert [e.start for e in cal.list(at(27, 0), at(28, 0))] == [at(27, 16)]

    cal.delete(moved)
    assert cal.list(at(1, 0), at(30, 0)) == []
    assert cal.get(ev.uid) is None


def test_naive_times_mean_the_users_zone(cal: IcsCalendar) -> None:
    ev = cal.create("Toplantı", datetime(2026, 11, 27, 9, 30), datetime(2026, 11, 27, 10, 0))
    assert ev.start == at(27, 9, 30) and ev.end == at(27, 10)


def test_all_day_events(cal: IcsCalendar) -> None:
    ev = cal.create("Doğum günü", date(2026, 11, 28), all_day=True)
    assert ev.all_day and ev.start == at(28, 0) and ev.end == at(29, 0)
    assert [e.uid for e in cal.list(at(28, 12), at(28, 13))] == [ev.uid]
    assert cal.list(at(29, 0), at(30, 0)) == []
    text = cal.path.read_text(encoding="utf-8")
    assert "DTSTART;VALUE=DATE:20261128" in text


def test_bad_input_is_a_calendar_error(cal: IcsCalendar) -> None:
    with pytest.raises(CalendarError, match="bitiş"):
        cal.create("Ters", at(27, 14), at(27, 13))
    with pytest.raises(CalendarError, match="adı"):
        cal.create("   ", at(27, 14))
    with pytest.raises(CalendarError, match="Tekrar kuralı"):
        cal.create("Bozuk tekrar", at(27, 14), rrule="FREQ=SOMETIMES")
    with pytest.raises(CalendarError, match="aralığın"):
        cal.list(at(28, 0), at(27, 0))
    assert not cal.path.exists()


def test_file_is_standard_icalendar(cal: IcsCalendar) -> None:
    cal.create("Konser", at(29, 20), at(29, 22))
    parsed = icalendar.Calendar.from_ical(cal.path.read_bytes())
    (vevent,) = parsed.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Konser"
    assert vevent["DTSTART"].dt == at(29, 20)
    assert vevent["DTSTART"].params["TZID"] == "Europe/Istanbul"
    assert parsed.walk("VTIMEZONE"), "time zone definition included for other apps"


def test_recurring_expanded_and_single_occurrence_changes(cal: IcsCalendar) -> None:
    master = cal.create("Ekip toplantısı", at(2, 10), rrule="FREQ=WEEKLY;COUNT=4")
    assert master.recurring and master.rrule == "FREQ=WEEKLY;COUNT=4"
    occ = cal.list(at(1, 0), at(30, 0))
    assert [e.start for e in occ] == [at(2, 10), at(9, 10), at(16, 10), at(23, 10)]
    assert all(e.uid == master.uid and e.recurring for e in occ)

    cal.delete(occ[1])  # only the 9th
    cal.update(occ[2], start=at(16, 11), title="Uzun ekip toplantısı")  # only the 16th
    after = cal.list(at(1, 0), at(30, 0))
    assert [(e.start, e.title) for e in after] == [
        (at(2, 10), "Ekip toplantısı"),
        (at(16, 11), "Uzun ekip toplantısı"),
        (at(23, 10), "Ekip toplantısı"),
    ]
    cal.update(after[0], series=True, title="Haftalık ekip")
    assert [e.title for e in cal.list(at(1, 0), at(30, 0))] == ["Haftalık ekip", "Uzun ekip toplantısı", "Haftalık ekip"]
    third = cal.list(at(23, 0), at(24, 0))[0]
    cal.update(third, series=True, start=at(23, 9))  # "move the weekly meeting to nine": the whole series
    assert [(e.start, e.end) for e in cal.list(at(1, 0), at(30, 0))] == [
        (at(2, 9), at(2, 10)),
        (at(16, 11), at(16, 12)),  # the moved occurrence keeps its own time
        (at(23, 9), at(23, 10)),
    ]
    cal.delete(after[0], series=True)
    assert cal.list(at(1, 0), at(30, 0)) == []


def test_events_in_utc_floating_and_other_zones_are_shown_in_users_zone(cal: IcsCalendar) -> None:
    cal.path.parent.mkdir(parents=True, exist_ok=True)
    cal.path.write_text(
        textwrap.dedent(
            """\
            BEGIN:VCALENDAR
            VERSION:2.0
            PRODID:-//hand//EN
            BEGIN:VEVENT
            UID:utc-1
            DTSTAMP:20261101T000000Z
            SUMMARY:UTC toplantısı
            DTSTART:20261127T090000Z
            DTEND:20261127T100000Z
            END:VEVENT
            BEGIN:VEVENT
            UID:floating-1
            DTSTAMP:20261101T000000Z
            SUMMARY:Yüzen saat
            DTSTART:20261127T150000
            DTEND:20261127T153000
            END:VEVENT
            BEGIN:VEVENT
            UID:ny-1
            DTSTAMP:20261101T000000Z
            SUMMARY:New York araması
            DTSTART;TZID=America/New_York:20261127T080000
            DURATION:PT45M
            END:VEVENT
            END:VCALENDAR
            """
        ).replace("\n", "\r\n"),
        encoding="utf-8",
    )
    got = {e.uid: e for e in cal.list(at(27, 0), at(28, 0))}
    assert got["utc-1"].start == at(27, 12) and got["utc-1"].start.tzinfo == TZ
    assert got["floating-1"].start == at(27, 15)
    assert got["ny-1"].start == at(27, 16) and got["ny-1"].end == at(27, 16, 45)


def test_next_event_and_find(cal: IcsCalendar) -> None:
    cal.create("Doktor randevusu", at(27, 15))
    cal.create("Ekip toplantısı", at(27, 10))
    cal.create("Proje toplantısı", at(27, 14))
    cal.create("Müşteri toplantısı", at(28, 14))
    cal.create("Annemle yemek", at(27, 19))
    assert cal.next_event(at(27, 10, 30)).title == "Proje toplantısı"
    assert cal.next_event(at(28, 15)) is None

    assert [e.title for e in cal.find("doktor randevumu", date(2026, 11, 27))] == ["Doktor randevusu"]
    assert [e.title for e in cal.find("toplantılarımı", date(2026, 11, 27))] == ["Ekip toplantısı", "Proje toplantısı"]
    assert [e.title for e in cal.find("ekip toplantısını", None, now=at(26, 9))] == ["Ekip toplantısı"]
    assert [e.title for e in cal.find("TOPLANTIYI", None, now=at(26, 9))] == [
        "Ekip toplantısı",
        "Proje toplantısı",
        "Müşteri toplantısı",
    ]
    assert cal.find("annenizle yemeği", date(2026, 11, 27))[0].title == "Annemle yemek"
    assert cal.find("kuaför", date(2026, 11, 27)) == []
    assert len(cal.find("", date(2026, 11, 27))) == 4  # no words: everything that day


# --- durability -----------------------------------------------------------------------------
def test_previous_version_is_kept_as_backup(cal: IcsCalendar) -> None:
    cal.create("Bir", at(27, 9))
    first = cal.path.read_bytes()
    cal.create("İki", at(27, 11))
    assert cal.path.with_name("calendar.ics.bak").read_bytes() == first
    assert b"SUMMARY:\xc4\xb0ki" in cal.path.read_bytes()
    leftovers = [p.name for p in cal.path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_write_after_one_stopped_between_backup_and_rename_leaves_no_temp_file(cal: IcsCalendar) -> None:
    """A writer killed after it linked the backup to the current file and before its rename leaves
    ``calendar.ics.bak`` as a second link of ``calendar.ics``. The next write keeps that backup (it
    is the current version) and leaves no temporary link behind (rename(2) of one link onto another
    of the same file does nothing: the test suite under load once found such a stray file)."""
    cal.create("Bir", at(27, 9))
    cal.create("İki", at(27, 10))
    backup = cal.path.with_name("calendar.ics.bak")
    backup.unlink()
    os.link(cal.path, backup)  # where the killed writer stopped
    current = cal.path.read_bytes()
    cal.create("Üç", at(27, 11))
    assert backup.read_bytes() == current and not os.path.samefile(backup, cal.path)
    assert [p.name for p in cal.path.parent.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a calendar\r\n",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n",
    ],
    ids=["garbage", "truncated"],
)
def test_corrupt_file_is_reported_and_never_overwritten(cal: IcsCalendar, content: bytes) -> None:
    # a file that is not a calendar at all; one damaged event among readable ones is skipped
    # instead (tests/adversarial/test_calendar_corrupt.py)
    cal.path.parent.mkdir(parents=True, exist_ok=True)
    cal.path.write_bytes(content)
    before = os.stat(cal.path)
    with pytest.raises(CalendarError, match="bozuk") as info:
        cal.list(at(27, 0), at(28, 0))
    assert "\n" not in str(info.value)
    with pytest.raises(CalendarError, match="bozuk"):
        cal.create("Yeni", at(27, 10))
    assert cal.path.read_bytes() == content
    assert os.stat(cal.path).st_ino == before.st_ino
    assert not cal.path.with_name("calendar.ics.bak").exists()


def test_corrupt_file_message_points_at_the_backup(cal: IcsCalendar) -> None:
    cal.create("Önemli", at(27, 9))
    cal.create("İkinci", at(27, 10))
    cal.path.write_bytes(b"bozuk")
    with pytest.raises(CalendarError, match=r"Önceki sürüm: .*calendar\.ics\.bak") as info:
        cal.create("Yeni", at(27, 11))
    assert "\n" not in str(info.value)
    assert cal.path.read_bytes() == b"bozuk"
    assert [e.title for e in IcsCalendar(cal.file.backup, TZ).list(at(27, 0), at(28, 0))] == ["Önemli"]


def test_symlinked_calendar_file_keeps_its_link(tmp_path: Path) -> None:
    real = tmp_path / "sync" / "real.ics"
    real.parent.mkdir()
    link = tmp_path / "calendar.ics"
    link.symlink_to(real)
    IcsCalendar(link, TZ).create("Bağlantılı", at(27, 9))
    assert link.is_symlink() and real.is_file()
    assert [e.title for e in IcsCalendar(real, TZ).list(at(27, 0), at(28, 0))] == ["Bağlantılı"]


def test_hand_edit_is_picked_up_and_preserved(cal: IcsCalendar) -> None:
    cal.create("Bir", at(27, 9))
    text = cal.path.read_text(encoding="utf-8")
    hand = text.replace("END:VCALENDAR", "BEGIN:VTODO\r\nUID:todo-1\r\nSUMMARY:Süt al\r\nEND:VTODO\r\nEND:VCALENDAR")
    cal.path.write_text(hand, encoding="utf-8")
    time.sleep(0.01)
    cal.create("İki", at(27, 11))
    final = cal.path.read_text(encoding="utf-8")
    assert "SUMMARY:Süt al" in final and "SUMMARY:Bir" in final and "SUMMARY:İki" in final


def test_untouched_events_are_written_back_byte_for_byte(cal: IcsCalendar) -> None:
    hand = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Another App//EN\nX-WR-CALNAME:Ev\n"
        "BEGIN:VEVENT\nUID:hand-1\nDTSTAMP:20261101T000000Z\nSUMMARY:Elle yazılmış çok uzun bir başlık olan bir etki\n"
        " nlik\nX-CUSTOM-THING;X-PARAM=1:korunmalı\nDTSTART:20261127T080000Z\nDTEND:20261127T090000Z\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:hand-2\nDTSTAMP:20261101T000000Z\nSUMMARY:Silinecek\nDTSTART:20261128T080000Z\nEND:VEVENT\n"
        "END:VCALENDAR\n"
    )
    cal.path.parent.mkdir(parents=True, exist_ok=True)
    cal.path.write_text(hand, encoding="utf-8")
    first_event = hand[hand.index("BEGIN:VEVENT") : hand.index("END:VEVENT") + len("END:VEVENT\n")]
    (title,) = [e.title for e in cal.list(at(27, 0), at(28, 0))]
    assert title == "Elle yazılmış çok uzun bir başlık olan bir etkinlik"
    cal.create("Yeni", at(27, 14))
    cal.delete(cal.get("hand-2"))
    out = cal.path.read_bytes()
    assert first_event.replace("\n", "\r\n").encode() in out
    assert b"X-WR-CALNAME:Ev" in out and b"hand-2" not in out
    assert [e.title for e in IcsCalendar(cal.path, TZ).list(at(27, 0), at(29, 0))] == [title, "Yeni"]


def test_index_cache_serves_fresh_processes_and_follows_the_file(cal: IcsCalendar, monkeypatch) -> None:
    from bantz_voice.calendar import ics

    monkeypatch.setattr(ics, "CACHE_MIN_EVENTS", 1)
    cal.create("Bir", at(27, 9))
    cal.create("Haftalık", at(23, 12), rrule="FREQ=WEEKLY;COUNT=3")
    cache = ics._cache_file(cal.path)
    assert cache.is_file() and cache.parent.parent == paths.cache_dir()

    def no_full_parse(*_a, **_k):
        raise AssertionError("parsed the whole file although the index cache is valid")

    monkeypatch.setattr(ics.ical, "parse", no_full_parse)
    fresh = IcsCalendar(cal.path, TZ)
    got = fresh.list(at(23, 0), at(30, 0) + timedelta(days=14))
    assert [(e.title, e.start) for e in got] == [("Haftalık", at(23, 12)), ("Bir", at(27, 9)), ("Haftalık", at(30, 12)),
                                                 ("Haftalık", datetime(2026, 12, 7, 12, tzinfo=TZ))]
    assert all(e.start.tzinfo == TZ for e in got)
    monkeypatch.undo()
    monkeypatch.setattr(ics, "CACHE_MIN_EVENTS", 1)

    # a hand edit changes the content: the cache no longer applies
    text = cal.path.read_text(encoding="utf-8").replace("SUMMARY:Bir", "SUMMARY:Elle değişti")
    cal.path.write_text(text, encoding="utf-8")
    assert [e.title for e in IcsCalendar(cal.path, TZ).list(at(27, 0), at(28, 0))] == ["Elle değişti"]
    # a damaged cache is ignored
    cache.write_bytes(b"{not json")
    assert [e.title for e in IcsCalendar(cal.path, TZ).list(at(27, 0), at(28, 0))] == ["Elle değişti"]


def test_fresh_process_changes_one_event_without_parsing_everything(tmp_path: Path, monkeypatch) -> None:
    from bantz_voice.calendar import ics

    monkeypatch.setattr(ics, "CACHE_MIN_EVENTS", 1)
    path = tmp_path / "other-app.ics"
    path.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other//EN\r\nBEGIN:VEVENT\r\nUID:u1\r\n"
        b"DTSTAMP:20261101T000000Z\r\nSUMMARY:Eski\r\nDTSTART:20261127T060000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    IcsCalendar(path, TZ).list(at(27, 0), at(28, 0))  # builds the index cache
    real_parse = ics.ical.parse
    parse_allowed = [False]

    def guarded_parse(data, source):  # parsing just the touched event is fine, the whole file is not
        whole = b"UID:u1" in (data if isinstance(data, bytes) else data.encode())
        assert parse_allowed[0] or not whole, "the fresh process parsed the whole file"
        return real_parse(data, source)

    monkeypatch.setattr(ics.ical, "parse", guarded_parse)
    fresh = IcsCalendar(path, TZ)
    fresh.list(at(27, 0), at(28, 0))
    a = fresh.create("Yeni bir", at(27, 14))
    parse_allowed[0] = True
    other = IcsCalendar(path, TZ).create("Başka süreçten", at(27, 16))  # another writer in between
    parse_allowed[0] = False
    b = fresh.create("Yeni iki", date(2026, 11, 28), all_day=True)
    assert [e.title for e in fresh.list(at(27, 0), at(29, 0))] == ["Eski", "Yeni bir", "Başka süreçten", "Yeni iki"]
    parsed = icalendar.Calendar.from_ical(path.read_bytes())
    assert sorted(str(c["UID"]) for c in parsed.walk("VEVENT")) == sorted(["u1", a.uid, other.uid, b.uid])
    assert [str(c["TZID"]) for c in parsed.walk("VTIMEZONE")] == ["Europe/Istanbul"]
    fresh.update(a, title="Yeni bir (değişti)")  # update/delete of one event: no full parse either
    fresh.delete(fresh.get(b.uid))
    assert [e.title for e in IcsCalendar(path, TZ).list(at(27, 0), at(29, 0))] == ["Eski", "Yeni bir (değişti)", "Başka süreçten"]
    monkeypatch.setattr(ics.ical, "parse", real_parse)
    full = IcsCalendar(path, TZ)
    full.delete(full.get("u1"))  # the normal path still works on the appended file
    assert [e.title for e in IcsCalendar(path, TZ).list(at(27, 0), at(29, 0))] == ["Yeni bir (değişti)", "Başka süreçten"]


def _writer(path: str, tag: str, count: int, start_evt) -> None:  # runs in a child process
    start_evt.wait()
    backend = IcsCalendar(Path(path), TZ)
    for i in range(count):
        backend.create(f"{tag} {i}", datetime(2026, 12, 1, 8, tzinfo=TZ) + timedelta(hours=i))


@pytest.mark.parametrize("existing", [0, 300], ids=["new-file", "large-file-raw-edits"])
def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path, existing: int) -> None:
    path = tmp_path / "shared.ics"
    if existing:  # enough events for the index cache: the writers then edit the raw text
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"]
        for i in range(existing):
            lines += ["BEGIN:VEVENT", f"UID:old-{i}", "DTSTAMP:20260101T000000Z", f"SUMMARY:Eski {i}",
                      f"DTSTART:2026{1 + i % 12:02d}{1 + i % 28:02d}T090000Z", "END:VEVENT"]
        path.write_text("\r\n".join([*lines, "END:VCALENDAR", ""]), encoding="utf-8")
        IcsCalendar(path, TZ).list(at(1, 0), at(2, 0))
        from bantz_voice.calendar import ics

        assert ics._cache_file(path).is_file()
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(path), tag, 15, go)) for tag in ("cli", "daemon")]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    titles = sorted(e.title for e in IcsCalendar(path, TZ).list(datetime(2026, 12, 1, tzinfo=TZ), datetime(2026, 12, 3, tzinfo=TZ)))
    assert titles == sorted([f"cli {i}" for i in range(15)] + [f"daemon {i}" for i in range(15)])
    all_events = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    assert len(all_events) == existing + 30


CRASH_CHILD = """
import sys, time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo
from bantz_voice.calendar import store
from bantz_voice.calendar.ics import IcsCalendar

def stuck(tmp, path):
    Path(sys.argv[2] + ".part").write_text(str(tmp))
    Path(sys.argv[2] + ".part").rename(sys.argv[2])  # the parent never sees a half-written marker
    time.sleep(60)

store.replace_into_place = stuck
IcsCalendar(Path(sys.argv[1]), ZoneInfo("Europe/Istanbul")).create("Yarım kalan", datetime(2026, 11, 27, 18))
"""


def test_writer_killed_between_write_and_rename_leaves_original_intact(cal: IcsCalendar, tmp_path: Path) -> None:
    cal.create("Önemli", at(27, 9))
    original = cal.path.read_bytes()
    marker = tmp_path / "reached"
    child = subprocess.Popen([sys.executable, "-c", CRASH_CHILD, str(cal.path), str(marker)], cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert child.poll() is None, "child ended before reaching the rename"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        tmp_written = Path(marker.read_text())
        assert tmp_written.exists() and b"Yar\xc4\xb1m kalan" in tmp_written.read_bytes()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert cal.path.read_bytes() == original
    assert [e.title for e in cal.list(at(27, 0), at(28, 0))] == ["Önemli"]
    # the lock died with the child: the next write works and sweeps the stale temp file
    cal.create("Sonraki", at(27, 12))
    assert [e.title for e in cal.list(at(27, 0), at(28, 0))] == ["Önemli", "Sonraki"]
    assert not tmp_written.exists()


def test_lock_held_elsewhere_times_out_with_turkish_message(tmp_path: Path) -> None:
    path = tmp_path / "locked.ics"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from filelock import FileLock; l=FileLock(sys.argv[1]); l.acquire(); print('ok', flush=True); time.sleep(60)",
            str(path) + ".lock",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == b"ok"
        with pytest.raises(CalendarError, match="kilitli"):
            IcsCalendar(path, TZ, lock_timeout=0.3).create("Bekleyen", at(27, 9))
    finally:
        holder.kill()
        holder.wait()
    assert not path.exists()


def test_five_thousand_events(tmp_path: Path) -> None:
    path = tmp_path / "big.ics"
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    base = datetime(2026, 1, 1, 8, tzinfo=TZ)
    for i in range(5000):
        s = base + timedelta(hours=7 * i)
        body += [
            "BEGIN:VEVENT",
            f"UID:ev-{i}",
            "DTSTAMP:20260101T000000Z",
            f"SUMMARY:Etkinlik {i}",
            f"DTSTART;TZID=Europe/Istanbul:{s:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Europe/Istanbul:{s + timedelta(minutes=30):%Y%m%dT%H%M%S}",
            "END:VEVENT",
        ]
    body += ["BEGIN:VEVENT", "UID:weekly", "DTSTAMP:20260101T000000Z", "SUMMARY:Haftalık",
             "DTSTART;TZID=Europe/Istanbul:20260105T123000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY", "END:VEVENT"]
    body += ["END:VCALENDAR", ""]
    path.write_text("\r\n".join(body), encoding="utf-8")
    backend = IcsCalendar(path, TZ)
    day = datetime(2026, 3, 2, tzinfo=TZ)  # a Monday
    got = backend.list(day, day + timedelta(days=1))
    expected = sorted(
        [i for i in range(5000) if day <= base + timedelta(hours=7 * i) < day + timedelta(days=1)]
    )
    assert [e.uid for e in got if e.uid != "weekly"] == [f"ev-{i}" for i in expected]
    assert [e.start for e in got if e.uid == "weekly"] == [day.replace(hour=12, minute=30)]
    assert len(backend.list(base, base + timedelta(days=3000))) > 5000
    ev = backend.create("Yeni", day.replace(hour=23))
    assert IcsCalendar(path, TZ).get(ev.uid) is not None
    assert len(icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")) == 5002


def test_weekly_event_keeps_wall_clock_time_across_dst(tmp_path: Path) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    cal = IcsCalendar(tmp_path / "berlin.ics", berlin)
    cal.create("Yoga", datetime(2026, 10, 19, 18, 0), rrule="FREQ=WEEKLY;COUNT=3")  # DST ends 25 Oct
    occ = cal.list(datetime(2026, 10, 1, tzinfo=berlin), datetime(2026, 11, 30, tzinfo=berlin))
    assert [(e.start.hour, e.start.utcoffset()) for e in occ] == [
        (18, timedelta(hours=2)),
        (18, timedelta(hours=1)),
        (18, timedelta(hours=1)),
    ]


def test_raw_split_strict_and_lenient() -> None:
    """One splitter, two modes: strict refuses anything but one plain VCALENDAR (the store then
    parses fully); lenient returns the components it can find."""
    from bantz_voice.calendar import rawfile

    ev = b"BEGIN:VEVENT\r\nUID:a\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nEND:VALARM\r\nEND:VEVENT\r\n"
    tz = b"BEGIN:VTIMEZONE\r\nTZID:X\r\nEND:VTIMEZONE\r\n"
    good = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + tz + ev + b"END:VCALENDAR\r\n"
    raw = rawfile.split(good)
    assert raw is not None and raw.chunks == [tz, ev] and raw.to_bytes() == good
    assert rawfile.components(good) == [tz, ev]
    for bad in (good + b"X:1\r\n", good[:-len(b"END:VCALENDAR\r\n")], b"junk\r\n" + good, b""):
        assert rawfile.split(bad) is None
    assert rawfile.components(good + b"X:1\r\nEND:FOO\r\n") == [tz, ev]
    assert rawfile.components(b"junk\r\n" + good) == [tz, ev]
    assert rawfile.components(b"") == []
