"""CalDAV backend against a real Radicale server on loopback."""

from __future__ import annotations

import base64
import logging
import socket
import threading
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import caldav
import icalendar
import pytest
from fixtures.radicale import RadicaleServer

from bantz_voice.calendar import CalendarError, open_calendar
from bantz_voice.calendar.caldav_backend import CaldavCalendar
from bantz_voice.config import Settings

TZ = ZoneInfo("Europe/Istanbul")
ENV = "BANTZ_TEST_CALDAV_PW"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def settings_for(server: RadicaleServer, calendar_url: str, timeout: float = 10.0) -> Settings:
    s = Settings()
    s.calendar.backend = "caldav"
    s.calendar.caldav_url = server.url
    s.calendar.caldav_username = server.username
    s.calendar.caldav_password_env = ENV
    s.calendar.caldav_calendar = calendar_url
    s.calendar.timeout_s = timeout
    return s


@pytest.fixture
def dav(radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch) -> CaldavCalendar:
    monkeypatch.setenv(ENV, radicale.password)
    backend = open_calendar(settings_for(radicale, radicale.new_calendar()))
    assert isinstance(backend, CaldavCalendar)
    yield backend
    backend.close()


def raw_objects(server: RadicaleServer, calendar_url: str) -> list[str]:
    with caldav.DAVClient(url=server.url, username=server.username, password=server.password) as client:
        return sorted(o.data for o in client.calendar(url=calendar_url).search(event=True))


def test_create_list_update_delete(dav: CaldavCalendar, radicale: RadicaleServer) -> None:
    ev = dav.create("Diş hekimi", at(27, 14))
    day = dav.create("Bayram", date(2026, 11, 28), all_day=True)
    got = dav.list(at(27, 0), at(29, 0))
    assert [(e.uid, e.title, e.start, e.end, e.all_day) for e in got] == [
        (ev.uid, "Diş hekimi", at(27, 14), at(27, 15), False),
        (day.uid, "Bayram", at(28, 0), at(29, 0), True),
    ]
    (stored,) = [o for o in raw_objects(radicale, dav.calendar_name) if ev.uid in o]
    assert "SUMMARY:Diş hekimi" in stored

    moved = dav.update(ev, start=at(27, 16), title="Diş kontrolü")
    assert (moved.title, moved.start, moved.end) == ("Diş kontrolü", at(27, 16), at(27, 17))
    assert [(e.title, e.start) for e in dav.list(at(27, 0), at(28, 0))] == [("Diş kontrolü", at(27, 16))]

    dav.delete(moved)
    dav.delete(day)
    assert dav.list(at(1, 0), at(30, 0)) == []
    assert raw_objects(radicale, dav.calendar_name) == []


def test_find_and_next_event(dav: CaldavCalendar) -> None:
    dav.create("Doktor randevusu", at(27, 15))
    dav.create("Ekip toplantısı", at(27, 10))
    assert [e.title for e in dav.find("doktor randevumu", date(2026, 11, 27))] == ["Doktor randevusu"]
    assert dav.next_event(at(27, 11)).title == "Doktor randevusu"


def test_recurring_events_are_expanded_and_edited_per_occurrence(dav: CaldavCalendar, radicale: RadicaleServer) -> None:
    series = dav.create("Ekip toplantısı", at(2, 10), rrule="FREQ=WEEKLY;COUNT=4")
    occ = dav.list(at(1, 0), at(30, 0))
    assert [e.start for e in occ] == [at(2, 10), at(9, 10), at(16, 10), at(23, 10)]
    assert [e.start for e in dav.list(at(15, 0), at(17, 0))] == [at(16, 10)]
    dav.delete(occ[1])
    dav.update(occ[2], start=at(16, 11))
    assert [e.start for e in dav.list(at(1, 0), at(30, 0))] == [at(2, 10), at(16, 11), at(23, 10)]
    (stored,) = raw_objects(radicale, dav.calendar_name)  # still one object on the server
    assert "EXDATE" in stored and "RECURRENCE-ID" in stored
    last = dav.list(at(23, 0), at(24, 0))[0]
    dav.update(last, series=True, start=at(23, 8, 30))
    assert [e.start for e in dav.list(at(1, 0), at(30, 0))] == [at(2, 8, 30), at(16, 11), at(23, 8, 30)]
    dav.delete(dav.get(series.uid), series=True)
    assert raw_objects(radicale, dav.calendar_name) == []


def _put(server: RadicaleServer, calendar_url: str, comp: icalendar.Event) -> None:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//other client//EN")
    cal.add("version", "2.0")
    cal.add_component(comp)
    cal.add_missing_timezones()
    with caldav.DAVClient(url=server.url, username=server.username, password=server.password) as client:
        client.calendar(url=calendar_url).add_event(ical=cal.to_ical().decode())


def test_utc_floating_and_foreign_zone_events_shown_in_users_zone(dav: CaldavCalendar, radicale: RadicaleServer) -> None:
    for uid, start, end in [
        ("utc", datetime(2026, 11, 27, 9, tzinfo=ZoneInfo("UTC")), datetime(2026, 11, 27, 10, tzinfo=ZoneInfo("UTC"))),
        ("floating", datetime(2026, 11, 27, 15), datetime(2026, 11, 27, 15, 30)),
        ("tokyo", datetime(2026, 11, 27, 23, tzinfo=ZoneInfo("Asia/Tokyo")), datetime(2026, 11, 28, 0, tzinfo=ZoneInfo("Asia/Tokyo"))),
    ]:
        comp = icalendar.Event()
        comp.add("uid", uid)
        comp.add("summary", uid)
        comp.add("dtstamp", datetime(2026, 11, 1, tzinfo=ZoneInfo("UTC")))
        comp.add("dtstart", start)
        comp.add("dtend", end)
        _put(radicale, dav.calendar_name, comp)
    got = {e.uid: e for e in dav.list(at(27, 0), at(28, 0))}
    assert got["utc"].start == at(27, 12) and got["utc"].start.tzinfo == TZ
    assert got["floating"].start == at(27, 15)
    assert got["tokyo"].start == at(27, 17) and got["tokyo"].end == at(27, 18)


def test_wrong_password_is_a_clear_error_and_never_shown(radicale: RadicaleServer, monkeypatch, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    url = radicale.new_calendar()
    wrong = "Yanlis-Parola-42!"
    monkeypatch.setenv(ENV, wrong)
    backend = open_calendar(settings_for(radicale, url))
    with pytest.raises(CalendarError, match="parolayı kabul etmedi") as info:
        backend.create("Olmamalı", at(27, 9))
    assert "Değişiklik yapılmadı" in str(info.value)
    with pytest.raises(CalendarError, match="parolayı"):
        backend.list(at(27, 0), at(28, 0))
    secrets = [wrong, base64.b64encode(f"{radicale.username}:{wrong}".encode()).decode()]
    for s in secrets:
        assert s not in str(info.value) and s not in repr(backend)
        assert s not in caplog.text
    assert raw_objects(radicale, url) == []


def test_password_is_never_logged_on_success(dav: CaldavCalendar, radicale: RadicaleServer, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    dav.create("Gizli değil", at(27, 9))
    dav.list(at(27, 0), at(28, 0))
    assert caplog.records, "the caldav stack logged something at DEBUG"
    basic = base64.b64encode(f"{radicale.username}:{radicale.password}".encode()).decode()
    assert radicale.password not in caplog.text and basic not in caplog.text


def test_missing_url_and_missing_password(radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings()
    s.calendar.backend = "caldav"
    with pytest.raises(CalendarError, match="caldav_url"):
        open_calendar(s)
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setitem(__import__("sys").modules, "keyring", None)  # no system keyring either
    backend = open_calendar(settings_for(radicale, radicale.new_calendar()))
    with pytest.raises(CalendarError, match=f"parolası bulunamadı: {ENV}"):
        backend.list(at(27, 0), at(28, 0))


def test_password_comes_from_the_configured_env_var(radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch) -> None:
    url = radicale.new_calendar()
    monkeypatch.setenv("BANTZ_CALDAV_PASSWORD", "not-this-one")
    monkeypatch.setenv(ENV, radicale.password)
    backend = open_calendar(settings_for(radicale, url))
    backend.create("Ortamdan", at(27, 9))
    assert [e.title for e in backend.list(at(27, 0), at(28, 0))] == ["Ortamdan"]


def test_server_down_then_back(radicale_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    server = radicale_factory()
    monkeypatch.setenv(ENV, server.password)
    backend = open_calendar(settings_for(server, server.new_calendar(), timeout=3))
    kept = backend.create("Kalıcı", at(27, 9))
    server.stop()
    for op in (
        lambda: backend.list(at(27, 0), at(28, 0)),
        lambda: backend.create("Yeni", at(27, 11)),
        lambda: backend.update(kept, title="Değişmiş"),
        lambda: backend.delete(kept),
    ):
        with pytest.raises(CalendarError, match="ulaşılamadı"):
            op()
    server.start()
    assert [(e.uid, e.title) for e in backend.list(at(27, 0), at(28, 0))] == [(kept.uid, "Kalıcı")]


def test_server_stopped_mid_update_leaves_event_as_it_was(radicale_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    server = radicale_factory()
    monkeypatch.setenv(ENV, server.password)
    backend = open_calendar(settings_for(server, server.new_calendar(), timeout=3))
    ev = backend.create("Toplantı", at(27, 9))
    before = backend.snapshot(ev.uid)
    real = CaldavCalendar._object

    def fetch_then_die(self, cal, uid):
        obj = real(self, cal, uid)
        obj.load() if obj is not None and obj.data is None else None
        server.stop()  # the server goes away between reading the event and writing it back
        return obj

    monkeypatch.setattr(CaldavCalendar, "_object", fetch_then_die)
    with pytest.raises(CalendarError, match="Değişiklik yapılmadı"):
        backend.update(ev, title="Yarım", start=at(27, 15))
    monkeypatch.setattr(CaldavCalendar, "_object", real)
    server.start()
    assert backend.snapshot(ev.uid) == before
    assert [(e.title, e.start) for e in backend.list(at(27, 0), at(28, 0))] == [("Toplantı", at(27, 9))]


def test_timeout_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # accepts and never answers
        silent.settimeout(0.1)
        while not stop.is_set():
            try:
                conns.append(silent.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        backend = CaldavCalendar(f"http://127.0.0.1:{silent.getsockname()[1]}/", "ayse", "x", TZ, None, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(CalendarError, match="yanıt vermedi"):
            backend.list(at(27, 0), at(28, 0))
        assert time.monotonic() - started < 10
    finally:
        stop.set()
        t.join()
        for c in conns:
            c.close()
        silent.close()


def test_calendar_chosen_by_name(radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, radicale.password)
    url = radicale.new_calendar("is-takvimi")
    by_name = open_calendar(settings_for(radicale, "is-takvimi"))
    by_name.create("İsimle", at(27, 9))
    assert [e.title for e in open_calendar(settings_for(radicale, url)).list(at(27, 0), at(28, 0))] == ["İsimle"]
    with pytest.raises(CalendarError, match="'olmayan' adlı takvim yok"):
        open_calendar(settings_for(radicale, "olmayan")).list(at(27, 0), at(28, 0))


def test_password_in_the_url_is_used_but_never_shown(radicale: RadicaleServer, monkeypatch, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv(ENV, raising=False)
    url = radicale.new_calendar()
    s = settings_for(radicale, url)
    s.calendar.caldav_url = radicale.url.replace("http://", f"http://{radicale.username}:{radicale.password.replace('#', '%23')}@")
    s.calendar.caldav_username = None
    backend = open_calendar(s)
    assert radicale.password.replace("#", "%23") not in backend.url and "@" not in backend.url
    backend.create("Adresten", at(27, 9))
    assert [e.title for e in backend.list(at(27, 0), at(28, 0))] == ["Adresten"]
    assert radicale.password not in caplog.text and "%23" not in caplog.text


def test_password_from_the_system_keyring_when_env_is_unset(radicale: RadicaleServer, monkeypatch) -> None:
    keyring = pytest.importorskip("keyring")
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1
        store: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        keyring.set_password("bantz-voice", radicale.username, radicale.password)
        monkeypatch.delenv(ENV, raising=False)
        url = radicale.new_calendar()
        backend = open_calendar(settings_for(radicale, url))
        backend.create("Anahtarlıktan", at(27, 9))
        assert [e.title for e in backend.list(at(27, 0), at(28, 0))] == ["Anahtarlıktan"]
        monkeypatch.setenv(ENV, "env-wins-and-is-wrong")
        with pytest.raises(CalendarError, match="parolayı"):
            open_calendar(settings_for(radicale, url)).list(at(27, 0), at(28, 0))
    finally:
        keyring.set_keyring(previous)


@pytest.mark.parametrize("op", ["update", "delete"])
def test_change_made_elsewhere_in_between_is_not_overwritten(dav: CaldavCalendar, radicale: RadicaleServer, monkeypatch, op) -> None:
    ev = dav.create("Toplantı", at(27, 9))
    real = CaldavCalendar._object

    def fetch_then_other_client_edits(self, cal, uid):
        obj = real(self, cal, uid)
        with caldav.DAVClient(url=radicale.url, username=radicale.username, password=radicale.password) as other:
            theirs = other.calendar(url=dav.calendar_name).get_object_by_uid(uid)
            theirs.data = theirs.data.replace("SUMMARY:Toplantı", "SUMMARY:Telefondan değişti")
            theirs.save(increase_seqno=False)
        return obj

    monkeypatch.setattr(CaldavCalendar, "_object", fetch_then_other_client_edits)
    with pytest.raises(CalendarError, match="o arada başka bir yerden değişmiş"):
        if op == "update":
            dav.update(ev, title="Bizim değişiklik")
        else:
            dav.delete(ev)
    monkeypatch.setattr(CaldavCalendar, "_object", real)
    assert [e.title for e in dav.list(at(27, 0), at(28, 0))] == ["Telefondan değişti"]
