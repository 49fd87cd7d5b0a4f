"""The retry decision shared by `RetryingModel` (per request) and `retry` (per step): whether, and how long to wait."""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from pydantic_ai.exceptions import ModelAPIError

from .._core._arguments import is_count, is_number
from .._core._classify import is_retryable
from .._core._errors import ConfigurationError
from ._backoff import Backoff
from ._budget import RetryBudget
from ._clock import SYSTEM_CLOCK, Clock

__all__ = (
    'DEFAULT_ATTEMPTS',
    'DEFAULT_DEADLINE',
    'DEFAULT_RETRY_AFTER_CAP',
    'RetryLoop',
    'RetryPolicy',
    'outer_retry',
    'outer_retry_owns_attempts',
)

DEFAULT_ATTEMPTS = 3
"""Tries per request or step, the first included."""
DEFAULT_RETRY_AFTER_CAP = 10.0
"""Longest `Retry-After` worth waiting for: a longer one falls back at once, since a backup answers sooner."""
DEFAULT_DEADLINE = 60.0
"""Seconds one model request may take, every try and wait included, unless its `RetryingModel` says otherwise."""

_outer_retry: ContextVar[bool] = ContextVar('podium_outer_retry', default=False)


@contextmanager
def outer_retry() -> Generator[None]:
    """Mark the block as run by a `retry` step, which owns the attempts of every model request made inside it."""
    token = _outer_retry.set(True)
    try:
        yield
    finally:
        _outer_retry.reset(token)


def outer_retry_owns_attempts() -> bool:
    """Whether a `retry` step around this call owns its attempts: a model loop inside then tries once per step try.

    Two loops would multiply: three step tries of three model tries send nine requests where the caller asked for
    three. The step's loop is the one the caller configured nearest to the work, and it also covers failures that
    are not a model's, so the model loop defers to it and keeps only what the step cannot do for one request (the
    SDK's retries off, the attempt timeout and deadline, the breaker, typed failures).
    """
    return _outer_retry.get()


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How a loop retries: at most `attempts` tries, waits from `backoff` or the provider, within `deadline`."""

    attempts: int = DEFAULT_ATTEMPTS
    backoff: Backoff = field(default_factory=Backoff)
    retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP
    deadline: float | None = None
    retry_on: Callable[[BaseException], bool] = is_retryable
    budget: RetryBudget | None = None
    clock: Clock = SYSTEM_CLOCK

    def __post_init__(self) -> None:
        if not is_count(self.attempts) or self.attempts < 1:
            raise ConfigurationError(f'attempts must be at least 1 (the first try), got {self.attempts!r}')
        if not is_number(self.retry_after_cap) or self.retry_after_cap < 0:
            raise ConfigurationError(f'retry_after_cap must not be negative, got {self.retry_after_cap!r}')
        if self.deadline is not None and (not is_number(self.deadline) or self.deadline <= 0):
            raise ConfigurationError(f'deadline must be positive or None, got {self.deadline!r}')


class RetryLoop:
    """One retried call: when it started, how many tries it made, and why it stopped."""

    __slots__ = ('attempts', 'policy', 'started', 'stop_reason', 'tries')

    def __init__(self, policy: RetryPolicy, *, attempts: int | None = None, started: float | None = None) -> None:
        """Start a loop now, or continue one that started at `started` (its first try already counted)."""
        self.policy = policy
        self.attempts = policy.attempts if attempts is None else attempts
        """Tries this call may make: the policy's, or one when an outer `retry` owns the attempts."""
        self.tries = 0
        self.stop_reason: str | None = None
        """Why no further try was made: `not_retryable`, `attempts`, `retry_after_cap`, `deadline` or `budget`."""
        if started is not None:
            self.started = started
            return
        self.started = policy.clock.now()
        if policy.budget is not None:
            policy.budget.deposit()

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never negative), or `None` without one."""
        if self.policy.deadline is None:
            return None
        return max(0.0, self.policy.deadline - (self.policy.clock.now() - self.started))

    def wait_before_retry(self, exc: BaseException) -> float | None:
        """How long to wait before trying again after `exc`, or `None` to stop (see `stop_reason`).

        The provider's `Retry-After` (already parsed by Pydantic-AI, `retry-after-ms` first) replaces the backoff,
        unless it is longer than `retry_after_cap`: then waiting is worse than falling back, as the OpenAI SDK
        judges too. A wait that would end past the deadline is not started.
        """
        policy = self.policy
        retry_after = exc.retry_after if isinstance(exc, ModelAPIError) else None
        remaining = self.remaining()
        if not policy.retry_on(exc):
            self.stop_reason = 'not_retryable'
        elif self.tries >= self.attempts:
            self.stop_reason = 'attempts'
        elif retry_after is not None and retry_after > policy.retry_after_cap:
            self.stop_reason = 'retry_after_cap'
        else:
            wait = retry_after if retry_after is not None else policy.backoff.delay(self.tries)
            if remaining is not None and wait >= remaining:
                self.stop_reason = 'deadline'
            elif policy.budget is not None and not policy.budget.withdraw():
                self.stop_reason = 'budget'
            else:
                return wait
        return None
