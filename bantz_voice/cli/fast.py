"""The control commands' fast path: ``ptt start|stop|toggle``, ``mute``, ``unmute``, ``cancel``,
``reload``, ``shutdown`` exactly as a desktop shortcut runs them.

A shortcut runs ``bantz-voice ptt toggle`` on every key press, so this path imports only ``os``,
``sys``, ``json``, ``socket`` and the client (no argparse, pathlib, typing, platformdirs, YAML or
pydantic) and stays within about 2x a bare ``python -c pass`` (scripts/bench_cli.py,
docs/benchmarks.md). It hands over (returns None) to the full argparse path for anything else:
options, ``--help``, ``status`` (its report needs more), a socket path set in a config file or
``$BANTZ_DAEMON__SOCKET_PATH``, or no runtime directory in the environment.
"""

from __future__ import annotations

import os
import sys

from bantz_voice.config_scan import may_set

# The texts both paths print (cli/daemon.py uses them too).
DONE = {
    "mute": "Mikrofon kapatıldı.",
    "unmute": "Mikrofon açıldı.",
    "cancel": "Durduruldu.",
    "reload": "Ayarlar yeniden yüklendi.",
    "shutdown": "Bantz kapanıyor.",
}
PTT_ACTIONS = ("start", "stop", "toggle")
PTT_LISTENING = "Bas-konuş: dinliyorum…"
PTT_DONE = "Bas-konuş: bitti, yanıtlıyorum."
SOCKET_KEY = "socket_path"


def _config_files(environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """The files load_settings() reads that could set daemon.socket_path (bantz.yaml layers)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    user = environ.get("BANTZ_CONFIG_DIR") or os.path.join(
        environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config"), "bantz"
    )
    return [os.path.join(here, "data", "config", "bantz.yaml"), os.path.join(user, "bantz.yaml")]


def _socket_configured(environ: dict[str, str] | os._Environ[str]) -> bool:
    if environ.get("BANTZ_DAEMON__SOCKET_PATH") is not None:
        return True
    for path in _config_files(environ):
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError:
            continue
        if may_set(text, SOCKET_KEY):
            return True
    return False


def run(argv: list[str], environ: dict[str, str] | os._Environ[str] | None = None) -> int | None:
    """Exit status, or None: not a plain control command, use the full parser."""
    env = os.environ if environ is None else environ
    data: dict[str, object] | None
    if len(argv) == 1 and argv[0] in DONE:
        kind, data = argv[0], None
    elif len(argv) == 2 and argv[0] == "ptt" and argv[1] in PTT_ACTIONS:
        kind, data = "ptt", {"action": argv[1]}
    else:
        return None
    from bantz_voice.daemon.wire import plain_socket_path

    path = plain_socket_path(env)
    if path is None or _socket_configured(env):
        return None
    from bantz_voice.daemon.client import call
    from bantz_voice.errors import BantzError

    try:
        reply = call(path, kind, data)
    except BantzError as exc:
        print(f"hata: {exc}", file=sys.stderr)
        return exc.exit_code
    if kind == "ptt":
        print(PTT_LISTENING if reply.get("ptt_active") else PTT_DONE)
    else:
        print(DONE[kind])
    return 0
