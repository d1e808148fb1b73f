"""``bantz-voice doctor``: one line per area, never a crash, endpoint probing against a real server."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bantz_voice.cli import main
from bantz_voice.config import load_settings
from bantz_voice.health import check_calendar, check_endpoints, run_checks

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import vllm_mock_server as sim  # noqa: E402
from fixtures.simulator import free_port, serve_simulator  # noqa: E402


@pytest.fixture(scope="module")
def simulator() -> Iterator[str]:
    with serve_simulator([sim.ModelProfile("m1", 1, 1000)]) as base:
        yield base


def _config(cfg: Path, base_url: str, model: str) -> None:
    (cfg / "model-settings.yaml").write_text(
        "endpoints:\n"
        f"  small: {{kind: openai, base_url: '{base_url}', model: {model}}}\n"
        f"  chat: {{kind: openai, base_url: '{base_url}', model: {model}}}\n"
    )


def test_endpoint_check_flags_the_simulator(isolated_dirs: Path, simulator: str) -> None:
    _config(isolated_dirs / "config", simulator, "m1")
    c = check_endpoints(load_settings())
    assert c.status == "uyarı" and "SİMÜLATÖR" in c.message


def test_endpoint_check_missing_model_and_unreachable(isolated_dirs: Path, simulator: str) -> None:
    _config(isolated_dirs / "config", simulator, "yok-boyle-model")
    c = check_endpoints(load_settings())
    assert c.status == "hata" and "yok-boyle-model" in c.message
    _config(isolated_dirs / "config", f"http://127.0.0.1:{free_port()}/v1", "m1")
    c = check_endpoints(load_settings(), timeout=0.5)
    assert c.status == "hata" and "erişilemiyor" in c.message


def test_calendar_check_counts_events(isolated_dirs: Path) -> None:
    settings = load_settings()
    from datetime import datetime, timedelta

    from bantz_voice.calendar import open_calendar

    cal = open_calendar(settings)
    cal.create("diş hekimi", datetime.now(cal.tz).replace(microsecond=0) + timedelta(days=1))
    cal.close()
    c = check_calendar(settings)
    assert c.status == "ok" and "1 etkinlik" in c.message


def test_doctor_prints_one_line_per_area(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["doctor"])
    lines = capsys.readouterr().out.strip().splitlines()
    names = [ln.split()[1] for ln in lines]
    assert names == ["mikrofon", "hoparlör", "modeller", "sürümler", "LLM", "takvim", "servis", "GPU"]
    assert rc in (0, 1)
    assert main(["doctor", "--json"]) == rc
    data = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in data] == names and all(d["status"] in ("ok", "uyarı", "hata") for d in data)


def test_a_crashing_check_becomes_an_error_line() -> None:
    def boom(settings):
        raise RuntimeError("patladı")

    (res,) = run_checks(load_settings(), (boom,))
    assert res.status == "hata" and "patladı" in res.message
