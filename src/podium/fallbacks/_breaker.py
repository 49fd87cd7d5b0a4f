"""`CircuitBreaker`: stop calling a provider or step that keeps failing, and let a trial through now and then."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

import anyio
from typing_extensions import TypeVar

from .._core._classify import failure_reason
from .._core._errors import ConfigurationError
from ._clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from .._core._step import Step
    from ._circuit import CircuitStep

__all__ = ('BreakerState', 'CircuitBreaker', 'Permit', 'counts_against_provider')

InT = TypeVar('InT')
OutT = TypeVar('OutT')

BreakerState: TypeAlias = Literal['closed', 'open', 'half_open']
"""A circuit breaker's state: `closed` lets calls through, `open` fails them at once without calling the provider,
`half_open` (after `reset_after`) lets a few trial calls through, whose outcome closes or reopens it."""

_PROVIDER_DOWN = frozenset(
    {
        'rate_limit',
        'quota',
        'overloaded',
        'unavailable',
        'server_error',
        'timeout',
        'connection',
        'auth',
        'provider_error',
        'all_models_failed',
    }
)


def counts_against_provider(exc: BaseException) -> bool:
    """Whether `exc` says the provider (or step) is unwell, rather than that this one request was at fault.

    A rejected request (400, context length), a refusal or invalid output means the provider answered, so it counts
    as a success for the breaker.
    """
    return failure_reason(exc) in _PROVIDER_DOWN


class CircuitBreaker:
    """Closed, open, half-open: after `failure_threshold` failures in a row the breaker opens and calls fail fast.

    After `reset_after` seconds it lets `trials` calls through (half-open), each bounded by `trial_timeout`; a trial
    that succeeds closes it, one that fails or times out opens it again. One breaker is shared by every run that
    uses it: give it to a `RetryingModel(breaker=...)` per model, or wrap a step with `breaker.protect(step)`.
    Meant for one event loop: it never awaits, so it needs no lock.
    """

    def __init__(
        self,
        *,
        name: str = 'breaker',
        failure_threshold: int = 5,
        reset_after: float = 30.0,
        trials: int = 1,
        trial_timeout: float | None = 10.0,
        counts: Callable[[BaseException], bool] = counts_against_provider,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if failure_threshold < 1:
            raise ConfigurationError(f'CircuitBreaker failure_threshold must be at least 1, got {failure_threshold}')
        if reset_after <= 0:
            raise ConfigurationError(f'CircuitBreaker reset_after must be positive, got {reset_after}')
        if trials < 1:
            raise ConfigurationError(f'CircuitBreaker trials must be at least 1, got {trials}')
        if trial_timeout is not None and trial_timeout <= 0:
            raise ConfigurationError(f'CircuitBreaker trial_timeout must be positive or None, got {trial_timeout}')
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self.trials = trials
        self.trial_timeout = trial_timeout
        self.counts = counts
        self.clock = clock
        self.failures = 0
        """Counted failures in a row while closed."""
        self.opened = 0
        """How many times the breaker has opened."""
        self._opened_at: float | None = None
        self._trials_running = 0

    @property
    def state(self) -> BreakerState:
        """`closed`, `open`, or `half_open` once `reset_after` has passed since it opened."""
        if self._opened_at is None:
            return 'closed'
        return 'half_open' if self.clock.now() - self._opened_at >= self.reset_after else 'open'

    def acquire(self) -> Permit | None:
        """A permit to make one call, or `None` when the call must fail fast."""
        state = self.state
        if state == 'closed':
            return Permit(trial=False, timeout=None)
        if state == 'open' or self._trials_running >= self.trials:
            return None
        self._trials_running += 1
        return Permit(trial=True, timeout=self.trial_timeout)

    def protect(self, step: Step[InT, OutT], *, name: str | None = None) -> CircuitStep[InT, OutT]:
        """`step` behind this breaker: while it is open, the step fails fast with `CircuitOpen`."""
        from ._circuit import CircuitStep

        return CircuitStep[InT, OutT](step, self, name=name)

    def release(self, permit: Permit, exc: BaseException | None) -> None:
        """Report how the call `permit` allowed ended: `None` for success, else what it raised.

        A cancellation says nothing about the provider, so it only frees the trial slot. Only the first report of a
        permit counts.
        """
        if permit.released:
            return
        permit.released = True
        if permit.trial:
            self._trials_running -= 1
        if exc is not None and (isinstance(exc, anyio.get_cancelled_exc_class()) or not isinstance(exc, Exception)):
            return
        if exc is None or not self.counts(exc):
            self.failures = 0
            if permit.trial:
                self._opened_at = None
            return
        self.failures += 1
        if permit.trial or (self._opened_at is None and self.failures >= self.failure_threshold):
            self._opened_at = self.clock.now()
            self.opened += 1

    def __repr__(self) -> str:
        return f'CircuitBreaker({self.name!r}, state={self.state!r}, failures={self.failures})'


@dataclass(eq=False)
class Permit:
    """Leave to make one call through a `CircuitBreaker`; hand it back with `CircuitBreaker.release`."""

    trial: bool
    """Whether this call is a half-open trial."""
    timeout: float | None
    """The time limit of this call: the breaker's `trial_timeout` for a trial, else none."""
    released: bool = False
    """Whether the outcome has been reported."""
