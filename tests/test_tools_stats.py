"""The exact intervals of the evidence report (seqtips/tools/stats.py), against published values."""

import math
from fractions import Fraction

import pytest

from seqtips.tools import stats


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (20, 20, 0.8316, 1.0),
        (0, 10, 0.0, 0.3085),
        (7, 10, 0.3475, 0.9333),
        (19, 20, 0.7513, 0.9987),
        (10, 20, 0.2720, 0.7280),
        (0, 1, 0.0, 0.975),
        (1, 1, 0.025, 1.0),
        (500, 1000, 0.4685, 0.5315),
    ],
)
def test_clopper_pearson_gives_the_published_intervals(k, n, low, high):
    got = stats.clopper_pearson(k, n)
    assert got == pytest.approx((low, high), abs=1e-4)


def test_clopper_pearson_puts_two_and_a_half_percent_in_each_tail():
    low, high = stats.clopper_pearson(7, 10)
    assert 1 - stats.binomial_cdf(6, 10, low) == pytest.approx(0.025, abs=1e-9)  # P(X >= 7 | low)
    assert stats.binomial_cdf(7, 10, high) == pytest.approx(0.025, abs=1e-9)  # P(X <= 7 | high)
    assert stats.clopper_pearson(7, 10, level=0.5)[0] > low  # a lower level, a narrower interval


@pytest.mark.parametrize(("k", "n"), [(3, 2), (-1, 5), (0, 0), (1.0, 2)])
def test_clopper_pearson_refuses_impossible_counts(k, n):
    with pytest.raises(ValueError, match="0 <= k <= n"):
        stats.clopper_pearson(k, n)


def test_binomial_cdf_is_exact_where_it_can_be_checked_by_hand():
    assert stats.binomial_cdf(0, 3, 0.5) == pytest.approx(1 / 8)
    assert stats.binomial_cdf(1, 3, 0.5) == pytest.approx(4 / 8)
    assert stats.binomial_cdf(3, 3, 0.2) == 1.0 and stats.binomial_cdf(-1, 3, 0.2) == 0.0
    middle = float(Fraction(math.comb(4000, 2000), 2**4000))  # P(X = 2000): exact, then rounded once
    assert stats.binomial_cdf(2000, 4000, 0.5) == pytest.approx(0.5 + middle / 2)


@pytest.mark.parametrize(("n", "rank"), [(5, None), (6, 1), (8, 1), (9, 2), (10, 2), (20, 6), (30, 10)])
def test_the_median_interval_uses_the_tabled_order_statistics(n, rank):
    assert stats.median_rank(n) == rank


def test_median_interval_of_twenty_runs_is_their_sixth_and_fifteenth():
    values = [float(v) for v in range(20, 0, -1)]  # any order
    assert stats.median_interval(values) == (10.5, 6.0, 15.0)
    assert stats.median_interval([3.0, 1.0, 2.0]) == (2.0, None, None)  # too few for 95 %
    assert stats.median_interval([1.0, math.inf] * 5) == (math.inf, 1.0, math.inf)
    with pytest.raises(ValueError, match="NaN"):
        stats.median_interval([1.0, math.nan])
    with pytest.raises(ValueError, match="at least one"):
        stats.median_interval([])
