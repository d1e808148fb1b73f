"""Property tests: the Turkish layer never raises, and every resolved time is near ``now``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bantz_voice.schemas import NluDecision
from bantz_voice.turkish.nlu import parse
from bantz_voice.turkish.normalize import normalize
from bantz_voice.turkish.temporal import SLOTS, resolve, resolve_slot

TZ = ZoneInfo("Europe/Istanbul")
PIECES = [
    "bugün", "yarın", "öbür gün", "yarından sonra", "haftaya", "gelecek hafta", "bu hafta", "hafta sonu", "bu ay",
    "gelecek ay", "cuma", "salıya", "pazartesiden", "perşembe günü", "saat", "üçte", "dörde", "on birde", "beşi",
    "yediye", "buçukta", "çeyrek", "geçe", "kala", "sabah", "öğleden sonra", "akşam", "gece", "akşamüstü", "öğlen",
    "ayın", "28'inde", "15", "Aralık'ta", "Ocak", "32", "27'de", "14:30'da", "9.30", "2", "saat sonra", "dakika sonra",
    "gün sonra", "hafta sonra", "yarım", "saatlik", "bir", "iki", "kırk beş", "tüm gün", "kadar", "ile", "arası",
    "toplantı", "ekle", "sil", "ertele", "iptal et", "ne var", "bantz", "şey", "lütfen", "ki", "'", "?", "🙂", "yarin",
    "ucte", "aksam", "ogleden", "sonra", "99", "0", "-", "00:00", "24:00", "23:59", "31", "29 Şubat", "ayın 31'i",
    "gece yarısı", "bu saatte", "aynı saate", "ay sonu", "hafta içi", "haftaya bugün", "5'i", "45'inde", "on dört",
    "otuzda", "başlayıp", "bitecek", "9 da", "ertele", "ileri al", "dün", "geçen hafta", "yarından", "ve",
]  # fmt: skip
phrases = st.lists(st.sampled_from(PIECES), min_size=0, max_size=8).map(" ".join)
nows = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)).map(lambda d: d.replace(tzinfo=TZ))
FAST = settings(max_examples=int(__import__("os").environ.get("BANTZ_HYPOTHESIS_EXAMPLES", "300")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


@FAST
@given(st.text(max_size=300), nows)
def test_parse_never_raises_on_arbitrary_text(text: str, now: datetime) -> None:
    d = parse(text, now)
    assert isinstance(d, NluDecision) and 0.0 <= d.confidence <= 1.0
    assert normalize(text) is not None


@FAST
@given(phrases, nows)
def test_resolved_values_stay_near_now(expr: str, now: datetime) -> None:
    for slot in SLOTS:
        value = resolve_slot(slot, expr, now)
        if value is None:
            continue
        assert len(value) in (10, 16)
        day = _day(value)
        # "bu hafta" / "bu ay" start on this Monday / the 1st; a point in time is at most "dün"
        back = 31 if slot.startswith("range") else 1  # "geçen hafta" may be asked about
        assert now.date() - timedelta(days=back) <= day <= now.date() + timedelta(days=400), (expr, slot, value)
    v = resolve(expr, now)
    if v is not None and v.kind == "range":
        assert v.start <= v.end


@FAST
@given(phrases, nows)
def test_parse_slots_stay_near_now(expr: str, now: datetime) -> None:
    d = parse(expr, now)
    for key, value in d.slots.compact().items():
        if key in ("title", "duration"):  # a timer's duration ("2 saat": PT2H) is no date
            continue
        day = _day(value)
        back = 31 if key.startswith("range") else 1
        assert now.date() - timedelta(days=back) <= day <= now.date() + timedelta(days=400), (expr, key, value)
    if d.slots.start and d.slots.end:
        assert d.slots.end > d.slots.start


@FAST
@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_integers_are_spelled_out_with_spaces(n: int) -> None:
    from bantz_voice.turkish.normalize import number_words

    spoken = normalize(str(n))
    assert spoken == number_words(n)
    assert not any(ch.isdigit() for ch in spoken)
    morphemes = {
        "eksi", "sıfır", "bir", "iki", "üç", "dört", "beş", "altı", "yedi", "sekiz", "dokuz", "on", "yirmi", "otuz",
        "kırk", "elli", "altmış", "yetmiş", "seksen", "doksan", "yüz", "bin", "milyon", "milyar", "trilyon",
    }  # fmt: skip
    assert set(spoken.split()) <= morphemes, spoken  # "on beş", never "onbeş"


@FAST
@given(st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
def test_times_are_spoken(h: int, m: int) -> None:
    spoken = normalize(f"saat {h:02d}:{m:02d}'de")
    assert not any(ch.isdigit() for ch in spoken) and spoken.startswith("saat ")
