"""Voice loop, per stage, without models: WAV reading/resampling, VAD endpointing, chunker,
hallucination guard, trace, levels."""

from __future__ import annotations

import json
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from bantz_voice.asr import hallucination_reason, is_repetitive
from bantz_voice.audio.vad import Endpointer, Frame
from bantz_voice.audio.wavio import dbfs, read_wav, resample, write_wav
from bantz_voice.errors import AudioInputError
from bantz_voice.trace import STAGES, TraceLog, TurnTrace
from bantz_voice.tts.chunker import TextChunker, bound_length, split_reply
from bantz_voice.tts.piper_tts import level

DATA = Path(__file__).parent / "data"
SPEECH = DATA / "tr_randevu.wav"


def _write(path: Path, data: np.ndarray, rate: int, width: int = 2) -> Path:
    ch = 1 if data.ndim == 1 else data.shape[1]
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(ch)
        wf.setsampwidth(width)
        wf.setframerate(rate)
        if width == 2:
            wf.writeframes(data.astype("<i2").tobytes())
        elif width == 3:
            v = data.astype(np.int32).reshape(-1) * 256
            b = v.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
            wf.writeframes(b.tobytes())
    return path


def _tone(rate: int, seconds: float = 1.0, freq: float = 440.0, amp: float = 8000) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


# --- WAV reading and resampling -----------------------------------------------------------
@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_read_wav_resamples_any_rate_to_16k(tmp_path, rate):
    p = _write(tmp_path / "t.wav", _tone(rate, 1.0, 440.0), rate)
    x = read_wav(p, 16000)
    assert x.dtype == np.int16
    assert abs(len(x) - 16000) <= 2
    # the tone survives: dominant frequency still 440 Hz
    spec = np.abs(np.fft.rfft(x.astype(np.float64)))
    assert abs(np.argmax(spec) * 16000 / len(x) - 440) < 3


def test_read_wav_stereo_to_mono_and_24bit(tmp_path):
    left = _tone(48000, 0.5, 300.0)
    stereo = np.stack([left, left], axis=1)
    x = read_wav(_write(tmp_path / "s.wav", stereo, 48000), 16000)
    assert abs(len(x) - 8000) <= 2 and dbfs(x) > -20
    x24 = read_wav(_write(tmp_path / "s24.wav", left, 48000, width=3), 16000)
    assert abs(len(x24) - 8000) <= 2 and abs(dbfs(x24) - dbfs(x)) < 0.5


def test_read_wav_float32(tmp_path):
    data = (_tone(44100, 0.5).astype(np.float32) / 32768.0)
    fmt = struct.pack("<HHIIHH", 3, 1, 44100, 44100 * 4, 4, 32)
    body = data.astype("<f4").tobytes()
    riff = b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(body)) + b"WAVE"
    riff += b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(body)) + body
    p = tmp_path / "f.wav"
    p.write_bytes(riff)
    x = read_wav(p, 16000)
    assert abs(len(x) - 8000) <= 2 and dbfs(x) > -20


def test_resample_keeps_duration_and_dtype():
    x = _tone(44100, 2.0)
    y = resample(x, 44100, 16000)
    assert y.dtype == np.int16 and abs(len(y) - 32000) <= 2
    assert abs(dbfs(y) - dbfs(x)) < 0.3


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("empty.wav", b"", "boş"),
        ("text.wav", b"merhaba, bu bir metin dosyasi\n" * 10, "WAV ses dosyası değil"),
        ("header_only.wav", None, "hiç ses örneği yok"),
        ("cut_header.wav", "cut", "WAV"),
    ],
)
def test_bad_wavs_raise_turkish_one_line_errors(tmp_path, name, content, words):
    p = tmp_path / name
    if content is None:
        _write(p, np.zeros(0, dtype=np.int16), 16000)
    elif content == "cut":
        _write(p, _tone(16000, 1.0), 16000)
        p.write_bytes(p.read_bytes()[:30])
    else:
        p.write_bytes(content)
    with pytest.raises(AudioInputError) as ei:
        read_wav(p)
    msg = str(ei.value)
    assert words in msg and "\n" not in msg


def test_truncated_data_is_read_but_too_short_is_refused(tmp_path):
    p = _write(tmp_path / "t.wav", _tone(16000, 1.0), 16000)
    raw = p.read_bytes()
    (tmp_path / "half.wav").write_bytes(raw[: 44 + 16000])  # header claims 1 s, data has 0.5 s
    assert abs(len(read_wav(tmp_path / "half.wav")) - 8000) <= 1
    (tmp_path / "tiny.wav").write_bytes(raw[: 44 + 200])
    with pytest.raises(AudioInputError, match="çok kısa"):
        read_wav(tmp_path / "tiny.wav")


def test_silent_and_missing_wav(tmp_path):
    p = _write(tmp_path / "silent.wav", np.zeros(32000, dtype=np.int16), 16000)
    with pytest.raises(AudioInputError, match="sessiz"):
        read_wav(p)
    assert len(read_wav(p, require_speech_level=False)) == 32000
    with pytest.raises(AudioInputError, match="bulunamadı"):
        read_wav(tmp_path / "nope.wav")
    with pytest.raises(AudioInputError, match="klasör"):
        read_wav(tmp_path)


def test_write_wav_round_trip(tmp_path):
    x = _tone(22050, 0.3)
    p = write_wav(tmp_path / "sub" / "o.wav", x, 22050)
    assert np.array_equal(read_wav(p, 22050), x)


# --- VAD endpointing on recorded frames ---------------------------------------------------
def _frames(samples: np.ndarray, frame_ms: int = 30, t0: float = 100.0) -> list[Frame]:
    n = 16000 * frame_ms // 1000
    out = []
    for i in range(len(samples) // n):
        out.append(Frame(samples[i * n : (i + 1) * n].tobytes(), t0 + (i + 1) * frame_ms / 1000))
    return out


def _run(ep: Endpointer, frames: list[Frame]):
    events = []
    for f in frames:
        events.extend(ep.process(f))
    return events


def test_endpointer_on_recorded_speech():
    speech = read_wav(SPEECH)
    lead, tail = np.zeros(16000, dtype=np.int16), np.zeros(16000, dtype=np.int16)
    audio = np.concatenate([lead, speech, tail])
    ep = Endpointer(hangover_ms=400, preroll_ms=300, min_speech_ms=250)
    events = _run(ep, _frames(audio))
    kinds = [e.kind for e in events]
    assert kinds[0] == "speech_start" and kinds[-1] == "endpoint"
    assert kinds.count("endpoint") == 1, kinds
    # pauses inside the sentence are either resumed or end the utterance, never dangling
    assert kinds.count("pause") == kinds.count("resume") + 1
    end = events[-1]
    utt = end.utterance
    # speech starts after the 1 s lead-in, the endpoint follows the last voiced frame by the hangover
    assert 100.9 <= utt.speech_start <= 101.6
    assert abs((end.t - utt.speech_end) - 0.42) < 0.05
    # ≥ 300 ms of pre-roll before the first voiced frame, and the whole sentence is inside
    assert utt.speech_start - utt.start_t >= 0.3
    assert len(utt.audio) >= len(speech)
    ts = [e.t for e in events]
    assert ts == sorted(ts)


def test_endpointer_hangover_is_configurable():
    speech = read_wav(SPEECH)
    audio = np.concatenate([np.zeros(8000, np.int16), speech, np.zeros(24000, np.int16)])
    for hang in (300, 800):
        ev = [e for e in _run(Endpointer(hangover_ms=hang), _frames(audio)) if e.kind == "endpoint"]
        assert len(ev) == 1
        assert abs((ev[0].t - ev[0].utterance.speech_end) - hang / 1000) < 0.05


def test_pause_carries_the_audio_for_speculative_asr():
    speech = read_wav(SPEECH)
    audio = np.concatenate([np.zeros(8000, np.int16), speech, np.zeros(16000, np.int16)])
    events = _run(Endpointer(hangover_ms=400), _frames(audio))
    last_pause = [e for e in events if e.kind == "pause"][-1]
    end = events[-1]
    # the endpoint's audio is exactly the audio at the last pause (the hangover is not included)
    assert np.array_equal(end.utterance.audio, last_pause.utterance.audio)
    assert end.t - last_pause.t >= 0.36


def test_short_click_is_not_an_utterance():
    speech = read_wav(SPEECH)
    click = speech[16000:16000 + 16000 * 150 // 1000]  # 150 ms of speech < min 250 ms
    audio = np.concatenate([np.zeros(8000, np.int16), click, np.zeros(16000, np.int16)])
    assert _run(Endpointer(min_speech_ms=250), _frames(audio)) == []


def test_max_utterance_cuts_long_speech():
    rng = np.random.default_rng(1)
    speech = read_wav(SPEECH)
    loud = np.tile(speech, 6)[: 16000 * 8]
    loud = np.clip(loud.astype(np.int32) + rng.integers(-3000, 3000, loud.size), -32768, 32767).astype(np.int16)
    ep = Endpointer(max_utterance_s=3.0, aggressiveness=0)
    ends = [e for e in _run(ep, _frames(loud)) if e.kind == "endpoint"]
    assert ends and ends[0].utterance.truncated
    assert len(ends[0].utterance.audio) <= 16000 * 3


def test_is_speech_override_gates_the_endpointer():
    speech = read_wav(SPEECH)
    frames = _frames(np.concatenate([speech, np.zeros(16000, np.int16)]))
    ep = Endpointer()
    assert [e for f in frames for e in ep.process(f, is_speech=False)] == []


# --- chunker ------------------------------------------------------------------------------
def test_first_chunk_cut_at_clause_boundary():
    assert split_reply("Tamam, yarın saat üçe toplantı ekledim. Başka bir şey var mı?") == [
        "Tamam,",
        "yarın saat üçe toplantı ekledim.",
        "Başka bir şey var mı?",
    ]


def test_first_chunk_cut_after_n_words_then_sentences():
    chunks = split_reply("Bugün takviminizde üç etkinlik var ve hepsi öğleden sonra. İlki saat 14.30'da.", 6)
    assert chunks[0] == "Bugün takviminizde üç etkinlik var ve"
    assert chunks[1:] == ["hepsi öğleden sonra.", "İlki saat 14.30'da."]


def test_chunker_streaming_tokens_matches_whole_text():
    text = "Şunu duydum: yarın sabah dokuzda doktor randevusu. Eklememi ister misiniz? Tamam."
    c = TextChunker(6)
    out = []
    for i in range(0, len(text), 3):  # LLM-like pieces
        out += c.push(text[i : i + 3])
    out += c.flush()
    assert out == split_reply(text)
    assert " ".join(out) == text


def test_chunker_does_not_cut_decimals_and_baseline_is_one_chunk():
    assert split_reply("Saat 14.30 toplantı") == ["Saat 14.30 toplantı"]
    text = "Tamam, ekledim. Yarın görüşürüz."
    assert split_reply(text, early=False) == [text]
    c = TextChunker(early=False)
    assert c.push(text) == [] and c.flush() == [text]


# --- hallucination guard ------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, reason",
    [
        ("Altyazı M.K.", "known_hallucination"),
        ("İzlediğiniz için teşekkür ederim.", "known_hallucination"),
        ("  ", "empty"),
        ("evet evet evet evet evet evet", "repetitive"),
        ("bir iki bir iki bir iki bir iki", "repetitive"),
        ("Bantz, takvim ve randevular.", "prompt_echo"),
    ],
)
def test_hallucinations_are_dropped(text, reason):
    assert hallucination_reason(text, prompt="Bantz, takvim ve randevular.") == reason


def test_scores_drop_and_real_commands_pass():
    assert hallucination_reason("yarın toplantı ekle", no_speech_prob=0.9, avg_logprob=-0.9) == "no_speech"
    assert hallucination_reason("yarın toplantı ekle", avg_logprob=-1.5) == "low_logprob"
    for ok in ("Bantz, yarın saat üçte toplantı ekle.", "Bantz, takvime bak", "saat kaç", "teşekkür ederim Bantz, yarın ne var?"):
        assert hallucination_reason(ok, avg_logprob=-0.4, no_speech_prob=0.1, prompt="Bantz, takvim ve randevular.") is None
    assert not is_repetitive("bugün bugün toplantı var mı")


def test_plausible_user_phrases_need_evidence_of_speech():
    """ "teşekkür ederim" is dropped on the words alone only when there is no audio evidence; with
    voiced audio and a low no-speech probability it is a user's thank-you. Outro phrases nobody says
    to an assistant stay dropped whatever the audio."""
    kw = {"avg_logprob": -0.45, "prompt": "Bantz, takvim ve randevular."}
    for text in ("Teşekkür ederim.", "teşekkürler", "Hoşça kal!"):
        assert hallucination_reason(text, **kw) == "known_hallucination"  # no audio evidence
        assert hallucination_reason(text, no_speech_prob=0.05, voiced_s=0.1, **kw) == "known_hallucination"
        assert hallucination_reason(text, no_speech_prob=0.5, voiced_s=1.0, **kw) == "known_hallucination"
        assert hallucination_reason(text, no_speech_prob=0.05, voiced_s=0.9, **kw) is None
    for outro in ("İzlediğiniz için teşekkür ederim.", "Altyazı M.K.", "Abone olmayı unutmayın"):
        assert hallucination_reason(outro, no_speech_prob=0.0, voiced_s=2.0, **kw) == "known_hallucination"
    assert hallucination_reason("teşekkür ederim", no_speech_prob=0.05, avg_logprob=-1.5, voiced_s=1.0) == "low_logprob"


# --- trace --------------------------------------------------------------------------------
def test_trace_stages_ms_and_log(tmp_path):
    tr = TurnTrace(origin=10.0)
    tr.mark("speech_start", 10.5)
    tr.mark("speech_end", 12.0)
    tr.mark("endpoint", 12.4)
    tr.mark("playback_start", 12.9)
    tr.mark("speech_end", 99.0)  # first mark wins
    d = tr.to_dict()
    assert set(STAGES) <= set(d)
    assert d["speech_start"] == 500.0 and d["speech_end"] == 2000.0 and d["asr_done"] is None
    assert d["spoken_latency_ms"] == 900.0 and d["reply_latency_ms"] == 500.0
    log = TraceLog(tmp_path / "s" / "traces.jsonl")
    log.append(tr, route="echo")
    log.append(tr)
    lines = (tmp_path / "s" / "traces.jsonl").read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["route"] == "echo"
    with pytest.raises(ValueError):
        tr.mark("nonsense")


# --- loudness -----------------------------------------------------------------------------
def test_level_brings_chunks_to_the_same_rms_without_clipping():
    quiet = np.sin(np.linspace(0, 200, 22050)) * 0.05
    loud = np.sin(np.linspace(0, 300, 22050)) * 0.9
    a, b = level(quiet, -20.0), level(loud, -20.0)
    assert abs(dbfs(a) - dbfs(b)) < 0.2 and abs(dbfs(a) + 20.0) < 0.3
    spiky = np.zeros(22050)
    spiky[100] = 1.0
    spiky[200:300] = 0.01
    assert np.max(np.abs(level(spiky, -10.0))) <= 0.95 * 32767 + 1


def test_apply_settings_live_and_restart_needed():
    from bantz_voice.config import Settings
    from bantz_voice.errors import BantzError
    from bantz_voice.pipeline import VoicePipeline
    from bantz_voice.responder import EchoResponder
    from bantz_voice.tts.base import TextToSpeech

    class Fake:
        def __init__(self, settings):
            self.settings = settings

    class FakeTTS(TextToSpeech):
        def __init__(self, settings):
            self.settings = settings

    s = Settings()
    p = VoicePipeline(s, transcriber=Fake(s.asr), tts=FakeTTS(s.tts), responder=EchoResponder())
    new = Settings()
    new.vad.hangover_ms = 700
    new.asr.beam_size = 2
    p.apply_settings(new)
    assert p.settings.vad.hangover_ms == 700 and p.transcriber.settings.beam_size == 2 and p.listener._reconfigure
    assert p.tts.settings is new.tts and p.output.settings is new.tts
    other = Settings()
    other.asr.model = "whisper-small"
    with pytest.raises(BantzError, match="asr.model"):
        p.apply_settings(other)
    assert p.settings is new


@pytest.mark.parametrize(
    "text",
    [
        "bugün hava çok güzel ve takviminizde üç etkinlik var " * 12,  # never ends a sentence
        "Kısa cümle. " + "uzun, " * 60 + "son.",
        "a" * 250 + " kelime",  # a word longer than the bound is cut hard
        "ş" * 2000,  # `say` with 2,000 characters and no space at all
    ],
)
def test_bound_length_keeps_every_word_in_bounded_pieces(text: str) -> None:
    pieces = bound_length(text, 100)
    assert "".join("".join(pieces).split()) == "".join(text.split())  # nothing lost or added
    if max(map(len, text.split())) <= 100:
        assert " ".join(pieces).split() == text.split()  # words stay whole when they fit
    assert all(len(p) <= 100 for p in pieces), [len(p) for p in pieces]
    assert len(pieces) > 1


def test_bound_length_prefers_sentence_then_clause_ends() -> None:
    text = "Birinci cümle burada bitiyor. İkinci kısım, virgülle ayrılmış uzun bir parça ve devamı"
    assert bound_length(text, 40) == ["Birinci cümle burada bitiyor.", "İkinci kısım,", "virgülle ayrılmış uzun bir parça ve", "devamı"]
    assert bound_length("kısa metin", 40) == ["kısa metin"] and bound_length("   ", 40) == []
