"""Fast-path NLU: accuracy on labelled sets, behaviour on specific phrasings, bad input."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bantz_voice.schemas import Intent, NluDecision, Route
from bantz_voice.turkish.evaluate import load_cases, score, slot_matches
from bantz_voice.turkish.nlu import has_tool_cue, parse

TZ = ZoneInfo("Europe/Istanbul")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
DATA = Path(__file__).parent / "data"
CONFIDENT = 0.8  # settings.brain.fast_path_min_confidence


def _report(name: str):
    cases = load_cases(DATA / name)
    preds = [parse(c.text, NOW).to_json_dict() for c in cases]
    return cases, preds, score(cases, preds)


@pytest.mark.parametrize(
    "name,route,intent,slots",
    [
        ("nlu_dev.jsonl", 0.95, 0.92, 0.85),
        ("nlu_corpus.jsonl", 0.95, 0.92, 0.85),
        ("nlu_heldout.jsonl", 0.95, 0.92, 0.85),
    ],
)
def test_accuracy_targets(name: str, route: float, intent: float, slots: float) -> None:
    _, _, rep = _report(name)
    assert rep.total >= 60
    assert rep.route_acc >= route, [m.case.text for m in rep.misses]
    assert rep.intent_acc >= intent, [m.case.text for m in rep.misses]
    assert rep.slot_acc >= slots, [m.case.text for m in rep.misses]


def test_corpus_is_large_and_covers_every_intent() -> None:
    cases = load_cases(DATA / "nlu_corpus.jsonl") + load_cases(DATA / "nlu_heldout.jsonl")
    assert len(cases) >= 500
    assert {c.intent for c in cases} == {i.value for i in Intent}
    assert len({c.text for c in cases}) == len(cases), "duplicate sentences"
    dev = {c.text for c in load_cases(DATA / "nlu_dev.jsonl")}
    assert not dev & {c.text for c in cases}, "dev sentences must not be in the corpus"


@pytest.mark.parametrize("name", ["nlu_dev.jsonl", "nlu_corpus.jsonl", "nlu_heldout.jsonl"])
def test_confident_decisions_are_right(name: str) -> None:
    """A confident answer skips the LLM, so it must (almost) always be fully right."""
    cases, preds, _ = _report(name)
    confident = [(c, p) for c, p in zip(cases, preds) if p["confidence"] >= CONFIDENT]
    wrong = [
        c.text
        for c, p in confident
        if p["intent"] != c.intent or not all(slot_matches(k, v, p["slots"].get(k)) for k, v in c.slots.items())
    ]
    assert len(confident) >= 0.6 * len(cases)
    assert len(wrong) <= 0.02 * len(confident), wrong


@pytest.mark.parametrize("name", ["nlu_dev.jsonl", "nlu_corpus.jsonl", "nlu_heldout.jsonl"])
def test_every_tool_request_has_a_tool_cue(name: str) -> None:
    """An unsure chat guess with no cue goes to chat without the LLM router
    (``brain.chat_without_cue``), so no calendar, system or out-of-scope sentence may lack one; and
    most chat lacks one, or the router's time is not saved."""
    cases = load_cases(DATA / name)
    assert [c.text for c in cases if c.route != "smalltalk" and not has_tool_cue(c.text, NOW)] == []
    chat = [c for c in cases if c.route == "smalltalk"]
    assert sum(not has_tool_cue(c.text, NOW) for c in chat) >= 0.7 * len(chat)


@pytest.mark.parametrize(
    "text, cue",
    [
        ("sonraki etkinliğim ne", True),  # etkinlik → etkinliğ-
        ("kedim bugün çok tuhaf", True),  # a date word: the router decides
        ("Ahmet'le buluşmamız kaçta", True),
        ("müziği aç", True),  # out of scope: the router may say unknown
        ("beni dinliyor musun", False),
        ("Bane dinliyord musun.", False),  # misheard chat stays chat
        ("", False),
    ],
)
def test_tool_cue(text: str, cue: bool) -> None:
    assert has_tool_cue(text, NOW) is cue


def _p(text: str) -> NluDecision:
    return parse(text, NOW)


def test_dev_example_exact() -> None:
    d = _p("yarın saat dörtte kuaför randevusu ekle")
    assert d.route is Route.calendar and d.intent is Intent.calendar_create
    assert d.slots.start == "2026-11-27T16:00" and "kuaför" in (d.slots.title or "")
    assert d.confidence >= CONFIDENT and d.source == "rules"


@pytest.mark.parametrize(
    "text",
    [
        "bantz yarın saat dörtte kuaför ekle",
        "hey bantz yarın saat dörtte kuaför ekle",
        "Bants, yarın saat dörtte kuaför ekle",
        "banz yarın saat dörtte kuaför ekle lütfen",
        "şey yarın saat dörtte ee kuaför ekle",
        "acaba yarın saat dörtte kuaför ekler misin",
        "YARIN SAAT DÖRTTE KUAFÖR EKLE",
        "yarin saat dortte kuafor ekle",
    ],
)
def test_wake_word_fillers_casing_ascii(text: str) -> None:
    d = _p(text)
    assert d.intent is Intent.calendar_create
    assert d.slots.start == "2026-11-27T16:00"
    assert d.slots.title is not None and "kuaf" in d.slots.title.lower()
    assert "bantz" not in d.slots.title.lower() and "şey" not in d.slots.title.lower()
    assert d.confidence >= CONFIDENT


def test_title_keeps_users_words() -> None:
    d = _p("yarın dokuzu çeyrek geçe stand-up toplantısı koy")
    assert d.slots.title == "stand-up toplantısı"
    assert d.slots.start == "2026-11-27T09:15"


def test_duration_sets_end() -> None:
    d = _p("yarın öğleden sonra üçte bir saatlik görüşme ekle")
    assert (d.slots.start, d.slots.end) == ("2026-11-27T15:00", "2026-11-27T16:00")


def test_create_without_time_is_all_day_and_without_day_is_unsure() -> None:
    d = _p("cuma günü tüm gün eğitim ekle")
    assert d.slots.start == "2026-11-27" and d.confidence >= CONFIDENT
    unsure = _p("toplantı ekle")
    assert unsure.intent is Intent.calendar_create and unsure.slots.start is None
    assert unsure.confidence < CONFIDENT
    no_title = _p("yarın saat üçte ekle")
    assert no_title.intent is Intent.calendar_create and no_title.confidence < CONFIDENT


def test_update_splits_old_and_new_time() -> None:
    d = _p("yarınki görüşmenin saatini dörde değiştir")
    assert d.intent is Intent.calendar_update
    assert d.slots.target_date == "2026-11-27" and d.slots.new_start == "2026-11-27T16:00"
    relative = _p("buluşmayı yarım saat ileri al")
    assert relative.intent is Intent.calendar_update and relative.slots.new_start is None
    assert relative.confidence < CONFIDENT


@pytest.mark.parametrize(
    "text,title,target,new",
    [
        ("sunumu saat üçten dörde al", "sunum", None, "2026-11-26T16:00"),
        ("veli toplantısını salıdan çarşambaya al", "veli", "2026-12-01", "2026-12-02"),
        ("kuaför randevumu cumartesi saat ona al", "kuaför", None, "2026-11-28T10:00"),
        ("akşam yemeğini saat dokuza al", "yeme", None, "2026-11-26T21:00"),
    ],
)
def test_update_new_time(text: str, title: str, target: str | None, new: str) -> None:
    d = _p(text)
    assert d.intent is Intent.calendar_update and title in (d.slots.title or "")
    assert d.slots.target_date == target and d.slots.new_start == new


def test_two_actions_in_one_sentence_are_not_confident() -> None:
    d = _p("yarınki toplantıyı sil ve cuma saat üçte yenisini ekle")
    assert d.route is Route.calendar and d.confidence < CONFIDENT


@pytest.mark.parametrize(
    "text,start,confident",
    [
        ("4 Aralık cuma saat 10'da mülakat ekle", "2026-12-04T10:00", True),
        ("3 Aralık cuma saat 10'da mülakat ekle", "2026-12-03T10:00", False),  # 3 Aralık is a Thursday
        ("yarın pazartesi saat onda toplantı ekle", "2026-11-27T10:00", False),
        ("iki hafta sonra pazartesi saat onda mülakat ekle", "2026-12-07T10:00", True),
    ],
)
def test_conflicting_days_are_not_confident(text: str, start: str, confident: bool) -> None:
    d = _p(text)
    assert d.slots.start == start
    assert (d.confidence >= CONFIDENT) is confident


def test_homographs_of_months() -> None:
    d = _p("cumartesi akşam yedide nişan töreni ekle")
    assert d.slots.start == "2026-11-28T19:00" and d.slots.title == "nişan töreni"
    assert _p("nisan ayında neler var").slots.range_start == "2027-04-01"


def test_query_over_two_days() -> None:
    d = _p("salı ve çarşamba neler var")
    assert (d.slots.range_start, d.slots.range_end) == ("2026-12-01", "2026-12-02")


def test_delete_with_ki_suffix() -> None:
    d = _p("cumartesi sabahki kahvaltıyı iptal et")
    assert d.intent is Intent.calendar_delete
    assert d.slots.target_date == "2026-11-28" and d.slots.title == "kahvaltı"


@pytest.mark.parametrize(
    "text,intent",
    [
        ("saat kaç", Intent.system_time),
        ("toplantım saat kaçta", Intent.calendar_query),
        ("bugünün tarihi ne", Intent.system_date),
        ("bugün ne var", Intent.calendar_query),
        ("az önce ne yaptık?", Intent.smalltalk_chat),
        ("az önce hangi toplantıyı ekledik", Intent.smalltalk_chat),
        ("yarın hava nasıl", Intent.unknown),
        ("bugün trafik var mı", Intent.unknown),
        ("müzik dersi ekle yarın saat beşte", Intent.calendar_create),
        ("yarın sabah yediye alarm kur", Intent.reminder_create),
        ("annemi ara", Intent.unknown),
        ("basketbol maçını takvimden sil", Intent.calendar_delete),
        ("dünyanın en uzun nehri hangisi", Intent.smalltalk_chat),
    ],
)
def test_routing(text: str, intent: Intent) -> None:
    assert _p(text).intent is intent


@pytest.mark.parametrize(
    "text",
    ["yarın saat 27'de toplantı ekle", "32 Aralık'ta doktor ekle", "ayın 45'inde kira ekle", "saat 25:30'da spor ekle"],
)
def test_out_of_range_is_never_a_confident_date(text: str) -> None:
    d = _p(text)
    assert d.confidence < CONFIDENT
    for value in (d.slots.start, d.slots.end):
        assert value is None or not value.startswith(("2026-12-32", "2026-11-27T03"))


@pytest.mark.parametrize(
    "text",
    ["", "   ", "🙂", "🎉🎉🎉 🙃", "привет как дела", "東京 明日", "?!?!", "0", "a" * 10_000, "yarın " * 2000, "\x00\x01", "saat"],
)
def test_bad_input_is_low_confidence_not_an_error(text: str) -> None:
    d = _p(text)
    assert isinstance(d, NluDecision)
    assert 0.0 <= d.confidence <= 1.0
    if not text.strip() or not any(ch.isalpha() for ch in text):
        assert d.confidence < CONFIDENT


def test_naive_now_and_no_now() -> None:
    assert parse("yarın saat üçte toplantı ekle", datetime(2026, 11, 26, 10, 0)).slots.start == "2026-11-27T15:00"
    assert parse("saat kaç", None).intent is Intent.system_time  # type: ignore[arg-type]


def test_json_dict_shape() -> None:
    out = _p("yarın ne var").to_json_dict()
    assert set(out) == {"route", "intent", "slots", "confidence", "source"}
    assert out["slots"] == {"range_start": "2026-11-27", "range_end": "2026-11-27"}


@pytest.mark.parametrize(
    "text, intent",
    [
        ("bugün günlerden ne", "system.date"),
        ("Bantz bugünün tarihi ne", "system.date"),
        ("ayin kaci bugun", "system.date"),
        ("saat kaç", "system.time"),
        ("şu an saat kaç oldu", "system.time"),
        ("", "system.time"),
    ],
)
def test_system_intent_picks_date_or_time_without_a_model(text: str, intent: str) -> None:
    from bantz_voice.turkish.nlu import system_intent

    assert system_intent(text).value == intent


@pytest.mark.parametrize(
    "text,cue",
    [
        ("şu an saat kaç", True), ("Şuan saat kaç?", True), ("bugün ayın kaçı", True), ("bugün ne", True),
        ("tarih ne", True), ("kaçtayız", True), ("Bantz bugün hangi gündeyiz", True),
        ("bugün çok yoruldum", False), ("beni dinliyor musun", False), ("canım sıkılıyor", False),
        ("Kühhaidun.", False), ("Bantz", False), ("", False),
    ],
)
def test_has_system_cue(text: str, cue: bool) -> None:
    from bantz_voice.turkish.nlu import has_system_cue

    assert has_system_cue(text) is cue
