"""numpy's BLAS computes on one thread once the pipeline has started (bantz_voice/cpu.py): its idle
worker threads would otherwise spin after every small product (the wake model's filterbank)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from bantz_voice import cpu


@pytest.fixture
def blas_restored() -> Iterator[None]:
    """The BLAS thread counts of the test process are put back afterwards."""
    with threadpool_limits(limits=None):  # remembers the current limits, restores them on exit
        yield


def _blas() -> list[dict]:
    return [i for i in threadpool_info() if i.get("user_api") == "blas"]


@pytest.mark.usefixtures("blas_restored")
def test_single_threaded_blas_limits_every_blas_library_and_leaves_openmp_alone() -> None:
    assert _blas(), "numpy is linked against a BLAS library threadpoolctl can see"
    threadpool_limits(limits=2, user_api="blas")
    openmp_before = {i["filepath"]: i["num_threads"] for i in threadpool_info() if i.get("user_api") == "openmp"}
    before = cpu.single_threaded_blas()
    assert before and all(n >= 1 for n in before.values())
    assert all(i["num_threads"] == 1 for i in _blas())
    assert cpu.blas_threads() == {name: 1 for name in before}
    openmp_after = {i["filepath"]: i["num_threads"] for i in threadpool_info() if i.get("user_api") == "openmp"}
    assert openmp_after == openmp_before  # CTranslate2's OpenMP pool keeps its own setting
    a = np.arange(300 * 300, dtype=np.float32).reshape(300, 300) / 1e4
    assert np.allclose(a @ a.T, np.einsum("ij,kj->ik", a, a, optimize=False), rtol=1e-4)  # products still right


@pytest.mark.usefixtures("blas_restored")
async def test_the_shared_start_up_limits_blas(monkeypatch: pytest.MonkeyPatch) -> None:
    from bantz_voice import app
    from bantz_voice.config import Settings
    from bantz_voice.responder import EchoResponder
    from bantz_voice.tts.base import TextToSpeech

    class Silent(TextToSpeech):  # stands in for Whisper and Piper: this test is about the BLAS limit only
        def __init__(self, settings: object) -> None:
            self.settings = settings

        def render(self, spoken: str) -> np.ndarray:
            return np.zeros(0, dtype=np.int16)

    threadpool_limits(limits=2, user_api="blas")
    assert any(i["num_threads"] == 2 for i in _blas())
    settings = Settings()
    monkeypatch.setattr(app, "load_transcriber", lambda *a, **k: Silent(settings.asr))
    pipeline = await app.start_pipeline(settings, EchoResponder(), tts=Silent(settings.tts))
    try:
        assert all(i["num_threads"] == 1 for i in _blas())
    finally:
        await pipeline.aclose()


def test_a_failure_is_logged_not_raised(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import threadpoolctl

    def broken(**_: object) -> None:
        raise OSError("no such library")

    monkeypatch.setattr(threadpoolctl, "threadpool_limits", broken)
    assert cpu.single_threaded_blas() == {}
    assert "could not limit BLAS" in caplog.text


# --- the foreground: a reply's first synthesis claims the CPU, background work waits -------------
def test_the_foreground_is_free_until_held_and_free_again_however_the_hold_ends() -> None:
    fg = cpu.Foreground()
    assert not fg.held and fg.wait(0.0)
    with fg.hold():
        assert fg.held and not fg.wait(0.0)
        with fg.hold():  # holds nest
            assert fg.held
        assert fg.held  # the outer hold still stands
    assert not fg.held
    with pytest.raises(RuntimeError), fg.hold():
        raise RuntimeError("a failed synthesis")
    assert not fg.held and fg.wait(0.0)


def test_a_waiter_is_released_by_the_holder_not_by_its_time_limit() -> None:
    import threading

    fg = cpu.Foreground()
    released = threading.Event()
    result: list[bool] = []

    def background() -> None:
        result.append(fg.wait(60.0))
        released.set()

    with fg.hold():
        t = threading.Thread(target=background)
        t.start()
        while fg.waiting == 0:  # the background step is waiting now
            assert t.is_alive()
        assert not released.is_set()
    assert released.wait(10.0) and result == [True]
    t.join()
    assert fg.waiting == 0


def test_a_stuck_holder_stops_background_work_only_for_the_time_limit() -> None:
    fg = cpu.Foreground()
    with fg.hold():
        assert fg.wait(0.05) is False  # gave up waiting: the work goes on
