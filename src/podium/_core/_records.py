"""What a run leaves behind: one `StepRecord` per step, and the `RunResult`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeAlias

from pydantic_ai.messages import ModelMessage
from pydantic_ai.usage import RunUsage
from pydantic_core import to_jsonable_python
from typing_extensions import TypeVar

from ._errors import ConfigurationError, OutputNotAvailable, RecordNotFound

__all__ = (
    'Attempt',
    'JSONValue',
    'PausedRun',
    'RunResult',
    'RunStatus',
    'StepRecord',
    'StepStatus',
    'usage_summary',
)

OutT_co = TypeVar('OutT_co', covariant=True)

JSONValue: TypeAlias = 'str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None'
StepStatus: TypeAlias = Literal['ok', 'degraded', 'failed', 'cancelled', 'paused']
RunStatus: TypeAlias = Literal['ok', 'degraded', 'paused']
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
    """`ok`, `degraded` (a fallback produced the output), `failed`, `cancelled` (the run was stopped while the
    step ran, e.g. a stream's consumer left) or `paused` (the run stopped at an approval inside it)."""
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


@dataclass(frozen=True, kw_only=True, slots=True)
class PausedRun:
    """Where a paused run waits: at an approval step, until `workflow.resume(token, decision)`."""

    token: str
    """What `resume` (and `podium runs approve|reject`) takes to find the run again in its store."""
    workflow: str
    """The name of the workflow that paused; only that workflow can resume it."""
    step: str
    """The approval step's name."""
    position: str
    """The approval step's position in the run (`workflow/chain/step#n`)."""
    summary: str
    """What the reviewer is shown (the approval's `summary`, or its input rendered)."""
    since: float
    """When the run paused (seconds since the epoch)."""
    expires_at: float
    """When the approval's timeout passes: a later decision resumes the run down the `timed_out` path."""


@dataclass(frozen=True, kw_only=True, init=False)
class RunResult(Generic[OutT_co]):
    """The outcome of `Step.run`: the typed output and everything that led to it.

    A run that reached an approval step returns a paused result instead: `status == 'paused'`, `paused` says where
    it waits and holds the resume token, and reading `output` raises `OutputNotAvailable`. One type rather than a
    union keeps every existing `result.output` typed as the workflow's output, and a caller that forgets the pause
    gets an error naming the token instead of a silent `None`.
    """

    workflow: str
    """Name of the step that was run."""
    status: RunStatus
    """`degraded` when any fallback or default produced part of the output; `paused` at an approval step."""
    steps: tuple[StepRecord, ...]
    """One record per step, in start order (of a paused run: the steps that finished before the pause)."""
    usage: RunUsage
    """Usage summed over every model call of the run."""
    duration_s: float
    """Wall time of the run."""
    paused: PausedRun | None = None
    """Where the run waits, when `status == 'paused'`; `None` otherwise."""
    message_history: tuple[ModelMessage, ...] | None = None
    """The conversation so far, when the run was one turn of it (`run(..., message_history=...)`)."""
    _output: Any = None
    _turn: tuple[ModelMessage, ...] = ()

    def __init__(
        self,
        *,
        workflow: str,
        output: OutT_co,
        status: RunStatus,
        steps: tuple[StepRecord, ...],
        usage: RunUsage,
        duration_s: float,
        paused: PausedRun | None = None,
        message_history: tuple[ModelMessage, ...] | None = None,
        _turn: tuple[ModelMessage, ...] = (),
        **extra: Any,
    ) -> None:
        values: dict[str, Any] = {
            'workflow': workflow,
            '_output': output,
            'status': status,
            'steps': steps,
            'usage': usage,
            'duration_s': duration_s,
            'paused': paused,
            'message_history': message_history,
            '_turn': _turn,
            **extra,
        }
        for key, value in values.items():
            object.__setattr__(self, key, value)  # a frozen dataclass sets its fields this way in its own __init__

    @property
    def output(self) -> OutT_co:
        """The typed output; raises `OutputNotAvailable` when the run is paused at an approval."""
        if self.paused is not None:
            raise OutputNotAvailable(
                f'the run of {self.workflow!r} paused at approval step {self.paused.step!r} and has no output yet: '
                f'resume it with `await workflow.resume({self.paused.token!r}, podium.Approve())` (or Reject/Edit)'
            )
        output: OutT_co = self._output
        return output

    def new_messages(self) -> list[ModelMessage]:
        """This turn of the conversation, to store and pass in the next turn's `message_history`.

        One request with the run's input as the user prompt and one response with the output: the workflow is one
        party of the conversation, whichever agents it ran inside (their own exchanges, such as extraction tool
        calls, are not the conversation).

        Raises:
            ConfigurationError: when the run was not given `message_history` (pass `[]` for the first turn).
            OutputNotAvailable: when the run is paused and has no answer yet.
        """
        if self.message_history is None:
            raise ConfigurationError(
                f'the run of {self.workflow!r} was not a conversation turn: pass message_history= to run() (an empty '
                'list for the first turn) to get its new messages'
            )
        self.output  # noqa: B018  # a paused turn has no answer: raise before handing out half a turn
        return list(self._turn)

    def all_messages(self) -> list[ModelMessage]:
        """The conversation so far: the history the run was given, then this turn's new messages."""
        turn = self.new_messages()
        return [*(self.message_history or ()), *turn]

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
        out: dict[str, JSONValue] = {
            'workflow': self.workflow,
            'status': self.status,
            'output': to_jsonable_python(self._output, fallback=repr),
            'steps': [r.summary() for r in self.steps],
            'usage': usage_summary(self.usage),
        }
        if self.paused is not None:
            out['paused'] = {'step': self.paused.step, 'position': self.paused.position, 'summary': self.paused.summary}
        return out
