"""A soak of 200 text turns through the real voice loop (echo responder, real Piper, traces on),
in a process of its own: RSS grows less than 10 %, open file descriptors and threads do not grow.
Marked slow; it runs in ``make test``: about 1 min on an idle 4-core laptop, several minutes
on a heavily shared CI machine (the time is Piper's; the limits below do not depend on it)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fixtures.daemon import REPO

pytestmark = pytest.mark.slow


@pytest.mark.timeout(900)
def test_200_turns_do_not_grow_memory_fds_or_threads() -> None:
    res = subprocess.run([sys.executable, "scripts/soak_turns.py", "--turns", "200", "--warmup", "20"],
                         cwd=REPO, capture_output=True, text=True, timeout=880)
    assert res.returncode == 0, res.stderr[-3000:]
    r = json.loads(res.stdout.strip().splitlines()[-1])
    assert r["failed"] == 0, r
    assert r["rss_growth_pct"] < 10.0, r
    assert r["after"]["fds"] <= r["before"]["fds"], r
    assert r["after"]["threads"] <= r["before"]["threads"], r
