"""Memory-lite: rolling summary within its token limit, persisted, PII-scrubbed on disk."""

from __future__ import annotations

import sqlite3

from bantz_voice.brain.memory import Memory, db_path, estimate_tokens
from bantz_voice.privacy import PHONE


def test_lines_persist_across_instances() -> None:
    m = Memory(500)
    m.add("yarın saat üçte doktor ekle", "takvime 'doktor' ekledim.")
    m.add("saat kaç", "saati söyledim.")
    m.close()
    again = Memory(500)
    lines = again.lines()
    assert len(lines) == 2 and "doktor" in lines[0] and "saati" in lines[1]
    assert again.lines(1) == [lines[1]]


def test_rolling_limit_keeps_newest() -> None:
    m = Memory(120)
    changes, before = 0, m.lines()
    for i in range(60):
        m.add(f"istek numara {i} " + "uzun metin " * 5, f"iş {i} yapıldı.")
        assert m.tokens() <= 120
        now = m.lines()
        changes += now[: len(before)] != before  # a line fell off the front
        before = now
    assert 0 < changes < 40  # trimmed in steps (to 3/4 of the limit), not on every line
    lines = m.lines()
    assert "iş 59 yapıldı" in lines[-1]
    assert all("iş 0 yapıldı" not in line for line in lines)


def test_limit_with_a_real_tokenizer(smollm2_gguf) -> None:
    from llama_cpp import Llama

    llm = Llama(model_path=str(smollm2_gguf), n_ctx=256, verbose=False, vocab_only=True)

    def count(text: str) -> int:
        return len(llm.tokenize(text.encode("utf-8"), add_bos=False))

    m = Memory(500, count=count)
    for i in range(80):
        m.add(f"{i}. istek: yarın sabah toplantı var mı diye sordum", "takviminize baktım: yarın hiç etkinliğiniz yok.")
    total = sum(count(line) for line in m.lines())
    assert 0.75 * 500 - 80 < total <= 500  # trimmed to 3/4 of the limit (less one line) at most a few lines ago


def test_pii_never_reaches_the_database() -> None:
    m = Memory(500)
    m.add("annemi 0532 123 45 67 numarasından ara, e-postam ali@ornek.com", "bunu yapamayacağımı söyledim.")
    m.close()
    raw = sqlite3.connect(db_path()).execute("SELECT line FROM summary").fetchall()
    blob = " ".join(r[0] for r in raw)
    assert "0532" not in blob and "ali@ornek.com" not in blob and PHONE in blob
    assert db_path().read_bytes().find(b"0532 123") == -1


def test_long_user_text_is_shortened() -> None:
    m = Memory(500)
    line = m.add("a" * 500, "bir şey yaptım.")
    assert len(line) < 140 and estimate_tokens(line) < 100


def test_history_keeps_the_gist_of_long_replies() -> None:
    from bantz_voice.brain.cascade import HISTORY_REPLY_CHARS, _gist

    short = "Tamam efendim."
    assert _gist(short) == short
    long = "Birinci cümle burada. " * 20
    g = _gist(long)
    assert len(g) <= HISTORY_REPLY_CHARS and g.endswith("burada.") and long.startswith(g)
    words = "kelime " * 100
    g = _gist(words)
    assert len(g) <= HISTORY_REPLY_CHARS + 1 and g.endswith("…") and not g[:-1].endswith(" ")


async def test_chat_summary_leaves_out_the_turns_it_has_as_history(tmp_path) -> None:
    """The chat prompt has the last turns verbatim; their summary lines would be read twice."""
    from bantz_voice.brain.cascade import HISTORY_MAX, HISTORY_TURNS, Brain
    from bantz_voice.config import Settings
    from bantz_voice.responder import TurnRequest

    s = Settings()
    s.brain.rules_only = True
    s.calendar.ics_path = tmp_path / "cal.ics"
    b = Brain(s)
    try:
        texts = ["saat kaç", "bugün ayın kaçı", "bugünün tarihi ne"] * 2
        for i, text in enumerate(texts, 1):
            [p async for p in b.respond(TurnRequest(text=text))]
            lines = b.memory.lines()
            # the history grows to HISTORY_MAX, then is cut back to HISTORY_TURNS in one step
            assert len(b.history) == (i if i <= HISTORY_MAX else HISTORY_TURNS)
            assert b._older_summary() == lines[: len(lines) - len(b.history)]
        assert len(lines) == 6 and len(b.history) == HISTORY_TURNS == 3
        assert b.history[-1][0] == "bugünün tarihi ne"
    finally:
        await b.aclose()
    b2 = Brain(s)  # a new process: no history in memory, so the whole summary
    try:
        assert b2._older_summary() == b2.memory.lines() == lines
    finally:
        await b2.aclose()
