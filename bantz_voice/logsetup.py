"""Logging set-up for every entry point: a terminal gets timestamps, journald gets priorities.

Under systemd (``$JOURNAL_STREAM`` names the device and inode of our stderr, see
systemd.exec(5)) journald stamps each line itself, so a line carries no timestamp of ours but a
``<N>`` syslog priority prefix (sd-daemon(3)): ``journalctl --user -u bantz-voice -p warning``
then shows the warnings. Every line of a multi-line record (a traceback) carries the prefix.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

TERMINAL_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(name)s: %(message)s"

# sd-daemon.h: SD_EMERG 0 … SD_DEBUG 7
_PRIORITY = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))


def syslog_priority(levelno: int) -> int:
    return next((prio for level, prio in _PRIORITY if levelno >= level), 7)


class JournalFormatter(logging.Formatter):
    """``<N>name: message`` on every line of the record, no timestamp."""

    def __init__(self) -> None:
        super().__init__(JOURNAL_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).split("\n"))


def under_journald(stream: TextIO | None = None, environ: dict[str, str] | None = None) -> bool:
    """True when ``stream`` (stderr) is connected to the journal: ``$JOURNAL_STREAM`` is
    ``<device>:<inode>`` of the stream (a child with its output redirected does not match)."""
    env = os.environ if environ is None else environ
    value = env.get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat((stream or sys.stderr).fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


def configure(level: str | int = "WARNING", stream: TextIO | None = None, environ: dict[str, str] | None = None) -> logging.Handler:
    """Replace the root logger's handlers with one stream handler in the right format."""
    out = stream or sys.stderr
    handler = logging.StreamHandler(out)
    handler.setFormatter(JournalFormatter() if under_journald(out, environ) else logging.Formatter(TERMINAL_FORMAT))
    from bantz_voice.privacy import ScrubFilter

    handler.addFilter(ScrubFilter())  # PII (and tracebacks) scrubbed on whichever handler this is
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
