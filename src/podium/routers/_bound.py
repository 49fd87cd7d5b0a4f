"""A one-sided Clopper-Pearson bound: how high a failure rate may really be, given what a sample showed.

Written out (a few lines of binomial arithmetic) rather than taken from scipy, which podium does not depend on.
"""

from __future__ import annotations

import math

__all__ = ('upper_rate',)


def upper_rate(failures: int, trials: int, level: float) -> float:
    """The rate the true failure rate stays below with probability `level`; `failures / trials` when `level` is 0."""
    if trials <= 0:
        return 1.0
    if level <= 0.0:
        return failures / trials
    if failures >= trials:
        return 1.0
    alpha = 1.0 - level
    low, high = failures / trials, 1.0
    for _ in range(60):  # bisection to well below any rate a report shows
        middle = (low + high) / 2
        if _cdf(failures, trials, middle) > alpha:
            low = middle
        else:
            high = middle
    return high


def _cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space so large `n` does not overflow."""
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)
    return math.fsum(
        math.exp(base - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q) for i in range(k + 1)
    )
