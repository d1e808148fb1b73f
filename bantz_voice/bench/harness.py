"""What the benchmark scripts set up before they measure (scripts/bench_*.py share it).

- :func:`private_dirs`: private BANTZ_*_DIR directories, so a benchmark's calendar events, memory
  and traces never touch the user's;
- :func:`require_tools`: the external programs a benchmark needs, or a clear exit;
- :func:`simulator`: the vLLM SIMULATOR (``scripts/vllm_mock_server.py``) for the length of a run,
  at the model strategy's or the shipped GPU split's speeds (:func:`simulator_args`);
- :func:`configure`: the settings a run uses (the simulator's endpoints, or the baseline's voice
  loop); :func:`own_memory`: a dialog memory of a design's own; :func:`seed_calendar`.

Every benchmark then starts the product's own pipeline (``app.start_pipeline``)
with these settings: no copy of the start-up.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bantz_voice.brain.memory import Memory
    from bantz_voice.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SIMULATOR_SCRIPT = ROOT / "scripts" / "vllm_mock_server.py"
SIM_SPEEDS = ("strategy", "split")
DIRS = ("CONFIG", "DATA", "STATE", "RUNTIME")


def private_dirs(prefix: str = "bantz-bench-") -> tempfile.TemporaryDirectory[str]:
    """Private XDG dirs (BANTZ_*_DIR set in this process's environment): the benchmark's calendar
    events, memory and traces never touch the user's. ``cleanup()`` removes them."""
    tmp = tempfile.TemporaryDirectory(prefix=prefix)
    for name in DIRS:
        d = Path(tmp.name) / name.lower()
        d.mkdir(mode=0o700)
        os.environ[f"BANTZ_{name}_DIR"] = str(d)
    return tmp


def require_tools(*tools: str, missing: list[str] | None = None, hint: str = "") -> None:
    """Exit with ``needed: …`` (and ``hint``) when a program in ``tools`` is not on PATH; ``missing``:
    what the caller already found missing."""
    absent = list(missing or []) + [t for t in tools if shutil.which(t) is None]
    if absent:
        raise SystemExit(f"needed: {', '.join(absent)}" + (f" ({hint})" if hint else ""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_simulator(extra: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    """``scripts/vllm_mock_server.py`` on a free port, once it answers ``/models``: (process, base URL)."""
    import httpx

    port = free_port()
    proc = subprocess.Popen([sys.executable, str(SIMULATOR_SCRIPT), "--port", str(port), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/models", timeout=0.5).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the simulator did not start")


def stop_simulator(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=10)


def simulator_args(speeds: str = "strategy") -> list[str]:
    """The simulator's timing: ``strategy`` = its defaults (the model strategy's targets); ``split`` =
    the planner's estimate for the shipped GPU split (doctor --vram --profile gguf-split on an
    RTX 4060): the 3B router's and the 8B chat model's first token and tokens/s."""
    if speeds == "strategy":
        return []
    if speeds != "split":
        raise ValueError(f"simulator speeds: one of {SIM_SPEEDS}, not {speeds!r}")
    from bantz_voice.doctor.vram import SHIPPED_PROFILE, plan, profiles

    lat = plan(profiles()[SHIPPED_PROFILE]).latency
    r, c = lat.role("router"), lat.role("chat")
    return ["--model", f"bantz-sim-3b={r.first_token_ms:.0f}:{r.tok_s:.0f}:8",
            "--model", f"bantz-sim-8b={c.first_token_ms:.0f}:{c.tok_s:.0f}:15"]


@contextmanager
def simulator(llm: str, speeds: str = "strategy") -> Iterator[str | None]:
    """The simulator's base URL while the block runs when ``llm`` is ``simulator`` (stopped after
    it); None for any other ``llm`` (the configured models)."""
    if llm != "simulator":
        yield None
        return
    proc, url = start_simulator(simulator_args(speeds))
    try:
        yield url
    finally:
        stop_simulator(proc)


def configure(settings: Settings, llm: str, sim_url: str | None, baseline: bool) -> Settings:
    """``settings`` for a run: the LLM roles on the simulator's models (``llm == "simulator"``), and
    the baseline's voice loop (no speculative ASR, no early first chunk, Whisper's full window)."""
    data = settings.model_dump(mode="json")
    if llm == "simulator":
        if not sim_url:
            raise ValueError("the simulator's URL is needed for llm='simulator'")
        data["models"]["endpoints"] = {
            "small": {"kind": "openai", "base_url": sim_url, "model": "bantz-sim-3b", "schema_style": "json_schema"},
            "chat": {"kind": "openai", "base_url": sim_url, "model": "bantz-sim-8b", "schema_style": "json_schema"},
        }
        data["models"]["router"]["endpoint"] = data["models"]["orchestrator"]["endpoint"] = "small"
        data["models"]["chat"]["endpoint"] = "chat"
    if baseline:  # the voice loop's part of the baseline (the brain's: BaselineResponder)
        data["vad"]["speculative_asr"] = False
        data["tts"]["early_first_chunk"] = False
        data["asr"]["window"] = "full"  # stock faster-whisper: the 30 s window
    return type(settings).model_validate(data)


def own_memory(settings: Settings, name: str) -> Memory:
    """A dialog memory of design ``name``'s own: designs sharing one memory would each see the other's
    turns in their prompts (and break each other's prompt caches)."""
    from bantz_voice import paths
    from bantz_voice.brain.memory import Memory

    return Memory(settings.brain.memory_max_tokens, path=paths.data_dir() / f"{name}-memory.sqlite")


def seed_calendar(settings: Settings) -> None:
    """Two events so that calendar questions have something to answer."""
    from bantz_voice.calendar import open_calendar

    cal = open_calendar(settings)
    try:
        today = datetime.now(cal.tz).replace(hour=15, minute=0, second=0, microsecond=0)
        cal.create("proje toplantısı", today)
        cal.create("spor", today + timedelta(days=1, hours=3))
    finally:
        cal.close()
