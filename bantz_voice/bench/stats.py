"""The one percentile definition every benchmark uses (scripts/bench_*.py).

Percentiles are **linearly interpolated between the two nearest ranks** (numpy's default
``method="linear"``, Hyndman & Fan type 7): the p-th percentile of n sorted values sits at
position ``(n - 1) * p / 100``. So p95 of 20 samples is 5 % of the way from the 19th to the 20th
value, and p50 is the median. Figures before this definition (issue 13) used nearest-rank
variants in some scripts (bench_brain, bench_nlu, bench_asr_window, bench_normalize); for small
samples their p95 can differ by up to one rank.
"""

from __future__ import annotations

from collections.abc import Iterable


def percentile(values: Iterable[float], q: float, ndigits: int = 1) -> float | None:
    """The ``q``-th percentile (``q`` in 0..100) of ``values``, rounded to ``ndigits`` decimals;
    ``None`` for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be in 0..100, got {q}")
    v = sorted(values)
    if not v:
        return None
    pos = (len(v) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return round(v[lo] + (v[hi] - v[lo]) * (pos - lo), ndigits)


def p50_p95(values: Iterable[float], ndigits: int = 1) -> dict[str, float | None]:
    """``{"p50": …, "p95": …}`` of ``values`` (``None`` entries when there are none)."""
    v = list(values)
    return {"p50": percentile(v, 50, ndigits), "p95": percentile(v, 95, ndigits)}
