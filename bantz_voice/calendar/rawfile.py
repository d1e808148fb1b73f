"""A .ics file as text: the VCALENDAR header and the raw text of each top-level component.

Lets the ICS backend change one event of a large file without parsing all the others: only the
components of that UID (and the time zones) are parsed; every other component is written back
exactly as it was read."""

from __future__ import annotations

from dataclasses import dataclass

END = b"END:VCALENDAR\r\n"


@dataclass
class RawCalendar:
    head: bytes  # BEGIN:VCALENDAR and the calendar's own properties, CRLF lines
    chunks: list[bytes]  # each top-level component, CRLF lines

    def to_bytes(self) -> bytes:
        return self.head + b"".join(self.chunks) + END


def split(data: bytes, *, strict: bool = True) -> RawCalendar | None:
    """The header and top-level components of a VCALENDAR text. ``strict``: None when the text
    is not one plain VCALENDAR (the caller then parses it fully); lenient: whatever components
    are there, the rest ignored (never None)."""
    lines = data.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if strict and (
        not lines or lines[0].strip().upper() != b"BEGIN:VCALENDAR" or lines[-1].strip().upper() != b"END:VCALENDAR"
    ):
        return None
    head: list[bytes] = []
    chunks: list[bytes] = []
    current: list[bytes] | None = None
    depth = 0
    for line in lines:
        tag = line[:6].upper()
        if tag.startswith(b"BEGIN:"):
            depth += 1
            if depth == 2:
                current = []
        if depth <= 0:
            if strict:
                return None  # text after END:VCALENDAR
            depth = 0
            continue
        if current is not None:
            current.append(line + b"\r\n")
        elif depth == 1 and not tag.startswith(b"END:"):
            head.append(line + b"\r\n")
        if tag.startswith(b"END:"):
            if depth == 2 and current is not None:
                chunks.append(b"".join(current))
                current = None
            depth -= 1
    if strict and (depth != 0 or current is not None):
        return None
    return RawCalendar(b"".join(head), chunks)


def components(data: bytes) -> list[bytes]:
    """The raw text of each top-level component, leniently (``split(data, strict=False)``)."""
    raw = split(data, strict=False)
    return raw.chunks if raw is not None else []


def kind(chunk: bytes) -> str:
    first = chunk.split(b"\r\n", 1)[0]
    return first[6:].strip().upper().decode("ascii", "replace")


def uid(chunk: bytes) -> str | None:
    """The UID property of the component itself (not of a nested VALARM)."""
    depth = 0
    for line in chunk.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").split(b"\r\n"):
        upper = line[:6].upper()
        if upper.startswith(b"BEGIN:"):
            depth += 1
        elif upper.startswith(b"END:"):
            depth -= 1
        elif depth == 1 and (line[:4].upper() == b"UID:" or line[:4].upper() == b"UID;"):
            return line.split(b":", 1)[1].decode("utf-8", "replace")
    return None
