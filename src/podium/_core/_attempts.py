"""Where attempts go: each model request a `RetryingModel` makes is reported to the records that asked for them.

A record cannot be reached from inside a model call, so the attempts travel through a context variable, as
`current_flow()` does: a wrapper opens a collector around each try, and every collector open in the context gets the
attempt, so a wrapper's record shows every request made beneath it, however deeply nested.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass

from ._records import Attempt

__all__ = ('collect_attempts', 'notable', 'record_attempt')


@dataclass(eq=False)
class _Collector:
    attempts: list[Attempt]
    parent: _Collector | None


_collector: ContextVar[_Collector | None] = ContextVar('podium_attempt_collector', default=None)


def collect_attempts() -> AbstractContextManager[list[Attempt]]:
    """Collect, into the list yielded, every model attempt made in this context until the block ends.

    Tasks started inside the block inherit the collector, so requests made by concurrent steps are collected too.
    """
    return _Collecting()


class _Collecting:
    """`collect_attempts` as a plain context manager: one opens around every agent call, so it avoids a generator."""

    __slots__ = ('_token',)

    def __enter__(self) -> list[Attempt]:
        collector = _Collector([], _collector.get())
        self._token = _collector.set(collector)
        return collector.attempts

    def __exit__(self, *exc_info: object) -> None:
        _collector.reset(self._token)


def record_attempt(attempt: Attempt) -> None:
    """Report a model attempt to every collector open in this context (none: it is dropped)."""
    collector = _collector.get()
    while collector is not None:
        collector.attempts.append(attempt)
        collector = collector.parent


def notable(attempts: Sequence[Attempt]) -> bool:
    """Whether `attempts` say more than "one clean request": more than one, or any that failed."""
    return len(attempts) > 1 or any(a.error is not None for a in attempts)
