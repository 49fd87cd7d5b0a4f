"""`run_within`: bound one model attempt by a time limit, with one timer per event loop instead of one per attempt.

Every model request podium sends has a deadline (60 s by default), so the limit is armed on every request, nearly
always to be disarmed a moment later. An anyio cancel scope costs a timer handle, task-state bookkeeping and a
weak-dictionary lookup per request, about as much CPU as podium's whole lean call; and a disarmed asyncio timer
stays in the loop's heap, holding the request's context, until the loop next runs. On asyncio a single watchdog per
loop keeps every deadline in one heap instead, and cancels a task the way `asyncio.timeout` does (counting its
own cancellation, so a cancellation from outside is never mistaken for the limit). Elsewhere an anyio scope does it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable
from typing import TypeVar
from weakref import WeakKeyDictionary

import anyio

__all__ = ('LimitExpired', 'run_within')

T = TypeVar('T')

_COMPACT_AT = 64
"""Finished entries the heap may hold before it is rebuilt (once they are also half of it)."""


class LimitExpired(Exception):
    """Raised by `run_within` when the limit passed before the call finished; the call was cancelled."""


class _Watch:
    """One call under a limit: the task to cancel, until the call ends and drops it."""

    __slots__ = ('cancelling', 'expired', 'task')

    def __init__(self, task: asyncio.Task[object], cancelling: int) -> None:
        self.task: asyncio.Task[object] | None = task
        self.cancelling = cancelling
        """How many cancellations the task had pending when the call started: more at the end came from outside."""
        self.expired = False


class _Watchdog:
    """Every limit of one event loop, in a heap by deadline, with a single timer armed for the earliest."""

    __slots__ = ('_armed_at', '_finished', '_handle', '_heap', '_loop', '_order')

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._handle: asyncio.TimerHandle | None = None
        self._armed_at = 0.0
        self._finished = 0

    def watch(self, task: asyncio.Task[object], seconds: float) -> _Watch:
        when = self._loop.time() + seconds
        watch = _Watch(task, task.cancelling())
        heapq.heappush(self._heap, (when, next(self._order), watch))
        if self._handle is None or when < self._armed_at:
            self._arm(when)
        return watch

    def finish(self, watch: _Watch) -> None:
        watch.task = None
        self._finished += 1
        if self._finished > _COMPACT_AT and 2 * self._finished > len(self._heap):
            self._heap = [entry for entry in self._heap if entry[2].task is not None]
            heapq.heapify(self._heap)
            self._finished = 0

    def _arm(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._loop.call_at(when, self._fire)
        self._armed_at = when

    def _fire(self) -> None:
        self._handle = None
        heap, due = self._heap, max(self._loop.time(), self._armed_at)
        while heap and heap[0][0] <= due:
            watch = heapq.heappop(heap)[2]
            if watch.task is None:
                self._finished = max(0, self._finished - 1)
            else:
                watch.expired = True
                watch.task.cancel()
        if heap:
            self._arm(heap[0][0])


_watchdogs: WeakKeyDictionary[asyncio.AbstractEventLoop, _Watchdog] = WeakKeyDictionary()


async def run_within(call: Callable[[], Awaitable[T]], seconds: float) -> T:
    """`await call()`, cancelled after `seconds`; raises `LimitExpired` then, and passes anything else through."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # another event loop (trio): anyio's scope works there
        loop = None
    task = asyncio.current_task() if loop is not None else None
    if loop is None or task is None:
        with anyio.move_on_after(seconds):
            return await call()
        raise LimitExpired
    watchdog = _watchdogs.get(loop)
    if watchdog is None:
        watchdog = _watchdogs[loop] = _Watchdog(loop)
    watch = watchdog.watch(task, seconds)
    try:
        return await call()
    except asyncio.CancelledError:
        if watch.expired:
            watch.expired = False
            # As `asyncio.timeout` decides: the limit's own cancellation, and none from outside, was pending.
            if task.uncancel() <= watch.cancelling:
                raise LimitExpired from None
        raise
    finally:
        watchdog.finish(watch)
        if watch.expired:  # the call swallowed the limit's cancellation: take it back
            task.uncancel()
