"""``bantz-voice`` command line. Each area registers its subcommands from its own module:
``bantz_voice/cli/<area>.py`` defines ``register(subparsers)``; a handler is
``func(args) -> int`` set with ``parser.set_defaults(func=...)``.

Control commands (``ptt``, ``status``, ``mute``, …) talk to the running daemon and must start
fast (a desktop shortcut runs ``ptt toggle`` on every press): their plain forms go through
:mod:`bantz_voice.cli.fast` (no argparse); with options only the daemon area's parser is built.
Neither imports pydantic or model code (scripts/bench_cli.py). An area module therefore imports
its heavy dependencies inside its handlers, not at the top.
"""

from __future__ import annotations

import sys

from bantz_voice import __version__
from bantz_voice.errors import BantzError

TYPE_CHECKING = False  # typing is not imported on the control commands' path
if TYPE_CHECKING:
    import argparse

# One module per area; add yours here.
AREAS = ("config_cmd", "voice", "models", "nlu", "calendar", "brain", "daemon", "doctor", "wake", "audio")
# Commands that only talk to the control socket: parsed by the daemon area alone.
CONTROL_COMMANDS = frozenset({"status", "ptt", "mute", "unmute", "cancel", "reload", "shutdown"})


def _command_of(argv: list[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(areas: tuple[str, ...] = AREAS) -> argparse.ArgumentParser:
    import argparse
    import importlib

    from bantz_voice.cli import turkish_argparse

    turkish_argparse.install()
    parser = argparse.ArgumentParser(prog="bantz-voice", description="Bantz Voice: Türkçe sesli asistan")
    parser.add_argument("-v", "--verbose", action="store_true", help="ayrıntılı günlük")
    parser.add_argument("--version", action="version", version=f"bantz-voice {__version__}", help="sürümü göster ve çık")
    sub = parser.add_subparsers(dest="command", metavar="KOMUT")
    for area in areas:
        importlib.import_module(f"bantz_voice.cli.{area}").register(sub)
    turkish_argparse.name_placeholders(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if _command_of(argv) in CONTROL_COMMANDS:
        from bantz_voice.cli import fast

        code = fast.run(argv)
        if code is not None:
            return code
    parser = build_parser(("daemon",) if _command_of(argv) in CONTROL_COMMANDS else AREAS)
    args = parser.parse_args(argv)
    from bantz_voice.privacy import install_excepthooks, scrub

    install_excepthooks()  # no unscrubbed traceback printed to stderr (the journal under systemd)
    if args.verbose or args.command not in CONTROL_COMMANDS:  # a control command logs nothing
        from bantz_voice import logsetup
        from bantz_voice.privacy import install_log_scrubbing

        logsetup.configure("DEBUG" if args.verbose else "WARNING")
        install_log_scrubbing()  # PII never reaches a log line, whatever the command
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except BantzError as exc:
        print(f"hata: {scrub(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
