"""What every benchmark script prints around its figures: the ``--json`` / ``--markdown`` options,
the run's context (date, machine, load) and the choice of output."""

from __future__ import annotations

import argparse
import json
import os
import platform
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser described by the first paragraph of the script's docstring, with the
    mutually exclusive ``--json`` (one JSON object) and ``--markdown`` (the docs/benchmarks.md table)."""
    p = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
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
