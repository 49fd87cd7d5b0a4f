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

    __slots__ = ('armed_at', 'finished', 'handle', 'heap', 'loop', 'order')

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.heap: list[tuple[float, int, Watch]] = []
        self.order = itertools.count()
        self.handle: asyncio.TimerHandle | None = None
        self.armed_at = 0.0
        self.finished = 0

    def finish(self) -> None:
        """Count a finished watch; rebuild the heap once finished ones are most of it."""
        self.finished += 1
        if self.finished > _COMPACT_AT and 2 * self.finished > len(self.heap):
            self.heap = [entry for entry in self.heap if entry[2].task is not None]
            heapq.heapify(self.heap)
            self.finished = 0

    def arm_at(self, when: float) -> None:
        if self.handle is not None:
            self.handle.cancel()
        self.handle = self.loop.call_at(when, self._fire)
        self.armed_at = when

    def _fire(self) -> None:
        self.handle = None
        heap, due = self.heap, max(self.loop.time(), self.armed_at)
        while heap and heap[0][0] <= due:
            watch = heapq.heappop(heap)[2]
            if watch.task is None:
                self.finished = max(0, self.finished - 1)
            else:
                watch.expired = True
                watch.task.cancel()
        if heap:
            self.arm_at(heap[0][0])


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
    when = loop.time() + seconds
    watch = Watch(watchdog, task, task.cancelling())
    heapq.heappush(watchdog.heap, (when, next(watchdog.order), watch))
    if watchdog.handle is None or when < watchdog.armed_at:
        watchdog.arm_at(when)
    return watch


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
    watch.task = None
    if watch.expired:
        task.uncancel()
    watch.watchdog.finish()
