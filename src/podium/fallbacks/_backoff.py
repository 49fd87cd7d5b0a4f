"""`Backoff`: how long to wait before a retry when the provider did not say."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from .._core._arguments import is_number
from .._core._errors import ConfigurationError

__all__ = ('Backoff', 'Jitter')

Jitter = Literal['full', 'equal', 'none']
"""How a backoff delay is randomised: `full` (0 to the delay, the default, which spreads clients most), `equal`
(at least half the bound) or `none` (for tests with a virtual clock)."""


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Capped exponential backoff with jitter: retry `n` waits up to `min(cap, base * 2 ** (n - 1))` seconds.

    Full jitter (a uniform draw from zero to that bound) spreads the retries of many clients that failed together,
    so they do not come back as one wave; `equal` keeps at least half the bound; `none` waits the bound itself.
    """

    base: float = 0.5
    """Seconds before the first retry, before jitter."""
    cap: float = 8.0
    """The longest wait, before jitter."""
    jitter: Jitter = 'full'
    """How the wait is randomised."""
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)
    """Source of uniform draws in [0, 1); pass a seeded `random.Random(...).random` for repeatable waits."""

    def __post_init__(self) -> None:
        if not is_number(self.base) or self.base < 0:
            raise ConfigurationError(f'Backoff base must not be negative, got {self.base!r}')
        if not is_number(self.cap) or self.cap < self.base:
            raise ConfigurationError(f'Backoff cap must be at least base ({self.base}), got {self.cap!r}')
        if self.jitter not in ('full', 'equal', 'none'):
            raise ConfigurationError(f"Backoff jitter must be 'full', 'equal' or 'none', got {self.jitter!r}")

    def bound(self, retry: int) -> float:
        """The wait before retry number `retry` (1 for the first retry), before jitter."""
        return min(self.cap, self.base * 2.0 ** min(retry - 1, 62))  # the exponent is capped so it never overflows

    def delay(self, retry: int) -> float:
        """The wait before retry number `retry` (1 for the first retry)."""
        bound = self.bound(retry)
        if self.jitter == 'full':
            return bound * self.random()
        if self.jitter == 'equal':
            return bound / 2 + bound / 2 * self.random()
        return bound
