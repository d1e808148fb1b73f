"""The benchmarks' one percentile definition: linear interpolation between the nearest ranks
(numpy's default), the same for every script."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bantz_voice.bench.stats import p50_p95, percentile


def test_linear_between_the_nearest_ranks() -> None:
    assert percentile([], 95) is None
    assert percentile([7.0], 95) == 7.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(range(1, 21), 95) == 19.1  # 5 % of the way from the 19th to the 20th value
    assert percentile([3, 1, 2], 0) == 1 and percentile([3, 1, 2], 100) == 3  # order does not matter
    assert p50_p95([]) == {"p50": None, "p95": None}
    with pytest.raises(ValueError):
        percentile([1.0], 0.95 * 1000)


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=60),
       st.sampled_from([0, 5, 50, 90, 95, 99, 100]))
def test_matches_numpy(values: list[float], q: float) -> None:
    got = percentile(values, q, ndigits=6)
    assert got is not None
    assert got == pytest.approx(float(np.percentile(values, q)), abs=1e-5)
