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
