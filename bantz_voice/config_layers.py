"""The layers of the settings, read without validating them (no pydantic): package defaults
(``bantz_voice/data/config/*.yaml``) -> the user's copies in the XDG config dir (or
``$BANTZ_CONFIG_DIR``) -> ``BANTZ_<SECTION>__<KEY>`` environment variables.

:func:`bantz_voice.config.load_settings` merges these layers and validates them with the pydantic
models (the single source of truth). :func:`peek` reads one raw value the same way, for the CLI's
control commands (``ptt``, ``status``, …), which must start in a few tens of milliseconds and so
never import pydantic (docs/benchmarks.md, "CLI start-up").
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bantz_voice import paths
from bantz_voice.config_scan import may_set
from bantz_voice.errors import ConfigError

DEFAULTS_DIR = Path(__file__).resolve().parent / "data" / "config"  # package data
MAIN_FILE = "bantz.yaml"
MODELS_FILE = "model-settings.yaml"
ENV_PREFIX = "BANTZ_"
ENV_LAYER = "ortam değişkenleri (BANTZ_…)"


def read_yaml(path: Path) -> dict[str, Any]:
    import yaml  # here, not at the top: see peek()

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: YAML okunamadı: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: okunamadı: {exc.strerror}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: en üst düzey bir eşleme (key: value) olmalı")
    return data


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def env_overrides(environ: dict[str, str], sections: Iterable[str]) -> dict[str, Any]:
    """``BANTZ_AUDIO__INPUT_DEVICE=pulse`` -> {"audio": {"input_device": "pulse"}} (values parsed as YAML)."""
    import yaml

    out: dict[str, Any] = {}
    known = set(sections)
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if parts[0] not in known:
            continue
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def config_sources(config_dir: Path | None = None) -> list[tuple[str, Path]]:
    """(section-or-'' , path) for every file that exists, in load order."""
    dirs = [DEFAULTS_DIR, config_dir or paths.config_dir()]
    found: list[tuple[str, Path]] = []
    for d in dirs:
        for fname, section in ((MAIN_FILE, ""), (MODELS_FILE, "models")):
            p = d / fname
            if p.is_file():
                found.append((section, p))
    return found


def layers(
    config_dir: Path | None, environ: dict[str, str], sections: Iterable[str]
) -> list[tuple[str, dict[str, Any]]]:
    """(origin, data) for every layer, in load order (later wins)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for section, path in config_sources(config_dir):
        data = read_yaml(path)
        out.append((str(path), {"models": data} if section else data))
    out.append((ENV_LAYER, env_overrides(environ, sections)))
    return out


def peek(section: str, key: str, environ: dict[str, str] | None = None) -> object:
    """The raw, unvalidated value of ``section.key`` after layering (None when no layer sets it).

    The same layers as :func:`layers`, but a file that cannot set the key is not parsed, so that
    the common case (no user setting) does not import the YAML parser (~10 ms)."""
    env = os.environ if environ is None else environ
    value: object = None
    for _, path in config_sources():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = key  # let read_yaml raise the usual error
        if may_set(text, key) or (value is not None and key in text):
            node = read_yaml(path).get(section)
            if isinstance(node, dict) and key in node:
                value = node[key]
    raw = env.get(f"{ENV_PREFIX}{section.upper()}__{key.upper()}")
    if raw is not None:
        value = env_overrides({f"{ENV_PREFIX}{section.upper()}__{key.upper()}": raw}, (section,))[section][key]
    return value
