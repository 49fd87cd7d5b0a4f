"""The clock retries, breakers and budgets read: injectable, so tests check waits without waiting."""

from __future__ import annotations

import time
from typing import Protocol

import anyio
import anyio.lowlevel

__all__ = ('SYSTEM_CLOCK', 'Clock', 'SystemClock', 'VirtualClock')


class Clock(Protocol):
    """Where time comes from: `now()` in seconds on a monotonic scale, and `sleep`."""

    def now(self) -> float:
        """Seconds on a monotonic scale; only differences mean anything."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (backoff, `Retry-After`, a hedge's delay)."""
        ...


class SystemClock:
    """The real clock: `time.monotonic()` (what asyncio's loop time is) and `anyio.sleep`."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


SYSTEM_CLOCK = SystemClock()
"""The default clock; it holds no state."""


class VirtualClock:
    """Real time plus skipped sleeps, for tests.

    A sleep returns at once and moves the clock forward by its length, so a test asserts backoff and deadlines without
    waiting for them, while requests still take the time they really take. `sleeps` lists every sleep asked for.
    """

    def __init__(self) -> None:
        self.skipped = 0.0
        """Seconds of sleep skipped so far, `advance` included."""
        self.sleeps: list[float] = []
        """Every sleep asked for, in order."""

    def now(self) -> float:
        return time.monotonic() + self.skipped

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.skipped += seconds
        await anyio.lowlevel.checkpoint()

    def advance(self, seconds: float) -> None:
        """Move the clock forward, as if `seconds` had passed (to expire a breaker's open period, say)."""
        self.skipped += seconds
