"""`RateLimit`: requests and tokens per minute, per model or per provider, kept before each request is sent.

Its error, `RateLimitExhausted`, stands beside `ModelCircuitOpenError` in `podium._core._errors`, for the same
reason: Pydantic-AI's `FallbackModel` moves on from a `ModelAPIError`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from .._core._classify import mark_exhausted
from .._core._errors import ConfigurationError, RateLimitExhausted
from ._clock import SYSTEM_CLOCK, Clock
from ._limit_store import InProcessLimitStore, LimitStore

__all__ = ('RateLimit',)

_WINDOW = 60.0
_SLICES = 60  # the window is counted in 1-second slices: a few dozen bytes of state, and at most 1 s of idle capacity
_SLICE = _WINDOW / _SLICES
_WAKE_MARGIN = 0.001  # sleep a hair past the slice boundary, so a timer that fires early does not find it closed


class RateLimit:
    """At most `requests_per_minute` requests and `tokens_per_minute` tokens in any 60 seconds, per key.

    Give it to `RetryingModel(rate_limit=...)`: each attempt waits for capacity before it is sent, for at most the
    request's remaining deadline and `max_wait` (by default just over the longest wait a minute's window can ask),
    and fails with `RateLimitExhausted` when capacity will not come in
    time. The key is `key` when given, so one limit shared by several models holds for the whole provider account,
    else the model's name, so each model has its own. Tokens are counted when a response reports its usage, so a
    request is let through while the window's tokens are under the limit, and may take it over by its own size.

    The window is counted in 1-second slices, and a slice that overlaps the last 60 s counts whole: no 60 s ever holds
    more than the limit, at the cost of up to a second of capacity left idle. The counts live in `store`: by default
    in this process, or in a `SQLiteLimitStore` or `PostgresLimitStore` shared by worker processes, where they
    must read a clock that all of them share (the default monotonic clock is one per machine).
    """

    def __init__(
        self,
        *,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        key: str | None = None,
        store: LimitStore | None = None,
        max_wait: float = 65.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if requests_per_minute is None and tokens_per_minute is None:
            raise ConfigurationError('RateLimit needs requests_per_minute, tokens_per_minute or both')
        for name, value in (('requests_per_minute', requests_per_minute), ('tokens_per_minute', tokens_per_minute)):
            if value is not None and value < 1:
                raise ConfigurationError(f'RateLimit {name} must be at least 1 or None, got {value}')
        if max_wait < 0:
            raise ConfigurationError(f'RateLimit max_wait must not be negative, got {max_wait}')
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self.key = key
        self.store: LimitStore = store if store is not None else InProcessLimitStore()
        self.max_wait = max_wait
        self.clock = clock
        self.waited = 0.0
        """Seconds this process's requests spent waiting for capacity."""
        self.denied = 0
        """Requests of this process that failed with `RateLimitExhausted`."""

    async def acquire(self, model_name: str, *, within: float | None = None) -> None:
        """Wait until one more request to `model_name` fits, for at most `within` seconds and `max_wait`.

        Raises:
            RateLimitExhausted: when the capacity will not come back in time; nothing is waited for then.
        """
        key = self._store_key(model_name)
        clock = self.clock
        bound = self.max_wait if within is None else min(within, self.max_wait)
        started = clock.now()
        while True:
            wait = self.store.update(key, self._take)
            if wait is None:
                return
            left = bound - (clock.now() - started)
            if wait > left:
                self.denied += 1
                error = RateLimitExhausted(
                    model_name,
                    f'rate limit {key!r} has no capacity for {wait:.1f} s, more than the {max(left, 0.0):.1f} s '
                    'left to wait; nothing sent',
                )
                mark_exhausted(error)
                raise error
            await clock.sleep(wait + _WAKE_MARGIN)
            self.waited += wait + _WAKE_MARGIN

    def record(self, model_name: str, tokens: int) -> None:
        """Count the `tokens` a response to `model_name` used (a no-op without `tokens_per_minute`)."""
        if self.tokens_per_minute is None or tokens <= 0:
            return
        now = self.clock.now()

        def add(record: str | None) -> tuple[str, None]:
            window = _Window.load(record, now)
            window.add(now, requests=0, tokens=tokens)
            return window.dump(), None

        self.store.update(self._store_key(model_name), add)

    def _take(self, record: str | None) -> tuple[str, float | None]:
        """In the store's transaction: count one request if it fits, else say how long until one would."""
        now = self.clock.now()
        window = _Window.load(record, now)
        wait = window.wait(now, self.requests_per_minute, self.tokens_per_minute)
        if wait is None:
            window.add(now, requests=1, tokens=0)
        return window.dump(), wait

    def _store_key(self, model_name: str) -> str:
        return f'rate:{self.key or model_name}'

    def __repr__(self) -> str:
        return (
            f'RateLimit(requests_per_minute={self.requests_per_minute}, tokens_per_minute={self.tokens_per_minute}, '
            f'key={self.key!r})'
        )


@dataclass
class _Window:
    """Requests and tokens per 1-second slice, for the slices that overlap the last 60 seconds."""

    slices: dict[int, list[int]]
    """Slice number (seconds since the clock's zero) to `[requests, tokens]`."""

    @classmethod
    def load(cls, record: str | None, now: float) -> _Window:
        oldest = _slice(now - _WINDOW)
        slices: dict[int, list[int]] = {}
        if record:
            for number, requests, tokens in json.loads(record):
                if number >= oldest:
                    slices[int(number)] = [int(requests), int(tokens)]
        return cls(slices)

    def dump(self) -> str:
        return json.dumps([[number, *counts] for number, counts in sorted(self.slices.items())])

    def add(self, now: float, *, requests: int, tokens: int) -> None:
        counts = self.slices.setdefault(_slice(now), [0, 0])
        counts[0] += requests
        counts[1] += tokens

    def wait(self, now: float, requests_limit: int | None, tokens_limit: int | None) -> float | None:
        """`None` if one more request fits now, else the seconds until enough slices leave the window for it."""
        requests = sum(counts[0] for counts in self.slices.values())
        tokens = sum(counts[1] for counts in self.slices.values())
        for number in [None, *sorted(self.slices)]:
            if number is not None:
                requests -= self.slices[number][0]
                tokens -= self.slices[number][1]
            if (requests_limit is None or requests < requests_limit) and (
                tokens_limit is None or tokens < tokens_limit
            ):
                # The slice `number` counts until the window's start passes its end.
                return None if number is None else max(0.0, (number + 1) * _SLICE + _WINDOW - now)
        raise AssertionError('an empty window always has capacity')  # pragma: no cover


def _slice(t: float) -> int:
    return math.floor(t / _SLICE)
