"""Earcons on the reply's own stream (issue 11: an earcon opened a stream of its own at the end of
every wake-word utterance and played on top of the reply's first syllables). On the private
PulseAudio server: the cue plays on the kept-open ``Player`` stream (no second stream), a reply
that starts cuts it, and without an open stream the earcon still plays on a stream of its own.
The speaker is recorded through its monitor; the checks are on the recording's spectrum, and
every wait is on the player's own counters, not on elapsed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import numpy as np
import pytest

from bantz_voice.audio.player import AudioSink, Player, WavSink
from bantz_voice.bench.pulse import SPEAKER_RATE
from bantz_voice.daemon.earcons import RATE as EARCON_RATE
from bantz_voice.daemon.earcons import EarconPlayer, pcm
from bantz_voice.pipeline import VoicePipeline

pytestmark = [pytest.mark.audio]

VOICE_RATE = 22050
CUE_HZ, REPLY_HZ = 1320.0, 300.0


def tone(hz: float, seconds: float, rate: int = VOICE_RATE, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def band(x: np.ndarray, rate: int, hz: float, win_s: float = 0.02) -> np.ndarray:
    """Per ``win_s`` window: the energy at ``hz`` (±40 Hz) of the recording."""
    n = int(win_s * rate)
    frames = x[: x.size // n * n].astype(np.float64).reshape(-1, n) / 32768.0
    spec = np.abs(np.fft.rfft(frames * np.hanning(n), axis=1)) ** 2
    f = np.fft.rfftfreq(n, 1 / rate)
    return spec[:, np.abs(f - hz) <= 40].sum(axis=1)


async def recording(pulse):
    """The speaker's monitor, recorded from now: returns once the recorder delivers samples."""
    rec = pulse.start_recording()
    await until(lambda: rec.so_far().size > 0, "the recorder to start")
    return rec


async def until(pred: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def ncc_peak(x: np.ndarray, template: np.ndarray) -> float:
    """The best normalised cross-correlation of ``template`` anywhere in ``x``."""
    xf, t = x.astype(np.float64), template.astype(np.float64)
    if xf.size < t.size:
        return 0.0
    corr = np.correlate(xf, t, mode="valid")
    csum = np.concatenate([[0.0], np.cumsum(xf * xf)])
    energy = csum[t.size :] - csum[: -t.size]
    return float(np.max(corr / (np.linalg.norm(t) * np.sqrt(np.maximum(energy, 1e-9)))))


def loud_until(x: np.ndarray, rate: int) -> int | None:
    """The sample after the last loud one, once the recording has gone quiet again (100 ms)."""
    loud = np.flatnonzero(np.abs(x.astype(np.int32)) > 300)
    if loud.size == 0 or x.size - loud[-1] < 0.1 * rate:
        return None
    return int(loud[-1]) + 1


async def test_an_earcon_plays_on_the_open_reply_stream_without_a_stream_of_its_own(pulse) -> None:
    player = Player(None, keep_open=True)
    assert await player.prepare(VOICE_RATE)
    earcons = EarconPlayer(True, cue=player.cue)
    rec = await recording(pulse)
    try:
        earcons.play("wake")
        await until(lambda: player.cues == 1 and player._cue is None, "the cue to play out")
        await until(lambda: loud_until(rec.so_far(), SPEAKER_RATE) is not None, "the cue to end on the speaker")
        x = rec.stop()
    finally:
        await player.close()
    assert player.opens == 1 and earcons.own_streams == 0  # no stream was opened for the earcon
    assert player.started_at is None  # a cue is not a reply: no reply start is recorded
    assert SPEAKER_RATE == EARCON_RATE  # so the recording is the earcon sample for sample
    assert ncc_peak(x, pcm("wake")) > 0.9  # the wake earcon, whole, reached the speaker


async def test_a_reply_cuts_the_cue_and_is_not_heard_under_it(pulse) -> None:
    player = Player(None, keep_open=True)
    assert await player.prepare(VOICE_RATE)
    rec = await recording(pulse)
    try:
        await player.begin(VOICE_RATE)
        assert player.cue(tone(CUE_HZ, 3.0, EARCON_RATE), EARCON_RATE)  # long: still playing when the reply comes
        await until(lambda: player.level > 0, "the cue to start")
        player.write(tone(REPLY_HZ, 0.6))
        await player.drain()
        await until(lambda: loud_until(rec.so_far(), SPEAKER_RATE) is not None, "the reply to end on the speaker")
        x = rec.stop()
    finally:
        await player.close()
    assert player.cues == 1 and player.cues_cut == 1
    cue, reply = band(x, SPEAKER_RATE, CUE_HZ), band(x, SPEAKER_RATE, REPLY_HZ)
    on = np.flatnonzero(reply > 0.1 * reply.max())
    heard_cue = np.flatnonzero(cue > 0.1 * cue.max())
    assert heard_cue.size and on.size and heard_cue[0] < on[0]  # the cue played first
    after = slice(on[0] + 2, on[-1])  # from 40 ms after the reply's start to its end
    assert cue[after].max() < 1e-3 * reply[after].mean()  # the cue stopped: nothing of it under the reply
    # and the cue did not play on after the reply either (it was 3 s long)
    assert cue[on[-1] + 5 :].max(initial=0.0) < 1e-3 * reply[after].mean()


async def test_stop_silences_a_cue(pulse) -> None:
    player = Player(None, keep_open=True)
    assert await player.prepare(VOICE_RATE)
    try:
        assert player.cue(tone(CUE_HZ, 3.0, EARCON_RATE), EARCON_RATE)
        await until(lambda: player.level > 0, "the cue to start")
        player.stop()
        await until(lambda: player.level == 0.0, "silence after stop")
        assert player._cue is None
    finally:
        await player.close()


async def test_without_an_open_stream_the_earcon_plays_on_its_own(pulse) -> None:
    closed = Player(None, keep_open=True)  # never prepared: no stream
    assert not closed.cue(pcm("wake"), EARCON_RATE)
    assert not WavSink().cue(pcm("wake"), EARCON_RATE) and not AudioSink().cue(pcm("wake"), EARCON_RATE)
    earcons = EarconPlayer(True, cue=closed.cue)
    rec = await recording(pulse)
    earcons.play("wake")
    assert earcons.own_streams == 1
    await until(lambda: loud_until(rec.so_far(), SPEAKER_RATE) is not None, "the earcon on the speaker")
    assert ncc_peak(rec.stop(), pcm("wake")) > 0.9


def test_the_pipeline_cues_only_while_its_loop_holds_a_sink() -> None:
    p = VoicePipeline.__new__(VoicePipeline)  # the attribute the method reads; no models needed
    p._sink = None
    assert not p.cue(pcm("wake"), EARCON_RATE)

    class Taking(AudioSink):
        got: list[int] = []

        def cue(self, samples: np.ndarray, rate: int) -> bool:
            self.got.append(samples.size)
            return True

    p._sink = Taking()
    assert p.cue(pcm("wake"), EARCON_RATE) and Taking.got == [pcm("wake").size]
