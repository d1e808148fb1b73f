"""The reply chunker never cuts after an ordinal dot, an abbreviation, a Roman numeral, an
initial or a decimal point — whole and streamed in small pieces."""

from __future__ import annotations

import pytest

from bantz_voice.tts.chunker import TextChunker, bound_length, sentence_end, split_reply


def _streamed(text: str, step: int, words: int = 6) -> list[str]:
    c = TextChunker(words)
    out: list[str] = []
    for i in range(0, len(text), step):
        out += c.push(text[i : i + step])
    return out + c.flush()


CASES = [
    # (reply, chunks with first_chunk_words=3)
    ("Toplantı 2. katta. Dr. Yılmaz da gelecek.", ["Toplantı 2. katta.", "Dr. Yılmaz da gelecek."]),
    ("Tamam. Prof. Dr. Ayşe Kaya ile görüşme ekledim.", ["Tamam.", "Prof. Dr. Ayşe Kaya ile görüşme ekledim."]),
    ("Etkinlik 3.5 saat sürer. Başka?", ["Etkinlik 3.5 saat", "sürer.", "Başka?"]),
    ("Fiyat 2,5 lira. Uygun mu?", ["Fiyat 2,5 lira.", "Uygun mu?"]),
    ("Kitap XIX. Yüzyıl edebiyatı üzerine. Güzel.", ["Kitap XIX. Yüzyıl", "edebiyatı üzerine.", "Güzel."]),
    ("Elma, armut vb. meyveler aldım. Sonra eve döndüm.", ["Elma,", "armut vb. meyveler aldım.", "Sonra eve döndüm."]),
    ("Adres Atatürk Cad. No. 5 olarak kayıtlı. Tamam.", ["Adres Atatürk Cad. No. 5", "olarak kayıtlı.", "Tamam."]),
    ("Sonuç 2. Yarın bakarız.", ["Sonuç 2.", "Yarın bakarız."]),  # a capital after the number: a sentence end
    ("Ayşe K. Demir aradı. Geri dön.", ["Ayşe K. Demir", "aradı.", "Geri dön."]),
]


@pytest.mark.parametrize("text,chunks", CASES)
def test_whole_reply(text: str, chunks: list[str]) -> None:
    assert split_reply(text, 3) == chunks


@pytest.mark.parametrize("step", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("text,chunks", CASES)
def test_streamed_pieces_give_the_same_chunks(text: str, chunks: list[str], step: int) -> None:
    assert _streamed(text, step, 3) == chunks


@pytest.mark.parametrize(
    "text",
    ["Randevunuz 2. katta, 14 numaralı odada.", "Dr. Yılmaz yarın gelir.", "Fiyat 3.5 lira.", "Örn. yarın."],
)
def test_no_chunk_ends_with_an_ordinal_or_abbreviation_dot(text: str) -> None:
    for words in (1, 2, 3, 6):
        for chunk in split_reply(text, words)[:-1]:
            last = chunk.split()[-1]
            assert last not in ("2.", "Dr.", "3.", "Örn."), (words, chunk)


def test_waits_for_the_character_after_an_ordinal() -> None:
    c = TextChunker(20)
    assert c.push("Bu birinci cümle. Toplantı 2. ") == ["Bu birinci cümle."]
    assert c.push("katta yapılacak. ") == ["Toplantı 2. katta yapılacak."]


def test_sentence_end_verdicts() -> None:
    t = "Dr. Ali 2. katta. Bitti"
    assert sentence_end(t, 2, 4) is False
    assert sentence_end(t, 9, 11) is False
    assert sentence_end(t, 16, 18) is True
    assert sentence_end("Kat 2. ", 5, 7) is None


def test_bound_length_does_not_cut_after_abbreviations() -> None:
    text = "Prof. Dr. Ayşe Kaya ile yarın 2. katta görüşme var ve sonra başka bir toplantı daha var."
    pieces = bound_length(text, 40)
    assert " ".join(pieces) == text
    assert all(not p.endswith(("Prof.", "Dr.", "2.")) for p in pieces), pieces
