"""Settings: defaults, layering, env overrides and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bantz_voice.cli import main
from bantz_voice.config import ConfigError, Settings, load_settings


def test_repo_config_files_match_model_defaults() -> None:
    # config/*.yaml are the documented defaults: loading them must equal the built-in models.
    assert load_settings(environ={}) == Settings()


def test_user_file_overrides_repo_and_env_overrides_user(tmp_path: Path) -> None:
    (tmp_path / "bantz.yaml").write_text("vad:\n  hangover_ms: 350\naudio:\n  input_device: usb\n")
    (tmp_path / "model-settings.yaml").write_text("chat:\n  endpoint: small\n")
    s = load_settings(tmp_path, environ={"BANTZ_VAD__HANGOVER_MS": "450"})
    assert s.vad.hangover_ms == 450
    assert s.audio.input_device == "usb"
    assert s.models.chat.endpoint == "small"
    assert s.vad.preroll_ms == 300  # untouched default


def test_bad_value_names_file_key_and_problem(tmp_path: Path) -> None:
    f = tmp_path / "bantz.yaml"
    f.write_text("vad:\n  hangover_ms: -5\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, environ={})
    msg = str(exc.value)
    assert str(f) in msg and "vad.hangover_ms" in msg and "greater than or equal" in msg


def test_unknown_key_is_rejected_with_file(tmp_path: Path) -> None:
    f = tmp_path / "bantz.yaml"
    f.write_text("audio:\n  inptu_device: 3\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, environ={})
    assert str(f) in str(exc.value) and "audio.inptu_device" in str(exc.value)


def test_env_error_is_attributed_to_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ortam değişkenleri.*vad.aggressiveness"):
        load_settings(tmp_path, environ={"BANTZ_VAD__AGGRESSIVENESS": "9"})


def test_broken_yaml_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "bantz.yaml").write_text("vad: [unclosed\n")
    with pytest.raises(ConfigError, match="YAML okunamadı"):
        load_settings(tmp_path, environ={})


def test_config_show_prints_effective_settings(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BANTZ_TTS__FIRST_CHUNK_WORDS", "5")
    assert main(["config", "show", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tts"]["first_chunk_words"] == 5
    assert data["models"]["router"]["max_tokens"] == 128


def test_cli_reports_bad_config_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    from bantz_voice import paths

    (paths.config_dir() / "bantz.yaml").write_text("brain:\n  timezone: 5\n  responder: parrot\n")
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hata: ") and "brain." in err and "Traceback" not in err


def test_runtime_dir_without_xdg_runtime_dir_is_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    from bantz_voice import paths

    monkeypatch.delenv("BANTZ_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = paths.runtime_dir()
    assert d.name == "bantz"


def test_bantz_dir_variables_win_over_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bantz_voice import paths

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("BANTZ_DATA_DIR", str(tmp_path / "mine"))
    assert paths.data_dir() == tmp_path / "mine"
    monkeypatch.delenv("BANTZ_DATA_DIR")
    assert paths.data_dir() == tmp_path / "xdg" / "bantz"
