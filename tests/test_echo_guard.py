"""Echo detection and the echo-safe barge-in decision on synthesised streams (no devices, no models).

The "speaker" is recorded Turkish speech pushed block by block into a :class:`PlaybackReference` at
22.05 kHz with the times a player's callback would have; the "microphone" is 16 kHz frames of that
speech delayed and attenuated (the echo), of other speech (the user), or both. Everything is fed
in order with synthetic timestamps: nothing here waits or depends on the machine's speed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soxr

from bantz_voice.audio.bargein import BargeInDetector
from bantz_voice.audio.echo import PlaybackReference, correlate
from bantz_voice.audio.vad import Frame
from bantz_voice.audio.wavio import read_wav
from bantz_voice.config import AudioSettings

DATA = Path(__file__).parent / "data"
RATE = 16000
OUT_RATE = 22050
OUT_BLOCK = OUT_RATE // 50  # the player's 20 ms blocks
FRAME = 480  # the loop's 30 ms frames


def _at_dbfs(x: np.ndarray, dbfs: float) -> np.ndarray:
    """Scaled so that its voiced part (frames above 1 % of the peak) has RMS ``dbfs``."""
    f = x.astype(np.float32) / 32768.0
    frames = f[: f.size // FRAME * FRAME].reshape(-1, FRAME)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    voiced = frames[rms > 0.01 * np.abs(f).max()]
    return f * (10 ** (dbfs / 20) / float(np.sqrt(np.mean(voiced**2))))


@pytest.fixture(scope="module")
def reply() -> np.ndarray:
    """Recorded speech at 16 kHz, three recordings back to back, at the TTS's loudness (-20 dBFS):
    what the assistant says."""
    parts = [read_wav(DATA / n) for n in ("tr_randevu.wav", "tr_prompt_echo.wav", "tr_randevu.wav")]
    return _at_dbfs(np.concatenate(parts), -20.0)


@pytest.fixture(scope="module")
def user() -> np.ndarray:
    """Another utterance: the user talking over the reply, as loud as the reply at the microphone.
    Its first 0.6 s ("Bantz,") is the same recording as the reply's start: left out."""
    return _at_dbfs(read_wav(DATA / "tr_bantz_hava.wav")[int(0.6 * RATE) :], -20.0)


def _delayed(x: np.ndarray, delay_ms: float, gain: float, length: int) -> np.ndarray:
    d = int(delay_ms * RATE / 1000)
    out = np.zeros(length, np.float32)
    n = min(length - d, x.size)
    if n > 0:
        out[d : d + n] = gain * x[:n]
    return out


def _noise(n: int, rms: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(n) * rms).astype(np.float32)


def test_correlate_finds_a_delayed_attenuated_copy(reply: np.ndarray) -> None:
    n, m = RATE, int(0.6 * RATE)
    ref = reply[RATE : RATE + n + m]
    for delay_ms, gain in ((55.0, 0.5), (180.0, 0.2), (420.0, 0.9)):
        mic = _delayed(ref, delay_ms, gain, n + m)[m:] + _noise(n, 0.0005)
        est = correlate(mic, ref)
        assert est.correlation > 0.9, (delay_ms, est)
        assert abs(est.delay_ms - delay_ms) <= 1.0, (delay_ms, est)
        ref_part = ref[m - int(delay_ms * 16) : m - int(delay_ms * 16) + n]
        expected = gain * float(np.sqrt(np.mean(ref_part**2)))
        assert est.echo_rms == pytest.approx(expected, rel=0.15)


def test_independent_speech_correlates_weakly(reply: np.ndarray, user: np.ndarray) -> None:
    n, m = RATE, int(0.6 * RATE)
    values = [
        correlate(user[start : start + n], reply[start : start + n + m]).correlation
        for start in range(0, min(user.size, reply.size) - n - m, RATE // 8)
    ]
    assert values and float(np.median(values)) < AudioSettings().echo_threshold / 2, values


def test_echo_under_the_users_voice_is_still_found(reply: np.ndarray, user: np.ndarray) -> None:
    n, m = RATE, int(0.6 * RATE)
    ref = reply[RATE : RATE + n + m]
    u = user[8000 : 8000 + n]
    mic = _delayed(ref, 90, 0.5, n + m)[m:] + u
    est = correlate(mic, ref)
    assert abs(est.delay_ms - 90) <= 1.0 and est.correlation > 0.2


def test_reference_segment_is_aligned_by_push_time(reply: np.ndarray) -> None:
    ref = PlaybackReference(seconds=3.0)
    played = soxr.resample(reply[: 2 * RATE], RATE, OUT_RATE).astype(np.float32)
    pcm = (played * 32767).astype(np.int16)
    for k in range(pcm.size // OUT_BLOCK):
        ref.push(pcm[k * OUT_BLOCK : (k + 1) * OUT_BLOCK], OUT_RATE, t=(k + 1) * 0.02)
    seg = ref.segment(RATE // 2, end_t=1.5)
    assert seg is not None and seg.size == RATE // 2
    # the segment ends with the sample pushed at t=1.5 s: the original's 1.0..1.5 s
    orig = reply[RATE : RATE + RATE // 2]
    est = correlate(orig[-4000:], seg[-4000 - 320 :])
    assert est.correlation > 0.95 and est.delay_ms <= 1.5, est
    early = ref.segment(RATE, end_t=0.1)  # reaching back before the first sample: silence
    assert early is not None and not early[: RATE - 2000].any()
    assert ref.segment(RATE, end_t=0.0) is None  # nothing pushed by then
    assert ref.played_since(1.9) and not ref.played_since(5.0)


def _pcm_ramp(start: int, n: int) -> np.ndarray:
    """``n`` distinct int16 samples (so a misplaced one shows), never zero."""
    return ((np.arange(start, start + n) % 30000) + 1).astype(np.int16)


def test_a_block_longer_than_the_ring_keeps_the_ring_aligned() -> None:
    """The callback's block can exceed the ring (a long device period, a tiny ring): its last
    ``size`` samples must land where the reader looks for them (``total % size``), not at index 0."""
    ref = PlaybackReference(seconds=0.01)  # 160 samples at 16 kHz (no resampling on the way out)
    ref.push(_pcm_ramp(0, 50), RATE, t=1.0)  # total 50: the next write starts mid-ring
    block = _pcm_ramp(50, 300)
    ref.push(block, RATE, t=2.0)
    seg = ref.segment(100, end_t=2.0)
    assert seg is not None
    np.testing.assert_array_equal(seg, block[-100:].astype(np.float32) / 32768.0)


def test_silence_longer_than_the_ring_then_samples_read_back_in_order() -> None:
    ref = PlaybackReference(seconds=0.01)
    ref.push(_pcm_ramp(0, 70), RATE, t=1.0)
    ref.push_silence(400, RATE, t=2.0)
    tail = _pcm_ramp(500, 40)
    ref.push(tail, RATE, t=3.0)
    seg = ref.segment(120, end_t=3.0)
    assert seg is not None
    expected = np.concatenate([np.zeros(80, np.float32), tail.astype(np.float32) / 32768.0])
    np.testing.assert_array_equal(seg, expected)


def test_ring_matches_the_played_stream_over_mixed_pushes() -> None:
    """Random pushes and silences, shorter than, equal to and longer than the ring, wrapping at
    every offset: the reference always reads back the last samples played, in order."""
    rng = np.random.default_rng(7)
    ref = PlaybackReference(seconds=0.01)
    size = 160
    played: list[np.ndarray] = []
    t = 0.0
    for step in range(400):
        n = int(rng.choice([1, 7, size - 1, size, size + 1, 2 * size + 13, int(rng.integers(1, 3 * size))]))
        t += 0.01
        if rng.random() < 0.3:
            ref.push_silence(n, RATE, t)
            played.append(np.zeros(n, np.float32))
        else:
            block = _pcm_ramp(step * 997, n)
            ref.push(block, RATE, t)
            played.append(block.astype(np.float32) / 32768.0)
        stream = np.concatenate(played)
        want = min(128, stream.size)  # segment needs want + 32 samples to be in the ring
        seg = ref.segment(want, end_t=t)
        if stream.size < want + 32:
            continue
        assert seg is not None, step
        np.testing.assert_array_equal(seg, stream[-want:], err_msg=f"step {step}, n {n}")


class Sim:
    """A player pushing the reply into the reference and a microphone hearing ``mic`` (16 kHz),
    frame by frame on one synthetic clock; ``decide`` is asked for every frame."""

    def __init__(self, detector: BargeInDetector, reply: np.ndarray) -> None:
        self.det = detector
        self.ref = PlaybackReference()
        out = soxr.resample(reply, RATE, OUT_RATE).astype(np.float32)
        self.out_pcm = np.clip(out * 32767, -32768, 32767).astype(np.int16)
        self.pushed = 0
        self.t = 0.0

    def run(self, mic: np.ndarray, t0: float = 0.0) -> list[bool | None]:
        """The reply starts playing at ``t0`` (its block k pushed at t0 + k·20 ms); ``mic`` sample i
        is captured at t0 + i/16000. Returns decide()'s answers per frame."""
        answers: list[bool | None] = []
        k = 0
        n_blocks = self.out_pcm.size // OUT_BLOCK
        for j in range(mic.size // FRAME):
            t = t0 + (j + 1) * FRAME / RATE
            while t0 + k * 0.02 <= t:  # blocks handed to the device up to now
                block = self.out_pcm[k * OUT_BLOCK : (k + 1) * OUT_BLOCK] if k < n_blocks else np.zeros(OUT_BLOCK, np.int16)
                if block.size < OUT_BLOCK:
                    block = np.zeros(OUT_BLOCK, np.int16)
                self.ref.push(block, OUT_RATE, t0 + k * 0.02)
                k += 1
            pcm = np.clip(mic[j * FRAME : (j + 1) * FRAME] * 32767, -32768, 32767).astype(np.int16)
            last = self.out_pcm[(k - 1) * OUT_BLOCK : k * OUT_BLOCK].astype(np.float32) / 32768.0 if 0 < k <= n_blocks else None
            level = float(np.sqrt(np.mean(last**2))) if last is not None and last.size else 0.0  # as Player.level
            answers.append(self.det.decide(Frame(pcm.tobytes(), t), level, self.ref))
        return answers


def _detector(**kw: object) -> BargeInDetector:
    s = AudioSettings.model_validate(kw)
    return BargeInDetector(lambda: s)


def test_echo_never_barges_in_and_switches_barge_in_off(reply: np.ndarray, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bantz_voice.audio.bargein")
    det = _detector()
    sim = Sim(det, reply)
    # loudspeakers: the reply comes back 0.5x (-6 dB: louder than the old level test lets through), 70 ms late
    mic = _delayed(reply, 70, 0.5, reply.size) + _noise(reply.size, 0.0003)
    answers = sim.run(mic)
    assert True not in answers  # not one frame of the echo counted as the user
    assert det.state == "echo" and not det.allowed
    assert answers[-1] is None  # the loop ignores the microphone while it speaks
    st = det.status()
    assert st["enabled"] is False and st["echo"] == "echo"
    assert "yankı" in str(st["detail"]) and "setup-echo-cancel" in str(st["detail"])
    assert st["delay_ms"] is not None and abs(float(str(st["delay_ms"])) - 70) <= 30
    assert any("barge-in disabled" in r.getMessage() for r in caplog.records)


def test_old_level_test_alone_would_have_cut_the_reply(reply: np.ndarray) -> None:
    """The same echo without the guard: the frame-level test passes it as speech (the baseline)."""
    det = _detector(echo_guard=False)
    mic = _delayed(reply, 70, 0.5, reply.size)
    answers = Sim(det, reply).run(mic)
    assert sum(a is True for a in answers) * 30 >= AudioSettings().barge_in_min_ms


def test_headset_plugged_re_enables_barge_in_and_the_user_interrupts(
    reply: np.ndarray, user: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bantz_voice.audio.bargein")
    det = _detector(echo_clear_s=2.0)
    Sim(det, reply).run(_delayed(reply, 70, 0.5, reply.size))
    assert det.state == "echo"
    # next reply, headset on: the microphone hears the room's noise only, then the user
    long_reply = np.concatenate([reply, reply])
    quiet = _noise(int(RATE * 3.5), 0.0005, seed=1)
    talk = np.concatenate([quiet, user * 1.0, _noise(long_reply.size, 0.0005, seed=2)])[: long_reply.size]
    answers = Sim(det, long_reply).run(talk, t0=100.0)
    assert det.state == "clean" and det.allowed
    user_frames = answers[quiet.size // FRAME : (quiet.size + user.size) // FRAME]
    assert sum(a is True for a in user_frames) * 30 >= AudioSettings().barge_in_min_ms
    assert True not in answers[: quiet.size // FRAME]
    assert any("barge-in re-enabled" in r.getMessage() for r in caplog.records)
    assert str(det.status()["detail"]).startswith("açık")


def test_no_echo_from_the_start_user_barges_in(reply: np.ndarray, user: np.ndarray) -> None:
    """Echo-cancelled microphone: a faint decorrelated residue only, then the user."""
    det = _detector()
    residue = _noise(reply.size, 0.0008, seed=3)
    mic = residue.copy()
    at = RATE * 2
    mic[at : at + user.size] += user[: mic.size - at]
    answers = Sim(det, reply).run(mic)
    assert det.state == "clean"
    assert det.windows["echo"] == 0
    assert sum(a is True for a in answers[at // FRAME :]) * 30 >= AudioSettings().barge_in_min_ms


def test_user_talking_over_the_reply_is_never_taken_for_echo(reply: np.ndarray, user: np.ndarray) -> None:
    """Headset: the microphone hears only the user, talking through the whole reply."""
    det = _detector()
    talk = np.concatenate([user] * (reply.size // user.size + 1))[: reply.size]
    for shift in (0, 5000, 11000):
        answers = Sim(det, reply).run(np.roll(talk, shift), t0=50.0 * (shift + 1))
        assert det.state != "echo", (shift, det.status())
        assert sum(a is True for a in answers) * 30 >= 1000


def test_without_a_reference_the_level_test_decides(user: np.ndarray) -> None:
    det = _detector()
    loud = user[8000 : 8000 + FRAME * 40]
    answers = [
        det.decide(Frame(np.clip(loud[i : i + FRAME] * 32767, -32768, 32767).astype(np.int16).tobytes(), i / RATE), 0.0, None)
        for i in range(0, loud.size - FRAME, FRAME)
    ]
    assert True in answers and det.state == "unknown"


def test_barge_in_setting_off_means_none(user: np.ndarray) -> None:
    det = _detector(barge_in=False)
    pcm = np.clip(user[8000 : 8000 + FRAME] * 32767, -32768, 32767).astype(np.int16)
    assert det.decide(Frame(pcm.tobytes(), 1.0), 0.0, PlaybackReference()) is None
    assert det.status()["enabled"] is False and "audio.barge_in" in str(det.status()["detail"])


def test_status_shows_barge_in_off_in_turkish(reply: np.ndarray, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The daemon's ``status`` carries the guard's decision; ``bantz-voice status`` prints it."""
    import argparse

    from bantz_voice.cli import daemon as daemon_cli
    from bantz_voice.config import load_settings
    from bantz_voice.daemon.notify import Notifier
    from bantz_voice.daemon.runner import Daemon
    from bantz_voice.pipeline import VoicePipeline
    from bantz_voice.responder import EchoResponder

    settings = load_settings()
    d = Daemon(settings, "echo", Notifier(""))
    d.pipeline = VoicePipeline(settings, transcriber=None, tts=None, responder=EchoResponder())
    assert d.status()["barge_in"]["echo"] == "unknown" and d.status()["barge_in"]["enabled"] is True
    Sim(d.pipeline.barge_in, reply).run(_delayed(reply, 120, 0.7, reply.size))
    st = d.status()
    assert st["barge_in"]["enabled"] is False and st["barge_in"]["echo"] == "echo"
    monkeypatch.setattr(daemon_cli, "_call", lambda args, kind, data=None: st)
    assert daemon_cli._status(argparse.Namespace(json=False)) == 0
    out = capsys.readouterr().out
    assert "Araya girme: kapalı — hoparlörün sesi mikrofona geri geliyor" in out
