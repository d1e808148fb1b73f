"""The one percentile definition every benchmark uses (scripts/bench_*.py)."""

from __future__ import annotations

from collections.abc import Iterable


def percentile(values: Iterable[float], q: float) -> float | None:
    """Linear-interpolated percentile (``q`` in 0..100, numpy's default "linear" method), rounded
    to 0.1; ``None`` for no values."""
    v = sorted(values)
    if not v:
        return None
    pos = (len(v) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return round(v[lo] + (v[hi] - v[lo]) * (pos - lo), 1)


def p50_p95(values: Iterable[float]) -> dict[str, float | None]:
    """``{"p50": …, "p95": …}`` of ``values`` (``None`` entries when there are none)."""
    v = list(values)
    return {"p50": percentile(v, 50), "p95": percentile(v, 95)}
