"""Attribution: which step a check judges, and the first step, in run order, that went wrong in a case."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from .._core._records import RunResult
from ._evaluators import is_trace_check, trace_culprit

__all__ = ('first_wrong', 'judged_step', 'run_order')


def _named_step(check: str, steps: Collection[str]) -> str | None:
    """The step a `'<step>.<check>'` name starts with; the longest wins, as step names may contain dots."""
    return max((s for s in steps if check.startswith(f'{s}.')), key=len, default=None)


def _output_step(result: RunResult[Any]) -> str:
    """The step that produced the run's output: the last record holding that very object."""
    return next((r.name for r in reversed(result.steps) if r.output is result.output), result.workflow)


def judged_step(check: str, result: RunResult[Any], steps: Collection[str]) -> str | None:
    """The step whose output `check` judges; `None` for trace checks, which judge the run as a whole.

    A check that names no step judges the final output, so the step that produced it.
    """
    if is_trace_check(check):
        return None
    return _named_step(check, steps) or _output_step(result)


def run_order(result: RunResult[Any]) -> Callable[[str], int]:
    """A sort key for step names: where each first ran; steps that never ran sort after those that did."""
    first_index: dict[str, int] = {}
    for index, record in enumerate(result.steps):
        first_index.setdefault(record.name, index)
    return lambda step: first_index.get(step, len(first_index))


def first_wrong(failed: Sequence[str], result: RunResult[Any], steps: Collection[str]) -> tuple[str, list[str]]:
    """The first step, in run order, blamed by one of the `failed` checks, and those checks in that order."""

    def blamed(check: str) -> str:
        step = trace_culprit(check, result) if is_trace_check(check) else judged_step(check, result, steps)
        return step or result.workflow

    order = run_order(result)
    ranked = sorted(failed, key=lambda check: order(blamed(check)))
    return blamed(ranked[0]), ranked
