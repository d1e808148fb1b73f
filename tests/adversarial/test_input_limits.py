"""Bad values and unbounded growth at the edges: ``--timeout 0|-1|nan``, an unknown
``brain.timezone``, an over-long ``say``, a run-on text with no space for the TTS, and
``traces.jsonl`` that rotates instead of growing forever."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bantz_voice.cli import main
from bantz_voice.config import ConfigError, load_settings
from bantz_voice.daemon.protocol import MAX_SAY_CHARS, ProtocolError, parse_request
from bantz_voice.trace import TraceLog, TurnTrace
from bantz_voice.tts.chunker import bound_length


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "-inf", "abc", "1e9"])
def test_bad_timeout_is_a_clear_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["status", f"--timeout={value}"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "--timeout" in err and "geçersiz süre" in err and "Traceback" not in err


def test_good_timeout_still_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--timeout", "0.5"]) == 3  # no daemon: the usual "not running" error
    assert "Bantz çalışmıyor" in capsys.readouterr().err


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "", "../../etc/passwd", "Europe/Istanbul\x00"])
def test_bad_timezone_is_a_clear_error(tz: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="brain.timezone.*saat dilimi"):
        load_settings(environ={"BANTZ_BRAIN__TIMEZONE": json.dumps(tz)})
    monkeypatch.setenv("BANTZ_BRAIN__TIMEZONE", json.dumps(tz))
    assert main(["ask", "saat kaç", "--rules-only"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hata: ") and "saat dilimi" in err and "Traceback" not in err


def test_say_length_is_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ProtocolError, match="text"):
        parse_request(json.dumps({"type": "say", "data": {"text": "a" * (MAX_SAY_CHARS + 1)}}).encode())
    assert main(["say", "ş" * (MAX_SAY_CHARS + 1), "--out", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert "çok uzun" in err and "Traceback" not in err


@pytest.mark.parametrize("max_chars", [40, 200])
def test_run_on_text_without_spaces_is_cut_hard(max_chars: int) -> None:
    text = "ğ" * MAX_SAY_CHARS
    pieces = bound_length(text, max_chars)
    assert all(len(p) <= max_chars for p in pieces)
    assert "".join(pieces) == text


def test_traces_rotate_and_keep_n(tmp_path: Path) -> None:
    log = TraceLog(tmp_path / "traces.jsonl", max_bytes=4096, keep=2)
    for _ in range(400):
        log.append(TurnTrace(), route="echo")
    files = [log.path, *log.rotated()]
    assert [f.name for f in files] == ["traces.jsonl", "traces.jsonl.1", "traces.jsonl.2"]
    assert not (tmp_path / "traces.jsonl.3").exists()
    assert all(f.stat().st_size <= 4096 for f in files)
    for f in files:  # every kept line is whole JSON
        for line in f.read_text().splitlines():
            assert json.loads(line)["route"] == "echo"


def test_trace_rotation_settings_reach_the_pipeline_defaults() -> None:
    s = load_settings(environ={"BANTZ_LOGGING__TRACES_MAX_BYTES": "8192", "BANTZ_LOGGING__TRACES_KEEP": "1"})
    assert (s.logging.traces_max_bytes, s.logging.traces_keep) == (8192, 1)
    with pytest.raises(ConfigError):
        load_settings(environ={"BANTZ_LOGGING__TRACES_MAX_BYTES": "10"})
