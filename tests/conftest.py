"""Shared test set-up. Every test runs with private XDG/BANTZ directories (never the user's).

Fixture modules live in ``tests/fixtures/*.py`` and are loaded as pytest plugins automatically.
"""

from __future__ import annotations

import os
import pkgutil
import sys
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests draw the same examples on every run and machine (the guide: same input, same
# output); HYPOTHESIS_PROFILE=explore draws new ones, for hunting bugs by hand.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

pytest_plugins = [f"fixtures.{m.name}" for m in pkgutil.iter_modules([str(HERE / "fixtures")])]


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path_factory.mktemp("xdg")
    for name in ("CONFIG", "DATA", "STATE", "CACHE", "RUNTIME"):
        d = root / name.lower()
        d.mkdir(mode=0o700)
        monkeypatch.setenv(f"BANTZ_{name}_DIR", str(d))
    return root
