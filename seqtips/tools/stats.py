"""Exact, distribution-free intervals for the evidence report, in pure Python (no random draws).

- :func:`clopper_pearson`: the 95 % Clopper–Pearson interval for a rate seen ``k`` times in ``n``
  trials — the interval of every rate under which ``k`` is not in either 2.5 % tail of the
  binomial distribution. It is exact (never narrower than its level claims, often wider), found
  by bisection on the binomial CDF.
- :func:`median_interval`: the median of some numbers with a 95 % interval for the population's
  median from order statistics: ``[x(l), x(n+1-l)]`` of the sorted numbers, with ``l`` the
  largest rank for which a Binomial(n, 1/2) count falls below ``l`` with probability at most
  2.5 %. It assumes only that the runs are independent draws of one distribution; with fewer
  than 6 numbers no such rank exists and no interval is given.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable

LEVEL = 0.95


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (exact for any n a report meets)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    log_terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
                 for i in range(k + 1)]
    top = max(log_terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in log_terms))


def _bisect(decreasing, target: float, iterations: int = 200) -> float:
    """The p in [0, 1] where the decreasing function ``decreasing(p)`` crosses ``target``."""
    lo, hi = 0.0, 1.0
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if decreasing(mid) > target:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-15:
            break
    return (lo + hi) / 2


def clopper_pearson(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The Clopper–Pearson interval (``level``, default 95 %) for a rate held ``k`` times in ``n``.

    ``20 of 20`` gives ``(0.832, 1.0)``, ``0 of 10`` ``(0.0, 0.308)``, ``7 of 10`` ``(0.348, 0.933)``.
    """
    if not (isinstance(k, int) and isinstance(n, int)) or not 0 <= k <= n or n < 1:
        raise ValueError(f"k and n must be whole numbers with 0 <= k <= n and n >= 1, got k = {k!r}, n = {n!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    tail = (1 - level) / 2
    # lower: the rate at which k or more successes have probability tail (P(X >= k) rises with p)
    lower = 0.0 if k == 0 else _bisect(lambda p: binomial_cdf(k - 1, n, p), 1 - tail)
    # upper: the rate at which k or fewer successes have probability tail (P(X <= k) falls with p)
    upper = 1.0 if k == n else _bisect(lambda p: binomial_cdf(k, n, p), tail)
    return lower, upper


def median_rank(n: int, level: float = LEVEL) -> int | None:
    """The rank ``l`` of the order-statistic interval ``[x(l), x(n+1-l)]`` for the median, or None.

    The largest ``l`` with P(Binomial(n, 1/2) <= l - 1) <= (1 - level) / 2: the interval then
    covers the median with probability at least ``level``. None when even ``[min, max]`` falls
    short (fewer than 6 numbers at 95 %).
    """
    tail = (1 - level) / 2
    best = None
    for rank in range(1, n // 2 + 1):
        if binomial_cdf(rank - 1, n, 0.5) <= tail:
            best = rank
        else:
            break
    return best


def median_interval(values: Iterable[float], level: float = LEVEL) -> tuple[float, float | None, float | None]:
    """``(median, low, high)`` of ``values`` (infinities allowed), the interval None when too few."""
    ordered = sorted(float(v) for v in values)
    if not ordered:
        raise ValueError("median_interval needs at least one number")
    if any(math.isnan(v) for v in ordered):
        raise ValueError("median_interval takes no NaN: drop the runs whose number could not be measured first")
    median = statistics.median(ordered)  # of two middle numbers -inf and inf: NaN, as it should be
    rank = median_rank(len(ordered), level)
    if rank is None:
        return median, None, None
    return median, ordered[rank - 1], ordered[len(ordered) - rank]
