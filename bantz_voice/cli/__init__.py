"""``bantz-voice`` command line. Each area registers its subcommands from its own module:
``bantz_voice/cli/<area>.py`` defines ``register(subparsers)``; a handler is
``func(args) -> int`` set with ``parser.set_defaults(func=...)``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from bantz_voice.errors import BantzError

# One module per area; add yours here.
AREAS = ("config_cmd", "voice", "models", "nlu", "calendar", "brain", "daemon", "doctor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bantz-voice", description="Bantz Voice: Türkçe sesli asistan")
    parser.add_argument("-v", "--verbose", action="store_true", help="ayrıntılı günlük")
    sub = parser.add_subparsers(dest="command", metavar="KOMUT")
    for area in AREAS:
        try:
            module = importlib.import_module(f"bantz_voice.cli.{area}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bantz_voice.cli.{area}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from bantz_voice.privacy import install_log_scrubbing

    install_log_scrubbing()  # PII never reaches a log line, whatever the command
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except BantzError as exc:
        print(f"hata: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
