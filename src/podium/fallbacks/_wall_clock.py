"""`WallClock`: a clock that worker processes on different machines agree on, for limits kept in a shared store."""

from __future__ import annotations

import time

import anyio

__all__ = ('WallClock',)


class WallClock:
    """Seconds since the epoch (`time.time()`) and `anyio.sleep`.

    A breaker, budget or rate limit shared through a `PostgresLimitStore` by workers on several machines stores
    times that every worker compares, so they need a clock all of them read alike: the monotonic default is one per
    machine. NTP keeps wall clocks within milliseconds of each other; a step of the clock shifts a window by as much.
    """

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)
