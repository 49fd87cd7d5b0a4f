"""pydantic-evals evaluators that read a run's records: the route taken, each step's output, how the run went.

Each result is named after the step it judges, `'<step>.<check>'`, which is what lets a failed case be attributed to
the first step that went wrong. Results of checks on the final output carry no step name (they judge the step that
produced the output); results of `TraceChecks` are named `'trace.<check>'` and blame the step the trace points at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias, cast

from pydantic_core import to_jsonable_python
from pydantic_evals.evaluators import EvaluationReason, Evaluator, EvaluatorContext, EvaluatorOutput

from .._core._records import RunResult, StepRecord
from ..guards._trips import tripped_guards

__all__ = (
    'EXPECTED_ROUTE_LABEL',
    'ROUTE_LABEL',
    'ExpectBlocked',
    'ExpectOutput',
    'ExpectRoute',
    'ExpectStep',
    'OnOutput',
    'OnStep',
    'TraceChecks',
    'is_trace_check',
    'trace_culprit',
)

RunContext: TypeAlias = EvaluatorContext[Any, RunResult[Any], Any]

ROUTE_LABEL = 'route'
"""Label holding the route a case actually took; the confusion matrix's predicted axis."""
EXPECTED_ROUTE_LABEL = 'expected_route'
"""Label holding the route a case expected; the confusion matrix's expected axis."""
NO_FALLBACK, NOT_DEGRADED, MAX_REQUESTS = TRACE_CHECKS = (
    'trace.no_fallback',
    'trace.not_degraded',
    'trace.max_requests',
)
"""Names of the `TraceChecks` results."""


def _find(result: RunResult[Any], step: str) -> StepRecord | None:
    return next((r for r in result.steps if r.name == step), None)


def _mismatches(expected: object, actual: object, path: str = '') -> list[str]:
    """Where `actual` differs from `expected`; mappings match partially (only the keys given are compared)."""
    where = f'{path}: ' if path else ''
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f'{where}expected an object, got {actual!r}']
        found: list[str] = []
        for key, value in expected.items():  # pyright: ignore[reportUnknownVariableType]
            inner = f'{path}.{key}' if path else str(key)  # pyright: ignore[reportUnknownArgumentType]
            if key not in actual:
                found.append(f'{inner}: missing')
            else:
                found.extend(_mismatches(value, actual[key], inner))  # pyright: ignore[reportUnknownArgumentType]
        return found
    return [] if expected == actual else [f'{where}expected {expected!r}, got {actual!r}']


def _match(expected: object, output: object) -> EvaluationReason:
    problems = _mismatches(to_jsonable_python(expected), to_jsonable_python(output, fallback=repr))
    return EvaluationReason(value=not problems, reason='; '.join(problems) or None)


def _scoped(prefix: str, output: EvaluatorOutput, default_name: str) -> dict[str, Any]:
    """Name an evaluator's results after the step they judge."""
    if isinstance(output, Mapping):
        return {f'{prefix}{name}': value for name, value in output.items()}
    return {f'{prefix}{default_name}': output}


def _did_not_run(record: StepRecord | None, step: str) -> str | None:
    if record is None:
        return f'step {step!r} did not run'
    if record.status == 'failed':
        return f'step {step!r} failed: {record.error}'
    return None


@dataclass(repr=False)
class ExpectRoute(Evaluator[Any, RunResult[Any], Any]):
    """Checks the route a router took; also labels the case with both routes, for the confusion matrix."""

    route: str
    """The route the case should take."""
    router: str | None = None
    """The router's step name; the first router that ran when omitted."""

    def evaluate(self, ctx: RunContext) -> EvaluatorOutput:
        result = ctx.output
        record = (
            _find(result, self.router)
            if self.router is not None
            else next((r for r in result.steps if r.kind == 'router'), None)
        )
        name = f'{record.name if record is not None else self.router or "router"}.route'
        out: dict[str, EvaluationReason | str] = {EXPECTED_ROUTE_LABEL: self.route}
        if record is None or record.route is None:
            out[name] = EvaluationReason(value=False, reason='no router ran')
            return out
        out[ROUTE_LABEL] = record.route
        ok = record.route == self.route
        why = f' ({record.fallback_reason})' if record.fallback_reason else ''
        out[name] = EvaluationReason(
            value=ok, reason=None if ok else f'expected {self.route!r}, got {record.route!r}{why}'
        )
        return out


@dataclass(repr=False)
class ExpectStep(Evaluator[Any, RunResult[Any], Any]):
    """Checks an intermediate output: the fields given must match (others are ignored); a non-mapping must equal."""

    step: str
    """The step whose output is checked."""
    expected: Any
    """E.g. `{'urgency': 'high'}`; nested mappings match partially too."""

    def evaluate(self, ctx: RunContext) -> EvaluatorOutput:
        record = _find(ctx.output, self.step)
        problem = _did_not_run(record, self.step)
        if problem is not None or record is None:
            return {f'{self.step}.output': EvaluationReason(value=False, reason=problem)}
        return {f'{self.step}.output': _match(self.expected, record.output)}


@dataclass(repr=False)
class ExpectOutput(Evaluator[Any, RunResult[Any], Any]):
    """Checks the workflow's final output, partially as `ExpectStep` does; judged against the step that produced it."""

    expected: Any
    """E.g. `{'escalated': True}`."""

    def evaluate(self, ctx: RunContext) -> EvaluationReason:
        return _match(self.expected, ctx.output.output)

    def get_default_evaluation_name(self) -> str:
        return 'output'


@dataclass(repr=False)
class OnStep(Evaluator[Any, RunResult[Any], Any]):
    """Runs any evaluator (an `LLMJudge`, say) on one step's output instead of the run's.

    The wrapped evaluator sees the case's inputs and metadata, the step's output and duration, and `expected` as the
    expected output. Its results are named `'<step>.<name>'`.
    """

    step: str
    """The step whose output is evaluated."""
    evaluator: Evaluator[Any, Any, Any]
    """The evaluator to run on it."""
    expected: Any = field(default=None)
    """Handed to the evaluator as `expected_output`."""

    async def evaluate(self, ctx: RunContext) -> EvaluatorOutput:
        record = _find(ctx.output, self.step)
        name = self.evaluator.get_default_evaluation_name()
        problem = _did_not_run(record, self.step)
        if problem is not None or record is None:
            return {f'{self.step}.{name}': EvaluationReason(value=False, reason=problem)}
        step_ctx = replace(
            ctx, output=cast(Any, record.output), expected_output=self.expected, duration=record.duration_s
        )
        return _scoped(f'{self.step}.', await self.evaluator.evaluate_async(step_ctx), name)


@dataclass(repr=False)
class OnOutput(Evaluator[Any, RunResult[Any], Any]):
    """Runs any evaluator on the workflow's typed final output rather than on the `RunResult`."""

    evaluator: Evaluator[Any, Any, Any]
    """The evaluator to run on the output."""
    expected: Any = field(default=None)
    """Handed to the evaluator as `expected_output`."""

    async def evaluate(self, ctx: RunContext) -> EvaluatorOutput:
        output_ctx = replace(ctx, output=ctx.output.output, expected_output=self.expected)
        return await self.evaluator.evaluate_async(output_ctx)

    def get_default_evaluation_name(self) -> str:
        return self.evaluator.get_default_evaluation_name()


@dataclass(repr=False)
class ExpectBlocked(Evaluator[Any, RunResult[Any], Any]):
    """Checks which guard stopped the run (blocked it, sent it to a safe response, or redacted it), if any.

    Named `'<guard>.blocked'` after the guard it judges, so a missed or wrong trip is attributed to that guard.
    """

    guard: str | None = None
    """The guard that should trip; `None` when no guard should."""

    def evaluate(self, ctx: RunContext) -> EvaluatorOutput:
        """One result per guard that ran, `'<guard>.blocked'`: whether it tripped exactly when it should have."""
        tripped = set(tripped_guards(ctx.output))
        out: dict[str, EvaluationReason] = {}
        for record in ctx.output.steps:
            if record.kind != 'guard' or f'{record.name}.blocked' in out:
                continue
            should = record.name == self.guard
            ok = (record.name in tripped) == should
            why = None
            if not ok:
                said = f'{record.route}: {record.reason}' if record.reason else record.route
                why = (
                    f'expected {record.name!r} to trip, it did not ({said})'
                    if should
                    else (f'{record.name!r} tripped ({said}), expected it not to')
                )
            out[f'{record.name}.blocked'] = EvaluationReason(value=ok, reason=why)
        if self.guard is not None and f'{self.guard}.blocked' not in out:
            out[f'{self.guard}.blocked'] = EvaluationReason(value=False, reason=f'guard {self.guard!r} did not run')
        return out


@dataclass(repr=False)
class TraceChecks(Evaluator[Any, RunResult[Any], Any]):
    """Checks how the run went, from its records: no fallback fired, nothing degraded, few enough model requests."""

    no_fallback: bool = False
    """Fail when any step took a fallback (a router's fallback route, a retry's alternate, a default)."""
    not_degraded: bool = False
    """Fail when the run's status is `degraded`."""
    max_requests: int | None = None
    """Fail when the run made more model requests than this."""

    def evaluate(self, ctx: RunContext) -> EvaluatorOutput:
        result = ctx.output
        out: dict[str, EvaluationReason] = {}
        if self.no_fallback:
            culprit = trace_culprit(NO_FALLBACK, result)
            record = _find(result, culprit) if culprit is not None else None
            reason = f'{culprit} fell back: {record.fallback_reason}' if record is not None else None
            out[NO_FALLBACK] = EvaluationReason(value=record is None, reason=reason)
        if self.not_degraded:
            reasons = result.degraded_reasons
            out[NOT_DEGRADED] = EvaluationReason(value=not reasons, reason='; '.join(reasons) or None)
        if self.max_requests is not None:
            requests = result.usage.requests
            ok = requests <= self.max_requests
            reason = None if ok else f'{requests} model requests, at most {self.max_requests} allowed'
            out[MAX_REQUESTS] = EvaluationReason(value=ok, reason=reason)
        return out


def is_trace_check(check: str) -> bool:
    """Whether `check` names a `TraceChecks` result (pydantic-evals may have suffixed a repeated name)."""
    return check.startswith(TRACE_CHECKS)


def trace_culprit(check: str, result: RunResult[Any]) -> str | None:
    """The step a failed trace check blames.

    The first step that fell back or degraded; for too many requests, the step that made the most (the first of
    equals), since that is where the budget went.
    """
    steps = result.steps
    if check.startswith(NO_FALLBACK):
        return next((r.name for r in steps if r.fallback_reason is not None), None)
    if check.startswith(NOT_DEGRADED):
        return next((r.name for r in steps if r.status == 'degraded'), None)
    if check.startswith(MAX_REQUESTS) and steps:
        return max(steps, key=lambda r: r.usage.requests).name
    return None
