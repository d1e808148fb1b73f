#!/usr/bin/env python3
"""Start-up time of the control commands against a bare interpreter (hyperfine-like).

    .venv/bin/python scripts/bench_cli.py [--runs 30] [--json] [--repo CHECKOUT | --installed] [COMMAND ...]

Runs ``python -c pass`` and each command (default: ``ptt toggle``) alternately ``--runs`` times
with no daemon running (an empty private runtime directory: the command fails fast with "Bantz
çalışmıyor", exit 3, which is the whole start-up path of a key press minus one socket round
trip), and prints min / median / mean wall time and CPU time (user + system: less sensitive to other
load on the machine) and the ratios. The target
(issue 12): ``ptt toggle`` within 3x ``python -c pass``. A command is run the way the installed
console script runs it (``from bantz_voice.cli import main``).

Where the time goes: ``python -X importtime -c 'from bantz_voice.cli import main; main()' ptt toggle``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENTRY = "import sys; from bantz_voice.cli import main; sys.exit(main())"


def _time(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[float, float, int]:
    """(wall s, CPU s of the child: user + system, exit code)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), res.returncode


def _stats(xs: list[float]) -> dict[str, float]:
    return {"min_ms": min(xs) * 1e3, "median_ms": statistics.median(xs) * 1e3, "mean_ms": statistics.fmean(xs) * 1e3}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", nargs="*", default=["ptt", "toggle"])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--repo", type=Path, default=REPO, help="checkout to measure (e.g. an older one, for a before/after)")
    ap.add_argument("--installed", action="store_true",
                    help="measure the bantz_voice installed in this interpreter's environment (no PYTHONPATH)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        # the user's path (XDG_RUNTIME_DIR via platformdirs), in an empty directory: no daemon answers
        env.pop("BANTZ_RUNTIME_DIR", None)
        env["XDG_RUNTIME_DIR"] = tmp
        if args.installed:
            env.pop("PYTHONPATH", None)
        else:
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(args.repo), env.get("PYTHONPATH", "")) if p)
        base_cmd = [sys.executable, "-c", "pass"]
        cli_cmd = [sys.executable, "-c", ENTRY, *args.command]
        for _ in range(args.warmup):
            _time(base_cmd, env, tmp)
            _time(cli_cmd, env, tmp)
        base: list[float] = []
        cli: list[float] = []
        base_cpu: list[float] = []
        cli_cpu: list[float] = []
        codes: set[int] = set()
        for _ in range(args.runs):  # alternate, so that load on a shared machine hits both alike
            w, c, _code = _time(base_cmd, env, tmp)
            base.append(w)
            base_cpu.append(c)
            w, c, code = _time(cli_cmd, env, tmp)
            cli.append(w)
            cli_cpu.append(c)
            codes.add(code)
    out = {
        "command": "bantz-voice " + " ".join(args.command),
        "runs": args.runs,
        "exit_codes": sorted(codes),
        "python -c pass": _stats(base),
        "cli": _stats(cli),
        "python -c pass cpu": _stats(base_cpu),
        "cli cpu": _stats(cli_cpu),
        "ratio_median": statistics.median(cli) / statistics.median(base),
        "ratio_min": min(cli) / min(base),
        "ratio_cpu_median": statistics.median(cli_cpu) / statistics.median(base_cpu),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for label, key in (("python -c pass", "python -c pass"), (out["command"], "cli")):
            w, c = out[key], out[f"{key} cpu"]
            print(f"{label:24} wall min {w['min_ms']:6.1f}  median {w['median_ms']:6.1f} ms   "
                  f"CPU min {c['min_ms']:6.1f}  median {c['median_ms']:6.1f} ms")
        print(f"ratio: wall median {out['ratio_median']:.2f}x, wall min {out['ratio_min']:.2f}x, "
              f"CPU median {out['ratio_cpu_median']:.2f}x (target <= 3x)   exit codes {out['exit_codes']}   "
              f"load {out['load_avg']:.1f} on {out['cpus']} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
