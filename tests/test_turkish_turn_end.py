"""The turn-end policy on text: is a (speculative) Turkish transcript a finished turn?"""

from __future__ import annotations

from datetime import datetime

import pytest

from bantz_voice.turkish.temporal import DEFAULT_TZ
from bantz_voice.turkish.turn_end import TurnEnd, TurnEndPolicy, Verdict

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=DEFAULT_TZ)
POLICY = TurnEndPolicy(min_confidence=0.8)

COMPLETE = [
    "yarın saat üçte doktor randevusu ekle",
    "Yarın saat üçte doktor randevusu ekle.",
    "Bantz, saat kaç?",
    "şu an saat kaç",
    "bugünün tarihi ne",
    "bugün takvimde ne var",
    "yarın toplantım var mı",
    "yarınki toplantıyı sil",
    "toplantıyı yarına ertele",
    "cuma günü saat beşte spor ekle lütfen",
    "yarın öğleden sonra boş muyum",
    "beni dinliyor musun",  # a chat question: no tool word, ends on its question particle
    "çok yoruldum",
    "nasılsın",
    "teşekkürler",
    "nasılsın bakalım",  # a tag after the verb, not a hesitation
    "bir fıkra anlat bakalım",
]

UNFINISHED = [
    ("yarın saat üçte", "verb missing"),
    ("Yarın saat üçte...", "open punctuation"),  # Whisper's ellipsis on a cut-off sentence
    ("yarın toplantım", "verb missing"),  # "-tım" is a possessive here, not a past tense
    ("doktor randevusu", "verb missing"),
    ("yarın saat", "value missing"),
    ("Bantz, saat", "value missing"),
    ("toplantıyı sil ve", "connector"),
    ("yarın ya da", "connector"),
    ("hafta sonu için", "connector"),
    ("bana kısa bir", "determiner"),
    ("yarın saat üç", "number without unit"),
    ("toplantıyı 15", "number without unit"),
    ("Bantz.", "wake word only"),
    ("Hey Bantz", "wake word only"),
    ("yarın şey", "hesitation"),
    ("bugün akşam yedide", "verb missing"),
    ("toplantıyı,", "open punctuation"),
]

# no verb, no question word or closing, nothing the policy knows: a middle hold, not the hangover
FRAGMENT = [
    "en sevdiğin",
    "yeni bir hobi",
    "Yakın sakık.",  # Whisper base's transcript of espeak-ng's "yarın saat üç" (bench_turn_end.py)
    "Yagın Saba",  # ... of "yarın sabah"
    "çok güzel",
]

EMPTY = ["", "   "]  # Whisper heard no words: no reply either way, so holding costs nothing

UNKNOWN = [
    # a chat sentence with a date word: the brain asks its LLM router, so no early end either
    ("bugün çok yoruldum", "not confident"),
]


@pytest.mark.parametrize("text", COMPLETE)
def test_complete_commands_and_questions(text: str) -> None:
    judged = POLICY.judge(text, NOW)
    assert judged.verdict is Verdict.COMPLETE, judged


@pytest.mark.parametrize("text,reason", UNFINISHED)
def test_unfinished_phrases(text: str, reason: str) -> None:
    judged = POLICY.judge(text, NOW)
    assert (judged.verdict, judged.reason) == (Verdict.UNFINISHED, reason)


@pytest.mark.parametrize("text", FRAGMENT)
def test_verbless_fragments_get_a_middle_hold(text: str) -> None:
    judged = POLICY.judge(text, NOW)
    assert (judged.verdict, judged.reason) == (Verdict.FRAGMENT, "no verb")


@pytest.mark.parametrize("text", EMPTY)
def test_an_empty_transcript_gets_the_middle_hold(text: str) -> None:
    assert POLICY.judge(text, NOW) == TurnEnd(Verdict.FRAGMENT, "empty")


@pytest.mark.parametrize("text,reason", UNKNOWN)
def test_everything_else_keeps_the_fixed_hangover(text: str, reason: str) -> None:
    judged = POLICY.judge(text, NOW)
    assert (judged.verdict, judged.reason) == (Verdict.UNKNOWN, reason)


def test_completeness_needs_the_fast_paths_confidence() -> None:
    # a calendar sentence that ends on a verb but the fast path cannot decide alone (no title):
    # complete only for a policy that accepts the fast path's lower confidence
    text = "yarın bir şey ekle"
    strict, lax = TurnEndPolicy(min_confidence=0.95).judge(text, NOW), TurnEndPolicy(min_confidence=0.0).judge(text, NOW)
    assert strict.verdict is Verdict.UNKNOWN
    assert lax.verdict is Verdict.COMPLETE


def test_a_paused_request_is_unfinished_until_its_verb_arrives() -> None:
    # the speculative transcripts of one utterance as the user speaks it, pause by pause
    steps = ["Bantz", "Bantz, yarın", "Bantz, yarın saat", "Bantz, yarın saat üçte", "Bantz, yarın saat üçte doktor randevusu",
             "Bantz, yarın saat üçte doktor randevusu ekle"]
    verdicts = [POLICY.judge(s, NOW).verdict for s in steps]
    assert verdicts == [Verdict.UNFINISHED] * 5 + [Verdict.COMPLETE]


@pytest.mark.parametrize("text", ["?", "...", "1234567890" * 40, "ve ve ve", "🙂", "saat 27'de ekle", "Bantz Bantz Bantz", "\x00"])
def test_odd_input_gets_a_verdict(text: str) -> None:
    assert POLICY.judge(text, NOW).verdict in set(Verdict)
