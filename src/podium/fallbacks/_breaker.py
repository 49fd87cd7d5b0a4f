"""`CircuitBreaker`: stop calling a provider or step that keeps failing, and let a trial through now and then."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

import anyio
from typing_extensions import TypeVar

from .._core._arguments import is_count, is_number
from .._core._classify import failure_reason
from .._core._errors import ConfigurationError
from ._clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from .._core._step import Step
    from ._circuit import CircuitStep
    from ._limit_store import LimitStore

__all__ = ('BreakerState', 'CircuitBreaker', 'Permit', 'counts_against_provider')

InT = TypeVar('InT')
OutT = TypeVar('OutT')

BreakerState: TypeAlias = Literal['closed', 'open', 'half_open']
"""A circuit breaker's state: `closed` lets calls through, `open` fails them at once without calling the provider,
`half_open` (after `reset_after`) lets a few trial calls through, whose outcome closes or reopens it."""
_Outcome: TypeAlias = Literal['success', 'failure', 'cancelled']

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
        'unexpected_response',
        'all_models_failed',
    }
)


def counts_against_provider(exc: BaseException) -> bool:
    """Whether `exc` says the provider (or step) is unwell, rather than that this one request was at fault.

    A rejected request (400, context length), a refusal or invalid output means the provider answered, so it counts
    as a success for the breaker. A response no adapter can read (an HTML error page, `"choices": []`) does not: a
    provider that keeps sending them is as unwell as one that keeps sending 5xx.
    """
    return failure_reason(exc) in _PROVIDER_DOWN


class CircuitBreaker:
    """Closed, open, half-open: after `failure_threshold` failures in a row the breaker opens and calls fail fast.

    After `reset_after` seconds it lets `trials` calls through (half-open), each bounded by `trial_timeout`; a trial
    that succeeds closes it, one that fails or times out opens it again. One breaker is shared by every run that
    uses it: give it to a `RetryingModel(breaker=...)` per model, or wrap a step with `breaker.protect(step)`.
    Meant for one event loop: it never awaits, so it needs no lock.

    With a `store`, every breaker of the same `name` on that store shares one state, across worker processes: a
    breaker opened by one worker is seen by the others within `refresh` seconds, and half-open trials are counted
    across all of them. The state is read through a cache rather than polled by a background task: a breaker has no
    lifetime to own a task, an idle worker then costs the store nothing, and a busy one reads it at most once per
    `refresh` however many calls it makes. Outcomes are written only when they change something (a failure, a trial,
    or a success after failures), so the steady closed state reads and never writes. Failures "in a row" are then
    counted across workers, as each saw the state within `refresh`. Without a store (the default) nothing is shared
    and nothing leaves the process.
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
        store: LimitStore | None = None,
        refresh: float = 0.25,
    ) -> None:
        if not is_count(failure_threshold) or failure_threshold < 1:
            raise ConfigurationError(f'CircuitBreaker failure_threshold must be at least 1, got {failure_threshold!r}')
        if not is_number(reset_after) or reset_after <= 0:
            raise ConfigurationError(f'CircuitBreaker reset_after must be positive, got {reset_after!r}')
        if not is_count(trials) or trials < 1:
            raise ConfigurationError(f'CircuitBreaker trials must be at least 1, got {trials!r}')
        if trial_timeout is not None and (not is_number(trial_timeout) or trial_timeout <= 0):
            raise ConfigurationError(f'CircuitBreaker trial_timeout must be positive or None, got {trial_timeout!r}')
        if not is_number(refresh) or not 0 <= refresh <= 1:
            raise ConfigurationError(
                f'CircuitBreaker refresh must be within [0, 1] seconds (how stale a shared state may be), got {refresh}'
            )
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
        self.store = store
        """Where the state is shared with other breakers of this `name`; `None` keeps it in this object."""
        self.refresh = refresh
        """Seconds a shared state read from the store is trusted before it is read again."""
        self._key = f'breaker:{name}'
        self._read_at = -float('inf')

    @property
    def state(self) -> BreakerState:
        """`closed`, `open`, or `half_open` once `reset_after` has passed since it opened."""
        if self.store is not None:
            now = self.clock.now()
            if now - self._read_at >= self.refresh:
                self._load(self.store.read(self._key), now)
        if self._opened_at is None:
            return 'closed'
        return 'half_open' if self.clock.now() - self._opened_at >= self.reset_after else 'open'

    def acquire(self) -> Permit | None:
        """A permit to make one call, or `None` when the call must fail fast."""
        state = self.state
        if state == 'closed':
            return Permit(trial=False, timeout=None)
        if state == 'open':
            return None
        if self.store is not None:
            return self.store.update(self._key, self._claim_trial)
        if self._trials_running >= self.trials:
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
        outcome: _Outcome
        if exc is not None and (isinstance(exc, anyio.get_cancelled_exc_class()) or not isinstance(exc, Exception)):
            outcome = 'cancelled'
        else:
            outcome = 'success' if exc is None or not self.counts(exc) else 'failure'
        self._settle(permit, outcome)

    def give_back(self, permit: Permit) -> None:
        """Return a permit whose call was never made (it found no rate-limit capacity): only frees its trial slot."""
        self._settle(permit, 'cancelled')

    def _settle(self, permit: Permit, outcome: _Outcome) -> None:
        if permit.released:
            return
        permit.released = True
        if self.store is not None:
            if outcome != 'success' or permit.trial or self.failures:
                self.store.update(self._key, lambda record: self._record_outcome(record, permit.trial, outcome))
            return
        if permit.trial:
            self._trials_running -= 1
        if outcome == 'success':
            self.failures = 0
            if permit.trial:
                self._opened_at = None
        elif outcome == 'failure':
            self.failures += 1
            if permit.trial or (self._opened_at is None and self.failures >= self.failure_threshold):
                self._opened_at = self.clock.now()
                self.opened += 1

    def _claim_trial(self, record: str | None) -> tuple[str, Permit | None]:
        """In the store's transaction: take a trial slot if the shared breaker is half-open and one is free."""
        now = self.clock.now()
        shared = self._load(record, now)
        permit: Permit | None = None
        if shared.opened_at is None:
            permit = Permit(trial=False, timeout=None)
        elif now - shared.opened_at >= self.reset_after:
            # A worker that died mid-trial never frees its slot: a claim older than a trial can last has lapsed.
            lease = self.trial_timeout if self.trial_timeout is not None else self.reset_after
            if shared.trial_at is not None and now - shared.trial_at > lease:
                shared.trials = 0
            if shared.trials < self.trials:
                shared.trials += 1
                shared.trial_at = now
                permit = Permit(trial=True, timeout=self.trial_timeout)
        return shared.dump(), permit

    def _record_outcome(self, record: str | None, trial: bool, outcome: _Outcome) -> tuple[str, None]:
        """In the store's transaction: the same transitions as the in-process breaker, on the shared state."""
        now = self.clock.now()
        shared = self._load(record, now)
        if trial:
            shared.trials = max(0, shared.trials - 1)
        if outcome == 'success':
            shared.failures = 0
            if trial:
                shared.opened_at = None
        elif outcome == 'failure':
            shared.failures += 1
            if trial or (shared.opened_at is None and shared.failures >= self.failure_threshold):
                shared.opened_at = now
                shared.opened += 1
        self._cache(shared, now)
        return shared.dump(), None

    def _load(self, record: str | None, now: float) -> _SharedState:
        shared = _SharedState.load(record)
        self._cache(shared, now)
        return shared

    def _cache(self, shared: _SharedState, now: float) -> None:
        self.failures, self.opened, self._opened_at, self._read_at = (
            shared.failures,
            shared.opened,
            shared.opened_at,
            now,
        )

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


@dataclass(kw_only=True)
class _SharedState:
    """A breaker's state as a store keeps it, one JSON object per breaker name."""

    failures: int = 0
    opened: int = 0
    opened_at: float | None = None
    trials: int = 0
    """Trials running across every worker."""
    trial_at: float | None = None
    """When the latest trial slot was taken."""

    @classmethod
    def load(cls, record: str | None) -> _SharedState:
        if not record:
            return cls()
        data = json.loads(record)
        return cls(
            failures=int(data['failures']),
            opened=int(data['opened']),
            opened_at=data['opened_at'],
            trials=int(data['trials']),
            trial_at=data['trial_at'],
        )

    def dump(self) -> str:
        return json.dumps(
            {
                'failures': self.failures,
                'opened': self.opened,
                'opened_at': self.opened_at,
                'trials': self.trials,
                'trial_at': self.trial_at,
            }
        )
