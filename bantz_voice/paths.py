"""XDG locations (via platformdirs). ``BANTZ_CONFIG_DIR``/``BANTZ_DATA_DIR``/``BANTZ_STATE_DIR``/
``BANTZ_RUNTIME_DIR`` override each one, which is how tests point at temporary directories."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import platformdirs

APP = "bantz"


def _pick(env: str, default: Callable[[str], str]) -> Path:
    value = os.environ.get(env)
    return Path(value) if value else Path(default(APP))


def config_dir() -> Path:
    return _pick("BANTZ_CONFIG_DIR", platformdirs.user_config_dir)


def data_dir() -> Path:
    return _pick("BANTZ_DATA_DIR", platformdirs.user_data_dir)


def state_dir() -> Path:
    return _pick("BANTZ_STATE_DIR", platformdirs.user_state_dir)


def cache_dir() -> Path:
    return _pick("BANTZ_CACHE_DIR", platformdirs.user_cache_dir)


def runtime_dir() -> Path:
    with warnings.catch_warnings():  # no XDG_RUNTIME_DIR: platformdirs falls back to /tmp/runtime-<uid>
        warnings.simplefilter("ignore")
        return _pick("BANTZ_RUNTIME_DIR", platformdirs.user_runtime_dir)


def ensure(path: Path, mode: int = 0o700) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    return path
