"""What a run leaves behind: one `StepRecord` per step, and the `RunResult`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeAlias

from pydantic_ai.usage import RunUsage
from pydantic_core import to_jsonable_python
from typing_extensions import TypeVar

from ._errors import RecordNotFound

__all__ = ('Attempt', 'JSONValue', 'RunResult', 'RunStatus', 'StepRecord', 'StepStatus', 'usage_summary')

OutT_co = TypeVar('OutT_co', covariant=True)

JSONValue: TypeAlias = 'str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None'
StepStatus: TypeAlias = Literal['ok', 'degraded', 'failed', 'cancelled']
RunStatus: TypeAlias = Literal['ok', 'degraded']
Scalar: TypeAlias = str | int | float | bool


@dataclass(frozen=True, kw_only=True, slots=True)
class Attempt:
    """One try at a step, kept so a reader can tell why a run took the path it took."""

    number: int
    """1 for the first try."""
    model: str | None = None
    """The model that answered or failed, when the attempt called one."""
    error: str | None = None
    """Exception class name, or `None` when the attempt succeeded."""
    status_code: int | None = None
    """HTTP status of a failed provider call."""
    waited_s: float = 0.0
    """Time slept before this attempt (backoff or `Retry-After`)."""
    duration_s: float = 0.0
    """Time the attempt itself took."""
    retry_after_s: float | None = None
    """The wait the provider asked for (`Retry-After`, `retry-after-ms`), when it did."""
    note: str | None = None
    """What else a reader needs: `phase=connect`, `possibly billed` (the request was sent before it broke), ..."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StepRecord:
    """What one step did in one run."""

    name: str
    """The step's name."""
    kind: str
    """What sort of step: `agent`, `function`, `router`, `branch`, `loop`, `tool`, ..."""
    status: StepStatus
    """`ok`, `degraded` (a fallback produced the output), `failed`, or `cancelled` (the run was stopped while the
    step ran, e.g. a stream's consumer left)."""
    output: object = None
    """The step's typed output; `None` when it failed."""
    route: str | None = None
    """For routers and branches: the way the input went."""
    confidence: float | None = None
    """For LLM routers: the decision's confidence."""
    reason: str | None = None
    """For LLM routers: the decision's stated reason."""
    fallback_reason: str | None = None
    """Why a fallback or degraded path was taken, when one was."""
    model: str | None = None
    """Name of the model that produced the output, when a model did."""
    path: Literal['lean', 'agent'] | None = None
    """For agent steps: whether the model was called directly (lean) or through `Agent.run`."""
    attempts: tuple[Attempt, ...] = ()
    """Every try, when the step retried or fell back."""
    usage: RunUsage = field(default_factory=RunUsage)
    """Usage of this step's own model calls."""
    duration_s: float = 0.0
    """Wall time of the step, nested steps included."""
    error: str | None = None
    """`ExceptionClass: message` when the step failed, secrets in the message redacted."""
    detail: Mapping[str, Scalar] = field(default_factory=dict[str, Scalar])
    """Step-specific facts, such as a loop's iterations and stop reason."""

    def summary(self) -> dict[str, JSONValue]:
        """A stable dict for snapshots: no durations, ids or timestamps, and no empty fields."""
        out: dict[str, JSONValue] = {'name': self.name, 'kind': self.kind, 'status': self.status}
        for key in ('route', 'confidence', 'reason', 'fallback_reason', 'model', 'path', 'error'):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.detail:
            out['detail'] = dict(self.detail)
        if self.attempts:
            out['attempts'] = [_attempt_summary(a) for a in self.attempts]
        if self.usage.requests or self.usage.input_tokens or self.usage.output_tokens:
            out['usage'] = usage_summary(self.usage)
        if self.output is not None and self.kind not in _PASS_THROUGH_KINDS:
            out['output'] = to_jsonable_python(self.output, fallback=repr)
        return out


_PASS_THROUGH_KINDS = frozenset({'router', 'branch', 'chain'})
"""Kinds whose output is their inner step's output; summaries show it once, on the inner step."""


def _attempt_summary(attempt: Attempt) -> dict[str, JSONValue]:
    out: dict[str, JSONValue] = {'number': attempt.number}
    if attempt.model is not None:
        out['model'] = attempt.model
    if attempt.error is not None:
        out['error'] = attempt.error
    if attempt.status_code is not None:
        out['status_code'] = attempt.status_code
    if attempt.note is not None:
        out['note'] = attempt.note
    return out


def usage_summary(usage: RunUsage) -> dict[str, JSONValue]:
    """The counts of a usage that matter to a reader, as a plain dict."""
    out: dict[str, JSONValue] = {
        'requests': usage.requests,
        'input_tokens': usage.input_tokens,
        'output_tokens': usage.output_tokens,
    }
    if usage.tool_calls:
        out['tool_calls'] = usage.tool_calls
    return out


@dataclass(frozen=True, kw_only=True)
class RunResult(Generic[OutT_co]):
    """The outcome of `Step.run`: the typed output and everything that led to it."""

    workflow: str
    """Name of the step that was run."""
    output: OutT_co
    """The typed output."""
    status: RunStatus
    """`degraded` when any fallback or default produced part of the output."""
    steps: tuple[StepRecord, ...]
    """One record per step, in start order."""
    usage: RunUsage
    """Usage summed over every model call of the run."""
    duration_s: float
    """Wall time of the run."""

    @property
    def degraded_reasons(self) -> tuple[str, ...]:
        """Why the run is degraded, one entry per degraded step."""
        return tuple(f'{r.name}: {r.fallback_reason}' for r in self.steps if r.status == 'degraded')

    def record(self, name: str) -> StepRecord:
        """The first record of the step called `name`; raises `RecordNotFound`, a `KeyError`, naming the steps."""
        for rec in self.steps:
            if rec.name == name:
                return rec
        raise RecordNotFound(f'no step named {name!r} ran; steps: {", ".join(r.name for r in self.steps)}')

    def summary(self) -> dict[str, JSONValue]:
        """A stable, snapshot-friendly dict: no timestamps, ids or durations."""
        return {
            'workflow': self.workflow,
            'status': self.status,
            'output': to_jsonable_python(self.output, fallback=repr),
            'steps': [r.summary() for r in self.steps],
            'usage': usage_summary(self.usage),
        }
