"""The benchmarks' shared start-up and output (bantz_voice/bench/harness.py, report.py): what the
scripts rely on when they take these parts instead of their own copies."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pytest

from bantz_voice.bench import harness, report
from bantz_voice.bench.signals import estimate_delay
from bantz_voice.config import Settings


def test_configure_points_the_roles_at_the_simulator_and_keeps_the_rest() -> None:
    base = Settings()
    s = harness.configure(base, "simulator", "http://127.0.0.1:1/v1", baseline=False)
    assert {k: (e.kind, e.model) for k, e in s.models.endpoints.items()} == {
        "small": ("openai", "bantz-sim-3b"), "chat": ("openai", "bantz-sim-8b")}
    assert s.models.router.endpoint == s.models.orchestrator.endpoint == "small"
    assert s.models.chat.endpoint == "chat"
    assert s.vad == base.vad and s.asr == base.asr  # only the models changed
    with pytest.raises(ValueError):
        harness.configure(base, "simulator", None, baseline=False)


def test_configure_baseline_is_the_sequential_voice_loop() -> None:
    base = Settings()
    s = harness.configure(base, "embedded", None, baseline=True)
    assert not s.vad.speculative_asr and not s.tts.early_first_chunk and s.asr.window == "full"
    assert s.models == base.models


def test_simulator_is_started_only_for_the_simulator() -> None:
    with harness.simulator("embedded") as url:
        assert url is None
    assert harness.simulator_args("strategy") == []
    split = harness.simulator_args("split")
    assert split[0::2] == ["--model", "--model"] and split[1].startswith("bantz-sim-3b=")
    with pytest.raises(ValueError):
        harness.simulator_args("fast")


def test_private_dirs_are_private_and_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in harness.DIRS:
        monkeypatch.setenv(f"BANTZ_{name}_DIR", "/nonexistent")
    tmp = harness.private_dirs()
    dirs = [Path(os.environ[f"BANTZ_{name}_DIR"]) for name in harness.DIRS]
    assert all(d.is_dir() and d.parent == Path(tmp.name) and (d.stat().st_mode & 0o777) == 0o700 for d in dirs)
    tmp.cleanup()
    assert not any(d.exists() for d in dirs)


def test_require_tools_names_what_is_missing() -> None:
    harness.require_tools("sh")
    with pytest.raises(SystemExit, match=r"^needed: pactl, bantz-no-such-tool \(apt-get install x\)$"):
        harness.require_tools("sh", "bantz-no-such-tool", missing=["pactl"], hint="apt-get install x")


def test_show_prints_json_markdown_or_text(capsys: pytest.CaptureFixture[str]) -> None:
    p = argparse.ArgumentParser()
    report.add_output_options(p)
    result = {"ş": 1}
    for argv, want in ((["--json"], json.dumps(result, ensure_ascii=False, indent=2)), (["--markdown"], "md"),
                       ([], "text"), (["--json", "--markdown"], json.dumps(result, ensure_ascii=False, indent=2))):
        report.show(p.parse_args(argv), result, lambda: "md", lambda: "text")
        assert capsys.readouterr().out == want + "\n", argv


def test_described_parser_takes_the_docstring() -> None:
    doc = "First line.\n\nUsage:\n    x --y"
    assert report.described_parser(doc).description == "First line."
    p = report.described_parser(doc, epilog=True)
    assert p.epilog == "Usage:\n    x --y" and "    x --y" in p.format_help()  # kept as written


def test_run_meta_fields() -> None:
    meta = report.run_meta("Some CPU")
    assert list(meta) == ["machine", "loadavg_end", "date"]
    assert meta["machine"].startswith(f"Some CPU, {os.cpu_count()} CPU, ") and len(meta["loadavg_end"]) == 3
    assert meta["date"].endswith(" UTC") and report.machine(cpus="CPUs").split(", ")[1] == f"{os.cpu_count()} CPUs"
    assert report.cpu_model()


def test_estimate_delay_finds_a_probe() -> None:
    rng = np.random.default_rng(3)
    probe = rng.standard_normal(800)
    recorded = np.concatenate([rng.standard_normal(1234) * 0.05, 0.5 * probe, rng.standard_normal(300) * 0.05])
    lag, peak = estimate_delay(recorded, probe)
    assert lag == 1234 and peak > 0.95
    assert estimate_delay(probe[:10], probe) == (0, 0.0)
