"""``bantz-voice config show``."""

from __future__ import annotations

import argparse
import json

from bantz_voice.config import config_sources, dump_settings, load_settings, redacted_dump


def _show(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.json:
        print(json.dumps(redacted_dump(settings), ensure_ascii=False, indent=2))
    else:
        for _, path in config_sources():
            print(f"# kaynak: {path}")
        print(dump_settings(settings), end="")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="ayarlar")
    csub = p.add_subparsers(dest="config_command", metavar="ALT")
    show = csub.add_parser("show", help="geçerli ayarları yazdır")
    show.add_argument("--json", action="store_true", help="JSON olarak yazdır")
    show.set_defaults(func=_show)
