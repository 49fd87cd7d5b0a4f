"""Worker processes for the shared-limits tests: each builds its limiter on the store it is given and reports back.

Spawned with multiprocessing's `spawn` method, so each is a fresh interpreter that shares nothing with the test but
the store's file or database.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event
from typing import TypeVar

import anyio
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, UserPromptPart
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.function import AgentInfo, FunctionModel

from podium.fallbacks import CircuitBreaker, LimitStore, RateLimit, RateLimitExhausted, RetryBudget, RetryingModel

T = TypeVar('T')

MINUTE_PER_SECOND = 60.0
"""How much faster the tests' shared clock runs than real time: a rate limit's minute passes in one second."""


class FastClock:
    """Wall time sped up `MINUTE_PER_SECOND` times: one clock every process reads alike, without waiting minutes."""

    def __init__(self) -> None:
        self.last = 0.0
        """The time last read."""

    def now(self) -> float:
        self.last = time.time() * MINUTE_PER_SECOND
        return self.last

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds / MINUTE_PER_SECOND)


class GrantLog:
    """A store that notes the time each grant was decided at: the clock's last reading, inside the transaction.

    Where the model notes a request's arrival instead, a worker descheduled between grant and send (three workers
    and a database on two cores) shifts it by tens of milliseconds, which `FastClock` turns into seconds.
    """

    def __init__(self, store: LimitStore, clock: FastClock) -> None:
        self.store, self.clock, self.grants = store, clock, list[float]()

    def update(self, key: str, change: Callable[[str | None], tuple[str, T]]) -> T:
        def noted(record: str | None) -> tuple[str, T]:
            new, result = change(record)
            if result is None:
                self.grants.append(self.clock.last)
            return new, result

        return self.store.update(key, noted)

    def read(self, key: str) -> str | None:
        return self.store.read(key)


def send_for(store: LimitStore, key: str, requests_per_minute: int, seconds: float) -> tuple[list[float], int]:
    """Send requests through a rate-limited `RetryingModel` for `seconds`; return the grant times and requests sent."""
    clock = FastClock()
    log = GrantLog(store, clock)
    sent = 0

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        nonlocal sent
        sent += 1
        return ModelResponse(parts=[TextPart('ok')])

    limit = RateLimit(requests_per_minute=requests_per_minute, key=key, store=log, clock=clock)
    model = RetryingModel(FunctionModel(respond), deadline=None, rate_limit=limit, clock=clock)
    request = [ModelRequest(parts=[UserPromptPart('hi')])]

    async def main() -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            with contextlib.suppress(RateLimitExhausted):
                await model.request(request, None, ModelRequestParameters())

    anyio.run(main)
    return log.grants, sent


def call_until_open(store: LimitStore, name: str, ready: Event, seconds: float) -> tuple[int, float | None]:
    """Call through a shared breaker every 5 ms until it refuses; return the calls made and when the last one was."""
    breaker = CircuitBreaker(name=name, failure_threshold=3, reset_after=600, store=store)
    calls, last = 0, None

    async def main() -> None:
        nonlocal calls, last
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            permit = breaker.acquire()
            if permit is None:
                break
            calls, last = calls + 1, time.time()
            breaker.release(permit, None)
            ready.set()
            await anyio.sleep(0.005)

    anyio.run(main)
    return calls, last


def withdraw(store: LimitStore, name: str, tries: int) -> int:
    """Try to spend `tries` retries from a shared budget that never refills; return how many it got."""
    budget = RetryBudget(name=name, ratio=0, per_second=0, capacity=6, store=store)
    return sum(budget.withdraw() for _ in range(tries))
