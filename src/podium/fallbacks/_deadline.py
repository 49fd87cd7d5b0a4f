"""Time limits on model attempts, with one timer per event loop instead of one per attempt.

Every model request podium sends has a deadline (60 s by default), so a limit is armed on every request, nearly
always to be disarmed a moment later. An anyio cancel scope costs a timer handle, task-state bookkeeping and a
weak-dictionary lookup per request, about as much CPU as the rest of a lean call; and a disarmed asyncio timer stays
in the loop's heap, holding the request's context, until the loop next runs. On asyncio a single watchdog per loop
keeps every limit in one heap instead, and cancels a task the way `asyncio.timeout` does, counting its own
cancellation, so a cancellation from outside is never taken for the limit. Without a running asyncio task `arm`
returns `None` and the caller uses an anyio scope.

    watch = arm(seconds)
    try:
        return await call()
    except asyncio.CancelledError:
        if expired(watch):
            raise TimeoutError from None  # the limit's own cancellation
        raise
    finally:
        disarm(watch)
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

__all__ = ('Watch', 'arm', 'disarm', 'expired')

_COMPACT_AT = 64
"""Finished entries the heap may hold before it is rebuilt (once they are also half of it)."""


class Watch:
    """One call under a limit: the task to cancel, until the call ends and drops it."""

    __slots__ = ('cancelling', 'expired', 'task', 'watchdog')

    def __init__(self, watchdog: _Watchdog, task: asyncio.Task[object], cancelling: int) -> None:
        self.watchdog = watchdog
        self.task: asyncio.Task[object] | None = task
        self.cancelling = cancelling
        """How many cancellations the task had pending when the call started: more at the end came from outside."""
        self.expired = False


class _Watchdog:
    """Every limit of one event loop, in a heap by deadline, with a single timer armed for the earliest."""

    __slots__ = ('_armed_at', '_finished', '_handle', '_heap', '_order', 'loop')

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._handle: asyncio.TimerHandle | None = None
        self._armed_at = 0.0
        self._finished = 0

    def watch(self, task: asyncio.Task[object], seconds: float) -> Watch:
        when = self.loop.time() + seconds
        watch = Watch(self, task, task.cancelling())
        heapq.heappush(self._heap, (when, next(self._order), watch))
        if self._handle is None or when < self._armed_at:
            self._arm(when)
        return watch

    def finish(self, watch: Watch) -> None:
        watch.task = None
        self._finished += 1
        if self._finished > _COMPACT_AT and 2 * self._finished > len(self._heap):
            self._heap = [entry for entry in self._heap if entry[2].task is not None]
            heapq.heapify(self._heap)
            self._finished = 0

    def _arm(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self.loop.call_at(when, self._fire)
        self._armed_at = when

    def _fire(self) -> None:
        self._handle = None
        heap, due = self._heap, max(self.loop.time(), self._armed_at)
        while heap and heap[0][0] <= due:
            watch = heapq.heappop(heap)[2]
            if watch.task is None:
                self._finished = max(0, self._finished - 1)
            else:
                watch.expired = True
                watch.task.cancel()
        if heap:
            self._arm(heap[0][0])


_watchdog: _Watchdog | None = None
"""The watchdog of the loop that armed a limit last: a process runs one event loop at a time, as a rule."""


def arm(seconds: float) -> Watch | None:
    """Cancel the current task after `seconds`, unless `disarm` comes first; `None` outside an asyncio task."""
    global _watchdog
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # another event loop (trio)
        return None
    task = asyncio.current_task(loop)
    if task is None:
        return None
    watchdog = _watchdog
    if watchdog is None or watchdog.loop is not loop:
        watchdog = _watchdog = _Watchdog(loop)
    return watchdog.watch(task, seconds)


def expired(watch: Watch) -> bool:
    """Whether the `CancelledError` being handled is the limit's own, and no cancellation from outside is pending."""
    if not watch.expired or watch.task is None:
        return False
    watch.expired = False
    return watch.task.uncancel() <= watch.cancelling  # as `asyncio.timeout` decides


def disarm(watch: Watch) -> None:
    """End the limit; a cancellation it made that the call swallowed is taken back."""
    task = watch.task
    if task is None:
        return
    if watch.expired:
        task.uncancel()
    watch.watchdog.finish(watch)
