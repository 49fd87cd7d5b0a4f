"""`RetryBudget`: a token bucket that keeps retries a small share of the traffic, shared across runs."""

from __future__ import annotations

from .._core._errors import ConfigurationError
from ._clock import SYSTEM_CLOCK, Clock

__all__ = ('RetryBudget',)


class RetryBudget:
    """Lets retries through only while they stay under `ratio` of first attempts, plus `per_second`.

    Every first attempt earns `ratio` of a token and time earns `per_second` tokens a second, up to `capacity`;
    every retry spends one. During an outage every call fails, the bucket empties, and each call then makes one
    attempt and moves on to its fallback, so the outage cannot multiply the traffic. Share one budget between the
    models and steps that call the same provider. Meant for one event loop: it never awaits, so it needs no lock.
    """

    def __init__(
        self, *, ratio: float = 0.2, per_second: float = 1.0, capacity: float = 10.0, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        if not 0 <= ratio <= 1:
            raise ConfigurationError(f'RetryBudget ratio must be within [0, 1], got {ratio}')
        if per_second < 0:
            raise ConfigurationError(f'RetryBudget per_second must not be negative, got {per_second}')
        if capacity < 1:
            raise ConfigurationError(f'RetryBudget capacity must be at least 1 (one retry), got {capacity}')
        self.ratio = ratio
        self.per_second = per_second
        self.capacity = capacity
        self.clock = clock
        self._tokens = capacity
        self._refilled_at = clock.now()
        self.spent = 0
        """Retries let through so far."""
        self.denied = 0
        """Retries refused so far."""

    @property
    def tokens(self) -> float:
        """Retries available now."""
        self._refill()
        return self._tokens

    def deposit(self) -> None:
        """Count a first attempt: it earns `ratio` of a retry."""
        self._refill()
        self._tokens = min(self.capacity, self._tokens + self.ratio)

    def withdraw(self) -> bool:
        """Spend one retry; `False` (and nothing spent) when the budget is empty."""
        self._refill()
        if self._tokens < 1:
            self.denied += 1
            return False
        self._tokens -= 1
        self.spent += 1
        return True

    def _refill(self) -> None:
        now = self.clock.now()
        self._tokens = min(self.capacity, self._tokens + (now - self._refilled_at) * self.per_second)
        self._refilled_at = now

    def __repr__(self) -> str:
        return f'RetryBudget(tokens={self.tokens:.2f}, spent={self.spent}, denied={self.denied})'
