"""What every benchmark script prints around its figures: the ``--json`` / ``--markdown`` options,
the run's context (date, machine, load) and the choice of output.

Two generations of scripts use it: the newer ones take :func:`parser` (``--json`` and ``--markdown``
exclude each other), :func:`context` and :func:`emit`; the older ones keep their own option sets and
report fields, built from :func:`described_parser`, :func:`add_output_options`, :func:`run_meta` /
:func:`machine` and :func:`show`."""

from __future__ import annotations

import argparse
import json
import os
import platform
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def described_parser(doc: str | None, *, epilog: bool = False) -> argparse.ArgumentParser:
    """An argument parser described by the first paragraph of the script's docstring (``epilog``:
    with the rest of the docstring, as written, after the options)."""
    parts = (doc or "").split("\n\n")
    if not epilog:
        return argparse.ArgumentParser(description=parts[0])
    return argparse.ArgumentParser(description=parts[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                   epilog="\n\n".join(parts[1:]))


def add_output_options(p: argparse.ArgumentParser, json_help: str | None = "print one JSON object",
                       markdown_help: str | None = "print a Markdown table (for docs/benchmarks.md)") -> None:
    """``--json`` and ``--markdown`` as flags of their own (given both, :func:`show` prints JSON)."""
    p.add_argument("--json", action="store_true", help=json_help)
    p.add_argument("--markdown", action="store_true", help=markdown_help)


def show(args: argparse.Namespace, result: dict[str, Any], markdown: Callable[[], str], text: Callable[[], str]) -> None:
    """Print ``result`` as one JSON object (``--json``), as ``markdown()`` (``--markdown``) or as ``text()``."""
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    elif args.markdown:
        print(markdown())
    else:
        print(text())


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what the platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(cpu: str | None = None, cpus: str = "CPU") -> str:
    """``<cpu>, <n> CPU, <system> <release>`` (``cpu``: the architecture when not given)."""
    return f"{cpu or platform.machine()}, {os.cpu_count()} {cpus}, {platform.system()} {platform.release()}"


def stamp() -> str:
    """The date and time of a run, to the minute, in UTC."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def run_meta(cpu: str | None = None) -> dict[str, Any]:
    """``machine``, ``loadavg_end`` (the 1, 5 and 15 min load averages now) and ``date`` of a run."""
    return {"machine": machine(cpu), "loadavg_end": [round(x, 2) for x in os.getloadavg()], "date": stamp()}


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser described by the first paragraph of the script's docstring, with the
    mutually exclusive ``--json`` (one JSON object) and ``--markdown`` (the docs/benchmarks.md table)."""
    p = described_parser(doc)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON object")
    fmt.add_argument("--markdown", action="store_true", help="print only the Markdown table (for docs/benchmarks.md)")
    return p


def context() -> dict[str, Any]:
    """Where and when the figures were measured (docs/benchmarks.md quotes them with each table)."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}",
        "load_average": round(os.getloadavg()[0], 1),
    }


def context_line(result: dict[str, Any]) -> str:
    return f"{result['date']}, {result['machine']}, load average {result['load_average']}"


def emit(args: argparse.Namespace, result: dict[str, Any], markdown: Callable[[dict[str, Any]], str]) -> bool:
    """Print ``result`` as one JSON object (``--json``: returns False, nothing else to print) or
    as its Markdown table (returns True: the script adds its notes and the context line)."""
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return False
    print(markdown(result))
    return True
