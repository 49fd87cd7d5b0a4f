"""What a person can decide on an approval, what the approval outputs, and how a run waits for the decision.

The approval step (`_approval`) does not know how it waits. The run it is part of supplies an `ApprovalGate`: an
ordinary run pauses (`RunResult.status == 'paused'`) and `workflow.resume(token, decision)` continues it later, in
this process or another; a durable run (`podium.durable`) waits on DBOS. Either way the decision is one of the
types below.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeAlias, cast

from typing_extensions import TypeVar

from ._errors import InvalidDecision

if TYPE_CHECKING:
    from ._flow import StepScope

__all__ = (
    'ApprovalGate',
    'Approve',
    'Decision',
    'Edit',
    'Outcome',
    'Reject',
    'Review',
    'Reviewing',
    'Waiting',
    'check_decision',
    'current_gate',
    'use_gate',
)

T_co = TypeVar('T_co', covariant=True)

Outcome: TypeAlias = Literal['approved', 'rejected', 'timed_out']
"""How an approval ended: a reviewer's decision, or the wait's timeout (a run never waits forever)."""


class Reviewing(Protocol):
    """What a decision check needs of an approval step."""

    @property
    def name(self) -> str: ...
    @property
    def input_class(self) -> type[Any] | None: ...


class Waiting(Reviewing, Protocol):
    """What a gate needs of an approval step."""

    @property
    def timeout_s(self) -> float: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class Approve:
    """Approve the value as it is."""

    reviewer: str | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Reject:
    """Reject the value; the approval's outcome is `rejected`, and the reason is passed on."""

    reason: str
    reviewer: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Edit(Generic[T_co]):
    """Approve an edited value instead: it must be of the approval step's input type, and the steps after get it."""

    value: T_co
    reviewer: str | None = None
    reason: str | None = None


Decision: TypeAlias = 'Approve | Reject | Edit[Any]'
"""What a reviewer can decide on a paused approval."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Review(Generic[T_co]):
    """What came of an approval: the outcome, the value that was reviewed, and who decided why."""

    outcome: Outcome
    """`approved`, `rejected`, or `timed_out` when nobody decided within the step's timeout."""
    value: T_co
    """The step's input (or the reviewer's edit of it), passed on so the next step can act on it."""
    reason: str | None = None
    """The reviewer's reason, when one was given."""
    reviewer: str | None = None
    """Who decided, when the decision said so."""
    edited: bool = False
    """Whether `value` is the reviewer's edit rather than the step's input."""

    @property
    def approved(self) -> bool:
        """Whether the value was approved (as it was, or edited)."""
        return self.outcome == 'approved'


class ApprovalGate(ABC):
    """How the run an approval step is part of waits for a decision: by pausing, or on DBOS."""

    @abstractmethod
    async def decide(self, step: Waiting, input: Any, summary: str, scope: StepScope) -> Decision | None:
        """The decision on `input`, or `None` when the step's timeout passed first."""


_gate: ContextVar[ApprovalGate | None] = ContextVar('podium_approval_gate', default=None)


def current_gate() -> ApprovalGate | None:
    """The gate of the run this code is part of, while an approval step runs."""
    return _gate.get()


@contextmanager
def use_gate(gate: ApprovalGate) -> Generator[None]:
    """Make `gate` the one approval steps in this block wait at (a run hook sets it around each approval step)."""
    token = _gate.set(gate)
    try:
        yield
    finally:
        _gate.reset(token)


def check_decision(step: Reviewing, decision: object) -> Decision:
    """`decision`, checked against `step`; `InvalidDecision` says what is wrong with it."""
    if isinstance(decision, Approve | Reject):
        return decision
    if isinstance(decision, Edit):
        edit = cast('Edit[object]', decision)
        value = edit.value
        cls = step.input_class
        if cls is not None and not isinstance(value, cls):
            raise InvalidDecision(
                f'approval {step.name!r} reviews a {cls.__qualname__}, but the edit is a {type(value).__qualname__}: '
                f'pass Edit(value=<a {cls.__qualname__}>)'
            )
        return edit
    raise InvalidDecision(
        f'approval {step.name!r}: a decision is podium.Approve(), podium.Reject(reason=...) or '
        f'podium.Edit(value=...), got {type(decision).__qualname__}'
    )
