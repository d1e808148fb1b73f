"""``bantz-voice nlu`` / ``eval`` / ``normalize`` through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bantz_voice.brain
from bantz_voice.cli import main
from bantz_voice.errors import BantzError
from bantz_voice.schemas import Intent, NluDecision, Route

DATA = Path(__file__).parent / "data"
NOW = "2026-11-26T10:00"


def test_nlu_json(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["nlu", "yarın saat dörtte kuaför randevusu ekle", "--now", NOW, "--rules-only", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["intent"] == "calendar.create" and out["source"] == "rules"
    assert out["slots"]["start"] == "2026-11-27T16:00" and "kuaför" in out["slots"]["title"]
    assert set(out) == {"route", "intent", "slots", "confidence", "source"}


def test_nlu_human_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nlu", "bu hafta neler var", "--now", NOW, "--rules-only"]) == 0
    out = capsys.readouterr().out
    assert "calendar.query" in out
    assert any(line.startswith("range_start:") and line.endswith("2026-11-23") for line in out.splitlines())


def test_nlu_jsonl_keeps_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    texts = ["saat kaç", "yarın ne var", "selam", "hava nasıl", "tiyatroyu yarın akşama taşı"]
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in texts) + "\n\n", encoding="utf-8")
    assert main(["nlu", "--jsonl", str(f), "--now", NOW, "--rules-only"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["intent"] for x in lines] == ["system.time", "calendar.query", "smalltalk.chat", "unknown", "calendar.update"]
    assert lines[1]["slots"] == {"range_start": "2026-11-27", "range_end": "2026-11-27"}


def test_eval_reports_accuracy_confusion_and_misses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(DATA / "nlu_dev.jsonl"), "--now", NOW, "--rules-only"]) == 0
    out = capsys.readouterr().out
    assert "rota doğruluğu" in out and "karışıklık tablosu" in out and "hatalar" in out
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(
        json.dumps({"text": "saat kaç", "route": "calendar", "intent": "calendar.query"}) + "\n"
        + json.dumps({"text": "yarın ne var", "route": "calendar", "intent": "calendar.query",
                      "slots": {"range_start": "2026-11-28"}}) + "\n",
        encoding="utf-8",
    )
    assert main(["eval", str(wrong), "--now", NOW, "--rules-only"]) == 0
    out = capsys.readouterr().out
    assert "rota doğruluğu:  50.0% (1/2)" in out
    assert "slot doğruluğu:  50.0% (1/2)" in out
    assert "'saat kaç'" in out and "slots:range_start" in out


def test_normalize_cmd(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["normalize", "Toplantı 14:30'da, %20 indirim, 250 TL"]) == 0
    assert capsys.readouterr().out.strip() == "Toplantı on dört otuzda, yüzde yirmi indirim, iki yüz elli lira"


@pytest.mark.parametrize(
    "argv",
    [
        ["nlu", "selam", "--now", "dün", "--rules-only"],
        ["nlu", "--now", NOW, "--rules-only"],
        ["nlu", "--jsonl", "/yok/boyle/dosya.jsonl", "--now", NOW, "--rules-only"],
        ["eval", "/yok/boyle/dosya.jsonl", "--now", NOW, "--rules-only"],
    ],
)
def test_bad_arguments_are_one_line_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc != 0
    assert err.startswith("hata: ") and err.count("\n") == 1 and "Traceback" not in err


def test_bad_jsonl_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text('{"text": "selam"}\nnot json\n', encoding="utf-8")
    assert main(["nlu", "--jsonl", str(f), "--now", NOW, "--rules-only"]) != 0
    assert ":2:" in capsys.readouterr().err


def test_brain_is_used_without_rules_only(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[str] = []

    class FakeDecider:
        def __init__(self, settings) -> None:
            pass

        async def __call__(self, text, now):
            seen.append(text)
            assert now.tzinfo is not None and now.hour == 10
            return NluDecision(route=Route.smalltalk, intent=Intent.smalltalk_chat, confidence=0.7, source="llm")

    monkeypatch.setattr(bantz_voice.brain, "Decider", FakeDecider)
    assert main(["nlu", "bir şiir okur musun", "--now", NOW, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == "llm"
    assert seen == ["bir şiir okur musun"]


def test_brain_failure_falls_back_to_rules_with_one_note(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class Broken:
        def __init__(self, settings) -> None:
            pass

        async def __call__(self, text, now):
            raise BantzError("model dosyası yok")

    monkeypatch.setattr(bantz_voice.brain, "Decider", Broken)
    f = tmp_path / "in.jsonl"
    f.write_text('{"text": "saat kaç"}\n{"text": "yarın ne var"}\n', encoding="utf-8")
    assert main(["nlu", "--jsonl", str(f), "--now", NOW]) == 0
    cap = capsys.readouterr()
    assert [json.loads(x)["source"] for x in cap.out.splitlines()] == ["rules", "rules"]
    assert cap.err.count("not:") == 1 and "model dosyası yok" in cap.err


def test_bench_script_reports_accuracy_and_latency() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, str(root / "scripts/bench_nlu.py"), "--rounds", "1", "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    data = json.loads(out)
    assert data["latency"]["calls"] >= 1000 and data["latency"]["p95_ms"] > 0
    held = data["accuracy"]["held-out (unseen)"]
    assert held["n"] == 200 and held["intent"] >= 0.92
