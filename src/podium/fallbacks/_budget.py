"""`RetryBudget`: a token bucket that keeps retries a small share of the traffic, shared across runs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .._core._arguments import is_number
from .._core._errors import ConfigurationError
from ._clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from ._limit_store import LimitStore

__all__ = ('RetryBudget',)


class RetryBudget:
    """Lets retries through only while they stay under `ratio` of first attempts, plus `per_second`.

    Every first attempt earns `ratio` of a token and time earns `per_second` tokens a second, up to `capacity`;
    every retry spends one. During an outage every call fails, the bucket empties, and each call then makes one
    attempt and moves on to its fallback, so the outage cannot multiply the traffic. Share one budget between the
    models and steps that call the same provider. Meant for one event loop: it never awaits, so it needs no lock.

    With a `store`, every budget of the same `name` on that store is one bucket, across worker processes. Each
    retry is withdrawn in one transaction, so two workers never spend the same token; the earnings of first attempts
    are gathered in the process and paid in with the next withdrawal, or every `refresh` seconds, so a first attempt
    costs the store a write at most that often. `spent` and `denied` count this process's retries.
    """

    def __init__(
        self,
        *,
        ratio: float = 0.2,
        per_second: float = 1.0,
        capacity: float = 10.0,
        clock: Clock = SYSTEM_CLOCK,
        name: str = 'budget',
        store: LimitStore | None = None,
        refresh: float = 0.25,
    ) -> None:
        if not is_number(ratio) or not 0 <= ratio <= 1:
            raise ConfigurationError(f'RetryBudget ratio must be within [0, 1], got {ratio!r}')
        if not is_number(per_second) or per_second < 0:
            raise ConfigurationError(f'RetryBudget per_second must not be negative, got {per_second!r}')
        if not is_number(capacity) or capacity < 1:
            raise ConfigurationError(f'RetryBudget capacity must be at least 1 (one retry), got {capacity!r}')
        self.ratio = ratio
        self.per_second = per_second
        self.capacity = capacity
        self.clock = clock
        if not is_number(refresh) or refresh < 0:
            raise ConfigurationError(f'RetryBudget refresh must not be negative, got {refresh!r}')
        self.name = name
        self.store = store
        """Where the bucket is shared with other budgets of this `name`; `None` keeps it in this object."""
        self.refresh = refresh
        self._key = f'budget:{name}'
        self._earned = 0
        """First attempts not yet paid into the bucket (the shared one, with a `store`)."""
        self._tokens = capacity
        self._refilled_at = self._paid_at = clock.now()
        self.spent = 0
        """Retries let through so far."""
        self.denied = 0
        """Retries refused so far."""

    @property
    def tokens(self) -> float:
        """Retries available now."""
        if self.store is not None:
            return self.store.update(self._key, lambda record: self._settle(record, spend=False))[1]
        self._refill()
        return self._tokens

    def deposit(self) -> None:
        """Count a first attempt: it earns `ratio` of a retry.

        Every first attempt makes one, so it only counts: the earnings are paid in when the tokens are next read.
        Adding them then is the same as adding each at once, since every earning is non-negative and the cap only
        ever cuts a sum at `capacity`.
        """
        self._earned += 1
        if self.store is not None and self.clock.now() - self._paid_at >= self.refresh:
            self.store.update(self._key, lambda record: self._settle(record, spend=False))

    def withdraw(self) -> bool:
        """Spend one retry; `False` (and nothing spent) when the budget is empty."""
        if self.store is not None:
            spent = self.store.update(self._key, lambda record: self._settle(record, spend=True))[0]
        else:
            self._refill()
            spent = self._tokens >= 1
            if spent:
                self._tokens -= 1
        if spent:
            self.spent += 1
        else:
            self.denied += 1
        return spent

    def _settle(self, record: str | None, *, spend: bool) -> tuple[str, tuple[bool, float]]:
        """In the store's transaction: refill the shared bucket, pay in this process's earnings, maybe spend one."""
        now = self.clock.now()
        data = json.loads(record) if record else {'tokens': self.capacity, 'at': now}
        tokens = float(data['tokens']) + max(0.0, now - float(data['at'])) * self.per_second
        tokens = min(self.capacity, tokens + self._earned * self.ratio)
        self._earned, self._paid_at = 0, now
        spent = spend and tokens >= 1
        if spent:
            tokens -= 1
        return json.dumps({'tokens': tokens, 'at': now}), (spent, tokens)

    def _refill(self) -> None:
        now = self.clock.now()
        earned = (now - self._refilled_at) * self.per_second + self._earned * self.ratio
        self._tokens = min(self.capacity, self._tokens + earned)
        self._refilled_at, self._earned = now, 0

    def __repr__(self) -> str:
        return f'RetryBudget(tokens={self.tokens:.2f}, spent={self.spent}, denied={self.denied})'
