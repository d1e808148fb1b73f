"""Speech normalization for TTS."""

from __future__ import annotations

import pytest

from bantz_voice.turkish.normalize import attach, normalize, number_words, ordinal_words


@pytest.mark.parametrize(
    "n,words",
    [
        (0, "sıfır"),
        (1, "bir"),
        (10, "on"),
        (15, "on beş"),
        (21, "yirmi bir"),
        (100, "yüz"),
        (101, "yüz bir"),
        (250, "iki yüz elli"),
        (1000, "bin"),
        (1999, "bin dokuz yüz doksan dokuz"),
        (2026, "iki bin yirmi altı"),
        (60, "altmış"),
        (76, "yetmiş altı"),
        (1_234_567, "bir milyon iki yüz otuz dört bin beş yüz altmış yedi"),
        (-5, "eksi beş"),
    ],
)
def test_number_words_are_spaced(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize(
    "n,words",
    [(1, "birinci"), (3, "üçüncü"), (4, "dördüncü"), (6, "altıncı"), (10, "onuncu"), (15, "on beşinci"), (21, "yirmi birinci"), (100, "yüzüncü")],
)
def test_ordinals(n: int, words: str) -> None:
    assert ordinal_words(n) == words


@pytest.mark.parametrize(
    "word,suffix,out",
    [
        ("üç", "te", "üçte"),
        ("dört", "e", "dörde"),
        ("dört", "te", "dörtte"),
        ("altı", "da", "altıda"),
        ("lira", "ye", "liraya"),
        ("yirmi", "si", "yirmisi"),
        ("on", "u", "onu"),
        ("beş", "i", "beşi"),
        ("iki", "de", "ikide"),
        ("kırk", "ta", "kırkta"),
        ("yedi", "yi", "yediyi"),
        ("otuz", "da", "otuzda"),
    ],
)
def test_attach_harmony(word: str, suffix: str, out: str) -> None:
    assert attach(word, suffix) == out


@pytest.mark.parametrize(
    "text,spoken",
    [
        ("14:30", "on dört otuz"),
        ("Toplantı 14:30'da başlıyor.", "Toplantı on dört otuzda başlıyor."),
        ("saat 09:05", "saat dokuz sıfır beş"),
        ("saat 18:00'de", "saat on sekizde"),
        ("15 Aralık", "on beş Aralık"),
        ("15 Aralık'ta", "on beş Aralık'ta"),
        ("26.11.2026", "yirmi altı Kasım iki bin yirmi altı"),
        ("3. kat", "üçüncü kat"),
        ("21. yüzyıl", "yirmi birinci yüzyıl"),
        ("%20 indirim", "yüzde yirmi indirim"),
        ("%20'si", "yüzde yirmisi"),
        ("%3,5", "yüzde üç virgül beş"),
        ("20% indirim", "yüzde yirmi indirim"),
        ("ör. elma", "örneğin elma"),
        ("250 TL", "iki yüz elli lira"),
        ("250 TL'ye aldım", "iki yüz elli liraya aldım"),
        ("12,50 TL", "on iki lira elli kuruş"),
        ("₺99", "doksan dokuz lira"),
        ("$5", "beş dolar"),
        ("€20", "yirmi avro"),
        ("1.000 kişi", "bin kişi"),
        ("3'te", "üçte"),
        ("4'e", "dörde"),
        ("6'da", "altıda"),
        ("10'u", "onu"),
        ("2026'da", "iki bin yirmi altıda"),
        ("3,5 km", "üç virgül beş kilometre"),
        ("5 kg", "beş kilogram"),
        ("-5 derece", "eksi beş derece"),
        ("Dr. Ayşe", "doktor Ayşe"),
        ("Prof. Dr. Ali", "profesör doktor Ali"),
        ("elma, armut vb.", "elma, armut ve benzeri."),  # the dot also ends the sentence
        ("10 dk.", "on dakika."),
        ("10 dk. sürer", "on dakika sürer"),
        ("merhaba", "merhaba"),
        ("", ""),
        ("saat 3.", "saat üç."),
    ],
)
def test_normalize(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


def test_no_digits_left_and_no_glued_numbers() -> None:
    out = normalize("Yarın 15:45'te 3. kattaki %15 indirimli 1.250 TL'lik toplantı; 2 saat sürer.")
    assert not any(ch.isdigit() for ch in out)
    assert "onbeş" not in out and "kırkbeş" not in out
    assert "on beş kırk beşte" in out


def test_long_and_odd_input() -> None:
    assert isinstance(normalize("9" * 50_000), str)
    assert normalize("🙂 12") == "🙂 on iki"
    assert normalize(None) == ""  # type: ignore[arg-type]
