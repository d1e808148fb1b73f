"""Assistant behaviour (clash check, ambiguity, undo) on both backends, and spoken summaries."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bantz_voice.calendar import CalendarError, CalendarService, open_calendar, speech
from bantz_voice.calendar.model import Event
from bantz_voice.config import Settings

TZ = ZoneInfo("Europe/Istanbul")
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=TZ)  # a Thursday
ENV = "BANTZ_TEST_CALDAV_PW"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


@pytest.fixture(params=["ics", "ics-index-only", "caldav"])
def service(request, monkeypatch: pytest.MonkeyPatch) -> CalendarService:
    settings = Settings()
    if request.param == "ics-index-only":  # how a process edits a large file: raw text + cached index
        from bantz_voice.calendar import ics

        monkeypatch.setattr(ics, "CACHE_MIN_EVENTS", 0)
        monkeypatch.setattr(ics.IcsCalendar, "keep_parsed", False)
    if request.param == "caldav":
        server = request.getfixturevalue("radicale")
        monkeypatch.setenv(ENV, server.password)
        settings.calendar.backend = "caldav"
        settings.calendar.caldav_url = server.url
        settings.calendar.caldav_username = server.username
        settings.calendar.caldav_password_env = ENV
        settings.calendar.caldav_calendar = server.new_calendar()
    return CalendarService(open_calendar(settings), clock=lambda: NOW)


def titles(service: CalendarService, start: datetime = at(1, 0), end: datetime = at(30, 0)) -> list[str]:
    return [e.title for e in service.list(start, end)]


def test_create_at_a_busy_time_asks_first(service: CalendarService) -> None:
    service.create("Ekip toplantısı", at(27, 14), at(27, 15))
    result = service.create("Diş hekimi", at(27, 14, 30))
    assert not result.created and [e.title for e in result.clashes] == ["Ekip toplantısı"]
    assert result.say(NOW) == "O saatte 'Ekip toplantısı' var, yine de ekleyeyim mi?"
    assert titles(service) == ["Ekip toplantısı"]
    forced = service.create("Diş hekimi", at(27, 14, 30), force=True)
    assert forced.created and titles(service) == ["Ekip toplantısı", "Diş hekimi"]
    # back-to-back is not a clash, all-day events never clash
    assert service.create("Sonra", at(27, 15, 30)).created
    service.create("Tatil", date(2026, 11, 30), all_day=True)
    assert service.create("Kahve", at(30, 10)).created


def test_ambiguous_reference_asks_which(service: CalendarService) -> None:
    service.create("Ekip toplantısı", at(27, 10))
    service.create("Proje toplantısı", at(27, 14))
    service.create("Doktor randevusu", at(27, 16))
    many = service.find("toplantıyı", date(2026, 11, 27))
    assert many.ambiguous and many.unique is None
    assert many.say(NOW) == (
        "İki etkinlik buldum: sabah onda Ekip toplantısı, saat on dörtte Proje toplantısı. Hangisini kastediyorsunuz?"
    )
    one = service.find("doktor randevumu", date(2026, 11, 27))
    assert one.unique is not None and one.unique.title == "Doktor randevusu"
    none = service.find("kuaför", date(2026, 11, 27))
    assert none.events == [] and none.say(NOW) == "Yarın 'kuaför' ile eşleşen bir etkinlik bulamadım."


def test_undo_reverses_create_delete_and_update_in_order(service: CalendarService) -> None:
    assert service.undo() == "Geri alınacak bir değişiklik yok."
    a = service.create("Diş hekimi", at(27, 14)).event
    b = service.create("Annemle yemek", at(27, 19)).event
    service.delete(a)
    moved = service.update(b, start=at(27, 20), title="Annemle akşam yemeği")
    assert titles(service) == ["Annemle akşam yemeği"]

    assert service.undo() == "Geri aldım: 'Annemle akşam yemeği' eski haline döndü."
    assert [(e.title, e.start) for e in service.list(at(1, 0), at(30, 0))] == [("Annemle yemek", at(27, 19))]
    assert service.undo() == "Geri aldım: 'Diş hekimi' yeniden takvimde."
    restored = service.list(at(27, 0), at(28, 0))
    assert [(e.uid, e.title, e.start) for e in restored] == [(a.uid, "Diş hekimi", at(27, 14)), (b.uid, "Annemle yemek", at(27, 19))]
    assert service.undo() == "Geri aldım: 'Annemle yemek' takvimden kaldırıldı."
    assert service.undo() == "Geri aldım: 'Diş hekimi' takvimden kaldırıldı."
    assert titles(service) == [] and not service.can_undo
    assert moved.uid == b.uid


def test_undo_of_single_occurrence_delete(service: CalendarService) -> None:
    service.create("Ekip", at(2, 10), rrule="FREQ=WEEKLY;COUNT=3")
    occ = service.list(at(1, 0), at(30, 0))
    service.delete(occ[1])
    assert [e.start for e in service.list(at(1, 0), at(30, 0))] == [at(2, 10), at(16, 10)]
    service.undo()
    assert [e.start for e in service.list(at(1, 0), at(30, 0))] == [at(2, 10), at(9, 10), at(16, 10)]


def test_undo_refuses_when_event_changed_elsewhere(service: CalendarService) -> None:
    ev = service.create("Toplantı", at(27, 10)).event
    service.backend.update(ev, title="Başkası değiştirdi")  # not through the service (another client)
    with pytest.raises(CalendarError, match="o arada"):
        service.undo()
    assert titles(service) == ["Başkası değiştirdi"]


def test_spoken_summaries(service: CalendarService) -> None:
    service.create("diş hekimi", at(27, 14))
    service.create("annenizle yemek", at(27, 19))
    assert service.day_summary(date(2026, 11, 27)) == (
        "Yarın iki etkinliğiniz var: saat on dörtte diş hekimi, akşam yedide annenizle yemek."
    )
    assert service.next_event_text() == "Sıradaki etkinliğiniz yarın saat on dörtte: diş hekimi."
    monday = datetime(2026, 11, 30, tzinfo=TZ)
    assert service.summary(monday, monday + timedelta(days=7)) == "Gelecek hafta hiç etkinliğiniz yok."


# --- speech alone ---------------------------------------------------------------------------
def ev(title: str, start: datetime, minutes: int = 60, all_day: bool = False) -> Event:
    end = start + (timedelta(days=1) if all_day else timedelta(minutes=minutes))
    return Event(uid=title, title=title, start=start, end=end, all_day=all_day)


def test_summary_forms() -> None:
    week = (datetime(2026, 11, 23, tzinfo=TZ), datetime(2026, 11, 30, tzinfo=TZ))
    assert speech.summarize([], *week, NOW) == "Bu hafta hiç etkinliğiniz yok."
    three = [ev("Ekip", at(26, 10)), ev("Doğum günü", at(28, 0), all_day=True), ev("Yemek", at(29, 19))]
    assert speech.summarize(three, *week, NOW) == (
        "Bu hafta üç etkinliğiniz var: bugün sabah onda Ekip, cumartesi günü gün boyu Doğum günü, "
        "pazar günü akşam yedide Yemek."
    )
    many = [ev(f"İş {i}", at(26 + i % 3, 9 + i)) for i in range(9)]
    text = speech.summarize(sorted(many, key=lambda e: e.start), *week, NOW)
    assert text.startswith("Bu hafta dokuz etkinliğiniz var: bugün üç, yarın üç, cumartesi günü üç. İlki bugün")
    day = (at(27, 0), at(28, 0))
    long_day = [ev(f"Görüşme {i}", at(27, 8 + i)) for i in range(8)]
    assert speech.summarize(long_day, *day, NOW) == (
        "Yarın sekiz etkinliğiniz var. İlk üçü: sabah sekizde Görüşme 0, sabah dokuzda Görüşme 1, "
        "sabah onda Görüşme 2; beş etkinlik daha var."
    )
    assert speech.summarize([ev("Tatil", at(27, 0), all_day=True)], *day, NOW) == "Yarın bir etkinliğiniz var: gün boyu Tatil."


def test_spoken_text_has_no_digits_from_times() -> None:
    events = [ev("Toplantı", at(d, h, m)) for d, h, m in [(27, 7, 15), (28, 12, 30), (29, 23, 45), (30, 0, 5)]]
    texts = [
        speech.summarize(events, at(26, 0), at(30, 0) + timedelta(days=1), NOW),
        speech.next_event_text(events[0], NOW),
        speech.created_text(events[3], NOW),
        speech.deleted_text(events[1], NOW),
        speech.updated_text(events[2], NOW),
        speech.which_one(events, NOW),
        speech.created_text(ev("Sınav", datetime(2027, 1, 5, 9, tzinfo=TZ)), NOW),
    ]
    for text in texts:
        assert not re.search(r"\d", text), text
    assert "beş Ocak iki bin yirmi yedide" in texts[-1]


def test_past_ranges_are_spoken_in_past_tense() -> None:
    yesterday = (at(25, 0), at(26, 0))
    assert speech.summarize([], *yesterday, NOW) == "Dün hiç etkinliğiniz yoktu."
    assert speech.summarize([ev("Sunum", at(25, 15))], *yesterday, NOW) == "Dün bir etkinliğiniz vardı: saat on beşte Sunum."
